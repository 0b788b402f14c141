//! `docs.render`: persona, topic, data, code and pixels of one figure or document.
//!
//! - What it does: runs the generator of the record's kind with the record's seed: charts
//!   are drawn with plotters from a validated chart spec and diagrams are SVG rendered with
//!   resvg (`pixmo_gen_docs`); tables and documents are typst code compiled and rasterised
//!   in a sandbox (`pixmo_gen_typst`), and the page is cropped to its content plus a seeded
//!   25-50 pt margin, as PixMo-Docs cropped its LaTeX renders. All fonts are bundled; nothing
//!   is read from the host.
//!   Keeps the generator's QA (with CoSyn-style types) and what `docs.qa` needs to check that
//!   each answer is visible: the drawn strings of a figure, the laid-out text of a document.
//! - Inputs: `figure_kind` (str), `figure_seed` (u64), `figure_options` (json).
//! - Outputs: `image` (image), `figure` (json: figure type, category, persona, topic),
//!   `figure_category` (str: `charts`, `tables`, `diagrams` or `other`, for the render gates),
//!   `data`, `code` (str), `figure_qa` (json: QA pairs, refusal wording and drawn text).
//! - Failure modes: an unknown kind or bad options reject the record (`bad_spec`); a
//!   generator failure (compile error, clipped text, answer not laid out, deadline) rejects it
//!   (`render_error`).
//! - Cost: the bulk of the pipeline; see the `bench` examples of both generators.

use std::sync::Arc;

use pixmo_annotation_schema::ModelUse;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_typst::QaKind;

use crate::kind::{Kind, RenderSettings};
use serde::{Deserialize, Serialize};

/// Config of `docs.render` (none yet; kept for forward compatibility).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderConfig {}

impl StageConfig for RenderConfig {
    const KIND: &'static str = "docs.render";
    const SUMMARY: &'static str = "Generate persona, topic, data and code, and render the chart (plotters), diagram (resvg) or document (typst)";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        Ok(Arc::new(Render))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Render;

/// Identity of the chart and diagram renderer: SHA-256 over the generator version and every
/// bundled font.
pub fn figure_renderer_sha256() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        renderer_hash(
            pixmo_gen_docs::GENERATOR_VERSION,
            pixmo_gen_docs::FONT_FILES.iter().copied(),
        )
    })
}

/// Identity of the document renderer: SHA-256 over the generator version, the typst version
/// and every bundled font.
pub fn doc_renderer_sha256() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        renderer_hash(
            &format!(
                "{} typst {TYPST_VERSION}",
                pixmo_gen_typst::GENERATOR_VERSION
            ),
            pixmo_gen_typst::FONT_FILES.iter().copied(),
        )
    })
}

/// The typst version `pixmo-gen-typst` pins (`=0.15.1` in its manifest).
pub const TYPST_VERSION: &str = "0.15.1";

fn renderer_hash<'a>(version: &str, fonts: impl Iterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut bytes = version.as_bytes().to_vec();
    for (name, data) in fonts {
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(pixmo_core::sha256_hex(data).as_bytes());
    }
    pixmo_core::sha256_hex(&bytes)
}

/// The CoSyn-style type of a document question.
#[must_use]
pub fn doc_qa_type(kind: QaKind) -> &'static str {
    match kind {
        QaKind::Retrieval => "retrieval",
        QaKind::Compositional => "compositional",
        QaKind::Comparison => "comparison",
        QaKind::YesNo => "yes_no",
        QaKind::Counting => "count",
        QaKind::Unanswerable => "unanswerable",
    }
}

/// What one generator produced, in the pipeline's columns.
#[derive(Debug)]
pub struct Generated {
    /// The pixels.
    pub image: pixmo_core::RgbaImage,
    /// Figure type, category, persona, topic and generator.
    pub figure: serde_json::Value,
    /// The data the code draws.
    pub data: serde_json::Value,
    /// The rendering code (chart spec JSON, SVG or typst).
    pub code: String,
    /// QA pairs, refusal wording and what is visible (see `docs.qa`).
    pub qa: serde_json::Value,
}

/// The seeded margin (25-50 pt, in pixels) left around a typst page's content when it is
/// cropped.
#[must_use]
pub fn crop_margin_px(seed: u64, settings: &RenderSettings) -> u32 {
    let margin_pt = pixmo_core::Rng::new(pixmo_core::seed::derive_seed(
        seed,
        &[b"pixmo-docs", b"crop-margin"],
    ))
    .range_u32(25, 51);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let margin = (margin_pt as f32 * settings.doc_pixel_per_pt).round() as u32;
    margin
}

/// What a figure stage (`docs.render`, `docs.llm_figure`) reads: kind, seed, options.
#[must_use]
pub fn figure_inputs() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new("figure_kind", ColumnType::Str),
        ColumnDef::new("figure_seed", ColumnType::U64),
        ColumnDef::new("figure_options", ColumnType::Json),
    ]
}

/// What every figure stage writes (each adds what its QA step needs).
#[must_use]
pub fn figure_outputs() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new("image", ColumnType::Image),
        ColumnDef::new("figure", ColumnType::Json),
        ColumnDef::new("figure_category", ColumnType::Str),
        ColumnDef::new("data", ColumnType::Str),
        ColumnDef::new("code", ColumnType::Str),
    ]
}

/// Reads a record's kind, seed and render settings (validated).
///
/// # Errors
/// A `bad_spec` rejection naming the bad column.
pub fn read_inputs(record: &Record) -> Result<(Kind, u64, RenderSettings), Reject> {
    let name = record
        .str("figure_kind")
        .map_err(|m| Reject::new("bad_spec", m))?;
    let kind = Kind::parse(name).map_err(|m| Reject::new("bad_spec", m))?;
    let seed = match record.get("figure_seed") {
        Some(Value::U64(s)) => *s,
        _ => return Err(Reject::new("bad_spec", "Column `figure_seed` is missing")),
    };
    let settings: RenderSettings = serde_json::from_value(
        record
            .json("figure_options")
            .map_err(|m| Reject::new("bad_spec", m))?
            .clone(),
    )
    .map_err(|e| Reject::new("bad_spec", format!("Column `figure_options`: {e}")))?;
    settings
        .validate()
        .map_err(|m| Reject::new("bad_spec", format!("Column `figure_options`: {m}")))?;
    Ok((kind, seed, settings))
}

/// Runs the generator of `kind` for `seed`: the work of `docs.render` for one record.
///
/// # Errors
/// The generator's error message.
pub fn generate(kind: Kind, seed: u64, settings: &RenderSettings) -> Result<Generated, String> {
    match kind {
        Kind::Figure(k) => {
            let s = pixmo_gen_docs::generate(k, seed, &settings.figure_options())
                .map_err(|e| e.to_string())?;
            Ok(Generated {
                figure: serde_json::json!({
                    "figure_type": s.figure_type,
                    "category": s.category.name(),
                    "persona": s.persona,
                    "topic": s.topic,
                    "generator": "plotters/resvg",
                }),
                qa: serde_json::json!({
                    "qa": s.qa,
                    "refusal": kind.refusal(),
                    "drawn_text": s.drawn_text,
                }),
                image: s.image,
                data: s.data,
                code: s.code,
            })
        }
        Kind::Doc(k) => {
            let s = pixmo_gen_typst::generate(k, seed, &settings.doc_options())
                .map_err(|e| e.to_string())?;
            // Like PixMo-Docs' LaTeX path: crop the page to its content plus a random margin
            // (25-50 pt), so empty page area does not dominate the image.
            let image = crate::crop::crop_to_content(&s.image, crop_margin_px(seed, settings));
            let qa: Vec<pixmo_gen_docs::Qa> =
                s.qa.iter()
                    .map(|q| pixmo_gen_docs::Qa {
                        question: q.question.clone(),
                        explanation: q.explanation.clone(),
                        answer: q.answer.clone(),
                        qa_type: doc_qa_type(q.kind).to_owned(),
                    })
                    .collect();
            Ok(Generated {
                figure: serde_json::json!({
                    "figure_type": s.figure_type,
                    "category": s.category,
                    "persona": s.persona,
                    "topic": s.topic,
                    "generator": "typst",
                }),
                qa: serde_json::json!({
                    "qa": qa,
                    "refusal": kind.refusal(),
                    "layout_text": s.layout_text,
                    "text_lines": s.text_lines,
                }),
                image,
                data: s.data,
                code: s.code,
            })
        }
    }
}

impl Stage for Render {
    fn version(&self) -> &'static str {
        "2"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        figure_inputs()
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        let mut columns = figure_outputs();
        columns.push(ColumnDef::new("figure_qa", ColumnType::Json));
        columns
    }

    fn models(&self) -> Vec<ModelUse> {
        let renderer = |name: String, sha: &str| ModelUse {
            stage: String::new(),
            kind: "renderer".into(),
            name,
            file_sha256: sha.to_string(),
            prompt_template_id: None,
            prompt_template_sha256: None,
            parameters: None,
        };
        vec![
            renderer(
                format!("{} (plotters, resvg)", pixmo_gen_docs::GENERATOR_VERSION),
                figure_renderer_sha256(),
            ),
            renderer(
                format!(
                    "{} (typst {TYPST_VERSION})",
                    pixmo_gen_typst::GENERATOR_VERSION
                ),
                doc_renderer_sha256(),
            ),
        ]
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let (kind, seed, settings) = read_inputs(record)?;
        let g = generate(kind, seed, &settings).map_err(|m| Reject::new("render_error", m))?;
        let category = g.figure["category"].as_str().unwrap_or_default().to_owned();
        record.set("image", Value::Image(Arc::new(g.image)));
        record.set("figure_category", Value::Str(category));
        record.set("figure", Value::Json(g.figure));
        record.set("data", Value::Str(pixmo_core::canonical_json(&g.data)));
        record.set("code", Value::Str(g.code));
        record.set("figure_qa", Value::Json(g.qa));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixmo_gen_typst::DocKind;

    fn settings() -> RenderSettings {
        RenderSettings {
            min_side: 200,
            max_side: 320,
            doc_pixel_per_pt: 1.0,
        }
    }

    #[test]
    fn documents_render_with_mapped_qa_types() {
        let g = generate(Kind::Doc(DocKind::Invoice), 5, &settings()).unwrap();
        assert_eq!(g.figure["category"], "other");
        assert_eq!(g.figure["generator"], "typst");
        assert!(g.code.contains("#set page"), "typst code expected");
        let types: Vec<&str> = g.qa["qa"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["type"].as_str().unwrap())
            .collect();
        assert!(
            types
                .iter()
                .all(|t| crate::stages::qa::QA_TYPES.contains(t))
        );
        assert!(types.contains(&"unanswerable"));
        assert_eq!(g.qa["refusal"], pixmo_gen_typst::REFUSAL);
        assert!(g.qa["layout_text"].as_str().unwrap().len() > 50);
        // 1 pixel per point: an invoice page is at most a Letter/A4 page wide.
        assert!(g.image.width <= 620, "{}", g.image.width);
    }

    #[test]
    fn renderer_identities_differ_and_are_stable() {
        assert_ne!(figure_renderer_sha256(), doc_renderer_sha256());
        assert_eq!(doc_renderer_sha256().len(), 64);
        assert_eq!(Render.models().len(), 2);
    }
}
