//! Drawing a validated [`ChartSpec`] with plotters into an RGB buffer.
//!
//! Every string handed to plotters is also pushed to the returned text list, so tests can
//! check that extractive answers were actually drawn. Axes use explicit key points: category
//! axes tick exactly at each category, value axes exactly at multiples of `tick_step`
//! (printed with [`format_number`]); nothing is left to plotters' automatic tick choice.
//! Pie wedges are polygons computed with `libm`, not plotters' `Pie` (which uses `f64::sin`).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::chart::spec::{BarMode, ChartBody, ChartSpec, LegendPosition, Orientation};
use crate::error::{Error, Result};
use crate::fonts::{self, FontChoice};
use crate::style::{Rgb, format_number};

/// Pixels plus every string drawn.
#[derive(Clone, Debug)]
pub struct RenderedChart {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA8 pixels, opaque.
    pub rgba: Vec<u8>,
    /// Every text drawn (title, axis descriptions, tick labels, legend, value labels).
    pub texts: Vec<String>,
}

pub(super) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

pub(super) fn col(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

pub(super) fn draw_err<E: std::fmt::Display>(e: E) -> Error {
    Error::Draw {
        message: e.to_string(),
    }
}

/// Renders a chart spec (validated first).
///
/// # Errors
/// [`Error::InvalidSpec`] for a spec that breaks a bound; [`Error::Draw`] for a backend failure.
pub fn render_chart(spec: &ChartSpec) -> Result<RenderedChart> {
    spec.validate()?;
    fonts::register_plot_fonts();
    let (w, h) = (spec.width, spec.height);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    let mut texts = Vec::new();
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        let cx = Ctx::new(spec)?;
        root.fill(&col(cx.background)).map_err(draw_err)?;
        draw(&root, spec, &cx, &mut texts)?;
        root.present().map_err(draw_err)?;
    }
    let mut rgba = Vec::with_capacity(w as usize * h as usize * 4);
    for p in rgb.chunks_exact(3) {
        rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
    }
    Ok(RenderedChart {
        width: w,
        height: h,
        rgba,
        texts,
    })
}

/// Resolved style.
pub(super) struct Ctx {
    pub(super) font: FontChoice,
    pub(super) size: f64,
    pub(super) background: Rgb,
    pub(super) plot_background: Rgb,
    pub(super) palette: Vec<Rgb>,
    pub(super) ink: Rgb,
    pub(super) grid: Rgb,
}

impl Ctx {
    fn new(spec: &ChartSpec) -> Result<Ctx> {
        let s = &spec.style;
        let background = s.background.rgb()?;
        Ok(Ctx {
            font: s.font,
            size: f64::from(s.font_size),
            background,
            plot_background: s.plot_background.rgb()?,
            palette: s.palette.iter().map(|c| c.rgb()).collect::<Result<_>>()?,
            ink: Rgb(40, 40, 40),
            grid: background.mix(Rgb(0, 0, 0), 0.12),
        })
    }

    pub(super) fn color(&self, i: usize) -> Rgb {
        self.palette[i % self.palette.len()]
    }

    pub(super) fn body(&self) -> TextStyle<'static> {
        styled(self.font.plot_body(), self.size, self.ink)
    }

    pub(super) fn small(&self) -> TextStyle<'static> {
        styled(self.font.plot_body(), (self.size * 0.85).max(8.0), self.ink)
    }

    pub(super) fn title(&self) -> TextStyle<'static> {
        styled(self.font.plot_title(), self.size * 1.35, self.ink)
    }

    pub(super) fn width_of(&self, text: &str, size: f64) -> f64 {
        f64::from(fonts::text_width(&self.font.body_font(), size as f32, text))
    }
}

/// A text style in `family` at `size` px and colour `ink`.
pub(super) fn styled(family: &'static str, size: f64, ink: Rgb) -> TextStyle<'static> {
    TextStyle {
        font: (family, size).into_font(),
        color: col(ink).to_backend_color(),
        pos: Pos::default(),
    }
}

/// The same style in another colour.
pub(super) fn recolor(style: TextStyle<'static>, ink: Rgb) -> TextStyle<'static> {
    TextStyle {
        color: col(ink).to_backend_color(),
        ..style
    }
}

/// Names shown in the legend, when the chart has one.
fn legend_names(spec: &ChartSpec) -> Vec<String> {
    match &spec.chart {
        ChartBody::Bar { series, .. }
        | ChartBody::Line { series, .. }
        | ChartBody::Area { series, .. }
            if series.len() > 1 =>
        {
            series.iter().map(|s| s.name.clone()).collect()
        }
        ChartBody::Pie { labels, .. } => labels.clone(),
        _ => Vec::new(),
    }
}

/// Whether the chart draws a legend (multi-series charts and pies with a legend position).
#[must_use]
pub fn has_legend(spec: &ChartSpec) -> bool {
    spec.style.legend != LegendPosition::None && !legend_names(spec).is_empty()
}

fn draw(root: &Area<'_>, spec: &ChartSpec, cx: &Ctx, texts: &mut Vec<String>) -> Result<()> {
    let names = if has_legend(spec) {
        legend_names(spec)
    } else {
        Vec::new()
    };
    let (w, h) = root.dim_in_pixel();
    let plot = if names.is_empty() {
        root.clone()
    } else {
        let swatch = cx.size * 0.9;
        match spec.style.legend {
            LegendPosition::Right => {
                let widest = names
                    .iter()
                    .map(|n| cx.width_of(n, cx.size))
                    .fold(0.0, f64::max);
                let lw = (widest + swatch + 24.0).min(f64::from(w) * 0.4) as u32;
                let (plot, legend) = root.split_horizontally(w - lw);
                draw_legend_column(&legend, &names, cx, texts)?;
                plot
            }
            position => {
                let rows = legend_rows(&names, cx, f64::from(w) - 20.0);
                let lh = (rows.len() as f64 * (cx.size * 1.6) + 10.0) as u32;
                let (plot, legend) = if position == LegendPosition::Top {
                    let (legend, plot) = root.split_vertically(lh.min(h / 3));
                    (plot, legend)
                } else {
                    root.split_vertically(h - lh.min(h / 3))
                };
                draw_legend_rows(&legend, &names, &rows, cx, texts)?;
                plot
            }
        }
    };
    match &spec.chart {
        ChartBody::Pie {
            labels,
            values,
            hole,
        } => draw_pie(&plot, spec, cx, labels, values, *hole, texts),
        _ => super::cartesian::draw_cartesian(&plot, spec, cx, texts),
    }
}

/// Greedy rows of legend entries that fit in `width`.
fn legend_rows(names: &[String], cx: &Ctx, width: f64) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut x = 0.0;
    for (i, n) in names.iter().enumerate() {
        let item = cx.size * 1.2 + cx.width_of(n, cx.size) + cx.size;
        if x + item > width && !rows.last().is_some_and(Vec::is_empty) {
            rows.push(Vec::new());
            x = 0.0;
        }
        x += item;
        if let Some(r) = rows.last_mut() {
            r.push(i);
        }
    }
    rows
}

fn swatch(area: &Area<'_>, x: i32, y: i32, s: i32, c: Rgb) -> Result<()> {
    area.draw(&Rectangle::new([(x, y), (x + s, y + s)], col(c).filled()))
        .map_err(draw_err)
}

fn draw_legend_rows(
    area: &Area<'_>,
    names: &[String],
    rows: &[Vec<usize>],
    cx: &Ctx,
    texts: &mut Vec<String>,
) -> Result<()> {
    let (w, _) = area.dim_in_pixel();
    let s = (cx.size * 0.8) as i32;
    for (r, row) in rows.iter().enumerate() {
        let total: f64 = row
            .iter()
            .map(|&i| cx.size * 1.2 + cx.width_of(&names[i], cx.size) + cx.size)
            .sum();
        let mut x = ((f64::from(w) - total) / 2.0).max(4.0);
        let y = (5.0 + r as f64 * cx.size * 1.6) as i32;
        for &i in row {
            swatch(area, x as i32, y + 2, s, cx.color(i))?;
            let tx = x + cx.size * 1.2;
            area.draw(&Text::new(names[i].clone(), (tx as i32, y), cx.body()))
                .map_err(draw_err)?;
            texts.push(names[i].clone());
            x = tx + cx.width_of(&names[i], cx.size) + cx.size;
        }
    }
    Ok(())
}

fn draw_legend_column(
    area: &Area<'_>,
    names: &[String],
    cx: &Ctx,
    texts: &mut Vec<String>,
) -> Result<()> {
    let (_, h) = area.dim_in_pixel();
    let step = cx.size * 1.6;
    let total = names.len() as f64 * step;
    let mut y = ((f64::from(h) - total) / 2.0).max(4.0);
    let s = (cx.size * 0.8) as i32;
    for (i, n) in names.iter().enumerate() {
        swatch(area, 6, y as i32 + 2, s, cx.color(i))?;
        area.draw(&Text::new(
            n.clone(),
            ((6.0 + cx.size * 1.2) as i32, y as i32),
            cx.body(),
        ))
        .map_err(draw_err)?;
        texts.push(n.clone());
        y += step;
    }
    Ok(())
}

/// Draws the title centred at the top of `area`; returns the height used.
pub(super) fn draw_title(
    area: &Area<'_>,
    title: &str,
    cx: &Ctx,
    texts: &mut Vec<String>,
) -> Result<u32> {
    if title.is_empty() {
        return Ok(0);
    }
    let (w, _) = area.dim_in_pixel();
    let style = cx.title().pos(Pos::new(HPos::Center, VPos::Top));
    area.draw(&Text::new(title.to_owned(), ((w / 2) as i32, 6), style))
        .map_err(draw_err)?;
    texts.push(title.to_owned());
    Ok((cx.size * 1.35 * 1.5 + 8.0) as u32)
}

fn draw_pie(
    area: &Area<'_>,
    spec: &ChartSpec,
    cx: &Ctx,
    labels: &[String],
    values: &[f64],
    hole: f64,
    texts: &mut Vec<String>,
) -> Result<()> {
    let top = draw_title(area, &spec.title, cx, texts)?;
    let (w, h) = area.dim_in_pixel();
    let legend = has_legend(spec);
    // Without a legend the names go outside the wedges: leave room for them.
    let widest = if legend {
        0.0
    } else {
        labels
            .iter()
            .map(|l| cx.width_of(l, cx.size))
            .fold(0.0, f64::max)
    };
    let avail_w = f64::from(w) - 2.0 * (widest + 16.0);
    let avail_h = f64::from(h) - f64::from(top) - 2.0 * (cx.size * 1.8);
    let r = (avail_w.min(avail_h) / 2.0).max(20.0);
    let centre = (
        f64::from(w) / 2.0,
        f64::from(top) + (f64::from(h) - f64::from(top)) / 2.0,
    );
    let total: f64 = values.iter().sum();
    let mut start = -std::f64::consts::FRAC_PI_2;
    let point = |radius: f64, angle: f64| {
        (
            (centre.0 + radius * libm::cos(angle)).round() as i32,
            (centre.1 + radius * libm::sin(angle)).round() as i32,
        )
    };
    let mut label_jobs = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let sweep = v / total * std::f64::consts::TAU;
        let end = start + sweep;
        let steps = ((sweep / std::f64::consts::TAU) * 180.0).ceil().max(2.0) as usize;
        let mut poly = Vec::with_capacity(2 * steps + 4);
        for k in 0..=steps {
            poly.push(point(r, start + sweep * k as f64 / steps as f64));
        }
        if hole > 0.0 {
            for k in (0..=steps).rev() {
                poly.push(point(r * hole, start + sweep * k as f64 / steps as f64));
            }
        } else {
            poly.push(point(0.0, 0.0));
        }
        let c = cx.color(i);
        area.draw(&Polygon::new(poly.clone(), col(c).filled()))
            .map_err(draw_err)?;
        area.draw(&PathElement::new(
            {
                let mut outline = poly;
                if let Some(first) = outline.first().copied() {
                    outline.push(first);
                }
                outline
            },
            col(cx.background).stroke_width(2),
        ))
        .map_err(draw_err)?;
        label_jobs.push((i, start + sweep / 2.0, c));
        start = end;
    }
    for (i, mid, c) in label_jobs {
        if !legend {
            let (x, y) = point(r + 8.0, mid);
            let h_pos = if libm::cos(mid) >= 0.0 {
                HPos::Left
            } else {
                HPos::Right
            };
            let style = cx.body().pos(Pos::new(h_pos, VPos::Center));
            area.draw(&Text::new(labels[i].clone(), (x, y), style))
                .map_err(draw_err)?;
            texts.push(labels[i].clone());
        }
        if spec.style.value_labels {
            let text = format_number(values[i], spec.style.decimals);
            let (x, y) = point(r * (0.5 + hole / 2.0).max(0.62), mid);
            let style = recolor(cx.small(), c.text_on()).pos(Pos::new(HPos::Center, VPos::Center));
            area.draw(&Text::new(text.clone(), (x, y), style))
                .map_err(draw_err)?;
            texts.push(text);
        }
    }
    Ok(())
}

/// Orientation and mode, for callers that describe a bar chart.
#[must_use]
pub fn bar_layout(spec: &ChartSpec) -> Option<(Orientation, BarMode)> {
    match spec.chart {
        ChartBody::Bar {
            orientation, mode, ..
        } => Some((orientation, mode)),
        _ => None,
    }
}
