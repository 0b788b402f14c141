//! The benchmark's speech set in small: `bench/make_speech_set.sh` makes its first clips
//! (synthetic speech, espeak-ng; clean, American voice, 130 wpm, one WAV and one Ogg
//! Vorbis), pixmo-audio decodes them, tiny.en transcribes them, and the word error rate
//! (`pixmo_asr::wer`) stays under a bound. The full set and the figures are in `BENCH.md`.
//!
//! Skips with a message when espeak-ng or sox is not installed, or when the model is not
//! fetched (with `CI` set, a missing model fails, as in the other tests).

use std::path::Path;
use std::process::Command;

use pixmo_asr::wer::{WordErrors, word_errors};

/// tiny.en's WER on these two clips is 20.6 % (7 errors in 34 words: "A brown dog is" heard
/// as "Round targets", "football on" as "foot along", "watch" as "swatch"); the bound leaves
/// room for another whisper.cpp build or espeak-ng version, not for a broken pipeline.
const MAX_WER: f64 = 0.35;

fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn tiny_en_transcribes_the_first_clips_of_the_speech_set_within_the_bound() {
    if !installed("espeak-ng") || !installed("sox") {
        eprintln!("skipping: espeak-ng or sox is not installed (apt-get install espeak-ng sox)");
        return;
    }
    let Some(transcriber) = crate::tiny_en() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/make_speech_set.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg(dir.path())
        .arg("2")
        .status()
        .unwrap();
    assert!(status.success(), "{} failed: {status}", script.display());
    let manifest = std::fs::read_to_string(dir.path().join("manifest.jsonl")).unwrap();
    let mut total = WordErrors::default();
    let mut heard = Vec::new();
    for line in manifest.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(row["speaker"], "synthetic (espeak-ng)");
        let file = row["file"].as_str().unwrap();
        let clip =
            pixmo_audio::decode_file(&dir.path().join(file), &pixmo_audio::AudioLimits::default())
                .unwrap_or_else(|rejection| panic!("{file}: {rejection}"));
        let transcript = transcriber.transcribe(&clip.samples).unwrap();
        total += word_errors(row["text"].as_str().unwrap(), &transcript.text);
        heard.push(transcript.text);
    }
    eprintln!("WER {:.3} ({total:?}); heard {heard:?}", total.rate());
    assert_eq!(heard.len(), 2, "{manifest}");
    assert!(total.reference_words > 20, "{total:?}");
    assert!(
        total.rate() <= MAX_WER,
        "WER {:.3} above {MAX_WER}: {total:?}, heard {heard:?}",
        total.rate()
    );
}
