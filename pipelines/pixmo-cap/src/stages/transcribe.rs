//! `cap.transcribe`: every recording of a record through whisper.
//!
//! - What it does: per recording, reads the file from the inbox (its SHA-256 must still be
//!   the one sealed), decodes it to 16 kHz mono ([`pixmo_audio`]: WAV, FLAC, MP3, Ogg Vorbis;
//!   limits on length, silence and clipping), and transcribes it with whisper.cpp
//!   ([`pixmo_asr`], one thread per clip, 30 s windows with the previous text as context).
//!   A recording that cannot be used is kept in `rejected_recordings` with its reason; the
//!   record goes on with the others.
//! - Inputs: `inbox_root` (str), `inbox_record` (json).
//! - Outputs: `transcripts` (list of str), `recordings` (json: per transcript the audio, its
//!   SHA-256, annotator, time, licence, duration, language, log-probability, no-speech
//!   probability, model, segments with timestamps, and whether the speech is synthetic),
//!   `rejected_recordings` (json), `synthetic_speech` (bool).
//! - Failure modes: `no_usable_recording` when no recording gives a transcript (the message
//!   lists each reason: `unreadable`, `empty`, `too_short`, `too_long`, `silent`, `clipped`,
//!   `audio_changed`, `no_speech`, `asr_error`).
//! - Cost: whisper tiny.en runs at roughly 0.05-0.1 x real time per core.

use std::path::PathBuf;
use std::sync::Arc;

use pixmo_annotation_schema::{ModelUse, RecordingInfo, RejectedRecording, SegmentInfo};
use pixmo_asr::{TranscribeOptions, Transcriber};
use pixmo_audio::AudioLimits;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use serde::{Deserialize, Serialize};

use crate::inbox::Recording;

/// Config of `cap.transcribe`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscribeConfig {
    /// Whisper model: `tiny.en` or `base` (`pixmo models fetch whisper NAME`).
    #[serde(default = "default_model")]
    pub model: String,
    /// Models folder (default: `PIXMO_MODELS`, else the user cache folder's `pixmo/models`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models_dir: Option<PathBuf>,
    /// Spoken language (`en`), or `auto` (multilingual models).
    #[serde(default = "default_language")]
    pub language: String,
    /// Beam width; 0 or 1 decodes greedily.
    #[serde(default)]
    pub beam_size: u32,
    /// What makes a clip usable.
    #[serde(default)]
    pub limits: AudioLimits,
}

fn default_model() -> String {
    "tiny.en".into()
}
fn default_language() -> String {
    "en".into()
}

impl StageConfig for TranscribeConfig {
    const KIND: &'static str = "cap.transcribe";
    const SUMMARY: &'static str = "Decode each recording to 16 kHz and transcribe it with whisper (whisper.cpp), keeping segments and scores";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        self.limits.validate().map_err(ConfigError::from)?;
        let spec = pixmo_whisper::WhisperSpec::named(&self.model)
            .map_err(|e| ConfigError::from(e.to_string()))?;
        let dir = match &self.models_dir {
            Some(dir) => dir.clone(),
            None => pixmo_whisper::models_dir().map_err(|e| ConfigError::setup(e.to_string()))?,
        };
        let options = TranscribeOptions {
            language: self.language.clone(),
            beam_size: self.beam_size,
            ..TranscribeOptions::default()
        };
        let decoding = options.describe();
        let transcriber = Transcriber::load(&dir, spec, options).map_err(|e| {
            ConfigError::setup(format!(
                "{}\nhint: run `pixmo models fetch whisper {}` first",
                pixmo_core::error_chain(&e),
                self.model
            ))
        })?;
        Ok(Arc::new(Transcribe {
            transcriber,
            limits: self.limits.clone(),
            model: ModelUse {
                stage: String::new(),
                kind: "asr".into(),
                name: format!("whisper {}", spec.name),
                file_sha256: spec.sha256.to_string(),
                prompt_template_id: None,
                prompt_template_sha256: None,
                parameters: Some(decoding),
            },
            model_tag: format!("{}@{}", spec.name, spec.sha256),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Transcribe {
    transcriber: Transcriber,
    limits: AudioLimits,
    model: ModelUse,
    model_tag: String,
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { -99.0 }
}

impl Transcribe {
    fn one(
        &self,
        root: &std::path::Path,
        r: &Recording,
    ) -> Result<(String, RecordingInfo), (&'static str, String)> {
        let path = root.join(&r.manifest.audio);
        let bytes = std::fs::read(&path).map_err(|e| {
            (
                "unreadable",
                format!("cannot read `{}`: {e}", path.display()),
            )
        })?;
        let sha = pixmo_core::sha256_hex(&bytes);
        if r.audio_sha256.as_deref() != Some(sha.as_str()) {
            return Err((
                "audio_changed",
                format!(
                    "`{}` has SHA-256 {sha}; it was {} when the inbox was sealed",
                    r.manifest.audio,
                    r.audio_sha256.as_deref().unwrap_or("unreadable")
                ),
            ));
        }
        let extension = path.extension().and_then(|e| e.to_str());
        let clip = pixmo_audio::decode(&bytes, extension, &self.limits)
            .map_err(|rejection| (rejection.kind(), rejection.to_string()))?;
        let transcript = self
            .transcriber
            .transcribe(&clip.samples)
            .map_err(|e| ("asr_error", pixmo_core::error_chain(&e)))?;
        let text = transcript.text.trim().to_string();
        if text.is_empty() || transcript.segments.is_empty() {
            return Err(("no_speech", "whisper heard no words".into()));
        }
        let reference = r
            .manifest
            .reference_text
            .as_deref()
            .map(|said| pixmo_asr::wer::word_errors(said, &text));
        let info = RecordingInfo {
            audio: r.manifest.audio.clone(),
            audio_sha256: sha,
            annotator: r.manifest.annotator.clone(),
            recorded_at: r.manifest.recorded_at.clone(),
            license: r.manifest.license.clone(),
            duration_seconds: clip.info.duration_seconds,
            language: transcript.language.clone(),
            avg_logprob: finite(transcript.avg_logprob),
            no_speech_prob: f64::from(transcript.no_speech_prob),
            model: self.model_tag.clone(),
            synthetic_speech: r.manifest.synthetic_speech,
            speech_source: r.manifest.speech_source.clone(),
            reference_text: r.manifest.reference_text.clone(),
            reference_words: reference
                .as_ref()
                .map(|e| u32::try_from(e.reference_words).unwrap_or(u32::MAX)),
            wer: reference
                .filter(|e| e.reference_words > 0)
                .map(|e| e.rate()),
            segments: transcript
                .segments
                .iter()
                .map(|s| SegmentInfo {
                    start: s.start,
                    end: s.end,
                    text: s.text.clone(),
                    avg_logprob: finite(s.avg_logprob),
                    no_speech_prob: f64::from(s.no_speech_prob),
                })
                .collect(),
        };
        Ok((text, info))
    }
}

impl Stage for Transcribe {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("inbox_root", ColumnType::Str),
            ColumnDef::new("inbox_record", ColumnType::Json),
        ]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("transcripts", ColumnType::StrList),
            ColumnDef::new("recordings", ColumnType::Json),
            ColumnDef::new("rejected_recordings", ColumnType::Json),
            ColumnDef::new("synthetic_speech", ColumnType::Bool),
        ]
    }

    fn models(&self) -> Vec<ModelUse> {
        vec![self.model.clone()]
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let inbox = super::inbox_record(record)?;
        let root = super::inbox_root(record)?;
        let mut transcripts = Vec::new();
        let mut infos = Vec::new();
        let mut rejected = Vec::new();
        for r in &inbox.recordings {
            match self.one(&root, r) {
                Ok((text, info)) => {
                    transcripts.push(text);
                    infos.push(info);
                }
                Err((kind, message)) => rejected.push(RejectedRecording {
                    audio: r.manifest.audio.clone(),
                    annotator: r.manifest.annotator.clone(),
                    kind: kind.into(),
                    message,
                }),
            }
        }
        if transcripts.is_empty() {
            let reasons: Vec<String> = rejected
                .iter()
                .map(|r| format!("`{}`: {} ({})", r.audio, r.kind, r.message))
                .collect();
            return Err(Reject::new(
                "no_usable_recording",
                format!("no recording gave a transcript: {}", reasons.join("; ")),
            ));
        }
        let synthetic = infos.iter().any(|i| i.synthetic_speech);
        record.set("transcripts", Value::StrList(transcripts));
        record.set(
            "recordings",
            Value::Json(serde_json::to_value(&infos).unwrap_or_default()),
        );
        record.set(
            "rejected_recordings",
            Value::Json(serde_json::to_value(&rejected).unwrap_or_default()),
        );
        record.set("synthetic_speech", Value::Bool(synthetic));
        Ok(())
    }
}
