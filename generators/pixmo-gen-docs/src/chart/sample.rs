//! Seeded persona, topic, data and style for a chart, then render and QA.

use pixmo_core::Rng;

use crate::bank::{self, Axis, Domain, Subject};
use crate::chart::cartesian::nice_step;
use crate::chart::qa::{self, ChartFacts};
use crate::chart::render::{has_legend, render_chart};
use crate::chart::spec::{
    BarMode, BoxStats, ChartBody, ChartSpec, ChartStyle, LabeledPoint, LegendPosition, Orientation,
    Series,
};
use crate::error::Result;
use crate::fonts::FontChoice;
use crate::style::{BACKGROUNDS, HexColor, NAMED_COLORS, PALETTES, Rgb, round_to};
use crate::{DocSample, FigureKind, GenerateOptions};

/// Canvas size: width in the option bounds, aspect ratio between 0.6 and 1.7.
pub(crate) fn canvas(rng: &mut Rng, options: &GenerateOptions) -> (u32, u32) {
    let w = rng.range_u32(options.min_side, options.max_side + 1);
    let aspect = rng.range_f64(0.6, 1.7);
    let h = (f64::from(w) / aspect).round() as u32;
    (w, h.clamp(options.min_side, options.max_side))
}

/// A palette: named colours (so colour questions can be asked) or a designer palette.
pub(crate) fn palette(rng: &mut Rng) -> (Vec<Rgb>, bool) {
    if rng.bool(0.4) {
        let names: Vec<&str> = NAMED_COLORS.iter().map(|(n, _)| *n).collect();
        let chosen = bank::pick(rng, &names, 8, false);
        let mut colors: Vec<Rgb> = chosen
            .iter()
            .filter_map(|n| NAMED_COLORS.iter().find(|(m, _)| m == n).map(|(_, c)| *c))
            .collect();
        shuffle(rng, &mut colors);
        (colors, true)
    } else {
        let mut colors = PALETTES[rng.index(PALETTES.len())].to_vec();
        let k = rng.index(colors.len());
        colors.rotate_left(k);
        (colors, false)
    }
}

pub(crate) fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.index(i + 1);
        items.swap(i, j);
    }
}

/// Values in `range`: a random walk for ordered axes, independent draws otherwise.
fn values(rng: &mut Rng, n: usize, subject: &Subject, ordered: bool) -> Vec<f64> {
    let (lo, hi) = subject.range;
    let span = hi - lo;
    let mut v = rng.range_f64(lo + 0.2 * span, hi - 0.2 * span);
    (0..n)
        .map(|_| {
            let x = if ordered {
                v += rng.normal(0.0, 0.15 * span);
                // Reflect at the range ends (clamping would create ties at the bounds).
                if v > hi {
                    v = 2.0 * hi - v;
                }
                if v < lo {
                    v = 2.0 * lo - v;
                }
                v = v.clamp(lo, hi);
                v
            } else {
                rng.range_f64(lo, hi)
            };
            round_to(x.max(lo), subject.decimals)
        })
        .collect()
}

fn ordered(axis: Axis) -> bool {
    !matches!(axis, Axis::List(_))
}

fn axis_noun(axis: Axis) -> &'static str {
    match axis {
        Axis::Months => "month",
        Axis::Quarters => "quarter",
        Axis::Years => "year",
        Axis::Weekdays => "day",
        Axis::List(_) => "category",
    }
}

fn axis_title(axis: Axis) -> &'static str {
    match axis {
        Axis::Months => "Month",
        Axis::Quarters => "Quarter",
        Axis::Years => "Year",
        Axis::Weekdays => "Day",
        Axis::List(_) => "",
    }
}

/// Names of the same kind that are not in `shown` (for unanswerable questions).
fn absent(rng: &mut Rng, axis: Axis, shown: &[String]) -> Vec<String> {
    let pool: Vec<String> = bank::axis_names(rng, axis, bank::axis_len(axis));
    pool.into_iter().filter(|p| !shown.contains(p)).collect()
}

fn style(
    rng: &mut Rng,
    w: u32,
    decimals: u8,
    value_max_raw: f64,
    series: usize,
) -> (ChartStyle, bool) {
    let (colors, named) = palette(rng);
    // Canvas and plot area fall in different 4-bit colour buckets, so no single colour
    // covers most of a sparse chart (PixMo-Docs rejects figures where one exceeds 95 %).
    let light = BACKGROUNDS[rng.index(BACKGROUNDS.len())];
    let tint = light.mix(Rgb(0, 0, 0), 0.075);
    let (background, plot_background) = if rng.bool(0.5) {
        (light, tint)
    } else {
        (tint, Rgb(255, 255, 255))
    };
    let font_size = (f64::from(w) / 55.0 + rng.range_f64(-1.5, 2.5))
        .round()
        .clamp(10.0, 20.0) as u32;
    let step = nice_step(value_max_raw * 1.12, rng.range_f64(5.0, 8.0));
    let value_max = (value_max_raw * 1.12 / step).ceil() * step;
    let legend = match rng.index(if series > 1 { 3 } else { 4 }) {
        0 => LegendPosition::Top,
        1 => LegendPosition::Bottom,
        2 => LegendPosition::Right,
        _ => LegendPosition::None,
    };
    let style = ChartStyle {
        font: FontChoice::ALL[rng.index(FontChoice::ALL.len())],
        font_size,
        background: HexColor::of(background),
        plot_background: HexColor::of(plot_background),
        palette: colors.iter().map(|c| HexColor::of(*c)).collect(),
        grid: rng.bool(0.6),
        legend,
        value_labels: rng.bool(0.6),
        decimals,
        tick_step: Some(step),
        value_min: None,
        value_max: Some(value_max),
        stroke_width: rng.range_u32(2, 4),
    };
    (style, named)
}

/// Generates a chart of `kind`.
pub(crate) fn generate(
    kind: FigureKind,
    seed: u64,
    options: &GenerateOptions,
) -> Result<DocSample> {
    let mut rng = Rng::new(seed);
    let domain: &Domain = bank::domain(&mut rng);
    let subject: Subject = domain.subjects[rng.index(domain.subjects.len())];
    let persona = bank::persona(&mut rng, domain);
    let place = bank::place(&mut rng);
    let (w, h) = canvas(&mut rng, options);
    let measure = subject.measure;
    let unit = subject.unit;
    let y_label = format!("{measure} ({unit})");
    let mut facts = ChartFacts {
        measure: measure.to_lowercase(),
        unit: unit.to_owned(),
        noun: axis_noun(subject.categories).to_owned(),
        series_noun: "series".to_owned(),
        absent: Vec::new(),
        named_colors: false,
    };
    let (body, title, x_label, y_label, topic, max_raw, series_count): (
        ChartBody,
        String,
        String,
        String,
        String,
        f64,
        usize,
    ) = match kind {
        FigureKind::BarChart | FigureKind::StackedBarChart => {
            let stacked = kind == FigureKind::StackedBarChart;
            let n_max = bank::axis_len(subject.categories).min(if stacked { 7 } else { 8 });
            let n = rng.range_u32(3, n_max as u32 + 1) as usize;
            let k = if stacked {
                rng.range_u32(2, 5) as usize
            } else if rng.bool(0.5) {
                1
            } else {
                rng.range_u32(2, 4) as usize
            };
            let categories = bank::axis_names(&mut rng, subject.categories, n);
            let names = bank::series_names(&mut rng, &subject, k);
            let series: Vec<Series> = names
                .into_iter()
                .map(|name| Series {
                    values: values(&mut rng, n, &subject, ordered(subject.categories)),
                    name,
                })
                .collect();
            let max_raw = if stacked {
                (0..n)
                    .map(|c| series.iter().map(|s| s.values[c]).sum::<f64>())
                    .fold(0.0, f64::max)
            } else {
                series
                    .iter()
                    .flat_map(|s| s.values.iter().copied())
                    .fold(0.0, f64::max)
            };
            facts.absent = absent(&mut rng, subject.categories, &categories);
            let orientation = if rng.bool(0.35) {
                Orientation::Horizontal
            } else {
                Orientation::Vertical
            };
            let by = axis_noun(subject.categories);
            let title = match rng.index(3) {
                0 => format!("{measure} by {by} in {place}"),
                1 => format!("{measure} in {place}"),
                _ => format!("{place}: {measure}"),
            };
            let topic = format!("{} by {by} in {place}", measure.to_lowercase());
            let (xl, yl) = match orientation {
                Orientation::Vertical => {
                    (axis_title(subject.categories).to_owned(), y_label.clone())
                }
                Orientation::Horizontal => {
                    (y_label.clone(), axis_title(subject.categories).to_owned())
                }
            };
            let mode = if stacked {
                BarMode::Stacked
            } else {
                BarMode::Grouped
            };
            (
                ChartBody::Bar {
                    orientation,
                    mode,
                    categories,
                    series,
                },
                title,
                xl,
                yl,
                topic,
                max_raw,
                k,
            )
        }
        FigureKind::LineChart | FigureKind::AreaChart => {
            // Ordered x axis; a list subject becomes one series per list item over years.
            let (axis, series_names): (Axis, Vec<String>) = match subject.categories {
                Axis::List(items) => {
                    let k = rng.range_u32(1, 5) as usize;
                    (
                        Axis::Years,
                        bank::axis_names(&mut rng, Axis::List(items), k),
                    )
                }
                axis => {
                    let k = rng.range_u32(1, 4) as usize;
                    (axis, bank::series_names(&mut rng, &subject, k))
                }
            };
            facts.noun = axis_noun(axis).to_owned();
            let n = rng.range_u32(4, bank::axis_len(axis).min(10) as u32 + 1) as usize;
            let categories = bank::axis_names(&mut rng, axis, n);
            let series: Vec<Series> = series_names
                .into_iter()
                .map(|name| Series {
                    values: values(&mut rng, n, &subject, true),
                    name,
                })
                .collect();
            let stacked = kind == FigureKind::AreaChart && series.len() > 1 && rng.bool(0.5);
            let max_raw = if stacked {
                (0..n)
                    .map(|c| series.iter().map(|s| s.values[c]).sum::<f64>())
                    .fold(0.0, f64::max)
            } else {
                series
                    .iter()
                    .flat_map(|s| s.values.iter().copied())
                    .fold(0.0, f64::max)
            };
            facts.absent = absent(&mut rng, axis, &categories);
            let k = series.len();
            let title = format!(
                "{measure} in {place}, {} to {}",
                categories[0],
                categories[n - 1]
            );
            let topic = format!("{} over time in {place}", measure.to_lowercase());
            let body = if kind == FigureKind::LineChart {
                ChartBody::Line {
                    categories,
                    series,
                    markers: rng.bool(0.6),
                }
            } else {
                ChartBody::Area {
                    categories,
                    series,
                    stacked,
                }
            };
            (
                body,
                title,
                axis_title(axis).to_owned(),
                y_label.clone(),
                topic,
                max_raw,
                k,
            )
        }
        FigureKind::PieChart => {
            let axis = match subject.categories {
                Axis::List(_) => subject.categories,
                _ => Axis::List(bank::CHANNELS),
            };
            let n = rng.range_u32(3, bank::axis_len(axis).min(7) as u32 + 1) as usize;
            let labels = bank::axis_names(&mut rng, axis, n);
            let vals: Vec<f64> = values(&mut rng, n, &subject, false)
                .into_iter()
                .map(|v| {
                    v.max(round_to(subject.range.1 * 0.05, subject.decimals))
                        .max(1.0)
                })
                .collect();
            facts.absent = absent(&mut rng, axis, &labels);
            let hole = if rng.bool(0.35) {
                rng.range_f64(0.35, 0.6)
            } else {
                0.0
            };
            let title = format!("Share of {} in {place}", measure.to_lowercase());
            let topic = format!("breakdown of {} in {place}", measure.to_lowercase());
            let max_raw = vals.iter().copied().fold(0.0, f64::max);
            (
                ChartBody::Pie {
                    labels,
                    values: vals,
                    hole,
                },
                title,
                String::new(),
                String::new(),
                topic,
                max_raw,
                1,
            )
        }
        FigureKind::ScatterPlot => {
            let other = domain.subjects[(rng.index(domain.subjects.len() - 1)
                + 1
                + domain
                    .subjects
                    .iter()
                    .position(|s| s.measure == subject.measure)
                    .unwrap_or(0))
                % domain.subjects.len()];
            let n = rng.range_u32(5, 15) as usize;
            let labels = bank::axis_names(&mut rng, Axis::List(bank::PLACES), n);
            let label_points = n <= 10 && rng.bool(0.8);
            let xs = values(&mut rng, n, &other, false);
            let ys = values(&mut rng, n, &subject, false);
            let points: Vec<LabeledPoint> = (0..n)
                .map(|i| LabeledPoint {
                    label: if label_points {
                        labels[i].clone()
                    } else {
                        String::new()
                    },
                    x: xs[i],
                    y: ys[i],
                })
                .collect();
            facts.noun = "city".to_owned();
            facts.absent = absent(&mut rng, Axis::List(bank::PLACES), &labels);
            let title = format!("{measure} vs. {}", other.measure.to_lowercase());
            let topic = format!(
                "relationship between {} and {} across cities",
                other.measure.to_lowercase(),
                measure.to_lowercase()
            );
            let max_raw = ys.iter().copied().fold(0.0, f64::max);
            (
                ChartBody::Scatter { points },
                title,
                format!("{} ({})", other.measure, other.unit),
                y_label.clone(),
                topic,
                max_raw,
                1,
            )
        }
        FigureKind::Histogram => {
            let (lo, hi) = subject.range;
            let step = nice_step(hi - lo, rng.range_f64(5.0, 9.0));
            let start = (lo / step).floor() * step;
            let bins = (((hi - start) / step).ceil() as usize).clamp(3, 14);
            let edges: Vec<f64> = (0..=bins)
                .map(|i| round_to(start + step * i as f64, 6))
                .collect();
            let total = rng.range_u32(40, 400);
            let centre = rng.range_f64(0.2, 0.8) * bins as f64;
            let spread = rng.range_f64(0.12, 0.35) * bins as f64;
            let mut counts = vec![0u64; bins];
            for _ in 0..total {
                let b = rng.normal(centre, spread).floor();
                if b >= 0.0 && (b as usize) < bins {
                    counts[b as usize] += 1;
                }
            }
            if counts.iter().all(|c| *c == 0) {
                counts[bins / 2] = 1;
            }
            let things = unit.to_owned();
            let title = format!("Distribution of {} in {place}", measure.to_lowercase());
            let topic = format!(
                "distribution of {} across sites in {place}",
                measure.to_lowercase()
            );
            facts.noun = "bin".to_owned();
            facts.unit = things;
            let max_raw = counts.iter().copied().max().unwrap_or(1) as f64;
            let y = if rng.bool(0.5) {
                "Count".to_owned()
            } else {
                "Frequency".to_owned()
            };
            (
                ChartBody::Histogram { edges, counts },
                title,
                y_label.clone(),
                y,
                topic,
                max_raw,
                1,
            )
        }
        FigureKind::BoxPlot => {
            let axis = match subject.categories {
                Axis::List(_) => subject.categories,
                _ => Axis::List(bank::REGIONS),
            };
            let n = rng.range_u32(3, bank::axis_len(axis).min(7) as u32 + 1) as usize;
            let labels = bank::axis_names(&mut rng, axis, n);
            let (lo, hi) = subject.range;
            let span = hi - lo;
            let d = subject.decimals;
            let boxes: Vec<BoxStats> = labels
                .iter()
                .map(|label| {
                    let median = rng.range_f64(lo + 0.25 * span, hi - 0.25 * span);
                    let q1 = median - rng.range_f64(0.04, 0.15) * span;
                    let q3 = median + rng.range_f64(0.04, 0.15) * span;
                    let min = (q1 - rng.range_f64(0.03, 0.12) * span).max(0.0);
                    let max = q3 + rng.range_f64(0.03, 0.12) * span;
                    BoxStats {
                        label: label.clone(),
                        min: round_to(min, d),
                        q1: round_to(q1, d),
                        median: round_to(median, d),
                        q3: round_to(q3, d),
                        max: round_to(max, d),
                    }
                })
                .collect();
            facts.absent = absent(&mut rng, axis, &labels);
            let title = format!("Spread of {} in {place}", measure.to_lowercase());
            let topic = format!(
                "variation of {} by group in {place}",
                measure.to_lowercase()
            );
            let max_raw = boxes.iter().map(|b| b.max).fold(0.0, f64::max);
            (
                ChartBody::Box { boxes },
                title,
                String::new(),
                y_label.clone(),
                topic,
                max_raw,
                n,
            )
        }
        FigureKind::Heatmap => {
            let n = rng.range_u32(3, bank::axis_len(subject.categories).min(8) as u32 + 1) as usize;
            let k = rng.range_u32(3, 7) as usize;
            let columns = bank::axis_names(&mut rng, subject.categories, n);
            let rows = bank::series_names(&mut rng, &subject, k);
            let vals: Vec<Vec<f64>> = rows
                .iter()
                .map(|_| values(&mut rng, n, &subject, ordered(subject.categories)))
                .collect();
            facts.absent = absent(&mut rng, subject.categories, &columns);
            let title = format!("{measure} ({unit}) in {place}");
            let topic = format!(
                "{} across groups and {}s in {place}",
                measure.to_lowercase(),
                axis_noun(subject.categories)
            );
            let max_raw = vals.iter().flatten().copied().fold(0.0, f64::max);
            let k = rows.len();
            (
                ChartBody::Heatmap {
                    rows,
                    columns,
                    values: vals,
                },
                title,
                axis_title(subject.categories).to_owned(),
                String::new(),
                topic,
                max_raw,
                k,
            )
        }
        other => {
            return Err(crate::Error::UnsupportedKind {
                kind: other.name().to_owned(),
            });
        }
    };
    let (mut style, named) = style(
        &mut rng,
        w,
        subject.decimals,
        max_raw.max(1e-3),
        series_count,
    );
    match &body {
        ChartBody::Histogram { .. } => style.decimals = 0,
        // Labels of several lines collide; print values for single lines only.
        ChartBody::Line { series, .. }
        | ChartBody::Area {
            series,
            stacked: false,
            ..
        } if series.len() > 1 => {
            style.value_labels = false;
        }
        _ => {}
    }
    // Category labels that would collide under vertical bars: lay the bars horizontally.
    let mut body = body;
    let (mut x_label, mut y_label) = (x_label, y_label);
    if let ChartBody::Bar {
        orientation,
        categories,
        ..
    } = &mut body
    {
        let chars: usize = categories.iter().map(|c| c.chars().count() + 2).sum();
        let needed = chars as f64 * f64::from(style.font_size) * 0.85 * 0.6;
        if *orientation == Orientation::Vertical && needed > f64::from(w) * 0.75 {
            *orientation = Orientation::Horizontal;
            std::mem::swap(&mut x_label, &mut y_label);
        }
    }
    let spec = ChartSpec {
        chart: body,
        title,
        x_label,
        y_label,
        width: w,
        height: h,
        style,
    };
    facts.named_colors = named && has_legend(&spec);
    let rendered = render_chart(&spec)?;
    let code = serde_json::to_string_pretty(&spec).map_err(crate::Error::SpecJson)?;
    let data = serde_json::json!({
        "measure": measure,
        "unit": unit,
        "chart": serde_json::to_value(&spec.chart).map_err(crate::Error::SpecJson)?,
    });
    let qa = qa::chart_qa(&spec, &facts, &mut rng);
    let image = pixmo_core::RgbaImage::new(rendered.width, rendered.height, rendered.rgba)
        .map_err(|message| crate::Error::Draw { message })?;
    Ok(DocSample {
        figure_type: figure_type(kind, &spec),
        category: kind.category(),
        persona,
        topic,
        data,
        code,
        image,
        qa,
        drawn_text: rendered.texts,
    })
}

fn figure_type(kind: FigureKind, spec: &ChartSpec) -> String {
    match (&spec.chart, kind) {
        (
            ChartBody::Bar {
                orientation: Orientation::Horizontal,
                mode: BarMode::Stacked,
                ..
            },
            _,
        ) => "horizontal stacked bar chart".into(),
        (
            ChartBody::Bar {
                mode: BarMode::Stacked,
                ..
            },
            _,
        ) => "stacked bar chart".into(),
        (
            ChartBody::Bar {
                orientation: Orientation::Horizontal,
                ..
            },
            _,
        ) => "horizontal bar chart".into(),
        (ChartBody::Bar { series, .. }, _) if series.len() > 1 => "grouped bar chart".into(),
        (ChartBody::Area { stacked: true, .. }, _) => "stacked area chart".into(),
        (ChartBody::Pie { hole, .. }, _) if *hole > 0.0 => "donut chart".into(),
        (_, kind) => kind.name().replace('_', " "),
    }
}
