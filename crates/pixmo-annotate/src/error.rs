//! The crate's error type.

use std::path::PathBuf;

/// What went wrong in the annotation app.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed a statement.
    #[error("Database error while {action}")]
    Database {
        /// What the app was doing.
        action: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A database URL the app cannot use.
    #[error("Unsupported database `{0}`: use a file path, `sqlite://PATH` or `postgres://...`")]
    DatabaseUrl(String),
    /// A migration failed; nothing of it was applied.
    #[error("Migration {version} (`{name}`) failed")]
    Migration {
        /// Migration number.
        version: i64,
        /// Migration name.
        name: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The database was written by a newer app.
    #[error(
        "The database is at schema version {found}, newer than this app's {known}; upgrade pixmo"
    )]
    NewerSchema {
        /// Highest applied version.
        found: i64,
        /// Highest version this build knows.
        known: i64,
    },
    /// A file could not be read or written.
    #[error("Cannot {action} `{path}`")]
    Io {
        /// What the app was doing.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A request or input the app refuses (shown to the user).
    #[error("{0}")]
    Invalid(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller is not logged in, or the token is wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this (CSRF token missing, task held by someone else).
    #[error("{0}")]
    Forbidden(String),
    /// The state changed under the caller (the task's lease went to someone else).
    #[error("{0}")]
    Conflict(String),
    /// Too many requests from one account.
    #[error("{0}")]
    RateLimited(String),
    /// The LLM assistant failed.
    #[error("The assistant failed")]
    Assistant(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// OCR failed.
    #[error("OCR failed")]
    Ocr(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Writing the export failed.
    #[error("Export failed: {0}")]
    Export(String),
    /// The HTTP server could not start or stopped with an error.
    #[error("Server error")]
    Server(#[source] std::io::Error),
}

impl Error {
    pub(crate) fn db(action: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
        let action = action.into();
        move |source| Error::Database { action, source }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
