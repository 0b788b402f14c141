//! The value axis of a chart: the one its style gives when that fits the data, otherwise
//! one derived from the data.
//!
//! An LLM-written spec may come without an axis, or with one copied from elsewhere. Drawing
//! values outside the axis would put marks off the plot while the drawn-text list and the QA
//! trusted them, so an axis is only used when it covers everything drawn on it (bars and
//! areas from their zero baseline, stacked sums, whiskers, counts) and the data fill at least
//! [`MIN_FILL`] of it; otherwise [`ValueAxis::covering`] derives "nice" ticks (1, 2 or 5
//! times a power of ten) the way the procedural sampler does.

use crate::chart::cartesian::nice_step;
use crate::chart::spec::{BarMode, ChartBody, ChartSpec};

/// Least share of a given axis's span that the data must cover for the axis to be kept.
pub const MIN_FILL: f64 = 0.1;

/// Smallest span of a derived axis (all-zero or nearly constant data still get ticks that
/// print with at most four decimals).
const MIN_SPAN: f64 = 1e-3;

/// A value axis: from `lo` to `hi`, ticks at multiples of `step` (0: none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueAxis {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// Tick step; 0 draws no ticks.
    pub step: f64,
}

impl ValueAxis {
    /// A nice axis covering `lo..=hi` and zero, padded by 12 % as the procedural sampler
    /// pads, with about six intervals.
    #[must_use]
    pub fn covering(lo: f64, hi: f64) -> ValueAxis {
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let span = (hi - lo).max(MIN_SPAN);
        let step = nice_step(span * 1.12, 6.0);
        let pad = |v: f64| v * 1.12 / step;
        let top = if hi > 0.0 { pad(hi).ceil() * step } else { 0.0 };
        let bottom = if lo < 0.0 {
            pad(lo).floor() * step
        } else {
            0.0
        };
        // All-zero data: one step above zero.
        let top = if top <= bottom { bottom + step } else { top };
        ValueAxis {
            lo: bottom,
            hi: top,
            step,
        }
    }

    /// Whether `lo..=hi` lies on this axis and fills at least [`MIN_FILL`] of it.
    #[must_use]
    pub fn fits(&self, lo: f64, hi: f64) -> bool {
        self.lo <= lo && hi <= self.hi && (hi - lo) >= MIN_FILL * (self.hi - self.lo)
    }
}

/// Smallest and largest value drawn on the value axis, zero included (bars, areas and
/// histograms grow from it); `None` for charts without a value axis (pie, scatter, heat map).
#[must_use]
pub fn data_extent(spec: &ChartSpec) -> Option<(f64, f64)> {
    let mut lo = 0.0f64;
    let mut hi = 0.0f64;
    let mut take = |v: f64| {
        lo = lo.min(v);
        hi = hi.max(v);
    };
    match &spec.chart {
        ChartBody::Bar {
            mode: BarMode::Stacked,
            categories,
            series,
            ..
        }
        | ChartBody::Area {
            stacked: true,
            categories,
            series,
        } => {
            for c in 0..categories.len() {
                let mut sum = 0.0;
                for s in series {
                    sum += s.values.get(c).copied().unwrap_or(0.0);
                    take(sum);
                }
            }
        }
        ChartBody::Bar { series, .. }
        | ChartBody::Line { series, .. }
        | ChartBody::Area { series, .. } => {
            series.iter().flat_map(|s| &s.values).for_each(|v| take(*v));
        }
        ChartBody::Histogram { counts, .. } => counts.iter().for_each(|n| take(*n as f64)),
        ChartBody::Box { boxes } => boxes.iter().for_each(|b| {
            take(b.min);
            take(b.max);
        }),
        ChartBody::Scatter { .. } | ChartBody::Pie { .. } | ChartBody::Heatmap { .. } => {
            return None;
        }
    }
    Some((lo, hi))
}

impl ChartSpec {
    /// The value axis this chart is drawn with: the style's (`value_min`, default 0, to
    /// `value_max`, ticks every `tick_step`) when both ends and the step are given and it
    /// [fits](ValueAxis::fits) the data, else one [derived](ValueAxis::covering) from the
    /// data. `None` for charts without a value axis.
    #[must_use]
    pub fn value_axis(&self) -> Option<ValueAxis> {
        let (lo, hi) = data_extent(self)?;
        let style = &self.style;
        let given = match (style.value_max, style.tick_step) {
            (Some(top), Some(step)) => Some(ValueAxis {
                lo: style.value_min.unwrap_or(0.0),
                hi: top,
                step,
            }),
            _ => None,
        };
        Some(
            given
                .filter(|axis| axis.fits(lo, hi))
                .unwrap_or_else(|| ValueAxis::covering(lo, hi)),
        )
    }

    /// Writes [`ChartSpec::value_axis`] into the style, so the spec states the axis it is
    /// drawn with (`value_min` only when it is not 0). Charts without a value axis are left
    /// as they are.
    pub fn resolve_value_axis(&mut self) {
        let Some(axis) = self.value_axis() else {
            return;
        };
        let style = &mut self.style;
        style.value_min = (axis.lo != 0.0).then_some(axis.lo);
        style.value_max = Some(axis.hi);
        style.tick_step = Some(axis.step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_axes_cover_the_data_with_few_ticks() {
        for (lo, hi) in [
            (0.0, 0.0),
            (0.0, 1e-300),
            (0.0, 7.3),
            (-3.2, 0.0),
            (-41.0, 977.0),
            (0.0, 1e9),
            (-1.2e10, 1.2e10),
        ] {
            let axis = ValueAxis::covering(lo, hi);
            assert!(axis.lo <= lo.min(0.0) && axis.hi >= hi.max(0.0), "{axis:?}");
            assert!(axis.hi > axis.lo && axis.step > 0.0, "{axis:?}");
            let intervals = (axis.hi - axis.lo) / axis.step;
            assert!((1.0..=10.0 + 1e-9).contains(&intervals), "{axis:?}");
            assert!(axis.fits(lo.min(0.0), hi.max(0.0)) || hi - lo < MIN_SPAN);
        }
    }

    #[test]
    fn an_axis_fits_only_data_inside_that_fill_a_tenth() {
        let axis = ValueAxis {
            lo: 0.0,
            hi: 100.0,
            step: 20.0,
        };
        assert!(axis.fits(0.0, 90.0));
        assert!(!axis.fits(0.0, 100.5));
        assert!(!axis.fits(-1.0, 50.0));
        assert!(!axis.fits(0.0, 5.0));
    }
}
