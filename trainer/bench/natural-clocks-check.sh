#!/usr/bin/env bash
# Runs trainer/bench/natural-clocks.mk end to end with every run's steps divided by 500 and
# every clock set's clocks by 100 (a few steps on ~160 clocks: it measures nothing), then
# checks what a full rebuild depends on: every model of the lineage is saved, each run trained
# the steps its line asks for, the system reads its held-out clocks through the four locators,
# the teller and eight views and writes one prediction per clock, a second `make` has nothing
# to do, and a model removed is rebuilt with exactly the runs that depend on it.
#
#   bash trainer/bench/natural-clocks-check.sh PIXMO_TRAIN BUILD_CLOCKS [OUT]
set -euo pipefail
pt="${1:?usage: natural-clocks-check.sh PIXMO_TRAIN BUILD_CLOCKS [OUT]}"
bc="${2:?usage: natural-clocks-check.sh PIXMO_TRAIN BUILD_CLOCKS [OUT]}"
if [ -n "${3:-}" ]; then
  out="$3"
else
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
here="$(cd "$(dirname "$0")" && pwd)"
mk=(make --no-print-directory -f "$here/natural-clocks.mk" PT="$pt" BC="$bc" OUT="$out" DIV=500 CLOCK_DIV=100)

"${mk[@]}" -j2 fresh

python3 - "$out" <<'PY'
import json, pathlib, sys

out = pathlib.Path(sys.argv[1])
# Each run of the lineage and its line's steps (trainer/README.md, tenth to seventeenth rounds).
steps = {
    "tell-a": 1500, "tell-ar": 1000, "tell-arj": 1000, "tell-arc": 1000, "tell-arc2": 1500,
    "tell-arc3": 1000, "tell-arc4": 1000,
    "loc-h": 2500, "loc-h2": 2000, "loc-h3": 2000, "loc-h4": 1500,
    "ref-h": 2000, "ref-h2": 2000, "ref-h3": 1000, "ref-h4": 1000, "ref-h5": 1000,
    "vis-ur": 2000, "vis-ur2": 1000, "vis-urj": 1500, "vis-ucj": 1000, "vis-ucj2": 1500,
    "vis-ucj4": 1000, "vis-ucj6": 1000, "vis-ucj7": 1000, "vis-ucj9": 1000, "vis-ucjh": 1000,
    "vis-ucjh2": 1000, "vis-ucjh3": 1000, "vis-ucjh4": 2000, "vis-ucjh5": 2000, "vis-ucjh6": 1000,
}
assert sum(steps.values()) == 42000, sum(steps.values())
def reports(path):
    """The JSON lines of a run's log (its header first, then its reports), not its stderr."""
    found = []
    for line in path.read_text().splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            pass
    return [r for r in found if isinstance(r, dict)]

problems = []
for name, full in steps.items():
    if not (out / name / "probe.json").is_file() or not (out / name / "probe.mpk").is_file():
        problems.append(f"{name}: not saved")
        continue
    lines = reports(out / "logs" / f"{name}.log")
    header = lines[0]
    want = -(-full // 500)
    if header["settings"]["steps"] != want:
        problems.append(f"{name}: {header['settings']['steps']} steps, its line asks {want}")
    last = lines[-1]
    if last.get("step") != want:
        problems.append(f"{name}: its last report is {last}")
leftovers = sorted(p.name for p in out.iterdir() if p.name.endswith(".part"))
if leftovers:
    problems.append(f"unfinished outputs left: {leftovers}")
for system, data in [("sys", "test1k-scene"), ("sys-s29", "test-s29"), ("sys-s31", "test-s31")]:
    header = reports(out / "logs" / f"{system}.log")[0]
    chain = [pathlib.Path(p).name for p in header["dial_crop"]]
    if chain != ["loc-h4", "ref-h3", "ref-h4", "ref-h5"]:
        problems.append(f"{system}: read through {chain}")
    if [pathlib.Path(p).name for p in header["derotate"]] != ["tell-arc4"]:
        problems.append(f"{system}: turned by {header['derotate']}")
    if header["settings"]["views"] != 8 or header["settings"]["joint"] != 0.5:
        problems.append(f"{system}: settings {header['settings']}")
    if pathlib.Path(header["init_probe"]).name != "vis-ucjh6":
        problems.append(f"{system}: read by {header['init_probe']}")
    predictions = (out / f"{system}.jsonl").read_text().splitlines()
    if len(predictions) != header["test"] or header["test"] < 5:
        problems.append(f"{system}: {len(predictions)} predictions of {header['test']} clocks")
    ids = {json.loads(l)["id"] for l in predictions}
    truth = {json.loads(l)["example_id"] for l in (out / data / "clock-truth.jsonl").read_text().splitlines()}
    if not ids <= truth:
        problems.append(f"{system}: predictions of clocks not in {data}")
    if "hour" not in (out / f"{system}.txt").read_text():
        problems.append(f"{system}: no scores by pose")
if problems:
    sys.exit("natural-clocks.mk:\n  " + "\n  ".join(problems))
print(f"natural-clocks.mk: {len(steps)} runs saved with their lines' steps; 3 systems read")
PY

# Everything is built: a second make has nothing to do.
"${mk[@]}" -q fresh || { echo "natural-clocks.mk: a second make would run again"; exit 1; }
# A locator removed is rebuilt, and with it exactly what read its crops: the last reader and
# the three systems; the teller and the other locators are kept.
rm -rf "$out/ref-h5"
planned="$("${mk[@]}" -n fresh)"
saves="$(grep -o -- '--save [^ ]*' <<<"$planned" | sed 's|.*/||' | sort | tr '\n' ' ')"
systems="$(grep -c -- '--predictions' <<<"$planned" || true)"
if [ "$saves" != "ref-h5.part vis-ucjh6.part " ] || [ "$systems" != 3 ]; then
  echo "natural-clocks.mk: with ref-h5 removed it would save: $saves and read $systems systems"
  exit 1
fi
"${mk[@]}" fresh >/dev/null
"${mk[@]}" -q fresh
echo "natural-clocks.mk: resumes (nothing to redo; ref-h5 removed: ref-h5, vis-ucjh6 and the systems redone)"
