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

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

run smoke 90 --model small --micro-batch 2 --seq-len 256 --image-px 128 --steps 3 --warmup-steps 1
run 7bd-l4-f32 180 --model molmo-7b-d --llm-layers 4 --micro-batch 1 --seq-len 2304 --steps 3 --warmup-steps 2
run 7bd-l4-bf16 180 --model molmo-7b-d --llm-layers 4 --dtype bf16 --micro-batch 2 --seq-len 2304 --steps 3 --warmup-steps 2
# Where the time goes: no decoder blocks (ViT, connector, embeddings, head and loss only), and
# twice the blocks at half the batch.
run 7bd-l0-bf16 120 --model molmo-7b-d --llm-layers 0 --dtype bf16 --micro-batch 2 --seq-len 2304 --steps 3 --warmup-steps 1
run 7bd-l8-bf16 150 --model molmo-7b-d --llm-layers 8 --dtype bf16 --micro-batch 1 --seq-len 2304 --steps 3 --warmup-steps 1
