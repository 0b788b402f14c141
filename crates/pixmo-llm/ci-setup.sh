#!/usr/bin/env bash
# Installs what pixmo-llm's end-to-end tests need, idempotently:
#   1. `xllamacpp` (llama.cpp's OpenAI-compatible server, prebuilt wheel) into the given venv;
#   2. the pinned SmolLM2 GGUF into the models directory ($PIXMO_MODELS_DIR, else
#      $XDG_CACHE_HOME/pixmo/models, else ~/.cache/pixmo/models), fetched and verified by
#      pixmo-llm's own `fetch_models` (a no-op when the file is present with its sha256).
# Usage: crates/pixmo-llm/ci-setup.sh VENV_PYTHON
# Then run the tests with PIXMO_PYTHON=VENV_PYTHON (and CANDLE_NUM_THREADS=1 on small machines).
set -euo pipefail

python="${1:?usage: ci-setup.sh VENV_PYTHON}"
xllamacpp_version="2026.10.11549"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if "$python" -c "import xllamacpp" 2>/dev/null; then
    echo "ci-setup: xllamacpp already installed"
else
    "$python" -m pip install --quiet "xllamacpp==${xllamacpp_version}"
fi

cd "$here/../.."
cargo run --quiet -p pixmo-llm --example fetch_models
