//! Data parallelism with burn's collective all-reduce, on CPU peers in threads: N replicas
//! taking a step's micro-batches between them must take the step one process takes when it
//! accumulates all of them.

use pixmo_annotation_schema::Dataset;
use pixmo_trainer::format::Stage;
use pixmo_trainer::train::{DataSource, LossScale, StepMetrics, TrainConfig, Trainer};

use crate::common::{Train, backend_rng, colour_examples, flat, tiny_model, tiny_train};

fn params(t: &Trainer<Train>) -> Vec<f32> {
    flat(t.model())
}

fn trainer(train: &TrainConfig) -> Trainer<Train> {
    let data = DataSource::new(
        vec![(Dataset::AskModelAnything, colour_examples())],
        Stage::Finetune,
        5,
    )
    .unwrap();
    Trainer::new(tiny_model(), train.clone(), data, Default::default()).unwrap()
}

/// Runs `steps` steps on `devices` devices; the metrics and the final parameters.
fn run(train: &TrainConfig, devices: usize, steps: usize) -> (Vec<StepMetrics>, Vec<f32>) {
    let mut t = trainer(train);
    let cpu = burn::backend::ndarray::NdArrayDevice::Cpu;
    t.data_parallel(&vec![cpu; devices - 1]).unwrap();
    assert_eq!(t.devices(), devices);
    let metrics = (0..steps)
        .map(|_| t.train_step().expect("step"))
        .collect::<Vec<_>>();
    let p = params(&t);
    (metrics, p)
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn assert_same_steps(one: &[StepMetrics], many: &[StepMetrics], tol: f64) {
    for (a, b) in one.iter().zip(many) {
        assert!(
            (a.loss - b.loss).abs() <= tol * a.loss.abs().max(1.0),
            "step {}: loss {} (one process) vs {} (peers)",
            a.step,
            a.loss,
            b.loss
        );
        assert!((a.loss_tokens - b.loss_tokens).abs() < 1e-3);
        for g in 0..3 {
            assert!(
                (a.grad_norm[g] - b.grad_norm[g]).abs() <= tol * a.grad_norm[g].max(1.0),
                "step {}: gradient norm of group {g}: {} vs {}",
                a.step,
                a.grad_norm[g],
                b.grad_norm[g]
            );
            assert_eq!(a.params_with_grad[g], b.params_with_grad[g]);
        }
    }
}

#[test]
fn two_peers_take_the_steps_one_process_takes_with_both_micro_batches() {
    let _rng = backend_rng();
    let mut train = tiny_train(Stage::Finetune, 4);
    train.micro_batch = 2;
    train.grad_accum = 2;
    let (one, p1) = run(&train, 1, 4);
    let (two, p2) = run(&train, 2, 4);
    // With two peers the all-reduce adds the same two gradients the accumulator adds.
    assert_same_steps(&one, &two, 1e-6);
    let d = max_diff(&p1, &p2);
    assert!(d <= 1e-6, "parameters differ by {d} after 4 steps");
    // The steps did move the parameters (the comparison is not between two fresh models).
    let fresh = params(&trainer(&train));
    assert!(max_diff(&p1, &fresh) > 1e-3);
}

/// Under loss scaling every peer runs its share at peer 0's scale: from 2^130 (past f32's
/// range: the first steps overflow, are skipped by every peer and halve the scale) two peers
/// take one process's steps, skips, scales and parameters. Peers that ignored the scale
/// would add unscaled gradients to scaled ones.
#[test]
fn peers_skip_and_scale_as_one_process_does() {
    let _rng = backend_rng();
    let mut train = tiny_train(Stage::Finetune, 8);
    train.micro_batch = 2;
    train.grad_accum = 2;
    train.max_skipped_steps = 2;
    train.loss_scale = Some(LossScale::new(2f64.powi(130), 2));
    let (one, p1) = run(&train, 1, 8);
    let (two, p2) = run(&train, 2, 8);
    let skips = |m: &[StepMetrics]| m.iter().map(|m| m.skipped).collect::<Vec<_>>();
    let scales = |m: &[StepMetrics]| m.iter().map(|m| m.loss_scale).collect::<Vec<_>>();
    assert_eq!(skips(&one), skips(&two));
    assert_eq!(scales(&one), scales(&two));
    assert!(skips(&one)[0] && !skips(&one)[7], "{:?}", scales(&one));
    let applied: Vec<StepMetrics> = one.iter().filter(|m| !m.skipped).cloned().collect();
    let applied_two: Vec<StepMetrics> = two.iter().filter(|m| !m.skipped).cloned().collect();
    assert_same_steps(&applied, &applied_two, 1e-6);
    let d = max_diff(&p1, &p2);
    assert!(d <= 1e-6, "parameters differ by {d}");
    assert!(max_diff(&p1, &params(&trainer(&train))) > 1e-4);
}

#[test]
fn three_peers_with_two_micro_batches_each_match_one_process_up_to_rounding() {
    let _rng = backend_rng();
    let mut train = tiny_train(Stage::Finetune, 3);
    train.micro_batch = 1;
    train.grad_accum = 6;
    let (one, p1) = run(&train, 1, 3);
    let (three, p3) = run(&train, 3, 3);
    // Sums in another order: the same up to float rounding.
    assert_same_steps(&one, &three, 1e-4);
    let d = max_diff(&p1, &p3);
    assert!(d <= 1e-4, "parameters differ by {d} after 3 steps");
}

#[test]
fn micro_batches_that_do_not_divide_among_the_devices_are_an_error() {
    let _rng = backend_rng();
    let mut train = tiny_train(Stage::Finetune, 1);
    train.grad_accum = 3;
    let mut t = trainer(&train);
    let cpu = burn::backend::ndarray::NdArrayDevice::Cpu;
    let err = t.data_parallel(&[cpu]).unwrap_err().to_string();
    assert!(err.contains("multiple of 2"), "{err}");
    assert_eq!(t.devices(), 1);
    // Still trains on its own.
    t.train_step().expect("step");
}

#[test]
fn peers_started_from_a_checkpoint_continue_as_the_uninterrupted_run() {
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    let mut train = tiny_train(Stage::Finetune, 4);
    train.micro_batch = 2;
    train.grad_accum = 2;
    let (whole, p_whole) = run(&train, 1, 4);
    let mut a = trainer(&train);
    for _ in 0..2 {
        a.train_step().expect("step");
    }
    a.save_checkpoint(dir.path()).unwrap();
    let data = DataSource::new(
        vec![(Dataset::AskModelAnything, colour_examples())],
        Stage::Finetune,
        5,
    )
    .unwrap();
    let mut b = Trainer::<Train>::resume(dir.path(), data, Default::default()).unwrap();
    // Peer 1 gets peer 0's resumed weights *and* AdamW moments: with fresh moments its
    // steps would differ from peer 0's and the summed run from the uninterrupted one.
    b.data_parallel(&[burn::backend::ndarray::NdArrayDevice::Cpu])
        .unwrap();
    let resumed: Vec<StepMetrics> = (0..2).map(|_| b.train_step().expect("step")).collect();
    assert_same_steps(&whole[2..], &resumed, 1e-5);
    let d = max_diff(&p_whole, &params(&b));
    assert!(d <= 1e-5, "parameters differ by {d}");
}
