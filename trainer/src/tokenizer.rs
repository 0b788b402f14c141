//! Byte-level tokenizer with Molmo's image tokens.
//!
//! Ids `0..256` are UTF-8 bytes, `256` is `<|endoftext|>` (EOS, also used as BOS as Qwen2
//! does); rows up to [`BYTE_VOCAB`] are unused padding. Molmo's special tokens live in the
//! `additional_vocab_size` rows after the base vocabulary, so their embeddings belong to the
//! connector, as in Molmo. It needs no download; a run on imported Qwen2 weights would need
//! Qwen2's BPE vocabulary instead, which this crate does not ship.

/// Rows of the byte-level base vocabulary (257 used, padded to a multiple of 8).
pub const BYTE_VOCAB: usize = 264;

/// End of text; also the first token of every sequence.
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

/// Tokenizer over a base vocabulary of `vocab_size` rows.
#[derive(Clone, Copy, Debug)]
pub struct Tokenizer {
    vocab_size: usize,
}

impl Tokenizer {
    /// A tokenizer whose special tokens start after `vocab_size` base rows.
    #[must_use]
    pub fn new(vocab_size: usize) -> Tokenizer {
        Tokenizer { vocab_size }
    }

    /// The id of a special token.
    #[must_use]
    pub fn special(&self, token: Special) -> u32 {
        u32::try_from(self.vocab_size).unwrap_or(u32::MAX) + token as u32
    }

    /// Byte ids of `text`.
    #[must_use]
    pub fn encode(&self, text: &str) -> Vec<u32> {
        text.bytes().map(u32::from).collect()
    }

    /// Text of byte ids up to the first EOS; other ids are skipped, invalid UTF-8 replaced.
    #[must_use]
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .take_while(|&&t| t != EOS)
            .filter_map(|&t| u8::try_from(t).ok())
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
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
    }
}
