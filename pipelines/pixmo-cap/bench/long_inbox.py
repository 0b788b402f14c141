#!/usr/bin/env python3
"""Makes a PixMo-Cap inbox of 60-90 s recordings from the sample inbox, for throughput.

    long_inbox.py SAMPLE_INBOX OUT_INBOX [SPEECH_SET]

SAMPLE_INBOX is what `pixmo sample-inbox --out SAMPLE_INBOX` writes (five photographs, two
espeak-ng descriptions each, 13-20 s per clip). PixMo's recordings run 60-90 s, and both the
ASR's cost per second and the LLM's share of the cost depend on that length, so this makes
one 60-90 s recording per sample row: espeak-ng reads ALL descriptions of the image (the
row's own first, then the others), at a rate chosen from the word count so that the clip
lasts about 75 s (80 words per minute at least, 60 ms between words), in the row's voice.

THE SPEECH IS SYNTHETIC (espeak-ng, a formant synthesiser): every row says so
(`synthetic_speech: true`, `speech_source`), and its `reference_text` is what was spoken, so
the card can report the ASR's word error rate. With SPEECH_SET, the same clips also become a
speech set for crates/pixmo-asr's bench example and faster_whisper_bench.py
(`SPEECH_SET/manifest.jsonl`, `SPEECH_SET/audio` linking to OUT_INBOX/audio).
Needs espeak-ng and soxi (sox).
Deterministic for a given espeak-ng version.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

TARGET_SECONDS = 78.0
MIN_WPM = 80
WORD_GAP_10MS = 6


def espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
    words = out.stdout.split()
    version = next((w for w in words if w[:1].isdigit()), "unknown")
    return f"espeak-ng {version}"


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    sample, out = Path(sys.argv[1]), Path(sys.argv[2])
    speech_set = Path(sys.argv[3]) if len(sys.argv) == 4 else None
    rows = [json.loads(line) for line in (sample / "sample.jsonl").read_text().splitlines() if line.strip()]
    by_image: dict[str, list[dict]] = {}
    for row in rows:
        by_image.setdefault(row["image"], []).append(row)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    espeak = espeak_version()
    manifest = []
    set_rows = []
    total = 0.0
    for image, image_rows in by_image.items():
        shutil.copyfile(sample / image, out / image)
        for i, row in enumerate(image_rows):
            voice = row["annotator"].removeprefix("espeak-")
            text = " ".join(r["reference_text"] for r in image_rows[i:] + image_rows[:i])
            wpm = max(MIN_WPM, round(len(text.split()) * 60 / TARGET_SECONDS))
            name = f"audio/{Path(image).stem}-long-{i + 1}.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(wpm), "-g", str(WORD_GAP_10MS), "-w", str(out / name), text],
                check=True,
            )
            seconds = float(subprocess.run(["soxi", "-D", str(out / name)], capture_output=True, text=True, check=True).stdout)
            total += seconds
            manifest.append(
                {
                    "image": image,
                    "audio": name,
                    "annotator": row["annotator"],
                    "recorded_at": row["recorded_at"],
                    "license": row["license"],
                    "synthetic_speech": True,
                    "speech_source": f"{espeak} voice {voice} at {wpm} words per minute, word gap 60 ms",
                    "reference_text": text,
                }
            )
            set_rows.append(
                {
                    "file": name,
                    "text": text,
                    "voice": voice,
                    "speed_wpm": wpm,
                    "noise": "clean",
                    "seconds": round(seconds, 3),
                    "speaker": "synthetic (espeak-ng)",
                }
            )
            print(f"{name}: {seconds:.1f} s ({voice}, {wpm} wpm)", file=sys.stderr)
    (out / "long.jsonl").write_text("".join(json.dumps(m) + "\n" for m in manifest))
    if speech_set is not None:
        speech_set.mkdir(parents=True, exist_ok=True)
        link = speech_set / "audio"
        if not link.exists():
            link.symlink_to((out / "audio").resolve())
        (speech_set / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in set_rows))
    print(f"wrote {len(manifest)} synthetic (espeak-ng) recordings, {total / 60:.2f} min, to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
