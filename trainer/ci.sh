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
# The natural-clock system's recipe (trainer/bench/natural-clocks.mk: six clock sets, the 31
# runs of its lineage, the system read on three seeds) end to end at 1/500 of its steps and
# 1/100 of its clocks: every line runs, each run trains its steps, and make resumes (~10 min).
echo "== trainer: the natural-clock recipe, wiring"
cargo build -p pixmo-trainer --bin pixmo-train --locked
cargo build -p pixmo-clocks --example build_clocks --locked
target="${CARGO_TARGET_DIR:-target}"
bash trainer/bench/natural-clocks-check.sh "$target/debug/pixmo-train" "$target/debug/examples/build_clocks"
# The CUDA backend must keep building without a GPU or CUDA toolkit: burn 0.21's needs no
# download at build time, and the driver and NVRTC are loaded at run time.
echo "== trainer: cuda feature builds"
cargo check -p pixmo-trainer --features cuda --locked
# With burn's kernel fusion and autotuning (`cuda-fused`, what the GPU figures use).
cargo check -p pixmo-trainer --features cuda-fused --locked
