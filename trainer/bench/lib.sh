# Shared by the GPU bench scripts (sourced): NVRTC on the library path, and `run NAME LIMIT
# ARGS...`, one `pixmo-train bench --device cuda ARGS...` with its peak GPU memory sampled
# by nvidia-smi every 200 ms and a one-line summary of its JSON report; returns its exit code. Needs `bin` and
# `out` set by the caller.

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
# NVRTC: the CUDA toolkit's, else the one pip's nvidia-cuda-nvrtc wheel ships.
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
    "$(python3 -c 'import nvidia.cuda_nvrtc as m, os; print(os.path.dirname(m.__file__) + "/lib")' 2>/dev/null)"; do
  [ -n "$d" ] && [ -d "$d" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
done

run() {
  local name="$1" limit="$2"
  shift 2
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 >"$out/mem-$name.txt" &
  local smi=$!
  local start=$SECONDS
  timeout "$limit" "$bin" bench --device cuda "$@" >"$out/bench-$name.json" 2>"$out/bench-$name.err"
  local rc=$?
  kill "$smi" 2>/dev/null
  wait "$smi" 2>/dev/null
  local peak
  peak=$(sort -n "$out/mem-$name.txt" | tail -1)
  echo "== $name: rc=$rc wall=$((SECONDS - start))s peak_gpu_mib=$peak"
  if [ ! -s "$out/bench-$name.json" ]; then
    echo "(no report)"
    tail -4 "$out/bench-$name.err"
    return "$rc"
  fi
  python3 - "$out/bench-$name.json" <<'PY' || tail -c 2000 "$out/bench-$name.json"
import json, sys
r = json.load(open(sys.argv[1]))
rep = r["report"]
p = rep["params"]
print(f'dtype={r["dtype"]} build={r.get("cuda_build")} params={(p["vit"]+p["connector"]+p["llm"])/1e9:.3f}B '
      f'crops/seq={rep["crops_per_sequence"]} tokens/step={rep["tokens_per_step"]} '
      f'median_step={rep["median_step_seconds"]:.3f}s tokens/s={rep["tokens_per_second"]:.0f} '
      f'TFLOP/s={rep["tflops"]:.1f} MFU={100*rep["mfu"]:.2f}% warmup={rep["warmup_seconds"]:.1f}s '
      f'loss={rep["last_loss"]:.3f} steps={[round(s,3) for s in rep["step_seconds"]]}')
PY
  tail -4 "$out/bench-$name.err"
  return "$rc"
}
