//! Molmo's pointing, counting and clock-reading evaluations, on anyone's model answers.
//!
//! The scoring rules are in [`pointing`], [`count`] and [`clock`]; [`hungarian`] is the
//! optimal matching, [`mask`] COCO run-length masks. The `evaluate_*` functions read JSON
//! Lines (format in [`files`] and below) and return a summary that serialises to JSON; this
//! is `pixmo eval points|count|clocks PREDICTIONS GOLD`.
//!
//! Predictions, for every task: `{"id": "…", "answer": "the model's text"}`.
//!
//! Gold:
//! - points: `{"id", "width", "height", "points": [{"x": …, "y": …}, …], "unit": "percent"
//!   | "pixels" (default percent), "masks": [COCO RLE, …] (optional, one per point)}`; no
//!   points means "not present";
//! - count: `{"id", "count": N}`;
//! - clocks: `{"id", "hour", "minute", "second"}` with `-1` for a component the face does
//!   not show (Molmo's metadata), or a PixMo-Clocks row (`example_id`, `watch_time`
//!   `HH:MM:SS`, `hour_visible`, `minute_visible`, `second_visible`).

pub mod clock;
pub mod count;
pub mod files;
pub mod hungarian;
pub mod mask;
pub mod pointing;

use std::collections::BTreeMap;
use std::path::Path;

use pixmo_points::{ImageSize, Percent, Pixel};
use serde::Serialize;
use serde_json::Value;

use files::Line;
pub use files::{Error, Result};
use mask::{Mask, RleJson};
use pointing::{PointsGold, Tolerance};

fn rate(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// Summary of a pointing evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct PointsSummary {
    /// Examples scored.
    pub examples: usize,
    /// Examples with at least one gold point.
    pub with_target: usize,
    /// "Not present" examples (no gold point).
    pub not_present: usize,
    /// Mean precision over all examples (Molmo's figure; "not present" ones count 1 or 0).
    pub precision: f64,
    /// Mean recall over all examples.
    pub recall: f64,
    /// Mean F1 over all examples.
    pub f1: f64,
    /// Mean F1 over the examples with a target.
    pub f1_with_target: f64,
    /// Share of "not present" examples answered with no point.
    pub not_present_accuracy: Option<f64>,
    /// Predicted points over all examples.
    pub predicted_points: usize,
    /// Gold points over all examples.
    pub gold_points: usize,
    /// Correct matched predictions over all examples.
    pub correct_points: usize,
    /// Examples with a target whose answer gave no readable point.
    pub answers_without_points: usize,
    /// Coordinates in answers that could not be read (cut off, out of range, unpaired).
    pub dropped_coordinates: usize,
    /// Examples whose gold has masks (the others use `tolerance`).
    pub examples_with_masks: usize,
    /// Distance allowed where the gold has no masks.
    pub tolerance: String,
}

fn read_point(
    line: &Line,
    i: usize,
    value: &Value,
    pixels: bool,
    size: ImageSize,
) -> Result<Pixel> {
    let (x, y) = match value {
        Value::Object(o) => (o.get("x"), o.get("y")),
        Value::Array(a) if a.len() == 2 => (a.first(), a.get(1)),
        _ => (None, None),
    };
    let (Some(x), Some(y)) = (x.and_then(Value::as_f64), y.and_then(Value::as_f64)) else {
        return Err(line.invalid(format!(
            "point {i} must be {{\"x\": number, \"y\": number}} or [x, y], not {value}"
        )));
    };
    let point = if pixels {
        Pixel::new(x, y, size)
    } else {
        Percent::new(x, y).map(|p| p.to_pixels(size))
    };
    point.map_err(|e| {
        // A pixel point read as percent (PixMo-Count rows store pixels): say so.
        let hint = if !pixels && Pixel::new(x, y, size).is_ok() {
            " (PixMo-Count rows store pixels: give the line \"unit\": \"pixels\")"
        } else {
            ""
        };
        line.invalid(format!("point {i}: {e}{hint}"))
    })
}

fn points_gold(line: &Line) -> Result<PointsGold> {
    let side = |name: &str| -> Result<u32> {
        let v = line.u64_field(name)?;
        u32::try_from(v).map_err(|_| line.invalid(format!("`{name}` {v} is too large")))
    };
    let size =
        ImageSize::new(side("width")?, side("height")?).map_err(|e| line.invalid(e.to_string()))?;
    let pixels = match line.fields.get("unit") {
        None | Some(Value::Null) => false,
        Some(Value::String(u)) if u == "percent" => false,
        Some(Value::String(u)) if u == "pixels" => true,
        Some(other) => {
            return Err(line.invalid(format!(
                "`unit` must be \"percent\" or \"pixels\", not {other}"
            )));
        }
    };
    let Value::Array(raw) = line.field("points")? else {
        return Err(line.invalid("`points` must be a list"));
    };
    let points = raw
        .iter()
        .enumerate()
        .map(|(i, v)| read_point(line, i, v, pixels, size))
        .collect::<Result<Vec<_>>>()?;
    let masks = match line.fields.get("masks") {
        None | Some(Value::Null) => None,
        Some(Value::Array(raw)) => {
            if raw.len() != points.len() {
                return Err(line.invalid(format!(
                    "{} masks for {} points: give one mask per point",
                    raw.len(),
                    points.len()
                )));
            }
            let mut masks = Vec::with_capacity(raw.len());
            for (i, v) in raw.iter().enumerate() {
                let rle: RleJson = serde_json::from_value(v.clone()).map_err(|e| {
                    line.invalid(format!(
                        "mask {i} is not COCO RLE ({{\"size\": [h, w], \"counts\": …}}): {e}"
                    ))
                })?;
                let mask =
                    Mask::from_json(&rle).map_err(|e| line.invalid(format!("mask {i}: {e}")))?;
                if (mask.width(), mask.height()) != (size.width(), size.height()) {
                    return Err(line.invalid(format!(
                        "mask {i} is {}x{}, the image {}x{}",
                        mask.width(),
                        mask.height(),
                        size.width(),
                        size.height()
                    )));
                }
                masks.push(mask);
            }
            Some(masks)
        }
        Some(other) => return Err(line.invalid(format!("`masks` must be a list, not {other}"))),
    };
    Ok(PointsGold {
        size,
        points,
        masks,
    })
}

/// Scores pointing answers against gold points (and masks).
///
/// # Errors
/// Unreadable or malformed files, or ids that do not pair up ([`files::join`]).
pub fn evaluate_points(
    predictions: &Path,
    gold: &Path,
    tolerance: Tolerance,
) -> Result<PointsSummary> {
    let pairs = files::join(predictions, gold)?;
    let mut s = PointsSummary {
        examples: pairs.len(),
        with_target: 0,
        not_present: 0,
        precision: 0.0,
        recall: 0.0,
        f1: 0.0,
        f1_with_target: 0.0,
        not_present_accuracy: None,
        predicted_points: 0,
        gold_points: 0,
        correct_points: 0,
        answers_without_points: 0,
        dropped_coordinates: 0,
        examples_with_masks: 0,
        tolerance: tolerance.to_string(),
    };
    let (mut f1_target, mut not_present_right) = (0.0, 0usize);
    for (line, answer) in &pairs {
        let g = points_gold(line)?;
        let tags = pixmo_points::parse_tags(answer);
        s.dropped_coordinates += tags.iter().map(|t| t.dropped).sum::<usize>();
        let predicted: Vec<Percent> = tags.into_iter().flat_map(|t| t.points).collect();
        let score = pointing::score_points(&predicted, &g, tolerance);
        s.precision += score.precision;
        s.recall += score.recall;
        s.f1 += score.f1;
        s.predicted_points += score.predicted;
        s.gold_points += score.gold;
        s.correct_points += score.correct;
        s.examples_with_masks += usize::from(g.masks.is_some());
        if g.points.is_empty() {
            s.not_present += 1;
            not_present_right += usize::from(score.f1 == 1.0);
        } else {
            s.with_target += 1;
            f1_target += score.f1;
            s.answers_without_points += usize::from(predicted.is_empty());
        }
    }
    let n = s.examples as f64;
    s.precision /= n;
    s.recall /= n;
    s.f1 /= n;
    s.f1_with_target = if s.with_target == 0 {
        0.0
    } else {
        f1_target / s.with_target as f64
    };
    s.not_present_accuracy = (s.not_present > 0).then(|| rate(not_present_right, s.not_present));
    Ok(s)
}

/// Exact and within-one counts of one group of examples.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CountGroup {
    /// Examples.
    pub examples: usize,
    /// Share counted exactly.
    pub exact: f64,
    /// Share counted within one.
    pub close: f64,
}

/// Summary of a counting evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct CountSummary {
    /// Examples scored.
    pub examples: usize,
    /// Share counted exactly (Molmo's `correct`).
    pub exact: f64,
    /// Share within one (Molmo's `close`).
    pub close: f64,
    /// Share of answers that gave a count (Molmo's `valid`).
    pub valid: f64,
    /// The same per gold count (PixMo-Count's val/test hold 120 images per count 2–10).
    pub by_count: BTreeMap<u64, CountGroup>,
}

/// Scores counting answers against gold counts.
///
/// # Errors
/// Unreadable or malformed files, or ids that do not pair up ([`files::join`]).
pub fn evaluate_count(predictions: &Path, gold: &Path) -> Result<CountSummary> {
    let pairs = files::join(predictions, gold)?;
    let (mut exact, mut close, mut valid) = (0, 0, 0);
    let mut groups: BTreeMap<u64, (usize, usize, usize)> = BTreeMap::new();
    for (line, answer) in &pairs {
        let truth = line.u64_field("count")?;
        let score = count::score_count(answer, truth);
        exact += usize::from(score.exact);
        close += usize::from(score.close);
        valid += usize::from(score.valid);
        let g = groups.entry(truth).or_default();
        g.0 += 1;
        g.1 += usize::from(score.exact);
        g.2 += usize::from(score.close);
    }
    let n = pairs.len();
    Ok(CountSummary {
        examples: n,
        exact: rate(exact, n),
        close: rate(close, n),
        valid: rate(valid, n),
        by_count: groups
            .into_iter()
            .map(|(k, (n, e, c))| {
                (
                    k,
                    CountGroup {
                        examples: n,
                        exact: rate(e, n),
                        close: rate(c, n),
                    },
                )
            })
            .collect(),
    })
}

/// Summary of a clock-reading evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct ClockSummary {
    /// Examples scored.
    pub examples: usize,
    /// Examples showing at least one hand.
    pub answerable: usize,
    /// Share of answerable clocks read exactly.
    pub exact: f64,
    /// Share of answerable clocks read within `close_minutes`.
    pub close: f64,
    /// Share of answerable clocks whose hour was right.
    pub hour: f64,
    /// Share of answerable clocks with a readable time in the answer.
    pub valid: f64,
    /// Examples showing no hand.
    pub unanswerable: usize,
    /// Share of those the model declined (no `:` in the answer).
    pub correctly_declines: Option<f64>,
    /// Tolerance of `close`, in minutes.
    pub close_minutes: u32,
}

fn clock_gold(line: &Line) -> Result<clock::ClockGold> {
    if let Some(time) = line.fields.get("watch_time") {
        let text = time
            .as_str()
            .ok_or_else(|| line.invalid(format!("`watch_time` must be a string, not {time}")))?;
        let parts: Vec<u32> = text.split(':').filter_map(|p| p.parse().ok()).collect();
        let [h, m, s] = parts[..] else {
            return Err(line.invalid(format!("`watch_time` `{text}` is not HH:MM:SS")));
        };
        let shown = |name: &str, default: bool| -> Result<bool> {
            match line.fields.get(name) {
                None => Ok(default),
                Some(v) => v
                    .as_i64()
                    .map(|v| v != 0)
                    .ok_or_else(|| line.invalid(format!("`{name}` must be 0 or 1, not {v}"))),
            }
        };
        let shows_seconds = line
            .fields
            .get("shows_seconds")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        return Ok(clock::ClockGold {
            hour: shown("hour_visible", true)?.then_some(h),
            minute: shown("minute_visible", true)?.then_some(m),
            second: shown("second_visible", shows_seconds)?.then_some(s),
        });
    }
    let component = |name: &str, max: i64| -> Result<Option<u32>> {
        let v = line.field(name)?;
        match v.as_i64() {
            Some(-1) => Ok(None),
            Some(x) if (0..max).contains(&x) => Ok(u32::try_from(x).ok()),
            _ => Err(line.invalid(format!(
                "`{name}` must be -1 (not visible) or 0–{}, not {v}",
                max - 1
            ))),
        }
    };
    Ok(clock::ClockGold {
        hour: component("hour", 24)?,
        minute: component("minute", 60)?,
        second: component("second", 60)?,
    })
}

/// Scores clock-reading answers.
///
/// # Errors
/// Unreadable or malformed files, or ids that do not pair up ([`files::join`]).
pub fn evaluate_clocks(
    predictions: &Path,
    gold: &Path,
    close_minutes: u32,
) -> Result<ClockSummary> {
    let pairs = files::join(predictions, gold)?;
    let (mut answerable, mut exact, mut close, mut hour, mut valid) = (0, 0, 0, 0, 0);
    let (mut unanswerable, mut declined) = (0, 0);
    for (line, answer) in &pairs {
        let g = clock_gold(line)?;
        let s = clock::score_clock(answer, g, close_minutes);
        if s.answerable {
            answerable += 1;
            exact += usize::from(s.exact);
            close += usize::from(s.close);
            hour += usize::from(s.hour);
            valid += usize::from(s.valid);
        } else {
            unanswerable += 1;
            declined += usize::from(s.exact);
        }
    }
    Ok(ClockSummary {
        examples: pairs.len(),
        answerable,
        exact: rate(exact, answerable),
        close: rate(close, answerable),
        hour: rate(hour, answerable),
        valid: rate(valid, answerable),
        unanswerable,
        correctly_declines: (unanswerable > 0).then(|| rate(declined, unanswerable)),
        close_minutes,
    })
}
