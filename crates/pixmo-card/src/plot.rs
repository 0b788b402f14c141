//! Bar charts and heat maps as PNG files, drawn with plotters into memory and encoded with
//! `png`.
//!
//! Text is rendered with ab_glyph from a vendored Liberation Sans, so plots look the same on
//! every machine and no system fonts are needed.

use std::path::Path;
use std::sync::Once;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{CardError, Result};

/// Liberation Sans Regular (SIL Open Font License), vendored by the clock generator.
static FONT: &[u8] =
    include_bytes!("../../../generators/pixmo-gen-clock/fonts/LiberationSans-Regular.ttf");

/// Plot size in pixels (vertical bars; horizontal bars grow taller with their count).
const SIZE: (u32, u32) = (800, 420);

/// Width of the plotting area left for the bars of a vertical chart, in pixels.
const BAR_AREA_WIDTH: usize = 800 - 84 - 2 * 12;

/// Rough width of one label character at the label font size, in pixels.
const CHAR_WIDTH: usize = 8;

/// Height of one bar's row in a horizontal chart, in pixels.
const ROW_HEIGHT: u32 = 22;

/// Fill of every bar (also the colour the tests count).
const BAR: RGBColor = RGBColor(66, 114, 196);

/// Grid lines at the labelled values.
const GRID: RGBColor = RGBColor(220, 220, 220);

/// Font sizes of the title, the tick labels and the axis descriptions, in pixels.
const TITLE_SIZE: u32 = 24;
const LABEL_SIZE: u32 = 15;
const AXIS_SIZE: u32 = 16;

static REGISTER: Once = Once::new();

/// Registers the font as plotters' `sans-serif` family, once per process.
fn register_font() {
    REGISTER.call_once(|| {
        // The font is vendored and known good; a failure would show as missing text, and
        // drawing reports it as an error.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A bar chart to draw.
#[derive(Clone, Debug, Default)]
pub struct BarChart {
    /// Title above the plot.
    pub title: String,
    /// Description of the x axis.
    pub x_label: String,
    /// Description of the y axis.
    pub y_label: String,
    /// Label of each bar.
    pub labels: Vec<String>,
    /// Height of each bar.
    pub values: Vec<u64>,
    /// Show every n-th bar label (1 shows all).
    pub label_every: usize,
}

/// Draws `chart` and writes it to `path` as an RGB PNG.
pub(crate) fn write_bar_chart(path: &Path, chart: &BarChart) -> Result<()> {
    register_font();
    let plot_error = |message: String| CardError::Plot {
        path: path.to_path_buf(),
        message,
    };
    let horizontal = labels_collide(chart);
    let (width, height) = if horizontal {
        horizontal_size(chart)
    } else {
        SIZE
    };
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    if horizontal {
        draw_horizontal(&mut pixels, (width, height), chart).map_err(plot_error)?;
    } else {
        draw(&mut pixels, chart).map_err(plot_error)?;
    }
    let png = encode_png(&pixels, width, height).map_err(|e| plot_error(e.to_string()))?;
    std::fs::write(path, png).map_err(CardError::io("write", path))
}

/// Whether the shown labels of a vertical chart would run into each other: then the bars
/// are drawn horizontally, one labelled row each.
fn labels_collide(chart: &BarChart) -> bool {
    let every = chart.label_every.max(1);
    let slot = BAR_AREA_WIDTH * every / chart.labels.len().max(1);
    let widest = chart
        .labels
        .iter()
        .step_by(every)
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    widest * CHAR_WIDTH + 4 > slot
}

/// The longest label's width in pixels, clamped to a third of the plot.
fn label_area_width(chart: &BarChart) -> u32 {
    let widest = chart
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    u32::try_from(widest * CHAR_WIDTH + 16).map_or(SIZE.0 / 3, |w| w.clamp(48, SIZE.0 / 3))
}

fn horizontal_size(chart: &BarChart) -> (u32, u32) {
    let rows = u32::try_from(chart.values.len().max(1)).unwrap_or(u32::MAX);
    (
        SIZE.0,
        rows.saturating_mul(ROW_HEIGHT)
            .saturating_add(120)
            .max(SIZE.1),
    )
}

/// Horizontal bars, the first value on top, every label shown (`label_every` is ignored:
/// each bar has its own row).
fn draw_horizontal(
    pixels: &mut [u8],
    size: (u32, u32),
    chart: &BarChart,
) -> std::result::Result<(), String> {
    let root = BitMapBackend::with_buffer(pixels, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = u32::try_from(chart.values.len().max(1)).unwrap_or(u32::MAX);
    let top = chart.values.iter().copied().max().unwrap_or(0).max(1);
    let x_max = top + top.div_ceil(10);
    let mut plot = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", TITLE_SIZE))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(label_area_width(chart))
        .build_cartesian_2d(0u64..x_max, (0..n - 1).into_segmented())
        .map_err(|e| e.to_string())?;
    let labels = &chart.labels;
    // Row `i` from the bottom shows bar `n - 1 - i`, so the first bar is on top.
    let format_y = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => n
            .checked_sub(1 + *i)
            .and_then(|j| labels.get(j as usize))
            .cloned()
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    plot.configure_mesh()
        .disable_y_mesh()
        .y_labels(labels.len().max(1))
        .y_label_formatter(&format_y)
        .x_desc(&chart.y_label)
        .y_desc(&chart.x_label)
        .label_style(("sans-serif", LABEL_SIZE))
        .axis_desc_style(("sans-serif", AXIS_SIZE))
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .draw()
        .map_err(|e| e.to_string())?;
    plot.draw_series(
        Histogram::horizontal(&plot)
            .style(BAR.filled())
            .margin(3)
            .data(chart.values.iter().enumerate().map(|(i, v)| {
                let row = n - 1 - u32::try_from(i).unwrap_or(n - 1);
                (row, *v)
            })),
    )
    .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

fn draw(pixels: &mut [u8], chart: &BarChart) -> std::result::Result<(), String> {
    let root = BitMapBackend::with_buffer(pixels, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = u32::try_from(chart.values.len().max(1)).unwrap_or(u32::MAX);
    let top = chart.values.iter().copied().max().unwrap_or(0).max(1);
    let y_max = top + top.div_ceil(10);
    let mut plot = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", TITLE_SIZE))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(84)
        // A segmented range includes its end as a segment: `0..n - 1` gives `n` bars.
        .build_cartesian_2d((0..n - 1).into_segmented(), 0u64..y_max)
        .map_err(|e| e.to_string())?;
    let every = chart.label_every.max(1);
    let labels = &chart.labels;
    let format_x = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
            let i = *i as usize;
            if i.is_multiple_of(every) {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        }
        SegmentValue::Last => String::new(),
    };
    plot.configure_mesh()
        .disable_x_mesh()
        .x_labels(labels.len().max(1))
        .x_label_formatter(&format_x)
        .y_desc(&chart.y_label)
        .x_desc(&chart.x_label)
        .label_style(("sans-serif", LABEL_SIZE))
        .axis_desc_style(("sans-serif", AXIS_SIZE))
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .draw()
        .map_err(|e| e.to_string())?;
    plot.draw_series(
        Histogram::vertical(&plot)
            .style(BAR.filled())
            .margin(if n > 30 { 1 } else { 6 })
            .data(
                chart
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (u32::try_from(i).unwrap_or(u32::MAX), *v)),
            ),
    )
    .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// A heat map over the unit square: how often something falls in each cell of a
/// `columns` x `rows` grid over (x, y) in 0–1 of the image's width and height, the top row
/// at the top, as an image is seen.
#[derive(Clone, Debug, Default)]
pub struct HeatMap {
    /// Title above the map.
    pub title: String,
    /// Description of the x axis.
    pub x_label: String,
    /// Description of the y axis.
    pub y_label: String,
    /// What the colour counts (`points`), on the colour bar.
    pub value_label: String,
    /// Cells across.
    pub columns: usize,
    /// Cells down.
    pub rows: usize,
    /// `rows * columns` counts, row-major, the top row first.
    pub values: Vec<u64>,
}

impl HeatMap {
    /// An empty `columns` x `rows` map.
    #[must_use]
    pub fn new(columns: usize, rows: usize) -> HeatMap {
        HeatMap {
            columns,
            rows,
            values: vec![0; columns * rows],
            ..HeatMap::default()
        }
    }

    /// Counts a point at (`x`, `y`), fractions of the width and height (0–1; 1 falls in the
    /// last cell). Returns `false`, counting nothing, for a point outside the unit square
    /// or not a number.
    pub fn add(&mut self, x: f64, y: f64) -> bool {
        if !((0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y)) {
            return false;
        }
        let cell = |v: f64, n: usize| ((v * n as f64) as usize).min(n.saturating_sub(1));
        let (c, r) = (cell(x, self.columns), cell(y, self.rows));
        match self.values.get_mut(r * self.columns + c) {
            Some(v) => {
                *v += 1;
                true
            }
            None => false,
        }
    }

    /// The count of the cell in column `c` and row `r` (row 0 at the top).
    #[must_use]
    pub fn get(&self, c: usize, r: usize) -> u64 {
        self.values.get(r * self.columns + c).copied().unwrap_or(0)
    }

    /// Sums the map into a coarser one of `columns` x `rows` cells (each a whole number of
    /// cells of this one), or `None` when the sizes do not divide.
    #[must_use]
    pub fn coarsen(&self, columns: usize, rows: usize) -> Option<HeatMap> {
        if columns == 0
            || rows == 0
            || !self.columns.is_multiple_of(columns)
            || !self.rows.is_multiple_of(rows)
        {
            return None;
        }
        let (fx, fy) = (self.columns / columns, self.rows / rows);
        let mut out = HeatMap::new(columns, rows);
        for r in 0..self.rows {
            for c in 0..self.columns {
                out.values[(r / fy) * columns + c / fx] += self.get(c, r);
            }
        }
        Some(out)
    }
}

/// Plot size of a heat map, pixels: the (about square) map with its axes, and the colour
/// bar.
const HEAT_SIZE: (u32, u32) = (760, 660);

/// Width of the colour bar's area, pixels.
const HEAT_BAR_AREA: u32 = 120;

/// The frame around a heat map.
const GRID_FRAME: RGBColor = RGBColor(160, 160, 160);

/// The empty and the fullest cell's colours (white to dark blue, a sequential scale).
const HEAT_LOW: (f64, f64, f64) = (255.0, 255.0, 255.0);
const HEAT_HIGH: (f64, f64, f64) = (8.0, 48.0, 107.0);

/// The colour of a cell holding `share` (0–1) of the fullest cell's count.
fn heat_colour(share: f64) -> RGBColor {
    let t = share.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(
        mix(HEAT_LOW.0, HEAT_HIGH.0),
        mix(HEAT_LOW.1, HEAT_HIGH.1),
        mix(HEAT_LOW.2, HEAT_HIGH.2),
    )
}

/// Draws `map` and writes it to `path` as an RGB PNG.
pub(crate) fn write_heat_map(path: &Path, map: &HeatMap) -> Result<()> {
    register_font();
    let plot_error = |message: String| CardError::Plot {
        path: path.to_path_buf(),
        message,
    };
    let (width, height) = HEAT_SIZE;
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    draw_heat(&mut pixels, map).map_err(plot_error)?;
    let png = encode_png(&pixels, width, height).map_err(|e| plot_error(e.to_string()))?;
    std::fs::write(path, png).map_err(CardError::io("write", path))
}

fn draw_heat(pixels: &mut [u8], map: &HeatMap) -> std::result::Result<(), String> {
    let root = BitMapBackend::with_buffer(pixels, HEAT_SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled(&map.title, ("sans-serif", TITLE_SIZE))
        .map_err(|e| e.to_string())?;
    let (area, bar) = root.split_horizontally(HEAT_SIZE.0 - HEAT_BAR_AREA);
    let top = map.values.iter().copied().max().unwrap_or(0);
    // The y axis runs from 1 at the bottom to 0 at the top: row 0 is the image's top.
    let mut plot = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(|e| e.to_string())?;
    let flip = |v: &f64| format!("{:.1}", 1.0 - v);
    plot.configure_mesh()
        .disable_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v| format!("{v:.1}"))
        .y_label_formatter(&flip)
        .x_desc(&map.x_label)
        .y_desc(&map.y_label)
        .label_style(("sans-serif", LABEL_SIZE))
        .axis_desc_style(("sans-serif", AXIS_SIZE))
        .draw()
        .map_err(|e| e.to_string())?;
    let (cols, rows) = (map.columns.max(1) as f64, map.rows.max(1) as f64);
    plot.draw_series((0..map.rows).flat_map(|r| {
        (0..map.columns).map(move |c| {
            let share = if top == 0 {
                0.0
            } else {
                map.get(c, r) as f64 / top as f64
            };
            let (x0, x1) = (c as f64 / cols, (c + 1) as f64 / cols);
            let (y0, y1) = (1.0 - (r + 1) as f64 / rows, 1.0 - r as f64 / rows);
            Rectangle::new([(x0, y0), (x1, y1)], heat_colour(share).filled())
        })
    }))
    .map_err(|e| e.to_string())?;
    // A frame, so empty (white) cells at the edges still show where the image ends.
    plot.draw_series(std::iter::once(Rectangle::new(
        [(0.0, 0.0), (1.0, 1.0)],
        GRID_FRAME.stroke_width(1),
    )))
    .map_err(|e| e.to_string())?;
    // The colour bar: 0 at the bottom, the fullest cell's count at the top.
    let steps = 64u32;
    let top_f = top.max(1) as f64;
    let mut legend = ChartBuilder::on(&bar)
        .margin_top(12)
        .margin_bottom(60)
        .margin_right(48)
        .y_label_area_size(8)
        .right_y_label_area_size(44)
        .build_cartesian_2d(0f64..1f64, 0f64..top_f)
        .map_err(|e| e.to_string())?
        .set_secondary_coord(0f64..1f64, 0f64..top_f);
    legend
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .disable_y_axis()
        .draw()
        .map_err(|e| e.to_string())?;
    legend
        .configure_secondary_axes()
        .y_labels(5)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc(&map.value_label)
        .label_style(("sans-serif", LABEL_SIZE))
        .axis_desc_style(("sans-serif", AXIS_SIZE))
        .draw()
        .map_err(|e| e.to_string())?;
    legend
        .draw_series((0..steps).map(|i| {
            let (a, b) = (
                f64::from(i) / f64::from(steps),
                f64::from(i + 1) / f64::from(steps),
            );
            Rectangle::new(
                [(0.0, a * top_f), (1.0, b * top_f)],
                heat_colour(a + 0.5 / f64::from(steps)).filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

fn encode_png(
    pixels: &[u8],
    width: u32,
    height: u32,
) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(labels: &[&str], values: &[u64]) -> BarChart {
        BarChart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            labels: labels.iter().map(ToString::to_string).collect(),
            values: values.to_vec(),
            label_every: 1,
        }
    }

    /// Blue bar pixels in rows `rows` of an RGB image `width` wide.
    fn blue(pixels: &[u8], width: u32, rows: std::ops::Range<u32>) -> usize {
        let w = width as usize;
        rows.flat_map(|y| (0..w).map(move |x| (y as usize * w + x) * 3))
            .filter(|&i| pixels[i..i + 3] == [BAR.0, BAR.1, BAR.2])
            .count()
    }

    #[test]
    fn heat_map_cells_follow_the_image_top_row_first() {
        let mut map = HeatMap::new(20, 20);
        assert!(map.add(0.0, 0.0) && map.add(0.999, 0.02) && map.add(1.0, 1.0));
        assert!(!map.add(1.2, 0.5) && !map.add(f64::NAN, 0.5) && !map.add(0.5, -0.1));
        assert_eq!((map.get(0, 0), map.get(19, 0), map.get(19, 19)), (1, 1, 1));
        assert_eq!(map.values.iter().sum::<u64>(), 3);
        let coarse = map.coarsen(5, 5).unwrap();
        assert_eq!(
            (coarse.get(0, 0), coarse.get(4, 0), coarse.get(4, 4)),
            (1, 1, 1)
        );
        assert!(map.coarsen(3, 3).is_none());
    }

    #[test]
    fn the_fullest_cell_is_drawn_darkest_where_the_image_shows_it() {
        // Every point in the top-left cell: the map's top-left is dark, its bottom-right
        // white (the y axis is flipped so the top row is drawn on top).
        let mut map = HeatMap::new(4, 4);
        for _ in 0..9 {
            map.add(0.1, 0.1);
        }
        map.add(0.9, 0.9);
        let (width, height) = HEAT_SIZE;
        let mut pixels = vec![0u8; (width * height * 3) as usize];
        register_font();
        draw_heat(&mut pixels, &map).unwrap();
        let dark = heat_colour(1.0);
        let count = |xs: std::ops::Range<u32>, ys: std::ops::Range<u32>, c: RGBColor| {
            ys.flat_map(|y| xs.clone().map(move |x| (y * width + x) as usize * 3))
                .filter(|&i| pixels[i..i + 3] == [c.0, c.1, c.2])
                .count()
        };
        let map_width = width - HEAT_BAR_AREA;
        let upper_left = count(0..map_width / 2, 0..height / 2, dark);
        let lower_right = count(map_width / 2..map_width, height / 2..height, dark);
        assert!(
            upper_left > 1000 && lower_right == 0,
            "{upper_left} {lower_right}"
        );
        assert!(
            count(
                map_width / 2..map_width,
                height / 2..height,
                heat_colour(1.0 / 9.0)
            ) > 1000
        );
    }

    #[test]
    fn short_labels_stay_vertical_and_long_ones_turn_horizontal() {
        let hours: Vec<String> = (0..24).map(|h| h.to_string()).collect();
        let hours: Vec<&str> = hours.iter().map(String::as_str).collect();
        assert!(!labels_collide(&chart(&hours, &[1; 24])));
        // Four fit side by side (173 px each); ten do not (69 px for 17 characters).
        let kinds = ["stacked bar chart", "data table", "flowchart", "invoice"];
        assert!(!labels_collide(&chart(&kinds, &[4, 3, 2, 1])));
        assert!(labels_collide(&chart(&["stacked bar chart"; 10], &[1; 10])));
        // Thirty long labels, one shown in six, still collide; a few short ones do not.
        let long = ["organisation chart"; 30];
        let mut every = chart(&long, &[1; 30]);
        every.label_every = 6;
        assert!(labels_collide(&every));
        assert!(!labels_collide(&chart(&["val", "train"], &[1, 9])));
    }

    #[test]
    fn horizontal_bars_put_the_first_value_on_top() {
        let c = chart(&["a long first label", "a long second label"], &[100, 10]);
        let (width, height) = horizontal_size(&c);
        assert_eq!((width, height), (800, 420));
        let mut pixels = vec![0u8; (width * height * 3) as usize];
        register_font();
        draw_horizontal(&mut pixels, (width, height), &c).unwrap();
        let (upper, lower) = (
            blue(&pixels, width, 0..height / 2),
            blue(&pixels, width, height / 2..height),
        );
        assert!(
            upper > 8 * lower && lower > 0,
            "upper {upper}, lower {lower}"
        );
        let many = chart(&["label"; 40], &[1; 40]);
        assert_eq!(horizontal_size(&many), (800, 40 * ROW_HEIGHT + 120));
    }
}
