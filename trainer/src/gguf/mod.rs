//! A small reader of GGUF files (format version 2 and 3, little-endian): the header, the
//! metadata key–value pairs (every value type, arrays included), the tensor infos and the
//! tensor data, dequantised to f32 by [`quant`]. [`llama`] maps a llama-layout decoder into
//! the trainer's [`crate::model::Llm`]; [`crate::tokenizer`] builds the BPE tokenizer from
//! the same metadata.
//!
//! Every read is bounds-checked: a truncated or corrupt file is an [`Error::Gguf`], never a
//! panic or an allocation the file's size cannot back.

pub mod llama;
pub mod quant;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use quant::GgmlType;

/// One metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `uint8`.
    U8(u8),
    /// `int8`.
    I8(i8),
    /// `uint16`.
    U16(u16),
    /// `int16`.
    I16(i16),
    /// `uint32`.
    U32(u32),
    /// `int32`.
    I32(i32),
    /// `float32`.
    F32(f32),
    /// `bool`.
    Bool(bool),
    /// `string` (UTF-8).
    String(String),
    /// `array` of values of one type.
    Array(Vec<Value>),
    /// `uint64`.
    U64(u64),
    /// `int64`.
    I64(i64),
    /// `float64`.
    F64(f64),
}

impl Value {
    /// The value as an unsigned integer, if it is a non-negative integer of any width.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(u64::from(v)),
            Value::U16(v) => Some(u64::from(v)),
            Value::U32(v) => Some(u64::from(v)),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a float, if it is a number.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(f64::from(v)),
            Value::F64(v) => Some(v),
            Value::I8(v) => Some(f64::from(v)),
            Value::I16(v) => Some(f64::from(v)),
            Value::I32(v) => Some(f64::from(v)),
            Value::I64(v) => Some(v as f64),
            _ => self.as_u64().map(|v| v as f64),
        }
    }

    /// The string, if it is one.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if it is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// Where one tensor lies in the data section.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    /// Name (`blk.0.attn_q.weight`).
    pub name: String,
    /// GGML dimensions, fastest-varying first: a `[out, in]` PyTorch matrix is `[in, out]`.
    pub dims: Vec<usize>,
    /// Element type.
    pub kind: GgmlType,
    /// Offset from the start of the data section.
    pub offset: usize,
}

impl TensorInfo {
    /// Number of elements.
    #[must_use]
    pub fn elements(&self) -> usize {
        self.dims.iter().product()
    }
}

/// A parsed GGUF file held in memory.
#[derive(Debug)]
pub struct GgufFile {
    /// Format version (2 or 3).
    pub version: u32,
    /// Metadata in key order.
    pub metadata: BTreeMap<String, Value>,
    /// Tensor infos in file order.
    pub tensors: Vec<TensorInfo>,
    bytes: Vec<u8>,
    data_start: usize,
    source: PathBuf,
}

/// Alignment of the data section when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: usize = 32;

/// Most dimensions a GGML tensor has.
const MAX_DIMS: usize = 4;

/// A bounds-checked little-endian reader over the file's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "file truncated: {what} needs {n} bytes at offset {}, file has {}",
                    self.pos,
                    self.bytes.len()
                )
            })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A count that must be backed by at least `min_bytes` bytes per item.
    fn count(&mut self, what: &str, min_bytes: usize) -> Result<usize, String> {
        let n = self.u64(what)?;
        let left = self.bytes.len() - self.pos;
        usize::try_from(n)
            .ok()
            .filter(|&n| n.saturating_mul(min_bytes.max(1)) <= left)
            .ok_or_else(|| format!("{what} {n} is larger than the {left} bytes left"))
    }

    fn string(&mut self, what: &str) -> Result<String, String> {
        let n = self.count(what, 1)?;
        let bytes = self.take(n, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
    }

    fn value(&mut self, kind: u32, key: &str, depth: usize) -> Result<Value, String> {
        Ok(match kind {
            0 => Value::U8(u8::from_le_bytes(self.array(key)?)),
            1 => Value::I8(i8::from_le_bytes(self.array(key)?)),
            2 => Value::U16(u16::from_le_bytes(self.array(key)?)),
            3 => Value::I16(i16::from_le_bytes(self.array(key)?)),
            4 => Value::U32(self.u32(key)?),
            5 => Value::I32(i32::from_le_bytes(self.array(key)?)),
            6 => Value::F32(f32::from_le_bytes(self.array(key)?)),
            7 => match self.array::<1>(key)? {
                [0] => Value::Bool(false),
                [1] => Value::Bool(true),
                [b] => return Err(format!("`{key}`: bool byte {b} is neither 0 nor 1")),
            },
            8 => Value::String(self.string(key)?),
            9 => {
                if depth > 0 {
                    return Err(format!("`{key}`: nested arrays are not supported"));
                }
                let element = self.u32(key)?;
                let min = match element {
                    0 | 1 | 7 => 1,
                    2 | 3 => 2,
                    4..=6 => 4,
                    8 | 10..=12 => 8,
                    _ => 1,
                };
                let n = self.count(&format!("`{key}` array length"), min)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(element, key, depth + 1)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64(key)?),
            11 => Value::I64(i64::from_le_bytes(self.array(key)?)),
            12 => Value::F64(f64::from_le_bytes(self.array(key)?)),
            other => return Err(format!("`{key}` has unknown value type {other}")),
        })
    }
}

impl GgufFile {
    /// Reads and parses a GGUF file.
    ///
    /// # Errors
    /// When it cannot be read or is not a well-formed GGUF file.
    pub fn open(path: &Path) -> Result<GgufFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        GgufFile::parse(bytes, path)
    }

    /// Parses a GGUF file held in memory; `source` names it in errors.
    ///
    /// # Errors
    /// When the bytes are not a well-formed GGUF file (truncated, bad magic, unknown value
    /// type, a tensor outside the data section...).
    pub fn parse(bytes: Vec<u8>, source: &Path) -> Result<GgufFile> {
        let fail = |message: String| Error::Gguf {
            path: source.to_path_buf(),
            message,
        };
        let mut c = Cursor {
            bytes: &bytes,
            pos: 0,
        };
        let magic = c.array::<4>("the magic").map_err(fail)?;
        if &magic != b"GGUF" {
            return Err(fail(format!(
                "not a GGUF file (magic {magic:?}, expected `GGUF`)"
            )));
        }
        let version = c.u32("the version").map_err(fail)?;
        if !(2..=3).contains(&version) {
            return Err(fail(format!(
                "GGUF version {version} is not supported (2 or 3)"
            )));
        }
        // A tensor info is at least 8 (name length) + 4 + 4 (type) + 8 bytes long, a
        // key-value pair at least 8 + 4 + 1.
        let n_tensors = c.count("the tensor count", 24).map_err(fail)?;
        let n_kv = c.count("the metadata count", 13).map_err(fail)?;
        let mut metadata = BTreeMap::new();
        for _ in 0..n_kv {
            let key = c.string("a metadata key").map_err(fail)?;
            let kind = c.u32(&key).map_err(fail)?;
            let value = c.value(kind, &key, 0).map_err(fail)?;
            metadata.insert(key, value);
        }
        let mut tensors = Vec::with_capacity(n_tensors);
        for _ in 0..n_tensors {
            let name = c.string("a tensor name").map_err(fail)?;
            let n_dims = c.u32(&name).map_err(fail)? as usize;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(fail(format!(
                    "tensor `{name}` has {n_dims} dimensions (1 to {MAX_DIMS})"
                )));
            }
            let mut dims = Vec::with_capacity(n_dims);
            for _ in 0..n_dims {
                let d = c.u64(&name).map_err(fail)?;
                dims.push(usize::try_from(d).map_err(|_| {
                    fail(format!("tensor `{name}` has a dimension of {d} elements"))
                })?);
            }
            if dims
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .is_none()
            {
                return Err(fail(format!(
                    "tensor `{name}` dimensions {dims:?} overflow"
                )));
            }
            let kind = GgmlType::from_id(c.u32(&name).map_err(fail)?);
            let offset = c.u64(&name).map_err(fail)?;
            let offset = usize::try_from(offset)
                .map_err(|_| fail(format!("tensor `{name}` has offset {offset}")))?;
            tensors.push(TensorInfo {
                name,
                dims,
                kind,
                offset,
            });
        }
        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(v) => v
                .as_u64()
                .and_then(|a| usize::try_from(a).ok())
                .filter(|a| a.is_power_of_two())
                .ok_or_else(|| fail(format!("`general.alignment` {v:?} is not a power of two")))?,
        };
        let data_start = c.pos.div_ceil(alignment) * alignment;
        if data_start > bytes.len() && !tensors.is_empty() {
            return Err(fail(format!(
                "file truncated: the data section starts at {data_start}, file has {} bytes",
                bytes.len()
            )));
        }
        let file = GgufFile {
            version,
            metadata,
            tensors,
            bytes,
            data_start,
            source: source.to_path_buf(),
        };
        // Tensors of a type with a known block size must lie inside the file; the others
        // fail when they are read.
        for t in file.tensors.iter().filter(|t| t.kind.block().is_some()) {
            file.tensor_bytes(t)?;
        }
        Ok(file)
    }

    /// The file these bytes came from.
    #[must_use]
    pub fn source(&self) -> &Path {
        &self.source
    }

    pub(crate) fn error(&self, message: String) -> Error {
        Error::Gguf {
            path: self.source.clone(),
            message,
        }
    }

    /// A metadata value.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(key)
    }

    /// A required unsigned integer.
    ///
    /// # Errors
    /// When the key is missing or not a non-negative integer.
    pub fn usize(&self, key: &str) -> Result<usize> {
        self.get(key)
            .and_then(Value::as_u64)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| self.error(format!("metadata `{key}` is missing or not an integer")))
    }

    /// A required number.
    ///
    /// # Errors
    /// When the key is missing or not a number.
    pub fn f64(&self, key: &str) -> Result<f64> {
        self.get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| self.error(format!("metadata `{key}` is missing or not a number")))
    }

    /// A required string.
    ///
    /// # Errors
    /// When the key is missing or not a string.
    pub fn str(&self, key: &str) -> Result<&str> {
        self.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| self.error(format!("metadata `{key}` is missing or not a string")))
    }

    /// A required array of strings.
    ///
    /// # Errors
    /// When the key is missing or not an array of strings.
    pub fn strings(&self, key: &str) -> Result<Vec<&str>> {
        let bad = || self.error(format!("metadata `{key}` is missing or not a string array"));
        self.get(key)
            .and_then(Value::as_array)
            .ok_or_else(bad)?
            .iter()
            .map(|v| v.as_str().ok_or_else(bad))
            .collect()
    }

    /// The tensor info of `name`.
    #[must_use]
    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    fn tensor_bytes(&self, t: &TensorInfo) -> Result<&[u8]> {
        let size = t
            .kind
            .row_bytes(t.elements())
            .map_err(|m| self.error(format!("tensor `{}` ({:?}): {m}", t.name, t.dims)))?;
        let start = self.data_start.checked_add(t.offset);
        let end = start.and_then(|s| s.checked_add(size));
        match (start, end) {
            (Some(start), Some(end)) if end <= self.bytes.len() => Ok(&self.bytes[start..end]),
            _ => Err(self.error(format!(
                "file truncated: tensor `{}` needs {size} bytes at data offset {}, the data section has {}",
                t.name,
                t.offset,
                self.bytes.len().saturating_sub(self.data_start)
            ))),
        }
    }

    /// Tensor `name` dequantised to f32, with its GGML dimensions (fastest first).
    ///
    /// # Errors
    /// When there is no such tensor or its type cannot be dequantised.
    pub fn tensor_f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        let t = self
            .info(name)
            .ok_or_else(|| self.error(format!("no tensor `{name}`")))?;
        let bytes = self.tensor_bytes(t)?;
        let values = quant::dequantize(t.kind, bytes, t.elements())
            .map_err(|m| self.error(format!("tensor `{name}`: {m}")))?;
        Ok((t.dims.clone(), values))
    }
}

#[cfg(test)]
mod tests;
