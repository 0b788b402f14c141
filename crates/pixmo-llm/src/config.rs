//! One serde-configurable choice of backend, for stage configurations.
//!
//! ```toml
//! [llm]
//! backend = "openai"
//! base_url = "http://127.0.0.1:8000/v1"
//! model = "Qwen/Qwen2.5-7B-Instruct"
//! api_key_env = "OPENAI_API_KEY"
//! ```
//! or `backend = "embedded"` (the default) for SmolLM2 in process.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::cache::{CacheStats, CachedClient};
use crate::client::LlmClient;
use crate::embedded::EmbeddedConfig;
use crate::error::Result;
use crate::openai::OpenAiConfig;

/// Which model answers, and how to reach it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "backend")]
pub enum LlmConfig {
    /// SmolLM2-135M-Instruct (or another ChatML GGUF) in process on the CPU.
    #[serde(rename = "embedded")]
    Embedded(EmbeddedConfig),
    /// An OpenAI-compatible chat-completions server.
    #[serde(rename = "openai")]
    OpenAi(OpenAiConfig),
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self::Embedded(EmbeddedConfig::default())
    }
}

impl LlmConfig {
    /// Builds the client (loads the embedded model, or checks the server configuration).
    ///
    /// # Errors
    /// The backend's build errors.
    pub fn build(&self) -> Result<Arc<dyn LlmClient>> {
        Ok(match self {
            Self::Embedded(config) => Arc::new(config.build()?),
            Self::OpenAi(config) => Arc::new(config.build()?),
        })
    }

    /// Builds the client behind a response cache in `cache_dir`; returns the cache's counters
    /// for the run summary.
    ///
    /// # Errors
    /// The backend's build errors, or [`crate::Error::Io`] for the cache directory.
    pub fn build_cached(&self, cache_dir: &Path) -> Result<(Arc<dyn LlmClient>, Arc<CacheStats>)> {
        let cached = CachedClient::new(self.build()?, cache_dir)?;
        let stats = cached.stats();
        Ok((Arc::new(cached), stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_chosen_by_tag_and_typos_are_rejected() {
        let openai: LlmConfig = toml_like(serde_json::json!({
            "backend": "openai", "base_url": "http://127.0.0.1:8000/v1", "model": "m",
            "max_concurrency": 8,
        }))
        .unwrap();
        match &openai {
            LlmConfig::OpenAi(config) => assert_eq!(config.max_concurrency, 8),
            other => panic!("unexpected {other:?}"),
        }
        let embedded: LlmConfig =
            toml_like(serde_json::json!({"backend": "embedded", "requantize_q8_0": true})).unwrap();
        assert!(matches!(
            embedded,
            LlmConfig::Embedded(EmbeddedConfig {
                requantize_q8_0: true,
                ..
            })
        ));
        let typo = toml_like(serde_json::json!({"backend": "embedded", "model_pth": "x"}));
        assert!(typo.unwrap_err().contains("unknown field `model_pth`"));
        let unknown = toml_like(serde_json::json!({"backend": "vllm"}));
        assert!(unknown.unwrap_err().contains("unknown variant `vllm`"));
    }

    fn toml_like(value: serde_json::Value) -> Result<LlmConfig, String> {
        serde_json::from_value(value).map_err(|error| error.to_string())
    }
}
