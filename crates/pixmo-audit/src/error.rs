//! Audit errors: run-level failures. A dataset that fails a check is not an error; it is an
//! [`crate::AuditReport`] whose [`crate::AuditReport::passed`] is `false`.

use std::path::PathBuf;

/// Result with [`AuditError`].
pub type Result<T, E = AuditError> = std::result::Result<T, E>;

/// What stops an audit or a query from running at all.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The folder holds no pixmo run.
    #[error("`{path}` holds no pixmo dataset (no .pixmo/run.json in it or its sub-folders)")]
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
    /// A file or folder could not be read.
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
    /// DataFusion failed to register a table or run a query.
    #[error("Query failed on `{path}`")]
    Query {
        /// The dataset root (or output folder) queried.
        path: PathBuf,
        /// Cause.
        #[source]
        source: datafusion::error::DataFusionError,
    },
    /// The query would write, change the catalog or change the session: `pixmo sql` only
    /// reads (see [`crate::read_only`]). Nothing ran.
    #[error("pixmo sql is read-only: `{statement}` is refused ({kind})")]
    ReadOnly {
        /// The statement as written (`COPY`, `CREATE EXTERNAL TABLE`, `SET`).
        statement: String,
        /// Which class of statement it is.
        kind: Refused,
    },
    /// A worker task died.
    #[error("Audit task for `{path}` failed (likely a bug): {message}")]
    Task {
        /// The dataset root.
        path: PathBuf,
        /// Panic or cancellation message.
        message: String,
    },
}

/// The classes of SQL that [`crate::read_only`] refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Creates or drops tables, views, schemas (`CREATE EXTERNAL TABLE` reads any file).
    Ddl,
    /// Writes data or files (`COPY ... TO`, `INSERT`).
    Dml,
    /// Changes the session (`SET`, transactions, `PREPARE`).
    Statement,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::Ddl => "DDL",
            Refused::Dml => "DML",
            Refused::Statement => "statement",
        })
    }
}

impl AuditError {
    pub(crate) fn query(
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(datafusion::error::DataFusionError) -> AuditError {
        let path = path.into();
        move |source| AuditError::Query { path, source }
    }
}

pub(crate) use pixmo_core::error_chain as chain;
