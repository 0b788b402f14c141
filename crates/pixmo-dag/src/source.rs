//! Records that come from outside: an inbox of recordings, another dataset's shards.
//!
//! A generated dataset's record is a pure function of (config, seed, split, index). A
//! dataset built from collected inputs adds one more input: a [`RecordSource`] that says how
//! many records each split has and describes record `index` of a split as JSON (which image,
//! which recordings). The executor attaches that description to the record
//! ([`crate::Record::source`]) before the first stage, and the pipeline's first stage turns
//! it into typed columns. A source must be append-only: the description of an index, once
//! given, never changes, so committed shards stay valid when the source grows.

use std::collections::BTreeMap;

/// Where a dataset's records come from when they are not generated from a seed alone.
pub trait RecordSource: Send + Sync + std::fmt::Debug + 'static {
    /// Names the source in messages and provenance (`inbox <path>`).
    fn name(&self) -> &str;
    /// Records per split, as of now (only ever grows).
    fn counts(&self) -> BTreeMap<String, u64>;
    /// The description of record `index` of `split`; `None` when it does not exist.
    fn describe(&self, split: &str, index: u64) -> Option<serde_json::Value>;
}
