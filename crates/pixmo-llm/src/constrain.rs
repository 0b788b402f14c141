//! Schema-constrained decoding for the embedded model: the reply of a request with a JSON
//! Schema is valid JSON of that schema's shape by construction, as llama.cpp's server does
//! with `response_format: json_schema`.
//!
//! A schema compiles to a [`Shape`]; a [`Matcher`] follows the reply byte by byte (a
//! pushdown automaton over JSON) and says whether a byte may come next. The decoder masks
//! every token whose bytes the matcher would refuse, and stops when the value is complete.
//!
//! The subset of JSON Schema that shapes the output: `type` object (with `properties` and
//! `required`: each required property written once, in any order, and no other; without
//! `required`, every listed property), array (`items`, `minItems`, `maxItems`), string
//! (`maxLength`, `enum`), number, integer, boolean, null. Anything else (no `type`, `anyOf`,
//! a type list, an object without `properties`) is "any JSON value": the reply is still valid
//! JSON, and the caller's own schema check sees the rest.

/// Most whitespace bytes accepted in a row between JSON tokens (a tiny model can otherwise
/// spend its whole budget on newlines).
pub const MAX_WHITESPACE_RUN: u32 = 16;

/// What a JSON value must look like.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// Any JSON value.
    Any,
    /// An object with exactly these properties (at most 64), each once, in any order.
    Object(Vec<(String, Shape)>),
    /// An array of `item`s, `min..=max` long.
    Array {
        /// Shape of every element.
        item: Box<Shape>,
        /// Fewest elements.
        min: usize,
        /// Most elements (`None`: unbounded).
        max: Option<usize>,
    },
    /// A string of at most `max_chars` characters (`None`: unbounded).
    String {
        /// Longest string, in characters (an escape counts as one).
        max_chars: Option<usize>,
    },
    /// One of these strings.
    Enum(Vec<String>),
    /// A JSON number.
    Number,
    /// A JSON number without fraction or exponent.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// `null`.
    Null,
}

impl Shape {
    /// The shape a JSON Schema asks for (the subset in the module documentation; the rest is
    /// [`Shape::Any`]).
    #[must_use]
    pub fn from_schema(schema: &serde_json::Value) -> Self {
        Self::compile(schema, 0)
    }

    fn compile(schema: &serde_json::Value, depth: usize) -> Self {
        use serde_json::Value;
        if depth > 32 {
            return Self::Any;
        }
        if let Some(Value::Array(options)) = schema.get("enum") {
            let strings: Option<Vec<String>> = options
                .iter()
                .map(|o| o.as_str().map(str::to_string))
                .collect();
            return match strings {
                Some(s) if !s.is_empty() => Self::Enum(s),
                _ => Self::Any,
            };
        }
        let usize_of = |key: &str| {
            schema
                .get(key)
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
        };
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => {
                let Some(Value::Object(properties)) = schema.get("properties") else {
                    return Self::Any;
                };
                if properties.is_empty() {
                    return Self::Any;
                }
                let required: Option<Vec<&str>> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect());
                let fields: Vec<(String, Shape)> = properties
                    .iter()
                    .filter(|(name, _)| {
                        required.as_ref().is_none_or(|r| r.contains(&name.as_str()))
                    })
                    .map(|(name, sub)| (name.clone(), Self::compile(sub, depth + 1)))
                    .collect();
                if fields.is_empty() || fields.len() > 64 {
                    Self::Any
                } else {
                    Self::Object(fields)
                }
            }
            Some("array") => {
                let item = schema
                    .get("items")
                    .map_or(Self::Any, |i| Self::compile(i, depth + 1));
                let min = usize_of("minItems").unwrap_or(0);
                let max = usize_of("maxItems");
                match max {
                    Some(max) if max < min => Self::Any,
                    _ => Self::Array {
                        item: Box::new(item),
                        min,
                        max,
                    },
                }
            }
            Some("string") => Self::String {
                max_chars: usize_of("maxLength"),
            },
            Some("number") => Self::Number,
            Some("integer") => Self::Integer,
            Some("boolean") => Self::Boolean,
            Some("null") => Self::Null,
            _ => Self::Any,
        }
    }
}

/// Where a number is in the JSON number grammar.
#[derive(Clone, Copy, Debug, PartialEq)]
enum NumberAt {
    Start,
    Minus,
    Zero,
    Digits,
    Dot,
    Fraction,
    Exp,
    ExpSign,
    ExpDigits,
}

impl NumberAt {
    fn accepting(self) -> bool {
        matches!(
            self,
            Self::Zero | Self::Digits | Self::Fraction | Self::ExpDigits
        )
    }

    fn next(self, b: u8, integer: bool) -> Option<Self> {
        use NumberAt::*;
        Some(match (self, b) {
            (Start, b'-') => Minus,
            (Start | Minus, b'0') => Zero,
            (Start | Minus, b'1'..=b'9') | (Digits, b'0'..=b'9') => Digits,
            (Zero | Digits, b'.') if !integer => Dot,
            (Dot | Fraction, b'0'..=b'9') => Fraction,
            (Zero | Digits | Fraction, b'e' | b'E') if !integer => Exp,
            (Exp, b'+' | b'-') => ExpSign,
            (Exp | ExpSign | ExpDigits, b'0'..=b'9') => ExpDigits,
            _ => return None,
        })
    }
}

/// Where a string is: plain text, after `\`, or `n` hex digits into a `\u` escape.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Escape {
    None,
    Backslash,
    Hex(u8),
}

/// One open value on the matcher's stack.
#[derive(Clone, Debug)]
enum Frame<'a> {
    /// A value of this shape starts next (whitespace first).
    Value(&'a Shape),
    /// Inside an object of known properties (written in any order, each once); `done`
    /// has a bit set for every property already written.
    Object {
        fields: &'a [(String, Shape)],
        done: u64,
        at: ObjectAt,
    },
    /// Inside an array; `count` elements finished.
    Array {
        item: &'a Shape,
        min: usize,
        max: Option<usize>,
        count: usize,
        after_comma: bool,
    },
    /// Inside a string value (or a key of an object of any shape).
    Str {
        max_chars: Option<usize>,
        chars: usize,
        escape: Escape,
    },
    /// Inside one of the strings of an enum; `written` is the bytes so far.
    Enum {
        options: &'a [String],
        written: Vec<u8>,
    },
    Number {
        at: NumberAt,
        integer: bool,
    },
    /// The rest of a literal (`true`, `false`, `null`).
    Literal(&'static [u8]),
    /// Inside an object of any shape.
    AnyObject(AnyObjectAt),
    /// Inside an array of any shape.
    AnyArray {
        count: usize,
        after_comma: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum ObjectAt {
    /// After `{` or `,`: the opening quote of a property not yet written.
    BeforeKey,
    /// `written` bytes of a key after its opening quote; `candidates`: the properties whose
    /// names start with them.
    Key { written: usize, candidates: u64 },
    /// The key of property `.0` and its closing quote written: `:` next.
    Colon(usize),
    /// A value finished: `,` while properties are missing, `}` once all are written.
    AfterValue,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum AnyObjectAt {
    /// After `{`: a key or `}`.
    Open,
    /// After `,`: a key.
    Comma,
    /// A key finished: `:` next.
    Colon,
    /// A value finished: `,` or `}`.
    AfterValue,
}

/// Follows a reply byte by byte and says whether each byte keeps it a prefix of a value of
/// the shape. Cloning is cheap (the stack is short), so the decoder tries every candidate
/// token on a clone.
#[derive(Clone, Debug)]
pub struct Matcher<'a> {
    stack: Vec<Frame<'a>>,
    whitespace: u32,
}

impl<'a> Matcher<'a> {
    /// A matcher for one value of `shape`.
    #[must_use]
    pub fn new(shape: &'a Shape) -> Self {
        Self {
            stack: vec![Frame::Value(shape)],
            whitespace: 0,
        }
    }

    /// True when the bytes so far are a whole value (nothing may follow but the end).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        match self.stack.as_slice() {
            [] => true,
            [Frame::Number { at, .. }] => at.accepting(),
            _ => false,
        }
    }

    /// True when a whole value was written and nothing may follow it (a top-level number
    /// is complete but could go on).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.stack.is_empty()
    }

    /// Feeds `bytes`; false (and the matcher left in an unspecified state) when one of them
    /// cannot come next.
    pub fn feed_all(&mut self, bytes: &[u8]) -> bool {
        bytes.iter().all(|&b| self.feed(b))
    }

    /// Feeds one byte; false when it cannot come next.
    pub fn feed(&mut self, b: u8) -> bool {
        self.step(b)
    }

    fn whitespace(&mut self, b: u8) -> bool {
        if matches!(b, b' ' | b'\n' | b'\r' | b'\t') && self.whitespace < MAX_WHITESPACE_RUN {
            self.whitespace += 1;
            true
        } else {
            false
        }
    }

    /// A value of `shape` begins with `b` (the `Value` frame already popped).
    fn start_value(&mut self, shape: &'a Shape, b: u8) -> bool {
        let frame = match (shape, b) {
            (Shape::Object(fields), b'{') => Frame::Object {
                fields,
                done: 0,
                at: ObjectAt::BeforeKey,
            },
            (Shape::Array { item, min, max }, b'[') => Frame::Array {
                item,
                min: *min,
                max: *max,
                count: 0,
                after_comma: false,
            },
            (Shape::String { max_chars }, b'"') => Frame::Str {
                max_chars: *max_chars,
                chars: 0,
                escape: Escape::None,
            },
            (Shape::Enum(options), b'"') => Frame::Enum {
                options,
                written: Vec::new(),
            },
            (Shape::Number, b'-' | b'0'..=b'9') | (Shape::Integer, b'-' | b'0'..=b'9') => {
                let integer = *shape == Shape::Integer;
                match NumberAt::Start.next(b, integer) {
                    Some(at) => Frame::Number { at, integer },
                    None => return false,
                }
            }
            (Shape::Boolean | Shape::Any, b't') => Frame::Literal(b"rue"),
            (Shape::Boolean | Shape::Any, b'f') => Frame::Literal(b"alse"),
            (Shape::Null | Shape::Any, b'n') => Frame::Literal(b"ull"),
            (Shape::Any, b'{') => Frame::AnyObject(AnyObjectAt::Open),
            (Shape::Any, b'[') => Frame::AnyArray {
                count: 0,
                after_comma: false,
            },
            (Shape::Any, b'"') => Frame::Str {
                max_chars: None,
                chars: 0,
                escape: Escape::None,
            },
            (Shape::Any, b'-' | b'0'..=b'9') => match NumberAt::Start.next(b, false) {
                Some(at) => Frame::Number { at, integer: false },
                None => return false,
            },
            _ => return false,
        };
        self.stack.push(frame);
        true
    }

    fn step(&mut self, b: u8) -> bool {
        let Some(top) = self.stack.pop() else {
            return false;
        };
        let structural = !matches!(
            top,
            Frame::Str { .. } | Frame::Enum { .. } | Frame::Literal(_) | Frame::Number { .. }
        ) && !matches!(
            top,
            Frame::Object {
                at: ObjectAt::Key { .. },
                ..
            }
        );
        if structural && self.whitespace(b) {
            self.stack.push(top);
            return true;
        }
        if structural {
            self.whitespace = 0;
        }
        match top {
            Frame::Value(shape) => self.start_value(shape, b),
            Frame::Object { fields, done, at } => self.object(fields, done, at, b),
            Frame::Array {
                item,
                min,
                max,
                count,
                after_comma,
            } => {
                let more = max.is_none_or(|m| count < m);
                match b {
                    b']' if !after_comma && count >= min => true,
                    b',' if !after_comma && count > 0 && more => {
                        self.stack.push(Frame::Array {
                            item,
                            min,
                            max,
                            count,
                            after_comma: true,
                        });
                        true
                    }
                    _ if (after_comma || count == 0) && more => {
                        self.stack.push(Frame::Array {
                            item,
                            min,
                            max,
                            count: count + 1,
                            after_comma: false,
                        });
                        self.start_value(item, b)
                    }
                    _ => false,
                }
            }
            Frame::AnyArray { count, after_comma } => match b {
                b']' if !after_comma => true,
                b',' if !after_comma && count > 0 => {
                    self.stack.push(Frame::AnyArray {
                        count,
                        after_comma: true,
                    });
                    true
                }
                _ if after_comma || count == 0 => {
                    self.stack.push(Frame::AnyArray {
                        count: count + 1,
                        after_comma: false,
                    });
                    self.start_value(&Shape::Any, b)
                }
                _ => false,
            },
            Frame::AnyObject(at) => {
                let next = match (at, b) {
                    (AnyObjectAt::Open | AnyObjectAt::AfterValue, b'}') => return true,
                    (AnyObjectAt::Open | AnyObjectAt::Comma, b'"') => {
                        self.stack.push(Frame::AnyObject(AnyObjectAt::Colon));
                        self.stack.push(Frame::Str {
                            max_chars: None,
                            chars: 0,
                            escape: Escape::None,
                        });
                        return true;
                    }
                    (AnyObjectAt::Colon, b':') => {
                        self.stack.push(Frame::AnyObject(AnyObjectAt::AfterValue));
                        self.stack.push(Frame::Value(&Shape::Any));
                        return true;
                    }
                    (AnyObjectAt::AfterValue, b',') => AnyObjectAt::Comma,
                    _ => return false,
                };
                self.stack.push(Frame::AnyObject(next));
                true
            }
            Frame::Str {
                max_chars,
                chars,
                escape,
            } => self.string(max_chars, chars, escape, b),
            Frame::Enum {
                options,
                mut written,
            } => {
                if b == b'"' {
                    return options.iter().any(|o| o.as_bytes() == written.as_slice());
                }
                // Options are matched as raw text: no escapes.
                if b == b'\\' || b < 0x20 {
                    return false;
                }
                written.push(b);
                let ok = options.iter().any(|o| o.as_bytes().starts_with(&written));
                if ok {
                    self.stack.push(Frame::Enum { options, written });
                }
                ok
            }
            Frame::Number { at, integer } => match at.next(b, integer) {
                Some(at) => {
                    self.stack.push(Frame::Number { at, integer });
                    true
                }
                // The number ended: the byte belongs to the enclosing value.
                None if at.accepting() => {
                    self.whitespace = 0;
                    self.step(b)
                }
                None => false,
            },
            Frame::Literal(rest) => match rest.split_first() {
                Some((&first, tail)) if first == b => {
                    if !tail.is_empty() {
                        self.stack.push(Frame::Literal(tail));
                    }
                    true
                }
                _ => false,
            },
        }
    }

    fn string(&mut self, max_chars: Option<usize>, chars: usize, escape: Escape, b: u8) -> bool {
        let under = |n: usize| max_chars.is_none_or(|m| n <= m);
        let (escape, chars) = match escape {
            Escape::Backslash => match b {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => (Escape::None, chars),
                b'u' => (Escape::Hex(0), chars),
                _ => return false,
            },
            Escape::Hex(n) => {
                if !b.is_ascii_hexdigit() {
                    return false;
                }
                if n == 3 {
                    (Escape::None, chars)
                } else {
                    (Escape::Hex(n + 1), chars)
                }
            }
            Escape::None => match b {
                b'"' => return true,
                b'\\' if under(chars + 1) => (Escape::Backslash, chars + 1),
                0..=0x1f => return false,
                // A UTF-8 continuation byte does not start a character.
                0x80..=0xbf => (Escape::None, chars),
                _ if under(chars + 1) => (Escape::None, chars + 1),
                _ => return false,
            },
        };
        self.stack.push(Frame::Str {
            max_chars,
            chars,
            escape,
        });
        true
    }

    fn object(&mut self, fields: &'a [(String, Shape)], done: u64, at: ObjectAt, b: u8) -> bool {
        let all = if fields.len() == 64 {
            u64::MAX
        } else {
            (1u64 << fields.len()) - 1
        };
        let frame = |done, at| Frame::Object { fields, done, at };
        let next = match (at, b) {
            (ObjectAt::BeforeKey, b'"') if done != all => ObjectAt::Key {
                written: 0,
                candidates: all & !done,
            },
            (
                ObjectAt::Key {
                    written,
                    candidates,
                },
                b'"',
            ) => {
                let Some(field) = (0..fields.len())
                    .find(|&i| candidates & (1 << i) != 0 && fields[i].0.len() == written)
                else {
                    return false;
                };
                ObjectAt::Colon(field)
            }
            (
                ObjectAt::Key {
                    written,
                    candidates,
                },
                _,
            ) if b != b'\\' => {
                let candidates = (0..fields.len())
                    .filter(|&i| {
                        candidates & (1 << i) != 0
                            && fields[i].0.as_bytes().get(written) == Some(&b)
                    })
                    .fold(0u64, |set, i| set | (1 << i));
                if candidates == 0 {
                    return false;
                }
                ObjectAt::Key {
                    written: written + 1,
                    candidates,
                }
            }
            (ObjectAt::Colon(field), b':') => {
                self.stack
                    .push(frame(done | (1 << field), ObjectAt::AfterValue));
                self.stack.push(Frame::Value(&fields[field].1));
                return true;
            }
            (ObjectAt::AfterValue, b',') if done != all => ObjectAt::BeforeKey,
            (ObjectAt::AfterValue, b'}') if done == all => return true,
            _ => return false,
        };
        self.stack.push(frame(done, next));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accepts(shape: &Shape, text: &str) -> bool {
        let mut m = Matcher::new(shape);
        for (i, &b) in text.as_bytes().iter().enumerate() {
            if !m.feed(b) {
                eprintln!("refused byte {i} of {text:?}");
                return false;
            }
        }
        m.is_complete()
    }

    fn prefix_ok(shape: &Shape, text: &str) -> bool {
        Matcher::new(shape).feed_all(text.as_bytes())
    }

    fn dialogue() -> Shape {
        let text = json!({"type": "string", "maxLength": 12});
        Shape::from_schema(&json!({
            "type": "object",
            "properties": {"dialogue": {"type": "array", "minItems": 1, "maxItems": 2, "items": {
                "type": "object",
                "properties": {"question": text, "answer": text},
                "required": ["question", "answer"]
            }}},
            "required": ["dialogue"]
        }))
    }

    #[test]
    fn a_schema_value_is_accepted_byte_by_byte_and_complete_only_at_its_end() {
        let shape = dialogue();
        let text = r#"{"dialogue": [{"question": "Which cup?", "answer": "The red one"}]}"#;
        assert!(accepts(&shape, text));
        assert!(accepts(
            &shape,
            r#"{"dialogue":[{"answer":"b","question":"a"}]}"#
        ));
        let pretty = "{\n  \"dialogue\" : [\n    {\"question\":\"a\\\"b\\u00e9\",\"answer\":\"é\"},\n    {\"question\":\"x\",\"answer\":\"y\"}\n  ]\n}";
        assert!(accepts(&shape, pretty));
        for end in 0..text.len() {
            let mut m = Matcher::new(&shape);
            assert!(m.feed_all(&text.as_bytes()[..end]), "prefix {end}");
            assert!(!m.is_complete(), "complete at {end}");
        }
        let mut m = Matcher::new(&shape);
        assert!(m.feed_all(text.as_bytes()));
        assert!(!m.feed(b' '), "nothing may follow a complete value");
    }

    #[test]
    fn bytes_the_schema_forbids_are_refused() {
        let shape = dialogue();
        for bad in [
            r#"["#,                                          // not an object
            r#"{"dialogs"#,                                  // wrong key
            r#"{"dialogue"]"#,                               // no colon
            r#"{"dialogue": []"#,                            // fewer than minItems
            r#"{"dialogue": [{"question": "a", "question""#, // a property twice
            r#"{"dialogue": [{"question": "a"}"#,            // a required property missing
            r#"{"dialogue": [{"question": "a", "answer": "b"}, {"question": "a", "answer": "b"}, "#, // over maxItems
            r#"{"dialogue": [{"question": "thirteen char"#, // over maxLength
            "{\"dialogue\": [{\"question\": \"a\nb",        // raw control byte in a string
            r#"{"dialogue": [{"question": "a\q"#,           // bad escape
            r#"{"dialogue": [{"question": 1"#,              // number for a string
            r#"{"dialogue": [{"question": "a", "answer": "b", "#, // extra property
        ] {
            assert!(!prefix_ok(&shape, bad), "accepted {bad:?}");
        }
        assert!(!prefix_ok(
            &shape,
            &" ".repeat(MAX_WHITESPACE_RUN as usize + 1)
        ));
    }

    #[test]
    fn any_value_accepts_json_and_refuses_what_is_not() {
        let any = Shape::from_schema(&json!({"type": "object"}));
        assert_eq!(any, Shape::Any);
        let values = [
            json!({"a": [1, -2.5e3, 0, true, false, null], "b": {"c": "d\u{1F600}\n"}, "e": []}),
            json!([[], {}, "", -0.0, 12345678901234_i64]),
            json!("just a string"),
            json!(null),
        ];
        for v in &values {
            assert!(accepts(&any, &v.to_string()), "{v}");
            assert!(
                accepts(&any, &serde_json::to_string_pretty(v).unwrap()),
                "{v}"
            );
        }
        for bad in [
            "{,",
            "[1,]",
            "{\"a\" 1",
            "01",
            "-",
            "tru e",
            "[1 2]",
            "{\"a\":1,}",
            "1.e",
        ] {
            assert!(!accepts(&any, bad), "accepted {bad:?}");
        }
        // A number ends where the enclosing value goes on.
        assert!(accepts(&any, "[10,2.5]"));
        let mut top = Matcher::new(&any);
        assert!(top.feed_all(b"42") && top.is_complete());
    }

    #[test]
    fn enums_integers_and_booleans_follow_their_schema() {
        let shape = Shape::from_schema(&json!({
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["bar", "line"]},
                "n": {"type": "integer"},
                "ok": {"type": "boolean"},
                "optional": {"type": "string"}
            },
            "required": ["kind", "n", "ok"]
        }));
        assert!(accepts(&shape, r#"{"kind":"line","n":-12,"ok":false}"#));
        assert!(!prefix_ok(
            &shape,
            r#"{"kind":"li"#.replace("li", "pie").as_str()
        ));
        assert!(!prefix_ok(&shape, r#"{"kind":"ba""#));
        assert!(!prefix_ok(&shape, r#"{"kind":"bar","n":1.5"#));
        assert!(!prefix_ok(&shape, r#"{"kind":"bar","n":1,"ok":null"#));
    }
}
