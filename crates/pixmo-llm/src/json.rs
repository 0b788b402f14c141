//! A tolerant reader for JSON that a language model wrote.
//!
//! Servers that enforce `response_format` return clean JSON; small models and servers that
//! ignore the schema wrap it in prose or Markdown fences, leave trailing commas, or stop
//! mid-value. [`parse_lenient`] accepts the first two, repairs the third and reports the
//! last as [`JsonFailure::Truncated`], so a stage can record why a record was rejected.

use serde_json::Value;

use crate::error::JsonFailure;

/// Parses the first JSON object or array in `text`.
///
/// Steps: the whole text as JSON; else the inside of the first Markdown code fence; then
/// each balanced `{...}`/`[...]` span in order (strings and escapes respected), first as
/// is, then with trailing commas removed. The first span that parses wins.
///
/// # Errors
/// [`JsonFailure::NoJson`] when no bracket opens, [`JsonFailure::Truncated`] when the first
/// value never closes, [`JsonFailure::Invalid`] with the parser's message otherwise.
pub fn parse_lenient(text: &str) -> Result<Value, JsonFailure> {
    let trimmed = text.trim();
    if let Ok(value @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str(trimmed) {
        return Ok(value);
    }
    let body = strip_fences(trimmed);
    let mut first_failure = None;
    let mut start = 0;
    while let Some(offset) = body[start..].find(['{', '[']) {
        let open = start + offset;
        let Some(end) = balanced_end(&body[open..]) else {
            return Err(first_failure.unwrap_or(JsonFailure::Truncated));
        };
        let span = &body[open..open + end];
        match parse_repaired(span) {
            Ok(value) => return Ok(value),
            Err(message) => {
                first_failure.get_or_insert(JsonFailure::Invalid(message));
            }
        }
        start = open + 1;
    }
    Err(first_failure.unwrap_or(JsonFailure::NoJson))
}

/// The inside of the first ```` ``` ```` fence (an unclosed fence runs to the end).
fn strip_fences(text: &str) -> &str {
    let Some(open) = text.find("```") else {
        return text;
    };
    let after = &text[open + 3..];
    // Skip the info string (`json`, `JSON`...) up to the end of the fence line.
    let body = match after.find('\n') {
        Some(newline) => &after[newline + 1..],
        None => after,
    };
    match body.find("```") {
        Some(close) => &body[..close],
        None => body,
    }
}

/// Byte length of the balanced value starting at `text[0]`, or `None` if it never closes.
fn balanced_end(text: &str) -> Option<usize> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (index, byte) in text.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => stack.push(b'}'),
            b'[' => stack.push(b']'),
            b'}' | b']' => {
                // A mismatched closer still closes the innermost value; the parser then
                // reports the span as invalid with a precise message.
                stack.pop();
                if stack.is_empty() {
                    return Some(index + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_repaired(span: &str) -> Result<Value, String> {
    match serde_json::from_str(span) {
        Ok(value) => Ok(value),
        Err(error) => {
            let repaired = remove_trailing_commas(span);
            if repaired == span {
                return Err(error.to_string());
            }
            serde_json::from_str(&repaired).map_err(|_| error.to_string())
        }
    }
}

/// Drops commas that are followed (after whitespace) by `}` or `]`, outside strings.
fn remove_trailing_commas(span: &str) -> String {
    let bytes = span.as_bytes();
    let mut out = String::with_capacity(span.len());
    let mut in_string = false;
    let mut escaped = false;
    for (index, ch) in span.char_indices() {
        if in_string {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            out.push(ch);
            continue;
        }
        if ch == '"' {
            in_string = true;
        } else if ch == ',' {
            let next = bytes[index + 1..]
                .iter()
                .find(|byte| !byte.is_ascii_whitespace());
            if matches!(next, Some(b'}' | b']')) {
                continue;
            }
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn clean_json_passes_through() {
        assert_eq!(parse_lenient(r#" {"a": 1} "#), Ok(json!({"a": 1})));
        assert_eq!(parse_lenient("[1, 2]"), Ok(json!([1, 2])));
    }

    #[test]
    fn code_fences_and_prose_are_stripped() {
        let text = "Sure! Here it is:\n```json\n{\"caption\": \"a dog\"}\n```\nAnything else?";
        assert_eq!(parse_lenient(text), Ok(json!({"caption": "a dog"})));
        let text = "The answer is {\"n\": [1, {\"m\": \"}\"}]} as requested.";
        assert_eq!(parse_lenient(text), Ok(json!({"n": [1, {"m": "}"}]})));
    }

    #[test]
    fn trailing_commas_are_repaired_but_not_inside_strings() {
        let text = r#"{"a": [1, 2, ], "b": "x, ]", }"#;
        assert_eq!(parse_lenient(text), Ok(json!({"a": [1, 2], "b": "x, ]"})));
    }

    #[test]
    fn a_later_valid_value_wins_over_an_earlier_brace_in_prose() {
        let text = "Fill {name} in: {\"name\": \"Ada\"}";
        assert_eq!(parse_lenient(text), Ok(json!({"name": "Ada"})));
    }

    #[test]
    fn failures_carry_the_reason() {
        assert_eq!(parse_lenient("no json here"), Err(JsonFailure::NoJson));
        assert_eq!(
            parse_lenient(r#"{"caption": "a dog sitting on"#),
            Err(JsonFailure::Truncated)
        );
        assert!(matches!(
            parse_lenient("{caption: 'single quotes'}"),
            Err(JsonFailure::Invalid(message)) if message.contains("key must be a string")
        ));
        // A bare scalar is not what a schema-constrained reply looks like.
        assert_eq!(parse_lenient("42"), Err(JsonFailure::NoJson));
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        let text = r#"{"q": "she said \"{\" then left"}"#;
        assert_eq!(
            parse_lenient(text),
            Ok(json!({"q": "she said \"{\" then left"}))
        );
    }
}
