//! Errors of the engine. Bad specs are user mistakes and read as such; each mistake has its
//! own variant so the CLI can pick the hint by variant.

use std::path::PathBuf;

use crate::registry::ConfigError;

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `; did you mean `x`?` when there is a suggestion, else nothing.
fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// `` `a` -> `b` -> `a` ``.
fn arrows(stages: &[String]) -> String {
    stages
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// `` `a`, `b` `` or `none`.
fn listed(columns: &[String]) -> String {
    if columns.is_empty() {
        "none".into()
    } else {
        columns
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

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
    /// The spec lists no stages.
    #[error("Invalid pipeline `{pipeline}`: the pipeline has no stages")]
    NoStages {
        /// Pipeline name.
        pipeline: String,
    },
    /// A split's fraction is outside 0..=1.
    #[error(
        "Invalid pipeline `{pipeline}`: split `{split}` has fraction {fraction}; fractions are between 0 and 1"
    )]
    BadSplit {
        /// Pipeline name.
        pipeline: String,
        /// Split name.
        split: String,
        /// The fraction given.
        fraction: f64,
    },
    /// A stage asks for no records in flight per core, or for `per_core` alongside a fixed
    /// `concurrency`.
    #[error("Invalid pipeline `{pipeline}`: stage `{stage}`: {message}")]
    BadConcurrency {
        /// Pipeline name.
        pipeline: String,
        /// Stage name.
        stage: String,
        /// What is wrong.
        message: String,
    },
    /// Two stages share a name.
    #[error("Invalid pipeline `{pipeline}`: stage name `{stage}` is used twice")]
    DuplicateStage {
        /// Pipeline name.
        pipeline: String,
        /// The repeated name.
        stage: String,
    },
    /// A stage names a kind no registered crate provides.
    #[error(
        "Invalid pipeline `{pipeline}`: stage `{stage}` has unknown kind `{kind}`{}",
        did_you_mean(.suggestion)
    )]
    UnknownKind {
        /// Pipeline name.
        pipeline: String,
        /// Stage name.
        stage: String,
        /// The kind written.
        kind: String,
        /// The nearest registered kind, if one is close.
        suggestion: Option<String>,
    },
    /// A stage's `after` names a stage that does not exist.
    #[error(
        "Invalid pipeline `{pipeline}`: stage `{stage}` runs after unknown stage `{dependency}`{}",
        did_you_mean(.suggestion)
    )]
    UnknownDependency {
        /// Pipeline name.
        pipeline: String,
        /// Stage name.
        stage: String,
        /// The name in `after`.
        dependency: String,
        /// The nearest stage name, if one is close.
        suggestion: Option<String>,
    },
    /// The `after` edges form a cycle.
    #[error("Invalid pipeline `{pipeline}`: stages form a cycle: {}", arrows(.cycle))]
    Cycle {
        /// Pipeline name.
        pipeline: String,
        /// The stages on the cycle, first repeated last.
        cycle: Vec<String>,
    },
    /// A stage reads a column no ancestor writes.
    #[error(
        "Invalid pipeline `{pipeline}`: stage `{stage}` reads column `{column}` ({ty}), which no upstream stage writes (upstream columns: {})",
        listed(.upstream)
    )]
    MissingColumn {
        /// Pipeline name.
        pipeline: String,
        /// The reading stage.
        stage: String,
        /// The column.
        column: String,
        /// The type it reads.
        ty: crate::ColumnType,
        /// Columns its ancestors do write.
        upstream: Vec<String>,
    },
    /// A stage reads a column with another type than its writer.
    #[error(
        "Invalid pipeline `{pipeline}`: stage `{stage}` reads column `{column}` as {wants}, but upstream stage `{writer}` writes it as {has}"
    )]
    ColumnType {
        /// Pipeline name.
        pipeline: String,
        /// The reading stage.
        stage: String,
        /// The column.
        column: String,
        /// The type it reads.
        wants: crate::ColumnType,
        /// The upstream stage writing it.
        writer: String,
        /// The type written.
        has: crate::ColumnType,
    },
    /// The plan does not write what the dataset's schema needs (checked by the sink).
    #[error("Invalid pipeline `{pipeline}` for dataset `{dataset}`: {message}")]
    DatasetColumns {
        /// Pipeline name.
        pipeline: String,
        /// Dataset name.
        dataset: String,
        /// Each missing or mistyped column.
        message: String,
    },
    /// The spec's `[output]` table was refused by the sink.
    #[error("Invalid pipeline `{pipeline}`: {message}")]
    Output {
        /// Pipeline name.
        pipeline: String,
        /// What is wrong, naming `[output]` and the key.
        message: String,
    },
    /// A stage's configuration was rejected by the stage itself.
    #[error("Invalid config for stage `{stage}` (`{kind}`): {error}")]
    StageConfig {
        /// Stage name.
        stage: String,
        /// Stage kind.
        kind: String,
        /// The stage's error (in the message, so not repeated as a cause).
        error: ConfigError,
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
