//! What the PixMo-Docs data card says beyond the generic card: its prose, how this copy
//! was made (procedural or LLM-written, read from the rows' recorded models), and rows and
//! QA pairs per figure kind and category, with their plots.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use pixmo_card::arrow::array::{Array, AsArray, RecordBatch};
use pixmo_card::arrow::compute::cast;
use pixmo_card::arrow::datatypes::DataType;
use pixmo_card::{
    About, BarChart, CardContext, CardExtension, LLM_TEXT_LIMITATION, Plot, column, pct, ratio,
    wrong,
};

/// The card's prose.
pub const ABOUT: About = About {
    limitations: &["Figures are rendered, not scanned or photographed."],
    ..About::new(
        "PixMo-Docs",
        "PixMo-Docs holds charts, tables, documents and diagrams rendered from \
         code (written by an LLM in the original), with questions answered from the \
         underlying data and code.",
    )
};

/// The docs card: a paragraph on the mode this copy was built in, rows and QA pairs per
/// figure kind and category, and the LLM limitation unless no LLM was used. The generic
/// per-column statistics stay on.
#[derive(Clone, Debug, Default)]
pub struct DocsCard {
    /// Per `metadata.figure_type`: rows and QA pairs.
    pub kinds: BTreeMap<String, (u64, u64)>,
    /// Per `metadata.category`: rows and QA pairs.
    pub categories: BTreeMap<String, (u64, u64)>,
}

/// A fresh extension, for [`crate::info`].
pub fn extension() -> Box<dyn CardExtension> {
    Box::new(DocsCard::default())
}

/// `(name, rows, QA pairs)`, most rows first (ties by name).
fn ranked(map: &BTreeMap<String, (u64, u64)>) -> Vec<(&str, u64, u64)> {
    let mut list: Vec<(&str, u64, u64)> =
        map.iter().map(|(k, (r, q))| (k.as_str(), *r, *q)).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    list
}

impl CardExtension for DocsCard {
    fn columns(&self) -> Vec<&'static str> {
        vec!["metadata.figure_type", "metadata.category", "qa_pairs"]
    }

    fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> pixmo_card::Result<()> {
        let metadata = column(batch, "metadata", path)?
            .as_struct_opt()
            .ok_or_else(|| wrong(path, "metadata", "a struct"))?;
        let text = |name: &str| {
            metadata
                .column_by_name(name)
                .and_then(|c| cast(c, &DataType::Utf8).ok())
                .ok_or_else(|| {
                    wrong(
                        path,
                        "metadata",
                        "a struct with text figure_type and category",
                    )
                })
        };
        let (kinds, categories) = (text("figure_type")?, text("category")?);
        let (kinds, categories) = (kinds.as_string::<i32>(), categories.as_string::<i32>());
        let pairs = column(batch, "qa_pairs", path)?
            .as_list_opt::<i32>()
            .ok_or_else(|| wrong(path, "qa_pairs", "a list"))?;
        for i in 0..batch.num_rows() {
            let qa = if pairs.is_null(i) {
                0
            } else {
                pairs.value_length(i).unsigned_abs().into()
            };
            for (map, key) in [
                (&mut self.kinds, kinds.value(i)),
                (&mut self.categories, categories.value(i)),
            ] {
                let entry = map.entry(key.to_string()).or_default();
                entry.0 += 1;
                entry.1 += qa;
            }
        }
        Ok(())
    }

    fn statistics(&self, card: &CardContext<'_>) -> String {
        let mut out = String::from("### Figures\n\n");
        for (title, map) in [("category", &self.categories), ("kind", &self.kinds)] {
            let _ = writeln!(
                out,
                "| {title} | rows | share | QA pairs | QA pairs per row |\n|---|---:|---:|---:|---:|"
            );
            for (name, rows, qa) in ranked(map) {
                let _ = writeln!(
                    out,
                    "| {name} | {rows} | {} | {qa} | {:.2} |",
                    pct(rows, card.rows),
                    ratio(qa, rows)
                );
            }
            out.push('\n');
        }
        out
    }

    fn plots(&self) -> Vec<Plot> {
        let chart = |file: &str, what: &str, map: &BTreeMap<String, (u64, u64)>| {
            let list = ranked(map);
            Plot {
                file: file.into(),
                caption: format!("Rows per figure {what}"),
                chart: BarChart {
                    title: format!("Figure {what}"),
                    x_label: what.into(),
                    y_label: "rows".into(),
                    labels: list.iter().map(|v| v.0.to_string()).collect(),
                    values: list.iter().map(|v| v.1).collect(),
                    label_every: 1,
                },
            }
        };
        vec![
            chart("categories.png", "category", &self.categories),
            chart("kinds.png", "kind", &self.kinds),
        ]
    }

    fn summary_notes(&self, card: &CardContext<'_>) -> Vec<String> {
        match card.llm_used {
            Some(true) => vec![
                "In this copy a text-only LLM wrote the data, the rendering code and the \
                 questions (see the models below)."
                    .into(),
            ],
            Some(false) => vec![
                "This copy was built in procedural mode: no LLM was used. Personas, topics and \
                 data come from seeded banks, the rendering code from parameterised templates, \
                 and every answer is computed from the data."
                    .into(),
            ],
            None => Vec::new(),
        }
    }

    fn limitations(&self, card: &CardContext<'_>) -> Vec<String> {
        if card.llm_used == Some(false) {
            Vec::new()
        } else {
            vec![LLM_TEXT_LIMITATION.into()]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_paragraph_and_llm_limitation_follow_the_recorded_models() {
        let card = |llm_used| CardContext {
            dataset: "docs",
            rows: 3,
            llm_used,
        };
        let procedural = card(Some(false));
        assert!(DocsCard::default().summary_notes(&procedural)[0].contains("procedural mode"));
        assert!(DocsCard::default().limitations(&procedural).is_empty());
        let llm = card(Some(true));
        assert!(DocsCard::default().summary_notes(&llm)[0].contains("a text-only LLM wrote"));
        assert_eq!(DocsCard::default().limitations(&llm), [LLM_TEXT_LIMITATION]);
        assert!(DocsCard::default().summary_notes(&card(None)).is_empty());
    }
}
