//! Mixed precision: the activations in a compute dtype (bf16 on a GPU), the parameters, their
//! gradients and the optimiser's state in the backend's own float type (f32 master weights).
//!
//! The rule is local: a parameter is cast to the dtype of the activation it meets, where it
//! meets it, so the model never holds a second copy of its weights and autodiff casts each
//! gradient back to the parameter's dtype (burn's `cast` backward). Norms, softmax and the
//! loss run in the parameters' dtype whatever the activations' (their sums lose too much in
//! bf16), and cast back. With activations already in the parameters' dtype every cast here is
//! burn's no-op, so a model run without a compute dtype computes the same bits as before.
//! The activations' dtype is chosen by the input: [`crate::batch::Batch::in_compute`] casts the
//! image patches, and the token embeddings follow them ([`crate::model::Molmo::embed`]).

use burn::nn::{LayerNorm, Linear, RmsNorm};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::{DType, Element, FloatDType};
use serde::{Deserialize, Serialize};

/// A compute dtype for the activations (`--mixed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Compute {
    /// bfloat16 (f32's range, 8 bits of mantissa): the GPU's training dtype.
    Bf16,
    /// IEEE half (5 exponent bits: small gradients underflow without loss scaling).
    F16,
    /// 32-bit floats (on an f64 backend: how the CPU tests check the rule).
    F32,
}

impl Compute {
    /// burn's dtype.
    #[must_use]
    pub fn dtype(self) -> FloatDType {
        match self {
            Compute::Bf16 => FloatDType::BF16,
            Compute::F16 => FloatDType::F16,
            Compute::F32 => FloatDType::F32,
        }
    }
}

/// The backend's own float dtype: the parameters', the norms' and the loss's.
#[must_use]
pub fn wide<B: Backend>() -> DType {
    <B::FloatElem as Element>::dtype()
}

/// `t` in the dtype of `x` (a no-op when they agree).
pub fn like<B: Backend, const D: usize, const E: usize>(
    t: Tensor<B, D>,
    x: &Tensor<B, E>,
) -> Tensor<B, D> {
    t.cast(x.dtype())
}

/// `x · W + b` in the dtype of `x`, the weight and bias cast to it.
pub fn linear<B: Backend, const D: usize>(l: &Linear<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    let dtype = x.dtype();
    burn::tensor::module::linear(
        x,
        l.weight.val().cast(dtype),
        l.bias.as_ref().map(|b| b.val().cast(dtype)),
    )
}

/// A LayerNorm computed in the parameters' dtype, returned in the dtype of `x`.
pub fn layer_norm<B: Backend, const D: usize>(n: &LayerNorm<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    let dtype = x.dtype();
    n.forward(x.cast(wide::<B>())).cast(dtype)
}

/// An RMSNorm computed in the parameters' dtype, returned in the dtype of `x`.
pub fn rms_norm<B: Backend, const D: usize>(n: &RmsNorm<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    let dtype = x.dtype();
    n.forward(x.cast(wide::<B>())).cast(dtype)
}

/// Attention weights: `scores · scale (+ bias)` and their softmax over the last dimension in
/// the parameters' dtype (`bias` is in it: masks are built there), returned in the dtype of
/// `scores`.
pub fn attention_weights<B: Backend>(
    scores: Tensor<B, 4>,
    scale: f64,
    bias: Option<&Tensor<B, 4>>,
) -> Tensor<B, 4> {
    let dtype = scores.dtype();
    let mut wide_scores = scores.cast(wide::<B>()) * scale;
    if let Some(bias) = bias {
        wide_scores = wide_scores + bias.clone();
    }
    softmax(wide_scores, 3).cast(dtype)
}
