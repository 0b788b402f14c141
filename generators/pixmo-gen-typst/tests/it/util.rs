//! Helpers shared by the tests: an independent evaluator of QA programs over the drawn strings,
//! and PNG encoding.

use pixmo_gen_typst::{DocSample, QaProgram, REFUSAL};
use serde_json::Value;

/// A drawn number (`$1,234.50`, `12.5%`, `-3`) in hundredths, parsed without the crate's
/// formatting code.
pub fn hundredths(text: &str) -> Option<i128> {
    let neg = text.trim_start().starts_with('-');
    let digits: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac = format!("{frac:0<2}");
    assert!(frac.len() == 2, "more than two decimals in {text:?}");
    let v = int * 100 + frac.parse::<i128>().ok()?;
    Some(if neg { -v } else { v })
}

fn table<'a>(data: &'a Value, key: &str) -> &'a Value {
    data["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == key)
        .unwrap_or_else(|| panic!("no table {key}"))
}

fn column(t: &Value, name: &str) -> usize {
    t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn rows(t: &Value) -> Vec<Vec<String>> {
    serde_json::from_value(t["rows"].clone()).unwrap()
}

fn column_values(t: &Value, name: &str) -> Vec<(String, i128)> {
    let c = column(t, name);
    rows(t)
        .into_iter()
        .map(|r| {
            let v = hundredths(&r[c]).unwrap_or_else(|| panic!("not a number: {}", r[c]));
            (r[0].clone(), v)
        })
        .collect()
}

fn value_of(t: &Value, name: &str, row: &str) -> i128 {
    column_values(t, name)
        .into_iter()
        .find(|(l, _)| l == row)
        .unwrap_or_else(|| panic!("no row {row}"))
        .1
}

fn yes(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

/// Recomputes one answer from `data` alone; `Err` describes a mismatch.
pub fn check_answer(data: &Value, program: &QaProgram, answer: &str) -> Result<(), String> {
    let expect_num = |want: i128| -> Result<(), String> {
        match hundredths(answer) {
            Some(got) if got == want => Ok(()),
            got => Err(format!(
                "want {want} hundredths, answer {answer:?} parses as {got:?}"
            )),
        }
    };
    let expect = |want: &str| -> Result<(), String> {
        if want == answer {
            Ok(())
        } else {
            Err(format!("want {want:?}, answer {answer:?}"))
        }
    };
    match program {
        QaProgram::Field { key } => {
            let f = data["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["key"] == key.as_str())
                .ok_or("no field")?;
            expect(f["value"].as_str().unwrap())
        }
        QaProgram::Cell {
            table: k,
            row,
            column: c,
        } => {
            let t = table(data, k);
            let ci = column(t, c);
            let r = rows(t).into_iter().find(|r| &r[0] == row).ok_or("no row")?;
            expect(&r[ci])
        }
        QaProgram::Sum {
            table: k,
            column: c,
        } => expect_num(
            column_values(table(data, k), c)
                .iter()
                .map(|(_, v)| v)
                .sum(),
        ),
        QaProgram::Mean {
            table: k,
            column: c,
        } => {
            let vals = column_values(table(data, k), c);
            let (sum, n): (i128, i128) = (vals.iter().map(|(_, v)| v).sum(), vals.len() as i128);
            // Half away from zero, in hundredths.
            let q = (2 * sum.abs() + n) / (2 * n);
            expect_num(if sum < 0 { -q } else { q })
        }
        QaProgram::Difference {
            table: k,
            column: c,
            a,
            b,
        } => {
            let t = table(data, k);
            expect_num(value_of(t, c, a) - value_of(t, c, b))
        }
        QaProgram::ArgMax {
            table: k,
            column: c,
        }
        | QaProgram::ArgMin {
            table: k,
            column: c,
        } => {
            let vals = column_values(table(data, k), c);
            let max = matches!(program, QaProgram::ArgMax { .. });
            let best = if max {
                vals.iter().map(|v| v.1).max()
            } else {
                vals.iter().map(|v| v.1).min()
            }
            .unwrap();
            let hits: Vec<&String> = vals.iter().filter(|v| v.1 == best).map(|v| &v.0).collect();
            if hits.len() != 1 {
                return Err(format!("extreme is not unique: {hits:?}"));
            }
            expect(hits[0])
        }
        QaProgram::Greater {
            table: k,
            column: c,
            a,
            b,
        } => {
            let t = table(data, k);
            expect(yes(value_of(t, c, a) > value_of(t, c, b)))
        }
        QaProgram::CountRows { table: k } => expect(&rows(table(data, k)).len().to_string()),
        QaProgram::CountAbove {
            table: k,
            column: c,
            than,
        } => {
            let t = table(data, k);
            let limit = value_of(t, c, than);
            expect(
                &column_values(t, c)
                    .iter()
                    .filter(|v| v.1 > limit)
                    .count()
                    .to_string(),
            )
        }
        QaProgram::CountList { list } => {
            let l = data["lists"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["key"] == list.as_str())
                .ok_or("no list")?;
            expect(&l["items"].as_array().unwrap().len().to_string())
        }
        QaProgram::ListContains { list, item } => {
            let l = data["lists"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["key"] == list.as_str())
                .ok_or("no list")?;
            expect(yes(l["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i == item.as_str())))
        }
        QaProgram::Unanswerable => expect(REFUSAL),
    }
}

/// Whether `needle` appears in the sample's laid-out text (lines, or wrapped across them).
pub fn drawn(sample: &DocSample, needle: &str) -> bool {
    let needle = needle.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut joined = String::new();
    for line in &sample.text_lines {
        let glued = joined.ends_with('-') && !joined.ends_with(" -");
        if !joined.is_empty() && !glued {
            joined.push(' ');
        }
        joined.push_str(line);
    }
    sample.text_lines.iter().any(|l| l.contains(&needle))
        || joined.contains(&needle)
        || sample.layout_text.contains(&needle)
}
