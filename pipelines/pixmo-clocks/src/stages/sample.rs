//! `clocks.sample`: draws the watch face, the time and the scene of a record.
//!
//! - What it does: picks a face design from the seed of face number
//!   `record_index / examples_per_face` (so a face is shown at several times, as in
//!   PixMo-Clocks: ~160k faces for 826k examples), and a time and scene from the record's
//!   own seed.
//! - Inputs: none (the record's seed key).
//! - Outputs: `face`, `clock_time`, `scene` (json), `example_id`, `watchface_id`,
//!   `watchface_name` (str).
//! - Failure modes: none; bad configs fail at plan time.
//! - Cost: microseconds.

use std::sync::Arc;

use pixmo_annotation_schema::SourceRef;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_clock::{ClockTime, FaceSpec, SceneSpec};
use serde::{Deserialize, Serialize};

/// Config of `clocks.sample`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleConfig {
    /// Consecutive records that share one face design.
    #[serde(default = "default_examples_per_face")]
    pub examples_per_face: u64,
    /// Output image side in pixels.
    #[serde(default = "default_image_size")]
    pub image_size: u32,
    /// How the watch is posed: `natural` (PixMo-Clocks' mix of rotation, perspective, offset
    /// and crops) or `upright` (facing the camera, unrotated, centred and filling the image;
    /// background, lighting, blur and noise still vary), for a curriculum or a probe of what
    /// pose costs a model. Left out of the spec's hash when `natural`.
    #[serde(default, skip_serializing_if = "Pose::is_natural")]
    pub pose: Pose,
}

/// The watch's pose in the scene.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pose {
    /// Rotation, perspective, offset and crops as PixMo-Clocks has them.
    #[default]
    Natural,
    /// Upright, facing the camera, centred, filling the image, never cropped.
    Upright,
}

impl Pose {
    fn is_natural(&self) -> bool {
        *self == Pose::Natural
    }

    /// `scene` in this pose.
    #[must_use]
    pub fn apply(self, mut scene: SceneSpec) -> SceneSpec {
        if self == Pose::Upright {
            scene.watch_scale = 1.0;
            scene.center = (0.5, 0.5);
            scene.rotation_deg = 0.0;
            scene.tilt_x_deg = 0.0;
            scene.tilt_y_deg = 0.0;
            scene.crop = None;
        }
        scene
    }
}

fn default_examples_per_face() -> u64 {
    5
}

fn default_image_size() -> u32 {
    448
}

impl StageConfig for SampleConfig {
    const KIND: &'static str = "clocks.sample";
    const SUMMARY: &'static str = "Draw a watch face, a time and a scene from the record's seeds";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if self.examples_per_face == 0 {
            return Err("`examples_per_face` must be at least 1".into());
        }
        if !(64..=2048).contains(&self.image_size) {
            return Err(format!(
                "`image_size` is {}; it must be between 64 and 2048",
                self.image_size
            )
            .into());
        }
        Ok(Arc::new(Sample {
            config: self.clone(),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Sample {
    config: SampleConfig,
}

fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, Reject> {
    serde_json::to_value(value).map_err(|e| Reject::new("internal", e.to_string()))
}

impl Stage for Sample {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        Vec::new()
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("face", ColumnType::Json),
            ColumnDef::new("clock_time", ColumnType::Json),
            ColumnDef::new("scene", ColumnType::Json),
            ColumnDef::new("example_id", ColumnType::Str),
            ColumnDef::new("watchface_id", ColumnType::Str),
            ColumnDef::new("watchface_name", ColumnType::Str),
        ]
    }

    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject> {
        let mut face_key = record.key.clone();
        face_key.record_index /= self.config.examples_per_face;
        let face = FaceSpec::sample(face_key.derive(&format!("{}/face", cx.stage)));
        let time = ClockTime::sample(record.key.derive(&format!("{}/time", cx.stage)));
        let scene = self.config.pose.apply(SceneSpec::sample(
            record.key.derive(&format!("{}/scene", cx.stage)),
            self.config.image_size,
        ));
        let face_json = json(&face)?;
        let face_id = face.face_id();
        record.sources.push(SourceRef {
            kind: "procedural".into(),
            id: format!("watchface:{face_id}"),
            sha256: pixmo_core::sha256_hex(pixmo_core::canonical_json(&face_json).as_bytes()),
        });
        record.set("example_id", Value::Str(record.id.clone()));
        record.set("watchface_id", Value::Str(face_id));
        record.set("watchface_name", Value::Str(face.name()));
        record.set("face", Value::Json(face_json));
        record.set("clock_time", Value::Json(json(&time)?));
        record.set("scene", Value::Json(json(&scene)?));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upright_pose_removes_rotation_perspective_offset_and_crop_only() {
        let posed = (0..200)
            .map(|seed| SceneSpec::sample(seed, 448))
            .find(|s| s.rotation_deg.abs() > 10.0 && s.crop.is_some() && s.tilt_x_deg != 0.0)
            .expect("some natural scenes are rotated, tilted and cropped");
        let upright = Pose::Upright.apply(posed.clone());
        assert_eq!(
            (upright.rotation_deg, upright.tilt_x_deg, upright.tilt_y_deg),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(
            (upright.center, upright.watch_scale, upright.crop),
            ((0.5, 0.5), 1.0, None)
        );
        assert_eq!(upright.background, posed.background);
        assert_eq!(upright.noise, posed.noise);
        assert_eq!(Pose::Natural.apply(posed.clone()), posed);
        // The default pose is not written, so existing specs keep their hash.
        let config: SampleConfig = toml::from_str("").unwrap();
        assert_eq!(config.pose, Pose::Natural);
        assert!(!serde_json::to_string(&config).unwrap().contains("pose"));
        let config: SampleConfig = toml::from_str("pose = \"upright\"").unwrap();
        assert_eq!(config.pose, Pose::Upright);
    }
}
