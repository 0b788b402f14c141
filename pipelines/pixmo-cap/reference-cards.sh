#!/usr/bin/env bash
# Writes the committed PixMo-Cap and PixMo-CapQA cards (data_cards/cap.md, cap_qa.md and their
# plots) from a build of the sample inbox with the default specs, run seed 0 and build time
# pinned to the Unix epoch:
#
#   pipelines/pixmo-cap/reference-cards.sh [CARDS_DIR] [WORK_DIR]
#
# CARDS_DIR defaults to data_cards/ of this checkout; WORK_DIR (default: a temporary folder)
# keeps the inbox and the builds, and a build there is resumed. PIXMO names the binary
# (default: `pixmo` on PATH). Needs espeak-ng, the scikit-image wheel from PyPI (the sample's
# photographs, fetched once), whisper tiny.en and the embedded LLM (`pixmo models fetch &&
# pixmo models fetch whisper tiny.en`).
#
# THE SAMPLE'S SPEECH IS SYNTHETIC (espeak-ng): the rows and the cards say so.
#
# Why `pixmo card --reference` (and so CI's staleness check, tests/it/cards.rs) does not
# cover these two cards: their records come from an inbox, not from `--count`, and the build
# is expensive and not byte-reproducible across CPUs. Whisper and the embedded LLM run in
# floating point; candle picks its matrix kernels by the CPU it runs on, so a different CPU
# can sample a different token and write a different caption. On a 2-core machine the build
# takes minutes (1.5 on an idle Xeon), nearly all of it the embedded SmolLM2 (its Q4_1
# weights run on candle's scalar path). Replies are cached
# (`PIXMO_LLM_CACHE`), so rerunning on the same machine makes no LLM call and rewrites the
# same bytes; regenerate and commit the cards after a change to the pipeline, its stages,
# its models or the card code.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cards=${1:-$root/data_cards}
work=${2:-}
if [[ -z $work ]]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
pixmo=${PIXMO:-pixmo}
as_of=1970-01-01T00:00:00Z

"$pixmo" sample-inbox --out "$work/inbox"
"$pixmo" build cap --inbox "$work/inbox" --out "$work/out" --seed 0 --as-of "$as_of" --progress plain
"$pixmo" build cap_qa --from "$work/out/cap" --out "$work/out" --seed 0 --as-of "$as_of" --progress plain
"$pixmo" audit "$work/out/cap"
"$pixmo" audit "$work/out/cap_qa"
"$pixmo" card "$work/out/cap" --cards-dir "$cards"
"$pixmo" card "$work/out/cap_qa" --cards-dir "$cards"
