//! `docs.qa`: checks the figure's QA and writes it in the PixMo-Docs and CoSyn forms.
//!
//! - What it does: keeps the generator's QA pairs (computed from the data, see
//!   `pixmo_gen_docs` for the answer rule) after checking each one: question, explanation
//!   and answer are non-empty and free of the `|` that broke PixMo-Docs' parser, the type is
//!   known, and every extractive answer (a name, label or title, not a number or yes/no) is
//!   a string that was drawn on the figure. Writes `questions` (`{question, answer}`),
//!   `qa_pairs` (`{question, explanation, answer, type}`) and `metadata` with Molmo's style
//!   tag (`pixmo_docs_<category>`).
//! - Inputs: `figure`, `figure_qa` (json).
//! - Outputs: `questions`, `qa_pairs`, `metadata` (json).
//! - Failure modes: fewer than `min_qa` pairs (`too_few_qa`), a malformed pair
//!   (`bad_qa`), an extractive answer that was not drawn (`qa_not_grounded`).
//! - Cost: microseconds.

use std::sync::Arc;

use pixmo_dag::registry::StageConfig;
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_docs::{Category, Qa, REFUSAL};
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

    fn build(&self) -> Result<Arc<dyn Stage>, String> {
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

/// Whether an answer is a name copied from the figure (not a number, yes/no or refusal).
#[must_use]
pub fn is_extractive(qa: &Qa) -> bool {
    let a = qa.answer.as_str();
    !(a.trim_end_matches('%').parse::<f64>().is_ok()
        || ["Yes", "No", "Increase", "Decrease", REFUSAL].contains(&a))
}

/// Checks one QA pair against the drawn strings.
///
/// # Errors
/// A `bad_qa` or `qa_not_grounded` rejection.
pub fn check(qa: &Qa, drawn: &[String]) -> Result<(), Reject> {
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
    if is_extractive(qa) {
        // Histogram bins are answered as "<edge> to <edge>": both edges are drawn.
        let parts: Vec<&str> = if qa.question.contains("range") {
            qa.answer.split(" to ").collect()
        } else {
            vec![qa.answer.as_str()]
        };
        for part in parts {
            if !drawn.iter().any(|t| t == part) {
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

impl Stage for QaStage {
    fn version(&self) -> &'static str {
        "1"
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
        let qa: Vec<Qa> = serde_json::from_value(raw["qa"].clone())
            .map_err(|e| Reject::new("bad_qa", format!("QA list: {e}")))?;
        let drawn: Vec<String> = serde_json::from_value(raw["drawn_text"].clone())
            .map_err(|e| Reject::new("bad_qa", format!("Drawn text list: {e}")))?;
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
            check(pair, &drawn)?;
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
        let drawn = vec!["Solar".to_owned(), "10".to_owned(), "20".to_owned()];
        assert!(check(&qa("Which is highest?", "Solar", "comparison"), &drawn).is_ok());
        assert!(check(&qa("How many?", "4", "count"), &drawn).is_ok());
        assert!(check(&qa("Which range?", "10 to 20", "comparison"), &drawn).is_ok());
        let err = check(&qa("Which is highest?", "Wind", "comparison"), &drawn).unwrap_err();
        assert_eq!(err.kind, "qa_not_grounded");
        assert_eq!(
            check(&qa("A | B?", "4", "count"), &drawn).unwrap_err().kind,
            "bad_qa"
        );
        assert_eq!(
            check(&qa("Q?", "4", "guess"), &drawn).unwrap_err().kind,
            "bad_qa"
        );
    }
}
