//! Recomputing numeric answers against the data: an LLM-written answer that is a number must
//! be one of the data's numbers or follow from them by one of the operations the QA prompts
//! ask for (sum, mean, median, extremes, range, count, a difference, sum, ratio, percentage or
//! percent change of two values), at the precision the answer is written with.

use serde_json::Value;

/// A number written as an answer (`1,250`, `$3.5`, `42%`, `-0.25`) and its decimal places;
/// `None` for anything with words in it.
#[must_use]
pub fn parse_number(text: &str) -> Option<(f64, u32)> {
    let t = text.trim();
    let t = t
        .strip_prefix(['$', '€', '£', '¥'])
        .unwrap_or(t)
        .trim_end_matches('%')
        .trim();
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | '-' | '+'))
        || !t.chars().any(|c| c.is_ascii_digit())
    {
        return None;
    }
    // Thousands separators must group three digits.
    let (int_part, frac) = t.split_once('.').unwrap_or((t, ""));
    if int_part.contains(',') {
        let groups: Vec<&str> = int_part.trim_start_matches(['-', '+']).split(',').collect();
        if groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3) {
            return None;
        }
    }
    let value: f64 = t.replace(',', "").parse().ok()?;
    let decimals = u32::try_from(frac.len()).ok()?;
    value.is_finite().then_some((value, decimals))
}

/// Numbers and numeric lists found in a JSON value.
#[derive(Debug, Default)]
struct Facts {
    numbers: Vec<f64>,
    lists: Vec<Vec<f64>>,
    lengths: Vec<usize>,
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s).map(|p| p.0),
        _ => None,
    }
}

fn collect(v: &Value, facts: &mut Facts) {
    match v {
        Value::Array(items) => {
            facts.lengths.push(items.len());
            let nums: Vec<f64> = items.iter().filter_map(number_of).collect();
            if !nums.is_empty() {
                facts.lists.push(nums);
            }
            // Columns of an array of objects (`[{"month": "Jan", "sales": 10}, ...]`).
            let mut keys: Vec<&String> = items
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|o| o.keys())
                .collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let column: Vec<f64> = items
                    .iter()
                    .filter_map(|i| i.get(key.as_str()).and_then(number_of))
                    .collect();
                if column.len() > 1 {
                    facts.lists.push(column);
                }
            }
            for item in items {
                collect(item, facts);
            }
        }
        Value::Object(map) => {
            facts.lengths.push(map.len());
            let nums: Vec<f64> = map.values().filter_map(number_of).collect();
            if nums.len() > 1 {
                facts.lists.push(nums);
            }
            for item in map.values() {
                collect(item, facts);
            }
        }
        other => {
            if let Some(n) = number_of(other) {
                facts.numbers.push(n);
            }
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// Largest number of distinct data values combined pairwise.
const MAX_PAIRWISE: usize = 400;

/// How `value` (written with `decimals` places) follows from `data`, or `None` when it does
/// not. Candidates are compared after rounding to the answer's precision.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn derivation(value: f64, decimals: u32, data: &Value) -> Option<String> {
    let mut facts = Facts::default();
    collect(data, &mut facts);
    let tolerance = 0.5 * 10f64.powi(-i32::try_from(decimals).unwrap_or(9)) + 1e-9 * value.abs();
    let close = |c: f64| c.is_finite() && (c - value).abs() <= tolerance;

    if let Some(n) = facts.numbers.iter().find(|&&n| close(n)) {
        return Some(format!("the data value {n}"));
    }
    for list in &facts.lists {
        let sum: f64 = list.iter().sum();
        let max = list.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = list.iter().copied().fold(f64::INFINITY, f64::min);
        let candidates = [
            ("sum", sum),
            ("mean", sum / list.len() as f64),
            ("median", median(list)),
            ("range", max - min),
        ];
        if let Some((name, c)) = candidates.iter().find(|(_, c)| close(*c)) {
            return Some(format!("the {name} of {list:?} ({c})"));
        }
    }
    if facts.lengths.iter().any(|&n| close(n as f64)) {
        return Some(format!("a count of items ({value})"));
    }
    let mut distinct = facts.numbers.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    distinct.truncate(MAX_PAIRWISE);
    for (i, &a) in distinct.iter().enumerate() {
        for &b in &distinct[i + 1..] {
            let candidates = [
                ("sum", a + b),
                ("difference", b - a),
                ("difference", a - b),
                ("ratio", a / b),
                ("ratio", b / a),
                ("percentage", 100.0 * a / b),
                ("percentage", 100.0 * b / a),
                ("percent change", 100.0 * (b - a) / a),
                ("percent change", 100.0 * (a - b) / b),
            ];
            if let Some((name, c)) = candidates.iter().find(|(_, c)| close(*c)) {
                return Some(format!("the {name} of {a} and {b} ({c})"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_parse_as_written() {
        assert_eq!(parse_number("1,250"), Some((1250.0, 0)));
        assert_eq!(parse_number("$3.50"), Some((3.5, 2)));
        assert_eq!(parse_number("42%"), Some((42.0, 0)));
        assert_eq!(parse_number("-0.25"), Some((-0.25, 2)));
        assert_eq!(parse_number("12,34"), None);
        assert_eq!(parse_number("about 12"), None);
        assert_eq!(parse_number("2019-2020"), None);
        assert_eq!(parse_number("Yes"), None);
    }

    #[test]
    fn answers_are_recomputed_from_the_data() {
        let data = json!({
            "title": "Rainfall",
            "rows": [
                {"month": "Jan", "mm": 120.5},
                {"month": "Feb", "mm": 80},
                {"month": "Mar", "mm": "95.5"}
            ]
        });
        let ok = |text: &str| {
            let (v, d) = parse_number(text).unwrap();
            derivation(v, d, &data)
        };
        assert!(ok("120.5").unwrap().contains("data value"));
        assert!(ok("296").unwrap().contains("sum"));
        assert!(ok("98.7").unwrap().contains("mean"), "{:?}", ok("98.7"));
        assert!(ok("40.5").unwrap().contains("range"));
        assert!(ok("3").unwrap().contains("count"));
        assert!(
            ok("15.5").unwrap().contains("difference"),
            "{:?}",
            ok("15.5")
        );
        assert!(ok("150.6%").unwrap().contains("percentage"));
        // Wrong arithmetic is caught.
        assert_eq!(ok("300"), None);
        assert_eq!(ok("98.6"), None);
    }
}
