//! The Molmo model: ViT → connector → features added to the embeddings of `<im_patch>`
//! tokens → decoder-only LLM.

pub mod attention;
pub mod connector;
pub mod head_loss;
pub mod llm;
pub mod mixed;
pub mod vit;

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::Distribution;

use crate::batch::Batch;
use crate::config::ModelConfig;
pub use connector::Connector;
pub use llm::{Llm, ResidualDropout};
pub use vit::Vit;

/// A parameter drawn from N(0, std²).
pub fn normal_param<B: Backend, const D: usize>(
    shape: [usize; D],
    std: f64,
    device: &B::Device,
) -> Param<Tensor<B, D>> {
    Param::from_tensor(Tensor::random(
        shape,
        Distribution::Normal(0.0, std),
        device,
    ))
}

/// Cosine and sine tables `[rows, cols]` of rotary angles given row by row.
fn rotary_tables<B: Backend>(
    angles: &[f64],
    shape: [usize; 2],
    device: &B::Device,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let table = |f: fn(f64) -> f64| {
        #[allow(clippy::cast_possible_truncation)]
        let values: Vec<f32> = angles.iter().map(|&a| f(a) as f32).collect();
        Tensor::from_data(burn::tensor::TensorData::new(values, shape), device)
    };
    (table(f64::cos), table(f64::sin))
}

/// Draws every lazy parameter's values (reading a parameter initialises it).
struct Materialize;

impl<B: Backend> ModuleVisitor<B> for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
}

/// Molmo.
#[derive(Module, Debug)]
pub struct Molmo<B: Backend> {
    /// Vision encoder (the `vit` parameter group).
    pub vit: Vit<B>,
    /// Connector and new-token embeddings (the `connector` parameter group).
    pub connector: Connector<B>,
    /// Language model (the `llm` parameter group).
    pub llm: Llm<B>,
}

impl<B: Backend> Molmo<B> {
    /// Random init from a validated config. The parameters are drawn at once, in module
    /// order: burn's parameters are otherwise lazy, and each clone of a lazy parameter draws
    /// its own values on first use (a checkpoint saved before the first step, or a
    /// data-parallel replica, would then differ from the model that trains).
    pub fn new(config: &ModelConfig, device: &B::Device) -> Self {
        let model = Molmo {
            vit: Vit::new(config, device),
            connector: Connector::new(config, device),
            llm: Llm::new(&config.llm, device),
        };
        model.visit(&mut Materialize);
        model
    }

    /// Logits `[batch, seq, vocab]` of a batch.
    pub fn forward(&self, batch: &Batch<B>, dropout: &ResidualDropout<B>) -> Tensor<B, 3> {
        self.llm.head(self.hidden(batch, dropout))
    }

    /// Logits `[rows, vocab]` at the batch's loss rows only: the output head (152k classes
    /// in Molmo-7B-D) and the loss never run over image, prompt or padding positions.
    pub fn loss_logits(&self, batch: &Batch<B>, dropout: &ResidualDropout<B>) -> Tensor<B, 2> {
        self.llm.head(self.loss_hidden(batch, dropout))
    }

    /// The decoder's final hidden states at the batch's loss rows `[rows, llm width]`: what
    /// the output head turns into [`Molmo::loss_logits`].
    pub fn loss_hidden(&self, batch: &Batch<B>, dropout: &ResidualDropout<B>) -> Tensor<B, 2> {
        let [b, s] = batch.shape;
        let hidden = self.hidden(batch, dropout);
        let d = hidden.dims()[2];
        hidden
            .reshape([b * s, d])
            .select(0, batch.loss_rows.clone())
    }

    fn hidden(&self, batch: &Batch<B>, dropout: &ResidualDropout<B>) -> Tensor<B, 3> {
        self.llm.hidden(
            self.embed(batch),
            &batch.positions,
            &batch.attention_bias(),
            dropout,
            batch.attention_chunk,
        )
    }

    /// The decoder's input `[batch, seq, llm width]`: token embeddings plus, at each
    /// `<im_patch>` position, the pooled image feature the preprocessing assigned to it. In
    /// the dtype of the batch's crops (the compute dtype: [`mixed`]).
    pub fn embed(&self, batch: &Batch<B>) -> Tensor<B, 3> {
        let [b, s] = batch.shape;
        let table = Tensor::cat(
            vec![
                self.llm.embed_tokens.val(),
                self.connector.new_embedding.val(),
            ],
            0,
        );
        let d = table.dims()[1];
        let x = table.select(0, batch.tokens.clone().reshape([b * s]));
        let x = mixed::like(x, &batch.crops);

        let layers = self.vit.forward(batch.crops.clone(), batch.attention_chunk);
        let features = self.connector.forward(&layers, batch.patch_masks.clone());
        let zeros = mixed::like(Tensor::zeros([1, d], &x.device()), &x);
        let features = Tensor::cat(vec![features, zeros], 0);
        let x = x + features.select(0, batch.feature_index.clone());
        x.reshape([b, s, d])
    }
}

/// Loss of one batch from its [`Molmo::loss_logits`]: weighted token cross-entropy plus
/// z-loss, both divided by `divisor` (the loss-weight sum of the whole optimiser step, so
/// accumulated micro-batches average per token over the global batch). Returns (total,
/// cross-entropy part). Computed in the parameters' dtype whatever the logits'.
pub fn loss<B: Backend>(
    logits: Tensor<B, 2>,
    batch: &Batch<B>,
    z_loss: f64,
    divisor: f32,
) -> (Tensor<B, 1>, Tensor<B, 1>) {
    let logits = logits.cast(mixed::wide::<B>());
    let [n, _] = logits.dims();
    let max = logits.clone().max_dim(1).detach();
    let lse = (logits.clone() - max.clone()).exp().sum_dim(1).log() + max;
    let picked = logits.gather(1, batch.loss_targets.clone().reshape([n, 1]));
    let ce = (lse.clone() - picked).reshape([n]);
    let w = batch.loss_weights.clone();
    let ce_sum = (ce * w.clone()).sum() / f64::from(divisor);
    let z = (lse.reshape([n]).powf_scalar(2.0) * w).sum() * (z_loss / f64::from(divisor));
    (ce_sum.clone() + z, ce_sum)
}
