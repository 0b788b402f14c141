//! CTranslate2 whisper models to whisper.cpp's ggml file format.
//!
//! The layout is the one whisper.cpp's own `convert-pt-to-ggml.py` writes and its loader
//! reads: a header (`ggml` magic and the hyper-parameters, `ftype` 1 = f16), the mel filters
//! ([`crate::mel`]), the ordinary tokens ([`crate::vocab`]), then every tensor as `n_dims`,
//! name length, type (0 f32, 1 f16), the dimensions innermost first, the name and the data.
//! CTranslate2 fuses attention projections (self-attention Q|K|V, cross-attention K|V) and
//! pads the missing key bias with zeros; they are split again here and the key biases, which
//! must be zero, dropped. One-dimensional tensors, conv biases (as `[n, 1]`) and positional
//! embeddings are written as f32, everything else as f16, like the reference converter.
//! [`Weights::Q8_0`] instead writes the two-dimensional weight matrices (attention and MLP
//! projections, token embedding) in ggml's `q8_0` blocks (32 weights as int8 with one f16
//! scale, rounded as ggml's reference quantiser does) with header `ftype` 2007 (`q8_0`, ggml
//! quantisation version 2), as whisper.cpp's own `quantize` tool writes them; conv weights
//! stay f16 and the rest f32.
//! The output depends only on the input bytes (tensors in the source's order), so its
//! SHA-256 can be pinned.

use std::io::Write;

use half::f16;
use sha2::{Digest, Sha256};

use crate::ct2::{Ct2Model, DType, Variable};
use crate::mel::{N_BINS, mel_filters};
use crate::vocab::ordinary_tokens;
use crate::{Error, Result};

const GGML_MAGIC: u32 = 0x6767_6d6c;

/// How the weight matrices are stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Weights {
    /// Half precision, like the reference converter.
    #[default]
    F16,
    /// ggml's `q8_0`: blocks of 32 int8 weights with an f16 scale (about half the size of
    /// f16, and faster on CPUs without native f16 arithmetic).
    Q8_0,
}

impl Weights {
    /// The header's `ftype`: 1 for f16; `q8_0` (7) plus 1000 × quantisation version 2.
    fn ftype(self) -> usize {
        match self {
            Weights::F16 => 1,
            Weights::Q8_0 => 2007,
        }
    }
}

/// Values per `q8_0` block.
const QK8_0: usize = 32;
/// ggml's type ids.
const TYPE_F32: usize = 0;
const TYPE_F16: usize = 1;
const TYPE_Q8_0: usize = 8;

/// Whisper's hyper-parameters, as in the ggml header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HParams {
    /// Vocabulary size (51864 English-only, 51865 multilingual).
    pub n_vocab: usize,
    /// Audio positions (1500 = 30 s).
    pub n_audio_ctx: usize,
    /// Encoder width.
    pub n_audio_state: usize,
    /// Encoder attention heads.
    pub n_audio_head: usize,
    /// Encoder layers.
    pub n_audio_layer: usize,
    /// Text positions (448).
    pub n_text_ctx: usize,
    /// Decoder width.
    pub n_text_state: usize,
    /// Decoder attention heads.
    pub n_text_head: usize,
    /// Decoder layers.
    pub n_text_layer: usize,
    /// Mel bands.
    pub n_mels: usize,
}

/// What a conversion wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    /// The model's hyper-parameters.
    pub hparams: HParams,
    /// Tokens written (the rest whisper.cpp adds itself).
    pub tokens: usize,
    /// Tensors written.
    pub tensors: usize,
    /// Bytes written.
    pub bytes: u64,
    /// SHA-256 of the bytes written.
    pub sha256: String,
}

/// Converts a CTranslate2 whisper `model.bin` and its `vocabulary.txt` into a ggml model
/// written to `out`.
///
/// # Errors
/// [`Error::Model`] naming what is wrong with the input (not a whisper model, a missing or
/// misshapen tensor, a non-zero key bias, an unsupported dtype); [`Error::Io`] when writing
/// fails.
pub fn convert(model_bin: &[u8], vocabulary: &str, out: &mut impl Write) -> Result<Converted> {
    convert_as(model_bin, vocabulary, Weights::F16, out)
}

/// [`convert`] with the weight matrices stored as `weights`.
///
/// # Errors
/// As [`convert`].
pub fn convert_as(
    model_bin: &[u8],
    vocabulary: &str,
    weights: Weights,
    out: &mut impl Write,
) -> Result<Converted> {
    let model = Ct2Model::parse(model_bin)?;
    if model.spec != "WhisperSpec" {
        return Err(Error::Model(format!(
            "`{}` is not a whisper model (spec `WhisperSpec`)",
            model.spec
        )));
    }
    let hparams = hparams(&model)?;
    let tokens = ordinary_tokens(vocabulary)?;
    if tokens.len() > hparams.n_vocab {
        return Err(Error::Model(format!(
            "the vocabulary has {} ordinary tokens, more than the model's {}",
            tokens.len(),
            hparams.n_vocab
        )));
    }
    let mut out = HashingWriter::new(out);
    let header = [
        hparams.n_vocab,
        hparams.n_audio_ctx,
        hparams.n_audio_state,
        hparams.n_audio_head,
        hparams.n_audio_layer,
        hparams.n_text_ctx,
        hparams.n_text_state,
        hparams.n_text_head,
        hparams.n_text_layer,
        hparams.n_mels,
        weights.ftype(),
    ];
    out.u32(GGML_MAGIC)?;
    for value in header {
        out.i32(value)?;
    }
    out.i32(hparams.n_mels)?;
    out.i32(N_BINS)?;
    for weight in mel_filters(hparams.n_mels) {
        out.write(&weight.to_le_bytes())?;
    }
    out.i32(tokens.len())?;
    for token in &tokens {
        out.i32(token.len())?;
        out.write(token)?;
    }
    let mut tensors = 0;
    for variable in &model.variables {
        if variable.dims.is_empty() {
            continue; // A configuration scalar (`num_heads`, `activation`, ...).
        }
        let Some((prefix, leaf, fused)) = ggml_name(variable.name) else {
            return Err(Error::Model(format!(
                "unknown tensor `{}` {:?}",
                variable.name, variable.dims
            )));
        };
        let parts = fused.len();
        if variable.dims[0] % parts != 0 {
            return Err(Error::Model(format!(
                "`{}` {:?} cannot be split into {parts} projections",
                variable.name, variable.dims
            )));
        }
        let rows = variable.dims[0] / parts;
        let values = to_f32(variable)?;
        let per_part = values.len() / parts;
        for (index, part) in fused.iter().enumerate() {
            let slice = &values[index * per_part..(index + 1) * per_part];
            let Some(part) = part else {
                // A dropped key bias: CTranslate2 pads it with zeros.
                if slice.iter().any(|value| *value != 0.0) {
                    return Err(Error::Model(format!(
                        "`{}`: the key bias is not zero, so it cannot be dropped",
                        variable.name
                    )));
                }
                continue;
            };
            let name = [prefix.as_str(), *part, leaf]
                .into_iter()
                .filter(|component| !component.is_empty())
                .collect::<Vec<_>>()
                .join(".");
            let mut dims = variable.dims.clone();
            dims[0] = rows;
            write_tensor(&mut out, &name, &dims, slice, weights)?;
            tensors += 1;
        }
    }
    let (bytes, sha256) = out.finish()?;
    Ok(Converted {
        hparams,
        tokens: tokens.len(),
        tensors,
        bytes,
        sha256,
    })
}

fn hparams(model: &Ct2Model<'_>) -> Result<HParams> {
    let dims = |name: &str, rank: usize| -> Result<Vec<usize>> {
        match model.get(name) {
            Some(variable) if variable.dims.len() == rank => Ok(variable.dims.clone()),
            Some(variable) => Err(Error::Model(format!(
                "`{name}` has dimensions {:?}, expected rank {rank}",
                variable.dims
            ))),
            None => Err(Error::Model(format!("the model has no `{name}`"))),
        }
    };
    let int = |name: &str| -> Result<usize> {
        model
            .get(name)
            .and_then(Variable::as_int)
            .and_then(|value| usize::try_from(value).ok())
            .ok_or_else(|| Error::Model(format!("the model has no integer `{name}`")))
    };
    let layers = |side: &str| {
        (0..)
            .take_while(|i| {
                let prefix = format!("{side}/layer_{i}/");
                model.variables.iter().any(|v| v.name.starts_with(&prefix))
            })
            .count()
    };
    let embeddings = dims("decoder/embeddings/weight", 2)?;
    let audio_positions = dims("encoder/position_encodings/encodings", 2)?;
    let text_positions = dims("decoder/position_encodings/encodings", 2)?;
    let conv1 = dims("encoder/conv1/weight", 3)?;
    let hparams = HParams {
        n_vocab: embeddings[0],
        n_audio_ctx: audio_positions[0],
        n_audio_state: audio_positions[1],
        n_audio_head: int("encoder/num_heads")?,
        n_audio_layer: layers("encoder"),
        n_text_ctx: text_positions[0],
        n_text_state: embeddings[1],
        n_text_head: int("decoder/num_heads")?,
        n_text_layer: layers("decoder"),
        n_mels: conv1[1],
    };
    if hparams.n_audio_layer == 0 || hparams.n_text_layer == 0 {
        return Err(Error::Model(
            "the model has no encoder or no decoder layers".into(),
        ));
    }
    if hparams.n_text_state != text_positions[1] || hparams.n_audio_state != conv1[0] {
        return Err(Error::Model(format!("inconsistent widths: {hparams:?}")));
    }
    Ok(hparams)
}

/// `(prefix, leaf, parts)`: the whisper.cpp name is `prefix.part.leaf` for each part (a
/// `None` part is a zero key bias to drop; an empty part means no middle component).
type Mapped = (String, &'static str, Vec<Option<&'static str>>);

/// The whisper.cpp name(s) of a CTranslate2 tensor.
fn ggml_name(name: &str) -> Option<Mapped> {
    let components: Vec<&str> = name.split('/').collect();
    let (leaf_in, path) = components.split_last()?;
    let is_bias = matches!(*leaf_in, "bias" | "beta");
    let leaf = match *leaf_in {
        "weight" | "gamma" => "weight",
        "bias" | "beta" => "bias",
        "encodings" => "",
        _ => return None,
    };
    let single = || vec![Some("")];
    let fused = |weights: &[&'static str], biases: Vec<Option<&'static str>>| {
        if is_bias {
            biases
        } else {
            weights.iter().map(|name| Some(*name)).collect()
        }
    };
    let (prefix, parts) = match path {
        [side @ ("encoder" | "decoder"), "position_encodings"] => {
            return Some((format!("{side}.positional_embedding"), "", single()));
        }
        ["encoder", conv @ ("conv1" | "conv2")] => (format!("encoder.{conv}"), single()),
        ["encoder", "layer_norm"] => ("encoder.ln_post".to_string(), single()),
        ["decoder", "layer_norm"] => ("decoder.ln".to_string(), single()),
        ["decoder", "embeddings"] => ("decoder.token_embedding".to_string(), single()),
        [side @ ("encoder" | "decoder"), layer, block, module] => {
            let index: usize = layer.strip_prefix("layer_")?.parse().ok()?;
            let blocks = format!("{side}.blocks.{index}");
            let (suffix, parts) = match (*block, *module) {
                ("self_attention", "layer_norm") => ("attn_ln", single()),
                ("self_attention", "linear_0") => (
                    "attn",
                    fused(
                        &["query", "key", "value"],
                        vec![Some("query"), None, Some("value")],
                    ),
                ),
                ("self_attention", "linear_1") => ("attn.out", single()),
                ("attention", "layer_norm") if *side == "decoder" => ("cross_attn_ln", single()),
                ("attention", "linear_0") if *side == "decoder" => ("cross_attn.query", single()),
                ("attention", "linear_1") if *side == "decoder" => (
                    "cross_attn",
                    fused(&["key", "value"], vec![None, Some("value")]),
                ),
                ("attention", "linear_2") if *side == "decoder" => ("cross_attn.out", single()),
                ("ffn", "layer_norm") => ("mlp_ln", single()),
                ("ffn", "linear_0") => ("mlp.0", single()),
                ("ffn", "linear_1") => ("mlp.2", single()),
                _ => return None,
            };
            (format!("{blocks}.{suffix}"), parts)
        }
        _ => return None,
    };
    if leaf.is_empty() {
        return None;
    }
    Some((prefix, leaf, parts))
}

fn to_f32(variable: &Variable<'_>) -> Result<Vec<f32>> {
    match variable.dtype {
        DType::F16 => Ok(variable
            .data
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect()),
        DType::F32 => Ok(variable
            .data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()),
        other => Err(Error::Model(format!(
            "`{}` is {other:?}; only f16 and f32 models are supported (not quantized ones)",
            variable.name
        ))),
    }
}

fn write_tensor(
    out: &mut HashingWriter<'_, impl Write>,
    name: &str,
    dims: &[usize],
    values: &[f32],
    weights: Weights,
) -> Result<()> {
    let is_conv_bias = name == "encoder.conv1.bias" || name == "encoder.conv2.bias";
    let dims: Vec<usize> = if is_conv_bias {
        vec![dims[0], 1]
    } else {
        dims.to_vec()
    };
    let as_f32 = dims.len() < 2 || is_conv_bias || name.ends_with("positional_embedding");
    // whisper.cpp gives its two-dimensional weight matrices the file's weight type, and its
    // conv kernels (three dimensions) f16.
    let kind = if as_f32 {
        TYPE_F32
    } else if dims.len() == 2 && weights == Weights::Q8_0 {
        TYPE_Q8_0
    } else {
        TYPE_F16
    };
    out.i32(dims.len())?;
    out.i32(name.len())?;
    out.i32(kind)?;
    for dim in dims.iter().rev() {
        out.i32(*dim)?;
    }
    out.write(name.as_bytes())?;
    let mut buffer = Vec::with_capacity(values.len() * 4);
    match kind {
        TYPE_F32 => {
            for value in values {
                buffer.extend_from_slice(&value.to_le_bytes());
            }
        }
        TYPE_F16 => {
            for value in values {
                buffer.extend_from_slice(&f16::from_f32(*value).to_le_bytes());
            }
        }
        _ => {
            let row = dims[dims.len() - 1];
            if !row.is_multiple_of(QK8_0) {
                return Err(Error::Model(format!(
                    "`{name}` rows of {row} values cannot be stored in q8_0 blocks of {QK8_0}"
                )));
            }
            quantize_q8_0(values, &mut buffer);
        }
    }
    out.write(&buffer)
}

/// ggml's reference `q8_0` quantiser: per block of 32, scale `d = max|x| / 127` (stored as
/// f16) and `round(x / d)` as int8 (half away from zero). Rows must be whole blocks.
fn quantize_q8_0(values: &[f32], out: &mut Vec<u8>) {
    for block in values.chunks(QK8_0) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d == 0.0 { 0.0 } else { 1.0 / d };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        for value in block {
            #[allow(clippy::cast_possible_truncation)]
            let q = (value * id).round() as i8;
            out.extend_from_slice(&q.to_le_bytes());
        }
    }
}

/// Writes through to `inner`, hashing and counting.
struct HashingWriter<'a, W: Write> {
    inner: &'a mut W,
    hasher: Sha256,
    bytes: u64,
}

impl<'a, W: Write> HashingWriter<'a, W> {
    fn new(inner: &'a mut W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
        self.inner.write_all(bytes).map_err(|source| Error::Io {
            action: "write",
            path: "the converted model".into(),
            source,
        })
    }

    fn u32(&mut self, value: u32) -> Result<()> {
        self.write(&value.to_le_bytes())
    }

    fn i32(&mut self, value: usize) -> Result<()> {
        let value = i32::try_from(value)
            .map_err(|_| Error::Model(format!("{value} does not fit a ggml header field")))?;
        self.write(&value.to_le_bytes())
    }

    fn finish(self) -> Result<(u64, String)> {
        self.inner.flush().map_err(|source| Error::Io {
            action: "write",
            path: "the converted model".into(),
            source,
        })?;
        Ok((self.bytes, hex::encode(self.hasher.finalize())))
    }
}

#[cfg(test)]
mod q8_tests {
    use super::*;

    #[test]
    fn q8_0_blocks_round_like_ggml() {
        let mut values: Vec<f32> = (0..32).map(|i| (i as f32 - 16.0) / 8.0).collect();
        values[5] = 2.54;
        let mut out = Vec::new();
        quantize_q8_0(&values, &mut out);
        assert_eq!(out.len(), 34);
        let d = f16::from_le_bytes([out[0], out[1]]).to_f32();
        assert!((d - 2.54 / 127.0).abs() < 1e-4, "{d}");
        assert_eq!(out[2 + 5] as i8, 127);
        assert_eq!(out[2] as i8, -100); // -2.0 / (2.54 / 127) = -100.0
        // Half a step of rounding, plus the scale's own f16 rounding (2^-11 relative) times
        // at most 127 steps.
        let bound = d / 2.0 + 127.0 * d / 2048.0 + 1e-6;
        for (q, v) in out[2..].iter().zip(&values) {
            assert!((f32::from(*q as i8) * d - v).abs() <= bound, "{q} {v}");
        }
        let mut zeros = Vec::new();
        quantize_q8_0(&[0.0; 32], &mut zeros);
        assert!(zeros.iter().all(|b| *b == 0));
    }
}
