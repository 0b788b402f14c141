//! Errors of the trainer library.

use std::path::PathBuf;

/// What can go wrong while loading data, weights or checkpoints.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An inconsistent configuration.
    #[error("Invalid configuration: {0}")]
    Config(String),
    /// A shard could not be read.
    #[error("Cannot read shard `{path}`")]
    Shard {
        /// The shard.
        path: PathBuf,
        /// Why.
        #[source]
        source: pixmo_shards::Error,
    },
    /// A shard's columns are not the dataset's.
    #[error("Shard `{path}` does not match the `{dataset}` schema: {message}")]
    Schema {
        /// The shard.
        path: PathBuf,
        /// The dataset.
        dataset: String,
        /// What is missing or mistyped.
        message: String,
    },
    /// No shards were found.
    #[error("No shards under `{0}` (expected `<dataset>/<split>/part-*.parquet`)")]
    NoShards(PathBuf),
    /// An image could not be decoded.
    #[error("Cannot decode image of row `{id}`")]
    Image {
        /// Row id.
        id: String,
        /// Why.
        #[source]
        source: image::ImageError,
    },
    /// A weights file is missing a tensor or has the wrong shape.
    #[error("Weights `{path}`: {message}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A GGUF file is malformed, truncated or holds what the trainer cannot use.
    #[error("GGUF `{path}`: {message}")]
    Gguf {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A tokenizer could not be built or used.
    #[error("Tokenizer: {0}")]
    Tokenizer(String),
    /// A file could not be read or written.
    #[error("Cannot {action} `{path}`")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file or folder could not be written whole (a checkpoint's folder).
    #[error(transparent)]
    Files(#[from] pixmo_shards::Error),
    /// A checkpoint could not be saved or loaded.
    #[error("Checkpoint `{path}`: {message}")]
    Checkpoint {
        /// The checkpoint folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
        source: std::io::Error,
    ) -> Error {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result with the trainer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
