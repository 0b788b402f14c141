#!/usr/bin/env bash
# Issue 15 on one GPU in one call (~9.5 min): training-step levers of §3 on the layer-sliced
# Molmo-7B-D proxy and the whole 7B-D, then the vision-only clock probe of §2 at GPU scale, on
# clocks built on the machine's CPUs while the benches run.
#
# Usage: trainer/bench/gpu-levers.sh PIXMO_TRAIN BUILD_CLOCKS OUT_DIR
#   PIXMO_TRAIN   `cargo build --release -p pixmo-trainer --features cuda` (the plain backend,
#                 whose kernels compile in ~20 s). With FUSED=1, a `--features cuda-fused`
#                 build, and its fusion and autotune runs come first (on 2026-12-04 none
#                 finished a step in 200 s: trainer/README.md).
#   BUILD_CLOCKS  `cargo build --release -p pixmo-clocks --example build_clocks`
# Run it from the repository root: cubecl keeps its autotune cache in `target/` there.
# Baseline: the table of trainer/README.md measured with gpu.sh (before the loss-row head).
set -uo pipefail
bin="${1:?usage: gpu-levers.sh PIXMO_TRAIN BUILD_CLOCKS OUT_DIR}"
build_clocks="${2:?usage: gpu-levers.sh PIXMO_TRAIN BUILD_CLOCKS OUT_DIR}"
out="${3:?usage: gpu-levers.sh PIXMO_TRAIN BUILD_CLOCKS OUT_DIR}"
budget="${BUDGET_S:-570}" # the script ends by then (seconds)
clocks="${CLOCKS:-40000}"
data="$out/clocks"
mkdir -p "$out"
here="$(dirname "$0")"
# shellcheck source=lib.sh
source "$here/lib.sh"
export CUBECL_AUTOTUNE_LEVEL="${CUBECL_AUTOTUNE_LEVEL:-minimal}"

# PixMo's natural pose mix, default pipeline (the probe holds out its `val` split, 3.1 %), and
# upright clocks for the curriculum.
("$build_clocks" "$data" "$clocks" jpeg 7 >"$out/clocks.log" 2>&1 &&
  "$build_clocks" "$out/upright" $((clocks / 2)) jpeg 8 upright >>"$out/clocks.log" 2>&1
  echo "clocks rc=$?" >>"$out/clocks.log") &
clocks_pid=$!

# Each run gets at most its limit and ends by the benches' deadline (the probes get the rest).
benches_end=$((budget * 62 / 100))
within() { # LIMIT -> seconds to give a run (0: skip it)
  local left=$((benches_end - SECONDS))
  [ "$left" -lt 40 ] && left=0
  echo $((left < $1 ? left : $1))
}
bench_if_time() { # NAME LIMIT ARGS...
  local name="$1" limit
  limit=$(within "$2")
  shift 2
  if [ "$limit" -gt 0 ]; then
    run "$name" "$limit" "$@"
  else
    echo "== $name: skipped (no time left)"
    return 0
  fi
}
proxy=(--model molmo-7b-d --llm-layers 4 --dtype bf16 --micro-batch 2 --seq-len 2304)
if [ "${FUSED:-0}" = 1 ]; then
  # Autotune + fusion, cold: every kernel compiled and tuned, results written to the cache.
  bench_if_time l4-bf16-fused-cold "${FUSED_LIMIT:-200}" "${proxy[@]}" --steps 4 --warmup-steps 2
  # Autotune alone: the tuned matmuls come from the cache; no fused kernels.
  bench_if_time l4-bf16-unfused 100 "${proxy[@]}" --steps 4 --warmup-steps 1 --no-fusion
else
  # The README table's bf16 proxy row, now with the head and loss at the loss rows only.
  bench_if_time l4-bf16 90 "${proxy[@]}" --steps 4 --warmup-steps 2
fi
# Mixed precision: bf16 activations, f32 parameters, gradients and AdamW state (master weights).
mixed=(--model molmo-7b-d --llm-layers 4 --dtype mixed --micro-batch 2 --seq-len 2304)
bench_if_time l4-mixed 90 "${mixed[@]}" --steps 4 --warmup-steps 2
# The same with the head and loss in chunks of 1,024 rows (no whole-sequence logits kept).
bench_if_time l4-mixed-head-chunk 90 "${mixed[@]}" --head-chunk 1024 --steps 4 --warmup-steps 2
# And attention in blocks of 512 query rows (no layer's seq x seq scores kept).
bench_if_time l4-mixed-head-attention-chunks 90 "${mixed[@]}" --head-chunk 1024 \
  --attention-chunk 512 --steps 4 --warmup-steps 2
# The whole Molmo-7B-D (all 28 decoder blocks, 8 B parameters) in bf16 at micro-batch 1: does
# one training step fit in the GPU's memory? If not, with activation checkpointing.
full=(--model molmo-7b-d --dtype bf16 --micro-batch 1 --seq-len 2304 --steps 2 --warmup-steps 1)
bench_if_time full-bf16 100 "${full[@]}" ||
  bench_if_time full-bf16-checkpointed 150 "${full[@]}" --checkpointing
# The whole 7B-D with f32 master weights, AdamW's moments in bf16 (12 bytes a parameter of
# state, ~96 GB), the head in chunks and attention in blocks: does a step fit? If not, with activation checkpointing.
full_mixed=(--model molmo-7b-d --dtype mixed --moments bf16 --head-chunk 1024
  --attention-chunk 512 --micro-batch 1 --seq-len 2304 --steps 2 --warmup-steps 1)
bench_if_time full-mixed-moments 100 "${full_mixed[@]}" ||
  bench_if_time full-mixed-moments-checkpointed 150 "${full_mixed[@]}" --checkpointing
du -sh target 2>/dev/null

wait "$clocks_pid"
cat "$out/clocks.log"

# Three probes side by side (each launches small kernels; the GPU has room for all):
#   small:          the CPU demo geometry (64 px crops of 8 px patches, ViT width 64, 4 blocks),
#                   natural clocks only;
#   small-gradual:  the same with the gradual curriculum (upright share 1 -> 0 over 60 % of
#                   the steps: the one setting above chance on the CPU, trainer/README.md);
#   112-gradual:    112 px crops (a 448 px clock becomes ~190 px), ViT width 192, 6 blocks,
#                   with the same curriculum.
left=$((budget - SECONDS))
echo "== probes: ${left}s left"
probe() {
  local name="$1"
  shift
  timeout "$left" "$bin" probe --device cuda --data "$data" --eval-split val --eval-count 1000 \
    --steps 4000 --eval-every 250 "$@" >"$out/probe-$name.jsonl" 2>"$out/probe-$name.err"
  echo "probe $name rc=$?" >>"$out/probe-$name.err"
}
gradual=(--first-data "$out/upright" --first-steps 2400 --gradual)
probe small --model small --batch 128 --lr 1e-3 &
p1=$!
probe small-gradual --model small --batch 128 --lr 1e-3 "${gradual[@]}" &
p2=$!
probe 112-gradual --model-config "$here/probe-112.json" --batch 64 --lr 5e-4 "${gradual[@]}" &
p3=$!
wait "$p1" "$p2" "$p3"
for f in "$out"/probe-*.jsonl; do
  echo "== $f"
  cat "$f"
  tail -3 "${f%.jsonl}.err"
done
