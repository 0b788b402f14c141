//! The byte-level BPE tokenizer of a GGUF file (`tokenizer.ggml.model = "gpt2"`), as
//! llama.cpp runs it for SmolLM2 (`tokenizer.ggml.pre = "smollm"`): digits split one by
//! one, then GPT-2's pre-tokenizer regex and byte-to-unicode mapping, then the file's
//! merges. Control tokens (`tokenizer.ggml.token_type` 3: `<|endoftext|>`, `<|im_start|>`,
//! ...) are never produced by encoding text (text that spells one out is split like any
//! other text, as llama.cpp does without `parse_special`) and are dropped when decoding.

use tokenizers::PreTokenizerWrapper;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;

use crate::error::{Error, Result};
use crate::gguf::{GgufFile, Value};

/// GGUF token type of control tokens.
const CONTROL: i64 = 3;

/// A byte-level BPE vocabulary and its merges.
pub struct Bpe {
    tokenizer: tokenizers::Tokenizer,
    /// The bytes each token stands for; `None` for control tokens.
    token_bytes: Vec<Option<Vec<u8>>>,
    bos: u32,
    eos: u32,
    /// Bytes without a single-byte token (SmolLM2 lacks some ASCII control bytes): the BPE
    /// drops them when encoding.
    missing_bytes: Vec<u8>,
}

impl std::fmt::Debug for Bpe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bpe")
            .field("vocab_size", &self.token_bytes.len())
            .field("bos", &self.bos)
            .field("eos", &self.eos)
            .finish_non_exhaustive()
    }
}

impl Bpe {
    /// Builds the tokenizer from a GGUF file's metadata.
    ///
    /// # Errors
    /// When the metadata is missing, not a byte-level BPE, or a token is not byte-level.
    pub fn from_gguf(file: &GgufFile) -> Result<Bpe> {
        let model = file.str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(Error::Tokenizer(format!(
                "only byte-level BPE (`gpt2`) tokenizers are supported, `{}` has `{model}`",
                file.source().display()
            )));
        }
        let tokens = file.strings("tokenizer.ggml.tokens")?;
        let merges = file
            .strings("tokenizer.ggml.merges")?
            .into_iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| Error::Tokenizer(format!("merge `{m}` is not `A B`")))
            })
            .collect::<Result<Vec<_>>>()?;
        let types: Vec<i64> = match file.get("tokenizer.ggml.token_type") {
            Some(Value::Array(types)) => types
                .iter()
                .map(|t| t.as_f64().map_or(1, |v| v as i64))
                .collect(),
            _ => Vec::new(),
        };
        let byte_of = pixmo_core::byte_level::unicode_to_byte();
        let mut token_bytes = Vec::with_capacity(tokens.len());
        for (id, token) in tokens.iter().enumerate() {
            if types.get(id) == Some(&CONTROL) {
                token_bytes.push(None);
                continue;
            }
            let bytes: Option<Vec<u8>> = token.chars().map(|c| byte_of.get(&c).copied()).collect();
            let bytes = bytes.ok_or_else(|| {
                Error::Tokenizer(format!("token {id} `{token}` is not byte-level"))
            })?;
            token_bytes.push(Some(bytes));
        }
        let mut has_token = [false; 256];
        for bytes in token_bytes.iter().flatten() {
            if let [b] = bytes[..] {
                has_token[usize::from(b)] = true;
            }
        }
        let missing_bytes = (0..=255u8)
            .filter(|&b| !has_token[usize::from(b)])
            .collect();
        let id = |key: &str| -> Result<u32> {
            let id = file.usize(key)?;
            u32::try_from(id)
                .ok()
                .filter(|&id| (id as usize) < tokens.len())
                .ok_or_else(|| Error::Tokenizer(format!("`{key}` {id} is outside the vocabulary")))
        };
        let (bos, eos) = (
            id("tokenizer.ggml.bos_token_id")?,
            id("tokenizer.ggml.eos_token_id")?,
        );
        let vocab: Vocab = tokens
            .iter()
            .zip(0u32..)
            .map(|(token, id)| ((*token).to_string(), id))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| Error::Tokenizer(format!("cannot build the BPE model: {e}")))?;
        let mut tokenizer = tokenizers::Tokenizer::new(bpe);
        tokenizer.with_pre_tokenizer(Some(PreTokenizerWrapper::Sequence(Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, true, true).into(),
        ]))));
        Ok(Bpe {
            tokenizer,
            token_bytes,
            bos,
            eos,
            missing_bytes,
        })
    }

    /// Tokens in the vocabulary.
    #[must_use]
    pub fn vocab_size(&self) -> usize {
        self.token_bytes.len()
    }

    /// `tokenizer.ggml.bos_token_id`.
    #[must_use]
    pub fn bos(&self) -> u32 {
        self.bos
    }

    /// `tokenizer.ggml.eos_token_id`.
    #[must_use]
    pub fn eos(&self) -> u32 {
        self.eos
    }

    /// The bytes token `id` stands for; `None` for control tokens and ids outside the vocabulary.
    #[must_use]
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        self.token_bytes.get(id as usize)?.as_deref()
    }

    /// Bytes that have no token of their own, so encoding drops them (ASCII control bytes
    /// in SmolLM2's vocabulary); text without them round-trips through encode and decode.
    #[must_use]
    pub fn missing_bytes(&self) -> &[u8] {
        &self.missing_bytes
    }

    /// Token ids of `text`; bytes in [`Bpe::missing_bytes`] are dropped.
    #[must_use]
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.tokenizer
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default()
    }

    /// Text of `ids`; control tokens and ids outside the vocabulary are skipped, invalid
    /// UTF-8 replaced.
    #[must_use]
    pub fn decode(&self, ids: impl IntoIterator<Item = u32>) -> String {
        let bytes: Vec<u8> = ids
            .into_iter()
            .filter_map(|id| self.token_bytes(id))
            .flatten()
            .copied()
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
