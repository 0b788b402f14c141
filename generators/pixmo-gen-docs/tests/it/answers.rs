//! Answers are right: every numeric and yes/no answer is recomputed here from the data in
//! `code`/`data` (parsed as plain JSON, not with the crate's types), and every extractive
//! answer is a string that was drawn.

use pixmo_gen_docs::style::NAMED_COLORS;
use pixmo_gen_docs::{Category, DocSample, FigureKind, REFUSAL};
use serde_json::Value;

use crate::util::{samples, svg_texts};

const TYPES: &[&str] = &[
    "retrieval",
    "count",
    "comparison",
    "compositional",
    "yes_no",
    "figure",
    "reasoning",
    "unanswerable",
];

fn fmt(v: f64, d: u64) -> String {
    format!("{:.*}", d as usize, v)
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

fn argmax(v: &[f64], highest: bool) -> usize {
    let mut best = 0;
    for i in 1..v.len() {
        if (highest && v[i] > v[best]) || (!highest && v[i] < v[best]) {
            best = i;
        }
    }
    best
}

/// Verified answers, by kind of check (to prove each template is exercised).
#[derive(Default)]
struct Tally {
    checked: usize,
    yes: usize,
    no: usize,
}

/// Recomputes one chart QA from the spec; `None` when the question is not numeric/yes-no.
#[allow(clippy::too_many_lines)]
fn check_chart(spec: &Value, q: &str, a: &str) -> Option<String> {
    let chart = &spec["chart"];
    let style = &spec["style"];
    let d = style["decimals"].as_u64().unwrap();
    let labelled = style["value_labels"].as_bool().unwrap();
    let value_max = style["value_max"].as_f64().unwrap();
    let ty = chart["type"].as_str().unwrap();
    match ty {
        "bar" | "line" | "area" => {
            let cats = strs(&chart["categories"]);
            let series: Vec<(String, Vec<f64>)> = chart["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["name"].as_str().unwrap().to_owned(), nums(&s["values"])))
                .collect();
            let stacked = chart["mode"] == "stacked" || chart["stacked"] == true;
            let totals: Vec<f64> = (0..cats.len())
                .map(|c| series.iter().map(|s| s.1[c]).sum())
                .collect();
            // The values a question is about: a named series, or totals when "combined".
            let pick = |q: &str, tail: &str| -> Option<Vec<f64>> {
                if q.contains("combined") {
                    return Some(totals.clone());
                }
                if series.len() == 1 {
                    return q.ends_with(tail).then(|| series[0].1.clone());
                }
                series
                    .iter()
                    .find(|(name, _)| q.ends_with(&format!(" for {name}{tail}")))
                    .map(|s| s.1.clone())
            };
            if q.starts_with("How many bars") {
                return Some((cats.len() * series.len()).to_string());
            }
            if q.starts_with("How many segments") {
                return Some(series.len().to_string());
            }
            if q.starts_with("How many series") {
                return Some(series.len().to_string());
            }
            if q.starts_with("How many") && q.ends_with("are shown in the chart?") {
                return Some(cats.len().to_string());
            }
            if q.starts_with("What is the total") {
                assert!(labelled, "sums need printed values: {q}");
                let v = pick(q, "?")?;
                return Some(fmt(v.iter().sum(), d));
            }
            if q.starts_with("What is the average") {
                let v = pick(q, "? Round to two decimal places.")?;
                return Some(fmt(v.iter().sum::<f64>() / v.len() as f64, 2));
            }
            if q.starts_with("What is the value of") {
                assert!(labelled, "exact values need printed values: {q}");
                for (c, cat) in cats.iter().enumerate() {
                    let tails: Vec<String> = if q.contains("combined") || series.len() == 1 {
                        vec![format!(" for {cat}?")]
                    } else {
                        series
                            .iter()
                            .map(|s| format!(" for {cat} for {}?", s.0))
                            .collect()
                    };
                    for (s, tail) in tails.iter().enumerate() {
                        if q.ends_with(tail.as_str()) {
                            let v = if q.contains("combined") {
                                totals[c]
                            } else {
                                series[s].1[c]
                            };
                            return Some(fmt(v, d));
                        }
                    }
                }
                return None;
            }
            if q.starts_with("What is the difference") {
                for (i, x) in cats.iter().enumerate() {
                    for (j, y) in cats.iter().enumerate() {
                        if let Some(v) = pick(q, "?") {
                            let needle = format!(" between {x} and {y}");
                            if q.contains(&needle) {
                                return Some(fmt((v[i] - v[j]).abs(), d));
                            }
                        }
                    }
                }
                return None;
            }
            if q.starts_with("How many") && q.contains(" above ") {
                let v = pick(q, "?")?;
                let rest = &q[q.find(" above ").unwrap() + 7..];
                let t: f64 = rest.split([' ', '?']).next().unwrap().parse().unwrap();
                return Some(v.iter().filter(|x| **x > t).count().to_string());
            }
            if q.starts_with("Which series has the highest") {
                let c = cats
                    .iter()
                    .position(|c| q.ends_with(&format!(" in {c}?")))
                    .unwrap();
                let col: Vec<f64> = series.iter().map(|s| s.1[c]).collect();
                let i = argmax(&col, true);
                assert_eq!(a, series[i].0, "{q}");
                let mut sorted = col.clone();
                sorted.sort_by(f64::total_cmp);
                let gap = sorted[sorted.len() - 1] - sorted[sorted.len() - 2];
                assert!(
                    labelled || gap >= 0.06 * value_max - 1e-9,
                    "unclear gap: {q}"
                );
                return Some(a.to_owned());
            }
            if q.starts_with("Which series is shown in ") {
                let color = q
                    .trim_start_matches("Which series is shown in ")
                    .trim_end_matches('?');
                let rgb = NAMED_COLORS.iter().find(|(n, _)| *n == color).unwrap().1;
                let palette = strs(&style["palette"]);
                let i = palette.iter().position(|p| *p == rgb.hex()).unwrap();
                return Some(series[i].0.clone());
            }
            if q.starts_with("Which") && (q.contains(" highest ") || q.contains(" lowest ")) {
                let v = pick(q, "?")?;
                let highest = q.contains(" highest ");
                let i = argmax(&v, highest);
                let mut sorted = v.clone();
                sorted.sort_by(f64::total_cmp);
                if !highest {
                    sorted.reverse();
                }
                let gap = (sorted[sorted.len() - 1] - sorted[sorted.len() - 2]).abs();
                assert!(
                    gap > 0.0 && (labelled || gap >= 0.06 * value_max - 1e-9),
                    "unclear gap {gap}: {q}"
                );
                return Some(cats[i].clone());
            }
            if q.starts_with("Is the") {
                let v = pick(q, "?")?;
                for (i, x) in cats.iter().enumerate() {
                    for (j, y) in cats.iter().enumerate() {
                        if q.contains(&format!(" for {x} higher than for {y}")) {
                            assert!(labelled || (v[i] - v[j]).abs() >= 0.06 * value_max - 1e-9);
                            return Some(if v[i] > v[j] { "Yes" } else { "No" }.into());
                        }
                    }
                }
                return None;
            }
            if q.starts_with("Did the") {
                let v = if series.len() == 1 {
                    series[0].1.clone()
                } else {
                    series
                        .iter()
                        .find(|s| q.contains(&format!(" for {} increase", s.0)))?
                        .1
                        .clone()
                };
                let _ = stacked;
                return Some(
                    if v[v.len() - 1] > v[0] {
                        "Increase"
                    } else {
                        "Decrease"
                    }
                    .into(),
                );
            }
            None
        }
        "pie" => {
            let labels = strs(&chart["labels"]);
            let values = nums(&chart["values"]);
            let total: f64 = values.iter().sum();
            let find = |q: &str| {
                labels
                    .iter()
                    .position(|l| q.contains(&format!(" {l} ")) || q.contains(&format!(" {l}?")))
            };
            if q.starts_with("How many slices") {
                return Some(labels.len().to_string());
            }
            if q.starts_with("What percentage") {
                let i = find(q)?;
                return Some(format!("{}%", fmt(100.0 * values[i] / total, 1)));
            }
            if q.starts_with("What is the sum") {
                return Some(fmt(total, d));
            }
            if q.starts_with("What is the value shown for") {
                return Some(fmt(values[find(q)?], d));
            }
            if q.starts_with("Which slice is the") {
                return Some(labels[argmax(&values, q.contains("largest"))].clone());
            }
            if q.starts_with("Is the") {
                for (i, x) in labels.iter().enumerate() {
                    for (j, y) in labels.iter().enumerate() {
                        if q == format!("Is the {x} slice larger than the {y} slice?") {
                            return Some(if values[i] > values[j] { "Yes" } else { "No" }.into());
                        }
                    }
                }
            }
            None
        }
        "histogram" => {
            let edges = nums(&chart["edges"]);
            let counts = nums(&chart["counts"]);
            if q.starts_with("How many bins") {
                return Some(counts.len().to_string());
            }
            if q.starts_with("How many observations are there in total") {
                return Some(fmt(counts.iter().sum(), 0));
            }
            if q.starts_with("How many observations fall in the range ") {
                let range = q
                    .trim_start_matches("How many observations fall in the range ")
                    .trim_end_matches('?');
                let lo: f64 = range.split(" to ").next().unwrap().parse().unwrap();
                let i = edges.iter().position(|e| (e - lo).abs() < 1e-9).unwrap();
                return Some(fmt(counts[i], 0));
            }
            if q.starts_with("Which range") {
                let i = argmax(&counts, true);
                let lo: f64 = a.split(" to ").next().unwrap().parse().unwrap();
                assert!((edges[i] - lo).abs() < 1e-9, "{q} -> {a}");
                return Some(a.to_owned());
            }
            if q.starts_with("Are there more") {
                let parts: Vec<&str> = q.split("range ").skip(1).collect();
                let lo = |s: &str| -> usize {
                    let v: f64 = s.split(" to ").next().unwrap().parse().unwrap();
                    edges.iter().position(|e| (e - v).abs() < 1e-9).unwrap()
                };
                let (i, j) = (lo(parts[0]), lo(parts[1]));
                return Some(if counts[i] > counts[j] { "Yes" } else { "No" }.into());
            }
            None
        }
        "box" => {
            let boxes = chart["boxes"].as_array().unwrap();
            let labels: Vec<String> = boxes
                .iter()
                .map(|b| b["label"].as_str().unwrap().to_owned())
                .collect();
            let medians: Vec<f64> = boxes
                .iter()
                .map(|b| b["median"].as_f64().unwrap())
                .collect();
            if q.starts_with("How many boxes") {
                return Some(labels.len().to_string());
            }
            if q.starts_with("What is the median") {
                let i = labels
                    .iter()
                    .position(|l| q.ends_with(&format!(" for {l}?")))?;
                return Some(fmt(medians[i], d));
            }
            if q.starts_with("What is the difference between the medians of ") {
                for (i, x) in labels.iter().enumerate() {
                    for (j, y) in labels.iter().enumerate() {
                        if q.ends_with(&format!(" of {x} and {y}?")) {
                            return Some(fmt((medians[i] - medians[j]).abs(), d));
                        }
                    }
                }
            }
            if q.starts_with("Which group has the") && q.contains("median") {
                return Some(labels[argmax(&medians, q.contains("highest"))].clone());
            }
            if q.starts_with("Is the median of ") {
                for (i, x) in labels.iter().enumerate() {
                    for (j, y) in labels.iter().enumerate() {
                        if q == format!("Is the median of {x} higher than the median of {y}?") {
                            return Some(if medians[i] > medians[j] { "Yes" } else { "No" }.into());
                        }
                    }
                }
            }
            None
        }
        "heatmap" => {
            let rows = strs(&chart["rows"]);
            let cols = strs(&chart["columns"]);
            let values: Vec<Vec<f64>> = chart["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(nums)
                .collect();
            if q.starts_with("How many cells") {
                return Some((rows.len() * cols.len()).to_string());
            }
            if q.starts_with("How many rows") {
                return Some(rows.len().to_string());
            }
            if q.starts_with("What is the value for ") {
                for (r, row) in rows.iter().enumerate() {
                    for (c, col) in cols.iter().enumerate() {
                        if q == format!("What is the value for {row} in {col}?") {
                            return Some(fmt(values[r][c], d));
                        }
                    }
                }
            }
            if q.starts_with("What is the sum of the values in the ") {
                let r = rows
                    .iter()
                    .position(|row| q.contains(&format!(" the {row} row")))?;
                return Some(fmt(values[r].iter().sum(), d));
            }
            if q.starts_with("In the ") {
                let r = rows
                    .iter()
                    .position(|row| q.starts_with(&format!("In the {row} row")))?;
                return Some(cols[argmax(&values[r], true)].clone());
            }
            None
        }
        "scatter" => {
            let points = chart["points"].as_array().unwrap();
            if q.starts_with("How many points") {
                return Some(points.len().to_string());
            }
            let label = |i: usize| points[i]["label"].as_str().unwrap().to_owned();
            let ys: Vec<f64> = points.iter().map(|p| p["y"].as_f64().unwrap()).collect();
            let xs: Vec<f64> = points.iter().map(|p| p["x"].as_f64().unwrap()).collect();
            if q.contains("has the highest") {
                return Some(label(argmax(&ys, true)));
            }
            if q.contains("furthest to the left") {
                return Some(label(argmax(&xs, false)));
            }
            if q.starts_with("Does ") {
                for i in 0..points.len() {
                    for j in 0..points.len() {
                        if q.starts_with(&format!("Does {} have", label(i)))
                            && q.ends_with(&format!(" than {}?", label(j)))
                        {
                            return Some(if ys[i] > ys[j] { "Yes" } else { "No" }.into());
                        }
                    }
                }
            }
            None
        }
        _ => None,
    }
}

fn check_diagram(kind: FigureKind, data: &Value, q: &str) -> Option<String> {
    let nodes = data["nodes"].as_array().unwrap();
    let edges: Vec<(usize, usize, Option<String>)> = data["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_u64().unwrap() as usize,
                e["to"].as_u64().unwrap() as usize,
                e["label"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let label = |i: usize| nodes[i]["label"].as_str().unwrap().to_owned();
    let find = |name: &str| (0..nodes.len()).find(|i| label(*i) == name);
    let kind_of = |i: usize| nodes[i]["kind"].as_str().unwrap().to_owned();
    let quoted: Vec<&str> = q.split('"').skip(1).step_by(2).collect();
    match kind {
        FigureKind::Flowchart => {
            if q.starts_with("How many decision points") {
                return Some(
                    (0..nodes.len())
                        .filter(|i| kind_of(*i) == "decision")
                        .count()
                        .to_string(),
                );
            }
            if q.starts_with("How many process steps") {
                return Some(
                    (0..nodes.len())
                        .filter(|i| kind_of(*i) == "process")
                        .count()
                        .to_string(),
                );
            }
            if q.starts_with("If every decision is answered Yes") {
                let mut at = 0;
                let mut n = 0;
                while let Some(next) = edges
                    .iter()
                    .find(|e| e.0 == at && e.2.as_deref() != Some("No"))
                    .map(|e| e.1)
                {
                    if kind_of(next) == "terminal" {
                        break;
                    }
                    n += usize::from(kind_of(next) == "process");
                    at = next;
                }
                return Some(n.to_string());
            }
            if q.starts_with("Is there a direct arrow") {
                let (a, b) = (find(quoted[0])?, find(quoted[1])?);
                return Some(
                    if edges.iter().any(|e| e.0 == a && e.1 == b) {
                        "Yes"
                    } else {
                        "No"
                    }
                    .into(),
                );
            }
            None
        }
        FigureKind::OrgChart => {
            let names: Vec<String> = (0..nodes.len()).map(label).collect();
            let named = |q: &str| names.iter().position(|n| q.contains(n.as_str()));
            if q.starts_with("How many people are shown") {
                return Some(nodes.len().to_string());
            }
            if q.starts_with("How many direct reports does ") {
                let m = named(q)?;
                return Some(edges.iter().filter(|e| e.0 == m).count().to_string());
            }
            if q.starts_with("How many people are below ") {
                let m = named(q)?;
                let mut count = 0;
                let mut stack = vec![m];
                while let Some(x) = stack.pop() {
                    for e in edges.iter().filter(|e| e.0 == x) {
                        count += 1;
                        stack.push(e.1);
                    }
                }
                return Some(count.to_string());
            }
            if q.starts_with("Does ") {
                let rest = q.trim_start_matches("Does ");
                let (b, a) = rest
                    .trim_end_matches('?')
                    .split_once(" report directly to ")?;
                let (a, b) = (find(a)?, find(b)?);
                return Some(
                    if edges.iter().any(|e| e.0 == a && e.1 == b) {
                        "Yes"
                    } else {
                        "No"
                    }
                    .into(),
                );
            }
            None
        }
        FigureKind::Timeline => {
            let year = |i: usize| nodes[i]["detail"].as_str().unwrap().parse::<i64>().unwrap();
            if q.starts_with("How many events are shown") {
                return Some(nodes.len().to_string());
            }
            if q.starts_with("In which year") {
                return Some(year(find(quoted[0])?).to_string());
            }
            if q.starts_with("How many years passed") {
                let (a, b) = (find(quoted[0])?, find(quoted[1])?);
                return Some((year(b) - year(a)).abs().to_string());
            }
            if q.starts_with("Did ") {
                let (a, b) = (find(quoted[0])?, find(quoted[1])?);
                return Some(if year(a) < year(b) { "Yes" } else { "No" }.into());
            }
            if q.starts_with("How many events happened before ") {
                let cut: i64 = q
                    .trim_start_matches("How many events happened before ")
                    .trim_end_matches('?')
                    .parse()
                    .unwrap();
                return Some(
                    (0..nodes.len())
                        .filter(|i| year(*i) < cut)
                        .count()
                        .to_string(),
                );
            }
            if q.starts_with("Which event happened first") {
                return Some(label((0..nodes.len()).min_by_key(|i| year(*i))?));
            }
            if q.starts_with("Which event is the most recent") {
                return Some(label((0..nodes.len()).max_by_key(|i| year(*i))?));
            }
            None
        }
        _ => {
            let degree = |i: usize| edges.iter().filter(|e| e.0 == i || e.1 == i).count();
            if q.starts_with("How many nodes") {
                return Some(nodes.len().to_string());
            }
            if q.starts_with("How many links") {
                return Some(edges.len().to_string());
            }
            if q.starts_with("How many connections does ") {
                let name = q
                    .trim_start_matches("How many connections does ")
                    .trim_end_matches(" have?");
                return Some(degree(find(name)?).to_string());
            }
            if q.starts_with("Are ") {
                let (a, b) = q
                    .trim_start_matches("Are ")
                    .trim_end_matches(" directly connected?")
                    .split_once(" and ")?;
                let (a, b) = (find(a)?, find(b)?);
                return Some(
                    if edges
                        .iter()
                        .any(|e| (e.0 == a && e.1 == b) || (e.0 == b && e.1 == a))
                    {
                        "Yes"
                    } else {
                        "No"
                    }
                    .into(),
                );
            }
            if q.starts_with("Which node has the most") {
                return Some(label((0..nodes.len()).max_by_key(|i| degree(*i))?));
            }
            None
        }
    }
}

fn is_numeric(a: &str) -> bool {
    a.trim_end_matches('%').parse::<f64>().is_ok()
}

fn check_sample(kind: FigureKind, s: &DocSample, tally: &mut Tally) {
    assert!(
        !s.qa.is_empty() && s.qa.len() <= 24,
        "{kind:?}: {} QA",
        s.qa.len()
    );
    assert!(
        s.qa.iter().filter(|q| q.qa_type == "unanswerable").count() == 1,
        "{kind:?}"
    );
    let drawn: Vec<String> = match s.category {
        Category::Diagrams => svg_texts(&s.code),
        _ => s.drawn_text.clone(),
    };
    if s.category == Category::Diagrams {
        let mut a = drawn.clone();
        let mut b = s.drawn_text.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "drawn texts are the SVG's text elements");
    }
    let spec: Value = serde_json::from_str(&s.code).unwrap_or(Value::Null);
    for qa in &s.qa {
        let (q, a) = (qa.question.as_str(), qa.answer.as_str());
        assert!(TYPES.contains(&qa.qa_type.as_str()), "{qa:?}");
        assert!(
            !q.is_empty() && !a.is_empty() && !qa.explanation.is_empty(),
            "{qa:?}"
        );
        if qa.qa_type == "unanswerable" {
            assert_eq!(a, REFUSAL);
            continue;
        }
        assert_ne!(a, REFUSAL, "{qa:?}");
        let expected = match s.category {
            Category::Diagrams => check_diagram(kind, &s.data, q),
            _ => check_chart(&spec, q, a),
        };
        match expected {
            Some(want) => {
                assert_eq!(a, want, "{kind:?} `{q}`\n{}", s.code);
                tally.checked += 1;
            }
            None => {
                // Not recomputed: must be non-numeric and copied from what was drawn.
                assert!(
                    !is_numeric(a) && a != "Yes" && a != "No",
                    "{kind:?}: unverified answer `{a}` to `{q}`"
                );
            }
        }
        match a {
            "Yes" => tally.yes += 1,
            "No" => tally.no += 1,
            _ => {}
        }
        let extractive = !is_numeric(a) && !["Yes", "No", "Increase", "Decrease"].contains(&a);
        if extractive {
            let parts: Vec<&str> = if q.contains("range") {
                a.split(" to ").collect()
            } else {
                vec![a]
            };
            for part in parts {
                assert!(
                    drawn.iter().any(|t| t == part),
                    "{kind:?}: `{part}` (answer to `{q}`) was not drawn: {drawn:?}"
                );
            }
        }
    }
}

#[test]
fn every_answer_is_recomputed_or_drawn() {
    let mut tally = Tally::default();
    for kind in FigureKind::ALL {
        for s in samples(kind, 12) {
            check_sample(kind, &s, &mut tally);
        }
    }
    assert!(
        tally.checked > 600,
        "only {} answers recomputed",
        tally.checked
    );
    let total = tally.yes + tally.no;
    assert!(total > 50, "{total} yes/no questions");
    let share = tally.yes as f64 / total as f64;
    assert!(
        (0.3..0.7).contains(&share),
        "yes share {share:.2} of {total}"
    );
}

#[test]
fn personas_topics_and_data_vary() {
    for kind in FigureKind::ALL {
        let mut personas = std::collections::BTreeSet::new();
        let mut topics = std::collections::BTreeSet::new();
        let mut sizes = std::collections::BTreeSet::new();
        let all = samples(kind, 8);
        for s in &all {
            personas.insert(s.persona.clone());
            topics.insert(s.topic.clone());
            sizes.insert((s.image.width, s.image.height));
        }
        assert!(
            personas.len() >= 7,
            "{kind:?}: {} personas in 8",
            personas.len()
        );
        assert!(topics.len() >= 5, "{kind:?}: {} topics in 8", topics.len());
        assert!(sizes.len() >= 5, "{kind:?}: {} sizes in 8", sizes.len());
    }
}

/// PixMo-Docs' render gates hold by construction: smaller side at least 128 px, aspect at
/// most 5, and no colour (quantized to 4 bits per channel) over 95 % of the pixels.
#[test]
fn figures_pass_pixmo_docs_render_gates() {
    for kind in FigureKind::ALL {
        for s in samples(kind, 6) {
            let (w, h) = (s.image.width, s.image.height);
            assert!(
                w.min(h) >= 128 && w.max(h) <= 5 * w.min(h),
                "{kind:?}: {w}x{h}"
            );
            let mut counts = vec![0u32; 4096];
            for p in s.image.data.chunks_exact(4) {
                counts[(usize::from(p[0] >> 4) << 8)
                    | (usize::from(p[1] >> 4) << 4)
                    | usize::from(p[2] >> 4)] += 1;
            }
            let share = f64::from(counts.into_iter().max().unwrap()) / f64::from(w * h);
            assert!(share <= 0.93, "{kind:?}: one colour covers {share:.3}");
        }
    }
}
