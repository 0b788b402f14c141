//! Manifest rows: JSON Lines, CSV or Parquet, one recording per row.
//!
//! Columns (names as written; any other column is an error naming it):
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `image` | one of `image`/`image_url` | image file, relative to the manifest's folder |
//! | `image_url` | | image on the web; needs `image_sha256` |
//! | `image_sha256` | with `image_url` | lowercase hex SHA-256 of the image bytes |
//! | `audio` | yes | the recording, relative to the manifest's folder |
//! | `annotator` | yes | pseudonymous annotator id |
//! | `recorded_at` | yes | RFC 3339 UTC time of the recording |
//! | `license` | yes | licence of the image and recording |
//! | `synthetic_speech` | no | `true` when the audio is synthesised, not a person speaking |
//! | `speech_source` | no | what spoke (`espeak-ng 1.52 en-us+f3`) |
//! | `reference_text` | no | what was said, when known (for word error rates) |
//!
//! Text manifests are read only up to their last complete line, so a manifest that a writer
//! is appending to is read as the rows it has finished.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::inbox::InboxError;

/// Every column a manifest may have.
pub const COLUMNS: &[&str] = &[
    "image",
    "image_url",
    "image_sha256",
    "audio",
    "annotator",
    "recorded_at",
    "license",
    "synthetic_speech",
    "speech_source",
    "reference_text",
];

/// Longest text in any manifest cell.
const MAX_CELL_CHARS: usize = 64 * 1024;

/// One manifest row, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRow {
    /// Image file relative to the inbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Declared SHA-256 of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_sha256: Option<String>,
    /// Recording, relative to the inbox.
    pub audio: String,
    /// Pseudonymous annotator id.
    pub annotator: String,
    /// RFC 3339 UTC.
    pub recorded_at: String,
    /// Licence.
    pub license: String,
    /// Synthesised speech, not a person.
    #[serde(default)]
    pub synthetic_speech: bool,
    /// What spoke, for synthetic speech.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speech_source: Option<String>,
    /// What was said, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_text: Option<String>,
}

/// The manifest formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `.jsonl`: one JSON object per line.
    JsonLines,
    /// `.csv`: a header row, then one row per recording.
    Csv,
    /// `.parquet`: string columns (a boolean `synthetic_speech`).
    Parquet,
}

impl Format {
    /// The format of a manifest file, from its extension.
    #[must_use]
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// Whether rows can be appended to a file of this format (Parquet files are written whole).
    #[must_use]
    pub fn appendable(self) -> bool {
        self != Format::Parquet
    }
}

/// The rows of one manifest file and how many of its bytes they cover.
#[derive(Debug)]
pub struct Parsed {
    /// Rows, in file order (row numbers are 1-based data rows).
    pub rows: Vec<ManifestRow>,
    /// Bytes read: up to the last complete line of a text manifest, the whole file otherwise.
    pub bytes: u64,
}

/// Reads a manifest from its bytes. Rows before `skip` are not checked again (they were read
/// before and their bytes are checked by hash).
///
/// # Errors
/// [`InboxError::Manifest`] naming the file, the row and the column.
pub fn parse(name: &str, format: Format, bytes: &[u8], skip: usize) -> Result<Parsed, InboxError> {
    match format {
        Format::JsonLines => parse_jsonl(name, bytes, skip),
        Format::Csv => parse_csv(name, bytes, skip),
        Format::Parquet => parse_parquet(name, bytes, skip),
    }
}

fn complete_prefix(bytes: &[u8]) -> &[u8] {
    match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => &bytes[..=last],
        None => &[],
    }
}

fn error(file: &str, row: usize, column: Option<&str>, message: impl Into<String>) -> InboxError {
    InboxError::Manifest {
        file: file.to_string(),
        row,
        column: column.map(str::to_string),
        message: message.into(),
    }
}

/// One row from (column, cell) pairs.
fn row_from_cells<'a>(
    file: &str,
    row: usize,
    cells: impl Iterator<Item = (&'a str, Cell)>,
) -> Result<ManifestRow, InboxError> {
    let mut values: std::collections::BTreeMap<&str, Cell> = std::collections::BTreeMap::new();
    for (column, cell) in cells {
        if !COLUMNS.contains(&column) {
            return Err(error(
                file,
                row,
                Some(column),
                format!("unknown column (known: {})", COLUMNS.join(", ")),
            ));
        }
        if values.insert(column, cell).is_some() {
            return Err(error(file, row, Some(column), "column given twice"));
        }
    }
    let mut text = |column: &'static str| -> Result<Option<String>, InboxError> {
        match values.remove(column) {
            None | Some(Cell::Null) => Ok(None),
            Some(Cell::Text(s)) if s.trim().is_empty() => Ok(None),
            Some(Cell::Text(s)) if s.chars().count() > MAX_CELL_CHARS => Err(error(
                file,
                row,
                Some(column),
                format!("longer than {MAX_CELL_CHARS} characters"),
            )),
            Some(Cell::Text(s)) => Ok(Some(s.trim().to_string())),
            Some(Cell::Bool(_)) => Err(error(file, row, Some(column), "must be text")),
        }
    };
    let required = |value: Option<String>, column: &str| {
        value.ok_or_else(|| error(file, row, Some(column), "missing (a required column)"))
    };
    let image = text("image")?;
    let image_url = text("image_url")?;
    let image_sha256 = text("image_sha256")?.map(|s| s.to_ascii_lowercase());
    let audio = required(text("audio")?, "audio")?;
    let annotator = required(text("annotator")?, "annotator")?;
    let recorded_at = required(text("recorded_at")?, "recorded_at")?;
    let license = required(text("license")?, "license")?;
    let speech_source = text("speech_source")?;
    let reference_text = text("reference_text")?;
    let synthetic_speech = match values.remove("synthetic_speech") {
        None | Some(Cell::Null) => false,
        Some(Cell::Bool(b)) => b,
        Some(Cell::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "0" | "no" => false,
            "true" | "1" | "yes" => true,
            other => {
                return Err(error(
                    file,
                    row,
                    Some("synthetic_speech"),
                    format!("`{other}` is not true or false"),
                ));
            }
        },
    };
    match (&image, &image_url) {
        (None, None) => {
            return Err(error(
                file,
                row,
                Some("image"),
                "missing: give `image` (a file) or `image_url` with `image_sha256`",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(error(
                file,
                row,
                Some("image_url"),
                "give `image` or `image_url`, not both",
            ));
        }
        (None, Some(url)) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(error(file, row, Some("image_url"), "not an http(s) URL"));
            }
            if image_sha256.is_none() {
                return Err(error(
                    file,
                    row,
                    Some("image_sha256"),
                    "missing: an `image_url` needs the image's SHA-256",
                ));
            }
        }
        (Some(path), None) => check_relative(file, row, "image", path)?,
    }
    check_relative(file, row, "audio", &audio)?;
    if let Some(sha) = &image_sha256
        && !(sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(error(
            file,
            row,
            Some("image_sha256"),
            "not 64 hexadecimal digits",
        ));
    }
    pixmo_core::parse_as_of(&recorded_at).map_err(|e| error(file, row, Some("recorded_at"), e))?;
    if recorded_at.trim().parse::<i64>().is_ok() {
        return Err(error(
            file,
            row,
            Some("recorded_at"),
            "write the time as RFC 3339 UTC (2026-11-22T21:04:05Z)",
        ));
    }
    Ok(ManifestRow {
        image,
        image_url,
        image_sha256,
        audio,
        annotator,
        recorded_at,
        license,
        synthetic_speech,
        speech_source,
        reference_text,
    })
}

/// Paths stay inside the inbox: relative, no `..`.
fn check_relative(file: &str, row: usize, column: &str, path: &str) -> Result<(), InboxError> {
    let p = Path::new(path);
    if p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(error(
            file,
            row,
            Some(column),
            format!("`{path}` must be a path inside the inbox (relative, no `..`)"),
        ));
    }
    Ok(())
}

enum Cell {
    Null,
    Text(String),
    Bool(bool),
}

fn parse_jsonl(name: &str, bytes: &[u8], skip: usize) -> Result<Parsed, InboxError> {
    let prefix = complete_prefix(bytes);
    let text = std::str::from_utf8(prefix).map_err(|e| {
        let line = prefix[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        error(name, line + 1, None, "not UTF-8")
    })?;
    let mut rows = Vec::new();
    let mut row = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        row += 1;
        if row <= skip {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| error(name, row, None, format!("not JSON: {e}")))?;
        let serde_json::Value::Object(object) = value else {
            return Err(error(name, row, None, "not a JSON object"));
        };
        let mut cells = Vec::new();
        for (key, value) in &object {
            let cell = match value {
                serde_json::Value::Null => Cell::Null,
                serde_json::Value::String(s) => Cell::Text(s.clone()),
                serde_json::Value::Bool(b) => Cell::Bool(*b),
                _ => {
                    return Err(error(
                        name,
                        row,
                        Some(key),
                        "must be a string (or a boolean for `synthetic_speech`)",
                    ));
                }
            };
            cells.push((key.as_str(), cell));
        }
        rows.push(row_from_cells(name, row, cells.into_iter())?);
    }
    Ok(Parsed {
        rows,
        bytes: prefix.len() as u64,
    })
}

fn parse_csv(name: &str, bytes: &[u8], skip: usize) -> Result<Parsed, InboxError> {
    let prefix = complete_prefix(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(prefix);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| error(name, 0, None, format!("unreadable header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let record = record.map_err(|e| error(name, row, None, format!("unreadable: {e}")))?;
        if row <= skip {
            continue;
        }
        let cells = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.as_str(), Cell::Text(v.to_string())));
        rows.push(row_from_cells(name, row, cells)?);
    }
    Ok(Parsed {
        rows,
        bytes: prefix.len() as u64,
    })
}

fn parse_parquet(name: &str, bytes: &[u8], skip: usize) -> Result<Parsed, InboxError> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::DataType;
    let data = bytes::Bytes::copy_from_slice(bytes);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(data)
        .and_then(parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::build)
        .map_err(|e| error(name, 0, None, format!("not Parquet: {e}")))?;
    let mut rows = Vec::new();
    let mut row = 0;
    for batch in reader {
        let batch = batch.map_err(|e| error(name, row + 1, None, format!("unreadable: {e}")))?;
        let schema = batch.schema();
        for field in schema.fields() {
            if !matches!(
                field.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Boolean | DataType::Null
            ) {
                return Err(error(
                    name,
                    row + 1,
                    Some(field.name()),
                    format!("must be a string column, not {}", field.data_type()),
                ));
            }
        }
        for r in 0..batch.num_rows() {
            row += 1;
            if row <= skip {
                continue;
            }
            let mut cells = Vec::new();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                let cell = if column.is_null(r) {
                    Cell::Null
                } else {
                    match field.data_type() {
                        DataType::Utf8 => Cell::Text(column.as_string::<i32>().value(r).into()),
                        DataType::LargeUtf8 => {
                            Cell::Text(column.as_string::<i64>().value(r).into())
                        }
                        DataType::Boolean => Cell::Bool(column.as_boolean().value(r)),
                        _ => Cell::Null,
                    }
                };
                cells.push((field.name().as_str(), cell));
            }
            rows.push(row_from_cells(name, row, cells.into_iter())?);
        }
    }
    Ok(Parsed {
        rows,
        bytes: bytes.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"image": "img/a.jpg", "audio": "a/1.wav", "annotator": "ann-1", "recorded_at": "2026-11-30T21:00:00Z", "license": "CC-BY-4.0"}"#;

    #[test]
    fn a_partial_last_line_is_not_read() {
        let text = format!("{GOOD}\n{}", &GOOD[..20]);
        let parsed = parse("m.jsonl", Format::JsonLines, text.as_bytes(), 0).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.bytes, GOOD.len() as u64 + 1);
    }

    #[test]
    fn unknown_and_missing_columns_name_the_row_and_column() {
        let text = format!("{GOOD}\n{}\n", GOOD.replace("\"license\"", "\"licence\""));
        let err = parse("m.jsonl", Format::JsonLines, text.as_bytes(), 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("m.jsonl") && err.contains("row 2") && err.contains("`licence`"),
            "{err}"
        );
        let csv = "image,audio,annotator,recorded_at\nimg/a.jpg,a/1.wav,ann,2026-11-30T21:00:00Z\n";
        let err = parse("m.csv", Format::Csv, csv.as_bytes(), 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("row 1") && err.contains("`license`") && err.contains("missing"),
            "{err}"
        );
    }

    #[test]
    fn urls_need_a_hash_and_paths_stay_inside() {
        let url = GOOD.replace(
            "\"image\": \"img/a.jpg\"",
            "\"image_url\": \"https://x/a.jpg\"",
        );
        let err = parse(
            "m.jsonl",
            Format::JsonLines,
            format!("{url}\n").as_bytes(),
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`image_sha256`"), "{err}");
        let escape = GOOD.replace("a/1.wav", "../secret.wav");
        let err = parse(
            "m.jsonl",
            Format::JsonLines,
            format!("{escape}\n").as_bytes(),
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`audio`") && err.contains("inside the inbox"),
            "{err}"
        );
        let time = GOOD.replace("2026-11-30T21:00:00Z", "yesterday");
        let err = parse(
            "m.jsonl",
            Format::JsonLines,
            format!("{time}\n").as_bytes(),
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`recorded_at`"), "{err}");
    }

    #[test]
    fn csv_and_jsonl_read_the_same_row() {
        let csv = "image,audio,annotator,recorded_at,license,synthetic_speech\nimg/a.jpg,a/1.wav,ann-1,2026-11-30T21:00:00Z,CC-BY-4.0,true\n";
        let a = parse("m.csv", Format::Csv, csv.as_bytes(), 0).unwrap();
        let jsonl = GOOD.replace('}', ", \"synthetic_speech\": true}");
        let b = parse(
            "m.jsonl",
            Format::JsonLines,
            format!("{jsonl}\n").as_bytes(),
            0,
        )
        .unwrap();
        assert_eq!(a.rows, b.rows);
        assert!(a.rows[0].synthetic_speech);
    }
}
