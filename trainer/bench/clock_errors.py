#!/usr/bin/env python3
"""Sorts the wrong hours of a clock evaluation into kinds of error.

Reads the JSON lines `pixmo-train eval --predictions FILE` writes (standard library only):

    python3 trainer/bench/clock_errors.py preds.jsonl

Kinds, for a clock whose hour was read wrong (12-hour dial, positions in minute marks),
first match wins:
- no time read;
- adjacent hour, minute right: the minute within 3, the hour one off (the hour hand read on
  the wrong side of a numeral, mostly near the hour change);
- hour off by 2 or more, minute right;
- hands swapped: the hour read points where the minute hand is (within 7 marks) and the
  minute read points where the hour hand is (within 4 marks);
- adjacent hour, minute off; other.
"""
import json
import re
import sys
from collections import Counter

TIME = re.compile(r"(\d{1,2}):(\d{2})")


def read(text):
    m = TIME.search(text)
    return (int(m.group(1)) % 12, int(m.group(2))) if m else None


def dial(a, b, size):
    """Distance of two positions on a dial of `size` marks."""
    d = (a - b) % size
    return min(d, size - d)


def kind(expected, generated):
    truth, read_ = read(expected), read(generated)
    if read_ is None:
        return "no time read"
    (th, tm), (gh, gm) = truth, read_
    hour_hand = (th * 60 + tm) / 12  # where the hour hand points, in minute marks
    if dial(gm, tm, 60) <= 3:
        # The minute hand was read: the hour hand was misread.
        if dial(gh, th, 12) == 1:
            return "adjacent hour, minute right"
        return "hour off by 2 or more, minute right"
    if dial(gh * 5, tm, 60) <= 7 and dial(gm, hour_hand, 60) <= 4:
        return "hands swapped"
    if dial(gh, th, 12) == 1:
        return "adjacent hour, minute off"
    return "other"


def main(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    clocks = [r for r in rows if r.get("hour") is not None]
    wrong = [r for r in clocks if not r["hour"]]
    print(f"{path}: {len(clocks)} clocks, hour right {len(clocks) - len(wrong)}, wrong {len(wrong)}")
    for name, n in Counter(kind(r["expected"], r["generated"]) for r in wrong).most_common():
        print(f"  {n:5d}  {name}")
    late = sum(1 for r in clocks if r["hour"] and not r["close"])
    print(f"  hour right but more than 3 minutes off: {late}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: clock_errors.py PREDICTIONS.jsonl")
    main(sys.argv[1])
