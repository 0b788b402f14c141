//! Qwen2-style decoder: GQA with qkv bias, RoPE on explicit position ids (rotate-half),
//! RMSNorm, SwiGLU, untied output head. Residual dropout is applied through a
//! [`ResidualDropout`] chosen by the caller.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::silu;

use crate::config::LlmConfig;
use crate::model::attention::attend;
use crate::model::mixed::{like, linear, rms_norm};
use crate::model::normal_param;

/// Where residual dropout applies in a forward pass.
#[derive(Clone, Debug)]
pub enum ResidualDropout<B: Backend> {
    /// No dropout (evaluation).
    Off,
    /// Dropout with probability `p` at every position (fine-tuning).
    All(f64),
    /// Dropout with probability `p` only where `mask` (`[batch, seq, 1]`) is 1: the
    /// response tokens of pre-training.
    Masked(f64, Tensor<B, 3>),
}

impl<B: Backend> ResidualDropout<B> {
    /// Applies dropout to a residual branch `[batch, seq, d]`.
    pub fn apply(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        match self {
            ResidualDropout::Off => x,
            ResidualDropout::All(p) | ResidualDropout::Masked(p, _) if *p <= 0.0 => x,
            ResidualDropout::All(p) => {
                let keep = Tensor::random(x.shape(), Distribution::Bernoulli(1.0 - p), &x.device());
                let keep = like(keep, &x);
                x * keep / (1.0 - p)
            }
            ResidualDropout::Masked(p, mask) => {
                let keep = Tensor::random(x.shape(), Distribution::Bernoulli(1.0 - p), &x.device());
                let keep = like(keep, &x) / (1.0 - p);
                let mask = like(mask.clone(), &x);
                // keep on response positions, 1 elsewhere.
                let factor = keep * mask.clone() + mask.neg().add_scalar(1.0);
                x * factor
            }
        }
    }
}

/// Precomputed RoPE tables `[max_position, head_dim]` (rotate-half layout).
#[derive(Module, Debug)]
pub struct Rope<B: Backend> {
    cos: Tensor<B, 2>,
    sin: Tensor<B, 2>,
}

impl<B: Backend> Rope<B> {
    fn new(head_dim: usize, max_position: usize, theta: f64, device: &B::Device) -> Self {
        let half = head_dim / 2;
        #[allow(clippy::cast_precision_loss)]
        let angles: Vec<f64> = (0..max_position)
            .flat_map(|pos| {
                (0..head_dim).map(move |i| {
                    let inv = theta.powf(-2.0 * ((i % half) as f64) / head_dim as f64);
                    pos as f64 * inv
                })
            })
            .collect();
        let (cos, sin) = super::rotary_tables(&angles, [max_position, head_dim], device);
        Rope { cos, sin }
    }

    /// Rotates `[b, h, s, hd]` by positions `[b, s]`.
    fn apply(&self, x: Tensor<B, 4>, positions: &Tensor<B, 2, Int>) -> Tensor<B, 4> {
        let [b, h, s, hd] = x.dims();
        let flat = positions.clone().reshape([b * s]);
        let cos = self
            .cos
            .clone()
            .select(0, flat.clone())
            .reshape([b, 1, s, hd]);
        let sin = self.sin.clone().select(0, flat).reshape([b, 1, s, hd]);
        let (cos, sin) = (like(cos, &x), like(sin, &x));
        let half = hd / 2;
        let x1 = x.clone().slice([0..b, 0..h, 0..s, 0..half]);
        let x2 = x.clone().slice([0..b, 0..h, 0..s, half..hd]);
        let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
        x * cos + rotated * sin
    }
}

/// Grouped-query self-attention with an additive mask.
#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    /// Query projection (bias).
    pub q_proj: Linear<B>,
    /// Key projection (bias).
    pub k_proj: Linear<B>,
    /// Value projection (bias).
    pub v_proj: Linear<B>,
    /// Output projection (no bias).
    pub o_proj: Linear<B>,
    heads: usize,
    kv_heads: usize,
}

impl<B: Backend> Attention<B> {
    /// Query heads.
    #[must_use]
    pub fn heads(&self) -> usize {
        self.heads
    }

    /// Key/value heads.
    #[must_use]
    pub fn kv_heads(&self) -> usize {
        self.kv_heads
    }

    fn forward(
        &self,
        x: Tensor<B, 3>,
        rope: &Rope<B>,
        positions: &Tensor<B, 2, Int>,
        bias: &Tensor<B, 4>,
        chunk: Option<usize>,
    ) -> Tensor<B, 3> {
        let [b, s, d] = x.dims();
        let hd = d / self.heads;
        let q = linear(&self.q_proj, x.clone())
            .reshape([b, s, self.heads, hd])
            .swap_dims(1, 2);
        let k = linear(&self.k_proj, x.clone())
            .reshape([b, s, self.kv_heads, hd])
            .swap_dims(1, 2);
        let v = linear(&self.v_proj, x)
            .reshape([b, s, self.kv_heads, hd])
            .swap_dims(1, 2);
        let q = rope.apply(q, positions);
        let k = rope.apply(k, positions);
        let rep = self.heads / self.kv_heads;
        let expand = |t: Tensor<B, 4>| {
            if rep == 1 {
                t
            } else {
                t.unsqueeze_dim::<5>(2)
                    .expand([
                        b as i64,
                        self.kv_heads as i64,
                        rep as i64,
                        s as i64,
                        hd as i64,
                    ])
                    .reshape([b, self.heads, s, hd])
            }
        };
        let (k, v) = (expand(k), expand(v));
        #[allow(clippy::cast_precision_loss)]
        let scale = 1.0 / (hd as f64).sqrt();
        let out = attend(q, k, v, scale, Some(bias), chunk)
            .swap_dims(1, 2)
            .reshape([b, s, d]);
        linear(&self.o_proj, out)
    }
}

/// One decoder block.
#[derive(Module, Debug)]
pub struct DecoderBlock<B: Backend> {
    /// Norm before attention.
    pub input_layernorm: RmsNorm<B>,
    /// Attention.
    pub self_attn: Attention<B>,
    /// Norm before the MLP.
    pub post_attention_layernorm: RmsNorm<B>,
    /// SwiGLU gate.
    pub gate_proj: Linear<B>,
    /// SwiGLU up.
    pub up_proj: Linear<B>,
    /// SwiGLU down.
    pub down_proj: Linear<B>,
}

/// The language model.
#[derive(Module, Debug)]
pub struct Llm<B: Backend> {
    /// Token embedding of the base vocabulary `[vocab, d]`.
    pub embed_tokens: Param<Tensor<B, 2>>,
    /// Blocks.
    pub layers: Vec<DecoderBlock<B>>,
    /// Final norm.
    pub norm: RmsNorm<B>,
    /// Output head (base vocabulary only; new tokens are never predicted).
    pub lm_head: Linear<B>,
    /// Rotary tables (not trained).
    pub rope: Rope<B>,
}

impl<B: Backend> Llm<B> {
    /// Random init.
    pub fn new(c: &LlmConfig, device: &B::Device) -> Self {
        let hd = c.d_model / c.heads;
        let lin = |i, o, bias| LinearConfig::new(i, o).with_bias(bias).init(device);
        let norm = || {
            RmsNormConfig::new(c.d_model)
                .with_epsilon(c.norm_eps)
                .init(device)
        };
        let layers = (0..c.layers)
            .map(|_| DecoderBlock {
                input_layernorm: norm(),
                self_attn: Attention {
                    q_proj: lin(c.d_model, c.heads * hd, true),
                    k_proj: lin(c.d_model, c.kv_heads * hd, true),
                    v_proj: lin(c.d_model, c.kv_heads * hd, true),
                    o_proj: lin(c.heads * hd, c.d_model, false),
                    heads: c.heads,
                    kv_heads: c.kv_heads,
                },
                post_attention_layernorm: norm(),
                gate_proj: lin(c.d_model, c.mlp_hidden, false),
                up_proj: lin(c.d_model, c.mlp_hidden, false),
                down_proj: lin(c.mlp_hidden, c.d_model, false),
            })
            .collect();
        Llm {
            embed_tokens: normal_param([c.vocab_size, c.d_model], 0.02, device),
            layers,
            norm: norm(),
            lm_head: lin(c.d_model, c.vocab_size, false),
            rope: Rope::new(hd, c.max_position, c.rope_theta, device),
        }
    }

    /// Input embeddings `[b, s, d]` → final hidden states `[b, s, d]` (after the last norm;
    /// [`Llm::head`] turns them into logits); attention `attention_chunk` query rows at a time
    /// ([`attend`]).
    pub fn hidden(
        &self,
        mut x: Tensor<B, 3>,
        positions: &Tensor<B, 2, Int>,
        bias: &Tensor<B, 4>,
        dropout: &ResidualDropout<B>,
        attention_chunk: Option<usize>,
    ) -> Tensor<B, 3> {
        for layer in &self.layers {
            let h = layer.self_attn.forward(
                rms_norm(&layer.input_layernorm, x.clone()),
                &self.rope,
                positions,
                bias,
                attention_chunk,
            );
            x = x + dropout.apply(h);
            let n = rms_norm(&layer.post_attention_layernorm, x.clone());
            let h = linear(
                &layer.down_proj,
                silu(linear(&layer.gate_proj, n.clone())) * linear(&layer.up_proj, n),
            );
            x = x + dropout.apply(h);
        }
        rms_norm(&self.norm, x)
    }

    /// Logits `[batch, seq, vocab]` of plain text: token ids `[batch, seq]` of the base
    /// vocabulary at positions `0..seq`, causal attention, no dropout. The decoder alone, as
    /// a language model (tests of imported weights use it).
    pub fn text_logits(&self, tokens: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        let [b, s] = tokens.dims();
        let device = tokens.device();
        let d = self.embed_tokens.dims()[1];
        let x = self
            .embed_tokens
            .val()
            .select(0, tokens.reshape([b * s]))
            .reshape([b, s, d]);
        let positions = Tensor::<B, 1, Int>::arange(0..s as i64, &device)
            .reshape([1, s])
            .repeat_dim(0, b);
        let mask: Tensor<B, 2, Bool> = Tensor::tril_mask([s, s], 0, &device);
        let bias = Tensor::<B, 2>::zeros([s, s], &device)
            .mask_fill(mask, -1e9)
            .reshape([1, 1, s, s]);
        self.head(self.hidden(x, &positions, &bias, &ResidualDropout::Off, None))
    }

    /// Logits of final hidden states `[..., width]` (the output head), in their dtype.
    pub fn head<const D: usize>(&self, hidden: Tensor<B, D>) -> Tensor<B, D> {
        linear(&self.lm_head, hidden)
    }
}
