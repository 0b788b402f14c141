//! `docs.qa`: checks the figure's QA and writes it in the PixMo-Docs and CoSyn forms.
//!
//! - What it does: keeps the generator's QA pairs (computed from the data, see
//!   `pixmo_gen_docs` and `pixmo_gen_typst` for the answer rules) after checking each one:
//!   question, explanation and answer are non-empty and free of the `|` that broke
//!   PixMo-Docs' parser, the type is known, unanswerable questions carry the generator's
//!   refusal, and every extractive answer is visible: on a chart or diagram a name, label or
//!   title (not a number, yes/no or refusal) must be one of the drawn strings; in a typst
//!   document a retrieval or comparison answer must occur in the laid-out text (whitespace
//!   collapsed). Writes `questions` (`{question, answer}`),
//!   `qa_pairs` (`{question, explanation, answer, type}`) and `metadata` with Molmo's style
//!   tag (`pixmo_docs_<category>`).
//! - Inputs: `figure`, `figure_qa` (json).
//! - Outputs: `questions`, `qa_pairs`, `metadata` (json).
//! - Failure modes: fewer than `min_qa` pairs (`too_few_qa`), a malformed pair
//!   (`bad_qa`), an extractive answer that was not drawn (`qa_not_grounded`).
//! - Cost: microseconds.

use std::sync::Arc;

use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_docs::{Category, Qa};
use serde::{Deserialize, Serialize};

/// QA types the generator writes.
pub const QA_TYPES: &[&str] = &[
    "retrieval",
    "count",
    "comparison",
    "compositional",
    "yes_no",
    "figure",
    "reasoning",
    "unanswerable",
];

/// Config of `docs.qa`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QaConfig {
    /// Fewest QA pairs a figure must keep.
    #[serde(default = "default_min_qa")]
    pub min_qa: usize,
}

fn default_min_qa() -> usize {
    3
}

impl StageConfig for QaConfig {
    const KIND: &'static str = "docs.qa";
    const SUMMARY: &'static str =
        "Check each QA pair against what was drawn and write the PixMo-Docs and CoSyn QA forms";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if self.min_qa == 0 {
            return Err("`min_qa` must be at least 1".into());
        }
        Ok(Arc::new(QaStage {
            config: self.clone(),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct QaStage {
    config: QaConfig,
}

/// What a generator says is visible, for checking extractive answers.
#[derive(Clone, Debug)]
pub enum Grounding {
    /// Every string drawn on a chart or diagram, exactly as drawn.
    Drawn(Vec<String>),
    /// A typst document's laid-out text and its text lines, whitespace collapsed.
    Layout { text: String, lines: Vec<String> },
}

impl Grounding {
    fn shows(&self, s: &str) -> bool {
        match self {
            Grounding::Drawn(drawn) => drawn.iter().any(|t| t == s),
            Grounding::Layout { text, lines } => {
                let s = collapse_spaces(s);
                text.contains(&s) || lines.iter().any(|l| l.contains(&s))
            }
        }
    }
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether an answer must be visible: on a figure, a name (not a number, yes/no or refusal);
/// in a document, every retrieval or comparison answer.
#[must_use]
pub fn is_extractive(qa: &Qa, grounding: &Grounding, refusal: &str) -> bool {
    match grounding {
        Grounding::Layout { .. } => matches!(qa.qa_type.as_str(), "retrieval" | "comparison"),
        Grounding::Drawn(_) => {
            let a = qa.answer.as_str();
            !(a.trim_end_matches('%').parse::<f64>().is_ok()
                || ["Yes", "No", "Increase", "Decrease", refusal].contains(&a))
        }
    }
}

/// Checks one QA pair against what was drawn.
///
/// # Errors
/// A `bad_qa` or `qa_not_grounded` rejection.
pub fn check(qa: &Qa, grounding: &Grounding, refusal: &str) -> Result<(), Reject> {
    for (what, text) in [
        ("question", &qa.question),
        ("explanation", &qa.explanation),
        ("answer", &qa.answer),
    ] {
        if text.trim().is_empty() || text.contains('|') {
            return Err(Reject::new(
                "bad_qa",
                format!("Empty {what} or `|` in {what}: {text:?}"),
            ));
        }
    }
    if !QA_TYPES.contains(&qa.qa_type.as_str()) {
        return Err(Reject::new(
            "bad_qa",
            format!("Unknown QA type `{}`", qa.qa_type),
        ));
    }
    if (qa.qa_type == "unanswerable") != (qa.answer == refusal) {
        return Err(Reject::new(
            "bad_qa",
            format!(
                "Question `{}` of type `{}` has answer `{}`; the refusal `{refusal}` is for unanswerable questions only",
                qa.question, qa.qa_type, qa.answer
            ),
        ));
    }
    if is_extractive(qa, grounding, refusal) {
        // Histogram bins are answered as "<edge> to <edge>": both edges are drawn.
        let parts: Vec<&str> =
            if matches!(grounding, Grounding::Drawn(_)) && qa.question.contains("range") {
                qa.answer.split(" to ").collect()
            } else {
                vec![qa.answer.as_str()]
            };
        for part in parts {
            if !grounding.shows(part) {
                return Err(Reject::new(
                    "qa_not_grounded",
                    format!(
                        "Answer `{part}` to `{}` is not drawn on the figure",
                        qa.question
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Reads the QA list, refusal and grounding that `docs.render` wrote.
fn parse_figure_qa(raw: &serde_json::Value) -> Result<(Vec<Qa>, String, Grounding), Reject> {
    let bad = |what: &str, e: serde_json::Error| Reject::new("bad_qa", format!("{what}: {e}"));
    let qa: Vec<Qa> = serde_json::from_value(raw["qa"].clone()).map_err(|e| bad("QA list", e))?;
    let refusal = raw["refusal"]
        .as_str()
        .ok_or_else(|| Reject::new("bad_qa", "No refusal wording"))?
        .to_owned();
    Ok((qa, refusal, grounding_of(raw)?))
}

/// What is visible, from `{"layout_text", "text_lines"}` (a typst document) or
/// `{"drawn_text"}` (a chart or diagram).
///
/// # Errors
/// A `bad_qa` rejection when neither form is there.
pub fn grounding_of(raw: &serde_json::Value) -> Result<Grounding, Reject> {
    let bad = |what: &str, e: serde_json::Error| Reject::new("bad_qa", format!("{what}: {e}"));
    Ok(if let Some(text) = raw["layout_text"].as_str() {
        Grounding::Layout {
            text: collapse_spaces(text),
            lines: serde_json::from_value::<Vec<String>>(raw["text_lines"].clone())
                .map_err(|e| bad("Text lines", e))?
                .iter()
                .map(|l| collapse_spaces(l))
                .collect(),
        }
    } else {
        Grounding::Drawn(
            serde_json::from_value(raw["drawn_text"].clone())
                .map_err(|e| bad("Drawn text list", e))?,
        )
    })
}

impl Stage for QaStage {
    fn version(&self) -> &'static str {
        "2"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("figure", ColumnType::Json),
            ColumnDef::new("figure_qa", ColumnType::Json),
        ]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("questions", ColumnType::Json),
            ColumnDef::new("qa_pairs", ColumnType::Json),
            ColumnDef::new("metadata", ColumnType::Json),
        ]
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let raw = record
            .take("figure_qa")
            .ok_or_else(|| Reject::new("missing_input", "Column `figure_qa` is missing"))?;
        let Value::Json(raw) = raw else {
            return Err(Reject::new(
                "missing_input",
                "Column `figure_qa` is not json",
            ));
        };
        let (qa, refusal, grounding) = parse_figure_qa(&raw)?;
        if qa.len() < self.config.min_qa {
            return Err(Reject::new(
                "too_few_qa",
                format!(
                    "{} QA pairs; at least {} required",
                    qa.len(),
                    self.config.min_qa
                ),
            ));
        }
        for pair in &qa {
            check(pair, &grounding, &refusal)?;
        }
        let figure = record
            .json("figure")
            .map_err(|m| Reject::new("missing_input", m))?;
        let field = |name: &str| figure[name].as_str().unwrap_or_default().to_owned();
        let category = match field("category").as_str() {
            "charts" => Category::Charts,
            "tables" => Category::Tables,
            "diagrams" => Category::Diagrams,
            _ => Category::Other,
        };
        let metadata = serde_json::json!({
            "figure_type": field("figure_type"),
            "persona": field("persona"),
            "topic": field("topic"),
            "category": category.name(),
            "style": category.style_tag(),
        });
        let questions: Vec<serde_json::Value> = qa
            .iter()
            .map(|q| serde_json::json!({ "question": q.question, "answer": q.answer }))
            .collect();
        let pairs: Vec<serde_json::Value> = qa
            .iter()
            .map(|q| {
                serde_json::json!({
                    "question": q.question,
                    "explanation": q.explanation,
                    "answer": q.answer,
                    "type": q.qa_type,
                })
            })
            .collect();
        record.set("questions", Value::Json(questions.into()));
        record.set("qa_pairs", Value::Json(pairs.into()));
        record.set("metadata", Value::Json(metadata));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qa(question: &str, answer: &str, qa_type: &str) -> Qa {
        Qa {
            question: question.into(),
            explanation: "Because.".into(),
            answer: answer.into(),
            qa_type: qa_type.into(),
        }
    }

    #[test]
    fn extractive_answers_must_be_drawn() {
        let drawn = Grounding::Drawn(vec!["Solar".to_owned(), "10".to_owned(), "20".to_owned()]);
        let r = pixmo_gen_docs::REFUSAL;
        assert!(check(&qa("Which is highest?", "Solar", "comparison"), &drawn, r).is_ok());
        assert!(check(&qa("How many?", "4", "count"), &drawn, r).is_ok());
        assert!(check(&qa("Which range?", "10 to 20", "comparison"), &drawn, r).is_ok());
        assert!(check(&qa("Who won?", r, "unanswerable"), &drawn, r).is_ok());
        let err = check(&qa("Which is highest?", "Wind", "comparison"), &drawn, r).unwrap_err();
        assert_eq!(err.kind, "qa_not_grounded");
        assert_eq!(
            check(&qa("A | B?", "4", "count"), &drawn, r)
                .unwrap_err()
                .kind,
            "bad_qa"
        );
        assert_eq!(
            check(&qa("Q?", "4", "guess"), &drawn, r).unwrap_err().kind,
            "bad_qa"
        );
        // The refusal belongs to unanswerable questions, and they must use it.
        assert_eq!(
            check(&qa("Who won?", "Solar", "unanswerable"), &drawn, r)
                .unwrap_err()
                .kind,
            "bad_qa"
        );
        assert_eq!(
            check(&qa("Who won?", r, "retrieval"), &drawn, r)
                .unwrap_err()
                .kind,
            "bad_qa"
        );
    }

    #[test]
    fn document_answers_are_found_in_the_layout() {
        let layout = Grounding::Layout {
            text: "Invoice INV-2041 Total $1,204.50 Acme Supply Co.".into(),
            lines: vec!["Bill to: Jane".into(), "Acme Supply Co.".into()],
        };
        let r = pixmo_gen_typst::REFUSAL;
        assert!(check(&qa("Invoice number?", "INV-2041", "retrieval"), &layout, r).is_ok());
        assert!(check(&qa("Seller?", "Acme Supply Co.", "comparison"), &layout, r).is_ok());
        assert!(check(&qa("Bill to?", "Jane", "retrieval"), &layout, r).is_ok());
        // Computed answers need not be printed.
        assert!(
            check(
                &qa("Sum of items?", "$9,999.00", "compositional"),
                &layout,
                r
            )
            .is_ok()
        );
        assert_eq!(
            check(&qa("Due date?", "May 3, 2024", "retrieval"), &layout, r)
                .unwrap_err()
                .kind,
            "qa_not_grounded"
        );
    }

    #[test]
    fn parsed_layouts_collapse_whitespace_once() {
        let raw = serde_json::json!({
            "qa": [],
            "refusal": pixmo_gen_typst::REFUSAL,
            "layout_text": "Total\n $1,204.50",
            "text_lines": ["Acme  Supply\tCo."],
        });
        let (_, refusal, grounding) = parse_figure_qa(&raw).unwrap();
        assert_eq!(refusal, pixmo_gen_typst::REFUSAL);
        assert!(grounding.shows("Acme Supply Co."));
        assert!(grounding.shows("Total $1,204.50"));
        assert!(!grounding.shows("Acme Co."));
    }
}
