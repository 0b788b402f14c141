//! `cap_qa.cap_row`: a PixMo-Cap row (its caption and image) as the start of a CapQA record.
//!
//! - What it does: takes the Cap row the record source names, reads its image from the Cap
//!   shard and checks it against the row's `image_sha256`; names the CapQA row
//!   `cap_qa-<cap id>` and records the Cap row as its source.
//! - Inputs: none (the record source, [`crate::qa_source::CapSource`]).
//! - Outputs: `id`, `cap_id`, `caption` (str), `image_url` (str, web images), `image_bytes`
//!   (bytes), `image_format`, `image_sha256` (str), `width`, `height` (u32).
//! - Failure modes: `no_source` (built without `--from`), `cap_image` (the shard or the
//!   image cannot be read or does not match its hash).
//! - Cost: one row read from a Parquet shard.

use std::sync::Arc;

use pixmo_annotation_schema::SourceRef;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use serde::{Deserialize, Serialize};

use crate::qa_source::{CapRowRef, read_image};

/// Config of `cap_qa.cap_row` (nothing to set).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapRowConfig {}

impl StageConfig for CapRowConfig {
    const KIND: &'static str = "cap_qa.cap_row";
    const SUMMARY: &'static str =
        "A PixMo-Cap row's caption and image (hash-checked) as a CapQA record";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        Ok(Arc::new(CapRow))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct CapRow;

impl Stage for CapRow {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        Vec::new()
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("id", ColumnType::Str),
            ColumnDef::new("cap_id", ColumnType::Str),
            ColumnDef::new("caption", ColumnType::Str),
            ColumnDef::new("image_url", ColumnType::Str),
            ColumnDef::new("image_bytes", ColumnType::Bytes),
            ColumnDef::new("image_format", ColumnType::Str),
            ColumnDef::new("image_sha256", ColumnType::Str),
            ColumnDef::new("width", ColumnType::U32),
            ColumnDef::new("height", ColumnType::U32),
        ]
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let Some(description) = record.source.clone() else {
            return Err(Reject::new(
                "no_source",
                "`cap_qa.cap_row` reads PixMo-Cap rows: build with `pixmo build cap_qa --from OUT/cap`",
            ));
        };
        let row: CapRowRef = serde_json::from_value(description)
            .map_err(|e| Reject::new("no_source", format!("malformed Cap row reference: {e}")))?;
        let (bytes, width, height) =
            read_image(&row.shard, row.row).map_err(|m| Reject::new("cap_image", m))?;
        let sha = pixmo_core::sha256_hex(&bytes);
        if sha != row.image_sha256 {
            return Err(Reject::new(
                "cap_image",
                format!(
                    "the image of `{}` has SHA-256 {sha}, the row says {}",
                    row.cap_id, row.image_sha256
                ),
            ));
        }
        let format = match image::guess_format(&bytes) {
            Ok(image::ImageFormat::Jpeg) => "jpeg",
            _ => "png",
        };
        record.sources.push(SourceRef {
            kind: "cap_row".into(),
            id: row.cap_id.clone(),
            sha256: pixmo_core::sha256_hex(row.caption.as_bytes()),
        });
        record.set("id", Value::Str(format!("cap_qa-{}", row.cap_id)));
        record.set("cap_id", Value::Str(row.cap_id));
        record.set("caption", Value::Str(row.caption));
        if let Some(url) = row.image_url {
            record.set("image_url", Value::Str(url));
        }
        record.set("image_bytes", Value::Bytes(Arc::new(bytes)));
        record.set("image_format", Value::Str(format.into()));
        record.set("image_sha256", Value::Str(sha));
        record.set("width", Value::U32(width));
        record.set("height", Value::U32(height));
        Ok(())
    }
}
