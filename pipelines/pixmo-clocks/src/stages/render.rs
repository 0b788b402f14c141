//! `clocks.render`: the watch face as SVG, rasterized with resvg, placed in a scene and
//! augmented.
//!
//! - What it does: renders `face` at `clock_time` in `scene` with `pixmo-gen-clock`, and
//!   records the ground truth of the drawn hands (angles, tips, visibility).
//! - Inputs: `face`, `clock_time`, `scene` (json).
//! - Outputs: `image` (image), `truth` (json).
//! - Failure modes: a spec that does not parse or a render error rejects the record
//!   (`bad_spec`, `render_error`).
//! - Cost: the bulk of the pipeline, ~5.5 ms of CPU per 448-px image (the face's SVG once
//!   per face, shared by the workers); see `pixmo bench clocks` and
//!   `generators/pixmo-gen-clock/BENCH.md`.

use std::sync::{Arc, Mutex};

use pixmo_annotation_schema::ModelUse;
use pixmo_core::RgbaImage;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_clock::{ClockRenderer, ClockTime, FaceSpec, LayerCache, SceneSpec};
use serde::{Deserialize, Serialize};

/// Config of `clocks.render` (none yet; kept for forward compatibility).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderConfig {}

impl StageConfig for RenderConfig {
    const KIND: &'static str = "clocks.render";
    const SUMMARY: &'static str =
        "Render the watch face (SVG + resvg), place it in its scene and augment it";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        Ok(Arc::new(Render::default()))
    }
}

/// The runtime stage: a pool of renderers (one per record in flight) sharing one cache of
/// static face layers, so the records of a face rasterise its SVG once even when different
/// workers draw them. Output does not depend on which renderer (or cache state) serves a
/// record.
#[derive(Default)]
pub struct Render {
    renderers: Mutex<Vec<ClockRenderer>>,
    layers: Arc<LayerCache>,
}

impl std::fmt::Debug for Render {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Render").finish_non_exhaustive()
    }
}

/// Identity of the renderer: SHA-256 over the generator version and every bundled font, so
/// provenance names exactly what drew the pixels.
pub fn renderer_sha256() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let mut bytes = pixmo_gen_clock::GENERATOR_VERSION.as_bytes().to_vec();
        for (name, data) in pixmo_gen_clock::FONT_FILES {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(pixmo_core::sha256_hex(data).as_bytes());
        }
        pixmo_core::sha256_hex(&bytes)
    })
}

fn parse<T: serde::de::DeserializeOwned>(record: &Record, name: &str) -> Result<T, Reject> {
    let value = record.json(name).map_err(|m| Reject::new("bad_spec", m))?;
    // Deserialised from the borrowed tree: no copy of the (large) face spec per record.
    T::deserialize(value).map_err(|e| Reject::new("bad_spec", format!("Column `{name}`: {e}")))
}

impl Stage for Render {
    fn version(&self) -> &'static str {
        pixmo_gen_clock::GENERATOR_VERSION
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("face", ColumnType::Json),
            ColumnDef::new("clock_time", ColumnType::Json),
            ColumnDef::new("scene", ColumnType::Json),
        ]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("image", ColumnType::Image),
            ColumnDef::new("truth", ColumnType::Json),
        ]
    }

    fn models(&self) -> Vec<ModelUse> {
        vec![ModelUse {
            stage: String::new(),
            kind: "renderer".into(),
            name: format!("{} (resvg)", pixmo_gen_clock::GENERATOR_VERSION),
            file_sha256: renderer_sha256().to_string(),
            prompt_template_id: None,
            prompt_template_sha256: None,
            parameters: None,
        }]
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let face: FaceSpec = parse(record, "face")?;
        let time: ClockTime = parse(record, "clock_time")?;
        let scene: SceneSpec = parse(record, "scene")?;
        let mut renderer = self
            .renderers
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_else(|| ClockRenderer::with_layer_cache(Arc::clone(&self.layers)));
        let result = renderer.render(&face, time, &scene);
        if let Ok(mut pool) = self.renderers.lock() {
            pool.push(renderer);
        }
        let rendered = result.map_err(|e| Reject::new("render_error", e.to_string()))?;
        let truth = &rendered.truth;
        let truth_json = serde_json::json!({
            "hour_visible": truth.visibility.hour,
            "minute_visible": truth.visibility.minute,
            "second_visible": truth.visibility.second,
            "shows_seconds": truth.shows_seconds,
            "center": [truth.center.0, truth.center.1],
            "dial_box": [truth.dial_box.0, truth.dial_box.1, truth.dial_box.2, truth.dial_box.3],
            "hour_tip": [truth.hour_tip.0, truth.hour_tip.1],
            "minute_tip": [truth.minute_tip.0, truth.minute_tip.1],
            "second_tip": truth.second_tip.map(|t| [t.0, t.1]),
            "hour_angle_deg": truth.hour_angle_deg,
            "minute_angle_deg": truth.minute_angle_deg,
            "second_angle_deg": truth.second_angle_deg,
        });
        let image = RgbaImage::new(rendered.width, rendered.height, rendered.rgba)
            .map_err(|m| Reject::new("render_error", m))?;
        record.set("image", Value::Image(Arc::new(image)));
        record.set("truth", Value::Json(truth_json));
        Ok(())
    }
}
