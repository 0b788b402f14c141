//! The embedded default model: SmolLM2-135M-Instruct (Q4_1 GGUF) on the CPU with candle.
//!
//! Everything comes from the one GGUF file: the weights (`quantized_llama`), the tokenizer
//! (byte-level BPE rebuilt from `tokenizer.ggml.tokens`/`merges`) and the chat template
//! (ChatML, with the default system prompt read from `tokenizer.chat_template`). The file
//! is hashed on load, so provenance records the bytes that actually ran.
//!
//! Decoding is greedy at temperature 0 and seeded otherwise, so replies are reproducible.
//! It follows the OpenAI parameters a server would: `stop` sequences (checked on the decoded
//! text after every token), `frequency_penalty` and `presence_penalty` (over the generated
//! tokens). Structured output is enforced as llama.cpp's server does it: the schema is added
//! to the system prompt, and every token that would take the reply out of the schema's shape
//! is masked before sampling ([`crate::constrain`]); the reply ends when the value closes.
//!
//! Threads: candle sizes its CPU pool from `CANDLE_NUM_THREADS` (else `RAYON_NUM_THREADS`,
//! else the physical cores) once per process. On small shared machines set
//! `CANDLE_NUM_THREADS=1`; spin barriers across oversubscribed cores are several times
//! slower. This Q4_1 file has no hand-written SIMD kernel in candle, so a binary built with
//! `-C target-cpu=native` runs it about 3.5× faster; the default build works everywhere.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::models::quantized_llama::ModelWeights;
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, PreTokenizerWrapper};

use crate::client::{
    BoxFuture, ChatRequest, ChatResponse, FinishReason, LlmClient, Message, ModelIdentity, Role,
    Usage,
};
use crate::constrain::{Matcher, Shape};
use crate::error::{Error, Result};
use crate::fetch::{SMOLLM2_135M_INSTRUCT_Q4_1, models_dir, sha256_file};

/// Configuration of the [`EmbeddedClient`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedConfig {
    /// GGUF file to run; defaults to SmolLM2-135M-Instruct Q4_1 in the models directory,
    /// which must then have its pinned SHA-256.
    pub model_path: Option<PathBuf>,
    /// SHA-256 the file at `model_path` must have; unchecked when `None`.
    pub sha256: Option<String>,
    /// Model name for provenance; defaults to the file stem.
    pub name: Option<String>,
    /// Re-quantize Q4_1 weights to Q8_0 on load. candle has run-time-selected AVX2 kernels
    /// for Q8_0 but only a scalar loop for Q4_1, so this is several times faster on x86-64
    /// without `-C target-cpu=native`, at the cost of about 1.7x the weight memory and a
    /// slightly different (not bit-identical) model; the name gets a `+q8_0` suffix, so
    /// provenance and cache keys tell the two apart. Off by default, so what runs is the
    /// pinned file as written.
    pub requantize_q8_0: bool,
}

impl EmbeddedConfig {
    /// Loads the model: checks its hash, reads weights, tokenizer and chat template.
    ///
    /// # Errors
    /// [`Error::ModelMissing`] (with the `pixmo models fetch` hint),
    /// [`Error::ChecksumMismatch`], or a load error of the GGUF.
    pub fn build(&self) -> Result<EmbeddedClient> {
        let spec = SMOLLM2_135M_INSTRUCT_Q4_1;
        let (path, expected) = match &self.model_path {
            Some(path) => (path.clone(), self.sha256.clone()),
            None => (
                spec.path_in(&models_dir()?),
                Some(
                    self.sha256
                        .clone()
                        .unwrap_or_else(|| spec.sha256.to_string()),
                ),
            ),
        };
        if !path.is_file() {
            return Err(Error::ModelMissing { path });
        }
        let sha256 = sha256_file(&path)?;
        if let Some(expected) = expected
            && expected != sha256
        {
            return Err(Error::ChecksumMismatch {
                path,
                expected,
                actual: sha256,
            });
        }
        let mut name = self.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| spec.name.to_string())
        });
        if self.requantize_q8_0 {
            name.push_str("+q8_0");
        }
        let mut file = std::fs::File::open(&path).map_err(|e| Error::io("open", &path, e))?;
        let content = gguf_file::Content::read(&mut file)
            .map_err(|e| Error::model(format!("cannot read GGUF `{}`", path.display()), e))?;
        let tokenizer = GgufTokenizer::from_content(&content)?;
        let context_length = metadata(&content, "llama.context_length")
            .and_then(|value| value.to_u32().ok())
            .unwrap_or(2048) as usize;
        let device = Device::Cpu;
        let load_error =
            |e| Error::model(format!("cannot load weights of `{}`", path.display()), e);
        let model = if self.requantize_q8_0 {
            let (content, mut buffer) =
                requantize_q8_0(&content, &mut file, &device).map_err(load_error)?;
            ModelWeights::from_gguf(content, &mut buffer, &device)
        } else {
            ModelWeights::from_gguf(content, &mut file, &device)
        }
        .map_err(load_error)?;
        Ok(EmbeddedClient {
            identity: ModelIdentity {
                name,
                file_sha256: sha256,
            },
            context_length,
            engine: Arc::new(Mutex::new(Engine {
                model,
                tokenizer,
                device,
            })),
        })
    }
}

/// A GGUF chat model running in this process. One generation runs at a time; concurrent
/// calls queue on a lock (a 135M model is memory-bound; parallel decoding gains nothing).
pub struct EmbeddedClient {
    identity: ModelIdentity,
    context_length: usize,
    engine: Arc<Mutex<Engine>>,
}

impl std::fmt::Debug for EmbeddedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedClient")
            .field("identity", &self.identity)
            .field("context_length", &self.context_length)
            .finish_non_exhaustive()
    }
}

/// What [`EmbeddedClient`] reports as its endpoint (part of every cache key): the version
/// of the in-process decoder. Bump it when the same request would decode differently.
pub const EMBEDDED_DECODER: &str = "in-process:decoder-2";

struct Engine {
    model: ModelWeights,
    tokenizer: GgufTokenizer,
    device: Device,
}

impl EmbeddedClient {
    /// The model's context window in tokens.
    #[must_use]
    pub fn context_length(&self) -> usize {
        self.context_length
    }

    fn generate_blocking(
        engine: &Mutex<Engine>,
        context_length: usize,
        request: &ChatRequest,
    ) -> Result<ChatResponse> {
        let mut engine = engine
            .lock()
            .map_err(|_| Error::Task("a previous generation panicked".into()))?;
        let Engine {
            model,
            tokenizer,
            device,
        } = &mut *engine;
        let prompt = tokenizer.render_chat(&with_schema_instruction(request));
        let prompt_ids = tokenizer.encode(&prompt)?;
        let max_new = request.params.max_tokens as usize;
        if prompt_ids.len() + max_new > context_length {
            return Err(Error::Config(format!(
                "a prompt of {} tokens plus `max_tokens` {max_new} exceeds the context of {context_length} tokens",
                prompt_ids.len()
            )));
        }
        let params = &request.params;
        params.check().map_err(Error::Config)?;
        let mut penalties = Penalties::new(params);
        let shape = request
            .schema
            .as_ref()
            .map(|s| Shape::from_schema(&s.schema));
        let tokenizer: &GgufTokenizer = tokenizer;
        let mut constraint = shape.as_ref().map(|shape| Constraint {
            matcher: Matcher::new(shape),
            tokenizer,
        });
        let sampling = match (params.temperature, params.top_p) {
            (t, _) if t <= 0.0 => Sampling::ArgMax,
            (temperature, Some(p)) if p < 1.0 => Sampling::TopP { p, temperature },
            (temperature, _) => Sampling::All { temperature },
        };
        let mut sampler = LogitsProcessor::from_sampling(params.seed.unwrap_or(0), sampling);
        model.clear_kv_cache();
        let step = |model: &mut ModelWeights, ids: &[u32], position: usize| -> Result<Tensor> {
            let input = Tensor::new(ids, device)
                .and_then(|t| t.unsqueeze(0))
                .and_then(|t| model.forward(&t, position))
                .and_then(|t| t.squeeze(0));
            input.map_err(|e| Error::model("forward pass failed", e))
        };
        let mut generated = Vec::with_capacity(max_new);
        let mut finish_reason = FinishReason::Length;
        let mut logits = step(model, &prompt_ids, 0)?;
        while generated.len() < max_new {
            let next = sampler
                .sample(&penalties.apply(logits, constraint.as_ref())?)
                .map_err(|e| Error::model("sampling failed", e))?;
            if tokenizer.stop_ids.contains(&next) {
                finish_reason = FinishReason::Stop;
                break;
            }
            generated.push(next);
            penalties.record(next);
            if let Some(constraint) = constraint.as_mut()
                && constraint.advance(next)
            {
                finish_reason = FinishReason::Stop;
                break;
            }
            if !params.stop.is_empty() {
                let text = tokenizer.decode(&generated)?;
                if let Some(end) = first_stop(&text, &params.stop) {
                    return Ok(ChatResponse {
                        text: text[..end].to_string(),
                        finish_reason: FinishReason::Stop,
                        usage: Usage {
                            prompt_tokens: prompt_ids.len() as u64,
                            completion_tokens: generated.len() as u64,
                        },
                        cached: false,
                    });
                }
            }
            if generated.len() == max_new {
                break;
            }
            let position = prompt_ids.len() + generated.len() - 1;
            logits = step(model, &[next], position)?;
        }
        Ok(ChatResponse {
            text: tokenizer.decode(&generated)?,
            finish_reason,
            usage: Usage {
                prompt_tokens: prompt_ids.len() as u64,
                completion_tokens: generated.len() as u64,
            },
            cached: false,
        })
    }
}

/// Schema-constrained decoding of one reply: which tokens may come next.
struct Constraint<'a> {
    matcher: Matcher<'a>,
    tokenizer: &'a GgufTokenizer,
}

impl<'a> Constraint<'a> {
    /// Lowers every token that cannot come next to minus infinity (a stop token may come
    /// only once the value is complete).
    fn mask(&self, values: &mut [f32]) {
        let tokenizer = self.tokenizer;
        let mut first = [false; 256];
        for (b, ok) in first.iter_mut().enumerate() {
            *ok = self.matcher.clone().feed(b as u8);
        }
        let complete = self.matcher.is_complete();
        for (id, v) in values.iter_mut().enumerate() {
            let allowed = match tokenizer.token_bytes.get(id) {
                _ if tokenizer.stop_ids.contains(&(id as u32)) => complete,
                Some(Some(bytes)) if !bytes.is_empty() && first[usize::from(bytes[0])] => {
                    self.matcher.clone().feed_all(bytes)
                }
                _ => false,
            };
            if !allowed {
                *v = f32::NEG_INFINITY;
            }
        }
    }

    /// Follows the chosen token; true once the reply is a whole value that nothing may
    /// follow (the reply ends there).
    fn advance(&mut self, token: u32) -> bool {
        if let Some(Some(bytes)) = self.tokenizer.token_bytes.get(token as usize) {
            self.matcher.feed_all(bytes);
        }
        self.matcher.is_closed()
    }
}

/// Where the first of `stops` begins in `text`, if any does.
fn first_stop(text: &str, stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter_map(|stop| text.find(stop.as_str()))
        .min()
}

/// OpenAI's frequency and presence penalties over the tokens generated so far (the prompt's
/// tokens are not counted): `logit -= count * frequency + (count > 0) * presence`.
struct Penalties {
    frequency: f32,
    presence: f32,
    counts: std::collections::BTreeMap<u32, u32>,
}

impl Penalties {
    fn new(params: &crate::SamplingParams) -> Self {
        Self {
            frequency: params.frequency_penalty.unwrap_or(0.0) as f32,
            presence: params.presence_penalty.unwrap_or(0.0) as f32,
            counts: std::collections::BTreeMap::new(),
        }
    }

    fn record(&mut self, token: u32) {
        *self.counts.entry(token).or_insert(0) += 1;
    }

    /// `logits` with the penalties applied and, under a schema, the tokens that cannot come
    /// next masked (unchanged when there is nothing to do).
    fn apply(&self, logits: Tensor, constraint: Option<&Constraint<'_>>) -> Result<Tensor> {
        let penalise = (self.frequency != 0.0 || self.presence != 0.0) && !self.counts.is_empty();
        if !penalise && constraint.is_none() {
            return Ok(logits);
        }
        let mut values = logits
            .to_dtype(candle_core::DType::F32)
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| Error::model("reading logits failed", e))?;
        if penalise {
            for (&token, &count) in &self.counts {
                if let Some(v) = values.get_mut(token as usize) {
                    *v -= count as f32 * self.frequency + self.presence;
                }
            }
        }
        if let Some(constraint) = constraint {
            constraint.mask(&mut values);
        }
        Tensor::from_vec(values, logits.shape(), logits.device())
            .map_err(|e| Error::model("writing logits failed", e))
    }
}

impl LlmClient for EmbeddedClient {
    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    /// The in-process decoder's version: its replies to the same request changed when
    /// schema requests became constrained (so replies cached before are not reused).
    fn endpoint(&self) -> &str {
        EMBEDDED_DECODER
    }

    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse>> {
        let engine = Arc::clone(&self.engine);
        let context_length = self.context_length;
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                Self::generate_blocking(&engine, context_length, &request)
            })
            .await
            .map_err(|error| Error::Task(error.to_string()))?
        })
    }
}

/// Adds "reply with JSON following this schema" to the system prompt of a schema request.
fn with_schema_instruction(request: &ChatRequest) -> Vec<Message> {
    let mut messages = request.messages.clone();
    let Some(schema) = &request.schema else {
        return messages;
    };
    let instruction = format!(
        "Reply with only a JSON value that follows this JSON Schema: {}",
        schema.schema
    );
    match messages
        .iter_mut()
        .find(|message| message.role == Role::System)
    {
        Some(system) => {
            system.content.push_str("\n\n");
            system.content.push_str(&instruction);
        }
        None => messages.insert(0, Message::system(instruction)),
    }
    messages
}

/// An in-memory copy of the GGUF with every Q4_1 tensor re-quantized to Q8_0.
fn requantize_q8_0(
    content: &gguf_file::Content,
    file: &mut std::fs::File,
    device: &Device,
) -> candle_core::Result<(gguf_file::Content, std::io::Cursor<Vec<u8>>)> {
    let mut names = content.tensor_infos.keys().collect::<Vec<_>>();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let tensor = content.tensor(file, name, device)?;
        let tensor = if tensor.dtype() == GgmlDType::Q4_1 {
            QTensor::quantize(&tensor.dequantize(device)?, GgmlDType::Q8_0)?
        } else {
            tensor
        };
        tensors.push((name.as_str(), tensor));
    }
    let mut metadata = content
        .metadata
        .iter()
        .map(|(key, value)| (key.as_str(), value))
        .collect::<Vec<_>>();
    metadata.sort_by_key(|(key, _)| *key);
    let tensor_refs = tensors
        .iter()
        .map(|(name, tensor)| (*name, tensor))
        .collect::<Vec<_>>();
    let mut buffer = std::io::Cursor::new(Vec::new());
    gguf_file::write(&mut buffer, &metadata, &tensor_refs)?;
    buffer.set_position(0);
    let content = gguf_file::Content::read(&mut buffer)?;
    Ok((content, buffer))
}

fn metadata<'a>(content: &'a gguf_file::Content, key: &str) -> Option<&'a gguf_file::Value> {
    content.metadata.get(key)
}

/// The tokenizer and chat template stored in a GGUF file.
pub struct GgufTokenizer {
    tokenizer: Tokenizer,
    /// The bytes each token stands for (`None`: a control token), for constrained decoding.
    token_bytes: Vec<Option<Vec<u8>>>,
    stop_ids: Vec<u32>,
    default_system_prompt: Option<String>,
}

impl std::fmt::Debug for GgufTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufTokenizer")
            .field("stop_ids", &self.stop_ids)
            .field("default_system_prompt", &self.default_system_prompt)
            .finish_non_exhaustive()
    }
}

impl GgufTokenizer {
    /// Reads the tokenizer of the GGUF file at `path` (metadata only, no weights).
    ///
    /// # Errors
    /// I/O and GGUF errors, or [`Error::Tokenizer`] when the metadata is not a GPT-2-style
    /// BPE with a ChatML template.
    pub fn from_file(path: &Path) -> Result<Self> {
        let mut file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
        let content = gguf_file::Content::read(&mut file)
            .map_err(|e| Error::model(format!("cannot read GGUF `{}`", path.display()), e))?;
        Self::from_content(&content)
    }

    fn from_content(content: &gguf_file::Content) -> Result<Self> {
        let bad = |what: &str| {
            Error::Tokenizer(format!("GGUF metadata `{what}` is missing or malformed"))
        };
        let strings = |key: &str| -> Result<Vec<String>> {
            metadata(content, key)
                .and_then(|value| value.to_vec().ok())
                .ok_or_else(|| bad(key))?
                .iter()
                .map(|value| value.to_string().cloned().map_err(|_| bad(key)))
                .collect()
        };
        let model_kind = metadata(content, "tokenizer.ggml.model")
            .and_then(|value| value.to_string().ok())
            .ok_or_else(|| bad("tokenizer.ggml.model"))?;
        if model_kind != "gpt2" {
            return Err(Error::Tokenizer(format!(
                "only byte-level BPE (`gpt2`) tokenizers are supported, this file has `{model_kind}`"
            )));
        }
        let tokens = strings("tokenizer.ggml.tokens")?;
        let merges = strings("tokenizer.ggml.merges")?
            .into_iter()
            .map(|merge| {
                merge
                    .split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| bad("tokenizer.ggml.merges"))
            })
            .collect::<Result<Vec<_>>>()?;
        let token_types = metadata(content, "tokenizer.ggml.token_type")
            .and_then(|value| value.to_vec().ok())
            .map(|types| {
                types
                    .iter()
                    .map(|t| t.to_i32().unwrap_or(1))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let vocab: Vocab = tokens
            .iter()
            .enumerate()
            .map(|(id, token)| (token.clone(), id as u32))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| Error::Tokenizer(format!("cannot build the BPE model: {e}")))?;
        let mut tokenizer = Tokenizer::new(bpe);
        tokenizer.with_pre_tokenizer(Some(PreTokenizerWrapper::Sequence(Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, true, true).into(),
        ]))));
        tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
        // Control tokens (type 3: `<|im_start|>`, `<|im_end|>`...) are matched whole.
        let specials = tokens
            .iter()
            .zip(&token_types)
            .filter(|(_, kind)| **kind == 3)
            .map(|(token, _)| AddedToken::from(token.clone(), true))
            .collect::<Vec<_>>();
        tokenizer
            .add_special_tokens(specials)
            .map_err(|e| Error::Tokenizer(format!("cannot add control tokens: {e}")))?;

        let template = metadata(content, "tokenizer.chat_template")
            .and_then(|value| value.to_string().ok())
            .ok_or_else(|| bad("tokenizer.chat_template"))?;
        if !template.contains("<|im_start|>") {
            return Err(Error::Tokenizer(
                "only ChatML chat templates (`<|im_start|>`) are supported".into(),
            ));
        }
        let mut stop_ids = Vec::new();
        if let Some(eos) =
            metadata(content, "tokenizer.ggml.eos_token_id").and_then(|v| v.to_u32().ok())
        {
            stop_ids.push(eos);
        }
        for token in ["<|im_end|>", "<|endoftext|>"] {
            if let Some(id) = tokenizer.token_to_id(token)
                && !stop_ids.contains(&id)
            {
                stop_ids.push(id);
            }
        }
        let byte_of = pixmo_core::byte_level::unicode_to_byte();
        let token_bytes = tokens
            .iter()
            .enumerate()
            .map(|(id, token)| {
                if token_types.get(id) == Some(&3) {
                    return None;
                }
                token.chars().map(|c| byte_of.get(&c).copied()).collect()
            })
            .collect();
        Ok(Self {
            tokenizer,
            token_bytes,
            stop_ids,
            default_system_prompt: default_system_prompt(template),
        })
    }

    /// Token ids of `text` (control tokens written out are recognised).
    ///
    /// # Errors
    /// [`Error::Tokenizer`] if encoding fails.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer
            .encode(text, false)
            .map(|encoding| encoding.get_ids().to_vec())
            .map_err(|e| Error::Tokenizer(format!("cannot encode: {e}")))
    }

    /// The bytes token `id` stands for; `None` for a control token or an unknown id.
    #[must_use]
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        self.token_bytes.get(id as usize)?.as_deref()
    }

    /// Number of tokens in the vocabulary.
    #[must_use]
    pub fn vocab_size(&self) -> usize {
        self.token_bytes.len()
    }

    /// Text of `ids`, control tokens dropped.
    ///
    /// # Errors
    /// [`Error::Tokenizer`] if decoding fails.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.tokenizer
            .decode(ids, true)
            .map_err(|e| Error::Tokenizer(format!("cannot decode: {e}")))
    }

    /// The ChatML prompt of `messages`, ending with the assistant's turn opening. Like the
    /// model's template, a conversation without a system message gets the default one.
    #[must_use]
    pub fn render_chat(&self, messages: &[Message]) -> String {
        let mut prompt = String::new();
        if messages
            .first()
            .is_none_or(|first| first.role != Role::System)
            && let Some(system) = &self.default_system_prompt
        {
            prompt.push_str(&format!("<|im_start|>system\n{system}<|im_end|>\n"));
        }
        for message in messages {
            prompt.push_str(&format!(
                "<|im_start|>{}\n{}<|im_end|>\n",
                message.role.as_str(),
                message.content
            ));
        }
        prompt.push_str("<|im_start|>assistant\n");
        prompt
    }
}

/// The default system prompt written into a ChatML Jinja template, if any: the text
/// between `<|im_start|>system` + newline and `<|im_end|>` (the newline may be written out
/// or escaped as `\n` inside the Jinja string literal).
fn default_system_prompt(template: &str) -> Option<String> {
    let marker = "<|im_start|>system";
    let rest = &template[template.find(marker)? + marker.len()..];
    let rest = rest
        .strip_prefix('\n')
        .or_else(|| rest.strip_prefix("\\n"))?;
    let text = &rest[..rest.find("<|im_end|>")?];
    // A template that builds the system turn from a message has no literal default.
    (!text.contains("{{") && !text.contains('\'')).then(|| text.replace("\\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalties_follow_openai_and_stops_cut_at_the_first() {
        let params = crate::SamplingParams::default().with_penalties(Some(0.5), Some(1.0));
        let mut penalties = Penalties::new(&params);
        let device = Device::Cpu;
        let logits = Tensor::new(&[1.0f32, 2.0, 3.0, 4.0], &device).unwrap();
        let tokenizer_free = |p: &Penalties, l: &Tensor| -> Vec<f32> {
            p.apply(l.clone(), None).unwrap().to_vec1::<f32>().unwrap()
        };
        assert_eq!(
            tokenizer_free(&penalties, &logits),
            vec![1.0, 2.0, 3.0, 4.0]
        );
        penalties.record(3);
        penalties.record(3);
        penalties.record(1);
        // Token 3 twice: 4 - 2 * 0.5 - 1; token 1 once: 2 - 0.5 - 1.
        assert_eq!(
            tokenizer_free(&penalties, &logits),
            vec![1.0, 0.5, 3.0, 2.0]
        );
        assert_eq!(
            first_stop("one\ntwo\n\nthree", &["\n\n".into(), "two".into()]),
            Some(4)
        );
        assert_eq!(first_stop("one", &["\n".into()]), None);
    }

    #[test]
    fn default_system_prompt_is_read_from_the_jinja_literal() {
        // As stored in SmolLM2's GGUF: real newlines inside the string literals.
        let template = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}";
        let expected = Some("You are a helpful AI assistant named SmolLM, trained by Hugging Face");
        assert_eq!(default_system_prompt(template).as_deref(), expected);
        // The same template with the newlines escaped in the Jinja source.
        let escaped = template.replace('\n', "\\n");
        assert_eq!(default_system_prompt(&escaped).as_deref(), expected);
        let no_default =
            "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>'}}";
        assert_eq!(default_system_prompt(no_default), None);
    }

    #[test]
    fn schema_instruction_joins_the_system_prompt() {
        let request =
            ChatRequest::new(vec![Message::system("Be brief."), Message::user("Hi")]).with_schema(
                crate::JsonSchema::new("x", serde_json::json!({"type": "object"})),
            );
        let messages = with_schema_instruction(&request);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0].content,
            "Be brief.\n\nReply with only a JSON value that follows this JSON Schema: {\"type\":\"object\"}"
        );
        let without_system = ChatRequest {
            messages: vec![Message::user("Hi")],
            ..request
        };
        assert_eq!(
            with_schema_instruction(&without_system)[0].role,
            Role::System
        );
    }
}
