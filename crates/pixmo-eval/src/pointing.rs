//! Pointing answers, scored as Molmo's `PointingEval` does (PIXMO_DATA.md §8): predicted
//! points are matched one-to-one to gold points by a minimum-total-distance (Hungarian)
//! assignment; a matched prediction is correct when it lies inside its gold instance's mask,
//! or, where the gold has no masks, within a stated distance of its gold point. Precision =
//! correct / predicted, recall = correct / gold, F1 their harmonic mean (0 when both are 0).
//! A "not present" example (no gold points) scores 1 on all three when the answer points at
//! nothing and 0 otherwise.

use std::fmt;
use std::str::FromStr;

use pixmo_points::{ImageSize, Percent, Pixel};

use crate::hungarian::min_cost_assignment;
use crate::mask::Mask;

/// How far a prediction may be from its gold point when the gold has no masks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tolerance {
    /// A distance in pixels (`12px`).
    Pixels(f64),
    /// A percentage of the image diagonal (`5%`).
    DiagonalPercent(f64),
}

impl Tolerance {
    /// The distance in pixels for an image of `size`.
    #[must_use]
    pub fn pixels(self, size: ImageSize) -> f64 {
        match self {
            Tolerance::Pixels(px) => px,
            Tolerance::DiagonalPercent(pc) => size.diagonal() * pc / 100.0,
        }
    }
}

impl Default for Tolerance {
    /// 5 % of the image diagonal.
    fn default() -> Tolerance {
        Tolerance::DiagonalPercent(5.0)
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tolerance::Pixels(px) => write!(f, "{px}px"),
            Tolerance::DiagonalPercent(pc) => write!(f, "{pc}%"),
        }
    }
}

impl FromStr for Tolerance {
    type Err = String;

    /// `12px` (pixels) or `5%` (of the image diagonal); positive and finite.
    fn from_str(s: &str) -> Result<Tolerance, String> {
        let s = s.trim();
        let (number, make): (&str, fn(f64) -> Tolerance) = if let Some(n) = s.strip_suffix("px") {
            (n, Tolerance::Pixels)
        } else if let Some(n) = s.strip_suffix('%') {
            (n, Tolerance::DiagonalPercent)
        } else {
            return Err(format!(
                "distance `{s}` needs a unit: `12px` (pixels) or `5%` (of the image diagonal)"
            ));
        };
        match number.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(make(v)),
            _ => Err(format!("distance `{s}` is not a positive number")),
        }
    }
}

/// The gold of one pointing example.
#[derive(Clone, Debug)]
pub struct PointsGold {
    /// The image's size.
    pub size: ImageSize,
    /// Every instance's point, in pixels.
    pub points: Vec<Pixel>,
    /// Every instance's mask, in the order of `points`, when the gold has masks.
    pub masks: Option<Vec<Mask>>,
}

/// Scores of one pointing answer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PointScore {
    /// Points the answer gave.
    pub predicted: usize,
    /// Gold points.
    pub gold: usize,
    /// Matched predictions that are correct.
    pub correct: usize,
    /// `correct / predicted` (see the module docs for the edge cases).
    pub precision: f64,
    /// `correct / gold`.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// Scores predicted points (percent of the image) against the gold.
#[must_use]
pub fn score_points(predicted: &[Percent], gold: &PointsGold, tolerance: Tolerance) -> PointScore {
    let predicted_px: Vec<Pixel> = predicted.iter().map(|p| p.to_pixels(gold.size)).collect();
    let (n_pred, n_gold) = (predicted_px.len(), gold.points.len());
    if n_gold == 0 {
        let right = f64::from(u8::from(n_pred == 0));
        return PointScore {
            predicted: n_pred,
            gold: 0,
            correct: 0,
            precision: right,
            recall: right,
            f1: right,
        };
    }
    let limit = tolerance.pixels(gold.size);
    let pairs = min_cost_assignment(n_pred, n_gold, |p, g| {
        predicted_px[p].distance(gold.points[g])
    });
    let correct = pairs
        .iter()
        .filter(|&&(p, g)| match &gold.masks {
            Some(masks) => masks[g].contains(predicted_px[p]),
            None => predicted_px[p].distance(gold.points[g]) <= limit,
        })
        .count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (precision, recall) = (ratio(correct, n_pred), ratio(correct, n_gold));
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    PointScore {
        predicted: n_pred,
        gold: n_gold,
        correct,
        precision,
        recall,
        f1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size() -> ImageSize {
        ImageSize::new(100, 100).unwrap()
    }

    fn px(x: f64, y: f64) -> Pixel {
        Pixel::new(x, y, size()).unwrap()
    }

    fn pc(x: f64, y: f64) -> Percent {
        Percent::new(x, y).unwrap()
    }

    fn square(x0: u32, y0: u32, side: u32) -> Mask {
        Mask::from_bitmap(100, 100, |x, y| {
            (x0..x0 + side).contains(&x) && (y0..y0 + side).contains(&y)
        })
    }

    #[test]
    fn not_present_scores_one_only_for_no_points() {
        let gold = PointsGold {
            size: size(),
            points: vec![],
            masks: None,
        };
        let none = score_points(&[], &gold, Tolerance::default());
        assert_eq!((none.precision, none.recall, none.f1), (1.0, 1.0, 1.0));
        let some = score_points(&[pc(5.0, 5.0)], &gold, Tolerance::default());
        assert_eq!((some.precision, some.recall, some.f1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn masks_decide_correctness_after_distance_matching() {
        // Two instances: a large square around (30, 30) and a small one at (70, 70).
        let gold = PointsGold {
            size: size(),
            points: vec![px(30.0, 30.0), px(71.0, 71.0)],
            masks: Some(vec![square(10, 10, 40), square(70, 70, 3)]),
        };
        // Both predictions fall in the big square; matching by distance sends the one at
        // (48, 48) to the small instance, where it is wrong.
        let s = score_points(
            &[pc(20.0, 20.0), pc(48.0, 48.0)],
            &gold,
            Tolerance::default(),
        );
        assert_eq!((s.correct, s.predicted, s.gold), (1, 2, 2));
        assert_eq!((s.precision, s.recall, s.f1), (0.5, 0.5, 0.5));
        // Three predictions for two instances: precision pays for the extra one.
        let s = score_points(
            &[pc(20.0, 20.0), pc(71.5, 71.5), pc(90.0, 5.0)],
            &gold,
            Tolerance::default(),
        );
        assert_eq!(s.correct, 2);
        assert!((s.precision - 2.0 / 3.0).abs() < 1e-12 && s.recall == 1.0);
        assert!((s.f1 - 0.8).abs() < 1e-12);
        let s = score_points(&[], &gold, Tolerance::default());
        assert_eq!((s.precision, s.recall, s.f1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn without_masks_the_stated_distance_decides() {
        let gold = PointsGold {
            size: size(),
            points: vec![px(50.0, 50.0)],
            masks: None,
        };
        let near = [pc(53.0, 54.0)]; // 5 px away
        assert_eq!(
            score_points(&near, &gold, Tolerance::Pixels(5.0)).correct,
            1
        );
        assert_eq!(
            score_points(&near, &gold, Tolerance::Pixels(4.9)).correct,
            0
        );
        // 5 % of a 141.4 px diagonal is 7.07 px.
        assert_eq!(score_points(&near, &gold, Tolerance::default()).correct, 1);
        assert_eq!(
            score_points(&[pc(56.0, 56.0)], &gold, Tolerance::default()).correct,
            0
        );
    }

    #[test]
    fn tolerances_parse_with_units() {
        assert_eq!("12px".parse::<Tolerance>(), Ok(Tolerance::Pixels(12.0)));
        assert_eq!(
            " 2.5% ".parse::<Tolerance>(),
            Ok(Tolerance::DiagonalPercent(2.5))
        );
        assert!(
            "12".parse::<Tolerance>()
                .unwrap_err()
                .contains("needs a unit")
        );
        assert!("-1px".parse::<Tolerance>().is_err());
        assert!("NaN%".parse::<Tolerance>().is_err());
        assert_eq!(Tolerance::default().to_string(), "5%");
    }
}
