//! `count.scene`: a scene of N objects of a target category among clutter, rendered, with
//! its scene graph.
//!
//! - What it does: draws the target count N (uniform in `min_count..=max_count`, or, in the
//!   `balanced_splits`, cycling through `balanced_min_count..=max_count` by record index so
//!   every count appears equally often) and renders a scene with `pixmo-gen-count` from the
//!   record's seed: target category, clutter, occlusion under the generator's rule, every
//!   instance's point.
//! - Inputs: none (the record's seed key).
//! - Outputs: `image` (image), `scene` (json: size, background, target, requested count,
//!   instances with category, colour, size, point in pixels, visible pixels and box, and
//!   `masks`: every instance's visible mask after occlusion, COCO run-length encoded).
//! - Failure modes: none per record; bad configs fail at plan time.
//! - Cost: about 5 ms per 448 px scene on one core for the generator, masks included
//!   (`cargo run --release -p pixmo-gen-count --example bench`), 7-10 ms per record in
//!   `pixmo bench count` on a shared 2-core machine; see `generators/pixmo-gen-count/BENCH.md`.

use std::sync::Arc;

use pixmo_annotation_schema::{ModelUse, SourceRef};
use pixmo_core::{RgbaImage, Rng};
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_count::{GENERATOR_VERSION, SceneConfig as GenConfig, generate};
use serde::{Deserialize, Serialize};

/// Config of `count.scene`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneConfig {
    /// Longer image side in pixels (64–1000).
    #[serde(default = "default_image_size")]
    pub image_size: u32,
    /// Fewest targets in a scene (0 makes "not present" scenes).
    #[serde(default)]
    pub min_count: u32,
    /// Most targets in a scene.
    #[serde(default = "default_max_count")]
    pub max_count: u32,
    /// Splits whose counts cycle evenly through `balanced_min_count..=max_count`.
    #[serde(default)]
    pub balanced_splits: Vec<String>,
    /// Fewest targets in the balanced splits.
    #[serde(default = "default_balanced_min")]
    pub balanced_min_count: u32,
    /// Most clutter objects (other categories) per scene.
    #[serde(default = "default_max_clutter")]
    pub max_clutter: u32,
    /// Fraction of its pixels every instance keeps visible.
    #[serde(default = "default_min_visible")]
    pub min_visible: f64,
}

fn default_image_size() -> u32 {
    448
}
fn default_max_count() -> u32 {
    10
}
fn default_balanced_min() -> u32 {
    2
}
fn default_max_clutter() -> u32 {
    12
}
fn default_min_visible() -> f64 {
    0.6
}

impl SceneConfig {
    fn generator(&self, target_count: u32) -> GenConfig {
        GenConfig {
            size: self.image_size,
            target_count,
            max_clutter: self.max_clutter,
            min_visible: self.min_visible,
        }
    }
}

impl StageConfig for SceneConfig {
    const KIND: &'static str = "count.scene";
    const SUMMARY: &'static str =
        "Render a scene of N objects of a target category among clutter, with exact points";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if self.min_count > self.max_count {
            return Err(format!(
                "`min_count` {} is above `max_count` {}",
                self.min_count, self.max_count
            )
            .into());
        }
        if !self.balanced_splits.is_empty() && self.balanced_min_count > self.max_count {
            return Err(format!(
                "`balanced_min_count` {} is above `max_count` {}",
                self.balanced_min_count, self.max_count
            )
            .into());
        }
        for count in [self.min_count, self.max_count] {
            self.generator(count)
                .check()
                .map_err(|e| ConfigError::from(e.to_string()))?;
        }
        Ok(Arc::new(Scene {
            config: self.clone(),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Scene {
    config: SceneConfig,
}

/// Identity of the renderer for provenance.
fn renderer_sha256() -> String {
    pixmo_core::sha256_hex(GENERATOR_VERSION.as_bytes())
}

impl Stage for Scene {
    fn version(&self) -> &'static str {
        GENERATOR_VERSION
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        Vec::new()
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("image", ColumnType::Image),
            ColumnDef::new("scene", ColumnType::Json),
        ]
    }

    fn models(&self) -> Vec<ModelUse> {
        vec![ModelUse {
            stage: String::new(),
            kind: "renderer".into(),
            name: GENERATOR_VERSION.into(),
            file_sha256: renderer_sha256(),
            prompt_template_id: None,
            prompt_template_sha256: None,
            parameters: None,
        }]
    }

    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject> {
        let c = &self.config;
        let count = if c.balanced_splits.contains(&record.key.split) {
            let span = u64::from(c.max_count - c.balanced_min_count) + 1;
            c.balanced_min_count + (record.key.record_index % span) as u32
        } else {
            let mut rng = Rng::new(record.key.derive(&format!("{}/count", cx.stage)));
            rng.range_u32(c.min_count, c.max_count + 1)
        };
        let seed = record.key.derive(&format!("{}/scene", cx.stage));
        let scene = generate(seed, &c.generator(count))
            .map_err(|e| Reject::new("bad_spec", e.to_string()))?;
        let mut graph = serde_json::json!({
            "width": scene.width,
            "height": scene.height,
            "background": scene.background,
            "target": scene.target,
            "requested_count": count,
            "left_out": scene.left_out,
            "instances": scene.instances,
        });
        // The source hash covers the scene graph; the masks follow from it (and the
        // generator version in provenance), so they are added after, unhashed.
        record.sources.push(SourceRef {
            kind: "procedural".into(),
            id: format!("count-scene:{seed:016x}"),
            sha256: pixmo_core::sha256_hex(pixmo_core::canonical_json(&graph).as_bytes()),
        });
        let masks = serde_json::to_value(scene.masks())
            .map_err(|e| Reject::new("render_error", e.to_string()))?;
        graph["masks"] = masks;
        let image = RgbaImage::new(scene.width, scene.height, scene.rgba)
            .map_err(|m| Reject::new("render_error", m))?;
        record.set("image", Value::Image(Arc::new(image)));
        record.set("scene", Value::Json(graph));
        Ok(())
    }
}
