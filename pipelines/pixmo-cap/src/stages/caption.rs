//! `cap.caption`: one dense caption written by a text-only LLM from the transcripts alone.
//!
//! - What it does: gives the LLM the transcripts of every usable recording of the image (never
//!   the image) and asks for one dense caption of about `target_words` words that keeps every
//!   visual detail the speakers gave and adds nothing; then checks it: length within
//!   `min_words..=max_words`, no refusal, and **supported**: at least `min_support` of its
//!   content words occur in the transcripts (an LLM that invents details fails this), and
//!   **nothing invented**: every number, colour, name and quoted text in it occurs in a
//!   transcript ([`crate::invention`]; the offending words are named in the rejection).
//! - Inputs: `transcripts` (list of str).
//! - Outputs: `caption` (str).
//! - Failure modes: `llm_error`, `llm_refusal`, `llm_truncated` (from the LLM layer),
//!   `caption_length`, `caption_unsupported`, `caption_invented`.
//! - Cost: one LLM call (cached on disk: a rebuild makes none).

use std::collections::BTreeSet;
use std::sync::Arc;

use pixmo_annotation_schema::ModelUse;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_llm::{LlmConfig, Message, PromptTemplate, SamplingParams};
use pixmo_llm_stage::{LlmHandle, fill};
use serde::{Deserialize, Serialize};

/// The caption prompt (PixMo's recipe: a text-only LLM merges spoken descriptions).
pub const CAPTION_PROMPT: &str = "Below are transcripts of {{count}} spoken description(s) of one image. The speakers looked at the image and described it aloud; the transcripts come from speech recognition and may contain filler words and recognition errors.

{{transcripts}}

Write one detailed caption of the image of about {{words}} words, as a single paragraph. Keep every visual detail the speakers mention (objects, counts, colours, positions, text, style) and fix obvious recognition errors. Add nothing that the transcripts do not say. Do not mention the speakers, the recording or the transcripts. Reply with the caption only.";

/// Where a one-paragraph caption ends: generation stops there (`stop`).
pub const PARAGRAPH_END: &str = "\n\n";

/// Config of `cap.caption`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptionConfig {
    /// Which model writes (default: the embedded SmolLM2).
    #[serde(default)]
    pub llm: LlmConfig,
    /// Reply cache folder (default: `PIXMO_LLM_CACHE`, else the user cache folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<std::path::PathBuf>,
    /// Words asked for.
    #[serde(default = "default_target")]
    pub target_words: u32,
    /// Fewest words accepted.
    #[serde(default = "default_min")]
    pub min_words: u32,
    /// Most words accepted.
    #[serde(default = "default_max")]
    pub max_words: u32,
    /// Share of the caption's content words that must occur in the transcripts.
    #[serde(default = "default_support")]
    pub min_support: f64,
    /// Reject captions stating numbers, colours, names or quoted text that no transcript
    /// contains.
    #[serde(default = "default_true")]
    pub reject_invented: bool,
    /// Sampling temperature.
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    /// Longest reply, in tokens.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// OpenAI's `frequency_penalty` (-2..=2; default 0.3: on the sample inbox it took the
    /// embedded SmolLM2 from 3 of 5 captions looping to `max_tokens` to none; `0` turns it
    /// off).
    #[serde(
        default = "default_frequency_penalty",
        skip_serializing_if = "Option::is_none"
    )]
    pub frequency_penalty: Option<f64>,
    /// OpenAI's `presence_penalty` (-2..=2; default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
}

fn default_target() -> u32 {
    200
}
fn default_min() -> u32 {
    15
}
fn default_max() -> u32 {
    450
}
fn default_support() -> f64 {
    0.5
}
fn default_true() -> bool {
    true
}
fn default_temperature() -> f64 {
    0.3
}
fn default_max_tokens() -> u32 {
    700
}
#[allow(clippy::unnecessary_wraps)] // serde's `default` wants the field's type
fn default_frequency_penalty() -> Option<f64> {
    Some(0.3)
}

impl StageConfig for CaptionConfig {
    const KIND: &'static str = "cap.caption";
    const SUMMARY: &'static str =
        "Text-only LLM merges the transcripts into one dense caption, checked for support";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        pixmo_llm_stage::check_sampling(self.temperature, self.max_tokens)?;
        pixmo_llm_stage::sampling(self.temperature, self.max_tokens, 0)
            .with_penalties(self.frequency_penalty, self.presence_penalty)
            .check()?;
        if self.min_words == 0 || self.min_words > self.max_words {
            return Err("`min_words` must be at least 1 and at most `max_words`".into());
        }
        if !(0.0..=1.0).contains(&self.min_support) {
            return Err("`min_support` must be between 0 and 1".into());
        }
        Ok(Arc::new(Caption {
            llm: LlmHandle::build(&self.llm, self.cache_dir.as_deref())
                .map_err(ConfigError::setup)?,
            template: PromptTemplate::new("cap.caption.v1", CAPTION_PROMPT)
                .map_err(|e| ConfigError::from(e.to_string()))?,
            config: self.clone(),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Caption {
    llm: LlmHandle,
    template: PromptTemplate,
    config: CaptionConfig,
}

const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "with",
    "that",
    "this",
    "there",
    "their",
    "they",
    "them",
    "from",
    "into",
    "onto",
    "over",
    "under",
    "which",
    "while",
    "where",
    "have",
    "has",
    "been",
    "being",
    "are",
    "was",
    "were",
    "its",
    "also",
    "some",
    "very",
    "more",
    "most",
    "such",
    "each",
    "other",
    "than",
    "then",
    "these",
    "those",
    "image",
    "picture",
    "photo",
    "photograph",
    "shows",
    "showing",
    "shown",
    "appears",
    "visible",
    "seen",
    "scene",
    "features",
    "featuring",
    "can",
    "could",
    "would",
    "about",
    "around",
    "near",
    "just",
    "like",
    "what",
    "when",
    "what",
    "overall",
    "creating",
    "adding",
    "giving",
    "gives",
    "slightly",
    "background",
    "foreground",
];

/// Lower-case words of 4+ letters that carry content, stemmed.
fn content_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 4 && !STOPWORDS.contains(&w.as_str()))
        .map(|w| stem(&w).to_string())
        .collect()
}

/// A crude stem: `-ing`, `-ed`, `-es`, `-s` dropped from longer words (`leaning`, `leans` and
/// `lean` compare equal).
fn stem(word: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s"] {
        if word.len() > suffix.len() + 3
            && let Some(stem) = word.strip_suffix(suffix)
        {
            return stem;
        }
    }
    word
}

/// Share of the caption's content words found in the transcripts (1 without content words).
#[must_use]
pub fn support(caption: &str, transcripts: &[String]) -> f64 {
    let known: BTreeSet<String> = transcripts.iter().flat_map(|t| content_words(t)).collect();
    let words = content_words(caption);
    if words.is_empty() {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let share = words.iter().filter(|w| known.contains(*w)).count() as f64 / words.len() as f64;
    share
}

/// Labels a model puts before its caption (`Caption:`, `Transcription:`, `Description 1:`),
/// compared case-insensitively; they are removed.
const LABELS: &[&str] = &[
    "caption",
    "detailed caption",
    "image caption",
    "description",
    "image description",
    "transcription",
    "transcript",
];

/// A reply without quotes or a label such as `Caption:` around it.
fn clean(reply: &str) -> String {
    let mut t = reply.trim();
    if let Some((head, rest)) = t.split_once(':') {
        let head = head.trim().to_lowercase();
        let name = head.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ');
        if LABELS.contains(&name) {
            t = rest.trim();
        }
    }
    let t = t.trim_matches(|c| c == '"' || c == '\u{201c}' || c == '\u{201d}');
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Caption {
    fn params(&self, seed: u64) -> SamplingParams {
        let mut params =
            pixmo_llm_stage::sampling(self.config.temperature, self.config.max_tokens, seed)
                .with_penalties(self.config.frequency_penalty, self.config.presence_penalty);
        // The caption is one paragraph: a blank line ends it. A small model that goes on
        // after it (repeating the transcripts, commenting) is cut there instead of running
        // to `max_tokens` and being rejected as truncated.
        params.stop = vec![PARAGRAPH_END.into()];
        params
    }
}

impl Stage for Caption {
    fn version(&self) -> &'static str {
        "3"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![ColumnDef::new("transcripts", ColumnType::StrList)]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![ColumnDef::new("caption", ColumnType::Str)]
    }

    fn models(&self) -> Vec<ModelUse> {
        self.llm
            .model_uses(&[&self.template], &self.params(0), |_| None)
    }

    fn summary(&self) -> Option<serde_json::Value> {
        Some(self.llm.summary())
    }

    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject> {
        let transcripts = match record.get("transcripts") {
            Some(Value::StrList(t)) if !t.is_empty() => t.clone(),
            _ => return Err(Reject::new("missing_input", "no `transcripts`")),
        };
        let listed: Vec<String> = transcripts
            .iter()
            .enumerate()
            .map(|(i, t)| format!("Transcript {}: {t}", i + 1))
            .collect();
        let prompt = fill(
            &self.template,
            &[
                ("count", &transcripts.len().to_string()),
                ("transcripts", &listed.join("\n\n")),
                ("words", &self.config.target_words.to_string()),
            ],
        )?;
        let reply = self
            .llm
            .chat(vec![Message::user(prompt)], &self.params(cx.seed), None)?;
        if reply.finish_reason == pixmo_llm::FinishReason::Length {
            return Err(self.llm.fail(Reject::new(
                "llm_truncated",
                format!("the caption hit `max_tokens` ({})", self.config.max_tokens),
            )));
        }
        let caption = clean(&reply.text);
        let words = u32::try_from(caption.split_whitespace().count()).unwrap_or(u32::MAX);
        if !(self.config.min_words..=self.config.max_words).contains(&words) {
            return Err(self.llm.fail(Reject::new(
                "caption_length",
                format!(
                    "{words} words; accepted {}..={}: {}",
                    self.config.min_words,
                    self.config.max_words,
                    pixmo_llm_stage::clip(&caption)
                ),
            )));
        }
        let share = support(&caption, &transcripts);
        if share < self.config.min_support {
            return Err(self.llm.fail(Reject::new(
                "caption_unsupported",
                format!(
                    "{:.0} % of its content words occur in the transcripts (need {:.0} %): {}",
                    share * 100.0,
                    self.config.min_support * 100.0,
                    pixmo_llm_stage::clip(&caption)
                ),
            )));
        }
        if self.config.reject_invented {
            let invented = crate::invention::invented_details(&caption, &transcripts);
            if !invented.is_empty() {
                let named: Vec<String> = invented.iter().map(ToString::to_string).collect();
                return Err(self.llm.fail(Reject::new(
                    "caption_invented",
                    format!(
                        "not in any transcript: {}; caption: {}",
                        named.join(", "),
                        pixmo_llm_stage::clip(&caption)
                    ),
                )));
            }
        }
        record.set("caption", Value::Str(caption));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_details_lower_the_support() {
        let t =
            vec!["A red bicycle leans against a brick wall next to two potted plants.".to_string()];
        assert!(
            support(
                "A red bicycle leaning against a brick wall beside two potted plants.",
                &t
            ) > 0.8
        );
        assert!(
            support(
                "A blue motorcycle parked on a beach under palm trees at sunset.",
                &t
            ) < 0.3
        );
        assert_eq!(clean("Caption: \"A red bike.\""), "A red bike.");
        assert_eq!(clean("Transcription: A red bike."), "A red bike.");
        assert_eq!(clean("DESCRIPTION 2:  A red\nbike."), "A red bike.");
        assert_eq!(clean("Note: a red bike."), "Note: a red bike.");
        assert_eq!(clean("A bike: red."), "A bike: red.");
    }
}
