//! Reading CTranslate2's `model.bin` (binary version 6).
//!
//! All little-endian: `u32` version, the spec name (`u16` length with the NUL, bytes, NUL),
//! `u32` spec revision, `u32` variable count, then per variable its name, `u8` rank, `u32`
//! dimensions, `u8` dtype (0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16), `u32` byte count and the
//! bytes; then `u32` alias count and (alias, target) name pairs. This is
//! `ctranslate2/specs/model_spec.py`'s `_serialize`.

use crate::{Error, Result};

/// Element types of a CTranslate2 variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl DType {
    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::Bf16,
            _ => return None,
        })
    }

    /// Bytes per element.
    #[must_use]
    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::Bf16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// One named tensor (or scalar, rank 0) of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable<'a> {
    /// Its name (`encoder/conv1/weight`).
    pub name: &'a str,
    /// Its dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Its element type.
    pub dtype: DType,
    /// Its bytes, little-endian.
    pub data: &'a [u8],
}

impl Variable<'_> {
    /// A scalar's value as an integer (`num_heads`); `None` for tensors and float scalars.
    #[must_use]
    pub fn as_int(&self) -> Option<i64> {
        if !self.dims.is_empty() {
            return None;
        }
        match (self.dtype, self.data) {
            (DType::I8, [a]) => Some(i64::from(*a as i8)),
            (DType::I16, [a, b]) => Some(i64::from(i16::from_le_bytes([*a, *b]))),
            (DType::I32, [a, b, c, d]) => Some(i64::from(i32::from_le_bytes([*a, *b, *c, *d]))),
            _ => None,
        }
    }
}

/// A parsed `model.bin`: its spec name and variables, borrowing the file's bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Ct2Model<'a> {
    /// `WhisperSpec` for whisper models.
    pub spec: String,
    /// The spec's revision.
    pub revision: u32,
    /// Variables in file order.
    pub variables: Vec<Variable<'a>>,
    /// `(alias, target)` pairs.
    pub aliases: Vec<(&'a str, &'a str)>,
}

impl<'a> Ct2Model<'a> {
    /// Parses `bytes`.
    ///
    /// # Errors
    /// [`Error::Model`] naming the offset and what was expected, for a file that is not
    /// version 6, ends early, has an unknown dtype, or whose byte counts disagree with the
    /// dimensions.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let mut reader = Reader { bytes, at: 0 };
        let version = reader.u32("the binary version")?;
        if version != 6 {
            return Err(Error::Model(format!(
                "CTranslate2 binary version {version}; only version 6 is supported"
            )));
        }
        let spec = reader.string("the spec name")?.to_string();
        let revision = reader.u32("the spec revision")?;
        let count = reader.u32("the variable count")?;
        let mut variables = Vec::new();
        for _ in 0..count {
            let name = reader.string("a variable name")?;
            let rank = reader.u8("a rank")?;
            let dims = (0..rank)
                .map(|_| reader.u32("a dimension").map(|d| d as usize))
                .collect::<Result<Vec<_>>>()?;
            let dtype_id = reader.u8("a dtype")?;
            let dtype = DType::from_id(dtype_id).ok_or_else(|| {
                Error::Model(format!("variable `{name}` has unknown dtype {dtype_id}"))
            })?;
            let length = reader.u32("a byte count")? as usize;
            let elements = dims
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .ok_or_else(|| Error::Model(format!("variable `{name}`: dimensions overflow")))?;
            if elements.checked_mul(dtype.size()) != Some(length) {
                return Err(Error::Model(format!(
                    "variable `{name}`: {length} bytes for dimensions {dims:?} of {dtype:?}"
                )));
            }
            let data = reader.take(length, "variable data")?;
            variables.push(Variable {
                name,
                dims,
                dtype,
                data,
            });
        }
        let alias_count = reader.u32("the alias count")?;
        let mut aliases = Vec::new();
        for _ in 0..alias_count {
            aliases.push((
                reader.string("an alias")?,
                reader.string("an alias target")?,
            ));
        }
        if reader.at != bytes.len() {
            return Err(Error::Model(format!(
                "{} bytes follow the model's last field",
                bytes.len() - reader.at
            )));
        }
        Ok(Self {
            spec,
            revision,
            variables,
            aliases,
        })
    }

    /// The variable called `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Variable<'a>> {
        self.variables.iter().find(|variable| variable.name == name)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(length)
            .filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(Error::Model(format!(
                "the model ends at byte {} while reading {what} ({length} bytes from byte {})",
                self.bytes.len(),
                self.at
            )));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let bytes = self.take(4, what)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn string(&mut self, what: &str) -> Result<&'a str> {
        let length = self.take(2, what)?;
        let length = usize::from(u16::from_le_bytes([length[0], length[1]]));
        let bytes = self.take(length, what)?;
        let Some((&0, text)) = bytes.split_last() else {
            return Err(Error::Model(format!(
                "{what} at byte {} is not NUL-terminated",
                self.at
            )));
        };
        std::str::from_utf8(text)
            .map_err(|_| Error::Model(format!("{what} at byte {} is not UTF-8", self.at)))
    }
}
