//! The PixMo-Cap stages, in pipeline order: `cap.inbox` -> `cap.image` -> `cap.transcribe` ->
//! `cap.caption`; PixMo-CapQA's `cap_qa.cap_row` -> `cap_qa.dialogue`.

pub mod cap_row;
pub mod caption;
pub mod dialogue;

pub mod image;
pub mod inbox;
pub mod transcribe;

use pixmo_dag::{Record, Reject};

use crate::inbox::InboxRecord;

/// The inbox record `cap.inbox` attached.
pub(crate) fn inbox_record(record: &Record) -> Result<InboxRecord, Reject> {
    let value = record
        .json("inbox_record")
        .map_err(|m| Reject::new("missing_input", m))?;
    serde_json::from_value(value.clone())
        .map_err(|e| Reject::new("missing_input", format!("`inbox_record` is malformed: {e}")))
}

/// The inbox folder of the record (`cap.inbox` keeps it beside the record).
pub(crate) fn inbox_root(record: &Record) -> Result<std::path::PathBuf, Reject> {
    record
        .str("inbox_root")
        .map(std::path::PathBuf::from)
        .map_err(|m| Reject::new("missing_input", m))
}
