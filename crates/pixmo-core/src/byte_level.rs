//! GPT-2's byte-level alphabet: how byte-level BPE vocabularies (GPT-2, whisper, SmolLM2)
//! write every byte as a printable character (`Ġ` is a space, `Ċ` a newline).

use std::collections::HashMap;

/// GPT-2's `bytes_to_unicode`, inverted: the byte each printable stand-in character means.
/// Printable ASCII and Latin-1 bytes stand for themselves; the other 68 bytes are written as
/// U+0100 onwards, in byte order.
#[must_use]
pub fn unicode_to_byte() -> HashMap<char, u8> {
    let mut map = HashMap::with_capacity(256);
    let mut shifted = 0u32;
    for byte in 0..=255u8 {
        let own = matches!(byte, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        let c = if own {
            char::from(byte)
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).unwrap_or('\u{FFFD}')
        };
        map.insert(c, byte);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_has_one_character() {
        let map = unicode_to_byte();
        assert_eq!(map.len(), 256);
        let mut bytes: Vec<u8> = map.values().copied().collect();
        bytes.sort_unstable();
        bytes.dedup();
        assert_eq!(bytes.len(), 256);
        assert_eq!(map[&'a'], b'a');
        assert_eq!(map[&'\u{120}'], b' ', "GPT-2 writes a space as U+0120 (Ġ)");
        assert_eq!(map[&'\u{10a}'], b'\n', "and a newline as U+010A (Ċ)");
    }
}
