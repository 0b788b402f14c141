//! `docs.render`: persona, topic, data, code and pixels of one figure.
//!
//! - What it does: runs `pixmo_gen_docs::generate` for the record's figure kind and seed:
//!   charts are drawn with plotters from a validated chart spec, diagrams are SVG rendered
//!   with resvg (bundled fonts, no external resources). Keeps the generator's QA and the list
//!   of drawn strings for `docs.qa`.
//! - Inputs: `figure_kind` (str), `figure_seed` (u64), `figure_options` (json).
//! - Outputs: `image` (image), `figure` (json: figure type, category, persona, topic),
//!   `data`, `code` (str), `figure_qa` (json: QA pairs and drawn strings).
//! - Failure modes: an unknown kind or bad options reject the record (`bad_spec`); a
//!   generator failure rejects it (`render_error`).
//! - Cost: the bulk of the pipeline; see `examples/bench.rs` of `pixmo-gen-docs`.

use std::sync::Arc;

use pixmo_annotation_schema::ModelUse;
use pixmo_dag::registry::StageConfig;
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_docs::{FigureKind, GenerateOptions};
use serde::{Deserialize, Serialize};

/// Config of `docs.render` (none yet; kept for forward compatibility).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderConfig {}

impl StageConfig for RenderConfig {
    const KIND: &'static str = "docs.render";
    const SUMMARY: &'static str = "Generate persona, topic, data and code, and render the chart (plotters) or diagram (resvg)";

    fn build(&self) -> Result<Arc<dyn Stage>, String> {
        Ok(Arc::new(Render))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Render;

/// Identity of the renderer: SHA-256 over the generator version and every bundled font.
pub fn renderer_sha256() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let mut bytes = pixmo_gen_docs::GENERATOR_VERSION.as_bytes().to_vec();
        for (name, data) in pixmo_gen_docs::FONT_FILES {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(pixmo_core::sha256_hex(data).as_bytes());
        }
        pixmo_core::sha256_hex(&bytes)
    })
}

impl Stage for Render {
    fn version(&self) -> &'static str {
        pixmo_gen_docs::GENERATOR_VERSION
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("figure_kind", ColumnType::Str),
            ColumnDef::new("figure_seed", ColumnType::U64),
            ColumnDef::new("figure_options", ColumnType::Json),
        ]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("image", ColumnType::Image),
            ColumnDef::new("figure", ColumnType::Json),
            ColumnDef::new("data", ColumnType::Str),
            ColumnDef::new("code", ColumnType::Str),
            ColumnDef::new("figure_qa", ColumnType::Json),
        ]
    }

    fn models(&self) -> Vec<ModelUse> {
        vec![ModelUse {
            stage: String::new(),
            kind: "renderer".into(),
            name: format!("{} (plotters, resvg)", pixmo_gen_docs::GENERATOR_VERSION),
            file_sha256: renderer_sha256().to_string(),
            prompt_template_id: None,
            prompt_template_sha256: None,
            parameters: None,
        }]
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let name = record
            .str("figure_kind")
            .map_err(|m| Reject::new("bad_spec", m))?;
        let kind = FigureKind::from_name(name)
            .ok_or_else(|| Reject::new("bad_spec", format!("Unknown figure kind `{name}`")))?;
        let seed = match record.get("figure_seed") {
            Some(Value::U64(s)) => *s,
            _ => return Err(Reject::new("bad_spec", "Column `figure_seed` is missing")),
        };
        let options: GenerateOptions = serde_json::from_value(
            record
                .json("figure_options")
                .map_err(|m| Reject::new("bad_spec", m))?
                .clone(),
        )
        .map_err(|e| Reject::new("bad_spec", format!("Column `figure_options`: {e}")))?;
        let sample = pixmo_gen_docs::generate(kind, seed, &options)
            .map_err(|e| Reject::new("render_error", e.to_string()))?;
        let figure = serde_json::json!({
            "figure_type": sample.figure_type,
            "category": sample.category.name(),
            "persona": sample.persona,
            "topic": sample.topic,
        });
        let qa = serde_json::json!({ "qa": sample.qa, "drawn_text": sample.drawn_text });
        record.set("image", Value::Image(Arc::new(sample.image)));
        record.set("figure", Value::Json(figure));
        record.set("data", Value::Str(pixmo_core::canonical_json(&sample.data)));
        record.set("code", Value::Str(sample.code));
        record.set("figure_qa", Value::Json(qa));
        Ok(())
    }
}
