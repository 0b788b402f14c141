//! The output head and its loss in chunks of rows (`--head-chunk N`): the 152k-class logits
//! exist for N rows at a time and are never kept for the backward pass.
//!
//! [`crate::model::loss`] over [`crate::model::Molmo::loss_logits`] lets autodiff keep the
//! logits of every loss row (in the compute dtype, and their cast to the parameters' dtype,
//! and, without checkpointing, the softmax's intermediates), several `rows × vocabulary`
//! tensors a micro-batch. Here each chunk's logits are computed outside autodiff and turned
//! at once into the loss's gradients with respect to the chunk's hidden rows and to the head's
//! weight (the cross-entropy and z-loss gradients in closed form), and autodiff is handed a
//! surrogate, `Σ rows ⊙ ∂L/∂rows + Σ W ⊙ ∂L/∂W`, whose gradients are exactly those, with the
//! loss's value added as a constant. What stays is one `width × vocabulary` gradient of the
//! head (which the step holds anyway) and the rows' gradient.

use burn::prelude::*;
use burn::tensor::IndexingUpdateOp;
use burn::tensor::backend::AutodiffBackend;

use crate::batch::Batch;
use crate::model::mixed::wide;

/// The loss of [`crate::model::loss`] (weighted cross-entropy plus z-loss, divided by
/// `divisor`; returns (total, cross-entropy part)) from the hidden rows at the loss positions
/// (`[rows, width]`, in the compute dtype) through the head `weight` (`[width, vocabulary]`),
/// `chunk` rows at a time (at least one). The cross-entropy part carries no gradient.
pub fn chunked_head_loss<B: AutodiffBackend>(
    rows: Tensor<B, 2>,
    weight: Tensor<B, 2>,
    batch: &Batch<B>,
    z_loss: f64,
    divisor: f32,
    chunk: usize,
) -> (Tensor<B, 1>, Tensor<B, 1>) {
    let chunk = chunk.max(1);
    let wide = wide::<B>();
    let [n, d] = rows.dims();
    let h = rows.clone().inner();
    let w = weight.clone().inner();
    let compute = h.dtype();
    let w_compute = w.clone().cast(compute);
    let w_wide_t = w.clone().cast(wide).transpose();
    let targets = batch.loss_targets.clone().inner();
    let weights = batch.loss_weights.clone().inner().cast(wide);
    let scale = 1.0 / f64::from(divisor);
    let device = h.device();
    let mut dh = Vec::new();
    let mut dw = Tensor::<B::InnerBackend, 2>::zeros([d, w.dims()[1]], &device).cast(wide);
    let mut ce_sum = Tensor::<B::InnerBackend, 1>::zeros([1], &device).cast(wide);
    let mut z_sum = ce_sum.clone();
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let m = end - start;
        let hc = h.clone().slice(start..end);
        let logits = hc.clone().matmul(w_compute.clone()).cast(wide);
        let max = logits.clone().max_dim(1);
        let lse = (logits.clone() - max.clone()).exp().sum_dim(1).log() + max;
        let p = (logits.clone() - lse.clone()).exp();
        let t = targets.clone().slice(start..end).reshape([m, 1]);
        let picked = logits.gather(1, t.clone());
        let wc = weights.clone().slice(start..end);
        ce_sum = ce_sum + ((lse.clone() - picked).reshape([m]) * wc.clone()).sum();
        z_sum = z_sum + (lse.clone().reshape([m]).powf_scalar(2.0) * wc.clone()).sum();
        // ∂L/∂logits = w/divisor · (p · (1 + 2·z·lse) − onehot(target)).
        let g = p * (lse * (2.0 * z_loss) + 1.0);
        let minus_one = Tensor::<B::InnerBackend, 2>::full([m, 1], -1.0, &device).cast(wide);
        let g = g.scatter(1, t, minus_one, IndexingUpdateOp::Add) * (wc * scale).reshape([m, 1]);
        dh.push(g.clone().matmul(w_wide_t.clone()).cast(compute));
        dw = dw + hc.cast(wide).transpose().matmul(g);
        start = end;
    }
    let ce = ce_sum * scale;
    let total = ce.clone() + z_sum * (z_loss * scale);
    let dw = Tensor::<B, 2>::from_inner(dw.cast(weight.dtype()));
    let mut surrogate = (weight * dw).sum();
    if !dh.is_empty() {
        let dh = Tensor::<B, 2>::from_inner(Tensor::cat(dh, 0));
        surrogate = surrogate + (rows * dh).sum().cast(wide);
    }
    let total = surrogate.clone() - surrogate.detach() + Tensor::from_inner(total);
    (total, Tensor::from_inner(ce))
}
