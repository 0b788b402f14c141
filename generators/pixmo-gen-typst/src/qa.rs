//! Exact question-answer pairs computed from a document's [`DocData`].
//!
//! Every [`Qa`] carries the [`QaProgram`] that produced its answer, so a reader (and the
//! tests) can recompute it from the drawn strings in `data` without trusting this module.

use pixmo_core::Rng;
use serde::{Deserialize, Serialize};

use crate::model::{DocData, TableData};
use crate::typ::format_scaled;

/// The answer to questions the document cannot answer.
pub const REFUSAL: &str = "Cannot be determined from the document.";

/// What kind of reasoning a question needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QaKind {
    /// Read one value.
    Retrieval,
    /// Several operations (sums, averages, differences, extremes).
    Compositional,
    /// Compare values (answer is a name).
    Comparison,
    /// Yes or no.
    YesNo,
    /// Count things.
    Counting,
    /// Not answerable from the document; the answer is [`REFUSAL`].
    Unanswerable,
}

/// How an answer is computed from `data`; tables and lists by key, rows by their label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum QaProgram {
    /// The value of a field.
    Field { key: String },
    /// One cell.
    Cell {
        table: String,
        row: String,
        column: String,
    },
    /// Sum of a numeric column.
    Sum { table: String, column: String },
    /// Mean of a numeric column, rounded half up to two decimals.
    Mean { table: String, column: String },
    /// `a - b` in a numeric column.
    Difference {
        table: String,
        column: String,
        a: String,
        b: String,
    },
    /// Label of the row with the largest value (unique).
    ArgMax { table: String, column: String },
    /// Label of the row with the smallest value (unique).
    ArgMin { table: String, column: String },
    /// Whether row `a`'s value is greater than row `b`'s.
    Greater {
        table: String,
        column: String,
        a: String,
        b: String,
    },
    /// Number of rows.
    CountRows { table: String },
    /// Number of rows whose value is strictly greater than the value of row `than`.
    CountAbove {
        table: String,
        column: String,
        than: String,
    },
    /// Number of items in a list.
    CountList { list: String },
    /// Whether a list contains an item.
    ListContains { list: String, item: String },
    /// Nothing in the document answers it.
    Unanswerable,
}

/// One question with its worked explanation and short answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qa {
    /// The question.
    pub question: String,
    /// Step-by-step reasoning that ends in the answer.
    pub explanation: String,
    /// Short answer.
    pub answer: String,
    /// Question type.
    #[serde(rename = "type")]
    pub kind: QaKind,
    /// How the answer was computed.
    pub program: QaProgram,
}

/// Hints a template gives the QA generator.
#[derive(Clone, Debug, Default)]
pub struct QaHints {
    /// What the document is called in questions (`invoice`).
    pub doc_noun: String,
    /// Questions about things the document does not contain.
    pub unanswerable: Vec<String>,
    /// Row labels that could plausibly appear but do not (checked again here).
    pub absent_rows: Vec<String>,
    /// Items that could plausibly be in the lists but are not (checked again here).
    pub absent_items: Vec<String>,
}

/// Generates the QA set for a document.
#[must_use]
pub fn generate(rng: &mut Rng, data: &DocData, hints: &QaHints) -> Vec<Qa> {
    let mut out = Vec::new();
    // Retrieval of fields.
    let mut fields: Vec<usize> = (0..data.fields.len()).collect();
    shuffle(rng, &mut fields);
    let nfields = if data.tables.is_empty() { 5 } else { 3 };
    for &i in fields.iter().take(nfields) {
        let f = &data.fields[i];
        let label = f.label.trim_end_matches(':');
        // Labels are quoted as drawn: "What is the open?" is not English, but
        // `What is written next to "Open"?` is, whatever the label.
        let question = match rng.index(3) {
            0 => format!(
                "On this {}, what is written next to \"{label}\"?",
                hints.doc_noun
            ),
            1 => format!(
                "According to the {}, what is the \"{label}\" entry?",
                hints.doc_noun
            ),
            _ => format!("What value is given for \"{label}\"?"),
        };
        out.push(Qa {
            question,
            explanation: format!(
                "The {} shows \"{label}\" followed by {}.",
                hints.doc_noun, f.value
            ),
            answer: f.value.clone(),
            kind: QaKind::Retrieval,
            program: QaProgram::Field { key: f.key.clone() },
        });
    }
    for table in &data.tables {
        table_qa(rng, table, hints, &mut out);
    }
    for list in &data.lists {
        out.push(Qa {
            question: format!("How many items are listed under \"{}\"?", list.label),
            explanation: format!(
                "The \"{}\" list contains: {}. That is {} items.",
                list.label,
                list.items.join(", "),
                list.items.len()
            ),
            answer: list.items.len().to_string(),
            kind: QaKind::Counting,
            program: QaProgram::CountList {
                list: list.key.clone(),
            },
        });
        if let Some(item) = rng.choose(&list.items) {
            out.push(list_contains(list.key.as_str(), &list.label, item, true));
        }
        let absent: Vec<&String> = hints
            .absent_items
            .iter()
            .filter(|a| !list.items.contains(a))
            .collect();
        if let Some(item) = rng.choose(&absent) {
            out.push(list_contains(list.key.as_str(), &list.label, item, false));
        }
    }
    if let Some(q) = rng.choose(&hints.unanswerable) {
        out.push(Qa {
            question: q.clone(),
            explanation: format!("The {} does not contain this information.", hints.doc_noun),
            answer: REFUSAL.into(),
            kind: QaKind::Unanswerable,
            program: QaProgram::Unanswerable,
        });
    }
    out
}

fn list_contains(key: &str, label: &str, item: &str, present: bool) -> Qa {
    Qa {
        question: format!("Is \"{item}\" listed under \"{label}\"?"),
        explanation: if present {
            format!("\"{item}\" appears in the \"{label}\" list, so the answer is yes.")
        } else {
            format!("The \"{label}\" list does not include \"{item}\", so the answer is no.")
        },
        answer: if present { "Yes" } else { "No" }.into(),
        kind: QaKind::YesNo,
        program: QaProgram::ListContains {
            list: key.into(),
            item: item.into(),
        },
    }
}

fn table_qa(rng: &mut Rng, t: &TableData, hints: &QaHints, out: &mut Vec<Qa>) {
    let n = t.rows.len();
    if n == 0 || t.columns.len() < 2 {
        return;
    }
    let key = t.key.clone();
    let noun = &t.row_noun;
    let label = |r: usize| t.rows[r][0].clone();
    // Cell lookups.
    for _ in 0..2 {
        let r = rng.index(n);
        let c = 1 + rng.index(t.columns.len() - 1);
        let col = &t.columns[c].name;
        out.push(Qa {
            question: if rng.bool(0.5) {
                format!("What is the \"{col}\" value for {}?", label(r))
            } else {
                format!(
                    "In the table, what does the \"{col}\" column show for {}?",
                    label(r)
                )
            },
            explanation: format!(
                "In the row for {}, the {col} column reads {}.",
                label(r),
                t.rows[r][c]
            ),
            answer: t.rows[r][c].clone(),
            kind: QaKind::Retrieval,
            program: QaProgram::Cell {
                table: key.clone(),
                row: label(r),
                column: col.clone(),
            },
        });
    }
    out.push(Qa {
        question: format!(
            "How many {noun} entries are listed in the {}?",
            hints.doc_noun
        ),
        explanation: format!(
            "The rows are: {}. That makes {n}.",
            (0..n).map(label).collect::<Vec<_>>().join(", ")
        ),
        answer: n.to_string(),
        kind: QaKind::Counting,
        program: QaProgram::CountRows { table: key.clone() },
    });
    let numeric = t.numeric_columns();
    let absent: Vec<&String> = hints
        .absent_rows
        .iter()
        .filter(|a| !t.rows.iter().any(|r| &r[0] == *a))
        .collect();
    if let (Some(a), Some(&c)) = (rng.choose(&absent), rng.choose(&numeric).or(Some(&1))) {
        out.push(Qa {
            question: format!("What is the \"{}\" value for {a}?", t.columns[c].name),
            explanation: format!(
                "{a} does not appear among the rows, so the value cannot be read from the {}.",
                hints.doc_noun
            ),
            answer: REFUSAL.into(),
            kind: QaKind::Unanswerable,
            program: QaProgram::Unanswerable,
        });
    }
    let Some(&c) = rng.choose(&numeric) else {
        return;
    };
    let col = t.columns[c].name.clone();
    let fmt = t.columns[c]
        .number
        .clone()
        .unwrap_or_else(crate::typ::NumFormat::int);
    let vals: Vec<i64> = t.values.iter().map(|r| r[c].unwrap_or(0)).collect();
    let sum: i64 = vals.iter().sum();
    if n >= 2 {
        out.push(Qa {
            question: format!(
                "What is the total of the \"{col}\" column across all {noun} entries?"
            ),
            explanation: format!(
                "Adding the {col} values {} gives {}.",
                t.rows
                    .iter()
                    .map(|r| r[c].as_str())
                    .collect::<Vec<_>>()
                    .join(" + "),
                fmt.format(sum)
            ),
            answer: fmt.format(sum),
            kind: QaKind::Compositional,
            program: QaProgram::Sum {
                table: key.clone(),
                column: col.clone(),
            },
        });
        let c2 = *rng.choose(&numeric).unwrap_or(&c);
        let fmt2 = t.columns[c2]
            .number
            .clone()
            .unwrap_or_else(crate::typ::NumFormat::int);
        let vals2: Vec<i64> = t.values.iter().map(|r| r[c2].unwrap_or(0)).collect();
        let mean = mean_hundredths(vals2.iter().sum(), n as i64, fmt2.decimals);
        let mean_text = format_scaled(mean, 2, fmt2.thousands, &fmt2.prefix, &fmt2.suffix);
        out.push(Qa {
            question: format!(
                "What is the average \"{}\" value per {noun}, to two decimal places?",
                t.columns[c2].name
            ),
            explanation: format!(
                "The {} values sum to {} over {n} rows; {} / {n} = {mean_text}.",
                t.columns[c2].name,
                fmt2.format(vals2.iter().sum()),
                fmt2.format(vals2.iter().sum())
            ),
            answer: mean_text,
            kind: QaKind::Compositional,
            program: QaProgram::Mean {
                table: key.clone(),
                column: t.columns[c2].name.clone(),
            },
        });
    }
    // Extremes, only when unique.
    for max in [true, false] {
        let best = if max {
            vals.iter().max()
        } else {
            vals.iter().min()
        };
        let Some(&best) = best else { continue };
        let hits: Vec<usize> = (0..n).filter(|&r| vals[r] == best).collect();
        if hits.len() != 1 || n < 2 {
            continue;
        }
        let word = if max { "highest" } else { "lowest" };
        out.push(Qa {
            question: format!("Which {noun} has the {word} \"{col}\" value?"),
            explanation: format!(
                "Comparing the {col} column, the {word} value is {} for {}.",
                t.rows[hits[0]][c],
                label(hits[0])
            ),
            answer: label(hits[0]),
            kind: QaKind::Comparison,
            program: if max {
                QaProgram::ArgMax {
                    table: key.clone(),
                    column: col.clone(),
                }
            } else {
                QaProgram::ArgMin {
                    table: key.clone(),
                    column: col.clone(),
                }
            },
        });
    }
    // A difference and a balanced pair of yes/no comparisons between distinct values.
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (0..n).map(move |b| (a, b)))
        .filter(|&(a, b)| vals[a] > vals[b])
        .collect();
    if let Some(&(a, b)) = rng.choose(&pairs) {
        out.push(Qa {
            question: format!(
                "How much higher is the \"{col}\" value of {} than that of {}?",
                label(a),
                label(b)
            ),
            explanation: format!(
                "{} has {} and {} has {}; the difference is {}.",
                label(a),
                t.rows[a][c],
                label(b),
                t.rows[b][c],
                fmt.format(vals[a] - vals[b])
            ),
            answer: fmt.format(vals[a] - vals[b]),
            kind: QaKind::Compositional,
            program: QaProgram::Difference {
                table: key.clone(),
                column: col.clone(),
                a: label(a),
                b: label(b),
            },
        });
        let mut order = [((a, b), true), ((b, a), false)];
        shuffle(rng, &mut order);
        for ((x, y), yes) in order {
            out.push(Qa {
                question: format!(
                    "Is the \"{col}\" value of {} greater than that of {}?",
                    label(x),
                    label(y)
                ),
                explanation: format!(
                    "{} has {} and {} has {}, so the answer is {}.",
                    label(x),
                    t.rows[x][c],
                    label(y),
                    t.rows[y][c],
                    if yes { "yes" } else { "no" }
                ),
                answer: if yes { "Yes" } else { "No" }.into(),
                kind: QaKind::YesNo,
                program: QaProgram::Greater {
                    table: key.clone(),
                    column: col.clone(),
                    a: label(x),
                    b: label(y),
                },
            });
        }
    }
    if n >= 3 {
        let than = rng.index(n);
        let count = vals.iter().filter(|&&v| v > vals[than]).count();
        out.push(Qa {
            question: format!(
                "How many {noun} entries have a \"{col}\" value greater than {}?",
                t.rows[than][c]
            ),
            explanation: format!(
                "Values above {}: {}. That is {count}.",
                t.rows[than][c],
                (0..n)
                    .filter(|&r| vals[r] > vals[than])
                    .map(|r| format!("{} ({})", label(r), t.rows[r][c]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            answer: count.to_string(),
            kind: QaKind::Counting,
            program: QaProgram::CountAbove {
                table: key,
                column: col,
                than: label(than),
            },
        });
    }
}

/// `sum / n` in hundredths of a unit, rounded half away from zero, for values with `decimals`.
fn mean_hundredths(sum: i64, n: i64, decimals: u8) -> i64 {
    let scaled = i128::from(sum) * 10i128.pow(u32::from(2u8.saturating_sub(decimals)));
    let n = i128::from(n.max(1));
    let q = (2 * scaled.abs() + n) / (2 * n);
    i64::try_from(if scaled < 0 { -q } else { q }).unwrap_or(i64::MAX)
}

/// Fisher-Yates shuffle with the crate RNG.
pub(crate) fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.index(i + 1);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_round_half_up() {
        assert_eq!(mean_hundredths(10, 4, 0), 250);
        assert_eq!(mean_hundredths(1, 3, 0), 33);
        assert_eq!(mean_hundredths(2, 3, 0), 67);
        assert_eq!(mean_hundredths(1005, 2, 2), 503);
    }
}
