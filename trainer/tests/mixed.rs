//! Mixed precision (`--mixed`): the activations in a compute dtype, the parameters, their
//! gradients and the optimiser's state in the backend's (master weights). burn's ndarray
//! computes in f32 and f64 only, so here the backend is f64 and the compute dtype f32: the
//! rule is the same at any pair of widths (on a GPU, f32 and bf16).
//!
//! A test binary of its own: burn keeps one default float dtype per device type, and
//! `NdArray<f32>` and `NdArray<f64>` share theirs, so the f64 default set here would leak into
//! the f32 tests of `it` (which check that an f32 model run with `Compute::F32` computes the
//! same bits as without it).

#[allow(dead_code)]
#[path = "it/common.rs"]
mod common;

use burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing;
use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{DType, FloatDType, IntDType};
use pixmo_annotation_schema::Dataset;
use pixmo_trainer::batch::{Batch, collate};
use pixmo_trainer::config::VitPositions;
use pixmo_trainer::format::Stage;
use pixmo_trainer::model::mixed::Compute;
use pixmo_trainer::model::{Molmo, ResidualDropout};
use pixmo_trainer::optim::{
    MolmoOptimizer, adamw, adamw_with, apply, split_and_clip, split_unscale_and_clip,
};
use pixmo_trainer::train::{DataSource, LossScale, Trainer, step_gradients, step_gradients_over};

use common::{backend_rng, colour_examples, colour_questions, tiny_model, tiny_train};

type Wide = NdArray<f64>;
type WideTrain = Autodiff<NdArray<f64>>;
type WideCheckpointed = Autodiff<NdArray<f64>, BalancedCheckpointing>;

/// Every tensor this process creates on the CPU is f64 unless cast: an f64 model, its
/// batches' f64 inputs (`collate` goes through the default).
fn wide_defaults() {
    let device = Default::default();
    // Set once per process; a second call finds it set (an error) and leaves it.
    let _ = burn::tensor::set_default_dtypes::<Wide>(&device, FloatDType::F64, IntDType::I64);
    let settings = burn::tensor::get_device_settings::<Wide>(&device);
    assert_eq!(settings.float_dtype, FloatDType::F64);
}

/// Two colour questions (one image not square: padded patches) as one batch.
fn batch<B: Backend>() -> Batch<B> {
    let packed = colour_questions(&colour_examples()[1..3], &[" It is green.", " It is blue."]);
    collate::<B>(&packed, &tiny_model().vision, &Default::default())
}

/// Every float parameter's values, in module order, as f64.
struct Values(Vec<Vec<f64>>, Vec<DType>);

impl<B: Backend> ModuleVisitor<B> for Values {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let t = param.val();
        self.1.push(t.dtype());
        self.0
            .push(t.cast(DType::F64).into_data().to_vec().unwrap());
    }
}

fn values<B: Backend, M: Module<B>>(m: &M) -> Values {
    let mut v = Values(Vec::new(), Vec::new());
    m.visit(&mut v);
    v
}

/// The logits of a model run with f32 activations are f32, close to the f64 model's, and
/// computed in f32 along the way: not the f64 logits rounded at the end.
#[test]
fn mixed_activations_are_computed_in_the_compute_dtype_close_to_the_full_ones() {
    let _rng = backend_rng();
    wide_defaults();
    let device = Default::default();
    let model = Molmo::<Wide>::new(&tiny_model(), &device);
    let b = batch::<Wide>();
    assert_eq!(b.crops.dtype(), DType::F64);
    let full = model.forward(&b, &ResidualDropout::Off);
    let mixed = model.forward(
        &b.clone().in_compute(Some(Compute::F32)),
        &ResidualDropout::Off,
    );
    assert_eq!((full.dtype(), mixed.dtype()), (DType::F64, DType::F32));
    let full: Vec<f64> = full.into_data().to_vec().unwrap();
    let mixed: Vec<f32> = mixed.into_data().to_vec().unwrap();
    assert_eq!(full.len(), mixed.len());
    let scale = full.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let worst = full
        .iter()
        .zip(&mixed)
        .fold(0.0f64, |m, (f, x)| m.max((f - f64::from(*x)).abs()));
    assert!(
        worst < 1e-4 * scale,
        "f32 activations off by {worst} (scale {scale})"
    );
    #[allow(clippy::cast_possible_truncation)]
    let rounded_apart = full
        .iter()
        .zip(&mixed)
        .filter(|&(f, x)| (*f as f32) != *x)
        .count();
    assert!(
        rounded_apart > full.len() / 4,
        "{rounded_apart} of {} logits differ from the f64 logits rounded to f32",
        full.len()
    );

    // Every other path's junctions: residual dropout (everywhere, and on the response
    // only) and a ViT with 2-D rotary positions. (ndarray refuses an operation on an f32 and
    // an f64 tensor, so a junction without its cast fails here.)
    let mixed = b.in_compute(Some(Compute::F32));
    let response = ResidualDropout::Masked(0.1, mixed.response_mask.clone());
    for dropout in [ResidualDropout::All(0.1), response] {
        assert_eq!(model.forward(&mixed, &dropout).dtype(), DType::F32);
    }
    let mut rotary = tiny_model();
    rotary.vit.positions = VitPositions::Rope2d;
    let model = Molmo::<Wide>::new(&rotary, &device);
    let logits = model.forward(&mixed, &ResidualDropout::Off);
    assert_eq!(logits.dtype(), DType::F32);
}

/// A training step with f32 activations on an f64 model: the loss and gradients are close to
/// the f64 step's, every gradient comes back in f64, and the update is kept in f64, moves
/// too small for an f32 weight to hold included (what master weights are for).
#[test]
fn mixed_gradients_and_updates_stay_in_the_parameters_dtype() {
    let _rng = backend_rng();
    wide_defaults();
    let device = Default::default();
    let model = Molmo::<WideTrain>::new(&tiny_model(), &device);
    let batches = vec![batch::<WideTrain>()];
    let mut train = tiny_train(Stage::Finetune, 4);
    let (full_loss, _, full_grads) = step_gradients(&model, &batches, &train, false);
    train.mixed = Some(Compute::F32);
    let (mixed_loss, _, mixed_grads) = step_gradients(&model, &batches, &train, false);
    assert!(
        (full_loss - mixed_loss).abs() < 1e-5 * full_loss && full_loss != mixed_loss,
        "loss {full_loss} in f64, {mixed_loss} with f32 activations"
    );
    let head = model.llm.lm_head.weight.id;
    let grad = |g: &burn::optim::GradientsParams| {
        let t = g
            .get::<Wide, 2>(head)
            .expect("the output head has a gradient");
        let dtype = t.dtype();
        (dtype, t.into_data().to_vec::<f64>().unwrap())
    };
    let ((full_dtype, full), (mixed_dtype, mixed)) = (grad(&full_grads), grad(&mixed_grads));
    assert_eq!((full_dtype, mixed_dtype), (DType::F64, DType::F64));
    let norm = full.iter().map(|g| g * g).sum::<f64>().sqrt();
    let apart = full
        .iter()
        .zip(&mixed)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    assert!(
        apart < 1e-4 * norm && apart > 0.0,
        "gradients {apart} apart (norm {norm})"
    );

    // One AdamW step at a rate whose moves are below an f32 weight's resolution.
    train.schedule.llm.peak_lr = 1e-13;
    train.schedule.llm.warmup = 0;
    let before = values(&model.llm.lm_head);
    let mut optimizer = adamw::<WideTrain>();
    let groups = split_and_clip(&model, mixed_grads, train.max_grad_norm);
    let (model, applied) = apply(&mut optimizer, model, groups, &train.schedule, 0);
    assert!(applied);
    let after = values(&model.llm.lm_head);
    assert!(after.1.iter().all(|d| *d == DType::F64), "{:?}", after.1);
    let (w0, w1) = (&before.0[0], &after.0[0]);
    #[allow(clippy::cast_possible_truncation)]
    let kept = w0
        .iter()
        .zip(w1)
        .filter(|&(a, b)| {
            let half_ulp = f64::from((*a as f32).abs()) * f64::from(f32::EPSILON) / 2.0;
            a != b && (a - b).abs() < half_ulp
        })
        .count();
    assert!(
        kept > w0.len() * 9 / 10,
        "{kept} of {} head weights kept a move an f32 weight would round away",
        w0.len()
    );
}

/// AdamW's moments kept in f32 between steps (`--moments`) on an f64 model: the optimiser's
/// state holds them in f32, the parameters stay f64, and three steps land close to (but not
/// exactly on) the steps with f64 moments. Without a moments dtype the state is the
/// parameters' dtype.
#[test]
fn narrow_moments_are_kept_narrow_and_step_close_to_wide_ones() {
    let _rng = backend_rng();
    wide_defaults();
    let device = Default::default();
    let model = Molmo::<WideTrain>::new(&tiny_model(), &device);
    let batches = vec![batch::<WideTrain>()];
    let train = tiny_train(Stage::Finetune, 4);
    let run = |moments: Option<Compute>| {
        let mut optimizer = adamw_with::<WideTrain>(moments);
        let mut m = model.clone();
        for step in 0..3 {
            let (_, _, grads) = step_gradients(&m, &batches, &train, false);
            let groups = split_and_clip(&m, grads, train.max_grad_norm);
            (m, _) = apply(&mut optimizer, m, groups, &train.schedule, step);
        }
        (m, optimizer)
    };
    let head = model.llm.lm_head.weight.id;
    let moments = |optimizer: &MolmoOptimizer<WideTrain>| {
        let record = optimizer.to_record();
        let state = record
            .get(&head)
            .expect("the head has a state")
            .clone()
            .into_state::<2>();
        (
            state.momentum.moment_1.dtype(),
            state.momentum.moment_2.dtype(),
        )
    };
    let (wide, wide_optimizer) = run(None);
    let (narrow, narrow_optimizer) = run(Some(Compute::F32));
    assert_eq!(moments(&wide_optimizer), (DType::F64, DType::F64));
    assert_eq!(moments(&narrow_optimizer), (DType::F32, DType::F32));
    let (wide, narrow) = (values(&wide), values(&narrow));
    assert!(narrow.1.iter().all(|d| *d == DType::F64), "{:?}", narrow.1);
    let start = values(&model);
    let (mut moved, mut apart) = (0.0f64, 0.0f64);
    for ((w, n), s) in wide.0.iter().zip(&narrow.0).zip(&start.0) {
        for ((w, n), s) in w.iter().zip(n).zip(s) {
            moved += (w - s) * (w - s);
            apart += (w - n) * (w - n);
        }
    }
    let (moved, apart) = (moved.sqrt(), apart.sqrt());
    assert!(
        apart > 0.0 && apart < 1e-4 * moved,
        "the runs {apart} apart after moving {moved}"
    );
}

/// Every float parameter's gradient (`None` where it has none) as f64 bits, in module order.
struct GradientBits<'a>(&'a GradientsParams, Vec<Option<Vec<u64>>>);

impl<B: AutodiffBackend> ModuleVisitor<B> for GradientBits<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let grad = self.0.get::<B::InnerBackend, D>(param.id).map(|g| {
            let v: Vec<f64> = g.cast(DType::F64).into_data().to_vec().unwrap();
            v.into_iter().map(f64::to_bits).collect()
        });
        self.1.push(grad);
    }
}

/// A mixed step with dropout on backend `B` from seeded weights: its loss and every gradient,
/// as bits.
fn mixed_step_bits<B: AutodiffBackend>() -> (u64, Vec<Option<Vec<u64>>>) {
    let device = Default::default();
    let mut train = tiny_train(Stage::Finetune, 4);
    train.mixed = Some(Compute::F32);
    train.dropout = 0.1;
    B::seed(&device, 23);
    let model = Molmo::<B>::new(&tiny_model(), &device);
    let batches = vec![batch::<B>()];
    let (loss, _, grads) = step_gradients(&model, &batches, &train, true);
    let mut bits = GradientBits(&grads, Vec::new());
    model.visit(&mut bits);
    (loss.to_bits(), bits.1)
}

/// burn's balanced activation checkpointing (`--checkpointing`, meant for the whole 7B-D with
/// `--mixed bf16`) recomputes memory-bound operations in the backward pass (element-wise ones
/// between the casts, reductions and matrix products it keeps), the dropout masks' products
/// among them: a mixed step with dropout gets the loss and gradients of the step that keeps
/// its activations, to the last bit.
#[test]
fn checkpointing_a_mixed_step_changes_no_bit() {
    let _rng = backend_rng();
    wide_defaults();
    let (loss, grads) = mixed_step_bits::<WideTrain>();
    assert!(
        grads.iter().all(Option::is_some),
        "every parameter has a gradient"
    );
    let (checkpointed_loss, checkpointed_grads) = mixed_step_bits::<WideCheckpointed>();
    assert_eq!(f64::from_bits(loss), f64::from_bits(checkpointed_loss));
    let differing = grads
        .iter()
        .zip(&checkpointed_grads)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 0, "of {} gradients", grads.len());
}

/// The head and loss in chunks (`--head-chunk`) under mixed precision: f32 hidden rows
/// through the f64 head, the loss and every gradient close to the whole-logits mixed step's
/// (those zero but for rounding held to 1e-7), the head's gradient in f64.
#[test]
fn a_mixed_step_with_the_head_in_chunks_gives_the_whole_logits_step() {
    let _rng = backend_rng();
    wide_defaults();
    let device = Default::default();
    let model = Molmo::<WideTrain>::new(&tiny_model(), &device);
    let batches = vec![batch::<WideTrain>()];
    let mut train = tiny_train(Stage::Finetune, 4);
    train.mixed = Some(Compute::F32);
    let (loss, _, grads) = step_gradients(&model, &batches, &train, false);
    train.head_chunk = Some(3);
    let (chunked_loss, _, chunked_grads) = step_gradients(&model, &batches, &train, false);
    assert!(
        (loss - chunked_loss).abs() < 1e-6 * loss,
        "loss {loss}, in chunks {chunked_loss}"
    );
    assert_gradients_close(&model, &grads, &chunked_grads);
    let head = chunked_grads
        .get::<Wide, 2>(model.llm.lm_head.weight.id)
        .expect("the head has a gradient");
    assert_eq!(head.dtype(), DType::F64);
}

/// Every parameter's gradient in `other` within 1e-4 of its norm (plus 1e-7) of `grads`.
fn assert_gradients_close<B: AutodiffBackend>(
    model: &Molmo<B>,
    grads: &GradientsParams,
    other: &GradientsParams,
) {
    let (mut bits, mut other_bits) = (
        GradientBits(grads, Vec::new()),
        GradientBits(other, Vec::new()),
    );
    model.visit(&mut bits);
    model.visit(&mut other_bits);
    let values = |g: &Option<Vec<u64>>| -> Vec<f64> {
        g.as_ref()
            .expect("a gradient")
            .iter()
            .map(|b| f64::from_bits(*b))
            .collect()
    };
    assert!(!bits.1.is_empty());
    for (k, (a, b)) in bits.1.iter().zip(&other_bits.1).enumerate() {
        let (a, b) = (values(a), values(b));
        let norm = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        let apart = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt();
        assert!(
            apart <= 1e-4 * norm + 1e-7,
            "parameter {k}: {apart} apart (norm {norm})"
        );
    }
}

/// Attention in blocks (`--attention-chunk`) under mixed precision: f32 queries, keys and
/// values, the scores' softmax and the backward pass's in f64, the loss and every gradient
/// close to the materialised mixed step's, on both training backends (with and without
/// activation checkpointing), the ViT's and the decoder's projections' gradients in f64.
#[test]
fn a_mixed_step_with_attention_in_blocks_gives_the_materialised_step() {
    fn check<B: AutodiffBackend<InnerBackend = Wide>>() {
        assert!(pixmo_trainer::model::attention::blocks_are_one_operation::<B>());
        let device = Default::default();
        let model = Molmo::<B>::new(&tiny_model(), &device);
        let batches = vec![batch::<B>()];
        let mut train = tiny_train(Stage::Finetune, 4);
        train.mixed = Some(Compute::F32);
        let (loss, _, grads) = step_gradients(&model, &batches, &train, false);
        train.attention_chunk = Some(5);
        let (blocks_loss, _, blocks_grads) = step_gradients(&model, &batches, &train, false);
        assert!(
            (loss - blocks_loss).abs() < 1e-6 * loss,
            "loss {loss}, in blocks {blocks_loss}"
        );
        assert_gradients_close(&model, &grads, &blocks_grads);
        let vit_q = blocks_grads
            .get::<Wide, 2>(model.vit.blocks[0].attn.wq.weight.id)
            .expect("the ViT's query projection has a gradient");
        let llm_k = blocks_grads
            .get::<Wide, 2>(model.llm.layers[0].self_attn.k_proj.weight.id)
            .expect("the decoder's key projection has a gradient");
        assert_eq!((vit_q.dtype(), llm_k.dtype()), (DType::F64, DType::F64));
    }
    let _rng = backend_rng();
    wide_defaults();
    check::<WideTrain>();
    check::<WideCheckpointed>();
}

/// Loss scaling does what f16 needs it for, at the f64/f32 pair. A step whose loss is
/// 2^-140 of another's (token weights × 2^-20, divisor 2^127 instead of 2^7) has gradients
/// that fall below f32's range (f16's 6e-8 floor, here 1e-45) on the way back through the
/// f32 activations: without scaling, the ViT's gradient mostly vanishes. Scaled by 2^140
/// and unscaled, its group norms are the other step's times 2^-140 to the bit. Scaling
/// without unscaling, or scaling the gradients after the backward pass, fails it.
#[test]
fn loss_scaling_keeps_gradients_that_underflow_the_compute_dtype() {
    let _rng = backend_rng();
    wide_defaults();
    let device = Default::default();
    let model = Molmo::<WideTrain>::new(&tiny_model(), &device);
    let batches = vec![batch::<WideTrain>()];
    let mut faint = batches.clone();
    faint[0].loss_weights = faint[0].loss_weights.clone() * 2f64.powi(-20);
    let mut train = tiny_train(Stage::Finetune, 4);
    train.mixed = Some(Compute::F32);
    let norms = |batches: &[Batch<WideTrain>], divisor: f32, scale: f64| {
        let (_, _, grads) = step_gradients_over(&model, batches, &train, false, divisor, scale);
        split_unscale_and_clip(&model, grads, 0.0, scale)
            .iter()
            .map(|g| g.norm * 2f64.powi(140))
            .collect::<Vec<f64>>()
    };
    let plain: Vec<f64> = norms(&batches, 2f32.powi(7), 1.0)
        .iter()
        .map(|n| n * 2f64.powi(-140))
        .collect();
    assert!(plain.iter().all(|n| *n > 1e-3), "{plain:?}");
    let unscaled = norms(&faint, 2f32.powi(127), 1.0);
    assert!(
        unscaled[0] < 0.1 * plain[0] && unscaled[1] < 0.1 * plain[1],
        "{plain:?} vs {unscaled:?}"
    );
    let scaled = norms(&faint, 2f32.powi(127), 2f64.powi(140));
    assert_eq!(scaled, plain);
}

/// The scale's dynamics on a run: from 2^136 the f32 activations' gradients overflow, so
/// steps are skipped (parameters unchanged) and the scale halves each time, more skips in a
/// row than `max_skipped_steps` without stopping the run (only skips at scale 1 count);
/// once a step is applied, two clean steps in a row double it. A checkpoint keeps the scale
/// reached, and a resumed run goes on from it.
#[test]
fn the_loss_scale_halves_on_overflow_and_grows_after_clean_steps() {
    let _rng = backend_rng();
    wide_defaults();
    let dir = tempfile::tempdir().unwrap();
    let mut train = tiny_train(Stage::Finetune, 40);
    train.micro_batch = 2;
    train.mixed = Some(Compute::F32);
    train.max_skipped_steps = 3;
    train.loss_scale = Some(LossScale::new(2f64.powi(136), 2));
    let data = || {
        DataSource::new(
            vec![(Dataset::AskModelAnything, colour_examples())],
            Stage::Finetune,
            5,
        )
        .unwrap()
    };
    let device = || burn::backend::ndarray::NdArrayDevice::Cpu;
    let mut t = Trainer::<WideTrain>::new(tiny_model(), train.clone(), data(), device()).unwrap();
    let mut metrics = Vec::new();
    let mut applied_in_a_row = 0;
    while metrics.len() < 40 && applied_in_a_row < 5 {
        let before = values(t.model()).0;
        let m = t.train_step().expect("step");
        assert!(!t.diverged());
        if m.skipped {
            assert_eq!(
                values(t.model()).0,
                before,
                "a skipped step moved the model"
            );
            applied_in_a_row = 0;
        } else {
            assert!(m.loss.is_finite());
            applied_in_a_row += 1;
        }
        metrics.push(m);
    }
    let scales: Vec<f64> = metrics.iter().map(|m| m.loss_scale.unwrap()).collect();
    let skipped: Vec<bool> = metrics.iter().map(|m| m.skipped).collect();
    let first_applied = skipped.iter().position(|s| !s).expect("a step applied");
    assert!(first_applied > 3, "{scales:?}");
    let mut good = 0;
    for i in 1..scales.len() {
        let want = if skipped[i - 1] {
            good = 0;
            scales[i - 1] / 2.0
        } else {
            good += 1;
            if good == 2 {
                good = 0;
                scales[i - 1] * 2.0
            } else {
                scales[i - 1]
            }
        };
        assert_eq!(scales[i], want, "step {i}: {scales:?} {skipped:?}");
    }
    assert!(
        scales.iter().any(|s| *s > scales[first_applied]),
        "{scales:?}"
    );
    t.save_checkpoint(dir.path()).unwrap();
    let reached = t.loss_scale;
    let resumed = Trainer::<WideTrain>::resume(dir.path(), data(), device()).unwrap();
    assert_eq!(resumed.loss_scale, reached);
    assert_ne!(reached, train.loss_scale);
}
