//! What every LLM stage shares (PixMo-Docs' LLM mode, PixMo-Cap's captions, CapQA's
//! dialogues): the configured client behind the on-disk reply cache with its counters, calling
//! it from a stage worker, turning its failures into recorded rejections, sampling settings
//! seeded per record, and template filling.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use pixmo_annotation_schema::ModelUse;
use pixmo_dag::Reject;
use pixmo_llm::{
    CacheStats, ChatRequest, ChatResponse, Error, FinishReason, JsonSchema, LlmClient, LlmConfig,
    LlmProvenance, Message, PromptTemplate, SamplingParams,
};

/// Runs `future` from a stage worker: stages run on the runtime's blocking pool, where
/// blocking on the runtime's handle is allowed; outside a runtime (unit tests) a small one is
/// made.
///
/// # Panics
/// If no runtime can be created.
pub fn block_on<F: Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(future),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(future),
    }
}

/// Default sampling temperature of the LLM stages (the original generators used 1.0).
#[must_use]
pub fn default_temperature() -> f64 {
    1.0
}

/// Default longest reply of the LLM stages, in tokens.
#[must_use]
pub fn default_max_tokens() -> u32 {
    2048
}

/// Checks an LLM stage's sampling settings.
///
/// # Errors
/// A message naming the bad setting.
pub fn check_sampling(temperature: f64, max_tokens: u32) -> Result<(), String> {
    if max_tokens == 0 {
        return Err("`max_tokens` must be at least 1".into());
    }
    if !(0.0..=2.0).contains(&temperature) {
        return Err(format!("`temperature` must be in 0..=2, got {temperature}"));
    }
    Ok(())
}

/// Sampling parameters of one record's calls: the record's stage seed makes a re-run ask
/// the same question (and so hit the cache).
#[must_use]
pub fn sampling(temperature: f64, max_tokens: u32, seed: u64) -> SamplingParams {
    SamplingParams {
        max_tokens,
        seed: Some(seed),
        temperature,
        top_p: Some(1.0),
        ..pixmo_llm::SamplingParams::default()
    }
}

/// Renders a built-in template with those of `variables` it uses (the presets' wordings need
/// different ones).
///
/// # Errors
/// `llm_error` if the template wants a variable that is not given (a bug).
pub fn fill(template: &PromptTemplate, variables: &[(&str, &str)]) -> Result<String, Reject> {
    let wanted = template.variables();
    let used: Vec<(&str, &str)> = variables
        .iter()
        .copied()
        .filter(|(name, _)| wanted.contains(name))
        .collect();
    template
        .render(&used)
        .map_err(|e| Reject::new("llm_error", e.to_string()))
}

/// A cached client plus the counters the run summary shows.
pub struct LlmHandle {
    client: Arc<dyn LlmClient>,
    cache: Arc<CacheStats>,
    failures: Mutex<BTreeMap<String, u64>>,
}

impl std::fmt::Debug for LlmHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmHandle")
            .field("model", self.client.identity())
            .finish_non_exhaustive()
    }
}

impl LlmHandle {
    /// Builds the configured backend behind the on-disk reply cache in `cache_dir` (default
    /// [`pixmo_llm::cache_dir`]).
    ///
    /// # Errors
    /// A message with a hint when the model or server configuration is unusable.
    pub fn build(
        config: &LlmConfig,
        cache_dir: Option<&std::path::Path>,
    ) -> Result<LlmHandle, String> {
        let dir = match cache_dir {
            Some(dir) => dir.to_path_buf(),
            None => pixmo_llm::cache_dir().map_err(|e| e.to_string())?,
        };
        let (client, cache) = config.build_cached(&dir).map_err(|e| {
            let hint = match config {
                LlmConfig::Embedded(_) => "\nhint: run `pixmo models fetch` first",
                LlmConfig::OpenAi(_) => "",
            };
            format!("{e}{hint}")
        })?;
        Ok(LlmHandle {
            client,
            cache,
            failures: Mutex::new(BTreeMap::new()),
        })
    }

    /// Provenance entries for `templates` with `params` (the per-record seed is recorded as
    /// `null`: it is the stage's record seed).
    #[must_use]
    pub fn model_uses(
        &self,
        templates: &[&PromptTemplate],
        params: &SamplingParams,
        schema_of: impl Fn(&PromptTemplate) -> Option<serde_json::Value>,
    ) -> Vec<ModelUse> {
        let params = SamplingParams {
            seed: None,
            ..params.clone()
        };
        templates
            .iter()
            .map(|t| {
                LlmProvenance::from_parts(self.client.identity(), t, &params, schema_of(t).as_ref())
                    .to_model_use("")
            })
            .collect()
    }

    /// One chat call. Transport failures that survived the client's retries, truncated
    /// replies and refusals become rejections (and are counted).
    ///
    /// # Errors
    /// `llm_error`, `llm_truncated` or `llm_refusal`.
    pub fn chat(
        &self,
        messages: Vec<Message>,
        params: &SamplingParams,
        schema: Option<JsonSchema>,
    ) -> Result<ChatResponse, Reject> {
        let mut request = ChatRequest::new(messages).with_params(params.clone());
        if let Some(schema) = schema {
            request = request.with_schema(schema);
        }
        let reply = block_on(self.client.chat(request))
            .map_err(|e| self.fail(Reject::new("llm_error", pixmo_core::error_chain(&e))))?;
        if let Some(phrase) = refusal_phrase(&reply.text) {
            return Err(self.fail(Reject::new(
                "llm_refusal",
                format!("The model declined (`{phrase}`): {}", clip(&reply.text)),
            )));
        }
        Ok(reply)
    }

    /// A JSON reply parsed with the tolerant parser.
    ///
    /// # Errors
    /// As [`LlmHandle::chat`], plus `llm_truncated` and `llm_bad_json`.
    pub fn chat_json(
        &self,
        messages: Vec<Message>,
        params: &SamplingParams,
        schema: JsonSchema,
    ) -> Result<(ChatResponse, serde_json::Value), Reject> {
        let reply = self.chat(messages, params, Some(schema))?;
        match reply.json() {
            Ok(v) => Ok((reply, v)),
            Err(Error::Json { failure, text }) => {
                let kind = if reply.finish_reason == FinishReason::Length {
                    "llm_truncated"
                } else {
                    "llm_bad_json"
                };
                Err(self.fail(Reject::new(kind, format!("{failure}: {}", clip(&text)))))
            }
            Err(e) => Err(self.fail(Reject::new("llm_bad_json", e.to_string()))),
        }
    }

    /// Counts a failure by kind and hands it back.
    pub fn fail(&self, reject: Reject) -> Reject {
        if let Ok(mut f) = self.failures.lock() {
            *f.entry(reject.kind.clone()).or_default() += 1;
        }
        reject
    }

    /// Calls, cache hits, tokens and failures so far.
    #[must_use]
    pub fn summary(&self) -> serde_json::Value {
        let c = self.cache.snapshot();
        let failures = self.failures.lock().map(|f| f.clone()).unwrap_or_default();
        serde_json::json!({
            "model": self.client.identity().name,
            "llm_calls": c.misses,
            "cache_hits": c.hits,
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "completion_tokens_saved_by_cache": c.saved_completion_tokens,
            "failures": failures,
        })
    }
}

/// The first 300 characters of a reply, for messages.
#[must_use]
pub fn clip(text: &str) -> String {
    let t: String = text.chars().take(300).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// The refusal a reply opens with, if it is one (a reply with code or JSON in it is not).
#[must_use]
pub fn refusal_phrase(text: &str) -> Option<&'static str> {
    const OPENINGS: [&str; 8] = [
        "i'm sorry",
        "i am sorry",
        "i can't",
        "i cannot",
        "i can not",
        "i won't",
        "i will not",
        "as an ai",
    ];
    let head = text.trim_start().to_lowercase();
    if text.contains('{') || text.contains('<') || text.contains("```") {
        return None;
    }
    OPENINGS.into_iter().find(|o| head.starts_with(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_recognised_but_code_is_not_a_refusal() {
        assert_eq!(
            refusal_phrase("I'm sorry, but I can't help with that."),
            Some("i'm sorry")
        );
        assert_eq!(refusal_phrase("I cannot {\"topics\": []}"), None);
        assert_eq!(refusal_phrase("Sure: ..."), None);
    }
}
