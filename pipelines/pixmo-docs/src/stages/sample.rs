//! `docs.sample`: picks the figure kind and the figure seed of a record.
//!
//! - What it does: draws a kind (chart, diagram, table or document; see [`crate::kind`])
//!   from the configured mix (weights per kind) with the stage's seed, and derives the figure seed from the record's seed key, so persona, topic,
//!   data and style are fixed by (run seed, dataset, split, record index).
//! - Inputs: none (the record's seed key).
//! - Outputs: `image_id`, `figure_kind` (str), `figure_seed` (u64), `figure_options` (json).
//! - Failure modes: none; an unknown kind or a bad weight fails at plan time.
//! - Cost: microseconds.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::kind::{Kind, RenderSettings};
use pixmo_annotation_schema::SourceRef;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use serde::{Deserialize, Serialize};

/// Config of `docs.sample`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleConfig {
    /// Relative weight per kind (`bar_chart`, `flowchart`, `invoice`, `typst:menu`, ...);
    /// kinds left out are never drawn.
    #[serde(default = "default_mix")]
    pub mix: BTreeMap<String, f64>,
    /// Smallest canvas side in pixels.
    #[serde(default = "default_min_side")]
    pub min_side: u32,
    /// Largest canvas side in pixels.
    #[serde(default = "default_max_side")]
    pub max_side: u32,
    /// Resolution of typst tables and documents, pixels per point.
    #[serde(default = "default_doc_pixel_per_pt")]
    pub doc_pixel_per_pt: f32,
}

fn default_doc_pixel_per_pt() -> f32 {
    1.5
}

fn default_mix() -> BTreeMap<String, f64> {
    Kind::all()
        .into_iter()
        .map(|k| (k.name().to_owned(), 1.0))
        .collect()
}

fn default_min_side() -> u32 {
    400
}

fn default_max_side() -> u32 {
    1000
}

impl StageConfig for SampleConfig {
    const KIND: &'static str = "docs.sample";
    const SUMMARY: &'static str =
        "Pick a figure kind from the configured mix and the figure's seed";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        let mut kinds = Vec::new();
        for (name, weight) in &self.mix {
            let kind = Kind::parse(name).map_err(|e| format!("`mix`: {e}"))?;
            if kinds.iter().any(|(k, _)| *k == kind) {
                return Err(format!("`mix` names `{}` twice", kind.name()).into());
            }
            if !weight.is_finite() || *weight < 0.0 {
                return Err(format!("weight of `{name}` must be a non-negative number").into());
            }
            if *weight > 0.0 {
                kinds.push((kind, *weight));
            }
        }
        if kinds.is_empty() {
            return Err("`mix` gives no figure kind a positive weight".into());
        }
        let options = RenderSettings {
            min_side: self.min_side,
            max_side: self.max_side,
            doc_pixel_per_pt: self.doc_pixel_per_pt,
        };
        options.validate()?;
        Ok(Arc::new(Sample { kinds, options }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Sample {
    kinds: Vec<(Kind, f64)>,
    options: RenderSettings,
}

impl Sample {
    fn pick(&self, u: f64) -> Kind {
        let total: f64 = self.kinds.iter().map(|k| k.1).sum();
        let mut x = u * total;
        for (kind, w) in &self.kinds {
            if x < *w {
                return *kind;
            }
            x -= w;
        }
        self.kinds[self.kinds.len() - 1].0
    }
}

impl Stage for Sample {
    fn version(&self) -> &'static str {
        "2"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        Vec::new()
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("image_id", ColumnType::Str),
            ColumnDef::new("figure_kind", ColumnType::Str),
            ColumnDef::new("figure_seed", ColumnType::U64),
            ColumnDef::new("figure_options", ColumnType::Json),
        ]
    }

    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject> {
        let kind = self.pick(cx.rng().f64());
        let seed = record.key.derive(&format!("{}/figure", cx.stage));
        let options = serde_json::to_value(&self.options)
            .map_err(|e| Reject::new("internal", e.to_string()))?;
        let spec = serde_json::json!({ "kind": kind.name(), "seed": seed, "options": options });
        record.sources.push(SourceRef {
            kind: "procedural".into(),
            id: format!("docs:{}:{seed:016x}", kind.name()),
            sha256: pixmo_core::sha256_hex(pixmo_core::canonical_json(&spec).as_bytes()),
        });
        record.set("image_id", Value::Str(record.id.clone()));
        record.set("figure_kind", Value::Str(kind.name().to_owned()));
        record.set("figure_seed", Value::U64(seed));
        record.set("figure_options", Value::Json(options));
        Ok(())
    }
}
