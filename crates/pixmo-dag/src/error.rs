//! Errors of the engine. Bad specs are user mistakes and read as such.

use std::path::PathBuf;

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Run-level failures: the spec is wrong or the run cannot go on. A bad *record* is never an
/// `Error`; it becomes a [`crate::Rejection`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The TOML could not be parsed.
    #[error("Malformed pipeline spec `{path}`: {message}")]
    MalformedSpec {
        /// Where the spec came from.
        path: PathBuf,
        /// The TOML parser's message, with line and column.
        message: String,
    },
    /// The spec parsed but does not make a valid pipeline.
    #[error("Invalid pipeline `{pipeline}`: {message}")]
    InvalidPlan {
        /// Pipeline name.
        pipeline: String,
        /// What is wrong, naming the stage.
        message: String,
    },
    /// A stage's configuration was rejected by the stage itself.
    #[error("Invalid config for stage `{stage}` (`{kind}`): {message}")]
    StageConfig {
        /// Stage name.
        stage: String,
        /// Stage kind.
        kind: String,
        /// The stage's message.
        message: String,
    },
    /// A worker task died; this is likely a bug in pixmo.
    #[error("Stage `{stage}` failed internally (likely a bug): {message}")]
    Internal {
        /// Stage name.
        stage: String,
        /// Panic or join message.
        message: String,
    },
}
