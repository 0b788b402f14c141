//! GGML tensor types and their dequantisation to f32.
//!
//! Supported: F32, F16, BF16, Q4_0, Q4_1 and Q8_0 (blocks of 32 weights with an f16 scale;
//! Q4_1 adds an f16 minimum; in 4-bit blocks the low nibbles of the 16 bytes are elements
//! 0..16 and the high nibbles 16..32). Other types have a known block size, so files
//! holding them still open, but reading such a tensor is an error naming the type.

/// A GGML tensor type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// 16-bit float.
    F16,
    /// bfloat16.
    Bf16,
    /// 4-bit, scale only (`(q - 8) · d`).
    Q4_0,
    /// 4-bit with scale and minimum (`q · d + m`).
    Q4_1,
    /// 8-bit, scale only (`q · d`).
    Q8_0,
    /// A type this reader knows by name and size but does not dequantise.
    Unsupported(u32),
    /// A type id this reader does not know.
    Unknown(u32),
}

/// Weights per block of the 32-weight quantisations.
const QK: usize = 32;

/// Known but unsupported types: (id, name, weights per block, bytes per block).
const OTHERS: &[(u32, &str, usize, usize)] = &[
    (6, "Q5_0", 32, 22),
    (7, "Q5_1", 32, 24),
    (9, "Q8_1", 32, 36),
    (10, "Q2_K", 256, 84),
    (11, "Q3_K", 256, 110),
    (12, "Q4_K", 256, 144),
    (13, "Q5_K", 256, 176),
    (14, "Q6_K", 256, 210),
    (15, "Q8_K", 256, 292),
];

impl GgmlType {
    /// The type of a GGUF type id.
    #[must_use]
    pub fn from_id(id: u32) -> GgmlType {
        match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            30 => GgmlType::Bf16,
            id if OTHERS.iter().any(|o| o.0 == id) => GgmlType::Unsupported(id),
            id => GgmlType::Unknown(id),
        }
    }

    /// The GGUF type id.
    #[must_use]
    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q8_0 => 8,
            GgmlType::Bf16 => 30,
            GgmlType::Unsupported(id) | GgmlType::Unknown(id) => id,
        }
    }

    /// GGML's name of the type (`Q4_1`), or `type N` when unknown.
    #[must_use]
    pub fn name(self) -> String {
        match self {
            GgmlType::F32 => "F32".into(),
            GgmlType::F16 => "F16".into(),
            GgmlType::Bf16 => "BF16".into(),
            GgmlType::Q4_0 => "Q4_0".into(),
            GgmlType::Q4_1 => "Q4_1".into(),
            GgmlType::Q8_0 => "Q8_0".into(),
            GgmlType::Unsupported(id) => OTHERS
                .iter()
                .find(|o| o.0 == id)
                .map_or_else(|| format!("type {id}"), |o| o.1.to_string()),
            GgmlType::Unknown(id) => format!("type {id}"),
        }
    }

    /// (weights per block, bytes per block), when known.
    #[must_use]
    pub fn block(self) -> Option<(usize, usize)> {
        match self {
            GgmlType::F32 => Some((1, 4)),
            GgmlType::F16 | GgmlType::Bf16 => Some((1, 2)),
            GgmlType::Q4_0 => Some((QK, 18)),
            GgmlType::Q4_1 => Some((QK, 20)),
            GgmlType::Q8_0 => Some((QK, 34)),
            GgmlType::Unsupported(id) => OTHERS.iter().find(|o| o.0 == id).map(|o| (o.2, o.3)),
            GgmlType::Unknown(_) => None,
        }
    }

    /// Bytes that `elements` weights of this type take.
    ///
    /// # Errors
    /// When the type's size is unknown or `elements` is not a whole number of blocks.
    pub fn row_bytes(self, elements: usize) -> Result<usize, String> {
        let (per_block, bytes) = self
            .block()
            .ok_or_else(|| format!("unknown GGML tensor type {}", self.id()))?;
        if !elements.is_multiple_of(per_block) {
            return Err(format!(
                "{elements} elements are not a whole number of {} blocks of {per_block}",
                self.name()
            ));
        }
        (elements / per_block)
            .checked_mul(bytes)
            .ok_or_else(|| format!("{elements} elements overflow"))
    }
}

fn f16(bytes: &[u8]) -> f32 {
    half::f16::from_le_bytes([bytes[0], bytes[1]]).to_f32()
}

/// `elements` weights of type `kind` from exactly their bytes.
///
/// # Errors
/// When the type is not supported or `bytes` has the wrong length.
pub fn dequantize(kind: GgmlType, bytes: &[u8], elements: usize) -> Result<Vec<f32>, String> {
    let need = kind.row_bytes(elements)?;
    if bytes.len() != need {
        return Err(format!(
            "{} bytes for {elements} {} weights, expected {need}",
            bytes.len(),
            kind.name()
        ));
    }
    let mut out = Vec::with_capacity(elements);
    match kind {
        GgmlType::F32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
        GgmlType::F16 => out.extend(bytes.chunks_exact(2).map(f16)),
        GgmlType::Bf16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()),
        ),
        GgmlType::Q4_0 => {
            for block in bytes.chunks_exact(18) {
                let d = f16(block);
                let qs = &block[2..];
                out.extend(qs.iter().map(|&q| (f32::from(q & 0xF) - 8.0) * d));
                out.extend(qs.iter().map(|&q| (f32::from(q >> 4) - 8.0) * d));
            }
        }
        GgmlType::Q4_1 => {
            for block in bytes.chunks_exact(20) {
                let (d, m) = (f16(block), f16(&block[2..]));
                let qs = &block[4..];
                out.extend(qs.iter().map(|&q| f32::from(q & 0xF) * d + m));
                out.extend(qs.iter().map(|&q| f32::from(q >> 4) * d + m));
            }
        }
        GgmlType::Q8_0 => {
            for block in bytes.chunks_exact(34) {
                let d = f16(block);
                out.extend(
                    block[2..]
                        .iter()
                        .map(|&q| f32::from(i8::from_le_bytes([q])) * d),
                );
            }
        }
        GgmlType::Unsupported(_) | GgmlType::Unknown(_) => {
            return Err(format!(
                "GGML type {} (id {}) cannot be dequantised by this reader (supported: F32, F16, BF16, Q4_0, Q4_1, Q8_0)",
                kind.name(),
                kind.id()
            ));
        }
    }
    Ok(out)
}
