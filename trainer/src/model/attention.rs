//! Scaled dot-product attention, `softmax(q·kᵀ·scale + bias)·v`, either materialised or in
//! blocks of query rows (`--attention-chunk N`) whose scores autodiff never keeps.
//!
//! Materialised, autodiff keeps every layer's `[batch, heads, seq, seq]` scores in the compute
//! dtype, their cast to the parameters' dtype and the softmax's output until the backward
//! pass: for Molmo-7B-D's decoder (28 heads, 2304 tokens) 0.6 GB of f32 per sequence and
//! layer, for its ViT (16 heads, 577 tokens, 13 crops) another 0.3 GB. In blocks, the forward
//! pass computes N query rows' scores at a time and keeps only the inputs, the output and each
//! row's log-sum-exp (`[batch, heads, seq]`); the backward pass recomputes each block's
//! probabilities from them (FlashAttention-2's backward, in tensor operations instead of one
//! kernel): with `P = exp(S − lse)`, `dV = Pᵀ·dO`, `dS = P ⊙ (dO·vᵀ − rowsum(dO ⊙ O))`,
//! `dQ = dS·k·scale`, `dK = dSᵀ·q·scale`.
//!
//! burn 0.21 has no way to add a differentiable operation to a generic backend (its own
//! `attention` differentiates through the materialised fallback), so the operation is defined
//! for burn's `Autodiff` over any inner backend ([`BlockAttention`]) and reached from the
//! model's generic code by identifying the concrete backend at run time ([`attend`]): every
//! training backend `pixmo-train` builds is listed there. On any other backend, and without
//! autodiff (evaluation), the blocks run as ordinary operations: the same values, and the
//! transient scores of one block at a time.

use std::any::{Any, TypeId};

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::{
    BalancedCheckpointing, CheckpointStrategy, NoCheckpointing,
};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::prelude::*;
use burn::tensor::TensorPrimitive;
use burn::tensor::activation::softmax;

use crate::model::mixed::wide;

/// Calls `$m!` with the inner backends of every training backend `pixmo-train` builds (each
/// with and without burn's balanced activation checkpointing): [`attend`] runs its blocks as
/// one differentiable operation on them.
macro_rules! training_backends {
    ($m:ident) => {
        $m!(burn::backend::NdArray<f32>, burn::backend::NdArray<f64>);
        #[cfg(feature = "cuda")]
        $m!(
            burn::backend::Cuda<f32>,
            burn::backend::Cuda<burn::tensor::bf16>,
            burn::backend::Cuda<burn::tensor::f16>,
        );
        #[cfg(feature = "cuda-fused")]
        $m!(
            burn_cubecl::CubeBackend<
                burn_cubecl::cubecl::cuda::CudaRuntime,
                burn::tensor::bf16,
                i32,
                u8,
            >
        );
    };
}

/// `softmax(q·kᵀ·scale + bias)·v` for `q` `[batch, heads, queries, head_dim]`, `k` and `v`
/// `[batch, heads, keys, head_dim]` and an additive `bias` broadcast over heads (`[batch, 1,
/// queries, keys]`, in the parameters' dtype). The scores are scaled, biased and normalised
/// in the parameters' dtype, the products run in the dtype of `q` (the compute dtype), and
/// the output comes back in it. `chunk`: the query rows per block (`None`, or at least the
/// queries: materialised).
pub fn attend<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    scale: f64,
    bias: Option<&Tensor<B, 4>>,
    chunk: Option<usize>,
) -> Tensor<B, 4> {
    let queries = q.dims()[2];
    let chunk = match chunk {
        Some(c) if c < queries => c.max(1),
        _ => return materialised(q, k, v, scale, bias),
    };
    let args = Args {
        q,
        k,
        v,
        bias: bias.cloned(),
    };
    let blocks = |mut args: Option<Args<B>>| -> Result<Option<Args<B>>, Tensor<B, 4>> {
        macro_rules! as_one_operation {
            ($($inner:ty),* $(,)?) => {$(
                args = try_autodiff::<B, $inner, NoCheckpointing>(args, scale, chunk)?;
                args = try_autodiff::<B, $inner, BalancedCheckpointing>(args, scale, chunk)?;
            )*};
        }
        training_backends!(as_one_operation);
        Ok(args)
    };
    match blocks(Some(args)) {
        Err(out) => out,
        Ok(Some(a)) => block_forward(a.q, a.k, a.v, scale, a.bias.as_ref(), chunk).0,
        Ok(None) => unreachable!("the arguments come back whenever the backend is another"),
    }
}

/// `Err(output)` of the blocks as one [`BlockAttention`] when `B` is `Autodiff<I, C>`;
/// `Ok(args)` back otherwise.
fn try_autodiff<B: Backend, I: Backend, C: CheckpointStrategy>(
    args: Option<Args<B>>,
    scale: f64,
    chunk: usize,
) -> Result<Option<Args<B>>, Tensor<B, 4>> {
    match args.map(Args::into_backend_of::<Autodiff<I, C>>) {
        Some(Ok(a)) => Err(a.block_autodiff(scale, chunk).into_backend::<B>()),
        Some(Err(a)) => Ok(Some(a)),
        None => Ok(None),
    }
}

/// Whether [`attend`] runs its blocks on backend `B` as one differentiable operation (their
/// scores never kept), rather than as ordinary operations.
#[must_use]
pub fn blocks_are_one_operation<B: Backend>() -> bool {
    let id = TypeId::of::<B>();
    let mut listed = false;
    macro_rules! check {
        ($($inner:ty),* $(,)?) => {$(
            listed |= id == TypeId::of::<Autodiff<$inner, NoCheckpointing>>()
                || id == TypeId::of::<Autodiff<$inner, BalancedCheckpointing>>();
        )*};
    }
    training_backends!(check);
    listed
}

/// The scores of every query at once (autodiff keeps them).
fn materialised<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    scale: f64,
    bias: Option<&Tensor<B, 4>>,
) -> Tensor<B, 4> {
    let dtype = q.dtype();
    let mut scores = q.matmul(k.swap_dims(2, 3)).cast(wide::<B>()) * scale;
    if let Some(bias) = bias {
        scores = scores + bias.clone();
    }
    softmax(scores, 3).cast(dtype).matmul(v)
}

/// Query rows `rows` of `t` (`[batch, heads, queries, …]`).
fn rows<B: Backend>(t: &Tensor<B, 4>, rows: std::ops::Range<usize>) -> Tensor<B, 4> {
    let [b, h, _, d] = t.dims();
    t.clone().slice([0..b, 0..h, rows, 0..d])
}

/// One block's scores in the parameters' dtype: `q_rows·kᵀ·scale + bias_rows`.
fn block_scores<B: Backend>(
    q_rows: Tensor<B, 4>,
    k: &Tensor<B, 4>,
    scale: f64,
    bias: Option<&Tensor<B, 4>>,
    range: std::ops::Range<usize>,
) -> Tensor<B, 4> {
    let scores = q_rows.matmul(k.clone().swap_dims(2, 3)).cast(wide::<B>()) * scale;
    match bias {
        Some(bias) => scores + rows(bias, range),
        None => scores,
    }
}

/// The output (dtype of `q`) and each query row's log-sum-exp of its scores (`[batch, heads,
/// queries, 1]`, parameters' dtype), `chunk` query rows at a time.
fn block_forward<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    scale: f64,
    bias: Option<&Tensor<B, 4>>,
    chunk: usize,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let dtype = q.dtype();
    let queries = q.dims()[2];
    let (mut outs, mut lses) = (Vec::new(), Vec::new());
    for start in (0..queries).step_by(chunk) {
        let range = start..(start + chunk).min(queries);
        let scores = block_scores(rows(&q, range.clone()), &k, scale, bias, range);
        let max = scores.clone().max_dim(3);
        let exp = (scores - max.clone()).exp();
        let sum = exp.clone().sum_dim(3);
        outs.push((exp / sum.clone()).cast(dtype).matmul(v.clone()));
        lses.push(max + sum.log());
    }
    (Tensor::cat(outs, 2), Tensor::cat(lses, 2))
}

/// What the backward pass of [`BlockAttention`] keeps: inputs, output and log-sum-exps (no
/// scores).
#[derive(Clone, Debug)]
struct Saved<B: Backend> {
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    out: Tensor<B, 4>,
    lse: Tensor<B, 4>,
    bias: Option<Tensor<B, 4>>,
    scale: f64,
    chunk: usize,
}

/// Gradients with respect to `q`, `k` and `v` (each in its dtype) of the output's gradient
/// `grad_out`, block by block.
fn block_backward<B: Backend>(
    s: Saved<B>,
    grad_out: Tensor<B, 4>,
) -> (Tensor<B, 4>, Tensor<B, 4>, Tensor<B, 4>) {
    let dtype = s.q.dtype();
    let grad_out = grad_out.cast(dtype);
    let queries = s.q.dims()[2];
    // rowsum(dO ⊙ O) = Σ_j P_ij · dP_ij, per query row.
    let delta = (grad_out.clone().cast(wide::<B>()) * s.out.cast(wide::<B>())).sum_dim(3);
    let mut grad_q = Vec::new();
    let mut grad_k = s.k.zeros_like().cast(wide::<B>());
    let mut grad_v = s.v.zeros_like().cast(wide::<B>());
    for start in (0..queries).step_by(s.chunk) {
        let range = start..(start + s.chunk).min(queries);
        let q_rows = rows(&s.q, range.clone());
        let d_out = rows(&grad_out, range.clone());
        let scores = block_scores(
            q_rows.clone(),
            &s.k,
            s.scale,
            s.bias.as_ref(),
            range.clone(),
        );
        let p = (scores - rows(&s.lse, range.clone())).exp();
        grad_v = grad_v
            + p.clone()
                .cast(dtype)
                .swap_dims(2, 3)
                .matmul(d_out.clone())
                .cast(wide::<B>());
        let d_p = d_out.matmul(s.v.clone().swap_dims(2, 3)).cast(wide::<B>());
        let d_scores = ((p * (d_p - rows(&delta, range))) * s.scale).cast(dtype);
        grad_q.push(d_scores.clone().matmul(s.k.clone()));
        grad_k = grad_k + d_scores.swap_dims(2, 3).matmul(q_rows).cast(wide::<B>());
    }
    (
        Tensor::cat(grad_q, 2),
        grad_k.cast(s.k.dtype()),
        grad_v.cast(s.v.dtype()),
    )
}

/// [`attend`]'s blocks as one differentiable operation of burn's autodiff: its backward pass
/// is [`block_backward`].
#[derive(Debug)]
struct BlockAttention;

impl<B: Backend> Backward<B, 3> for BlockAttention {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad_out =
            Tensor::<B, 4>::from_primitive(TensorPrimitive::Float(grads.consume::<B>(&ops.node)));
        let (grad_q, grad_k, grad_v) = block_backward(ops.state, grad_out);
        for (parent, grad) in ops.parents.into_iter().zip([grad_q, grad_k, grad_v]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, grad.into_primitive().tensor());
            }
        }
    }
}

/// The arguments of [`attend`] on its backend `B`.
struct Args<B: Backend> {
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    bias: Option<Tensor<B, 4>>,
}

impl<B: Backend> Args<B> {
    /// The same tensors typed as backend `A` when `A` is `B`; themselves otherwise.
    fn into_backend_of<A: Backend>(self) -> Result<Args<A>, Args<B>> {
        if TypeId::of::<A>() != TypeId::of::<B>() {
            return Err(self);
        }
        let boxed: Box<dyn Any> = Box::new(self);
        match boxed.downcast::<Args<A>>() {
            Ok(args) => Ok(*args),
            Err(_) => unreachable!("`A` and `B` are one type"),
        }
    }
}

/// An output of backend `A` typed as backend `B` (`A` is `B`: [`Args::into_backend_of`]).
trait IntoBackend {
    fn into_backend<B: Backend>(self) -> Tensor<B, 4>;
}

impl<A: Backend> IntoBackend for Tensor<A, 4> {
    fn into_backend<B: Backend>(self) -> Tensor<B, 4> {
        let boxed: Box<dyn Any> = Box::new(self);
        match boxed.downcast::<Tensor<B, 4>>() {
            Ok(t) => *t,
            Err(_) => unreachable!("only called with `A` equal to `B`"),
        }
    }
}

impl<I: Backend, C: CheckpointStrategy> Args<Autodiff<I, C>> {
    /// [`block_forward`] on the inner backend, recorded as one [`BlockAttention`].
    fn block_autodiff(self, scale: f64, chunk: usize) -> Tensor<Autodiff<I, C>, 4> {
        let [q, k, v] = [self.q, self.k, self.v].map(|t| t.into_primitive().tensor());
        let [q_in, k_in, v_in] = [&q, &k, &v]
            .map(|t| Tensor::<I, 4>::from_primitive(TensorPrimitive::Float(t.primitive.clone())));
        let bias = self.bias.map(Tensor::inner);
        let (out, lse) = block_forward(
            q_in.clone(),
            k_in.clone(),
            v_in.clone(),
            scale,
            bias.as_ref(),
            chunk,
        );
        let prep = BlockAttention
            .prepare::<C>([q.node.clone(), k.node.clone(), v.node.clone()])
            .compute_bound()
            .stateful();
        let output = match prep {
            OpsKind::Tracked(prep) => {
                let saved = Saved {
                    q: q_in,
                    k: k_in,
                    v: v_in,
                    out: out.clone(),
                    lse,
                    bias,
                    scale,
                    chunk,
                };
                prep.finish(saved, out.into_primitive().tensor())
            }
            OpsKind::UnTracked(prep) => prep.finish(out.into_primitive().tensor()),
        };
        Tensor::from_primitive(TensorPrimitive::Float(output))
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::NdArray;
    use burn::tensor::{TensorData, Tolerance};

    use super::*;
    use crate::batch::MASKED;

    type Plain = Autodiff<NdArray>;
    type Checkpointed = Autodiff<NdArray, BalancedCheckpointing>;

    /// `[batch, 1, s, s]` bias: causal, and each sequence split into two segments that do not
    /// see each other (the shape of a packed batch's mask).
    fn packed_bias<B: Backend>(b: usize, s: usize, device: &B::Device) -> Tensor<B, 4> {
        let mut values = Vec::with_capacity(b * s * s);
        for seq in 0..b {
            let split = 2 + seq;
            for q in 0..s {
                for k in 0..s {
                    let seen = k <= q && (k >= split) == (q >= split);
                    values.push(if seen { 0.0 } else { MASKED });
                }
            }
        }
        Tensor::from_data(TensorData::new(values, [b, 1, s, s]), device)
    }

    /// Values in [-2, 2] from `seed` and the position (no global generator: tests run in
    /// parallel).
    fn deterministic<B: Backend>(shape: [usize; 4], seed: u64, device: &B::Device) -> Tensor<B, 4> {
        let n = shape.iter().product::<usize>();
        let values: Vec<f32> = (0..n)
            .map(|i| {
                #[allow(clippy::cast_precision_loss)]
                let x = (i as f32 + 1.0) * (seed as f32 * 0.618_034 + 0.5);
                2.0 * (x * 12.9898).sin()
            })
            .collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// Output and the gradients of `Σ out ⊙ w` with respect to q, k and v.
    fn run<B: AutodiffBackend>(
        chunk: Option<usize>,
        bias: bool,
    ) -> (Tensor<B::InnerBackend, 4>, [Tensor<B::InnerBackend, 4>; 3]) {
        let device = Default::default();
        let shape = [2, 3, 9, 4];
        let draw = |seed| deterministic::<B>(shape, seed, &device);
        let (q, k, v, w) = (
            draw(1).require_grad(),
            draw(2).require_grad(),
            draw(3).require_grad(),
            draw(4),
        );
        let bias = bias.then(|| packed_bias::<B>(2, 9, &device));
        let out = attend(q.clone(), k.clone(), v.clone(), 0.5, bias.as_ref(), chunk);
        let grads = (out.clone() * w).sum().backward();
        let grad = |t: &Tensor<B, 4>| t.grad(&grads).expect("a gradient");
        (out.inner(), [grad(&q), grad(&k), grad(&v)])
    }

    use burn::tensor::backend::AutodiffBackend;

    fn assert_close<B: Backend>(a: &Tensor<B, 4>, b: &Tensor<B, 4>) {
        a.to_data()
            .assert_approx_eq::<f32>(&b.to_data(), Tolerance::absolute(1e-5));
    }

    /// Blocks of 1, 4 and 8 query rows give the materialised attention's output and its
    /// gradients with respect to q, k and v, masked or not, with and without activation
    /// checkpointing, as one operation of burn's autodiff.
    #[test]
    fn blocks_give_the_materialised_output_and_gradients() {
        fn check<B: AutodiffBackend>() {
            assert!(blocks_are_one_operation::<B>());
            for bias in [true, false] {
                let (out, grads) = run::<B>(None, bias);
                for chunk in [1, 4, 8] {
                    let (out_c, grads_c) = run::<B>(Some(chunk), bias);
                    assert_close(&out, &out_c);
                    for (g, g_c) in grads.iter().zip(&grads_c) {
                        assert_close(g, g_c);
                    }
                }
            }
        }
        check::<Plain>();
        check::<Checkpointed>();
    }

    /// The gradients are not those of attention without a mask (the mask reaches the
    /// backward pass), nor those of uniform weights.
    #[test]
    fn the_blocks_backward_pass_sees_the_mask() {
        let (_, masked) = run::<Plain>(Some(4), true);
        let (_, open) = run::<Plain>(Some(4), false);
        let diff = (masked[1].clone() - open[1].clone())
            .abs()
            .max()
            .into_scalar();
        assert!(diff > 0.1, "mask changes the key gradient by {diff}");
    }

    /// Without autodiff (evaluation) the blocks are ordinary operations with the same output.
    #[test]
    fn blocks_without_autodiff_give_the_materialised_output() {
        assert!(!blocks_are_one_operation::<NdArray>());
        let device = Default::default();
        let draw = |seed| deterministic::<NdArray>([1, 2, 11, 8], seed, &device);
        let (q, k, v) = (draw(5), draw(6), draw(7));
        let bias = packed_bias::<NdArray>(1, 11, &device);
        let whole = attend(q.clone(), k.clone(), v.clone(), 0.35, Some(&bias), None);
        let blocks = attend(q, k, v, 0.35, Some(&bias), Some(3));
        assert_close(&whole, &blocks);
    }
}
