#!/usr/bin/env python3
"""Ways of reading a probe's heads, tried on a predictions file before they are built.

    python3 trainer/bench/joint_read.py READINGS [READINGS ...]

READINGS: what `pixmo-train probe ... --predictions FILE` wrote, with the heads'
probabilities on each line (`hour_p`: the hour head's 12; `hand_p`: where the hour hand
points, the hand head's arcs or else the hour head's 12; `minute_p`: the minute head's 60)
and `gold` `[hour, minute]`. For each file, prints the share of hours read and of times read
within 3 minutes by:

- `by minute`: the minute head's likeliest minute, then the hour whose hand at that minute
  stands where `hand_p` most expects it (`--hour-by-minute`);
- `joint D`: the likeliest of the 720 times by ln P(minute) + ln P(hour hand), D taken off
  a time whose hands lie within K minutes of each other (`--joint --overlap-discount D`;
  K is 3 in the trainer);
- `joint D, hour head W`: the same plus W ln P(hour) from the hour head.

    python3 trainer/bench/joint_read.py --slide READINGS [READINGS ...]

reads instead `slid R by S, sd G`: the time and a turn r left in the crop together (r from -R
to R degrees in steps of S; the minute and hour-hand probabilities read at the hands of
hour:minute turned by r; a normal prior of sd G on r, none for None; the discount 0.5 within
3 minutes). `slid 0` is `joint 0.5, within 3`.

What the trainer reads is `probe::read_time` (Rust); this is the same arithmetic, for trying
weights on files already written. Standard library only.
"""

import json
import math
import sys


def hand_at(probs, hour, minute):
    """P(the hour hand of hour:minute), interpolated between the arcs' middles."""
    n = len(probs)
    t = (hour * 60 + minute) * n / 720.0 - 0.5
    below = math.floor(t)
    f = t - below
    below = int(below) % n
    return (1 - f) * probs[below] + f * probs[(below + 1) % n]


def together(hour, minute, k):
    """Whether the hands of hour:minute lie within k minutes of each other on the dial."""
    apart = ((hour * 60 + minute) / 12.0 - minute) % 60.0
    return min(apart, 60.0 - apart) <= k


def by_minute(line):
    minute = max(range(60), key=lambda m: (line["minute_p"][m], -m))
    hour = max(range(12), key=lambda h: (hand_at(line["hand_p"], h, minute), -h))
    return hour, minute


def joint(line, discount, k=3, hour_weight=0.0):
    best, best_score = (0, 0), -math.inf
    for hour in range(12):
        hour_term = hour_weight * math.log(line["hour_p"][hour] + 1e-6)
        for minute in range(60):
            score = (
                math.log(line["minute_p"][minute] + 1e-6)
                + math.log(hand_at(line["hand_p"], hour, minute) + 1e-6)
                + hour_term
                - (discount if together(hour, minute, k) else 0.0)
            )
            if score > best_score:
                best, best_score = (hour, minute), score
    return best


def at(probs, x):
    """probs (equal arcs round the circle) read at x arcs from the first, interpolated."""
    below = math.floor(x)
    f = x - below
    n = len(probs)
    return (1 - f) * probs[int(below) % n] + f * probs[(int(below) + 1) % n]


def slid(line, most, step, sigma, discount=0.5, k=3):
    """The time and a turn r left in the crop read together: the joint reading with the
    minute and hour-hand probabilities read at the hands of hour:minute turned by r (from
    -most to most degrees in steps of step), plus a normal prior on r of sd sigma (None:
    none)."""
    hand = line["hand_p"]
    n = len(hand)
    best, best_score = (0, 0), -math.inf
    r = -most
    while r <= most + 1e-9:
        prior = 0.0 if sigma is None else -r * r / (2 * sigma * sigma)
        for hour in range(12):
            for minute in range(60):
                score = (
                    prior
                    + math.log(at(line["minute_p"], minute + r / 6.0) + 1e-6)
                    + math.log(at(hand, (hour * 60 + minute) * n / 720.0 - 0.5 + r * n / 360.0) + 1e-6)
                    - (discount if together(hour, minute, k) else 0.0)
                )
                if score > best_score:
                    best, best_score = (hour, minute), score
        r += step
    return best


def shares(lines, read):
    right = close = 0
    for line in lines:
        hour, minute = read(line)
        gold_hour, gold_minute = line["gold"]
        right += hour % 12 == gold_hour % 12
        off = abs((hour * 60 + minute) - (gold_hour * 60 + gold_minute)) % 720
        close += min(off, 720 - off) <= 3
    return 100.0 * right / len(lines), 100.0 * close / len(lines)


def main(paths, slide=False):
    ways = [("by minute", by_minute)]
    if slide:
        ways = []
        for most, step, sigma in ((0, 1, None), (12, 2, 6), (18, 2, 8), (24, 2, 10), (30, 3, 12), (18, 2, None)):
            ways.append(
                (f"slid {most} by {step}, sd {sigma}", lambda l, m=most, st=step, sd=sigma: slid(l, m, st, sd))
            )
    for k in (2, 3, 4, 5) if not slide else ():
        for d in (0.0, 0.25, 0.5, 0.75, 1.0):
            if k == 3 or d == 0.5:
                ways.append((f"joint {d}, within {k}", lambda l, d=d, k=k: joint(l, d, k)))
    for w in (0.25, 0.5, 1.0) if not slide else ():
        ways.append((f"joint 0.5, hour head {w}", lambda l, w=w: joint(l, 0.5, 3, w)))
    for path in paths:
        with open(path) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        missing = [k for k in ("hour_p", "hand_p", "minute_p") if not lines or k not in lines[0]]
        if missing:
            sys.exit(f"{path}: no {', '.join(missing)} (written by a pixmo-train before them?)")
        print(f"{path} ({len(lines)} clocks): hour % / within 3 min %")
        for name, read in ways:
            hour, close = shares(lines, read)
            print(f"  {name:28} {hour:5.1f} {close:5.1f}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--slide"]
    if not args:
        sys.exit(__doc__)
    main(args, slide="--slide" in sys.argv[1:])
