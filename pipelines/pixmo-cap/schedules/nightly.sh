#!/usr/bin/env bash
# PixMo-Cap nightly refresh: seal what arrived in the inbox, compute only the new records,
# audit. Safe to run again at any time (a rerun computes nothing new); a run killed midway is
# finished by the next one. Two runs never overlap: the second exits at once.
#   PIXMO_INBOX  the inbox folder (manifests + images + recordings)
#   PIXMO_OUT    the output folder (the dataset is $PIXMO_OUT/cap)
#   PIXMO_SPEC   optional spec (default: the built-in pipelines/pixmo-cap/pipeline.toml)
set -euo pipefail
: "${PIXMO_INBOX:?set PIXMO_INBOX}" "${PIXMO_OUT:?set PIXMO_OUT}"
mkdir -p "$PIXMO_OUT"
exec 9>"$PIXMO_OUT/.cap-refresh.lock"
flock -n 9 || { echo "another refresh is running; nothing to do"; exit 0; }
spec=()
[ -n "${PIXMO_SPEC:-}" ] && spec=(--spec "$PIXMO_SPEC")
pixmo build cap "${spec[@]}" --inbox "$PIXMO_INBOX" --out "$PIXMO_OUT" --progress plain --json
pixmo audit "$PIXMO_OUT/cap"
