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
    /// and crops), `upright` (facing the camera, unrotated, centred and filling the image;
    /// background, lighting, blur and noise still vary), or upright but for one of natural's
    /// parts (`rotation`, `perspective`, `framing`), for a curriculum or a measure of what
    /// each part of the pose costs a model. Left out of the spec's hash when `natural`.
    #[serde(default, skip_serializing_if = "Pose::is_natural")]
    pub pose: Pose,
    /// How much of the pose's natural parts to keep, 0 to 1: rotation and tilt angles are
    /// scaled by it, the watch's size and offset and the crop box move from upright's toward
    /// the drawn ones (0 is upright, 1 the pose as drawn): a curriculum widens it step by
    /// step. Left out of the spec's hash when 1.
    #[serde(default = "full_strength", skip_serializing_if = "is_full_strength")]
    pub pose_strength: f32,
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
    /// Upright but for natural's in-plane rotation.
    Rotation,
    /// Upright but for natural's perspective (the watch tilted away from the camera).
    Perspective,
    /// Upright but for natural's framing: the watch's size and offset in the image, and
    /// the crops.
    Framing,
}

impl Pose {
    fn is_natural(&self) -> bool {
        *self == Pose::Natural
    }

    /// `scene` in this pose.
    #[must_use]
    pub fn apply(self, mut scene: SceneSpec) -> SceneSpec {
        if self == Pose::Natural {
            return scene;
        }
        if self != Pose::Framing {
            scene.watch_scale = 1.0;
            scene.center = (0.5, 0.5);
            scene.crop = None;
        }
        if self != Pose::Rotation {
            scene.rotation_deg = 0.0;
        }
        if self != Pose::Perspective {
            scene.tilt_x_deg = 0.0;
            scene.tilt_y_deg = 0.0;
        }
        scene
    }
}

fn full_strength() -> f32 {
    1.0
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` wants a reference
fn is_full_strength(strength: &f32) -> bool {
    *strength == 1.0
}

/// `scene` (drawn for a `size` px image) with its pose moved from upright toward the drawn
/// one by `strength` (see [`SampleConfig::pose_strength`]).
#[must_use]
pub fn scale_pose(mut scene: SceneSpec, strength: f32, size: u32) -> SceneSpec {
    if strength >= 1.0 {
        return scene;
    }
    if strength <= 0.0 {
        return Pose::Upright.apply(scene);
    }
    let toward = |upright: f32, drawn: f32| upright + strength * (drawn - upright);
    scene.watch_scale = toward(1.0, scene.watch_scale);
    scene.center = (toward(0.5, scene.center.0), toward(0.5, scene.center.1));
    scene.rotation_deg *= strength;
    scene.tilt_x_deg *= strength;
    scene.tilt_y_deg *= strength;
    // The box moves from the whole image toward the drawn crop; the dial centre's place in
    // it stays between the centre and its drawn place, so inside the drawn margins.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let shrink = |start: u32, len: u32| {
        let start = (strength * start as f32).floor() as u32;
        let len = toward(size as f32, len as f32).round() as u32;
        (start, len.min(size - start))
    };
    scene.crop = scene.crop.map(|c| {
        let (x, width) = shrink(c.x, c.width);
        let (y, height) = shrink(c.y, c.height);
        pixmo_gen_clock::Crop {
            x,
            y,
            width,
            height,
        }
    });
    scene
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
        if !(0.0..=1.0).contains(&self.pose_strength) {
            return Err(format!(
                "`pose_strength` is {}; it must be between 0 (upright) and 1 (the pose as drawn)",
                self.pose_strength
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
        let scene = scale_pose(scene, self.config.pose_strength, self.config.image_size);
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

    #[test]
    fn each_partial_pose_keeps_exactly_its_part_of_the_natural_pose() {
        let posed = (0..200)
            .map(|seed| SceneSpec::sample(seed, 448))
            .find(|s| {
                s.rotation_deg.abs() > 10.0
                    && s.crop.is_some()
                    && s.tilt_x_deg != 0.0
                    && s.center != (0.5, 0.5)
                    && s.watch_scale != 1.0
            })
            .expect("some natural scenes are rotated, tilted, moved, scaled and cropped");
        let upright = Pose::Upright.apply(posed.clone());
        let parts = |s: &SceneSpec| {
            (
                s.rotation_deg,
                (s.tilt_x_deg, s.tilt_y_deg),
                (s.center, s.watch_scale, s.crop),
            )
        };
        let (rot, tilt, frame) = parts(&posed);
        let (rot0, tilt0, frame0) = parts(&upright);
        for (pose, want) in [
            (Pose::Rotation, (rot, tilt0, frame0)),
            (Pose::Perspective, (rot0, tilt, frame0)),
            (Pose::Framing, (rot0, tilt0, frame)),
        ] {
            let scene = pose.apply(posed.clone());
            assert_eq!(parts(&scene), want, "{pose:?}");
            assert_eq!(scene.background, posed.background, "{pose:?}");
            let name = serde_json::to_string(&pose).unwrap();
            let config: SampleConfig = toml::from_str(&format!("pose = {name}")).unwrap();
            assert_eq!(config.pose, pose);
        }
        assert!(toml::from_str::<SampleConfig>("pose = \"sideways\"").is_err());
    }

    #[test]
    fn pose_strength_moves_the_pose_from_upright_toward_the_drawn_one() {
        let size = 448;
        let cropped: Vec<SceneSpec> = (0..400)
            .map(|seed| SceneSpec::sample(seed, size))
            .filter(|s| s.crop.is_some() && s.tilt_x_deg != 0.0)
            .collect();
        assert!(cropped.len() > 20);
        for posed in &cropped {
            assert_eq!(&scale_pose(posed.clone(), 1.0, size), posed);
            let upright = Pose::Upright.apply(posed.clone());
            assert_eq!(scale_pose(posed.clone(), 0.0, size), upright);
            let half = scale_pose(posed.clone(), 0.5, size);
            assert_eq!(half.rotation_deg, posed.rotation_deg / 2.0);
            assert_eq!(half.tilt_x_deg, posed.tilt_x_deg / 2.0);
            assert!((half.watch_scale - (1.0 + posed.watch_scale) / 2.0).abs() < 1e-6);
            assert!((half.center.0 - (0.5 + posed.center.0) / 2.0).abs() < 1e-6);
            assert_eq!(half.background, posed.background);
            // The crop lies between the whole image and the drawn crop, inside the image,
            // and keeps the dial centre at least 15 % (less a pixel's rounding) from its edges.
            let (c, h) = (posed.crop.unwrap(), half.crop.unwrap());
            assert!(h.x <= c.x && h.y <= c.y && h.width >= c.width && h.height >= c.height);
            assert!(h.x + h.width <= size && h.y + h.height <= size);
            // Halfway between the whole image and the drawn crop, to a pixel's rounding.
            let s = size as f32;
            let halfway = |got: u32, whole: f32, drawn: u32| {
                (got as f32 - (whole + drawn as f32) / 2.0).abs() <= 1.0
            };
            assert!(
                halfway(h.x, 0.0, c.x) && halfway(h.y, 0.0, c.y),
                "{h:?} {c:?}"
            );
            assert!(halfway(h.width, s, c.width) && halfway(h.height, s, c.height));
            for (centre, start, len) in [
                (half.center.0 * s, h.x, h.width),
                (half.center.1 * s, h.y, h.height),
            ] {
                let place = (centre - start as f32) / len as f32;
                assert!(
                    (0.15 - 2.0 / s..=0.85 + 2.0 / s).contains(&place),
                    "{place}"
                );
            }
        }
        for bad in ["-0.1", "1.5", "nan"] {
            let config: SampleConfig = toml::from_str(&format!("pose_strength = {bad}")).unwrap();
            assert!(config.build().is_err(), "{bad}");
        }
        // Full strength is not written, so existing specs keep their hash.
        let config: SampleConfig = toml::from_str("pose_strength = 1.0").unwrap();
        assert!(!serde_json::to_string(&config).unwrap().contains("strength"));
    }
}
