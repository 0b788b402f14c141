//! A tolerant reader for JSON that a language model wrote.
//!
//! Servers that enforce `response_format` return clean JSON; small models and servers that
//! ignore the schema wrap it in prose or Markdown fences, leave trailing commas, or stop
//! mid-value. [`parse_lenient`] accepts the first two, repairs the third and reports the
//! last as [`JsonFailure::Truncated`], so a stage can record why a record was rejected.

use serde_json::Value;

use crate::error::JsonFailure;

/// Deepest nesting of brackets a value may have (serde_json's own recursion limit: anything
/// deeper could never parse). Deeper input fails with [`JsonFailure::TooDeep`].
pub const MAX_JSON_DEPTH: usize = 128;

/// Brackets nested at most this deep below the top level are tried as values of their own
/// when the value around them does not parse (`{"a": {...}, oops}` still yields `{...}`).
const CANDIDATE_DEPTH: usize = 2;

/// Most spans handed to the parser for one reply.
const MAX_ATTEMPTS: usize = 10_000;

/// Parses the first JSON object or array in `text`.
///
/// Steps: the whole text as JSON; else the inside of the first Markdown code fence; then
/// each balanced `{...}`/`[...]` span in order (strings and escapes respected), first as
/// is, then with trailing commas removed. The first span that parses wins. Spans nested
/// more than two levels inside a failed span are not tried on their own, and at most
/// 10,000 spans are tried.
///
/// # Cost
/// Linear in `text.len()`, whatever the input: one scan finds every span (a depth counter,
/// no stack of brackets), the spans tried lie at most three levels deep so each byte is in
/// at most three of them, and each attempt (serde_json, then one trailing-comma pass and
/// serde_json again) is linear in its span: at most 14 byte visits per input byte. serde_json stops at [`MAX_JSON_DEPTH`] levels,
/// so no step recurses deeper; `tests` checks the work count on hostile inputs.
///
/// # Errors
/// [`JsonFailure::NoJson`] when no bracket opens, [`JsonFailure::Truncated`] when the first
/// value never closes, [`JsonFailure::TooDeep`] when it nests deeper than
/// [`MAX_JSON_DEPTH`], [`JsonFailure::Invalid`] with the parser's message otherwise.
pub fn parse_lenient(text: &str) -> Result<Value, JsonFailure> {
    parse_counted(text, &mut 0)
}

/// [`parse_lenient`], adding to `work` the bytes it scanned or handed to the parser.
fn parse_counted(text: &str, work: &mut usize) -> Result<Value, JsonFailure> {
    let trimmed = text.trim();
    *work += trimmed.len();
    if let Ok(value @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str(trimmed) {
        return Ok(value);
    }
    let body = strip_fences(trimmed);
    let mut attempts = Attempts {
        first_failure: None,
        tried: 0,
        work,
    };
    let mut scan = Scan::default();
    for (index, byte) in body.bytes().enumerate() {
        *attempts.work += 1;
        if !scan.step(index, byte) {
            continue;
        }
        // A top-level value closed: it, then the spans nested in it, in opening order.
        let too_deep = scan.top_max_depth > MAX_JSON_DEPTH;
        for (k, &(open, end)) in scan.candidates.iter().enumerate() {
            if let Some(value) = attempts.try_span(&body[open..end], k == 0 && too_deep) {
                return Ok(value);
            }
        }
        scan.candidates.clear();
        if attempts.tried >= MAX_ATTEMPTS {
            break;
        }
    }
    let unclosed = if scan.top_max_depth > MAX_JSON_DEPTH {
        JsonFailure::TooDeep(MAX_JSON_DEPTH)
    } else {
        JsonFailure::Truncated
    };
    match attempts.first_failure {
        Some(failure) => Err(failure),
        None if scan.depth > 0 => Err(unclosed),
        None => Err(JsonFailure::NoJson),
    }
}

/// Parse attempts: the first failure, how many were made, the work done.
struct Attempts<'w> {
    first_failure: Option<JsonFailure>,
    tried: usize,
    work: &'w mut usize,
}

impl Attempts<'_> {
    fn try_span(&mut self, span: &str, too_deep: bool) -> Option<Value> {
        if self.tried >= MAX_ATTEMPTS {
            return None;
        }
        self.tried += 1;
        if too_deep {
            self.first_failure
                .get_or_insert(JsonFailure::TooDeep(MAX_JSON_DEPTH));
            return None;
        }
        // serde_json, the trailing-comma pass (each byte, and the whitespace after each comma,
        // looked at once), serde_json again.
        *self.work += 4 * span.len();
        match parse_repaired(span) {
            Ok(value) => Some(value),
            Err(message) => {
                if self.first_failure.is_none() {
                    self.first_failure = Some(JsonFailure::Invalid(message()));
                }
                None
            }
        }
    }
}

/// Bracket scanner: prose outside values is skipped (quotes there are not strings); inside a
/// value, strings and escapes are respected and any closer closes the innermost bracket (a
/// mismatched one makes the span invalid, which the parser then reports). Nesting is a
/// counter; only the brackets at the candidate depths are remembered.
#[derive(Default)]
struct Scan {
    depth: usize,
    /// Deepest nesting of the current (or last) top-level value.
    top_max_depth: usize,
    in_string: bool,
    escaped: bool,
    /// Spans of the current top-level value at depths `0..=CANDIDATE_DEPTH`, in opening
    /// order: (open, end), `end` set when the span closes. At most [`MAX_ATTEMPTS`].
    candidates: Vec<(usize, usize)>,
    /// For each open bracket at a candidate depth, its index in `candidates` (`None` past
    /// the cap).
    stack: Vec<Option<usize>>,
}

impl Scan {
    /// Consumes one byte; `true` when it closed a top-level value.
    fn step(&mut self, index: usize, byte: u8) -> bool {
        if self.in_string {
            match byte {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => self.in_string = false,
                _ => {}
            }
            return false;
        }
        match byte {
            b'"' if self.depth > 0 => self.in_string = true,
            b'{' | b'[' => {
                if self.depth == 0 {
                    self.top_max_depth = 0;
                }
                if self.depth <= CANDIDATE_DEPTH {
                    let slot = (self.candidates.len() < MAX_ATTEMPTS).then(|| {
                        self.candidates.push((index, index));
                        self.candidates.len() - 1
                    });
                    self.stack.push(slot);
                }
                self.depth += 1;
                self.top_max_depth = self.top_max_depth.max(self.depth);
            }
            b'}' | b']' if self.depth > 0 => {
                self.depth -= 1;
                if self.depth <= CANDIDATE_DEPTH
                    && let Some(Some(slot)) = self.stack.pop()
                {
                    self.candidates[slot].1 = index + 1;
                }
                return self.depth == 0;
            }
            _ => {}
        }
        false
    }
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

/// Parses `span`, then `span` without trailing commas; the error message is made only when
/// asked for (most failed attempts never need it).
fn parse_repaired(span: &str) -> Result<Value, impl FnOnce() -> String> {
    match serde_json::from_str(span) {
        Ok(value) => Ok(value),
        Err(error) => {
            let repaired = remove_trailing_commas(span);
            if repaired != span
                && let Ok(value) = serde_json::from_str(&repaired)
            {
                return Ok(value);
            }
            Err(move || error.to_string())
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

    /// Work (bytes scanned or parsed) of `parse_lenient` on `text`, with its result.
    fn counted(text: &str) -> (Result<Value, JsonFailure>, usize) {
        let mut work = 0;
        let result = parse_counted(text, &mut work);
        (result, work)
    }

    /// Hostile replies of about `n` bytes.
    fn hostile(n: usize) -> Vec<(&'static str, String)> {
        vec![
            ("open brackets", "[".repeat(n)),
            (
                "nested then closed",
                format!("{}{}", "[".repeat(n / 2), "]".repeat(n / 2)),
            ),
            (
                "nested invalid",
                format!("{}x{}", "[".repeat(n / 2), "]".repeat(n / 2)),
            ),
            (
                "three deep invalid",
                format!("[[[{}x]]]", "[1],".repeat(n / 4)),
            ),
            (
                "unterminated string",
                format!("{{\"a\": \"{}", "x".repeat(n)),
            ),
            ("prose braces", "{x} ".repeat(n / 4)),
            ("many small arrays", format!("{{{}", "[{x}],".repeat(n / 6))),
            ("escapes", format!("[\"{}", "\\\"".repeat(n / 2))),
            ("commas", format!("[1{}x]", ", ".repeat(n / 2))),
            ("fence", format!("```json\n{}", "{[".repeat(n / 2))),
        ]
    }

    #[test]
    fn work_is_linear_in_the_input_on_hostile_replies() {
        // Deterministic, not timed: the bytes scanned or handed to serde_json are at most
        // 14 times the input (the whole text, the scan, four passes over each of three
        // nested spans), at two sizes; the old parser was quadratic (1e12 at 1 MiB).
        for n in [1 << 16, 1 << 20] {
            for (name, text) in hostile(n) {
                let (result, work) = counted(&text);
                assert!(result.is_err(), "{name}");
                assert!(work <= 14 * text.len(), "{name}: {work} for {}", text.len());
            }
        }
    }

    #[test]
    fn a_million_nested_brackets_fail_with_the_depth_limit() {
        let open = "[".repeat(1_000_000);
        assert_eq!(
            parse_lenient(&open),
            Err(JsonFailure::TooDeep(MAX_JSON_DEPTH))
        );
        let closed = format!("{open}{}", "]".repeat(1_000_000));
        assert_eq!(
            parse_lenient(&closed),
            Err(JsonFailure::TooDeep(MAX_JSON_DEPTH))
        );
        assert_eq!(
            JsonFailure::TooDeep(MAX_JSON_DEPTH).to_string(),
            "the JSON value nests deeper than 128 levels"
        );
        // Within the limit nesting is fine, and a deep value does not hide a later good one.
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_lenient(&fine).is_ok());
        let later = format!("{closed} then {{\"ok\": 1}}");
        assert_eq!(parse_lenient(&later), Ok(json!({"ok": 1})));
    }

    #[test]
    fn a_four_mib_reply_parses_or_fails_in_one_pass() {
        let caption = "a dog, ".repeat(600_000);
        let good = format!("Here it is: {{\"caption\": \"{caption}\", \"n\": [1, 2, ], }} Done.");
        assert!(good.len() > 4 << 20, "{}", good.len());
        let (result, work) = counted(&good);
        assert_eq!(
            result.unwrap()["caption"].as_str().unwrap().len(),
            caption.len()
        );
        assert!(work <= 14 * good.len());
        let bad = "{x} [y] ".repeat(600_000);
        let (result, work) = counted(&bad);
        assert!(matches!(result, Err(JsonFailure::Invalid(_))), "{result:?}");
        assert!(work <= 14 * bad.len());
    }

    #[test]
    fn a_valid_value_nested_in_a_broken_one_is_found() {
        let text = r#"{"result": {"caption": "a dog"}, oops}"#;
        assert_eq!(parse_lenient(text), Ok(json!({"caption": "a dog"})));
        // Quotes in prose do not start strings.
        let text = r#"He said "look here [note] and then: {"a": 1}"#;
        assert_eq!(parse_lenient(text), Ok(json!({"a": 1})));
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
