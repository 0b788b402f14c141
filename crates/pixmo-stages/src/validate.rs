//! `image.validate`: PixMo-Docs' render gates, for any image.
//!
//! - What it does: rejects images whose smaller side is under `min_side`, whose aspect ratio
//!   exceeds `max_aspect`, or where one colour covers more than `max_dominant_fraction` of
//!   the pixels (blank or near-blank renders). Colours are quantized to 4 bits per channel;
//!   the colour limit may depend on a string column (`max_dominant_fraction_by`). With
//!   `dhash = true` also writes the image's 1024-bit difference hash, which the shard writer
//!   uses to reject near duplicates when `[output] near_duplicate_bits` is set.
//! - Inputs: `image: image` (and the `max_dominant_fraction_by` column, if set).
//! - Outputs: `dominant_fraction: f64`, and `image_dhash: bytes` when `dhash` is set.
//! - Failure modes: each gate rejects with its own kind: `too_small`, `bad_aspect`,
//!   `blank_image`.
//! - Cost: one pass over the pixels (~0.3 ms for 448²).

use std::sync::Arc;

use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use serde::{Deserialize, Serialize};

/// Config of `image.validate` (defaults are PixMo-Docs' gates).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateConfig {
    /// Smallest allowed side in pixels.
    #[serde(default = "default_min_side")]
    pub min_side: u32,
    /// Largest allowed ratio of the long side to the short side.
    #[serde(default = "default_max_aspect")]
    pub max_aspect: f64,
    /// Largest allowed share of the most common (quantized) colour.
    #[serde(default = "default_dominant")]
    pub max_dominant_fraction: f64,
    /// Other limits for some records, chosen by the value of a string column (PixMo-Docs
    /// used 0.98 or 0.99 for its sparse pipelines: circuits, music, chemistry, SVG).
    #[serde(default)]
    pub max_dominant_fraction_by: Option<DominantBy>,
    /// Write the image's difference hash (`image_dhash`) for `[output] near_duplicate_bits`.
    #[serde(default)]
    pub dhash: bool,
}

/// Per-record limits on the top colour's share.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DominantBy {
    /// A string column written by an earlier stage (`figure_category`).
    pub column: String,
    /// Limit per value of the column; other values use `max_dominant_fraction`.
    pub limits: std::collections::BTreeMap<String, f64>,
}

fn default_min_side() -> u32 {
    128
}
fn default_max_aspect() -> f64 {
    5.0
}
fn default_dominant() -> f64 {
    0.95
}

impl StageConfig for ValidateConfig {
    const KIND: &'static str = "image.validate";
    const SUMMARY: &'static str =
        "Reject images that are too small, too elongated or nearly one colour";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if !(0.0..=1.0).contains(&self.max_dominant_fraction) {
            return Err("`max_dominant_fraction` must be between 0 and 1".into());
        }
        if let Some(by) = &self.max_dominant_fraction_by
            && let Some((value, _)) = by.limits.iter().find(|(_, l)| !(0.0..=1.0).contains(*l))
        {
            return Err(format!(
                "`max_dominant_fraction_by` limit for `{value}` must be between 0 and 1"
            )
            .into());
        }
        if self.max_aspect < 1.0 {
            return Err("`max_aspect` must be at least 1".into());
        }
        Ok(Arc::new(Validate {
            config: self.clone(),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Validate {
    config: ValidateConfig,
}

/// Share of the most common colour, quantized to 4 bits per channel (alpha ignored).
#[must_use]
pub fn dominant_fraction(image: &pixmo_core::RgbaImage) -> f64 {
    let mut counts = vec![0u32; 4096];
    for p in image.data.chunks_exact(4) {
        let key =
            (usize::from(p[0] >> 4) << 8) | (usize::from(p[1] >> 4) << 4) | usize::from(p[2] >> 4);
        counts[key] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    let total = (image.data.len() / 4).max(1);
    #[allow(clippy::cast_precision_loss)]
    let fraction = f64::from(max) / total as f64;
    fraction
}

impl Stage for Validate {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        let mut inputs = vec![ColumnDef::new("image", ColumnType::Image)];
        if let Some(by) = &self.config.max_dominant_fraction_by {
            inputs.push(ColumnDef::new(&by.column, ColumnType::Str));
        }
        inputs
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        let mut outputs = vec![ColumnDef::new("dominant_fraction", ColumnType::F64)];
        if self.config.dhash {
            outputs.push(ColumnDef::new("image_dhash", ColumnType::Bytes));
        }
        outputs
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let image = record
            .image("image")
            .map_err(|m| Reject::new("missing_input", m))?;
        let (w, h) = (image.width, image.height);
        if w.min(h) < self.config.min_side {
            return Err(Reject::new(
                "too_small",
                format!(
                    "Image is {w}x{h}; the smaller side must be at least {}",
                    self.config.min_side
                ),
            ));
        }
        let aspect = f64::from(w.max(h)) / f64::from(w.min(h).max(1));
        if aspect > self.config.max_aspect {
            return Err(Reject::new(
                "bad_aspect",
                format!(
                    "Aspect ratio {aspect:.2} exceeds {}",
                    self.config.max_aspect
                ),
            ));
        }
        let limit = match &self.config.max_dominant_fraction_by {
            Some(by) => {
                let value = record
                    .str(&by.column)
                    .map_err(|m| Reject::new("missing_input", m))?;
                by.limits
                    .get(value)
                    .copied()
                    .unwrap_or(self.config.max_dominant_fraction)
            }
            None => self.config.max_dominant_fraction,
        };
        let fraction = dominant_fraction(image);
        if fraction > limit {
            return Err(Reject::new(
                "blank_image",
                format!(
                    "One colour covers {:.1} % of the image (limit {:.1} %)",
                    fraction * 100.0,
                    limit * 100.0
                ),
            ));
        }
        if self.config.dhash {
            let dhash = pixmo_core::dhash(image);
            record.set("image_dhash", Value::Bytes(Arc::new(dhash)));
        }
        record.set("dominant_fraction", Value::F64(fraction));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominant_fraction_counts_quantized_colours() {
        let mut data = vec![255u8; 10 * 10 * 4];
        for px in data.chunks_exact_mut(4).take(25) {
            px[0] = 0;
        }
        let image = pixmo_core::RgbaImage::new(10, 10, data).unwrap();
        assert!((dominant_fraction(&image) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn limits_can_depend_on_a_column() {
        // 96 % one colour: over the default 95 %, under a 98 % limit for `other`.
        let mut data = vec![255u8; 10 * 10 * 4];
        for px in data.chunks_exact_mut(4).take(4) {
            px[0] = 0;
        }
        let image = Arc::new(pixmo_core::RgbaImage::new(10, 10, data).unwrap());
        let mut config: ValidateConfig = toml::from_str(
            "min_side = 1\n[max_dominant_fraction_by]\ncolumn = \"category\"\nlimits = { other = 0.98 }",
        )
        .unwrap();
        let stage = config.build().unwrap();
        assert!(stage.inputs().iter().any(|c| c.name == "category"));
        let cx = StageContext {
            stage: "validate".into(),
            seed: 0,
        };
        let run = |category: &str| {
            let mut record = Record::new(pixmo_core::SeedKey {
                run_seed: 0,
                dataset: "docs".into(),
                split: "train".into(),
                record_index: 0,
            });
            record.set("image", Value::Image(Arc::clone(&image)));
            record.set("category", Value::Str(category.into()));
            stage.process(&mut record, &cx)
        };
        assert!(run("other").is_ok());
        assert_eq!(run("charts").unwrap_err().kind, "blank_image");
        config
            .max_dominant_fraction_by
            .as_mut()
            .unwrap()
            .limits
            .insert("x".into(), 2.0);
        assert!(config.build().is_err());
    }
}
