//! Tokenizers with Molmo's image tokens: byte-level (the default, needs no download, used by
//! the tests) or the byte-level BPE of a GGUF file ([`bpe`]), chosen by
//! [`crate::config::TokenizerConfig`] and saved with every checkpoint.
//!
//! Bytes: ids `0..256` are UTF-8 bytes, `256` is `<|endoftext|>` (EOS, also used as BOS as
//! Qwen2 does); rows up to [`BYTE_VOCAB`] are unused padding. Either way, Molmo's special
//! tokens live in the `additional_vocab_size` rows after the base vocabulary, so their
//! embeddings belong to the connector, as in Molmo.

pub mod bpe;

use std::path::Path;
use std::sync::Arc;

use crate::config::TokenizerConfig;
use crate::error::{Error, Result};
use crate::gguf::GgufFile;
pub use bpe::Bpe;

/// Rows of the byte-level base vocabulary (257 used, padded to a multiple of 8).
pub const BYTE_VOCAB: usize = 264;

/// End of text of the byte tokenizer; also the first token of every sequence.
pub const EOS: u32 = 256;

/// Molmo's special tokens, in the order of their extra embedding rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// `<im_start>`.
    ImStart = 0,
    /// `<im_end>`.
    ImEnd = 1,
    /// `<im_patch>`: image features are added at these positions.
    ImPatch = 2,
    /// `<im_col>`: ends each row of patches.
    ImCol = 3,
    /// `<|image|>`: where the image goes in a prompt.
    Image = 4,
}

/// Number of [`Special`] tokens.
pub const SPECIAL_TOKENS: usize = 5;

/// Tokenizer over a base vocabulary of `vocab_size` rows. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    vocab_size: usize,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Bytes,
    Bpe(Arc<Bpe>),
}

impl Tokenizer {
    /// The byte tokenizer, with special tokens after `vocab_size` base rows.
    #[must_use]
    pub fn new(vocab_size: usize) -> Tokenizer {
        Tokenizer {
            vocab_size,
            kind: Kind::Bytes,
        }
    }

    /// The BPE tokenizer of a GGUF file (its whole vocabulary is the base vocabulary).
    ///
    /// # Errors
    /// When the file holds no usable byte-level BPE tokenizer.
    pub fn from_gguf(file: &GgufFile) -> Result<Tokenizer> {
        let bpe = Bpe::from_gguf(file)?;
        Ok(Tokenizer {
            vocab_size: bpe.vocab_size(),
            kind: Kind::Bpe(Arc::new(bpe)),
        })
    }

    /// The tokenizer a model config names, for a base vocabulary of `vocab_size` rows.
    ///
    /// # Errors
    /// When the GGUF file cannot be read or its vocabulary has another size.
    pub fn from_config(config: &TokenizerConfig, vocab_size: usize) -> Result<Tokenizer> {
        match config {
            TokenizerConfig::Bytes => Ok(Tokenizer::new(vocab_size)),
            TokenizerConfig::Gguf { path } => {
                let tok = Tokenizer::open_gguf(path)?;
                if tok.vocab_size != vocab_size {
                    return Err(Error::Tokenizer(format!(
                        "`{}` has {} tokens, the model's base vocabulary {vocab_size}",
                        path.display(),
                        tok.vocab_size
                    )));
                }
                Ok(tok)
            }
        }
    }

    /// [`Tokenizer::from_gguf`] of the file at `path`.
    ///
    /// # Errors
    /// When it cannot be read or holds no usable tokenizer.
    pub fn open_gguf(path: &Path) -> Result<Tokenizer> {
        Tokenizer::from_gguf(&GgufFile::open(path)?)
    }

    /// Rows of the base vocabulary.
    #[must_use]
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Whether this is the GGUF BPE tokenizer.
    #[must_use]
    pub fn is_bpe(&self) -> bool {
        matches!(self.kind, Kind::Bpe(_))
    }

    /// The id of a special token.
    #[must_use]
    pub fn special(&self, token: Special) -> u32 {
        u32::try_from(self.vocab_size).unwrap_or(u32::MAX) + token as u32
    }

    /// End of a response (`<|endoftext|>` for bytes, the file's `eos_token_id` for BPE).
    #[must_use]
    pub fn eos(&self) -> u32 {
        match &self.kind {
            Kind::Bytes => EOS,
            Kind::Bpe(bpe) => bpe.eos(),
        }
    }

    /// First token of every sequence (EOS for bytes, the file's `bos_token_id` for BPE).
    #[must_use]
    pub fn bos(&self) -> u32 {
        match &self.kind {
            Kind::Bytes => EOS,
            Kind::Bpe(bpe) => bpe.bos(),
        }
    }

    /// Token ids of `text`.
    #[must_use]
    pub fn encode(&self, text: &str) -> Vec<u32> {
        match &self.kind {
            Kind::Bytes => text.bytes().map(u32::from).collect(),
            Kind::Bpe(bpe) => bpe.encode(text),
        }
    }

    /// Text of ids up to the first EOS; special and control ids are skipped, invalid UTF-8
    /// replaced.
    #[must_use]
    pub fn decode(&self, ids: &[u32]) -> String {
        let eos = self.eos();
        let ids = ids.iter().copied().take_while(|&t| t != eos);
        match &self.kind {
            Kind::Bytes => {
                let bytes: Vec<u8> = ids.filter_map(|t| u8::try_from(t).ok()).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Kind::Bpe(bpe) => bpe.decode(ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_specials() {
        let t = Tokenizer::new(BYTE_VOCAB);
        let ids = t.encode(" 10:08 é");
        assert_eq!(t.decode(&ids), " 10:08 é");
        let mut with_eos = ids.clone();
        with_eos.extend([EOS, 65]);
        assert_eq!(t.decode(&with_eos), " 10:08 é");
        assert_eq!(t.special(Special::ImStart), 264);
        assert_eq!(t.special(Special::Image), 268);
        assert_eq!(
            (t.eos(), t.bos(), t.vocab_size(), t.is_bpe()),
            (EOS, EOS, 264, false)
        );
    }
}
