//! CLIP-style ViT: linear patch embedding without bias, class token, learned positions,
//! pre-LN, pre-norm residual blocks with quick-GELU MLPs. Returns every block's output.

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax};

use crate::config::{ModelConfig, VitConfig};
use crate::model::normal_param;

/// Quick GELU: `x · sigmoid(1.702 x)`.
pub fn quick_gelu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    x.clone() * sigmoid(x * 1.702)
}

/// Multi-head self-attention with biases, no mask.
#[derive(Module, Debug)]
pub struct VitAttention<B: Backend> {
    /// Query projection.
    pub wq: Linear<B>,
    /// Key projection.
    pub wk: Linear<B>,
    /// Value projection.
    pub wv: Linear<B>,
    /// Output projection.
    pub wo: Linear<B>,
    heads: usize,
}

impl<B: Backend> VitAttention<B> {
    /// Random init.
    pub fn new(d: usize, heads: usize, device: &B::Device) -> Self {
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        VitAttention {
            wq: lin(d, d),
            wk: lin(d, d),
            wv: lin(d, d),
            wo: lin(d, d),
            heads,
        }
    }

    /// `[n, s, d] → [n, s, d]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [n, s, d] = x.dims();
        let hd = d / self.heads;
        let split = |t: Tensor<B, 3>| t.reshape([n, s, self.heads, hd]).swap_dims(1, 2);
        let q = split(self.wq.forward(x.clone()));
        let k = split(self.wk.forward(x.clone()));
        let v = split(self.wv.forward(x));
        #[allow(clippy::cast_precision_loss)]
        let scale = 1.0 / (hd as f64).sqrt();
        let att = softmax(q.matmul(k.swap_dims(2, 3)) * scale, 3);
        let out = att.matmul(v).swap_dims(1, 2).reshape([n, s, d]);
        self.wo.forward(out)
    }
}

/// One pre-norm block.
#[derive(Module, Debug)]
pub struct VitBlock<B: Backend> {
    /// Norm before attention.
    pub ln_1: LayerNorm<B>,
    /// Attention.
    pub attn: VitAttention<B>,
    /// Norm before the MLP.
    pub ln_2: LayerNorm<B>,
    /// MLP in.
    pub fc1: Linear<B>,
    /// MLP out.
    pub fc2: Linear<B>,
}

impl<B: Backend> VitBlock<B> {
    fn new(c: &VitConfig, device: &B::Device) -> Self {
        let ln = || {
            LayerNormConfig::new(c.d_model)
                .with_epsilon(c.norm_eps)
                .init(device)
        };
        VitBlock {
            ln_1: ln(),
            attn: VitAttention::new(c.d_model, c.heads, device),
            ln_2: ln(),
            fc1: LinearConfig::new(c.d_model, c.mlp_hidden).init(device),
            fc2: LinearConfig::new(c.mlp_hidden, c.d_model).init(device),
        }
    }

    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let x = x.clone() + self.attn.forward(self.ln_1.forward(x));
        x.clone()
            + self
                .fc2
                .forward(quick_gelu(self.fc1.forward(self.ln_2.forward(x))))
    }
}

/// The vision encoder.
#[derive(Module, Debug)]
pub struct Vit<B: Backend> {
    /// Patch embedding `[patch_dim → d]`, no bias.
    pub patch_embedding: Linear<B>,
    /// Class token `[d]`.
    pub class_embedding: Param<Tensor<B, 1>>,
    /// Learned positions `[1 + patches, d]`.
    pub positional_embedding: Param<Tensor<B, 2>>,
    /// LayerNorm before the blocks.
    pub pre_ln: LayerNorm<B>,
    /// Blocks.
    pub blocks: Vec<VitBlock<B>>,
}

impl<B: Backend> Vit<B> {
    /// Random init.
    pub fn new(config: &ModelConfig, device: &B::Device) -> Self {
        let c = &config.vit;
        let g = &config.vision;
        Vit {
            patch_embedding: LinearConfig::new(g.patch_dim(), c.d_model)
                .with_bias(false)
                .init(device),
            class_embedding: normal_param([c.d_model], 0.02, device),
            positional_embedding: normal_param([g.patches_per_crop() + 1, c.d_model], 0.02, device),
            pre_ln: LayerNormConfig::new(c.d_model)
                .with_epsilon(c.norm_eps)
                .init(device),
            blocks: (0..c.layers).map(|_| VitBlock::new(c, device)).collect(),
        }
    }

    /// `[crops, patches, patch_dim]` → each block's output `[crops, 1 + patches, d]`.
    pub fn forward(&self, patches: Tensor<B, 3>) -> Vec<Tensor<B, 3>> {
        let [n, _, _] = patches.dims();
        let x = self.patch_embedding.forward(patches);
        let d = x.dims()[2];
        let cls = self
            .class_embedding
            .val()
            .reshape([1, 1, d])
            .expand([n as i64, 1, d as i64]);
        let x = Tensor::cat(vec![cls, x], 1) + self.positional_embedding.val().unsqueeze_dim(0);
        let mut x = self.pre_ln.forward(x);
        let mut outputs = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            x = block.forward(x);
            outputs.push(x.clone());
        }
        outputs
    }
}
