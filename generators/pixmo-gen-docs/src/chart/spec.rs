//! The chart spec: what the `code` column of a chart holds, as JSON.
//!
//! In procedural mode the sampler writes it; in LLM mode an LLM would. Either way it is
//! untrusted input to the renderer, so [`ChartSpec::validate`] bounds every size (canvas,
//! series, points, label lengths) and every number (finite, at most [`MAX_MAGNITUDE`])
//! before anything is drawn. A spec names no files: fonts and palettes are closed enums or
//! inline colours.
//!
//! The value axis belongs to the spec: a style's `value_min`/`value_max`/`tick_step` are used
//! when they cover the data; when they are absent, or the data leave them (values above the
//! axis, or filling less than a tenth of it), the axis is derived from the data
//! ([`ChartSpec::value_axis`]), and [`ChartSpec::from_json`] writes the axis it will draw into
//! the spec it returns.

use serde::{Deserialize, Serialize};

use crate::error::{Result, invalid};
use crate::fonts::FontChoice;
use crate::style::HexColor;

/// Smallest canvas side.
pub const MIN_SIDE: u32 = 128;
/// Largest canvas side.
pub const MAX_SIDE: u32 = 2048;
/// Most series in one chart.
pub const MAX_SERIES: usize = 12;
/// Most categories, slices, bins, boxes, points or heat-map rows/columns.
pub const MAX_POINTS: usize = 64;
/// Longest label, in characters.
pub const MAX_LABEL: usize = 80;
/// Largest magnitude of a data value (series values, points, slices, edges, counts, boxes,
/// cells). Stacked sums may reach [`MAX_SERIES`] times this.
pub const MAX_MAGNITUDE: f64 = 1e9;
/// Largest magnitude of a value-axis end (room for stacked sums and padding).
pub const MAX_AXIS: f64 = 1e12;
/// Most intervals between value-axis ticks.
pub const MAX_TICKS: f64 = 40.0;

/// A chart: its body (type and data), texts, size and style.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    /// Chart type and data.
    pub chart: ChartBody,
    /// Title drawn above the plot.
    pub title: String,
    /// Description of the x (category) axis; empty draws none.
    #[serde(default)]
    pub x_label: String,
    /// Description of the y (value) axis; empty draws none.
    #[serde(default)]
    pub y_label: String,
    /// Canvas width in pixels.
    pub width: u32,
    /// Canvas height in pixels.
    pub height: u32,
    /// Look.
    pub style: ChartStyle,
}

/// Bar layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BarMode {
    /// Side-by-side bars per category.
    Grouped,
    /// Series stacked on each other.
    Stacked,
}

/// Bar direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Bars grow upwards.
    Vertical,
    /// Bars grow to the right.
    Horizontal,
}

/// One named series of values, one per category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// Values, one per category.
    pub values: Vec<f64>,
}

/// A labelled scatter point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabeledPoint {
    /// Label drawn next to the point (empty: none).
    pub label: String,
    /// x value.
    pub x: f64,
    /// y value.
    pub y: f64,
}

/// Five-number summary of one box.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxStats {
    /// Group label.
    pub label: String,
    /// Lower whisker.
    pub min: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// Upper whisker.
    pub max: f64,
}

/// Chart type and its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChartBody {
    /// Bars per category and series.
    Bar {
        /// Vertical or horizontal.
        orientation: Orientation,
        /// Grouped or stacked.
        mode: BarMode,
        /// Category names.
        categories: Vec<String>,
        /// Series.
        series: Vec<Series>,
    },
    /// Lines over ordered categories.
    Line {
        /// Category names (x axis, in order).
        categories: Vec<String>,
        /// Series.
        series: Vec<Series>,
        /// Draw a marker at each value.
        markers: bool,
    },
    /// Filled areas over ordered categories.
    Area {
        /// Category names (x axis, in order).
        categories: Vec<String>,
        /// Series.
        series: Vec<Series>,
        /// Stack the series.
        stacked: bool,
    },
    /// Points in the plane.
    Scatter {
        /// Points.
        points: Vec<LabeledPoint>,
    },
    /// Slices of a whole.
    Pie {
        /// Slice names.
        labels: Vec<String>,
        /// Slice values (positive).
        values: Vec<f64>,
        /// Hole radius as a fraction of the radius (0 = pie, else donut).
        hole: f64,
    },
    /// Counts of values in bins.
    Histogram {
        /// Bin edges, increasing; `counts.len() + 1` of them.
        edges: Vec<f64>,
        /// Count per bin.
        counts: Vec<u64>,
    },
    /// Box plots per group.
    Box {
        /// Boxes.
        boxes: Vec<BoxStats>,
    },
    /// A matrix of values as coloured cells.
    Heatmap {
        /// Row names (top to bottom).
        rows: Vec<String>,
        /// Column names (left to right).
        columns: Vec<String>,
        /// `values[row][column]`.
        values: Vec<Vec<f64>>,
    },
}

/// Where the legend goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegendPosition {
    /// A row above the plot.
    Top,
    /// A row below the plot.
    Bottom,
    /// A column to the right.
    Right,
    /// No legend.
    None,
}

/// The look of a chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartStyle {
    /// Typeface.
    pub font: FontChoice,
    /// Body text size in pixels.
    pub font_size: u32,
    /// Canvas colour.
    pub background: HexColor,
    /// Plot-area colour.
    pub plot_background: HexColor,
    /// Colours of series (or slices, boxes), cycled.
    pub palette: Vec<HexColor>,
    /// Draw grid lines.
    pub grid: bool,
    /// Legend placement.
    pub legend: LegendPosition,
    /// Print each value next to its mark.
    pub value_labels: bool,
    /// Decimals of printed values.
    pub decimals: u8,
    /// Step between value-axis ticks (0: no ticks beyond the axis line). Absent: the axis is
    /// derived from the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_step: Option<f64>,
    /// Lower end of the value axis. Absent: 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_min: Option<f64>,
    /// Upper end of the value axis. Absent: the axis is derived from the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_max: Option<f64>,
    /// Line and marker stroke width.
    pub stroke_width: u32,
}

fn check_label(what: &str, s: &str) -> Result<()> {
    if s.chars().count() > MAX_LABEL {
        return Err(invalid(format!(
            "{what} `{s}` is longer than {MAX_LABEL} characters"
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(format!("{what} contains control characters")));
    }
    Ok(())
}

fn check_count(what: &str, n: usize, min: usize, max: usize) -> Result<()> {
    if n < min || n > max {
        return Err(invalid(format!(
            "{what} has {n} entries; allowed {min}..={max}"
        )));
    }
    Ok(())
}

fn check_finite(what: &str, values: &[f64]) -> Result<()> {
    check_magnitude(what, values, MAX_MAGNITUDE)
}

fn check_magnitude(what: &str, values: &[f64], max: f64) -> Result<()> {
    if let Some(v) = values.iter().find(|v| !v.is_finite() || v.abs() > max) {
        return Err(invalid(format!(
            "{what} holds {}; numbers must be finite and within -{max:e}..={max:e}",
            show(*v)
        )));
    }
    Ok(())
}

/// A number for an error message: plain when short, else in exponent form (`1e300`).
fn show(v: f64) -> String {
    if v.abs() < 1e15 {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

/// Checks the style's value axis, when it gives one: finite ends in order, a step that gives
/// at most [`MAX_TICKS`] intervals.
fn check_axis(style: &ChartStyle) -> Result<()> {
    let given = [style.value_min, style.value_max, style.tick_step];
    check_magnitude("The value axis", &given.map(|v| v.unwrap_or(0.0)), MAX_AXIS)?;
    let lo = style.value_min.unwrap_or(0.0);
    if let Some(hi) = style.value_max
        && hi <= lo
    {
        return Err(invalid(format!(
            "`value_max` ({hi}) must be above `value_min` ({lo})"
        )));
    }
    if let Some(step) = style.tick_step {
        let span = style.value_max.unwrap_or(lo + step) - lo;
        if step < 0.0 || (step > 0.0 && span / step > MAX_TICKS) {
            return Err(invalid(format!(
                "`tick_step` {step} gives more than {MAX_TICKS} ticks"
            )));
        }
    }
    Ok(())
}

fn check_series(categories: &[String], series: &[Series]) -> Result<()> {
    check_count("`categories`", categories.len(), 1, MAX_POINTS)?;
    check_count("`series`", series.len(), 1, MAX_SERIES)?;
    for c in categories {
        check_label("Category", c)?;
    }
    for s in series {
        check_label("Series name", &s.name)?;
        if s.values.len() != categories.len() {
            return Err(invalid(format!(
                "Series `{}` has {} values for {} categories",
                s.name,
                s.values.len(),
                categories.len()
            )));
        }
        check_finite("Series values", &s.values)?;
    }
    Ok(())
}

impl ChartSpec {
    /// Checks every bound; the renderer calls this before drawing.
    ///
    /// # Errors
    /// [`crate::Error::InvalidSpec`] naming the first broken rule.
    pub fn validate(&self) -> Result<()> {
        for (what, side) in [("width", self.width), ("height", self.height)] {
            if !(MIN_SIDE..=MAX_SIDE).contains(&side) {
                return Err(invalid(format!(
                    "`{what}` is {side}; allowed {MIN_SIDE}..={MAX_SIDE}"
                )));
            }
        }
        check_label("Title", &self.title)?;
        check_label("x label", &self.x_label)?;
        check_label("y label", &self.y_label)?;
        let style = &self.style;
        if !(8..=48).contains(&style.font_size) {
            return Err(invalid(format!(
                "`font_size` is {}; allowed 8..=48",
                style.font_size
            )));
        }
        check_count("`palette`", style.palette.len(), 1, 32)?;
        for c in &style.palette {
            c.rgb()?;
        }
        style.background.rgb()?;
        style.plot_background.rgb()?;
        if style.decimals > 4 {
            return Err(invalid("`decimals` must be at most 4"));
        }
        if !(1..=8).contains(&style.stroke_width) {
            return Err(invalid("`stroke_width` must be in 1..=8"));
        }
        check_axis(style)?;
        match &self.chart {
            ChartBody::Bar {
                categories, series, ..
            }
            | ChartBody::Line {
                categories, series, ..
            }
            | ChartBody::Area {
                categories, series, ..
            } => check_series(categories, series),
            ChartBody::Scatter { points } => {
                check_count("`points`", points.len(), 1, MAX_POINTS)?;
                for p in points {
                    check_label("Point label", &p.label)?;
                    check_finite("Point", &[p.x, p.y])?;
                }
                Ok(())
            }
            ChartBody::Pie {
                labels,
                values,
                hole,
            } => {
                check_count("`labels`", labels.len(), 1, MAX_POINTS)?;
                if labels.len() != values.len() {
                    return Err(invalid("`labels` and `values` differ in length"));
                }
                for l in labels {
                    check_label("Slice label", l)?;
                }
                check_finite("Slice values", values)?;
                if values.iter().any(|v| *v <= 0.0) {
                    return Err(invalid("Slice values must be positive"));
                }
                if !(0.0..0.9).contains(hole) {
                    return Err(invalid("`hole` must be in 0..0.9"));
                }
                Ok(())
            }
            ChartBody::Histogram { edges, counts } => {
                check_count("`counts`", counts.len(), 1, MAX_POINTS)?;
                if let Some(n) = counts.iter().find(|n| **n as f64 > MAX_MAGNITUDE) {
                    return Err(invalid(format!(
                        "Histogram count {n} is above {MAX_MAGNITUDE:e}"
                    )));
                }
                if edges.len() != counts.len() + 1 {
                    return Err(invalid("`edges` must have one more entry than `counts`"));
                }
                check_finite("Edges", edges)?;
                if edges.windows(2).any(|w| w[1] <= w[0]) {
                    return Err(invalid("`edges` must increase"));
                }
                Ok(())
            }
            ChartBody::Box { boxes } => {
                check_count("`boxes`", boxes.len(), 1, MAX_POINTS)?;
                for b in boxes {
                    check_label("Box label", &b.label)?;
                    let v = [b.min, b.q1, b.median, b.q3, b.max];
                    check_finite("Box", &v)?;
                    if v.windows(2).any(|w| w[1] < w[0]) {
                        return Err(invalid(format!(
                            "Box `{}` is not ordered min<=q1<=median<=q3<=max",
                            b.label
                        )));
                    }
                }
                Ok(())
            }
            ChartBody::Heatmap {
                rows,
                columns,
                values,
            } => {
                check_count("`rows`", rows.len(), 1, MAX_POINTS)?;
                check_count("`columns`", columns.len(), 1, MAX_POINTS)?;
                for l in rows.iter().chain(columns) {
                    check_label("Heat-map label", l)?;
                }
                if values.len() != rows.len() || values.iter().any(|r| r.len() != columns.len()) {
                    return Err(invalid("`values` must be rows x columns"));
                }
                for r in values {
                    check_finite("Heat-map values", r)?;
                }
                Ok(())
            }
        }
    }

    /// Parses and validates a spec from JSON (the untrusted path), and writes the value axis
    /// it will be drawn with into its style ([`ChartSpec::resolve_value_axis`]).
    ///
    /// # Errors
    /// [`crate::Error::SpecJson`] or [`crate::Error::InvalidSpec`].
    pub fn from_json(code: &str) -> Result<ChartSpec> {
        if code.len() > 1 << 20 {
            return Err(invalid("Chart spec is larger than 1 MiB"));
        }
        let mut spec: ChartSpec = serde_json::from_str(code).map_err(crate::Error::SpecJson)?;
        spec.validate()?;
        spec.resolve_value_axis();
        Ok(spec)
    }
}
