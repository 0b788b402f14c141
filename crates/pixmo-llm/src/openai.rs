//! A client for any OpenAI-compatible chat-completions server.
//!
//! vLLM, llama.cpp's server, Ollama and hosted APIs all speak `POST
//! {base_url}/chat/completions`. The client bounds concurrency with a semaphore, gives every
//! attempt a hard timeout, retries 408/429/5xx, timeouts and refused connections with
//! exponential backoff (seeded jitter, `Retry-After` honoured), and asks for structured
//! output with `response_format: {type: json_schema}` when the request carries a schema.
//!
//! A reply body is read only up to `max_response_bytes` (4 MiB by default): a larger
//! `Content-Length` fails before reading, a body that streams past the limit fails as soon
//! as it does, and neither is retried or cached. An API key is sent only over `https://` or
//! to a loopback host, and never shows in `Debug` output.

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
    /// Largest response body read, in bytes; a larger one fails the call (not retried).
    #[serde(default = "default_max_response_bytes")]
    pub max_response_bytes: u64,
}

/// Default of [`OpenAiConfig::max_response_bytes`]: 4 MiB, far above any chat reply.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 4 << 20;

/// Bytes of an error response's body read for its message.
const ERROR_BODY_BYTES: usize = 4096;

fn default_max_concurrency() -> usize {
    4
}

fn default_max_response_bytes() -> u64 {
    DEFAULT_MAX_RESPONSE_BYTES
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
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Checks the configuration and builds the client; reads the API key now.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable value (an API key with a plain `http://` URL to a
    /// host that is not loopback among them), [`Error::MissingApiKey`] when `api_key_env`
    /// names an unset variable.
    pub fn build(&self) -> Result<OpenAiClient> {
        let base = self.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Config(format!(
                "`base_url` must start with `http://` or `https://`, got `{}`",
                self.base_url
            )));
        }
        let parsed = reqwest::Url::parse(base).map_err(|error| {
            Error::Config(format!(
                "`base_url` `{}` is not a URL: {error}",
                self.base_url
            ))
        })?;
        if self.api_key_env.is_some() && parsed.scheme() == "http" && !is_loopback(&parsed) {
            return Err(Error::Config(format!(
                "`base_url` `{}` is plain HTTP: an API key is only sent over `https://` or to a \
                 loopback host (127.0.0.0/8, ::1, localhost)",
                self.base_url
            )));
        }
        if self.max_response_bytes == 0 {
            return Err(Error::Config(
                "`max_response_bytes` must be at least 1".into(),
            ));
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
            // A redirect could carry the API key to another host or to plain HTTP: a 3xx is
            // an error status instead.
            .redirect(reqwest::redirect::Policy::none())
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

/// Whether `url`'s host is the local machine: 127.0.0.0/8, `::1` (or `::ffff:127.x.y.z`),
/// or `localhost`.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(std::net::IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// A chat client for an OpenAI-compatible server. Build it with [`OpenAiConfig::build`].
/// Its `Debug` output shows whether a key is set, never the key.
pub struct OpenAiClient {
    url: String,
    config: OpenAiConfig,
    identity: ModelIdentity,
    api_key: Option<String>,
    http: reqwest::Client,
    permits: Arc<Semaphore>,
    attempts: AtomicU64,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("url", &self.url)
            .field("config", &self.config)
            .field("identity", &self.identity)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("attempts", &self.attempts())
            .finish_non_exhaustive()
    }
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
        if let Some(penalty) = params.frequency_penalty {
            body["frequency_penalty"] = json!(penalty);
        }
        if let Some(penalty) = params.presence_penalty {
            body["presence_penalty"] = json!(penalty);
        }
        if !params.stop.is_empty() {
            body["stop"] = json!(params.stop);
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
        let key = u64::from_str_radix(&request.cache_key(&self.identity, &self.url)[..16], 16)
            .unwrap_or(0);
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
        if !status.is_success() {
            let bytes = match read_prefix(response, ERROR_BODY_BYTES).await {
                Ok(bytes) => bytes,
                Err(source) => return (Err(http_error(source)), retry_after),
            };
            let text = String::from_utf8_lossy(&bytes);
            let body: String = text.chars().take(500).collect();
            let error = Error::Status {
                url: self.url.clone(),
                status: status.as_u16(),
                body,
            };
            return (Err(error), retry_after);
        }
        match self.read_capped(response).await {
            Ok(bytes) => (self.parse_reply(&bytes), None),
            Err(error) => (Err(error), None),
        }
    }

    /// The body of `response`, at most `max_response_bytes` of it: a larger `Content-Length`
    /// fails before reading, a body that grows past the limit fails when it does.
    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Vec<u8>> {
        let limit = self.config.max_response_bytes;
        let too_large = |what: String| Error::TooLarge {
            what,
            limit,
            setting: "max_response_bytes",
        };
        let announced = response.content_length();
        if let Some(length) = announced
            && length > limit
        {
            return Err(too_large(format!(
                "Response from `{}` (Content-Length {length})",
                self.url
            )));
        }
        let mut body = Vec::with_capacity(announced.unwrap_or(0).min(limit) as usize);
        while let Some(chunk) = response.chunk().await.map_err(|source| Error::Http {
            url: self.url.clone(),
            source,
        })? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large(format!("Response from `{}`", self.url)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
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

/// Up to about `limit` bytes of `response`'s body (the rest is never read).
async fn read_prefix(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await? {
            Some(chunk) => body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())]),
            None => break,
        }
    }
    Ok(body)
}

impl LlmClient for OpenAiClient {
    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn endpoint(&self) -> &str {
        &self.url
    }

    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse>> {
        Box::pin(self.chat_with_retries(request))
    }
}
