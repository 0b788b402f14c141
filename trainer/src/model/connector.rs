//! The vision–language connector: features of two ViT layers concatenated, pad
//! embeddings, 2×2 attention pooling with the window mean as query, SwiGLU projector. Also
//! owns the embedding rows of Molmo's new tokens, as Molmo's connector parameter group does.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::silu;

use crate::config::ModelConfig;
use crate::model::mixed::{attention_weights, like, linear};
use crate::model::normal_param;

/// Mean-query attention over each pooling window.
#[derive(Module, Debug)]
pub struct PoolingAttention<B: Backend> {
    /// Query projection (`features → vit width`, bias).
    pub wq: Linear<B>,
    /// Key projection.
    pub wk: Linear<B>,
    /// Value projection.
    pub wv: Linear<B>,
    /// Output projection.
    pub wo: Linear<B>,
    heads: usize,
}

impl<B: Backend> PoolingAttention<B> {
    fn new(input: usize, width: usize, heads: usize, device: &B::Device) -> Self {
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        PoolingAttention {
            wq: lin(input, width),
            wk: lin(input, width),
            wv: lin(input, width),
            wo: lin(width, width),
            heads,
        }
    }

    /// `[windows, k, c]` → `[windows, width]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 2> {
        let [m, k, _] = x.dims();
        let query = x.clone().mean_dim(1);
        let width = self.wo.weight.dims()[1];
        let hd = width / self.heads;
        let split =
            |t: Tensor<B, 3>, len: usize| t.reshape([m, len, self.heads, hd]).swap_dims(1, 2);
        let q = split(linear(&self.wq, query), 1);
        let kk = split(linear(&self.wk, x.clone()), k);
        let v = split(linear(&self.wv, x), k);
        #[allow(clippy::cast_precision_loss)]
        let scale = 1.0 / (hd as f64).sqrt();
        let att = attention_weights(q.matmul(kk.swap_dims(2, 3)), scale, None);
        let out = att.matmul(v).swap_dims(1, 2).reshape([m, width]);
        linear(&self.wo, out)
    }
}

/// Connector parameters.
#[derive(Module, Debug)]
pub struct Connector<B: Backend> {
    /// `[2, features]`: added to fully padded (row 0) and partially padded (row 1) patches.
    pub pad_embed: Param<Tensor<B, 2>>,
    /// Pooling attention.
    pub pooling: PoolingAttention<B>,
    /// SwiGLU projector: gate.
    pub w1: Linear<B>,
    /// SwiGLU projector: down.
    pub w2: Linear<B>,
    /// SwiGLU projector: up.
    pub w3: Linear<B>,
    /// Embedding rows of the new tokens `[additional_vocab, llm width]`.
    pub new_embedding: Param<Tensor<B, 2>>,
    feature_layers: Vec<usize>,
    pool: usize,
}

impl<B: Backend> Connector<B> {
    /// Random init.
    ///
    /// # Panics
    /// When the config's feature layers are invalid (validate the config first).
    pub fn new(config: &ModelConfig, device: &B::Device) -> Self {
        let vit = config.vit.d_model;
        let features = vit * config.vit.feature_layers.len();
        let d = config.llm.d_model;
        let h = config.connector.projector_hidden;
        let lin = |i, o| LinearConfig::new(i, o).with_bias(false).init(device);
        Connector {
            pad_embed: Param::from_tensor(Tensor::zeros([2, features], device)),
            pooling: PoolingAttention::new(features, vit, config.connector.pool_heads, device),
            w1: lin(vit, h),
            w2: lin(h, d),
            w3: lin(vit, h),
            new_embedding: normal_param([config.llm.additional_vocab_size, d], 0.02, device),
            feature_layers: config
                .vit
                .feature_layers
                .iter()
                .map(|&l| config.vit_layer_index(l).expect("validated feature layer"))
                .collect(),
            pool: config.vision.pool_size,
        }
    }

    /// ViT block outputs and patch masks `[crops, patches]` → pooled, projected features
    /// `[crops · pooled_per_crop, llm width]` (crop-major, row-major within a crop).
    pub fn forward(&self, vit_layers: &[Tensor<B, 3>], patch_masks: Tensor<B, 2>) -> Tensor<B, 2> {
        let picked: Vec<Tensor<B, 3>> = self
            .feature_layers
            .iter()
            .map(|&i| vit_layers[i].clone())
            .collect();
        let x = Tensor::cat(picked, 2);
        let [n, s, c] = x.dims();
        let x = x.slice([0..n, 1..s, 0..c]);
        let patches = s - 1;

        let all_pad = like(patch_masks.clone().equal_elem(0.0).float(), &x);
        let partial = like(patch_masks.clone().lower_elem(1.0).float(), &x).sub(all_pad.clone());
        let pad = like(self.pad_embed.val(), &x);
        let pad0 = pad.clone().slice([0..1, 0..c]).unsqueeze_dim::<3>(0);
        let pad1 = pad.slice([1..2, 0..c]).unsqueeze_dim::<3>(0);
        let x = x + all_pad.unsqueeze_dim::<3>(2) * pad0 + partial.unsqueeze_dim::<3>(2) * pad1;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let side = (patches as f64).sqrt().round() as usize;
        let (p, g) = (self.pool, side / self.pool);
        let windows = x
            .reshape([n, g, p, g, p, c])
            .permute([0, 1, 3, 2, 4, 5])
            .reshape([n * g * g, p * p, c]);
        let pooled = self.pooling.forward(windows);
        linear(
            &self.w2,
            silu(linear(&self.w1, pooled.clone())) * linear(&self.w3, pooled),
        )
    }
}
