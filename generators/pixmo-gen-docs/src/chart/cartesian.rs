//! Charts on x/y axes: bars, lines, areas, scatter, histograms, box plots and heat maps.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::render::{Area, Ctx, col, draw_err, draw_title, recolor};
use crate::chart::spec::{BarMode, ChartBody, ChartSpec, Orientation};
use crate::error::Result;
use crate::style::{Rgb, format_number};

/// A linear `f64` axis whose ticks are exactly `keys` (plotters' `WithKeyPoints` over `f64`
/// lacks the default formatting that `configure_mesh` needs).
#[derive(Clone)]
struct Keyed {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Ranged for Keyed {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    /// Clamped to the plot area: a value off the axis lands on its edge, so no mark is drawn
    /// outside the plot and every pixel coordinate stays within the canvas (a far-off value
    /// would otherwise saturate to `i32::MAX` and send the polygon fill over 2^31 rows).
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        limit.0 + (t * f64::from(limit.1 - limit.0) + 1e-3).floor() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// One axis: range, ticks (position, printed text) and description.
struct AxisDef {
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
    categorical: bool,
}

impl AxisDef {
    /// Categories at 0..n (or reversed, first on top, for a vertical category axis).
    fn categories(names: &[String], reversed: bool) -> AxisDef {
        let n = names.len();
        let ticks = names
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    if reversed {
                        (n - 1 - i) as f64
                    } else {
                        i as f64
                    },
                    s.clone(),
                )
            })
            .collect();
        AxisDef {
            lo: -0.5,
            hi: n as f64 - 0.5,
            ticks,
            categorical: true,
        }
    }

    /// Values from `lo` to `hi` with ticks at multiples of `step`.
    fn values(lo: f64, hi: f64, step: f64) -> AxisDef {
        let mut ticks = Vec::new();
        if step > 0.0 {
            let decimals = step_decimals(step);
            let mut k = (lo / step).ceil() as i64;
            loop {
                let v = k as f64 * step;
                if v > hi + step * 1e-9 || ticks.len() > 60 {
                    break;
                }
                ticks.push((v, format_number(v, decimals)));
                k += 1;
            }
        }
        AxisDef {
            lo,
            hi,
            ticks,
            categorical: false,
        }
    }

    fn keyed(&self) -> Keyed {
        Keyed {
            lo: self.lo,
            hi: self.hi,
            keys: self.ticks.iter().map(|t| t.0).collect(),
        }
    }

    /// Category position of index `i` (reversed axes put index 0 on top).
    fn pos(&self, i: usize) -> f64 {
        self.ticks.get(i).map_or(i as f64, |t| t.0)
    }

    fn label(&self, v: f64) -> String {
        self.ticks
            .iter()
            .find(|(t, _)| (t - v).abs() < 1e-6)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    }
}

/// Decimals needed to print multiples of `step` exactly.
#[must_use]
pub fn step_decimals(step: f64) -> u8 {
    for d in 0..6u8 {
        let scaled = step * 10f64.powi(i32::from(d));
        if (scaled - scaled.round()).abs() < 1e-6 {
            return d;
        }
    }
    6
}

/// A "nice" step (1, 2 or 5 times a power of ten) giving about `target` intervals over `span`.
#[must_use]
pub fn nice_step(span: f64, target: f64) -> f64 {
    let raw = (span / target).max(1e-9);
    let mag = 10f64.powi(raw.log10().floor() as i32);
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

fn scatter_axis(values: impl Iterator<Item = f64> + Clone) -> AxisDef {
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(f64::NEG_INFINITY, f64::max);
    // At least a millionth of the values' magnitude: points at 1e9 and 1e9 - 1e-7 get ticks
    // that print differently, not copies of one label.
    let span = (hi - lo).max(1e-6).max(lo.abs().max(hi.abs()) * 1e-6);
    let step = nice_step(span, 5.0);
    let lo = ((lo - span * 0.08) / step).floor() * step;
    let hi = ((hi + span * 0.08) / step).ceil() * step;
    AxisDef::values(lo, hi, step)
}

/// The x and y axes of a chart body.
fn axes(spec: &ChartSpec) -> (AxisDef, AxisDef) {
    let value = || {
        let axis = spec
            .value_axis()
            .expect("charts drawn with a value axis have one");
        AxisDef::values(axis.lo, axis.hi, axis.step)
    };
    match &spec.chart {
        ChartBody::Bar {
            orientation: Orientation::Horizontal,
            categories,
            ..
        } => (value(), AxisDef::categories(categories, true)),
        ChartBody::Bar { categories, .. }
        | ChartBody::Line { categories, .. }
        | ChartBody::Area { categories, .. } => (AxisDef::categories(categories, false), value()),
        ChartBody::Scatter { points } => (
            scatter_axis(points.iter().map(|p| p.x)),
            scatter_axis(points.iter().map(|p| p.y)),
        ),
        ChartBody::Histogram { edges, .. } => {
            let decimals = edges.iter().map(|e| step_decimals(*e)).max().unwrap_or(0);
            let x = AxisDef {
                lo: edges[0],
                hi: edges[edges.len() - 1],
                ticks: edges
                    .iter()
                    .map(|e| (*e, format_number(*e, decimals)))
                    .collect(),
                categorical: false,
            };
            (x, value())
        }
        ChartBody::Box { boxes } => {
            let names: Vec<String> = boxes.iter().map(|b| b.label.clone()).collect();
            (AxisDef::categories(&names, false), value())
        }
        ChartBody::Heatmap { rows, columns, .. } => (
            AxisDef::categories(columns, false),
            AxisDef::categories(rows, true),
        ),
        ChartBody::Pie { .. } => (
            AxisDef::values(0.0, 1.0, 0.0),
            AxisDef::values(0.0, 1.0, 0.0),
        ),
    }
}

pub(super) fn draw_cartesian(
    area: &Area<'_>,
    spec: &ChartSpec,
    cx: &Ctx,
    texts: &mut Vec<String>,
) -> Result<()> {
    let top = draw_title(area, &spec.title, cx, texts)?;
    let (_, plot_area) = area.split_vertically(top);
    let (x, y) = axes(spec);
    let small = cx.size * 0.85;
    let widest = |a: &AxisDef| {
        a.ticks
            .iter()
            .map(|(_, s)| cx.width_of(s, small))
            .fold(0.0, f64::max)
    };
    let desc_h = cx.size * 1.8;
    let x_area = small * 2.0 + if spec.x_label.is_empty() { 0.0 } else { desc_h };
    let y_area = widest(&y) + 16.0 + if spec.y_label.is_empty() { 0.0 } else { desc_h };
    let (_, ph) = plot_area.dim_in_pixel();
    let x_area = x_area.min(f64::from(ph) * 0.45);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_left(6)
        .margin_right(16)
        .margin_top(6)
        .margin_bottom(4)
        .x_label_area_size(x_area as u32)
        .y_label_area_size(y_area as u32)
        .build_cartesian_2d(x.keyed(), y.keyed())
        .map_err(draw_err)?;
    chart
        .plotting_area()
        .fill(&col(cx.plot_background))
        .map_err(draw_err)?;
    let fx = |v: &f64| x.label(*v);
    let fy = |v: &f64| y.label(*v);
    let label_style = cx.small();
    {
        let mut mesh = chart.configure_mesh();
        mesh.x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .label_style(label_style)
            .axis_desc_style(cx.body())
            .axis_style(col(cx.ink))
            .bold_line_style(col(cx.grid))
            .light_line_style(TRANSPARENT);
        if !spec.x_label.is_empty() {
            mesh.x_desc(spec.x_label.clone());
        }
        if !spec.y_label.is_empty() {
            mesh.y_desc(spec.y_label.clone());
        }
        if x.categorical || !spec.style.grid {
            mesh.disable_x_mesh();
        }
        if y.categorical || !spec.style.grid {
            mesh.disable_y_mesh();
        }
        mesh.draw().map_err(draw_err)?;
    }
    for label in [&spec.x_label, &spec.y_label] {
        if !label.is_empty() {
            texts.push(label.clone());
        }
    }
    texts.extend(x.ticks.iter().chain(&y.ticks).map(|(_, s)| s.clone()));

    let style = &spec.style;
    let value_text = |v: f64| format_number(v, style.decimals);
    let above = cx.small().pos(Pos::new(HPos::Center, VPos::Bottom));
    let beside = cx.small().pos(Pos::new(HPos::Left, VPos::Center));
    let mut labels: Vec<(f64, f64, String, bool)> = Vec::new(); // (x, y, text, horizontal)
    let stroke = style.stroke_width;
    match &spec.chart {
        ChartBody::Bar {
            orientation,
            mode,
            series,
            categories,
        } => {
            let horizontal = *orientation == Orientation::Horizontal;
            let k = series.len() as f64;
            let cat_axis = if horizontal { &y } else { &x };
            for c in 0..categories.len() {
                let centre = cat_axis.pos(c);
                let mut base = 0.0;
                for (s, ser) in series.iter().enumerate() {
                    let v = ser.values[c];
                    let (a, b, lo, hi) = match mode {
                        BarMode::Grouped => {
                            let w = 0.8 / k;
                            let a = centre - 0.4 + w * s as f64;
                            (a + w * 0.06, a + w * 0.94, 0.0, v)
                        }
                        BarMode::Stacked => (centre - 0.35, centre + 0.35, base, base + v),
                    };
                    base += v;
                    let rect = if horizontal {
                        Rectangle::new([(lo, a), (hi, b)], col(cx.color(s)).filled())
                    } else {
                        Rectangle::new([(a, lo), (b, hi)], col(cx.color(s)).filled())
                    };
                    chart.draw_series(std::iter::once(rect)).map_err(draw_err)?;
                    if style.value_labels && *mode == BarMode::Grouped {
                        let mid = (a + b) / 2.0;
                        labels.push(if horizontal {
                            (v, mid, value_text(v), true)
                        } else {
                            (mid, v, value_text(v), false)
                        });
                    }
                }
                if style.value_labels && *mode == BarMode::Stacked {
                    labels.push(if horizontal {
                        (base, centre, value_text(base), true)
                    } else {
                        (centre, base, value_text(base), false)
                    });
                }
            }
        }
        ChartBody::Line {
            series, markers, ..
        } => {
            for (s, ser) in series.iter().enumerate() {
                let c = col(cx.color(s));
                let pts: Vec<(f64, f64)> = ser
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (x.pos(i), *v))
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts.clone(), c.stroke_width(stroke)))
                    .map_err(draw_err)?;
                if *markers {
                    chart
                        .draw_series(pts.iter().map(|p| Circle::new(*p, stroke + 2, c.filled())))
                        .map_err(draw_err)?;
                }
                if style.value_labels {
                    labels.extend(
                        pts.iter()
                            .map(|(px, py)| (*px, *py, value_text(*py), false)),
                    );
                }
            }
        }
        ChartBody::Area {
            series, stacked, ..
        } => {
            let n = series.first().map_or(0, |s| s.values.len());
            let mut base = vec![0.0; n];
            for (s, ser) in series.iter().enumerate() {
                let c = cx.color(s);
                let topv: Vec<f64> = (0..n)
                    .map(|i| {
                        if *stacked {
                            base[i] + ser.values[i]
                        } else {
                            ser.values[i]
                        }
                    })
                    .collect();
                let mut poly: Vec<(f64, f64)> = (0..n).map(|i| (x.pos(i), topv[i])).collect();
                for i in (0..n).rev() {
                    poly.push((x.pos(i), if *stacked { base[i] } else { 0.0 }));
                }
                let fill = if *stacked {
                    c
                } else {
                    c.mix(cx.plot_background, 0.45)
                };
                chart
                    .draw_series(std::iter::once(Polygon::new(poly, col(fill).filled())))
                    .map_err(draw_err)?;
                let line: Vec<(f64, f64)> = (0..n).map(|i| (x.pos(i), topv[i])).collect();
                chart
                    .draw_series(LineSeries::new(
                        line,
                        col(c.mix(Rgb(0, 0, 0), 0.2)).stroke_width(stroke),
                    ))
                    .map_err(draw_err)?;
                if style.value_labels && !*stacked {
                    labels.extend(
                        (0..n).map(|i| (x.pos(i), topv[i], value_text(ser.values[i]), false)),
                    );
                }
                if *stacked {
                    base = topv;
                }
            }
            if style.value_labels && *stacked {
                labels.extend((0..n).map(|i| (x.pos(i), base[i], value_text(base[i]), false)));
            }
        }
        ChartBody::Scatter { points } => {
            let c = col(cx.color(0));
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|p| Circle::new((p.x, p.y), stroke + 3, c.filled())),
                )
                .map_err(draw_err)?;
            for p in points.iter().filter(|p| !p.label.is_empty()) {
                let style = cx.small().pos(Pos::new(HPos::Left, VPos::Bottom));
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((p.x, p.y)) + Text::new(p.label.clone(), (5, -4), style),
                    ))
                    .map_err(draw_err)?;
                texts.push(p.label.clone());
            }
        }
        ChartBody::Histogram { edges, counts } => {
            let c = cx.color(0);
            for (i, n) in counts.iter().enumerate() {
                let v = *n as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(edges[i], 0.0), (edges[i + 1], v)],
                        col(c).filled(),
                    )))
                    .map_err(draw_err)?;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(edges[i], 0.0), (edges[i + 1], v)],
                        col(cx.plot_background).stroke_width(1),
                    )))
                    .map_err(draw_err)?;
                if style.value_labels {
                    labels.push(((edges[i] + edges[i + 1]) / 2.0, v, n.to_string(), false));
                }
            }
        }
        ChartBody::Box { boxes } => {
            for (i, b) in boxes.iter().enumerate() {
                let c = cx.color(i);
                let xc = x.pos(i);
                let edge = col(c.mix(Rgb(0, 0, 0), 0.35)).stroke_width(stroke);
                chart
                    .draw_series([
                        Rectangle::new(
                            [(xc - 0.3, b.q1), (xc + 0.3, b.q3)],
                            col(c.mix(cx.plot_background, 0.35)).filled(),
                        ),
                        Rectangle::new([(xc - 0.3, b.q1), (xc + 0.3, b.q3)], edge),
                    ])
                    .map_err(draw_err)?;
                chart
                    .draw_series([
                        PathElement::new(
                            vec![(xc - 0.3, b.median), (xc + 0.3, b.median)],
                            edge.stroke_width(stroke + 1),
                        ),
                        PathElement::new(vec![(xc, b.q3), (xc, b.max)], edge),
                        PathElement::new(vec![(xc, b.q1), (xc, b.min)], edge),
                        PathElement::new(vec![(xc - 0.15, b.max), (xc + 0.15, b.max)], edge),
                        PathElement::new(vec![(xc - 0.15, b.min), (xc + 0.15, b.min)], edge),
                    ])
                    .map_err(draw_err)?;
                if style.value_labels {
                    let text = value_text(b.median);
                    let style = cx.small().pos(Pos::new(HPos::Left, VPos::Center));
                    chart
                        .draw_series(std::iter::once(
                            EmptyElement::at((xc + 0.3, b.median))
                                + Text::new(text.clone(), (4, 0), style),
                        ))
                        .map_err(draw_err)?;
                    texts.push(text);
                }
            }
        }
        ChartBody::Heatmap {
            values,
            columns,
            rows,
        } => {
            let all = values.iter().flatten().copied();
            let lo = all.clone().fold(f64::INFINITY, f64::min);
            let hi = all.fold(f64::NEG_INFINITY, f64::max);
            let base = cx.color(0);
            for (r, row) in values.iter().enumerate() {
                let yc = y.pos(r);
                for (c, v) in row.iter().enumerate() {
                    let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                    let fill = Rgb(255, 255, 255).mix(base, 0.08 + 0.92 * t);
                    let xc = x.pos(c);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(xc - 0.5, yc - 0.5), (xc + 0.5, yc + 0.5)],
                            col(fill).filled(),
                        )))
                        .map_err(draw_err)?;
                    if style.value_labels {
                        let text = value_text(*v);
                        let st = recolor(cx.small(), fill.text_on())
                            .pos(Pos::new(HPos::Center, VPos::Center));
                        chart
                            .draw_series(std::iter::once(Text::new(text.clone(), (xc, yc), st)))
                            .map_err(draw_err)?;
                        texts.push(text);
                    }
                }
            }
            let _ = (columns, rows);
        }
        ChartBody::Pie { .. } => {}
    }
    for (px, py, text, horizontal) in labels {
        let (style, offset) = if horizontal {
            (beside.clone(), (4, 0))
        } else {
            (above.clone(), (0, -3))
        };
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((px, py)) + Text::new(text.clone(), offset, style),
            ))
            .map_err(draw_err)?;
        texts.push(text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use plotters::coord::ranged1d::Ranged;

    use super::Keyed;

    #[test]
    fn values_off_the_axis_map_to_its_edges() {
        let axis = Keyed {
            lo: 0.0,
            hi: 100.0,
            keys: Vec::new(),
        };
        let limit = (40, 540);
        assert_eq!(axis.map(&50.0, limit), 290);
        for (v, px) in [
            (1e12, 540),
            (f64::MAX, 540),
            (f64::INFINITY, 540),
            (-1e300, 40),
            (f64::NEG_INFINITY, 40),
        ] {
            assert_eq!(axis.map(&v, limit), px, "{v}");
        }
        // NaN (never valid in a spec) still lands inside the plot.
        assert!((40..=540).contains(&axis.map(&f64::NAN, limit)));
        // A reversed pixel range (y axes grow upwards) stays within it too.
        assert_eq!(axis.map(&1e12, (540, 40)), 40);
    }
}
