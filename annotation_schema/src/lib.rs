//! The annotation schema: the boundary every reader of pixmo shards relies on.
//!
//! One module per PixMo dataset. Each defines a plain-data row type (serde + JSON Schema,
//! for documentation and for tools that read rows as JSON) and the Arrow schema of its
//! Parquet shards. Column names follow the released Hugging Face PixMo datasets, plus what
//! the released data lacks: embedded image bytes ([`common::image_field`], the Hugging Face
//! `Image` feature layout), `image_sha256`, `width`, `height` and a [`common::Provenance`]
//! struct.
//!
//! Conventions every dataset shares:
//! - Points are in each released dataset's own unit (PIXMO_DATA.md §3.5): percent of image
//!   width/height, 0–100, one decimal, origin top-left for PixMo-Points and
//!   Point-Explanations (Molmo's `point_scale=100`); pixels of the row's image, one decimal,
//!   origin top-left for PixMo-Count. [`Dataset::point_unit`] says which, and the unit is
//!   written in the Arrow field metadata ([`common::POINT_UNIT`], [`common::PIXEL_UNIT`]),
//!   so readers convert at the boundary and never mix the two.
//! - `image_sha256` is the lowercase hex SHA-256 of the encoded image bytes.
//! - Every row's `provenance` records code/stage versions, run id, seed, config hash,
//!   inputs, models and prompt templates, a timestamp and the `vlm_free` lineage claim.

pub mod common;
pub mod datasets;

pub use common::{
    ModelUse, PIXEL_UNIT, POINT_UNIT, PixelPoint, Point, PointUnit, Provenance, SCHEMA_VERSION,
    SourceRef, StageUse, image_field, provenance_field,
};
pub use datasets::{Dataset, DatasetSchema, RecordingInfo, RejectedRecording, SegmentInfo};
