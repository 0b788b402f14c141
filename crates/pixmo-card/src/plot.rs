//! Bar charts as PNG files, drawn with plotters into memory and encoded with `png`.
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
