//! `pixmo transcribe AUDIO...`: the ASR stage alone, for spot checks.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

/// Decodes and transcribes each file on one thread; prints a JSON line per file.
pub fn transcribe(
    files: &[PathBuf],
    model: &str,
    language: &str,
    dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let dir = match dir {
        Some(dir) => dir,
        None => pixmo_whisper::models_dir().context("Could not find the models folder")?,
    };
    let spec = pixmo_whisper::WhisperSpec::named(model)?;
    let options = pixmo_asr::TranscribeOptions {
        language: language.to_string(),
        ..pixmo_asr::TranscribeOptions::default()
    };
    let transcriber = pixmo_asr::Transcriber::load(&dir, spec, options)?;
    let limits = pixmo_audio::AudioLimits::default();
    for file in files {
        println!("{}", line(&transcriber, &limits, file)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// `{"file", "audio", "transcript"}`, or `{"file", "rejected", "reason"}` for an unusable
/// recording (a rejection is a result, not an error).
fn line(
    transcriber: &pixmo_asr::Transcriber,
    limits: &pixmo_audio::AudioLimits,
    file: &Path,
) -> anyhow::Result<serde_json::Value> {
    let name = file.display().to_string();
    let clip = match pixmo_audio::decode_file(file, limits) {
        Ok(clip) => clip,
        Err(rejection) => {
            return Ok(serde_json::json!({
                "file": name,
                "rejected": rejection.kind(),
                "reason": rejection.to_string(),
            }));
        }
    };
    let transcript = transcriber
        .transcribe(&clip.samples)
        .with_context(|| format!("Could not transcribe `{name}`"))?;
    Ok(serde_json::json!({ "file": name, "audio": clip.info, "transcript": transcript }))
}
