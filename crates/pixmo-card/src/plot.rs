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

/// Plot size in pixels.
const SIZE: (u32, u32) = (800, 420);

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
    let (width, height) = SIZE;
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    draw(&mut pixels, chart).map_err(plot_error)?;
    let png = encode_png(&pixels, width, height).map_err(|e| plot_error(e.to_string()))?;
    std::fs::write(path, png).map_err(CardError::io("write", path))
}

fn draw(pixels: &mut [u8], chart: &BarChart) -> std::result::Result<(), String> {
    let root = BitMapBackend::with_buffer(pixels, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = u32::try_from(chart.values.len().max(1)).unwrap_or(u32::MAX);
    let top = chart.values.iter().copied().max().unwrap_or(0).max(1);
    let y_max = top + top.div_ceil(10);
    let mut plot = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 24))
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
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()
        .map_err(|e| e.to_string())?;
    plot.draw_series(
        Histogram::vertical(&plot)
            .style(RGBColor(66, 114, 196).filled())
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
