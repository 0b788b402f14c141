//! A client for any OpenAI-compatible chat-completions server.
//!
//! vLLM, llama.cpp's server, Ollama and hosted APIs all speak `POST
//! {base_url}/chat/completions`. The client bounds concurrency with a semaphore, gives every
//! attempt a hard timeout, retries 408/429/5xx, timeouts and refused connections with
//! exponential backoff (seeded jitter, `Retry-After` honoured), and asks for structured
//! output with `response_format: {type: json_schema}` when the request carries a schema.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::client::{
    BoxFuture, ChatRequest, ChatResponse, FinishReason, LlmClient, ModelIdentity, Usage,
};
use crate::error::{Error, Result};
use crate::retry::{RetryPolicy, parse_retry_after};

/// How a request's JSON Schema is passed to the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// `response_format: {"type": "json_schema", ...}` (vLLM, llama.cpp, OpenAI).
    #[default]
    JsonSchema,
    /// `response_format: {"type": "json_object"}` for servers without schema support.
    JsonObject,
    /// Nothing is sent; the prompt must ask for JSON and the tolerant parser reads it.
    None,
}

/// Configuration of an [`OpenAiClient`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// API root, up to and including the version (for example `http://127.0.0.1:8080/v1`).
    pub base_url: String,
    /// Model name sent in each request.
    pub model: String,
    /// Environment variable holding the API key; `None` sends no `Authorization` header.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// SHA-256 of the served model file when known (recorded in provenance); otherwise the
    /// hash of `remote:<model>`.
    #[serde(default)]
    pub model_sha256: Option<String>,
    /// Calls in flight at once.
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Hard timeout of one HTTP attempt, in seconds.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    /// Retry schedule.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// How a request's schema reaches the server.
    #[serde(default)]
    pub structured_output: StructuredOutput,
}

fn default_max_concurrency() -> usize {
    4
}

fn default_timeout_s() -> f64 {
    120.0
}

impl OpenAiConfig {
    /// A configuration with defaults for everything but the endpoint and model.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            model_sha256: None,
            max_concurrency: default_max_concurrency(),
            timeout_s: default_timeout_s(),
            retry: RetryPolicy::default(),
            structured_output: StructuredOutput::default(),
        }
    }

    /// Checks the configuration and builds the client; reads the API key now.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable value, [`Error::MissingApiKey`] when `api_key_env`
    /// names an unset variable.
    pub fn build(&self) -> Result<OpenAiClient> {
        let base = self.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Config(format!(
                "`base_url` must start with `http://` or `https://`, got `{}`",
                self.base_url
            )));
        }
        if self.model.is_empty() {
            return Err(Error::Config("`model` is empty".into()));
        }
        if self.max_concurrency == 0 {
            return Err(Error::Config("`max_concurrency` must be at least 1".into()));
        }
        if !(self.timeout_s.is_finite() && self.timeout_s > 0.0) {
            return Err(Error::Config(format!(
                "`timeout_s` must be positive, got {}",
                self.timeout_s
            )));
        }
        let api_key = match &self.api_key_env {
            None => None,
            Some(name) => Some(
                std::env::var(name)
                    .ok()
                    .filter(|key| !key.is_empty())
                    .ok_or_else(|| Error::MissingApiKey(name.clone()))?,
            ),
        };
        let identity = match &self.model_sha256 {
            Some(sha256) => ModelIdentity {
                name: self.model.clone(),
                file_sha256: sha256.clone(),
            },
            None => ModelIdentity::remote(&self.model),
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs_f64(self.timeout_s.min(30.0)))
            .build()
            .map_err(|source| Error::Http {
                url: base.to_string(),
                source,
            })?;
        Ok(OpenAiClient {
            url: format!("{base}/chat/completions"),
            config: self.clone(),
            identity,
            api_key,
            http,
            permits: Arc::new(Semaphore::new(self.max_concurrency)),
            attempts: AtomicU64::new(0),
        })
    }
}

/// A chat client for an OpenAI-compatible server. Build it with [`OpenAiConfig::build`].
#[derive(Debug)]
pub struct OpenAiClient {
    url: String,
    config: OpenAiConfig,
    identity: ModelIdentity,
    api_key: Option<String>,
    http: reqwest::Client,
    permits: Arc<Semaphore>,
    attempts: AtomicU64,
}

impl OpenAiClient {
    /// The chat-completions endpoint URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// HTTP attempts made so far, retries included.
    #[must_use]
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// The JSON body sent for `request`.
    #[must_use]
    pub fn request_body(&self, request: &ChatRequest) -> Value {
        let params = &request.params;
        let mut body = json!({
            "model": self.config.model,
            "messages": request.messages,
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "stream": false,
        });
        if let Some(top_p) = params.top_p {
            body["top_p"] = json!(top_p);
        }
        if let Some(seed) = params.seed {
            body["seed"] = json!(seed);
        }
        if let Some(schema) = &request.schema {
            match self.config.structured_output {
                StructuredOutput::JsonSchema => {
                    body["response_format"] = json!({
                        "type": "json_schema",
                        "json_schema": {"name": schema.name, "schema": schema.schema, "strict": true},
                    });
                }
                StructuredOutput::JsonObject => {
                    body["response_format"] = json!({"type": "json_object"});
                }
                StructuredOutput::None => {}
            }
        }
        body
    }

    async fn chat_with_retries(&self, request: ChatRequest) -> Result<ChatResponse> {
        let body = self.request_body(&request);
        let key = u64::from_str_radix(&request.cache_key(&self.identity)[..16], 16).unwrap_or(0);
        let policy = &self.config.retry;
        let mut retry = 0;
        loop {
            let (result, retry_after) = self.attempt(&body).await;
            match result {
                Ok(response) => return Ok(response),
                Err(error) if error.is_retryable() && retry < policy.max_retries => {
                    tokio::time::sleep(policy.delay(retry, key, retry_after)).await;
                    retry += 1;
                }
                Err(error) if error.is_retryable() && retry > 0 => {
                    return Err(Error::RetriesExhausted {
                        attempts: retry + 1,
                        last: Box::new(error),
                    });
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// One HTTP attempt under a concurrency permit and the hard timeout. Returns the
    /// server's `Retry-After` alongside a failure.
    async fn attempt(&self, body: &Value) -> (Result<ChatResponse>, Option<Duration>) {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let timeout = Duration::from_secs_f64(self.config.timeout_s);
        match tokio::time::timeout(timeout, self.send(body)).await {
            Ok(outcome) => outcome,
            Err(_) => (
                Err(Error::Timeout {
                    url: self.url.clone(),
                    timeout,
                }),
                None,
            ),
        }
    }

    async fn send(&self, body: &Value) -> (Result<ChatResponse>, Option<Duration>) {
        let http_error = |source| Error::Http {
            url: self.url.clone(),
            source,
        };
        let mut builder = self.http.post(&self.url).json(body);
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(source) => return (Err(http_error(source)), None),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(source) => return (Err(http_error(source)), retry_after),
        };
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            let body: String = text.chars().take(500).collect();
            let error = Error::Status {
                url: self.url.clone(),
                status: status.as_u16(),
                body,
            };
            return (Err(error), retry_after);
        }
        (self.parse_reply(&bytes), None)
    }

    fn parse_reply(&self, bytes: &[u8]) -> Result<ChatResponse> {
        #[derive(Deserialize)]
        struct Reply {
            choices: Vec<Choice>,
            #[serde(default)]
            usage: Option<Usage>,
        }
        #[derive(Deserialize)]
        struct Choice {
            message: ReplyMessage,
            #[serde(default)]
            finish_reason: Option<String>,
        }
        #[derive(Deserialize)]
        struct ReplyMessage {
            #[serde(default)]
            content: Option<String>,
            #[serde(default)]
            refusal: Option<String>,
        }
        let protocol = |reason: String| Error::Protocol {
            url: self.url.clone(),
            reason,
        };
        let reply: Reply = serde_json::from_slice(bytes).map_err(|error| {
            let start: String = String::from_utf8_lossy(bytes).chars().take(200).collect();
            protocol(format!("{error} in `{start}`"))
        })?;
        let choice = reply
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| protocol("`choices` is empty".into()))?;
        let text = match (choice.message.content, choice.message.refusal) {
            (Some(content), _) => content,
            (None, Some(refusal)) => return Err(protocol(format!("the model refused: {refusal}"))),
            (None, None) => return Err(protocol("the message has no `content`".into())),
        };
        let finish_reason = match choice.finish_reason.as_deref() {
            Some("stop") | None => FinishReason::Stop,
            Some("length") => FinishReason::Length,
            Some(_) => FinishReason::Other,
        };
        Ok(ChatResponse {
            text,
            finish_reason,
            usage: reply.usage.unwrap_or_default(),
            cached: false,
        })
    }
}

impl LlmClient for OpenAiClient {
    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse>> {
        Box::pin(self.chat_with_retries(request))
    }
}
