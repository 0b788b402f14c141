#!/usr/bin/env bash
# GPU training-throughput figures for pixmo-train (burn CUDA backend), one short script:
# a smoke run, then a layer-sliced Molmo-7B-D proxy (full widths: ViT-L/14-336 with 23
# blocks, connector, Qwen2-7B width 3584 with 4 of its 28 blocks, 152k vocabulary) at Molmo's
# sequence length 2304 with 12 crops + global, in f32 and in bf16. Peak GPU memory is sampled
# with nvidia-smi every 200 ms while each run lasts.
#
# Usage: trainer/bench/gpu.sh PIXMO_TRAIN_BINARY OUT_DIR
# Build the binary with `cargo build --release -p pixmo-trainer --features cuda` (no CUDA
# toolkit needed to build; libcuda and NVRTC are loaded at run time).
set -uo pipefail
bin="${1:?usage: gpu.sh PIXMO_TRAIN_BINARY OUT_DIR}"
out="${2:?usage: gpu.sh PIXMO_TRAIN_BINARY OUT_DIR}"
mkdir -p "$out"

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
  python3 - "$out/bench-$name.json" <<'PY' || tail -c 2000 "$out/bench-$name.json"
import json, sys
r = json.load(open(sys.argv[1]))
rep = r["report"]
p = rep["params"]
print(f'dtype={r["dtype"]} params={(p["vit"]+p["connector"]+p["llm"])/1e9:.3f}B crops/seq={rep["crops_per_sequence"]} '
      f'tokens/step={rep["tokens_per_step"]} median_step={rep["median_step_seconds"]:.3f}s '
      f'tokens/s={rep["tokens_per_second"]:.0f} TFLOP/s={rep["tflops"]:.1f} MFU={100*rep["mfu"]:.2f}% '
      f'warmup={rep["warmup_seconds"]:.1f}s loss={rep["last_loss"]:.3f} steps={[round(s,3) for s in rep["step_seconds"]]}')
PY
  tail -4 "$out/bench-$name.err"
}

run smoke 90 --model small --micro-batch 2 --seq-len 256 --image-px 128 --steps 3 --warmup-steps 1
run 7bd-l4-f32 180 --model molmo-7b-d --llm-layers 4 --micro-batch 1 --seq-len 2304 --steps 3 --warmup-steps 2
run 7bd-l4-bf16 180 --model molmo-7b-d --llm-layers 4 --dtype bf16 --micro-batch 2 --seq-len 2304 --steps 3 --warmup-steps 2
# Where the time goes: no decoder blocks (ViT, connector, embeddings, head and loss only), and
# twice the blocks at half the batch.
run 7bd-l0-bf16 120 --model molmo-7b-d --llm-layers 0 --dtype bf16 --micro-batch 2 --seq-len 2304 --steps 3 --warmup-steps 1
run 7bd-l8-bf16 150 --model molmo-7b-d --llm-layers 8 --dtype bf16 --micro-batch 1 --seq-len 2304 --steps 3 --warmup-steps 1
