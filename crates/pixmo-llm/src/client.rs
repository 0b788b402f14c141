//! The client interface every backend implements, and the request/response types.
//!
//! A request is plain data (messages, sampling parameters, an optional JSON Schema), so it
//! can be hashed for the response cache and recorded for provenance. A response carries the
//! raw reply text; [`ChatResponse::json`] turns it into JSON with the tolerant parser, so a
//! cached reply is re-parsed the same way a fresh one is.

use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, JsonFailure, Result};
use crate::json::parse_lenient;

/// A boxed, sendable future (keeps [`LlmClient`] usable as `dyn LlmClient`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A text-only chat model.
///
/// Implemented by [`crate::OpenAiClient`] (any OpenAI-compatible server),
/// [`crate::EmbeddedClient`] (SmolLM2 in process) and [`crate::CachedClient`] (a response
/// cache around either).
pub trait LlmClient: Send + Sync {
    /// The model's identity: what provenance records and what the cache keys on.
    fn identity(&self) -> &ModelIdentity;

    /// Where the model answers, when that is not implied by its identity: the URL of a
    /// remote server (another server may serve another model under the same name). Part of
    /// the cache key; `""` (the default) for a model in this process.
    fn endpoint(&self) -> &str {
        ""
    }

    /// Runs one chat completion.
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse>>;
}

impl<T: LlmClient + ?Sized> LlmClient for std::sync::Arc<T> {
    fn identity(&self) -> &ModelIdentity {
        (**self).identity()
    }

    fn endpoint(&self) -> &str {
        (**self).endpoint()
    }

    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse>> {
        (**self).chat(request)
    }
}

impl<T: LlmClient + ?Sized> LlmClient for Box<T> {
    fn identity(&self) -> &ModelIdentity {
        (**self).identity()
    }

    fn endpoint(&self) -> &str {
        (**self).endpoint()
    }

    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse>> {
        (**self).chat(request)
    }
}

/// Runs `request` and deserializes the reply as `T` with the tolerant JSON parser.
///
/// # Errors
/// Transport errors of the client, or [`Error::Json`] when the reply is not a `T`.
pub async fn chat_json<T: DeserializeOwned>(
    client: &(impl LlmClient + ?Sized),
    request: ChatRequest,
) -> Result<T> {
    let response = client.chat(request).await?;
    let value = response.json()?;
    serde_json::from_value(value).map_err(|error| Error::Json {
        failure: JsonFailure::SchemaMismatch(error.to_string()),
        text: response.text.clone(),
    })
}

/// Who produced a reply: recorded in provenance and part of every cache key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// Model name (for example `SmolLM2-135M-Instruct.Q4_1`).
    pub name: String,
    /// SHA-256 of the model file, or of the model's identity string for remote APIs.
    pub file_sha256: String,
}

impl ModelIdentity {
    /// Identity of a remote model known only by name: the hash is of `remote:<name>`.
    #[must_use]
    pub fn remote(name: &str) -> Self {
        Self {
            name: name.to_string(),
            file_sha256: sha256_hex(format!("remote:{name}").as_bytes()),
        }
    }
}

/// Author of a chat message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The user's turn.
    User,
    /// A previous model turn (few-shot examples).
    Assistant,
}

impl Role {
    /// The role's name in chat templates and the OpenAI API.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Sampling parameters. Field order is alphabetical so the serialized form is canonical.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingParams {
    /// OpenAI's `frequency_penalty` (-2..=2): each generated token's logit is lowered by this
    /// times the number of times it was already generated. `None` sends nothing (and keeps
    /// the serialized form, so cache keys and provenance, as before the field existed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Upper bound on generated tokens.
    pub max_tokens: u32,
    /// OpenAI's `presence_penalty` (-2..=2): lowers the logit of every token already
    /// generated once or more by this much. `None` sends nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Sampling seed; `None` leaves it to the backend (the embedded model then uses 0).
    pub seed: Option<u64>,
    /// OpenAI's `stop`: generation ends before the first of these strings (at most 4; the
    /// reply excludes it and finishes with `stop`). Empty sends nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Sampling temperature; 0 is greedy decoding.
    pub temperature: f64,
    /// Nucleus sampling mass; `None` disables it.
    pub top_p: Option<f64>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            frequency_penalty: None,
            max_tokens: 256,
            presence_penalty: None,
            seed: Some(0),
            stop: Vec::new(),
            temperature: 0.0,
            top_p: None,
        }
    }
}

impl SamplingParams {
    /// Canonical JSON of the parameters (what provenance's `parameters` field holds).
    #[must_use]
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("sampling parameters serialize")
    }

    /// The same parameters with OpenAI's frequency and presence penalties.
    #[must_use]
    pub fn with_penalties(mut self, frequency: Option<f64>, presence: Option<f64>) -> Self {
        self.frequency_penalty = frequency;
        self.presence_penalty = presence;
        self
    }

    /// Checks what OpenAI accepts for the penalties (-2..=2) and stop sequences (at most 4,
    /// none empty).
    ///
    /// # Errors
    /// A message naming the parameter that is out of range.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.stop.len() > 4 || self.stop.iter().any(String::is_empty) {
            return Err(format!(
                "`stop` takes at most 4 non-empty strings, got {:?}",
                self.stop
            ));
        }
        for (name, value) in [
            ("frequency_penalty", self.frequency_penalty),
            ("presence_penalty", self.presence_penalty),
        ] {
            if let Some(v) = value
                && !(-2.0..=2.0).contains(&v)
            {
                return Err(format!("`{name}` must be in -2..=2, got {v}"));
            }
        }
        Ok(())
    }
}

/// A JSON Schema the reply must follow (`response_format` of type `json_schema`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsonSchema {
    /// Schema name (letters, digits, `_` and `-`), sent to the server.
    pub name: String,
    /// The schema itself.
    pub schema: serde_json::Value,
}

impl JsonSchema {
    /// A named schema.
    pub fn new(name: impl Into<String>, schema: serde_json::Value) -> Self {
        Self {
            name: name.into(),
            schema,
        }
    }
}

/// One chat completion request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// Sampling parameters.
    pub params: SamplingParams,
    /// Structured-output schema, if the reply must be JSON.
    pub schema: Option<JsonSchema>,
}

impl ChatRequest {
    /// A request with default parameters and no schema.
    #[must_use]
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            params: SamplingParams::default(),
            schema: None,
        }
    }

    /// Sets the sampling parameters.
    #[must_use]
    pub fn with_params(mut self, params: SamplingParams) -> Self {
        self.params = params;
        self
    }

    /// Asks for JSON following `schema`.
    #[must_use]
    pub fn with_schema(mut self, schema: JsonSchema) -> Self {
        self.schema = Some(schema);
        self
    }

    /// SHA-256 identifying this request for `model` at `endpoint` ([`LlmClient::endpoint`]):
    /// the response-cache key.
    #[must_use]
    pub fn cache_key(&self, model: &ModelIdentity, endpoint: &str) -> String {
        #[derive(Serialize)]
        struct Key<'a> {
            // Absent for in-process models, whose keys stay what they were.
            #[serde(skip_serializing_if = "str::is_empty")]
            endpoint: &'a str,
            model: &'a ModelIdentity,
            messages: &'a [Message],
            params: &'a SamplingParams,
            schema: Option<&'a JsonSchema>,
        }
        let key = Key {
            endpoint,
            model,
            messages: &self.messages,
            params: &self.params,
            schema: self.schema.as_ref(),
        };
        sha256_hex(&serde_json::to_vec(&key).expect("request serializes"))
    }
}

/// Token counts of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Tokens generated.
    pub completion_tokens: u64,
}

/// Why generation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn.
    Stop,
    /// `max_tokens` was reached.
    Length,
    /// Anything else the server reported (content filter, tool calls...).
    Other,
}

/// One chat completion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The reply text.
    pub text: String,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
    /// Token counts (as reported by the backend).
    pub usage: Usage,
    /// Whether the reply came from the response cache.
    #[serde(default)]
    pub cached: bool,
}

impl ChatResponse {
    /// The reply as JSON, read with the tolerant parser.
    ///
    /// # Errors
    /// [`Error::Json`] with [`JsonFailure::Truncated`] when generation hit `max_tokens`
    /// inside the value, otherwise the parser's reason.
    pub fn json(&self) -> Result<serde_json::Value> {
        parse_lenient(&self.text).map_err(|failure| {
            let failure = match failure {
                JsonFailure::Invalid(_) | JsonFailure::NoJson
                    if self.finish_reason == FinishReason::Length =>
                {
                    JsonFailure::Truncated
                }
                other => other,
            };
            Error::Json {
                failure,
                text: self.text.clone(),
            }
        })
    }
}

/// Lower-case hex SHA-256 of `bytes`.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_penalties_and_stops_keep_the_canonical_form_and_cache_keys() {
        // The form every cache key and provenance record written before these fields existed.
        assert_eq!(
            SamplingParams::default().canonical_json(),
            r#"{"max_tokens":256,"seed":0,"temperature":0.0,"top_p":null}"#
        );
        let tuned = SamplingParams {
            stop: vec!["\n\n".into()],
            ..SamplingParams::default()
        }
        .with_penalties(Some(0.5), None);
        assert_eq!(
            tuned.canonical_json(),
            r#"{"frequency_penalty":0.5,"max_tokens":256,"seed":0,"stop":["\n\n"],"temperature":0.0,"top_p":null}"#
        );
        let back: SamplingParams = serde_json::from_str(&tuned.canonical_json()).unwrap();
        assert_eq!(back, tuned);
    }

    #[test]
    fn out_of_range_penalties_and_stops_are_refused() {
        let ok = SamplingParams::default().with_penalties(Some(2.0), Some(-2.0));
        assert_eq!(ok.check(), Ok(()));
        for (params, needle) in [
            (
                SamplingParams::default().with_penalties(Some(2.5), None),
                "frequency_penalty",
            ),
            (
                SamplingParams::default().with_penalties(None, Some(f64::NAN)),
                "presence_penalty",
            ),
            (
                SamplingParams {
                    stop: vec![String::new()],
                    ..SamplingParams::default()
                },
                "stop",
            ),
            (
                SamplingParams {
                    stop: vec!["a".into(); 5],
                    ..SamplingParams::default()
                },
                "stop",
            ),
        ] {
            let error = params.check().unwrap_err();
            assert!(error.contains(needle), "{error}");
        }
    }
}
