//! Content hashes.

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `bytes`.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Canonical JSON of a serializable value: object keys sorted, no whitespace. Used for
/// config hashes so that field order in a TOML file does not change a hash.
#[must_use]
pub fn canonical_json<T: serde::Serialize>(value: &T) -> String {
    // serde_json::Value keeps objects in a BTreeMap (no `preserve_order`), so keys come out sorted.
    let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":3}}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"c":3,"d":2},"b":1}"#);
    }
}
