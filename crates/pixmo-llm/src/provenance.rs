//! Provenance of a generated field, shaped like the shard schema's `models` entries.
//!
//! [`LlmProvenance`] holds the LLM part of a
//! [`ModelUse`](pixmo_annotation_schema::common::ModelUse) (model name and file hash,
//! prompt template id and hash, canonical parameters); a stage adds its own name with
//! [`LlmProvenance::to_model_use`].

use pixmo_annotation_schema::common::ModelUse;
use serde::{Deserialize, Serialize};

use crate::client::{ChatRequest, ModelIdentity, SamplingParams, sha256_hex};
use crate::template::PromptTemplate;

/// The `kind` recorded for text-only language models.
pub const LLM_TEXT_KIND: &str = "llm-text";

/// How one generated field was produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmProvenance {
    /// Model name.
    pub name: String,
    /// SHA-256 of the model file (or of the remote model's identity).
    pub file_sha256: String,
    /// Prompt template id.
    pub prompt_template_id: String,
    /// SHA-256 of the prompt template text.
    pub prompt_template_sha256: String,
    /// Canonical JSON of the sampling parameters and, when structured output was asked
    /// for, the schema's SHA-256 (`{"params":{...},"schema_sha256":...}`).
    pub parameters: String,
}

impl LlmProvenance {
    /// Provenance of `request` sent to `model`, prompted from `template`.
    #[must_use]
    pub fn new(model: &ModelIdentity, template: &PromptTemplate, request: &ChatRequest) -> Self {
        Self::from_parts(
            model,
            template,
            &request.params,
            request.schema.as_ref().map(|s| &s.schema),
        )
    }

    /// Provenance from its parts, when no [`ChatRequest`] is at hand.
    #[must_use]
    pub fn from_parts(
        model: &ModelIdentity,
        template: &PromptTemplate,
        params: &SamplingParams,
        schema: Option<&serde_json::Value>,
    ) -> Self {
        #[derive(Serialize)]
        struct Parameters<'a> {
            params: &'a SamplingParams,
            schema_sha256: Option<String>,
        }
        let parameters = Parameters {
            params,
            schema_sha256: schema
                .map(|schema| sha256_hex(&serde_json::to_vec(schema).expect("schema serializes"))),
        };
        Self {
            name: model.name.clone(),
            file_sha256: model.file_sha256.clone(),
            prompt_template_id: template.id().to_string(),
            prompt_template_sha256: template.sha256().to_string(),
            parameters: serde_json::to_string(&parameters).expect("parameters serialize"),
        }
    }

    /// The shard schema's `models` entry for `stage`.
    #[must_use]
    pub fn to_model_use(&self, stage: &str) -> ModelUse {
        ModelUse {
            stage: stage.to_string(),
            kind: LLM_TEXT_KIND.to_string(),
            name: self.name.clone(),
            file_sha256: self.file_sha256.clone(),
            prompt_template_id: Some(self.prompt_template_id.clone()),
            prompt_template_sha256: Some(self.prompt_template_sha256.clone()),
            parameters: Some(self.parameters.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{JsonSchema, Message};

    #[test]
    fn model_use_carries_every_field() {
        let model = ModelIdentity {
            name: "SmolLM2-135M-Instruct.Q4_1".into(),
            file_sha256: "ab".repeat(32),
        };
        let template = PromptTemplate::new("cap.caption.v1", "Caption {{thing}}").unwrap();
        let request = ChatRequest::new(vec![Message::user("Caption a dog")]).with_schema(
            JsonSchema::new("caption", serde_json::json!({"type": "object"})),
        );
        let use_ = LlmProvenance::new(&model, &template, &request).to_model_use("cap.caption");
        assert_eq!(use_.stage, "cap.caption");
        assert_eq!(use_.kind, "llm-text");
        assert_eq!(use_.name, model.name);
        assert_eq!(use_.file_sha256, model.file_sha256);
        assert_eq!(use_.prompt_template_id.as_deref(), Some("cap.caption.v1"));
        assert_eq!(
            use_.prompt_template_sha256.as_deref(),
            Some(template.sha256())
        );
        let parameters: serde_json::Value =
            serde_json::from_str(use_.parameters.as_deref().unwrap()).unwrap();
        assert_eq!(parameters["params"]["temperature"], 0.0);
        assert_eq!(
            parameters["schema_sha256"],
            sha256_hex(br#"{"type":"object"}"#)
        );
    }
}
