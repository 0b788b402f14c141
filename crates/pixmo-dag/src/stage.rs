//! The stage trait and per-record rejections.

use pixmo_annotation_schema::ModelUse;
use pixmo_core::Rng;

use crate::value::{ColumnDef, Record};

/// A runtime stage, built from its serde config by a [`crate::StageFactory`].
///
/// `process` runs on the blocking pool, possibly for several records at once, so stages are
/// `Sync` and keep per-call state local (or behind a lock they own).
pub trait Stage: Send + Sync + 'static {
    /// Version of the implementation: bump it when output changes for the same input.
    fn version(&self) -> &'static str;
    /// Columns the stage reads.
    fn inputs(&self) -> Vec<ColumnDef>;
    /// Columns the stage writes.
    fn outputs(&self) -> Vec<ColumnDef>;
    /// Models the stage uses (recorded in every row's provenance). `stage` is filled in by
    /// the engine.
    fn models(&self) -> Vec<ModelUse> {
        Vec::new()
    }
    /// Whether the stage shows an image to a vision-language model. pixmo has none; the flag
    /// exists so that `pixmo audit` can verify the lineage claim from what is recorded.
    fn uses_vlm(&self) -> bool {
        false
    }
    /// Counters for the run summary (calls, cache hits, tokens, dropped items), read once
    /// after the run; `None` for stages with nothing to add.
    fn summary(&self) -> Option<serde_json::Value> {
        None
    }
    /// Processes one record in place.
    ///
    /// # Errors
    /// A [`Reject`] when this record cannot be produced; the run goes on without it.
    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject>;
}

/// What a stage gets besides the record: its name and its seed for this record.
#[derive(Clone, Debug)]
pub struct StageContext {
    /// Stage name in the spec.
    pub stage: String,
    /// Seed derived from (run seed, dataset, split, record index, stage name).
    pub seed: u64,
}

impl StageContext {
    /// A fresh RNG from this stage's seed.
    #[must_use]
    pub fn rng(&self) -> Rng {
        Rng::new(self.seed)
    }
}

/// Why a stage refused a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// Short machine-readable reason (`render_error`, `validation`, `encode_error`).
    pub kind: String,
    /// Human-readable message.
    pub message: String,
}

impl Reject {
    /// A rejection of the given kind.
    pub fn new(kind: &str, message: impl Into<String>) -> Reject {
        Reject {
            kind: kind.to_string(),
            message: message.into(),
        }
    }
}

/// A rejected record, as written to the rejects table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejection {
    /// Record id.
    pub record_id: String,
    /// Split of the record.
    pub split: String,
    /// Index of the record within its split.
    pub record_index: u64,
    /// Stage name that rejected it.
    pub stage: String,
    /// Reason kind.
    pub kind: String,
    /// Message.
    pub message: String,
}
