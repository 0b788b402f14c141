#!/usr/bin/env bash
# Makes sure every whisper.cpp that cargo built under CARGO_TARGET_DIR carries the current
# revision of ggml/whisper_encoder.cmake. Cargo does not rerun whisper-rs-sys's build script
# when `.cargo/config.toml`'s [env] or the cmake file change (the build script declares only
# wrapper.h), so a target folder built before the patch (or before its latest revision) would
# keep linking the old library. This removes whisper-rs-sys's build outputs in that case, and
# the next cargo command rebuilds it (about two minutes for each profile and feature set).
set -euo pipefail
cd "$(dirname "$0")"
revision="$(sed -n 's/^set(_pixmo_revision \([0-9]*\))$/\1/p' whisper_encoder.cmake)"
[ -n "$revision" ] || { echo "ensure-patched: no revision in whisper_encoder.cmake" >&2; exit 1; }
marker="pixmo: whisper encoder patch, revision $revision"
target="${CARGO_TARGET_DIR:-../../../target}"
stale=0
shopt -s nullglob
for source in "$target"/*/build/whisper-rs-sys-*/out/whisper.cpp/src/whisper.cpp; do
  grep -qF "$marker" "$source" || { echo "ensure-patched: unpatched $source"; stale=1; }
done
if [ "$stale" = 1 ]; then
  cd ../../..
  cargo clean -p whisper-rs-sys
  cargo clean -p whisper-rs-sys --release
fi
