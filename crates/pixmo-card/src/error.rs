//! Card errors: every message names the file or folder.

use std::path::PathBuf;

/// Result with [`CardError`].
pub type Result<T, E = CardError> = std::result::Result<T, E>;

/// What stops a data card from being written.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// The folder holds no pixmo run.
    #[error("`{path}` holds no pixmo dataset (no .pixmo/run.json)")]
    NotADataset {
        /// The folder given.
        path: PathBuf,
    },
    /// The run state names a dataset this build of pixmo does not know.
    #[error("`{path}` holds unknown dataset `{name}`")]
    UnknownDataset {
        /// The dataset root.
        path: PathBuf,
        /// The name in `run.json`.
        name: String,
    },
    /// Reading pixmo state files (run, manifest, markers) failed.
    #[error("Could not read the pixmo state of `{path}`")]
    State {
        /// The dataset root.
        path: PathBuf,
        /// Cause.
        #[source]
        source: pixmo_shards::Error,
    },
    /// A file or folder could not be read or written.
    #[error("Could not {action} `{path}`")]
    Io {
        /// What was being done.
        action: &'static str,
        /// File or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A shard could not be decoded.
    #[error("Could not read shard `{path}`")]
    Parquet {
        /// The shard.
        path: PathBuf,
        /// Cause.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A shard could not be decoded into Arrow batches.
    #[error("Could not decode shard `{path}`")]
    Arrow {
        /// The shard.
        path: PathBuf,
        /// Cause.
        #[source]
        source: arrow::error::ArrowError,
    },
    /// A shard column does not have the type the dataset schema gives it.
    #[error("Column `{column}` of `{path}` is not {expected}; run `pixmo audit` on the dataset")]
    Column {
        /// The shard.
        path: PathBuf,
        /// Column name.
        column: String,
        /// What the card expected.
        expected: &'static str,
    },
    /// Drawing or encoding a plot failed.
    #[error("Could not draw plot `{path}`: {message}")]
    Plot {
        /// The PNG file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

impl CardError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> CardError {
        let path = path.into();
        move |source| CardError::Io {
            action,
            path,
            source,
        }
    }
}
