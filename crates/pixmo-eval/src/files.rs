//! JSON Lines in: reading predictions and gold, joining them by id, with errors that name
//! the file and line.
//!
//! Every line is one JSON object; blank lines are skipped. Each object has an `id` (string
//! or integer; `example_id` is read when `id` is absent, as in PixMo-Clocks rows). Other
//! fields are ignored, so exported dataset rows can be used as gold directly.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// A failure to read or join the input files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("Cannot read `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not what the format needs.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Gold examples with no prediction.
    #[error(
        "{missing} gold example(s) have no prediction, the first `{first_id}` ({}:{line})",
        gold.display()
    )]
    MissingPredictions {
        /// The gold file.
        gold: PathBuf,
        /// How many.
        missing: usize,
        /// The first one's id.
        first_id: String,
        /// Its line in the gold file.
        line: usize,
    },
    /// A file has no examples.
    #[error("`{}` has no examples", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One line of a JSON Lines file.
pub struct Line {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// The example's id.
    pub id: String,
    /// The object.
    pub fields: Map<String, Value>,
}

impl Line {
    /// An error about this line.
    #[must_use]
    pub fn invalid(&self, message: impl Into<String>) -> Error {
        Error::Invalid {
            path: self.path.clone(),
            line: self.line,
            message: message.into(),
        }
    }

    /// A field that must be present.
    ///
    /// # Errors
    /// When it is absent.
    pub fn field(&self, name: &str) -> Result<&Value> {
        self.fields
            .get(name)
            .ok_or_else(|| self.invalid(format!("missing field `{name}`")))
    }

    /// A non-negative integer field.
    ///
    /// # Errors
    /// When it is absent or not a non-negative integer.
    pub fn u64_field(&self, name: &str) -> Result<u64> {
        let value = self.field(name)?;
        value.as_u64().ok_or_else(|| {
            self.invalid(format!(
                "`{name}` must be a non-negative integer, not {value}"
            ))
        })
    }

    /// A string field.
    ///
    /// # Errors
    /// When it is absent or not a string.
    pub fn str_field(&self, name: &str) -> Result<&str> {
        let value = self.field(name)?;
        value
            .as_str()
            .ok_or_else(|| self.invalid(format!("`{name}` must be a string, not {value}")))
    }
}

/// Reads a JSON Lines file: one object per non-blank line, each with a unique id.
///
/// # Errors
/// The file cannot be read; a line is not a JSON object, has no usable id, or repeats an
/// earlier line's id.
pub fn read_lines(path: &Path) -> Result<Vec<Line>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut lines = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, text) in std::io::BufReader::new(file).lines().enumerate() {
        let text = text.map_err(io)?;
        let line = index + 1;
        if text.trim().is_empty() {
            continue;
        }
        let invalid = |message: String| Error::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let fields = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(fields)) => fields,
            Ok(other) => return Err(invalid(format!("expected a JSON object, got {other}"))),
            Err(e) => return Err(invalid(format!("not JSON: {e}"))),
        };
        let id = match fields.get("id").or_else(|| fields.get("example_id")) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => {
                return Err(invalid(format!(
                    "`id` must be a string or number, not {other}"
                )));
            }
            None => return Err(invalid("missing field `id`".to_string())),
        };
        if let Some(first) = seen.insert(id.clone(), line) {
            return Err(invalid(format!("id `{id}` repeats line {first}")));
        }
        lines.push(Line {
            path: path.to_path_buf(),
            line,
            id,
            fields,
        });
    }
    if lines.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(lines)
}

/// Reads predictions (`{"id": …, "answer": "…"}`) and gold, and pairs every gold line with
/// its answer, in gold order.
///
/// # Errors
/// Either file is unreadable or malformed (see [`read_lines`]), an answer is not a string,
/// a prediction's id is not in the gold, or a gold example has no prediction.
pub fn join(predictions: &Path, gold: &Path) -> Result<Vec<(Line, String)>> {
    let mut answers: HashMap<String, (usize, String)> = HashMap::new();
    for line in read_lines(predictions)? {
        let answer = line.str_field("answer")?.to_string();
        answers.insert(line.id, (line.line, answer));
    }
    let gold_lines = read_lines(gold)?;
    let mut pairs = Vec::with_capacity(gold_lines.len());
    let mut missing: Vec<&Line> = Vec::new();
    let mut unmatched = Vec::new();
    for line in &gold_lines {
        if !answers.contains_key(&line.id) {
            missing.push(line);
        }
    }
    if let Some(first) = missing.first() {
        return Err(Error::MissingPredictions {
            gold: gold.to_path_buf(),
            missing: missing.len(),
            first_id: first.id.clone(),
            line: first.line,
        });
    }
    for line in gold_lines {
        let (_, answer) = answers.remove(&line.id).unwrap_or_default();
        pairs.push((line, answer));
    }
    unmatched.extend(answers.into_iter().map(|(id, (line, _))| (line, id)));
    if let Some((line, id)) = unmatched.into_iter().min() {
        return Err(Error::Invalid {
            path: predictions.to_path_buf(),
            line,
            message: format!("id `{id}` is not in the gold file `{}`", gold.display()),
        });
    }
    Ok(pairs)
}
