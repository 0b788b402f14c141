//! `docs.llm_qa`: QA pairs written by an LLM from the data and the code (never the image),
//! each one checked before it is kept.
//!
//! - What it does: asks for `{"qa_pairs": [{question, explanation, answer, type}]}` with
//!   the preset's prompt (structured output), then checks every pair: fields non-empty and
//!   free of `|`; the type mapped onto pixmo's QA types; Yes/No and the category's refusal
//!   normalised; **a numeric answer must be recomputable from the data** (a data value, or a
//!   sum, mean, median, range, count, difference, ratio, percentage or percent change of
//!   data values at the answer's precision, see [`crate::verify`]); an extractive answer must
//!   be visible (drawn on the figure, or in the laid-out text of a document), as `docs.qa`
//!   requires. Failing pairs are dropped and counted by reason in the run summary; the
//!   record is rejected when none survive. Writes `figure_qa` for `docs.qa`.
//! - Inputs: `figure_kind` (str), `figure` (json), `data`, `code` (str), `figure_visible`
//!   (json).
//! - Outputs: `figure_qa` (json).
//! - Failure modes: as `docs.llm_figure` for the call; `no_valid_qa` when every pair failed
//!   (the message counts the reasons).
//! - Cost: one LLM call.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use pixmo_annotation_schema::ModelUse;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_docs::Qa;
use pixmo_llm::{JsonSchema, LlmConfig, Message, SamplingParams};
use serde::{Deserialize, Serialize};

use crate::kind::Kind;
use crate::llm::{LlmHandle, Preset, Prompts, fill};
use crate::stages::qa::{QA_TYPES, check, grounding_of};
use crate::verify::{derivation, parse_number};

/// Config of `docs.llm_qa`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmQaConfig {
    /// Which model writes (default: the embedded SmolLM2).
    #[serde(default)]
    pub llm: LlmConfig,
    /// Prompt wording.
    #[serde(default)]
    pub preset: Preset,
    /// Reply cache folder (default: `PIXMO_LLM_CACHE`, else the user cache folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<std::path::PathBuf>,
    /// Sampling temperature.
    #[serde(default = "crate::llm::default_temperature")]
    pub temperature: f64,
    /// Longest reply, in tokens.
    #[serde(default = "crate::llm::default_max_tokens")]
    pub max_tokens: u32,
}

impl StageConfig for LlmQaConfig {
    const KIND: &'static str = "docs.llm_qa";
    const SUMMARY: &'static str = "LLM writes QA from data and code (never the image); numeric answers recomputed from the data, extractive answers checked against what was drawn";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        crate::llm::check_sampling(self.temperature, self.max_tokens)?;
        Ok(Arc::new(LlmQa {
            llm: LlmHandle::build(&self.llm, self.cache_dir.as_deref())
                .map_err(ConfigError::setup)?,
            prompts: Prompts::of(self.preset),
            config: self.clone(),
            dropped: Mutex::new(BTreeMap::new()),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct LlmQa {
    llm: LlmHandle,
    prompts: Prompts,
    config: LlmQaConfig,
    dropped: Mutex<BTreeMap<String, u64>>,
}

fn qa_schema() -> JsonSchema {
    let text = serde_json::json!({"type": "string"});
    JsonSchema::new(
        "qa_pairs",
        serde_json::json!({
            "type": "object",
            "properties": {"qa_pairs": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "properties": {"question": text, "explanation": text, "answer": text, "type": text},
                "required": ["question", "explanation", "answer", "type"]
            }}},
            "required": ["qa_pairs"]
        }),
    )
}

/// A QA type as pixmo names it (`short answer` -> `retrieval`, `yes/no` -> `yes_no`;
/// anything unknown -> `reasoning`).
#[must_use]
pub fn normalise_type(raw: &str) -> String {
    let t = raw.trim().to_lowercase().replace([' ', '-', '/'], "_");
    let t = match t.as_str() {
        "yes_no" | "yesno" | "boolean" | "fact_based" => "yes_no",
        "short_answer" | "information_retrieval" | "basic" | "descriptive" => "retrieval",
        "counting" => "count",
        "figure_specific" | "chart_specific" | "diagram_specific" | "document_specific" => "figure",
        "cannot_be_determined" | "unanswerable_question" => "unanswerable",
        other => other,
    };
    if QA_TYPES.contains(&t) {
        t.to_owned()
    } else {
        "reasoning".to_owned()
    }
}

/// Whether an answer reads as "cannot be answered".
fn is_refusal_like(answer: &str) -> bool {
    let a = answer.to_lowercase();
    [
        "cannot be determined",
        "not enough information",
        "cannot be answered",
        "unanswerable",
        "not shown",
    ]
    .iter()
    .any(|p| a.contains(p))
}

/// Normalises one raw pair and checks it; `Err` holds the reason it is dropped.
///
/// # Errors
/// The drop reason (`malformed`, `numeric_not_in_data`, or `docs.qa`'s rejection kind) and
/// a message.
pub fn vet(
    raw: &serde_json::Value,
    data: &serde_json::Value,
    grounding: &crate::stages::qa::Grounding,
    refusal: &str,
) -> Result<Qa, (String, String)> {
    let field = |k: &str| {
        raw[k]
            .as_str()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let mut qa = Qa {
        question: field("question"),
        explanation: field("explanation"),
        answer: field("answer"),
        qa_type: normalise_type(&field("type")),
    };
    if qa.question.is_empty() || qa.answer.is_empty() {
        return Err((
            "malformed".into(),
            format!("empty question or answer: {raw}"),
        ));
    }
    if qa.explanation.is_empty() {
        return Err((
            "malformed".into(),
            format!("no explanation for `{}`", qa.question),
        ));
    }
    if qa.qa_type == "unanswerable" || is_refusal_like(&qa.answer) {
        qa.qa_type = "unanswerable".into();
        qa.answer = refusal.to_owned();
    } else if qa.answer.eq_ignore_ascii_case("yes") || qa.answer.eq_ignore_ascii_case("no") {
        let mut a = qa.answer.to_lowercase();
        a[..1].make_ascii_uppercase();
        qa.answer = a;
    } else if let Some((value, decimals)) = parse_number(&qa.answer) {
        // Written plainly, as the procedural answers are: no currency sign or separators.
        let percent = qa.answer.ends_with('%');
        qa.answer = format!(
            "{}{}",
            pixmo_gen_docs::format_number(value, u8::try_from(decimals).unwrap_or(u8::MAX)),
            if percent { "%" } else { "" }
        );
        if derivation(value, decimals, data).is_none() {
            return Err((
                "numeric_not_in_data".into(),
                format!(
                    "answer {} to `{}` does not follow from the data",
                    qa.answer, qa.question
                ),
            ));
        }
    }
    check(&qa, grounding, refusal).map_err(|r| (r.kind, r.message))?;
    Ok(qa)
}

impl LlmQa {
    fn params(&self, seed: u64) -> SamplingParams {
        crate::llm::sampling(self.config.temperature, self.config.max_tokens, seed)
    }
}

impl Stage for LlmQa {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("figure_kind", ColumnType::Str),
            ColumnDef::new("figure", ColumnType::Json),
            ColumnDef::new("data", ColumnType::Str),
            ColumnDef::new("code", ColumnType::Str),
            ColumnDef::new("figure_visible", ColumnType::Json),
        ]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![ColumnDef::new("figure_qa", ColumnType::Json)]
    }

    fn models(&self) -> Vec<ModelUse> {
        self.llm
            .model_uses(&[&self.prompts.qa], &self.params(0), |_| {
                Some(qa_schema().schema)
            })
    }

    fn summary(&self) -> Option<serde_json::Value> {
        let mut s = self.llm.summary();
        s["qa_pairs_dropped"] =
            serde_json::to_value(self.dropped.lock().map(|d| d.clone()).unwrap_or_default())
                .unwrap_or_default();
        Some(s)
    }

    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject> {
        let missing = |m: String| Reject::new("missing_input", m);
        let kind = Kind::parse(record.str("figure_kind").map_err(missing)?)
            .map_err(|m| Reject::new("bad_spec", m))?;
        let refusal = kind.refusal();
        let figure = record.json("figure").map_err(missing)?.clone();
        let data_text = record.str("data").map_err(missing)?.to_owned();
        let code = record.str("code").map_err(missing)?.to_owned();
        let visible = record.json("figure_visible").map_err(missing)?.clone();
        let grounding = grounding_of(&visible)?;
        let data: serde_json::Value = serde_json::from_str(&data_text)
            .map_err(|e| Reject::new("bad_spec", format!("Column `data` is not JSON: {e}")))?;

        let field = |k: &str| figure[k].as_str().unwrap_or_default().to_owned();
        let (figure_type, topic) = (field("figure_type"), field("topic"));
        let prompt = fill(
            &self.prompts.qa,
            &[
                ("figure_type", &figure_type),
                ("topic", &topic),
                ("data", &data_text),
                ("code", &code),
                ("refusal", refusal),
            ],
        )?;
        let (_, reply) = self.llm.chat_json(
            vec![Message::user(prompt)],
            &self.params(cx.seed),
            qa_schema(),
        )?;
        let pairs = reply["qa_pairs"].as_array().cloned().unwrap_or_default();
        let mut kept = Vec::new();
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        let mut first_drop = None;
        for raw in &pairs {
            match vet(raw, &data, &grounding, refusal) {
                Ok(qa) if !kept.iter().any(|k: &Qa| k.question == qa.question) => kept.push(qa),
                Ok(qa) => {
                    *reasons.entry("duplicate".into()).or_default() += 1;
                    first_drop.get_or_insert(format!("duplicate question `{}`", qa.question));
                }
                Err((reason, message)) => {
                    *reasons.entry(reason).or_default() += 1;
                    first_drop.get_or_insert(message);
                }
            }
        }
        if let Ok(mut d) = self.dropped.lock() {
            for (k, v) in &reasons {
                *d.entry(k.clone()).or_default() += v;
            }
        }
        if kept.is_empty() {
            return Err(self.llm.fail(Reject::new(
                "no_valid_qa",
                format!(
                    "{} QA pairs, none usable ({reasons:?}); first: {}",
                    pairs.len(),
                    first_drop.unwrap_or_else(|| "the reply held no `qa_pairs`".into())
                ),
            )));
        }
        let mut figure_qa = visible;
        figure_qa["qa"] = serde_json::to_value(&kept).unwrap_or_default();
        figure_qa["refusal"] = refusal.into();
        record.set("figure_qa", Value::Json(figure_qa));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::qa::Grounding;
    use serde_json::json;

    #[test]
    fn pairs_are_normalised_recomputed_and_grounded() {
        let data = json!({"categories": ["Oslo", "Bergen"], "series": [{"name": "Rain", "values": [760, 2250]}]});
        let drawn = Grounding::Drawn(vec!["Oslo".into(), "Bergen".into(), "Rain".into()]);
        let refusal = pixmo_gen_docs::REFUSAL;
        let pair = |q: &str, a: &str, t: &str| {
            vet(
                &json!({"question": q, "explanation": "Read it.", "answer": a, "type": t}),
                &data,
                &drawn,
                refusal,
            )
        };
        assert_eq!(
            pair("Total?", "3,010", "compositional").unwrap().answer,
            "3010"
        );
        assert_eq!(
            pair("Wetter?", "Bergen", "Comparison").unwrap().qa_type,
            "comparison"
        );
        assert_eq!(
            pair("More than 1000 in Oslo?", "no", "yes/no")
                .unwrap()
                .answer,
            "No"
        );
        let u = pair("Rain in 1990?", "Not enough information", "short answer").unwrap();
        assert_eq!(
            (u.answer.as_str(), u.qa_type.as_str()),
            (refusal, "unanswerable")
        );
        // Wrong arithmetic, an undrawn name, a `|`, an empty field are dropped with reasons.
        assert_eq!(
            pair("Total?", "3000", "compositional").unwrap_err().0,
            "numeric_not_in_data"
        );
        assert_eq!(
            pair("Driest?", "Trondheim", "retrieval").unwrap_err().0,
            "qa_not_grounded"
        );
        assert_eq!(pair("A | B?", "Oslo", "retrieval").unwrap_err().0, "bad_qa");
        assert_eq!(pair("", "Oslo", "retrieval").unwrap_err().0, "malformed");
        assert_eq!(normalise_type("Information Retrieval"), "retrieval");
        assert_eq!(normalise_type("multiple choice"), "reasoning");
    }
}
