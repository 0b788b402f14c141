//! The token list of a CTranslate2 whisper model, as whisper.cpp's loader wants it.
//!
//! CTranslate2's `vocabulary.txt` has one token per line in GPT-2's byte-level form, where
//! every byte is shown as a printable character (`Ġ` is a space, `Ċ` a newline). whisper.cpp
//! wants the raw bytes of the ordinary tokens up to and including `<|endoftext|>`; it makes
//! the special and timestamp tokens above that itself.

use crate::{Error, Result};

/// The token that ends the ordinary vocabulary.
pub const END_OF_TEXT: &str = "<|endoftext|>";

/// The raw bytes of every token from the first line of `vocabulary` through
/// [`END_OF_TEXT`].
///
/// # Errors
/// [`Error::Model`] when the text has no `<|endoftext|>` line or a token uses a character
/// outside GPT-2's byte alphabet.
pub fn ordinary_tokens(vocabulary: &str) -> Result<Vec<Vec<u8>>> {
    let map = pixmo_core::byte_level::unicode_to_byte();
    let mut tokens = Vec::new();
    for (line_number, line) in vocabulary.lines().enumerate() {
        if line == END_OF_TEXT {
            tokens.push(line.as_bytes().to_vec());
            return Ok(tokens);
        }
        let bytes = line
            .chars()
            .map(|ch| map.get(&ch).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                Error::Model(format!(
                    "vocabulary line {}: `{line}` is not GPT-2 byte-level text",
                    line_number + 1
                ))
            })?;
        tokens.push(bytes);
    }
    Err(Error::Model(format!(
        "the vocabulary has no `{END_OF_TEXT}` line"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_characters_map_back_to_bytes() {
        let tokens =
            ordinary_tokens("!\nĠthe\nĊ\n¡\nĀ\n<|endoftext|>\n<|startoftranscript|>\n").unwrap();
        assert_eq!(
            tokens,
            [
                b"!".to_vec(),
                b" the".to_vec(),
                b"\n".to_vec(),
                vec![0xA1],
                vec![0x00],
                b"<|endoftext|>".to_vec()
            ]
        );
    }

    #[test]
    fn foreign_characters_and_a_missing_end_are_errors() {
        let tokens = ordinary_tokens("ok\nhé\n<|endoftext|>\n").unwrap();
        assert_eq!(tokens[1], b"h\xE9", "é is byte 0xE9's own stand-in");
        let error = ordinary_tokens("ok\n日本\n<|endoftext|>\n").unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
        let error = ordinary_tokens("a\nb\n").unwrap_err();
        assert!(error.to_string().contains("no `<|endoftext|>`"), "{error}");
    }
}
