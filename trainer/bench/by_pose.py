#!/usr/bin/env python3
"""A probe's readings split by the pose each clock was rendered in.

    python3 trainer/bench/by_pose.py READINGS TRUTH

READINGS: what `pixmo-train probe ... --predictions FILE` wrote (one JSON line per held-out
clock: `id`, `hour_right`, `close`, `dial_iou`, `turn_error`). TRUTH: the `clock-truth.jsonl` that
`build_clocks` wrote beside those clocks with `PIXMO_CLOCK_TRUTH` (each line's `scene`: the
watch's rotation, tilt, scale and crop). Prints one row per group of clocks: how many, the
share whose hour was read, the share read within 3 minutes, the mean dial IoU, and the mean turn error (degrees) and the share
told within 15 degrees where the readings have them, and how far the crops the probe saw were
still turned (`turn_left`: after `--derotate`, say): its mean, the share within 15 degrees and
the share 150 degrees or more (turned about half a turn the wrong way). Standard library only.
"""

import json
import math
import sys


def groups(scene):
    """The rows of the table this clock counts in."""
    rotation = abs(scene["rotation_deg"])
    tilt = max(abs(scene["tilt_x_deg"]), abs(scene["tilt_y_deg"]))
    turned = "|rotation| < 8" if rotation < 8 else "|rotation| 8-35" if rotation < 35 else "|rotation| >= 35"
    tilted = "tilted" if tilt > 0 else "facing the camera"
    yield "all"
    yield turned
    yield tilted
    yield f"{turned}, {tilted}"
    yield "cropped frame" if scene.get("crop") else "whole frame"
    yield "watch scale < 0.86" if scene["watch_scale"] < 0.86 else "watch scale >= 0.86"


def json_lines(path):
    """(line number, value) of each non-empty line of a JSON-lines file."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield n, json.loads(line)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    scenes = {}
    for n, row in json_lines(sys.argv[2]):
        if "scene" not in row:
            sys.exit(f"{sys.argv[2]} line {n} has no scene: build the clocks again with this build_clocks")
        scenes[row["example_id"]] = row["scene"]
    table = {}
    for n, read in json_lines(sys.argv[1]):
        scene = scenes.get(read["id"])
        if scene is None:
            sys.exit(f"{sys.argv[1]} line {n}: clock {read['id']!r} is not in {sys.argv[2]}")
        for g in groups(scene):
            row = table.setdefault(g, [0, 0, 0, 0.0, 0, 0.0, 0, 0, 0.0, 0, 0, 0])
            row[0] += 1
            row[1] += bool(read["hour_right"])
            row[2] += bool(read.get("close"))
            if read.get("dial_iou") is not None:
                row[3] += read["dial_iou"]
                row[4] += 1
            if read.get("turn_error") is not None:
                row[5] += read["turn_error"]
                row[6] += 1
                row[7] += read["turn_error"] <= 15
            if read.get("turn_left") is not None:
                row[8] += read["turn_left"]
                row[9] += 1
                row[10] += read["turn_left"] <= 15
                row[11] += read["turn_left"] >= 150
    order = ["all", "|rotation| < 8", "|rotation| 8-35", "|rotation| >= 35", "facing the camera", "tilted"]
    keys = order + sorted(k for k in table if k not in order)
    print(f"{'clocks':<40} {'n':>5} {'hour %':>7} {'± se':>5} {'close %':>8} {'IoU':>6} {'turn err':>8} {'<=15 %':>7} {'left':>6} {'<=15 %':>7} {'flip %':>7}")
    for k in keys:
        if k not in table:
            continue
        n, right, close, iou, located, turn_error, told, near, left, known, left_near, flipped = table[k]
        share = right / n
        se = 100 * math.sqrt(share * (1 - share) / n)
        mean_iou = f"{iou / located:.3f}" if located else "-"
        mean_turn = f"{turn_error / told:.1f}" if told else "-"
        near_turn = f"{100 * near / told:.1f}" if told else "-"
        mean_left = f"{left / known:.1f}" if known else "-"
        near_left = f"{100 * left_near / known:.1f}" if known else "-"
        flip_left = f"{100 * flipped / known:.1f}" if known else "-"
        print(f"{k:<40} {n:>5} {100 * share:>7.1f} {se:>5.1f} {100 * close / n:>8.1f} {mean_iou:>6} {mean_turn:>8} {near_turn:>7} {mean_left:>6} {near_left:>7} {flip_left:>7}")


if __name__ == "__main__":
    main()
