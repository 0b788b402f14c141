//! Records and the typed columns they carry between stages.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use pixmo_annotation_schema::{ModelUse, SourceRef, StageUse};
use pixmo_core::{RgbaImage, SeedKey};

/// The type of a column flowing between stages. Plans check these before any work starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// `bool`.
    Bool,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `f64`.
    F64,
    /// UTF-8 text.
    Str,
    /// A list of UTF-8 strings.
    StrList,
    /// Raw bytes (encoded images, audio).
    Bytes,
    /// A decoded RGBA image held in memory.
    Image,
    /// Structured data (lists of structs and the like) as JSON, decoded against the dataset
    /// schema when the row is written.
    Json,
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ColumnType::Bool => "bool",
            ColumnType::I32 => "i32",
            ColumnType::I64 => "i64",
            ColumnType::U32 => "u32",
            ColumnType::U64 => "u64",
            ColumnType::F64 => "f64",
            ColumnType::Str => "str",
            ColumnType::StrList => "list<str>",
            ColumnType::Bytes => "bytes",
            ColumnType::Image => "image",
            ColumnType::Json => "json",
        };
        f.write_str(name)
    }
}

/// A column a stage reads or writes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// Column type.
    pub ty: ColumnType,
}

impl ColumnDef {
    /// A column definition.
    #[must_use]
    pub fn new(name: &str, ty: ColumnType) -> ColumnDef {
        ColumnDef {
            name: name.to_string(),
            ty,
        }
    }
}

/// A value in a record.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `bool`.
    Bool(bool),
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `u32`.
    U32(u32),
    /// `u64`.
    U64(u64),
    /// `f64`.
    F64(f64),
    /// Text.
    Str(String),
    /// List of text.
    StrList(Vec<String>),
    /// Bytes, shared cheaply.
    Bytes(Arc<Vec<u8>>),
    /// A decoded image, shared cheaply.
    Image(Arc<RgbaImage>),
    /// Structured data.
    Json(serde_json::Value),
}

impl Value {
    /// The value's column type.
    #[must_use]
    pub fn ty(&self) -> ColumnType {
        match self {
            Value::Bool(_) => ColumnType::Bool,
            Value::I32(_) => ColumnType::I32,
            Value::I64(_) => ColumnType::I64,
            Value::U32(_) => ColumnType::U32,
            Value::U64(_) => ColumnType::U64,
            Value::F64(_) => ColumnType::F64,
            Value::Str(_) => ColumnType::Str,
            Value::StrList(_) => ColumnType::StrList,
            Value::Bytes(_) => ColumnType::Bytes,
            Value::Image(_) => ColumnType::Image,
            Value::Json(_) => ColumnType::Json,
        }
    }
}

/// One record on its way through a pipeline: its identity, its columns and the lineage
/// collected so far.
#[derive(Clone, Debug)]
pub struct Record {
    /// Stable id (`<dataset>-<split>-<index>`), unique within a dataset.
    pub id: String,
    /// Seed coordinates of the record.
    pub key: SeedKey,
    fields: BTreeMap<String, Value>,
    /// Stages applied so far, in order.
    pub stages: Vec<StageUse>,
    /// Models used so far.
    pub models: Vec<ModelUse>,
    /// Inputs the record was derived from.
    pub sources: Vec<SourceRef>,
    /// The description of this record by the build's [`crate::RecordSource`], if it has one.
    pub source: Option<serde_json::Value>,
}

impl Record {
    /// A fresh record with no columns.
    #[must_use]
    pub fn new(key: SeedKey) -> Record {
        Record {
            id: format!("{}-{}-{:09}", key.dataset, key.split, key.record_index),
            key,
            fields: BTreeMap::new(),
            stages: Vec::new(),
            models: Vec::new(),
            sources: Vec::new(),
            source: None,
        }
    }

    /// Sets a column.
    pub fn set(&mut self, name: &str, value: Value) {
        self.fields.insert(name.to_string(), value);
    }

    /// Removes a column (intermediate data a later stage no longer needs).
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.fields.remove(name)
    }

    /// A column, if present.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// Column names and values.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// A text column, or a message naming what is missing.
    ///
    /// # Errors
    /// When the column is absent or not text.
    pub fn str(&self, name: &str) -> Result<&str, String> {
        match self.fields.get(name) {
            Some(Value::Str(s)) => Ok(s),
            Some(other) => Err(format!("Column `{name}` is {}, not str", other.ty())),
            None => Err(format!("Column `{name}` is missing")),
        }
    }

    /// A JSON column.
    ///
    /// # Errors
    /// When the column is absent or not JSON.
    pub fn json(&self, name: &str) -> Result<&serde_json::Value, String> {
        match self.fields.get(name) {
            Some(Value::Json(v)) => Ok(v),
            Some(other) => Err(format!("Column `{name}` is {}, not json", other.ty())),
            None => Err(format!("Column `{name}` is missing")),
        }
    }

    /// An image column.
    ///
    /// # Errors
    /// When the column is absent or not an image.
    pub fn image(&self, name: &str) -> Result<&Arc<RgbaImage>, String> {
        match self.fields.get(name) {
            Some(Value::Image(v)) => Ok(v),
            Some(other) => Err(format!("Column `{name}` is {}, not image", other.ty())),
            None => Err(format!("Column `{name}` is missing")),
        }
    }
}
