//! CLIP-style ViT: linear patch embedding without bias, class token, learned positions
//! (or 2-D rotary ones), pre-LN, pre-norm residual blocks with quick-GELU MLPs. Returns every
//! block's output.

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use crate::config::{ModelConfig, VitConfig, VitPositions};
use crate::model::attention::attend;
use crate::model::mixed::{layer_norm, like, linear};
use crate::model::normal_param;

/// Quick GELU: `x · sigmoid(1.702 x)`.
pub fn quick_gelu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    x.clone() * sigmoid(x * 1.702)
}

/// Base of the 2-D rotary frequencies (patch grids are tens of positions wide, not
/// thousands: a smaller base than a decoder's keeps the slowest frequency useful).
const ROPE_2D_THETA: f64 = 100.0;

/// 2-D rotary position tables `[1 + patches, head_dim]` for a square patch grid, row-major
/// like the patches, the class token first and unrotated. Each head's first half turns
/// with the patch's row, its second half with its column (rotate-half layout within each
/// half).
#[derive(Module, Debug)]
pub struct Rope2d<B: Backend> {
    cos: Tensor<B, 2>,
    sin: Tensor<B, 2>,
}

impl<B: Backend> Rope2d<B> {
    /// Tables for a `grid`×`grid` crop and heads of width `head_dim` (a multiple of 4).
    pub fn new(grid: usize, head_dim: usize, device: &B::Device) -> Self {
        let (half, quarter) = (head_dim / 2, head_dim / 4);
        let tokens = 1 + grid * grid;
        #[allow(clippy::cast_precision_loss)]
        let angles: Vec<f64> = (0..tokens)
            .flat_map(|token| {
                // The class token (0) sits at no position: angle 0 throughout.
                let place = token.checked_sub(1).map(|p| [p / grid, p % grid]);
                (0..head_dim).map(move |j| {
                    place.map_or(0.0, |rc| {
                        let inv = ROPE_2D_THETA.powf(-((j % quarter) as f64) / quarter as f64);
                        rc[j / half] as f64 * inv
                    })
                })
            })
            .collect();
        let (cos, sin) = super::rotary_tables(&angles, [tokens, head_dim], device);
        Rope2d { cos, sin }
    }

    /// Rotates `[n, h, s, hd]` queries or keys (`s` = the tables' tokens).
    pub fn apply(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, h, s, hd] = x.dims();
        let q = hd / 4;
        let part = |i: usize| x.clone().slice([0..n, 0..h, 0..s, i * q..(i + 1) * q]);
        let rotated = Tensor::cat(vec![part(1).neg(), part(0), part(3).neg(), part(2)], 3);
        let table = |t: &Tensor<B, 2>| like(t.clone().reshape([1, 1, s, hd]), &x);
        let (cos, sin) = (table(&self.cos), table(&self.sin));
        x * cos + rotated * sin
    }
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

    /// `[n, s, d] → [n, s, d]`; queries and keys rotated by `rope` when given; `chunk` query
    /// rows at a time ([`attend`]).
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        rope: Option<&Rope2d<B>>,
        chunk: Option<usize>,
    ) -> Tensor<B, 3> {
        let [n, s, d] = x.dims();
        let hd = d / self.heads;
        let split = |t: Tensor<B, 3>| t.reshape([n, s, self.heads, hd]).swap_dims(1, 2);
        let mut q = split(linear(&self.wq, x.clone()));
        let mut k = split(linear(&self.wk, x.clone()));
        if let Some(rope) = rope {
            q = rope.apply(q);
            k = rope.apply(k);
        }
        let v = split(linear(&self.wv, x));
        #[allow(clippy::cast_precision_loss)]
        let scale = 1.0 / (hd as f64).sqrt();
        let out = attend(q, k, v, scale, None, chunk)
            .swap_dims(1, 2)
            .reshape([n, s, d]);
        linear(&self.wo, out)
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

    fn forward(
        &self,
        x: Tensor<B, 3>,
        rope: Option<&Rope2d<B>>,
        chunk: Option<usize>,
    ) -> Tensor<B, 3> {
        let x = x.clone() + self.attn.forward(layer_norm(&self.ln_1, x), rope, chunk);
        x.clone()
            + linear(
                &self.fc2,
                quick_gelu(linear(&self.fc1, layer_norm(&self.ln_2, x))),
            )
    }
}

/// The vision encoder.
#[derive(Module, Debug)]
pub struct Vit<B: Backend> {
    /// Patch embedding `[patch_dim → d]`, no bias.
    pub patch_embedding: Linear<B>,
    /// Class token `[d]`.
    pub class_embedding: Param<Tensor<B, 1>>,
    /// Learned positions `[1 + patches, d]` (`positions = "learned"`).
    pub positional_embedding: Option<Param<Tensor<B, 2>>>,
    /// 2-D rotary tables (`positions = "rope2d"`).
    pub rope: Option<Rope2d<B>>,
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
        let rope2d = c.positions == VitPositions::Rope2d;
        Vit {
            patch_embedding: LinearConfig::new(g.patch_dim(), c.d_model)
                .with_bias(false)
                .init(device),
            class_embedding: normal_param([c.d_model], 0.02, device),
            positional_embedding: (!rope2d)
                .then(|| normal_param([g.patches_per_crop() + 1, c.d_model], 0.02, device)),
            rope: rope2d.then(|| Rope2d::new(g.crop_patches(), c.d_model / c.heads, device)),
            pre_ln: LayerNormConfig::new(c.d_model)
                .with_epsilon(c.norm_eps)
                .init(device),
            blocks: (0..c.layers).map(|_| VitBlock::new(c, device)).collect(),
        }
    }

    /// `[crops, patches, patch_dim]` → each block's output `[crops, 1 + patches, d]`, in the
    /// dtype of `patches` (the compute dtype: [`crate::model::mixed`]).
    /// Attention `attention_chunk` query rows at a time ([`attend`]).
    pub fn forward(
        &self,
        patches: Tensor<B, 3>,
        attention_chunk: Option<usize>,
    ) -> Vec<Tensor<B, 3>> {
        let [n, _, _] = patches.dims();
        let x = linear(&self.patch_embedding, patches);
        let d = x.dims()[2];
        let cls = like(self.class_embedding.val(), &x)
            .reshape([1, 1, d])
            .expand([n as i64, 1, d as i64]);
        let mut x = Tensor::cat(vec![cls, x], 1);
        if let Some(positions) = &self.positional_embedding {
            let positions = like(positions.val(), &x);
            x = x + positions.unsqueeze_dim(0);
        }
        let mut x = layer_norm(&self.pre_ln, x);
        let mut outputs = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            x = block.forward(x, self.rope.as_ref(), attention_chunk);
            outputs.push(x.clone());
        }
        outputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    type B = NdArray;

    /// `q` rotated as if at token `a`, dotted with `k` rotated as if at token `b` (one head).
    fn score(rope: &Rope2d<B>, q: &[f32], k: &[f32], a: usize, b: usize) -> f32 {
        let device = Default::default();
        let [tokens, hd] = rope.cos.dims();
        let at = |v: &[f32], i: usize| {
            let mut rows = vec![0.0f32; tokens * hd];
            rows[i * hd..(i + 1) * hd].copy_from_slice(v);
            let t = Tensor::<B, 2>::from_data(TensorData::new(rows, [tokens, hd]), &device);
            rope.apply(t.reshape([1, 1, tokens, hd]))
                .reshape([tokens, hd])
                .slice([i..i + 1, 0..hd])
        };
        (at(q, a) * at(k, b)).sum().into_scalar()
    }

    #[test]
    fn rope2d_scores_depend_on_the_two_patches_relative_place_only() {
        let grid = 6;
        let rope = Rope2d::<B>::new(grid, 8, &Default::default());
        let q = [0.3, -1.2, 0.8, 0.5, -0.7, 1.1, 0.2, -0.4];
        let k = [1.0, 0.4, -0.6, 0.9, 0.3, -1.3, 0.7, 0.6];
        // Token of the patch at row r, column c (the class token is 0).
        let t = |r: usize, c: usize| 1 + r * grid + c;
        let base = score(&rope, &q, &k, t(1, 1), t(2, 3));
        for (dr, dc) in [(0, 1), (1, 0), (2, 1), (3, 0), (1, 1)] {
            let moved = score(&rope, &q, &k, t(1 + dr, 1 + dc), t(2 + dr, 3 + dc));
            assert!((moved - base).abs() < 1e-4, "{moved} vs {base}");
        }
        // Two dimensions, not a flattened index: one column right, and one row down with
        // five columns left, are the same flat offset (+1) but different places.
        let right = score(&rope, &q, &k, t(2, 2), t(2, 3));
        let wrapped = score(&rope, &q, &k, t(1, grid - 1), t(2, 0));
        assert!((right - wrapped).abs() > 1e-2, "{right} vs {wrapped}");
        // Rows and columns turn different halves: a row step is not a column step.
        let down = score(&rope, &q, &k, t(2, 2), t(3, 2));
        assert!((right - down).abs() > 1e-2, "{right} vs {down}");
        // The class token is not rotated.
        let plain: f32 = q.iter().zip(&k).map(|(a, b)| a * b).sum();
        assert!((score(&rope, &q, &k, 0, 0) - plain).abs() < 1e-5);
    }

    /// Positions steer where a token looks, not what it carries: with every token the same,
    /// each attends to copies of one value, so every output is that value whatever the
    /// scores. Rotating the values too would make the outputs differ by position.
    #[test]
    fn rope2d_turns_queries_and_keys_but_not_values() {
        let device = Default::default();
        let (grid, d) = (4, 16);
        let attention = VitAttention::<B>::new(d, 2, &device);
        let rope = Rope2d::<B>::new(grid, d / 2, &device);
        let tokens = 1 + grid * grid;
        let row =
            Tensor::<B, 1>::random([d], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let x = row.reshape([1, 1, d]).expand([1, tokens as i64, d as i64]);
        let out = attention.forward(x, Some(&rope), None);
        let first = out.clone().slice([0..1, 0..1, 0..d]);
        let spread: f32 = (out - first).abs().max().into_scalar();
        assert!(spread < 1e-5, "{spread}");
    }

    #[test]
    fn a_rope2d_vit_has_no_learned_positions_and_its_features_depend_on_them() {
        let device = Default::default();
        let mut config = ModelConfig::tiny();
        let learned = Vit::<B>::new(&config, &device);
        assert!(learned.positional_embedding.is_some() && learned.rope.is_none());
        config.vit.positions = VitPositions::Rope2d;
        let vit = Vit::<B>::new(&config, &device);
        assert!(vit.positional_embedding.is_none() && vit.rope.is_some());
        // The rotation is applied: the same weights without it compute other features.
        let g = &config.vision;
        let patches = Tensor::<B, 3>::random(
            [1, g.patches_per_crop(), g.patch_dim()],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let with = vit.forward(patches.clone(), None).pop().unwrap();
        let mut unrotated = vit.clone();
        unrotated.rope = None;
        let without = unrotated.forward(patches, None).pop().unwrap();
        let diff: f32 = (with - without).abs().max().into_scalar();
        assert!(diff > 1e-3, "{diff}");
    }
}
