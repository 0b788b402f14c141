//! Pretrained weights from Hugging Face safetensors: a CLIP vision tower
//! (`CLIPVisionModel`/`CLIPModel` names) and a Qwen2 LLM (`Qwen2ForCausalLM` names).
//!
//! Mapping: `Linear` weights are stored `[out, in]` by PyTorch and `[in, out]` by burn
//! (transposed here); CLIP's conv patch embedding `[d, 3, p, p]` becomes a linear layer over
//! patches flattened as (row, column, channel), i.e. permuted `(0, 2, 3, 1)` and
//! transposed; LayerNorm `weight/bias` → `gamma/beta`; CLIP blocks past the configured
//! count and `post_layernorm` are dropped (Molmo uses 23 of CLIP's 24 blocks); a missing
//! `lm_head.weight` means tied embeddings. Molmo's new token rows are not in either
//! checkpoint and keep their fresh N(0, 0.02) init. Sharded checkpoints: pass every file.
//! [`export_clip`] and [`export_qwen2`] write the same names back (used by the tests).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::nn::{LayerNorm, Linear, RmsNorm};
use burn::prelude::*;
use burn::tensor::TensorData;
use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};
use crate::model::{Llm, Vit};

/// Tensors read from one or more safetensors files, as f32.
#[derive(Debug, Default)]
pub struct HfTensors {
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    source: PathBuf,
}

/// A named tensor to write.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

impl HfTensors {
    /// Reads every tensor of the given files (F32, F16, BF16 or F64).
    ///
    /// # Errors
    /// When a file cannot be read or parsed, or holds another dtype.
    pub fn load(paths: &[PathBuf]) -> Result<HfTensors> {
        let mut tensors = HashMap::new();
        for path in paths {
            let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
            let st = SafeTensors::deserialize(&bytes).map_err(|e| Error::Weights {
                path: path.clone(),
                message: e.to_string(),
            })?;
            for (name, view) in st.tensors() {
                let data = view.data();
                let values: Vec<f32> = match view.dtype() {
                    Dtype::F32 => data
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                    Dtype::F16 => data
                        .chunks_exact(2)
                        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                        .collect(),
                    Dtype::BF16 => data
                        .chunks_exact(2)
                        .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                        .collect(),
                    #[allow(clippy::cast_possible_truncation)]
                    Dtype::F64 => data
                        .chunks_exact(8)
                        .map(|c| {
                            f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                                as f32
                        })
                        .collect(),
                    other => {
                        return Err(Error::Weights {
                            path: path.clone(),
                            message: format!("tensor `{name}` has unsupported dtype {other:?}"),
                        });
                    }
                };
                tensors.insert(name, (view.shape().to_vec(), values));
            }
        }
        Ok(HfTensors {
            tensors,
            source: paths.first().cloned().unwrap_or_default(),
        })
    }

    /// Names left (not consumed by an import).
    #[must_use]
    pub fn remaining(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tensors.keys().cloned().collect();
        names.sort();
        names
    }

    fn err(&self, message: String) -> Error {
        Error::Weights {
            path: self.source.clone(),
            message,
        }
    }

    fn prefix_of(&self, suffix: &str) -> Result<String> {
        self.tensors
            .keys()
            .find_map(|k| k.strip_suffix(suffix).map(str::to_string))
            .ok_or_else(|| self.err(format!("no tensor named `*{suffix}`")))
    }

    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let (got, data) = self
            .tensors
            .remove(name)
            .ok_or_else(|| self.err(format!("missing tensor `{name}`")))?;
        if got != shape {
            return Err(self.err(format!(
                "tensor `{name}` has shape {got:?}, expected {shape:?}"
            )));
        }
        Ok(data)
    }
}

pub(crate) fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = data[r * cols + c];
        }
    }
    out
}

pub(crate) fn param<B: Backend, const D: usize>(
    old: &Param<Tensor<B, D>>,
    data: Vec<f32>,
    shape: [usize; D],
) -> Param<Tensor<B, D>> {
    let device = old.val().device();
    let tensor = Tensor::from_data(TensorData::new(data, shape), &device).require_grad();
    Param::initialized(old.id, tensor)
}

fn linear<B: Backend>(mut lin: Linear<B>, t: &mut HfTensors, name: &str) -> Result<Linear<B>> {
    let [i, o] = lin.weight.dims();
    let w = t.take(&format!("{name}.weight"), &[o, i])?;
    lin.weight = param(&lin.weight, transpose(&w, o, i), [i, o]);
    if let Some(bias) = &lin.bias {
        let b = t.take(&format!("{name}.bias"), &[o])?;
        lin.bias = Some(param(bias, b, [o]));
    }
    Ok(lin)
}

fn layer_norm<B: Backend>(
    mut ln: LayerNorm<B>,
    t: &mut HfTensors,
    name: &str,
) -> Result<LayerNorm<B>> {
    let [d] = ln.gamma.dims();
    ln.gamma = param(&ln.gamma, t.take(&format!("{name}.weight"), &[d])?, [d]);
    if let Some(beta) = &ln.beta {
        ln.beta = Some(param(beta, t.take(&format!("{name}.bias"), &[d])?, [d]));
    }
    Ok(ln)
}

fn rms_norm<B: Backend>(mut n: RmsNorm<B>, t: &mut HfTensors, name: &str) -> Result<RmsNorm<B>> {
    let [d] = n.gamma.dims();
    n.gamma = param(&n.gamma, t.take(&format!("{name}.weight"), &[d])?, [d]);
    Ok(n)
}

/// Loads a CLIP vision tower into `vit` (sizes must match; extra CLIP blocks are dropped).
///
/// # Errors
/// When a tensor is missing or has the wrong shape.
pub fn import_clip<B: Backend>(mut vit: Vit<B>, t: &mut HfTensors) -> Result<Vit<B>> {
    let prefix = t.prefix_of("embeddings.class_embedding")?;
    let [patch_dim, d] = vit.patch_embedding.weight.dims();
    let p = ((patch_dim / 3) as f64).sqrt().round();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let p = p as usize;
    let conv = t.take(
        &format!("{prefix}embeddings.patch_embedding.weight"),
        &[d, 3, p, p],
    )?;
    // [d, c, y, x] → [d, y, x, c] → transposed to [(y, x, c), d].
    let mut w = vec![0.0; conv.len()];
    for o in 0..d {
        for c in 0..3 {
            for y in 0..p {
                for x in 0..p {
                    w[((y * p + x) * 3 + c) * d + o] = conv[((o * 3 + c) * p + y) * p + x];
                }
            }
        }
    }
    vit.patch_embedding.weight = param(&vit.patch_embedding.weight, w, [patch_dim, d]);
    vit.class_embedding = param(
        &vit.class_embedding,
        t.take(&format!("{prefix}embeddings.class_embedding"), &[d])?,
        [d],
    );
    let Some(positions) = &vit.positional_embedding else {
        return Err(
            t.err("CLIP's learned positions do not fit a ViT with 2-D rotary positions".into())
        );
    };
    let [n_pos, _] = positions.dims();
    vit.positional_embedding = Some(param(
        positions,
        t.take(
            &format!("{prefix}embeddings.position_embedding.weight"),
            &[n_pos, d],
        )?,
        [n_pos, d],
    ));
    vit.pre_ln = layer_norm(vit.pre_ln, t, &format!("{prefix}pre_layrnorm"))?;
    let blocks = std::mem::take(&mut vit.blocks);
    for (i, mut b) in blocks.into_iter().enumerate() {
        let n = format!("{prefix}encoder.layers.{i}");
        b.ln_1 = layer_norm(b.ln_1, t, &format!("{n}.layer_norm1"))?;
        b.ln_2 = layer_norm(b.ln_2, t, &format!("{n}.layer_norm2"))?;
        b.attn.wq = linear(b.attn.wq, t, &format!("{n}.self_attn.q_proj"))?;
        b.attn.wk = linear(b.attn.wk, t, &format!("{n}.self_attn.k_proj"))?;
        b.attn.wv = linear(b.attn.wv, t, &format!("{n}.self_attn.v_proj"))?;
        b.attn.wo = linear(b.attn.wo, t, &format!("{n}.self_attn.out_proj"))?;
        b.fc1 = linear(b.fc1, t, &format!("{n}.mlp.fc1"))?;
        b.fc2 = linear(b.fc2, t, &format!("{n}.mlp.fc2"))?;
        vit.blocks.push(b);
    }
    Ok(vit)
}

/// Loads a Qwen2 causal LM into `llm` (sizes must match; `lm_head` falls back to the
/// embedding when tied).
///
/// # Errors
/// When a tensor is missing or has the wrong shape.
pub fn import_qwen2<B: Backend>(mut llm: Llm<B>, t: &mut HfTensors) -> Result<Llm<B>> {
    let [v, d] = llm.embed_tokens.dims();
    let embed = t.take("model.embed_tokens.weight", &[v, d])?;
    let head = if t.tensors.contains_key("lm_head.weight") {
        t.take("lm_head.weight", &[v, d])?
    } else {
        embed.clone()
    };
    llm.embed_tokens = param(&llm.embed_tokens, embed, [v, d]);
    llm.lm_head.weight = param(&llm.lm_head.weight, transpose(&head, v, d), [d, v]);
    llm.norm = rms_norm(llm.norm, t, "model.norm")?;
    let layers = std::mem::take(&mut llm.layers);
    for (i, mut l) in layers.into_iter().enumerate() {
        let n = format!("model.layers.{i}");
        l.input_layernorm = rms_norm(l.input_layernorm, t, &format!("{n}.input_layernorm"))?;
        l.post_attention_layernorm = rms_norm(
            l.post_attention_layernorm,
            t,
            &format!("{n}.post_attention_layernorm"),
        )?;
        l.self_attn.q_proj = linear(l.self_attn.q_proj, t, &format!("{n}.self_attn.q_proj"))?;
        l.self_attn.k_proj = linear(l.self_attn.k_proj, t, &format!("{n}.self_attn.k_proj"))?;
        l.self_attn.v_proj = linear(l.self_attn.v_proj, t, &format!("{n}.self_attn.v_proj"))?;
        l.self_attn.o_proj = linear(l.self_attn.o_proj, t, &format!("{n}.self_attn.o_proj"))?;
        l.gate_proj = linear(l.gate_proj, t, &format!("{n}.mlp.gate_proj"))?;
        l.up_proj = linear(l.up_proj, t, &format!("{n}.mlp.up_proj"))?;
        l.down_proj = linear(l.down_proj, t, &format!("{n}.mlp.down_proj"))?;
        llm.layers.push(l);
    }
    Ok(llm)
}

fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap_or_default()
}

fn push_linear<B: Backend>(out: &mut Vec<NamedTensor>, lin: &Linear<B>, name: &str) {
    let [i, o] = lin.weight.dims();
    out.push((
        format!("{name}.weight"),
        vec![o, i],
        transpose(&values(lin.weight.val()), i, o),
    ));
    if let Some(b) = &lin.bias {
        out.push((format!("{name}.bias"), vec![o], values(b.val())));
    }
}

/// A ViT as HF CLIP tensors (`vision_model.` names, conv patch embedding; no position
/// embedding for a ViT with 2-D rotary positions).
pub fn export_clip<B: Backend>(vit: &Vit<B>) -> Vec<NamedTensor> {
    let mut out = Vec::new();
    let [patch_dim, d] = vit.patch_embedding.weight.dims();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let p = ((patch_dim / 3) as f64).sqrt().round() as usize;
    let w = values(vit.patch_embedding.weight.val());
    let mut conv = vec![0.0; w.len()];
    for o in 0..d {
        for c in 0..3 {
            for y in 0..p {
                for x in 0..p {
                    conv[((o * 3 + c) * p + y) * p + x] = w[((y * p + x) * 3 + c) * d + o];
                }
            }
        }
    }
    let pre = "vision_model.";
    out.push((
        format!("{pre}embeddings.patch_embedding.weight"),
        vec![d, 3, p, p],
        conv,
    ));
    out.push((
        format!("{pre}embeddings.class_embedding"),
        vec![d],
        values(vit.class_embedding.val()),
    ));
    if let Some(positions) = &vit.positional_embedding {
        let [n_pos, _] = positions.dims();
        out.push((
            format!("{pre}embeddings.position_embedding.weight"),
            vec![n_pos, d],
            values(positions.val()),
        ));
    }
    let ln = |out: &mut Vec<NamedTensor>, ln: &LayerNorm<B>, name: String| {
        out.push((format!("{name}.weight"), vec![d], values(ln.gamma.val())));
        if let Some(b) = &ln.beta {
            out.push((format!("{name}.bias"), vec![d], values(b.val())));
        }
    };
    ln(&mut out, &vit.pre_ln, format!("{pre}pre_layrnorm"));
    for (i, b) in vit.blocks.iter().enumerate() {
        let n = format!("{pre}encoder.layers.{i}");
        ln(&mut out, &b.ln_1, format!("{n}.layer_norm1"));
        ln(&mut out, &b.ln_2, format!("{n}.layer_norm2"));
        push_linear(&mut out, &b.attn.wq, &format!("{n}.self_attn.q_proj"));
        push_linear(&mut out, &b.attn.wk, &format!("{n}.self_attn.k_proj"));
        push_linear(&mut out, &b.attn.wv, &format!("{n}.self_attn.v_proj"));
        push_linear(&mut out, &b.attn.wo, &format!("{n}.self_attn.out_proj"));
        push_linear(&mut out, &b.fc1, &format!("{n}.mlp.fc1"));
        push_linear(&mut out, &b.fc2, &format!("{n}.mlp.fc2"));
    }
    out
}

/// An LLM as HF Qwen2 tensors (untied `lm_head`).
pub fn export_qwen2<B: Backend>(llm: &Llm<B>) -> Vec<NamedTensor> {
    let mut out = Vec::new();
    let [v, d] = llm.embed_tokens.dims();
    out.push((
        "model.embed_tokens.weight".into(),
        vec![v, d],
        values(llm.embed_tokens.val()),
    ));
    out.push((
        "lm_head.weight".into(),
        vec![v, d],
        transpose(&values(llm.lm_head.weight.val()), d, v),
    ));
    let rms = |out: &mut Vec<NamedTensor>, n: &RmsNorm<B>, name: String| {
        out.push((format!("{name}.weight"), vec![d], values(n.gamma.val())));
    };
    rms(&mut out, &llm.norm, "model.norm".into());
    for (i, l) in llm.layers.iter().enumerate() {
        let n = format!("model.layers.{i}");
        rms(&mut out, &l.input_layernorm, format!("{n}.input_layernorm"));
        rms(
            &mut out,
            &l.post_attention_layernorm,
            format!("{n}.post_attention_layernorm"),
        );
        push_linear(
            &mut out,
            &l.self_attn.q_proj,
            &format!("{n}.self_attn.q_proj"),
        );
        push_linear(
            &mut out,
            &l.self_attn.k_proj,
            &format!("{n}.self_attn.k_proj"),
        );
        push_linear(
            &mut out,
            &l.self_attn.v_proj,
            &format!("{n}.self_attn.v_proj"),
        );
        push_linear(
            &mut out,
            &l.self_attn.o_proj,
            &format!("{n}.self_attn.o_proj"),
        );
        push_linear(&mut out, &l.gate_proj, &format!("{n}.mlp.gate_proj"));
        push_linear(&mut out, &l.up_proj, &format!("{n}.mlp.up_proj"));
        push_linear(&mut out, &l.down_proj, &format!("{n}.mlp.down_proj"));
    }
    out
}

/// Writes tensors as an F32 safetensors file.
///
/// # Errors
/// When the file cannot be written.
pub fn write_safetensors(path: &Path, tensors: &[NamedTensor]) -> Result<()> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, s, v)| {
            (
                n.clone(),
                s.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(n, s, b)| {
            safetensors::tensor::TensorView::new(Dtype::F32, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| Error::Weights {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })
        })
        .collect::<Result<_>>()?;
    safetensors::serialize_to_file(views, None, path).map_err(|e| Error::Weights {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
