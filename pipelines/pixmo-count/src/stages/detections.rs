//! `count.detections`: one image that a detector's output made a counting example (or the
//! reason it did not), as typed columns.
//!
//! - What it does: the build's record source ([`crate::inputs`]) applies PixMo-Count's rule
//!   ([`crate::detections::apply_rule`]) with this stage's thresholds to the detections in
//!   `--from DIR`, draws the balanced splits and reads human verdicts; this stage turns one
//!   record of it into a row: the label, the box centres as points (pixels of the image,
//!   one decimal: PixMo-Count's unit, the detector's own), the detector in
//!   provenance (`models`: kind `detector`) with the detections file, and, for a verified
//!   image, a `verification` source naming the tool, task, annotator and time.
//! - Inputs: none (the record source).
//! - Outputs: `id`, `label` (str), `count` (i32), `points` (json list of `{x, y}`, pixels),
//!   `image_ref` (json: the image's entry in `images.json`), `input_root` (str), and
//!   `image_url` (str) for web images.
//! - Failure modes: every rejection the rule or the inputs make (`bad_detection`,
//!   `unknown_image`, `unknown_category`, `box_outside`, `duplicate_image`,
//!   `duplicate_category`, `duplicate_detection`, `bad_image`, `no_detections`, `count_out_of_range`), and
//!   `verifier_rejected` for a candidate a person rejected; `no_source` without `--from`.
//! - Cost: microseconds.

use std::sync::Arc;

use pixmo_annotation_schema::{ModelUse, SourceRef};
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use serde::{Deserialize, Serialize};

use crate::detections::CountRule;
use crate::inputs::RecordDescription;

/// Config of `count.detections`: every threshold of PixMo-Count's rule and of the balanced
/// sampling. The record source reads it from the spec, so it is part of the config hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionsConfig {
    /// Detections scoring below this are ignored (PixMo-Count: a strict threshold; the
    /// scale is the detector's own).
    pub score_threshold: f64,
    /// Fewest instances an image may keep (0 keeps nothing: an image needs a detection to
    /// have a label).
    #[serde(default = "default_min_count")]
    pub min_count: u32,
    /// Most instances an image may keep.
    #[serde(default = "default_max_count")]
    pub max_count: u32,
    /// Splits that hold `per_count` images of every count in
    /// `balanced_min_count..=balanced_max_count` (drawn in this order); every other image
    /// goes to the one remaining split of the spec.
    #[serde(default = "default_balanced_splits")]
    pub balanced_splits: Vec<String>,
    /// Fewest instances in the balanced splits.
    #[serde(default = "default_balanced_min")]
    pub balanced_min_count: u32,
    /// Most instances in the balanced splits.
    #[serde(default = "default_max_count")]
    pub balanced_max_count: u32,
    /// Images per count in each balanced split (PixMo-Count: 120 per count from 2 to 10).
    #[serde(default = "default_per_count")]
    pub per_count: u32,
    /// Seed of the balanced draw (the same seed picks the same images).
    #[serde(default)]
    pub sample_seed: u64,
    /// Verdict words that accept a candidate (Label Studio choice, CVAT tag).
    #[serde(default = "default_accept")]
    pub verdict_accept: Vec<String>,
    /// Verdict words that reject a candidate.
    #[serde(default = "default_reject")]
    pub verdict_reject: Vec<String>,
    /// Largest distance, pixels, at which a verified point is still the candidate's.
    #[serde(default = "default_tolerance")]
    pub verdict_tolerance_px: f64,
}

fn default_min_count() -> u32 {
    1
}
fn default_max_count() -> u32 {
    10
}
fn default_balanced_splits() -> Vec<String> {
    vec!["val".into(), "test".into()]
}
fn default_balanced_min() -> u32 {
    2
}
fn default_per_count() -> u32 {
    120
}
fn default_accept() -> Vec<String> {
    vec!["correct".into()]
}
fn default_reject() -> Vec<String> {
    vec!["wrong".into()]
}
fn default_tolerance() -> f64 {
    2.0
}

impl DetectionsConfig {
    /// The rule's thresholds.
    #[must_use]
    pub fn rule(&self) -> CountRule {
        CountRule {
            score_threshold: self.score_threshold,
            min_count: self.min_count,
            max_count: self.max_count,
        }
    }

    /// Checks the values.
    ///
    /// # Errors
    /// A message naming the bad value.
    pub fn check(&self) -> Result<(), String> {
        if !self.score_threshold.is_finite() {
            return Err("`score_threshold` must be a finite number".into());
        }
        if self.min_count == 0 {
            return Err(
                "`min_count` must be at least 1: an image without detections has no label to count"
                    .into(),
            );
        }
        if self.min_count > self.max_count {
            return Err(format!(
                "`min_count` {} is above `max_count` {}",
                self.min_count, self.max_count
            ));
        }
        if self.balanced_min_count < self.min_count
            || self.balanced_max_count > self.max_count
            || self.balanced_min_count > self.balanced_max_count
        {
            return Err(format!(
                "the balanced counts {}..={} must lie within `min_count..=max_count` ({}..={})",
                self.balanced_min_count, self.balanced_max_count, self.min_count, self.max_count
            ));
        }
        if self.per_count == 0 && !self.balanced_splits.is_empty() {
            return Err("`per_count` must be at least 1".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = self.balanced_splits.iter().find(|s| !seen.insert(*s)) {
            return Err(format!("`balanced_splits` names `{dup}` twice"));
        }
        if !(self.verdict_tolerance_px.is_finite() && self.verdict_tolerance_px >= 0.0) {
            return Err(
                "`verdict_tolerance_px` must be a finite number of pixels, 0 or more".into(),
            );
        }
        if self.verdict_accept.is_empty() || self.verdict_reject.is_empty() {
            return Err("`verdict_accept` and `verdict_reject` need a word each".into());
        }
        Ok(())
    }
}

impl StageConfig for DetectionsConfig {
    const KIND: &'static str = "count.detections";
    const SUMMARY: &'static str =
        "An image a detector's output made a counting example (PixMo-Count's rule), or why not";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        self.check().map_err(ConfigError::from)?;
        Ok(Arc::new(Detections))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Detections;

impl Stage for Detections {
    fn version(&self) -> &'static str {
        // 2: points in pixels (PixMo-Count's unit), not percent.
        "2"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        Vec::new()
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("id", ColumnType::Str),
            ColumnDef::new("label", ColumnType::Str),
            ColumnDef::new("count", ColumnType::I32),
            ColumnDef::new("points", ColumnType::Json),
            ColumnDef::new("image_ref", ColumnType::Json),
            ColumnDef::new("input_root", ColumnType::Str),
            ColumnDef::new("image_url", ColumnType::Str),
        ]
    }

    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject> {
        let Some(description) = record.source.clone() else {
            return Err(Reject::new(
                "no_source",
                "`count.detections` reads a detector's output: build with `pixmo build count-detections --from DIR`",
            ));
        };
        let description: RecordDescription = serde_json::from_value(description)
            .map_err(|e| Reject::new("no_source", format!("malformed record: {e}")))?;
        let example = match description {
            RecordDescription::Rejected { kind, message } => {
                return Err(Reject::new(&kind, message));
            }
            RecordDescription::Example(example) => example,
        };
        let points: Vec<serde_json::Value> = example
            .points
            .iter()
            .map(|p| serde_json::json!({ "x": p[0], "y": p[1] }))
            .collect();
        let count = i32::try_from(points.len())
            .map_err(|_| Reject::new("count_out_of_range", "too many points"))?;
        record.set("id", Value::Str(format!("count-{}", example.image_id)));
        record.set("label", Value::Str(example.label.clone()));
        record.set("count", Value::I32(count));
        record.set("points", Value::Json(serde_json::Value::Array(points)));
        record.set("input_root", Value::Str(example.root.clone()));
        if let Some(url) = &example.image.url {
            record.set("image_url", Value::Str(url.clone()));
        }
        record.set(
            "image_ref",
            Value::Json(serde_json::to_value(&example.image).unwrap_or_default()),
        );
        record.models.push(ModelUse {
            stage: cx.stage.clone(),
            kind: "detector".into(),
            name: example.detector.name.clone(),
            file_sha256: example.detector.sha256.clone(),
            prompt_template_id: None,
            prompt_template_sha256: None,
            parameters: Some(example.detector.parameters.clone()),
        });
        record
            .sources
            .extend(example.inputs.iter().map(|i| SourceRef {
                kind: i.kind.clone(),
                id: i.id.clone(),
                sha256: i.sha256.clone(),
            }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> DetectionsConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn bad_thresholds_fail_when_the_stage_is_built() {
        assert!(config("score_threshold = 0.5").build().is_ok());
        for (text, needle) in [
            ("score_threshold = nan", "finite"),
            ("score_threshold = 0.5\nmin_count = 0", "at least 1"),
            (
                "score_threshold = 0.5\nmin_count = 5\nmax_count = 3",
                "above",
            ),
            ("score_threshold = 0.5\nbalanced_max_count = 12", "within"),
            ("score_threshold = 0.5\nper_count = 0", "`per_count`"),
            (
                "score_threshold = 0.5\nbalanced_splits = [\"val\", \"val\"]",
                "twice",
            ),
            (
                "score_threshold = 0.5\nverdict_tolerance_px = -1.0",
                "tolerance",
            ),
        ] {
            let err = config(text).build().err().unwrap().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
        assert!(
            toml::from_str::<DetectionsConfig>("score_threshold = 0.5\nthreshold = 1").is_err()
        );
    }
}
