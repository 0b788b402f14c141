//! Types shared by every dataset: images, points, provenance.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the shard schema. Bump the minor for added columns, the major for renamed or
/// retyped ones. Written into every row's provenance and every shard's metadata.
pub const SCHEMA_VERSION: &str = "1.0.0";

/// Field-metadata `unit` of percent point columns (PixMo-Points, Point-Explanations).
pub const POINT_UNIT: &str = "percent";

/// Field-metadata `unit` of pixel point columns (PixMo-Count).
pub const PIXEL_UNIT: &str = "pixels";

/// How a dataset's point columns are measured (PIXMO_DATA.md §3.5): PixMo-Points in
/// percent of the image, PixMo-Count in pixels of the row's image. Written into the Arrow
/// field metadata (`unit`) so a reader converts at the boundary and never mixes the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PointUnit {
    /// Percent of the image width and height, 0–100, one decimal ([`Point`]).
    Percent,
    /// Pixels of the row's image (`width`, `height`), one decimal ([`PixelPoint`]).
    Pixels,
}

impl PointUnit {
    /// The field-metadata value: [`POINT_UNIT`] or [`PIXEL_UNIT`].
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PointUnit::Percent => POINT_UNIT,
            PointUnit::Pixels => PIXEL_UNIT,
        }
    }

    /// The unit a field-metadata value names, if any.
    #[must_use]
    pub fn from_metadata(value: &str) -> Option<PointUnit> {
        match value {
            POINT_UNIT => Some(PointUnit::Percent),
            PIXEL_UNIT => Some(PointUnit::Pixels),
            _ => None,
        }
    }

    /// A stored point `(x, y)` of an image `width` x `height` as fractions of the width and
    /// height (0–1), whatever the unit.
    #[must_use]
    pub fn to_unit_square(self, x: f64, y: f64, width: u32, height: u32) -> (f64, f64) {
        match self {
            PointUnit::Percent => (x / 100.0, y / 100.0),
            PointUnit::Pixels => (x / f64::from(width), y / f64::from(height)),
        }
    }
}

/// A point in percent of the image size: `x` from the left edge, `y` from the top edge,
/// both in 0–100 with one decimal (Molmo's `point_scale=100` convention).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Point {
    /// Horizontal position, percent of the image width (0–100, one decimal).
    pub x: f64,
    /// Vertical position, percent of the image height (0–100, one decimal).
    pub y: f64,
}

impl Point {
    /// A point from pixel coordinates, converted to the percent convention and rounded to
    /// one decimal.
    #[must_use]
    pub fn from_pixels(x: f64, y: f64, width: u32, height: u32) -> Point {
        let round1 = |v: f64| (v * 10.0).round() / 10.0;
        Point {
            x: round1((x / f64::from(width) * 100.0).clamp(0.0, 100.0)),
            y: round1((y / f64::from(height) * 100.0).clamp(0.0, 100.0)),
        }
    }
}

/// A point in pixels of the row's image (PixMo-Count's convention): `x` from the left edge
/// in 0–`width`, `y` from the top edge in 0–`height`, one decimal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PixelPoint {
    /// Horizontal position, pixels from the left edge (0–width, one decimal).
    pub x: f64,
    /// Vertical position, pixels from the top edge (0–height, one decimal).
    pub y: f64,
}

impl PixelPoint {
    /// A point from pixel coordinates, kept inside an image `width` x `height` and rounded
    /// to one decimal.
    #[must_use]
    pub fn rounded(x: f64, y: f64, width: u32, height: u32) -> PixelPoint {
        let round1 = |v: f64| (v * 10.0).round() / 10.0;
        PixelPoint {
            x: round1(x.clamp(0.0, f64::from(width))),
            y: round1(y.clamp(0.0, f64::from(height))),
        }
    }

    /// The point in percent of an image `width` x `height` ([`Point::from_pixels`]).
    #[must_use]
    pub fn to_percent(self, width: u32, height: u32) -> Point {
        Point::from_pixels(self.x, self.y, width, height)
    }
}

/// An embedded image in the Hugging Face `datasets` `Image` feature layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImageData {
    /// Encoded image bytes (PNG or JPEG).
    pub bytes: Vec<u8>,
    /// Suggested file name (`<image_sha256>.png`); informational.
    pub path: Option<String>,
}

/// One stage that touched the row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageUse {
    /// Stage name in the pipeline spec.
    pub name: String,
    /// Registered stage kind, such as `clocks.render`.
    pub kind: String,
    /// Version of the stage implementation (bumped when its output changes).
    pub version: String,
    /// SHA-256 of the stage's resolved configuration (canonical JSON).
    pub config_hash: String,
    /// Whether this stage gave a vision-language model an image. Always `false` in pixmo.
    pub uses_vlm: bool,
}

/// One model used to produce the row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelUse {
    /// Stage name that called the model.
    pub stage: String,
    /// What kind of model: `llm-text`, `asr`, `detector`, `ocr`, `renderer` or `vlm`.
    pub kind: String,
    /// Model name as configured (for example `SmolLM2-135M-Instruct.Q4_1`).
    pub name: String,
    /// SHA-256 of the model file, or of the model's identity for remote APIs.
    pub file_sha256: String,
    /// Prompt template id for LLM stages.
    pub prompt_template_id: Option<String>,
    /// SHA-256 of the prompt template text for LLM stages.
    pub prompt_template_sha256: Option<String>,
    /// Sampling parameters as canonical JSON.
    pub parameters: Option<String>,
}

/// One input the row was derived from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceRef {
    /// What the source is: `procedural`, `image`, `audio`, `transcript`, `url`...
    pub kind: String,
    /// Stable id of the source (a URL, a file path relative to the input root, a spec id).
    pub id: String,
    /// SHA-256 of the source bytes (or of the canonical spec for procedural sources).
    pub sha256: String,
}

/// Per-row provenance. Everything needed to re-create or audit the row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Provenance {
    /// Shard schema version ([`SCHEMA_VERSION`]).
    pub schema_version: String,
    /// Version of the pixmo code that wrote the row (`pixmo <semver>+<git>`).
    pub code_version: String,
    /// Pipeline name from the spec (for example `clocks`).
    pub pipeline: String,
    /// Run id: a hash of (config hash, seed, code version); equal for every shard of one run.
    pub run_id: String,
    /// Run seed given on the command line.
    pub seed: u64,
    /// Seed derived for this record from (run seed, dataset, split, record index).
    pub record_seed: u64,
    /// Index of the record within its split.
    pub record_index: u64,
    /// SHA-256 of the resolved pipeline configuration (canonical JSON, without `count`).
    pub config_hash: String,
    /// Stages applied to the row, in execution order.
    pub stages: Vec<StageUse>,
    /// Models used, with prompt templates for LLM stages.
    pub models: Vec<ModelUse>,
    /// Inputs the row was derived from.
    pub sources: Vec<SourceRef>,
    /// Build time of the run (microseconds since the Unix epoch, UTC): `--as-of`,
    /// `SOURCE_DATE_EPOCH`, or the time the output directory's run first started.
    pub created_at: i64,
    /// Lineage claim: no vision-language model saw an image on the way to this row.
    /// `pixmo audit` re-derives it from `stages` and `models`.
    pub vlm_free: bool,
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn list_of(name: &str, item: DataType, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::List(Arc::new(Field::new("item", item, true))),
        nullable,
    )
}

/// The Arrow type of a point: `struct<x: double, y: double>`.
#[must_use]
pub fn point_type() -> DataType {
    DataType::Struct(Fields::from(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
    ]))
}

/// A `list<struct<x, y>>` column in percent, with the unit in its field metadata.
#[must_use]
pub fn points_field(name: &str) -> Field {
    list_of(name, point_type(), false).with_metadata(point_metadata())
}

/// A `list<struct<x, y>>` column in pixels, with the unit in its field metadata.
#[must_use]
pub fn pixel_points_field(name: &str) -> Field {
    list_of(name, point_type(), false).with_metadata(unit_metadata(PointUnit::Pixels))
}

/// Field metadata that documents the percent point convention.
#[must_use]
pub fn point_metadata() -> HashMap<String, String> {
    unit_metadata(PointUnit::Percent)
}

/// Field metadata that documents a point convention: `unit`, `range`, `decimals`,
/// `origin`.
#[must_use]
pub fn unit_metadata(unit: PointUnit) -> HashMap<String, String> {
    let range = match unit {
        PointUnit::Percent => "0-100",
        PointUnit::Pixels => "0-width, 0-height",
    };
    HashMap::from([
        ("unit".to_string(), unit.as_str().to_string()),
        ("range".to_string(), range.to_string()),
        ("decimals".to_string(), "1".to_string()),
        ("origin".to_string(), "top-left".to_string()),
    ])
}

/// The `image` column: `struct<bytes: binary, path: string>`, the layout Hugging Face
/// `datasets` decodes as an `Image` feature.
#[must_use]
pub fn image_field() -> Field {
    Field::new(
        "image",
        DataType::Struct(Fields::from(vec![
            Field::new("bytes", DataType::Binary, true),
            utf8("path", true),
        ])),
        // Nullable like Hugging Face's own `Image` type: `datasets` applies the feature from
        // the schema metadata only when the Arrow field matches it exactly.
        true,
    )
}

/// The Arrow type of [`StageUse`].
#[must_use]
pub fn stage_use_type() -> DataType {
    DataType::Struct(Fields::from(vec![
        utf8("name", false),
        utf8("kind", false),
        utf8("version", false),
        utf8("config_hash", false),
        Field::new("uses_vlm", DataType::Boolean, false),
    ]))
}

/// The Arrow type of [`ModelUse`].
#[must_use]
pub fn model_use_type() -> DataType {
    DataType::Struct(Fields::from(vec![
        utf8("stage", false),
        utf8("kind", false),
        utf8("name", false),
        utf8("file_sha256", false),
        utf8("prompt_template_id", true),
        utf8("prompt_template_sha256", true),
        utf8("parameters", true),
    ]))
}

/// The Arrow type of [`SourceRef`].
#[must_use]
pub fn source_ref_type() -> DataType {
    DataType::Struct(Fields::from(vec![
        utf8("kind", false),
        utf8("id", false),
        utf8("sha256", false),
    ]))
}

/// The `provenance` column, mirroring [`Provenance`] field by field.
#[must_use]
pub fn provenance_field() -> Field {
    Field::new(
        "provenance",
        DataType::Struct(Fields::from(vec![
            utf8("schema_version", false),
            utf8("code_version", false),
            utf8("pipeline", false),
            utf8("run_id", false),
            Field::new("seed", DataType::UInt64, false),
            Field::new("record_seed", DataType::UInt64, false),
            Field::new("record_index", DataType::UInt64, false),
            utf8("config_hash", false),
            list_of("stages", stage_use_type(), false),
            list_of("models", model_use_type(), false),
            list_of("sources", source_ref_type(), false),
            Field::new(
                "created_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("vlm_free", DataType::Boolean, false),
        ])),
        false,
    )
}

/// Columns every dataset carries after its own: image, hash, size, provenance.
#[must_use]
pub fn common_fields() -> Vec<Field> {
    vec![
        image_field(),
        utf8("image_sha256", false),
        Field::new("width", DataType::UInt32, false),
        Field::new("height", DataType::UInt32, false),
        provenance_field(),
    ]
}

pub(crate) fn str_field(name: &str) -> Field {
    utf8(name, false)
}

pub(crate) fn opt_str_field(name: &str) -> Field {
    utf8(name, true)
}

pub(crate) fn str_list_field(name: &str) -> Field {
    list_of(name, DataType::Utf8, false)
}

pub(crate) fn list_field(name: &str, item: DataType) -> Field {
    list_of(name, item, false)
}
