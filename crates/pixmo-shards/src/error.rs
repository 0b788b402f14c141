//! Shard errors: every message names the file.

use std::path::PathBuf;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong reading or writing shards.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The disk filled up. Committed shards are untouched; the partial file was removed.
    #[error(
        "No space left on the device while writing `{path}`; committed shards are intact, free some space and re-run to resume"
    )]
    DiskFull {
        /// File being written.
        path: PathBuf,
    },
    /// Any other I/O error.
    #[error("Could not {action} `{path}`")]
    Io {
        /// What was being done (`create`, `write`, `rename`...).
        action: &'static str,
        /// File or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The Parquet library failed.
    #[error("Parquet error on `{path}`")]
    Parquet {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Arrow failed to build or convert a batch.
    #[error("Arrow error on `{path}`")]
    Arrow {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: arrow::error::ArrowError,
    },
    /// A committed file does not match its marker.
    #[error("Shard `{path}` is corrupt: {message}")]
    Corrupt {
        /// File.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// A JSON state file could not be read.
    #[error("Could not parse `{path}`: {message}")]
    BadJson {
        /// File.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
}

impl Error {
    /// An I/O error, turning "no space left" into [`Error::DiskFull`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        let path = path.into();
        // ENOSPC (28) and EDQUOT (122) on Linux.
        if source.kind() == std::io::ErrorKind::StorageFull
            || matches!(source.raw_os_error(), Some(28 | 122))
        {
            Error::DiskFull { path }
        } else {
            Error::Io {
                action,
                path,
                source,
            }
        }
    }

    /// Whether this is a full disk.
    #[must_use]
    pub fn is_disk_full(&self) -> bool {
        match self {
            Error::DiskFull { .. } => true,
            Error::Parquet { source, .. } => format!("{source}").contains("No space left"),
            _ => false,
        }
    }
}
