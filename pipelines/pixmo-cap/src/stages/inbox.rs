//! `cap.inbox`: one sealed inbox record (an image and its recordings) into typed columns.
//!
//! - What it does: reads the record's description from the build's inbox source (see
//!   [`crate::inbox`]), names the row (`cap-<image id>`, `-r<revision>` for late recordings)
//!   and records every input (image, each recording) with its SHA-256 in provenance.
//! - Inputs: none (the record source).
//! - Outputs: `id`, `inbox_root` (str), `inbox_record` (json), `revision` (i32), and
//!   `image_url` (str) for web images.
//! - Failure modes: `no_source` when the build was started without an inbox.
//! - Cost: microseconds.

use std::sync::Arc;

use pixmo_annotation_schema::SourceRef;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use serde::{Deserialize, Serialize};

use crate::inbox::InboxRecord;

/// Config of `cap.inbox`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxConfig {
    /// Prefix of row ids.
    #[serde(default = "default_prefix")]
    pub id_prefix: String,
}

fn default_prefix() -> String {
    "cap".into()
}

impl StageConfig for InboxConfig {
    const KIND: &'static str = "cap.inbox";
    const SUMMARY: &'static str =
        "An image and every recording of it sealed from the inbox, as typed columns";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if self.id_prefix.is_empty()
            || !self
                .id_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err("`id_prefix` must be letters, digits or `_`".into());
        }
        Ok(Arc::new(Inbox {
            config: self.clone(),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Inbox {
    config: InboxConfig,
}

impl Stage for Inbox {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        Vec::new()
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("id", ColumnType::Str),
            ColumnDef::new("inbox_root", ColumnType::Str),
            ColumnDef::new("inbox_record", ColumnType::Json),
            ColumnDef::new("revision", ColumnType::I32),
            ColumnDef::new("image_url", ColumnType::Str),
        ]
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let Some(description) = record.source.clone() else {
            return Err(Reject::new(
                "no_source",
                "`cap.inbox` reads an inbox: build with `pixmo build cap --inbox DIR`",
            ));
        };
        let root = description["root"].as_str().unwrap_or_default().to_string();
        let inbox: InboxRecord = serde_json::from_value(description.clone())
            .map_err(|e| Reject::new("no_source", format!("malformed inbox record: {e}")))?;
        record.set("id", Value::Str(inbox.row_id(&self.config.id_prefix)));
        record.set(
            "revision",
            Value::I32(i32::try_from(inbox.revision).unwrap_or(i32::MAX)),
        );
        if let Some(url) = &inbox.image_url {
            record.set("image_url", Value::Str(url.clone()));
        }
        record.sources.push(SourceRef {
            kind: if inbox.image_url.is_some() {
                "url"
            } else {
                "image"
            }
            .into(),
            id: inbox
                .image_url
                .clone()
                .or_else(|| inbox.image.clone())
                .unwrap_or_default(),
            sha256: inbox.image_sha256.clone().unwrap_or_default(),
        });
        for r in &inbox.recordings {
            record.sources.push(SourceRef {
                kind: "audio".into(),
                id: format!("{} ({} row {})", r.manifest.audio, r.file, r.row),
                sha256: r.audio_sha256.clone().unwrap_or_default(),
            });
        }
        let mut value = serde_json::to_value(&inbox).unwrap_or_default();
        if let Some(o) = value.as_object_mut() {
            o.remove("root");
        }
        record.set("inbox_root", Value::Str(root));
        record.set("inbox_record", Value::Json(value));
        Ok(())
    }
}
