//! Question-answer pairs computed from a chart's spec (its data and how it is drawn).
//!
//! The rule (see the crate docs): exact values only when printed; comparisons without printed
//! values only when the gap is at least [`CLEAR_GAP`] of the value axis; numbers formatted
//! with [`format_number`] and the decimals the chart prints.

use pixmo_core::Rng;

use crate::chart::render::has_legend;
use crate::chart::spec::{BarMode, BoxStats, ChartBody, ChartSpec, LabeledPoint, Series};
use crate::style::{color_name, format_number};
use crate::{Qa, REFUSAL};

/// Smallest visible gap, as a fraction of the value axis, for comparisons of unprinted values.
pub const CLEAR_GAP: f64 = 0.06;

/// What the QA needs besides the spec: how to name things.
#[derive(Clone, Debug)]
pub struct ChartFacts {
    /// Lower-case measure (`electricity generation`).
    pub measure: String,
    /// Unit.
    pub unit: String,
    /// Noun for a category (`month`, `category`).
    pub noun: String,
    /// Noun for a series.
    pub series_noun: String,
    /// Names of the category kind that the chart does not show.
    pub absent: Vec<String>,
    /// Whether colours have plain names and the legend shows the mapping.
    pub named_colors: bool,
}

struct Out<'a> {
    qa: Vec<Qa>,
    rng: &'a mut Rng,
}

impl Out<'_> {
    fn push(&mut self, question: String, explanation: String, answer: String, qa_type: &str) {
        self.qa.push(Qa {
            question,
            explanation,
            answer,
            qa_type: qa_type.to_owned(),
        });
    }

    fn pick<'b, T>(&mut self, items: &'b [T]) -> Option<&'b T> {
        self.rng.choose(items)
    }
}

fn yes_no(b: bool) -> String {
    if b { "Yes".into() } else { "No".into() }
}

/// Index of the clear maximum (or minimum) of `values`: it must beat the runner-up by `gap`
/// (by anything when the values are printed: they are already rounded as printed).
#[must_use]
pub fn clear_extreme(values: &[f64], highest: bool, gap: f64) -> Option<usize> {
    if values.len() < 2 {
        return None;
    }
    let key = |v: f64| if highest { v } else { -v };
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| key(values[*b]).total_cmp(&key(values[*a])));
    let (best, second) = (order[0], order[1]);
    (key(values[best]) - key(values[second]) >= gap.max(1e-9)).then_some(best)
}

/// A pair `(a, b)` whose values differ by at least `gap`, with a balanced answer to
/// "is a greater than b?".
fn clear_pair(out: &mut Out<'_>, values: &[f64], gap: f64) -> Option<(usize, usize)> {
    let n = values.len();
    let mut pairs = Vec::new();
    for a in 0..n {
        for b in 0..n {
            if a != b && (values[a] - values[b]).abs() >= gap.max(1e-9) {
                pairs.push((a, b));
            }
        }
    }
    let want_yes = out.rng.bool(0.5);
    let matching: Vec<(usize, usize)> = pairs
        .iter()
        .copied()
        .filter(|&(a, b)| (values[a] > values[b]) == want_yes)
        .collect();
    out.pick(&matching).copied()
}

/// QA for a chart.
pub fn chart_qa(spec: &ChartSpec, facts: &ChartFacts, rng: &mut Rng) -> Vec<Qa> {
    let mut out = Out {
        qa: Vec::new(),
        rng,
    };
    if !spec.title.is_empty() {
        out.push(
            "What is the title of the chart?".into(),
            format!("The title printed at the top reads \"{}\".", spec.title),
            spec.title.clone(),
            "retrieval",
        );
    }
    let style = &spec.style;
    let axis_gap = CLEAR_GAP * spec.value_axis().map_or(0.0, |axis| axis.hi - axis.lo);
    let printed_gap = 0.5 * 10f64.powi(-i32::from(style.decimals));
    let fmt = |v: f64| format_number(v, style.decimals);
    match &spec.chart {
        ChartBody::Bar {
            categories,
            series,
            mode,
            ..
        } => {
            let stacked = *mode == BarMode::Stacked;
            count_categories(&mut out, facts, categories, "bars");
            if stacked {
                out.push(
                    "How many segments does each bar have?".into(),
                    format!(
                        "Each bar is split into {} coloured segments, one per series.",
                        series.len()
                    ),
                    series.len().to_string(),
                    "figure",
                );
                let totals: Vec<f64> = (0..categories.len())
                    .map(|c| series.iter().map(|s| s.values[c]).sum())
                    .collect();
                category_questions(
                    &mut out,
                    spec,
                    facts,
                    categories,
                    &totals,
                    None,
                    "combined ",
                    if style.value_labels {
                        printed_gap
                    } else {
                        axis_gap
                    },
                    style.value_labels,
                );
            } else {
                out.push(
                    "How many bars are shown in the chart?".into(),
                    format!(
                        "There are {} categories with {} bar(s) each.",
                        categories.len(),
                        series.len()
                    ),
                    (categories.len() * series.len()).to_string(),
                    "figure",
                );
                series_questions(
                    &mut out,
                    spec,
                    facts,
                    categories,
                    series,
                    style.value_labels,
                    printed_gap,
                    axis_gap,
                    &fmt,
                );
            }
            legend_questions(&mut out, spec, facts, series);
        }
        ChartBody::Line {
            categories, series, ..
        } => {
            count_categories(&mut out, facts, categories, "");
            series_questions(
                &mut out,
                spec,
                facts,
                categories,
                series,
                style.value_labels,
                printed_gap,
                axis_gap,
                &fmt,
            );
            trend_question(
                &mut out,
                facts,
                categories,
                series,
                if style.value_labels {
                    printed_gap
                } else {
                    axis_gap
                },
                &fmt,
                style.value_labels,
            );
            legend_questions(&mut out, spec, facts, series);
        }
        ChartBody::Area {
            categories,
            series,
            stacked,
        } => {
            count_categories(&mut out, facts, categories, "");
            if *stacked {
                let totals: Vec<f64> = (0..categories.len())
                    .map(|c| series.iter().map(|s| s.values[c]).sum())
                    .collect();
                category_questions(
                    &mut out,
                    spec,
                    facts,
                    categories,
                    &totals,
                    None,
                    "combined ",
                    if style.value_labels {
                        printed_gap
                    } else {
                        axis_gap
                    },
                    style.value_labels,
                );
            } else {
                series_questions(
                    &mut out,
                    spec,
                    facts,
                    categories,
                    series,
                    style.value_labels,
                    printed_gap,
                    axis_gap,
                    &fmt,
                );
                trend_question(
                    &mut out,
                    facts,
                    categories,
                    series,
                    if style.value_labels {
                        printed_gap
                    } else {
                        axis_gap
                    },
                    &fmt,
                    style.value_labels,
                );
            }
            legend_questions(&mut out, spec, facts, series);
        }
        ChartBody::Pie { labels, values, .. } => {
            pie_questions(&mut out, spec, facts, labels, values, printed_gap)
        }
        ChartBody::Scatter { points } => scatter_questions(&mut out, spec, facts, points),
        ChartBody::Histogram { edges, counts } => {
            histogram_questions(&mut out, spec, edges, counts, axis_gap)
        }
        ChartBody::Box { boxes } => {
            box_questions(&mut out, spec, facts, boxes, printed_gap, axis_gap)
        }
        ChartBody::Heatmap {
            rows,
            columns,
            values,
        } => heatmap_questions(&mut out, spec, facts, rows, columns, values, printed_gap),
    }
    unanswerable(&mut out, facts);
    out.qa
}

fn count_categories(out: &mut Out<'_>, facts: &ChartFacts, categories: &[String], _what: &str) {
    out.push(
        format!("How many {}s are shown in the chart?", facts.noun),
        format!(
            "The axis lists {}: {}.",
            categories.len(),
            categories.join(", ")
        ),
        categories.len().to_string(),
        "count",
    );
}

fn suffix(series: Option<&str>) -> String {
    series.map_or_else(String::new, |s| format!(" for {s}"))
}

/// Questions about one list of values over the categories (one series, or stack totals).
#[allow(clippy::too_many_arguments)]
fn category_questions(
    out: &mut Out<'_>,
    spec: &ChartSpec,
    facts: &ChartFacts,
    categories: &[String],
    values: &[f64],
    series: Option<&str>,
    combined: &str,
    gap: f64,
    printed: bool,
) {
    let d = spec.style.decimals;
    let fmt = |v: f64| format_number(v, d);
    let m = &facts.measure;
    let noun = &facts.noun;
    let sfx = suffix(series);
    let n = categories.len();
    if printed {
        let c = out.rng.index(n);
        out.push(
            format!(
                "What is the value of {combined}{m} for {}{sfx}?",
                categories[c]
            ),
            format!("The label at {} reads {}.", categories[c], fmt(values[c])),
            fmt(values[c]),
            "retrieval",
        );
        let total: f64 = values.iter().sum();
        out.push(
            format!("What is the total {combined}{m} across all {noun}s{sfx}?"),
            format!(
                "Adding the labelled values {} gives {}.",
                values
                    .iter()
                    .map(|v| fmt(*v))
                    .collect::<Vec<_>>()
                    .join(" + "),
                fmt(total)
            ),
            fmt(total),
            "compositional",
        );
        let mean = total / n as f64;
        out.push(
            format!(
                "What is the average {combined}{m} per {noun}{sfx}? Round to two decimal places."
            ),
            format!(
                "The total is {} over {n} {noun}s, and {} / {n} = {}.",
                fmt(total),
                fmt(total),
                format_number(mean, 2)
            ),
            format_number(mean, 2),
            "compositional",
        );
        if n >= 2 {
            let a = out.rng.index(n);
            let b = (a + 1 + out.rng.index(n - 1)) % n;
            let diff = (values[a] - values[b]).abs();
            out.push(
                format!(
                    "What is the difference in {combined}{m} between {} and {}{sfx}?",
                    categories[a], categories[b]
                ),
                format!(
                    "{} shows {} and {} shows {}; the difference is {}.",
                    categories[a],
                    fmt(values[a]),
                    categories[b],
                    fmt(values[b]),
                    fmt(diff)
                ),
                fmt(diff),
                "compositional",
            );
        }
        // A threshold between two adjacent distinct values: the count above it is exact.
        let mut sorted: Vec<f64> = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        if sorted.len() >= 3 {
            let i = 1 + out.rng.index(sorted.len() - 2);
            let threshold = crate::style::round_to((sorted[i - 1] + sorted[i]) / 2.0, d + 1);
            if threshold > sorted[i - 1] && threshold < sorted[i] {
                let above = values.iter().filter(|v| **v > threshold).count();
                out.push(
                    format!(
                        "How many {noun}s have {combined}{m} above {}{sfx}?",
                        format_number(threshold, d + 1)
                    ),
                    format!(
                        "The {noun}s above {} are {}.",
                        format_number(threshold, d + 1),
                        categories
                            .iter()
                            .zip(values)
                            .filter(|(_, v)| **v > threshold)
                            .map(|(c, _)| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    above.to_string(),
                    "count",
                );
            }
        }
    }
    for highest in [true, false] {
        if let Some(i) = clear_extreme(values, highest, gap) {
            let word = if highest { "highest" } else { "lowest" };
            out.push(
                format!("Which {noun} has the {word} {combined}{m}{sfx}?"),
                format!(
                    "{} has the {word} value{}.",
                    categories[i],
                    if printed {
                        format!(" ({})", fmt(values[i]))
                    } else {
                        String::new()
                    }
                ),
                categories[i].clone(),
                "comparison",
            );
        }
    }
    if let Some((a, b)) = clear_pair(out, values, gap) {
        let yes = values[a] > values[b];
        out.push(
            format!(
                "Is the {combined}{m} for {} higher than for {}{sfx}?",
                categories[a], categories[b]
            ),
            format!(
                "{} is {} than {}.",
                categories[a],
                if yes { "higher" } else { "lower" },
                categories[b]
            ),
            yes_no(yes),
            "yes_no",
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn series_questions(
    out: &mut Out<'_>,
    spec: &ChartSpec,
    facts: &ChartFacts,
    categories: &[String],
    series: &[Series],
    printed: bool,
    printed_gap: f64,
    axis_gap: f64,
    fmt: &dyn Fn(f64) -> String,
) {
    let gap = if printed { printed_gap } else { axis_gap };
    let s = out.rng.index(series.len());
    let name = (series.len() > 1).then_some(series[s].name.as_str());
    category_questions(
        out,
        spec,
        facts,
        categories,
        &series[s].values,
        name,
        "",
        gap,
        printed,
    );
    if series.len() > 1 {
        let c = out.rng.index(categories.len());
        let column: Vec<f64> = series.iter().map(|s| s.values[c]).collect();
        if let Some(i) = clear_extreme(&column, true, gap) {
            out.push(
                format!(
                    "Which {} has the highest {} in {}?",
                    facts.series_noun, facts.measure, categories[c]
                ),
                format!(
                    "In {}, {} is highest{}.",
                    categories[c],
                    series[i].name,
                    if printed {
                        format!(" at {}", fmt(column[i]))
                    } else {
                        String::new()
                    }
                ),
                series[i].name.clone(),
                "comparison",
            );
        }
    }
}

fn trend_question(
    out: &mut Out<'_>,
    facts: &ChartFacts,
    categories: &[String],
    series: &[Series],
    gap: f64,
    fmt: &dyn Fn(f64) -> String,
    printed: bool,
) {
    let s = out.rng.index(series.len());
    let v = &series[s].values;
    let (first, last) = (v[0], v[v.len() - 1]);
    if (last - first).abs() < gap.max(1e-9) {
        return;
    }
    let sfx = suffix((series.len() > 1).then_some(series[s].name.as_str()));
    let up = last > first;
    out.push(
        format!(
            "Did the {}{sfx} increase or decrease from {} to {}?",
            facts.measure,
            categories[0],
            categories[categories.len() - 1]
        ),
        if printed {
            format!("It went from {} to {}.", fmt(first), fmt(last))
        } else {
            format!(
                "The line ends {} than it starts.",
                if up { "higher" } else { "lower" }
            )
        },
        if up {
            "Increase".into()
        } else {
            "Decrease".into()
        },
        "comparison",
    );
}

fn named(spec: &ChartSpec, i: usize) -> Option<&'static str> {
    let palette = &spec.style.palette;
    palette[i % palette.len()].rgb().ok().and_then(color_name)
}

fn legend_questions(out: &mut Out<'_>, spec: &ChartSpec, facts: &ChartFacts, series: &[Series]) {
    if series.len() < 2 || !has_legend(spec) {
        return;
    }
    out.push(
        "How many series does the legend list?".into(),
        format!(
            "The legend lists {}.",
            series
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        series.len().to_string(),
        "count",
    );
    if facts.named_colors && series.len() <= spec.style.palette.len() {
        let s = out.rng.index(series.len());
        if let Some(color) = named(spec, s) {
            out.push(
                format!("Which {} is shown in {color}?", facts.series_noun),
                format!(
                    "The legend pairs the {color} swatch with {}.",
                    series[s].name
                ),
                series[s].name.clone(),
                "figure",
            );
        }
    }
}

fn pie_questions(
    out: &mut Out<'_>,
    spec: &ChartSpec,
    facts: &ChartFacts,
    labels: &[String],
    values: &[f64],
    printed_gap: f64,
) {
    let d = spec.style.decimals;
    let fmt = |v: f64| format_number(v, d);
    let total: f64 = values.iter().sum();
    out.push(
        "How many slices does the chart have?".into(),
        format!("The slices are {}.", labels.join(", ")),
        labels.len().to_string(),
        "count",
    );
    let printed = spec.style.value_labels;
    // Angles show shares: without labels require 4 % of the whole between slices.
    let gap = if printed { printed_gap } else { 0.04 * total };
    for highest in [true, false] {
        if let Some(i) = clear_extreme(values, highest, gap) {
            let word = if highest { "largest" } else { "smallest" };
            out.push(
                format!("Which slice is the {word}?"),
                format!("{} has the {word} share of {}.", labels[i], facts.measure),
                labels[i].clone(),
                "comparison",
            );
        }
    }
    if printed {
        let i = out.rng.index(labels.len());
        out.push(
            format!("What is the value shown for {}?", labels[i]),
            format!("The {} slice is labelled {}.", labels[i], fmt(values[i])),
            fmt(values[i]),
            "retrieval",
        );
        let share = 100.0 * values[i] / total;
        out.push(
            format!(
                "What percentage of the total does {} account for? Round to one decimal place.",
                labels[i]
            ),
            format!(
                "{} / {} x 100 = {}%.",
                fmt(values[i]),
                fmt(total),
                format_number(share, 1)
            ),
            format!("{}%", format_number(share, 1)),
            "compositional",
        );
        out.push(
            "What is the sum of all slice values?".into(),
            format!(
                "{} = {}.",
                values
                    .iter()
                    .map(|v| fmt(*v))
                    .collect::<Vec<_>>()
                    .join(" + "),
                fmt(total)
            ),
            fmt(total),
            "compositional",
        );
    }
    if let Some((a, b)) = clear_pair(out, values, gap) {
        let yes = values[a] > values[b];
        out.push(
            format!(
                "Is the {} slice larger than the {} slice?",
                labels[a], labels[b]
            ),
            format!(
                "{} is {} than {}.",
                labels[a],
                if yes { "larger" } else { "smaller" },
                labels[b]
            ),
            yes_no(yes),
            "yes_no",
        );
    }
    if facts.named_colors {
        let i = out.rng.index(labels.len().min(spec.style.palette.len()));
        if let Some(color) = named(spec, i) {
            out.push(
                format!("Which slice is colored {color}?"),
                format!("The {color} slice is {}.", labels[i]),
                labels[i].clone(),
                "figure",
            );
        }
    }
}

fn scatter_questions(
    out: &mut Out<'_>,
    spec: &ChartSpec,
    facts: &ChartFacts,
    points: &[LabeledPoint],
) {
    out.push(
        "How many points are plotted?".into(),
        format!("There are {} markers.", points.len()),
        points.len().to_string(),
        "count",
    );
    if points.iter().any(|p| p.label.is_empty()) {
        return;
    }
    let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.y).collect();
    let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
    let span = |v: &[f64]| {
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - v.iter().copied().fold(f64::INFINITY, f64::min)
    };
    let (gy, gx) = (0.08 * span(&ys), 0.08 * span(&xs));
    if let Some(i) = clear_extreme(&ys, true, gy) {
        out.push(
            format!("Which {} has the highest {}?", facts.noun, facts.measure),
            format!(
                "The point labelled {} sits highest on the y-axis.",
                labels[i]
            ),
            labels[i].clone(),
            "comparison",
        );
    }
    if let Some(i) = clear_extreme(&xs, false, gx) {
        out.push(
            format!(
                "Which {} is furthest to the left (lowest {})?",
                facts.noun, spec.x_label
            ),
            format!("The point labelled {} has the smallest x value.", labels[i]),
            labels[i].clone(),
            "comparison",
        );
    }
    if let Some((a, b)) = clear_pair(out, &ys, gy) {
        let yes = ys[a] > ys[b];
        out.push(
            format!(
                "Does {} have a higher {} than {}?",
                labels[a], facts.measure, labels[b]
            ),
            format!(
                "{} is plotted {} than {}.",
                labels[a],
                if yes { "higher" } else { "lower" },
                labels[b]
            ),
            yes_no(yes),
            "yes_no",
        );
    }
}

fn bin_name(edges: &[f64], i: usize) -> String {
    let d = edges
        .iter()
        .map(|e| super::step_decimals(*e))
        .max()
        .unwrap_or(0);
    format!(
        "{} to {}",
        format_number(edges[i], d),
        format_number(edges[i + 1], d)
    )
}

fn histogram_questions(
    out: &mut Out<'_>,
    spec: &ChartSpec,
    edges: &[f64],
    counts: &[u64],
    axis_gap: f64,
) {
    let values: Vec<f64> = counts.iter().map(|c| *c as f64).collect();
    out.push(
        "How many bins does the histogram have?".into(),
        format!(
            "The x-axis is divided at {} edges, giving {} bins.",
            edges.len(),
            counts.len()
        ),
        counts.len().to_string(),
        "count",
    );
    let printed = spec.style.value_labels;
    let gap = if printed { 0.5 } else { axis_gap };
    if let Some(i) = clear_extreme(&values, true, gap) {
        out.push(
            "Which range contains the most observations?".into(),
            format!("The tallest bar spans {}.", bin_name(edges, i)),
            bin_name(edges, i),
            "comparison",
        );
    }
    if printed {
        let total: u64 = counts.iter().sum();
        out.push(
            "How many observations are there in total?".into(),
            format!(
                "Adding the bar labels: {} = {total}.",
                counts
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
            total.to_string(),
            "compositional",
        );
        let i = out.rng.index(counts.len());
        out.push(
            format!(
                "How many observations fall in the range {}?",
                bin_name(edges, i)
            ),
            format!(
                "The bar over {} is labelled {}.",
                bin_name(edges, i),
                counts[i]
            ),
            counts[i].to_string(),
            "retrieval",
        );
    }
    if let Some((a, b)) = clear_pair(out, &values, gap) {
        let yes = values[a] > values[b];
        out.push(
            format!(
                "Are there more observations in the range {} than in the range {}?",
                bin_name(edges, a),
                bin_name(edges, b)
            ),
            format!(
                "The bar over {} is {} than the bar over {}.",
                bin_name(edges, a),
                if yes { "taller" } else { "shorter" },
                bin_name(edges, b)
            ),
            yes_no(yes),
            "yes_no",
        );
    }
}

fn box_questions(
    out: &mut Out<'_>,
    spec: &ChartSpec,
    facts: &ChartFacts,
    boxes: &[BoxStats],
    printed_gap: f64,
    axis_gap: f64,
) {
    let d = spec.style.decimals;
    let fmt = |v: f64| format_number(v, d);
    let labels: Vec<String> = boxes.iter().map(|b| b.label.clone()).collect();
    let medians: Vec<f64> = boxes.iter().map(|b| b.median).collect();
    out.push(
        "How many boxes are shown?".into(),
        format!("There is one box per group: {}.", labels.join(", ")),
        boxes.len().to_string(),
        "count",
    );
    let printed = spec.style.value_labels;
    let gap = if printed { printed_gap } else { axis_gap };
    for highest in [true, false] {
        if let Some(i) = clear_extreme(&medians, highest, gap) {
            let word = if highest { "highest" } else { "lowest" };
            out.push(
                format!("Which group has the {word} median {}?", facts.measure),
                format!("The median line of {} is the {word}.", labels[i]),
                labels[i].clone(),
                "comparison",
            );
        }
    }
    if printed {
        let i = out.rng.index(boxes.len());
        out.push(
            format!("What is the median {} for {}?", facts.measure, labels[i]),
            format!(
                "The median of {} is labelled {}.",
                labels[i],
                fmt(medians[i])
            ),
            fmt(medians[i]),
            "retrieval",
        );
        if boxes.len() >= 2 {
            let a = out.rng.index(boxes.len());
            let b = (a + 1 + out.rng.index(boxes.len() - 1)) % boxes.len();
            out.push(
                format!(
                    "What is the difference between the medians of {} and {}?",
                    labels[a], labels[b]
                ),
                format!(
                    "{} - {} in absolute value is {}.",
                    fmt(medians[a]),
                    fmt(medians[b]),
                    fmt((medians[a] - medians[b]).abs())
                ),
                fmt((medians[a] - medians[b]).abs()),
                "compositional",
            );
        }
    }
    let ranges: Vec<f64> = boxes.iter().map(|b| b.max - b.min).collect();
    if let Some(i) = clear_extreme(&ranges, true, axis_gap) {
        out.push(
            "Which group has the widest spread between its whiskers?".into(),
            format!("The whiskers of {} span the longest distance.", labels[i]),
            labels[i].clone(),
            "comparison",
        );
    }
    if let Some((a, b)) = clear_pair(out, &medians, gap) {
        let yes = medians[a] > medians[b];
        out.push(
            format!(
                "Is the median of {} higher than the median of {}?",
                labels[a], labels[b]
            ),
            format!(
                "The median line of {} is {}.",
                labels[a],
                if yes { "higher" } else { "lower" }
            ),
            yes_no(yes),
            "yes_no",
        );
    }
}

fn heatmap_questions(
    out: &mut Out<'_>,
    spec: &ChartSpec,
    facts: &ChartFacts,
    rows: &[String],
    columns: &[String],
    values: &[Vec<f64>],
    printed_gap: f64,
) {
    let d = spec.style.decimals;
    let fmt = |v: f64| format_number(v, d);
    out.push(
        "How many cells does the heat map have?".into(),
        format!("{} rows times {} columns.", rows.len(), columns.len()),
        (rows.len() * columns.len()).to_string(),
        "count",
    );
    out.push(
        "How many rows does the heat map have?".into(),
        format!("The rows are {}.", rows.join(", ")),
        rows.len().to_string(),
        "count",
    );
    let printed = spec.style.value_labels;
    let r = out.rng.index(rows.len());
    let row = &values[r];
    let lo = values
        .iter()
        .flatten()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi = values
        .iter()
        .flatten()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    // Colour differences are harder to read than bar lengths: a quarter of the colour range.
    let gap = if printed {
        printed_gap
    } else {
        0.25 * (hi - lo)
    };
    if let Some(c) = clear_extreme(row, true, gap) {
        out.push(
            format!(
                "In the {} row, which {} has the highest value?",
                rows[r], facts.noun
            ),
            format!(
                "The darkest cell of row {} is under {}.",
                rows[r], columns[c]
            ),
            columns[c].clone(),
            "comparison",
        );
    }
    if printed {
        let c = out.rng.index(columns.len());
        out.push(
            format!("What is the value for {} in {}?", rows[r], columns[c]),
            format!(
                "The cell at row {} and column {} reads {}.",
                rows[r],
                columns[c],
                fmt(row[c])
            ),
            fmt(row[c]),
            "retrieval",
        );
        let total: f64 = row.iter().sum();
        out.push(
            format!("What is the sum of the values in the {} row?", rows[r]),
            format!(
                "{} = {}.",
                row.iter().map(|v| fmt(*v)).collect::<Vec<_>>().join(" + "),
                fmt(total)
            ),
            fmt(total),
            "compositional",
        );
    }
}

fn unanswerable(out: &mut Out<'_>, facts: &ChartFacts) {
    let absent = facts.absent.clone();
    if let Some(name) = out.pick(&absent).cloned() {
        out.push(
            format!("What is the value of {} for {name}?", facts.measure),
            format!("{name} does not appear in the chart, so its value cannot be read."),
            REFUSAL.into(),
            "unanswerable",
        );
    } else {
        out.push(
            "Which organisation collected the data shown?".into(),
            "The chart names no source.".into(),
            REFUSAL.into(),
            "unanswerable",
        );
    }
}
