//! A llama-layout GGUF decoder (SmolLM2, Llama) into the trainer's [`Llm`].
//!
//! Names: `token_embd`, `blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm,
//! ffn_gate, ffn_up, ffn_down}`, `output_norm`, `output` (absent: tied to `token_embd`).
//! A GGML matrix `[in, out]` holds PyTorch's `[out, in]` rows, transposed here to burn's
//! `[in, out]`. llama.cpp's converter permutes the rows of Q and K for GGML's interleaved
//! RoPE (pairs `(2i, 2i+1)` of a head rotate together); the trainer rotates halves
//! (`(i, i + head_dim/2)`, HF's `rotate_half`), so [`unpermute_rope_rows`] undoes it (per
//! query head for Q, per key/value head for K). Llama has no Q/K/V biases: the [`Llm`]'s
//! are set to zero. Molmo's extra token rows live in the connector and keep their init.

use burn::nn::{Linear, RmsNorm};
use burn::prelude::*;

use crate::config::LlmConfig;
use crate::error::Result;
use crate::gguf::GgufFile;
use crate::import::{param, transpose};
use crate::model::Llm;

/// The decoder sizes a llama GGUF describes; `additional_vocab_size` rows for Molmo's
/// tokens come on top.
///
/// # Errors
/// When the file is not a llama model or a size is missing or inconsistent.
pub fn llm_config(file: &GgufFile, additional_vocab_size: usize) -> Result<LlmConfig> {
    let arch = file.str("general.architecture")?;
    if arch != "llama" {
        return Err(file.error(format!(
            "architecture `{arch}` is not supported (expected `llama`)"
        )));
    }
    let key = |k: &str| format!("llama.{k}");
    let d_model = file.usize(&key("embedding_length"))?;
    let heads = file.usize(&key("attention.head_count"))?;
    let kv_heads = match file.get(&key("attention.head_count_kv")) {
        Some(_) => file.usize(&key("attention.head_count_kv"))?,
        None => heads,
    };
    if heads == 0 || kv_heads == 0 || !d_model.is_multiple_of(heads) {
        return Err(file.error(format!(
            "width {d_model} with {heads} heads and {kv_heads} kv heads does not fit"
        )));
    }
    if let Some(v) = file.get(&key("rope.dimension_count")) {
        let rotary = v.as_u64().unwrap_or(0);
        if usize::try_from(rotary).ok() != Some(d_model / heads) {
            return Err(file.error(format!(
                "RoPE over {rotary} of {} head dimensions is not supported",
                d_model / heads
            )));
        }
    }
    Ok(LlmConfig {
        d_model,
        layers: file.usize(&key("block_count"))?,
        heads,
        kv_heads,
        mlp_hidden: file.usize(&key("feed_forward_length"))?,
        vocab_size: file.strings("tokenizer.ggml.tokens")?.len(),
        additional_vocab_size,
        norm_eps: file.f64(&key("attention.layer_norm_rms_epsilon"))?,
        rope_theta: match file.get(&key("rope.freq_base")) {
            Some(_) => file.f64(&key("rope.freq_base"))?,
            None => 10_000.0,
        },
        max_position: file.usize(&key("context_length"))?,
    })
}

/// Rows of a `[heads · head_dim, cols]` Q or K matrix from GGML's interleaved RoPE order
/// back to HF's halves: GGML row `h·hd + 2i + p` becomes row `h·hd + p·hd/2 + i`.
#[must_use]
pub fn unpermute_rope_rows(w: &[f32], heads: usize, cols: usize) -> Vec<f32> {
    let hd = w.len() / cols / heads;
    let mut out = vec![0.0; w.len()];
    for h in 0..heads {
        for i in 0..hd / 2 {
            for p in 0..2 {
                let from = (h * hd + 2 * i + p) * cols;
                let to = (h * hd + p * hd / 2 + i) * cols;
                out[to..to + cols].copy_from_slice(&w[from..from + cols]);
            }
        }
    }
    out
}

/// The inverse of [`unpermute_rope_rows`]: what llama.cpp's converter does
/// (`w.reshape(heads, 2, hd/2, cols).swapaxes(1, 2)`).
#[must_use]
pub fn permute_rope_rows(w: &[f32], heads: usize, cols: usize) -> Vec<f32> {
    let hd = w.len() / cols / heads;
    let mut out = vec![0.0; w.len()];
    for h in 0..heads {
        for i in 0..hd / 2 {
            for p in 0..2 {
                let from = (h * hd + p * hd / 2 + i) * cols;
                let to = (h * hd + 2 * i + p) * cols;
                out[to..to + cols].copy_from_slice(&w[from..from + cols]);
            }
        }
    }
    out
}

/// A GGML matrix `name` as PyTorch rows `[out][in]`, checked against `[in, out]`.
fn matrix(file: &GgufFile, name: &str, inputs: usize, outputs: usize) -> Result<Vec<f32>> {
    let (dims, values) = file.tensor_f32(name)?;
    if dims != [inputs, outputs] {
        return Err(file.error(format!(
            "tensor `{name}` has GGML dims {dims:?}, expected [{inputs}, {outputs}]"
        )));
    }
    Ok(values)
}

/// `rows` (`[out][in]`) into a burn linear layer (`[in, out]`); a bias is zeroed.
fn set_linear<B: Backend>(mut lin: Linear<B>, rows: &[f32]) -> Linear<B> {
    let [i, o] = lin.weight.dims();
    lin.weight = param(&lin.weight, transpose(rows, o, i), [i, o]);
    if let Some(bias) = &lin.bias {
        lin.bias = Some(param(bias, vec![0.0; o], [o]));
    }
    lin
}

fn linear<B: Backend>(lin: Linear<B>, file: &GgufFile, name: &str) -> Result<Linear<B>> {
    let [i, o] = lin.weight.dims();
    let rows = matrix(file, name, i, o)?;
    Ok(set_linear(lin, &rows))
}

fn rms_norm<B: Backend>(mut n: RmsNorm<B>, file: &GgufFile, name: &str) -> Result<RmsNorm<B>> {
    let [d] = n.gamma.dims();
    let (dims, values) = file.tensor_f32(name)?;
    if dims != [d] {
        return Err(file.error(format!("tensor `{name}` has dims {dims:?}, expected [{d}]")));
    }
    n.gamma = param(&n.gamma, values, [d]);
    Ok(n)
}

/// Loads a llama GGUF decoder into `llm` (built from [`llm_config`] of the same file).
///
/// # Errors
/// When a tensor is missing, has another shape or a type that cannot be dequantised.
pub fn import_llama<B: Backend>(mut llm: Llm<B>, file: &GgufFile) -> Result<Llm<B>> {
    let [v, d] = llm.embed_tokens.dims();
    let embed = matrix(file, "token_embd.weight", d, v)?;
    let head = if file.info("output.weight").is_some() {
        matrix(file, "output.weight", d, v)?
    } else {
        embed.clone()
    };
    llm.embed_tokens = param(&llm.embed_tokens, embed, [v, d]);
    llm.lm_head = set_linear(llm.lm_head, &head);
    llm.norm = rms_norm(llm.norm, file, "output_norm.weight")?;
    let layers = std::mem::take(&mut llm.layers);
    for (i, mut l) in layers.into_iter().enumerate() {
        let n = |t: &str| format!("blk.{i}.{t}.weight");
        l.input_layernorm = rms_norm(l.input_layernorm, file, &n("attn_norm"))?;
        l.post_attention_layernorm = rms_norm(l.post_attention_layernorm, file, &n("ffn_norm"))?;
        let attn = &mut l.self_attn;
        let (heads, kv_heads) = (attn.heads(), attn.kv_heads());
        let [_, q_out] = attn.q_proj.weight.dims();
        let [_, k_out] = attn.k_proj.weight.dims();
        let q = matrix(file, &n("attn_q"), d, q_out)?;
        attn.q_proj = set_linear(attn.q_proj.clone(), &unpermute_rope_rows(&q, heads, d));
        let k = matrix(file, &n("attn_k"), d, k_out)?;
        attn.k_proj = set_linear(attn.k_proj.clone(), &unpermute_rope_rows(&k, kv_heads, d));
        attn.v_proj = linear(attn.v_proj.clone(), file, &n("attn_v"))?;
        attn.o_proj = linear(attn.o_proj.clone(), file, &n("attn_output"))?;
        l.gate_proj = linear(l.gate_proj, file, &n("ffn_gate"))?;
        l.up_proj = linear(l.up_proj, file, &n("ffn_up"))?;
        l.down_proj = linear(l.down_proj, file, &n("ffn_down"))?;
        llm.layers.push(l);
    }
    if file
        .info(&format!("blk.{}.attn_q.weight", llm.layers.len()))
        .is_some()
    {
        return Err(file.error(format!(
            "the file has more than the {} blocks the model was built with",
            llm.layers.len()
        )));
    }
    Ok(llm)
}
