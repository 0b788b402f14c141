//! `cap_qa.dialogue`: a question-and-answer dialogue about an image, written by a text-only
//! LLM from the image's caption alone (PixMo-CapQA's recipe), every answer checked against it.
//!
//! - What it does: asks for `{"dialogue": [{"question", "answer"}, ...]}` (structured
//!   output) from the caption; keeps a pair only when its answer is **supported by the
//!   caption**: every number in it (digits or number words) occurs in the caption, and at
//!   least `min_support` of its content words do. Unsupported pairs are dropped and counted
//!   by reason in the run summary; the record is rejected when none is left.
//! - Inputs: `caption` (str).
//! - Outputs: `question` (the dialogue up to the last question, `[USER] ... [ASSISTANT] ...`),
//!   `answer` (the last answer), `messages` (the turns, user first).
//! - Failure modes: `llm_error`, `llm_refusal`, `llm_truncated`, `llm_bad_json` (LLM
//!   layer), `no_supported_qa`.
//! - Cost: one LLM call (cached on disk).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use pixmo_annotation_schema::ModelUse;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_llm::{JsonSchema, LlmConfig, Message, PromptTemplate, SamplingParams};
use pixmo_llm_stage::{LlmHandle, fill};
use serde::{Deserialize, Serialize};

use crate::stages::caption::support;

/// The dialogue prompt.
pub const DIALOGUE_PROMPT: &str = "Here is a detailed description of an image:

{{caption}}

Write a conversation of {{turns}} questions a person might ask about this image, each with its answer. Every answer must follow from the description alone: do not guess anything it does not say. Vary the questions (objects, counts, colours, positions, text, activities). Reply with JSON: {\"dialogue\": [{\"question\": \"...\", \"answer\": \"...\"}]}";

/// Config of `cap_qa.dialogue`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialogueConfig {
    /// Which model writes (default: the embedded SmolLM2).
    #[serde(default)]
    pub llm: LlmConfig,
    /// Reply cache folder (default: `PIXMO_LLM_CACHE`, else the user cache folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<std::path::PathBuf>,
    /// Questions asked for.
    #[serde(default = "default_turns")]
    pub turns: u32,
    /// Share of an answer's content words that must occur in the caption.
    #[serde(default = "default_support")]
    pub min_support: f64,
    /// Sampling temperature.
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    /// Longest reply, in tokens.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// OpenAI's `frequency_penalty` (-2..=2; default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// OpenAI's `presence_penalty` (-2..=2; default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
}

fn default_turns() -> u32 {
    4
}
fn default_support() -> f64 {
    0.6
}
fn default_temperature() -> f64 {
    0.7
}
fn default_max_tokens() -> u32 {
    1024
}

impl StageConfig for DialogueConfig {
    const KIND: &'static str = "cap_qa.dialogue";
    const SUMMARY: &'static str = "Text-only LLM writes a QA dialogue from the caption; answers not supported by it are dropped";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        pixmo_llm_stage::check_sampling(self.temperature, self.max_tokens)?;
        pixmo_llm_stage::sampling(self.temperature, self.max_tokens, 0)
            .with_penalties(self.frequency_penalty, self.presence_penalty)
            .check()?;
        if !(1..=20).contains(&self.turns) {
            return Err("`turns` must be 1..=20".into());
        }
        if !(0.0..=1.0).contains(&self.min_support) {
            return Err("`min_support` must be between 0 and 1".into());
        }
        Ok(Arc::new(Dialogue {
            llm: LlmHandle::build(&self.llm, self.cache_dir.as_deref())
                .map_err(ConfigError::setup)?,
            template: PromptTemplate::new("cap_qa.dialogue.v1", DIALOGUE_PROMPT)
                .map_err(|e| ConfigError::from(e.to_string()))?,
            config: self.clone(),
            dropped: Mutex::new(BTreeMap::new()),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Dialogue {
    llm: LlmHandle,
    template: PromptTemplate,
    config: DialogueConfig,
    dropped: Mutex<BTreeMap<String, u64>>,
}

/// Longest question, in characters (the schema's `maxLength`).
pub const MAX_QUESTION_CHARS: u64 = 200;
/// Longest answer, in characters.
pub const MAX_ANSWER_CHARS: u64 = 400;

/// The reply's schema: at most `turns` pairs of bounded strings, so a model that would loop
/// inside a string or list is made to close it (the embedded model decodes under this
/// schema; servers with structured output do the same).
fn dialogue_schema(turns: u32) -> JsonSchema {
    JsonSchema::new(
        "dialogue",
        serde_json::json!({
            "type": "object",
            "properties": {"dialogue": {"type": "array", "minItems": 1, "maxItems": turns, "items": {
                "type": "object",
                "properties": {
                    "question": {"type": "string", "maxLength": MAX_QUESTION_CHARS},
                    "answer": {"type": "string", "maxLength": MAX_ANSWER_CHARS}
                },
                "required": ["question", "answer"]
            }}},
            "required": ["dialogue"]
        }),
    )
}

/// The numbers a text states: digit runs and the number words zero to twenty, as values.
#[must_use]
pub fn numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '.')
        .map(|w| w.trim_matches('.').to_lowercase())
        .filter_map(|w| {
            if !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '.') {
                Some(w)
            } else {
                pixmo_points::number_word_value(&w).map(|n| n.to_string())
            }
        })
        .collect()
}

/// Why an answer is not supported by the caption, or `None` when it is.
#[must_use]
pub fn unsupported(answer: &str, caption: &str, min_support: f64) -> Option<&'static str> {
    let stated = numbers(caption);
    if numbers(answer).iter().any(|n| !stated.contains(n)) {
        return Some("number_not_in_caption");
    }
    if support(answer, &[caption.to_string()]) < min_support {
        return Some("answer_not_in_caption");
    }
    None
}

impl Dialogue {
    fn params(&self, seed: u64) -> SamplingParams {
        pixmo_llm_stage::sampling(self.config.temperature, self.config.max_tokens, seed)
            .with_penalties(self.config.frequency_penalty, self.config.presence_penalty)
    }
}

impl Stage for Dialogue {
    fn version(&self) -> &'static str {
        "2"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![ColumnDef::new("caption", ColumnType::Str)]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("question", ColumnType::Str),
            ColumnDef::new("answer", ColumnType::Str),
            ColumnDef::new("messages", ColumnType::StrList),
        ]
    }

    fn models(&self) -> Vec<ModelUse> {
        self.llm
            .model_uses(&[&self.template], &self.params(0), |_| {
                Some(dialogue_schema(self.config.turns).schema)
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
        let caption = record
            .str("caption")
            .map_err(|m| Reject::new("missing_input", m))?
            .to_string();
        let prompt = fill(
            &self.template,
            &[
                ("caption", &caption),
                ("turns", &self.config.turns.to_string()),
            ],
        )?;
        let (_, reply) = self.llm.chat_json(
            vec![Message::user(prompt)],
            &self.params(cx.seed),
            dialogue_schema(self.config.turns),
        )?;
        let pairs = reply["dialogue"].as_array().cloned().unwrap_or_default();
        let mut messages = Vec::new();
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        for pair in &pairs {
            let q = pair["question"].as_str().unwrap_or_default().trim();
            let a = pair["answer"].as_str().unwrap_or_default().trim();
            let reason = if q.is_empty() || a.is_empty() {
                Some("malformed")
            } else if messages.iter().step_by(2).any(|m: &String| m == q) {
                Some("duplicate")
            } else {
                unsupported(a, &caption, self.config.min_support)
            };
            match reason {
                Some(r) => *reasons.entry(r.into()).or_default() += 1,
                None => {
                    messages.push(q.to_string());
                    messages.push(a.to_string());
                }
            }
        }
        if let Ok(mut d) = self.dropped.lock() {
            for (k, v) in &reasons {
                *d.entry(k.clone()).or_default() += v;
            }
        }
        if messages.is_empty() {
            return Err(self.llm.fail(Reject::new(
                "no_supported_qa",
                format!(
                    "{} pairs, none supported by the caption ({reasons:?})",
                    pairs.len()
                ),
            )));
        }
        let mut question = String::new();
        for (i, m) in messages[..messages.len() - 1].iter().enumerate() {
            let role = if i % 2 == 0 { "[USER]" } else { "[ASSISTANT]" };
            if !question.is_empty() {
                question.push(' ');
            }
            question.push_str(role);
            question.push(' ');
            question.push_str(m);
        }
        let answer = messages[messages.len() - 1].clone();
        record.set("question", Value::Str(question));
        record.set("answer", Value::Str(answer));
        record.set("messages", Value::StrList(messages));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_must_follow_from_the_caption() {
        let caption = "Two children play football on a green lawn beside a red brick house.";
        assert_eq!(unsupported("Two children.", caption, 0.6), None);
        assert_eq!(unsupported("2", caption, 0.6), None);
        assert_eq!(
            unsupported("Three children.", caption, 0.6),
            Some("number_not_in_caption")
        );
        assert_eq!(
            unsupported("A golden retriever chasing seagulls.", caption, 0.6),
            Some("answer_not_in_caption")
        );
    }
}
