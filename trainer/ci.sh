#!/usr/bin/env bash
# CI for the trainer (package `pixmo-trainer`, outside `default-members`). Run from anywhere;
# honours CARGO_TARGET_DIR. Cheapest checks first. Takes ~10 min on 2 cores when cold.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== trainer: fmt"
cargo fmt -p pixmo-trainer -- --check
echo "== trainer: clippy"
cargo clippy -p pixmo-trainer --all-targets --locked -- -D warnings
echo "== trainer: tests (ndarray CPU backend, tiny sizes)"
# Includes the SmolLM2-135M GGUF import checks (tests/it/gguf.rs, ~80 s): they need the file
# `pixmo models fetch` downloads (crates/pixmo-llm/ci-setup.sh) and fail under `CI` without it.
cargo test -p pixmo-trainer --locked -- --skip sees_image
# Tests that fail for a model that ignores its images (tests/it/sees_image.rs), among them a
# tiny model over-fitting 30 distinct images: ~2-3 min on 2 cores.
echo "== trainer: image-blind checks"
cargo test -p pixmo-trainer --locked --test it sees_image
# The CUDA backend must keep building without a GPU or CUDA toolkit: burn 0.21's needs no
# download at build time, and the driver and NVRTC are loaded at run time.
echo "== trainer: cuda feature builds"
cargo check -p pixmo-trainer --features cuda --locked
# With burn's kernel fusion and autotuning (`cuda-fused`, what the GPU figures use).
cargo check -p pixmo-trainer --features cuda-fused --locked
