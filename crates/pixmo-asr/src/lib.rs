//! Speech recognition for PixMo-Cap with whisper.cpp (through whisper-rs).
//!
//! A [`Transcriber`] holds one loaded ggml model (see `pixmo-whisper`, which fetches and
//! converts the pinned weights) and transcribes 16 kHz mono samples (see `pixmo-audio`) into a
//! [`Transcript`]: the text, the language, every segment with its start and end time, average
//! token log-probability and no-speech probability, and the decoding parameters for
//! provenance. whisper.cpp slides its 30 s window over long clips itself, feeding each window
//! the text decoded so far as context (unless [`TranscribeOptions::no_context`]), so a clip of
//! any length is one call and its timestamps run over the whole clip.
//!
//! Each transcription creates its own decoder state on one thread (`n_threads = 1`): on a
//! small machine, parallelism belongs across records, and ggml's spinning threads collapse
//! when cores are oversubscribed. The model is shared: [`Transcriber`] is `Send + Sync`.
//! Greedy decoding at temperature 0 on one thread gives the same transcript on every run.

pub mod wer;

use std::path::{Path, PathBuf};
use std::sync::Once;

use serde::{Deserialize, Serialize};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

/// The recogniser, as recorded in provenance (whisper-rs 0.16.0 vendors whisper.cpp 1.8.3).
pub const ENGINE: &str = "whisper.cpp 1.8.3 (whisper-rs 0.16.0)";

/// The revision of pixmo's one change to whisper.cpp that this crate expects: the encoder's
/// matrix products (self-attention and the two convolutions) on f32 operands that ggml's BLAS
/// backend accepts, so that OpenBLAS (the `openblas` feature) takes them instead of ggml's
/// per-row f16 dot products, and a vectorised softmax row maximum
/// (`ggml/whisper_encoder.cmake`, applied through `.cargo/config.toml`; BENCH.md, *Encoder on
/// BLAS*).
pub const ENCODER_PATCH: u32 = 3;

/// The revision of the encoder patch that the linked whisper.cpp carries, from its
/// `whisper_print_system_info()`; `None` for an unpatched library. [`TranscribeOptions::describe`]
/// records it in provenance.
#[must_use]
pub fn encoder_patch() -> Option<u32> {
    // whisper_print_system_info() fills a static string: ask once, from one thread.
    static PATCH: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *PATCH.get_or_init(|| {
        let info = whisper_rs::print_system_info();
        let (_, rest) = info.split_once("PIXMO_ENCODER_PATCH = ")?;
        rest.split(' ').next()?.parse().ok()
    })
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while transcribing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model file is not there.
    #[error("Whisper model `{path}` is missing; run `pixmo models fetch whisper {name}`")]
    ModelMissing {
        /// Expected location.
        path: PathBuf,
        /// The model's name.
        name: String,
    },
    /// The model file is there but has another hash than its pin.
    #[error(
        "Whisper model `{path}` has sha256 {actual}, expected {expected}; run `pixmo models fetch whisper {name}` again"
    )]
    ModelChanged {
        /// The file.
        path: PathBuf,
        /// The model's name.
        name: String,
        /// The pinned hash.
        expected: String,
        /// The hash found.
        actual: String,
    },
    /// Reading the model file to hash it failed.
    #[error(transparent)]
    Model(#[from] pixmo_whisper::Error),
    /// whisper.cpp refused the model.
    #[error("whisper.cpp cannot load `{path}`")]
    Load {
        /// The model file.
        path: PathBuf,
        /// whisper-rs's error.
        #[source]
        source: whisper_rs::WhisperError,
    },
    /// whisper.cpp failed on this audio.
    #[error("whisper.cpp failed to transcribe {seconds:.2} s of audio")]
    Transcribe {
        /// Length of the audio.
        seconds: f64,
        /// whisper-rs's error.
        #[source]
        source: whisper_rs::WhisperError,
    },
    /// The options are invalid.
    #[error("Invalid transcription options: {0}")]
    Options(String),
}

/// How to decode. Deserialises from a stage config (`deny_unknown_fields`; missing fields
/// take their defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranscribeOptions {
    /// Spoken language (`en`), or `auto` to detect it (multilingual models only).
    pub language: String,
    /// Beam width; 0 or 1 decodes greedily.
    pub beam_size: u32,
    /// Decode each 30 s window without the previous windows' text as context.
    pub no_context: bool,
    /// Text given to the decoder as if it had come before the clip (names, spelling).
    pub initial_prompt: Option<String>,
    /// whisper.cpp's flash attention (`ggml_flash_attn_ext`, f16 key/value cache) in the
    /// encoder and decoder. Off by default: on CPU it costs 1.2-2.5x the time and changes
    /// transcripts (BENCH.md, *Flash attention*); kept for measuring it again after a
    /// whisper.cpp upgrade. [`describe`](Self::describe) names it when on, so transcripts
    /// decoded with it are told apart in provenance.
    pub flash_attn: bool,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            language: "en".into(),
            beam_size: 0,
            no_context: false,
            initial_prompt: None,
            flash_attn: false,
        }
    }
}

impl TranscribeOptions {
    /// Checks the options.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if self.language != "auto" && whisper_rs::get_lang_id(&self.language).is_none() {
            return Err(format!(
                "`language` `{}` is not a whisper language code",
                self.language
            ));
        }
        if self.beam_size > 16 {
            return Err(format!("`beam_size` {} is above 16", self.beam_size));
        }
        Ok(())
    }

    /// The decoding parameters in one line, for provenance.
    #[must_use]
    pub fn describe(&self) -> String {
        let strategy = if self.beam_size > 1 {
            format!("beam search width {}", self.beam_size)
        } else {
            "greedy".to_string()
        };
        format!(
            "{ENGINE}{}; {strategy}, temperature 0 with fallback +0.2, language {}, {}, initial prompt {}, 1 thread{}",
            encoder_patch().map_or(String::new(), |r| format!(" with pixmo encoder patch {r}")),
            self.language,
            if self.no_context {
                "no context"
            } else {
                "previous text as context"
            },
            self.initial_prompt
                .as_deref()
                .map_or("none".to_string(), |p| format!("{p:?}")),
            // Only when on, so that the default's description (in existing provenance) stays.
            if self.flash_attn {
                ", flash attention"
            } else {
                ""
            },
        )
    }
}

/// One stretch of recognised text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Start, in seconds from the start of the clip.
    pub start: f64,
    /// End, in seconds.
    pub end: f64,
    /// The text, trimmed.
    pub text: String,
    /// Mean log-probability of the segment's text tokens.
    pub avg_logprob: f64,
    /// whisper's probability that its window holds no speech.
    pub no_speech_prob: f32,
}

/// What a clip said.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The segments' text joined with spaces.
    pub text: String,
    /// The language spoken (given, or detected with `auto`).
    pub language: String,
    /// The segments, in order.
    pub segments: Vec<Segment>,
    /// Mean log-probability over every text token of the clip (`NaN` without tokens).
    pub avg_logprob: f64,
    /// Largest no-speech probability of the segments (0 without segments).
    pub no_speech_prob: f32,
    /// Length of the audio in seconds.
    pub duration_seconds: f64,
    /// The model's name (`tiny.en`).
    pub model: String,
    /// SHA-256 of the model file.
    pub model_sha256: String,
    /// [`TranscribeOptions::describe`].
    pub decoding: String,
}

/// A loaded whisper model.
pub struct Transcriber {
    context: WhisperContext,
    name: String,
    sha256: String,
    options: TranscribeOptions,
}

impl std::fmt::Debug for Transcriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcriber")
            .field("name", &self.name)
            .field("sha256", &self.sha256)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

static QUIET: Once = Once::new();

impl Transcriber {
    /// Loads the pinned model `spec` from `models_dir`, checking its SHA-256.
    ///
    /// # Errors
    /// [`Error::ModelMissing`] or [`Error::ModelChanged`] (both name the fetch command),
    /// [`Error::Load`], [`Error::Options`].
    pub fn load(
        models_dir: &Path,
        spec: &pixmo_whisper::WhisperSpec,
        options: TranscribeOptions,
    ) -> Result<Self> {
        let path = spec.path_in(models_dir);
        if !path.is_file() {
            return Err(Error::ModelMissing {
                path,
                name: spec.name.to_string(),
            });
        }
        let sha256 = pixmo_whisper::sha256_file(&path)?;
        if sha256 != spec.sha256 {
            return Err(Error::ModelChanged {
                path,
                name: spec.name.to_string(),
                expected: spec.sha256.to_string(),
                actual: sha256,
            });
        }
        Self::load_file(&path, spec.name, sha256, options)
    }

    /// Loads any ggml whisper model file; `name` and `sha256` are recorded in transcripts.
    ///
    /// # Errors
    /// [`Error::Load`], [`Error::Options`].
    pub fn load_file(
        path: &Path,
        name: &str,
        sha256: String,
        options: TranscribeOptions,
    ) -> Result<Self> {
        options.validate().map_err(Error::Options)?;
        // whisper.cpp logs every load and window to stderr; route it to nowhere.
        QUIET.call_once(whisper_rs::install_logging_hooks);
        let mut parameters = WhisperContextParameters::default();
        parameters.use_gpu(false);
        parameters.flash_attn(options.flash_attn);
        let context =
            WhisperContext::new_with_params(path, parameters).map_err(|source| Error::Load {
                path: path.to_path_buf(),
                source,
            })?;
        if options.language != "en" && options.language != "auto" && !context.is_multilingual() {
            return Err(Error::Options(format!(
                "`{name}` is English-only; `language` `{}` needs a multilingual model (base)",
                options.language
            )));
        }
        Ok(Self {
            context,
            name: name.to_string(),
            sha256,
            options,
        })
    }

    /// The options this transcriber decodes with.
    #[must_use]
    pub fn options(&self) -> &TranscribeOptions {
        &self.options
    }

    /// Transcribes 16 kHz mono `samples` (any length; empty audio gives an empty transcript).
    ///
    /// # Errors
    /// [`Error::Transcribe`] when whisper.cpp fails.
    pub fn transcribe(&self, samples: &[f32]) -> Result<Transcript> {
        let duration_seconds = samples.len() as f64 / 16_000.0;
        let failed = |source| Error::Transcribe {
            seconds: duration_seconds,
            source,
        };
        let strategy = if self.options.beam_size > 1 {
            SamplingStrategy::BeamSearch {
                beam_size: self.options.beam_size as i32,
                patience: -1.0,
            }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        let mut params = FullParams::new(strategy);
        params.set_n_threads(1);
        params.set_language(Some(&self.options.language));
        params.set_no_context(self.options.no_context);
        if let Some(prompt) = &self.options.initial_prompt {
            params.set_initial_prompt(prompt);
        }
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        let mut transcript = Transcript {
            text: String::new(),
            language: self.options.language.clone(),
            segments: Vec::new(),
            avg_logprob: f64::NAN,
            no_speech_prob: 0.0,
            duration_seconds,
            model: self.name.clone(),
            model_sha256: self.sha256.clone(),
            decoding: self.options.describe(),
        };
        if samples.is_empty() {
            return Ok(transcript);
        }
        let mut state = self.context.create_state().map_err(failed)?;
        state.full(params, samples).map_err(failed)?;
        if let Some(language) = whisper_rs::get_lang_str(state.full_lang_id_from_state()) {
            transcript.language = language.to_string();
        }
        let end_of_text = self.context.token_eot();
        let (mut logprob_sum, mut token_count) = (0f64, 0usize);
        for segment in state.as_iter() {
            let text = segment.to_str_lossy().map_err(failed)?.trim().to_string();
            let (mut sum, mut count) = (0f64, 0usize);
            for index in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(index) else {
                    continue;
                };
                let data = token.token_data();
                // Text tokens only: ids from end-of-text up are special or timestamps.
                if data.id < end_of_text {
                    sum += f64::from(data.plog);
                    count += 1;
                }
            }
            logprob_sum += sum;
            token_count += count;
            let no_speech_prob = segment.no_speech_probability();
            transcript.no_speech_prob = transcript.no_speech_prob.max(no_speech_prob);
            transcript.segments.push(Segment {
                // whisper.cpp counts in 10 ms steps.
                start: segment.start_timestamp() as f64 / 100.0,
                end: segment.end_timestamp() as f64 / 100.0,
                text,
                avg_logprob: if count == 0 {
                    f64::NAN
                } else {
                    sum / count as f64
                },
                no_speech_prob,
            });
        }
        if token_count > 0 {
            transcript.avg_logprob = logprob_sum / token_count as f64;
        }
        transcript.text = transcript
            .segments
            .iter()
            .map(|segment| segment.text.as_str())
            .filter(|text| !text.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(transcript)
    }
}
