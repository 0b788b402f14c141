//! Training on CPU at tiny sizes: loss, gradients, schedules, packing isolation, dropout
//! placement, checkpoints.

use burn::prelude::*;
use pixmo_annotation_schema::Dataset;
use pixmo_trainer::batch::{Batch, collate, pack};
use pixmo_trainer::data::decode_image;
use pixmo_trainer::format::{FormattedText, Stage};
use pixmo_trainer::model::mixed::Compute;
use pixmo_trainer::model::{Molmo, ResidualDropout, loss};
use pixmo_trainer::optim::{Group, apply, split_and_clip};
use pixmo_trainer::preprocess::preprocess;
use pixmo_trainer::tokenizer::Tokenizer;
use pixmo_trainer::train::{DataSource, TrainConfig, Trainer, step_gradients};

use crate::common::{
    Cpu, Train, backend_rng, colour_examples, colour_questions, flat, tiny_model, tiny_train,
};

fn trainer(stage: Stage, steps: u64) -> Trainer<Train> {
    trainer_with(tiny_train(stage, steps))
}

fn trainer_with(train: TrainConfig) -> Trainer<Train> {
    let data = DataSource::new(
        vec![(Dataset::AskModelAnything, colour_examples())],
        train.stage,
        3,
    )
    .unwrap();
    Trainer::new(tiny_model(), train, data, Default::default()).unwrap()
}

#[test]
fn loss_halves_every_group_gets_gradients_and_lrs_follow_the_schedule() {
    let _rng = backend_rng();
    let steps = 14;
    let mut t = trainer(Stage::Finetune, steps);
    let mut losses = Vec::new();
    for step in 0..steps {
        let m = t.train_step().expect("step");
        assert!(m.loss.is_finite(), "step {step}: {}", m.loss);
        for (i, g) in Group::ALL.into_iter().enumerate() {
            let (params, with_grad) = m.params_with_grad[i];
            assert!(
                params > 0 && with_grad == params,
                "{g:?}: {with_grad}/{params} with grads"
            );
            assert!(m.grad_norm[i] > 0.0, "{g:?} has a zero gradient");
            let want = t.train.schedule.lr(g, step);
            assert!((m.lr[i] - want).abs() < 1e-15, "{g:?} lr at {step}");
        }
        losses.push(m.ce);
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    assert!(last <= 0.5 * first, "loss {first} → {last}: {losses:?}");
}

/// `--lr-vit 0`: the ViT is cut out of autodiff. It gets no gradient and never moves, while the
/// connector and decoder get exactly the gradients they get when the ViT trains (same first
/// step), and go on training.
#[test]
fn a_frozen_vit_gets_no_gradient_and_the_other_groups_train_as_before() {
    let _rng = backend_rng();
    let steps = 4;
    let mut live = trainer(Stage::Finetune, steps);
    let mut train = tiny_train(Stage::Finetune, steps);
    train.schedule.vit.peak_lr = 0.0;
    let mut frozen = trainer_with(train);
    let start = flat(frozen.model());
    assert!(start == flat(live.model()), "both runs start from one init");
    let vit_start = flat(&frozen.model().vit);
    let connector_start = flat(&frozen.model().connector);
    let llm_start = flat(&frozen.model().llm);
    let (a, b) = (live.train_step().unwrap(), frozen.train_step().unwrap());
    assert_eq!(a.loss, b.loss, "the forward pass is the same");
    let vit = 1; // Group::ALL order: connector, vit, llm
    assert_eq!(b.grad_norm[vit], 0.0);
    assert_eq!(
        b.params_with_grad[vit].1, 0,
        "no ViT parameter has a gradient"
    );
    assert_eq!(a.params_with_grad[vit].1, a.params_with_grad[vit].0);
    for i in [0, 2] {
        let rel = (a.grad_norm[i] - b.grad_norm[i]).abs() / a.grad_norm[i];
        assert!(
            rel < 1e-6,
            "group {i}: {} vs {}",
            a.grad_norm[i],
            b.grad_norm[i]
        );
        assert_eq!(b.params_with_grad[i], a.params_with_grad[i]);
    }
    for _ in 1..steps {
        let m = frozen.train_step().unwrap();
        assert!(m.grad_norm[0] > 0.0 && m.grad_norm[2] > 0.0);
    }
    assert!(
        flat(&frozen.model().vit) == vit_start,
        "the frozen ViT moved"
    );
    let moved = |a: &[f32], b: &[f32]| a.iter().zip(b).any(|(x, y)| (x - y).abs() > 1e-4);
    assert!(moved(&flat(&frozen.model().connector), &connector_start));
    assert!(moved(&flat(&frozen.model().llm), &llm_start));
}

/// Logits of a two-annotation sequence, and the positions of each annotation.
fn two_annotation_logits(
    model: &Molmo<Cpu>,
    first_answer: &str,
) -> (Vec<f32>, Vec<usize>, Vec<usize>, usize) {
    let config = tiny_model();
    let tok = Tokenizer::new(config.llm.vocab_size);
    let ex = &colour_examples()[2];
    let image = preprocess(&config.vision, &tok, &decode_image(ex).unwrap());
    let texts = [
        FormattedText {
            prompt: " User: first? Assistant:".into(),
            response: format!(" {first_answer}"),
        },
        FormattedText {
            prompt: " User: second? Assistant:".into(),
            response: " It is blue.".into(),
        },
    ];
    let packed = pack(image, &texts, Stage::Finetune, &tok, 512);
    let seg = packed.segments.clone();
    let batch = collate::<Cpu>(&[packed], &config.vision, &Default::default());
    let logits = model.forward(&batch, &ResidualDropout::Off);
    let v = logits.dims()[2];
    let values: Vec<f32> = logits.into_data().to_vec().unwrap();
    let pos = |s: i32| (0..seg.len()).filter(|&i| seg[i] == s).collect::<Vec<_>>();
    (values, pos(1), pos(2), v)
}

/// The head and loss at the loss rows only give the loss of the full logits at the weighted
/// positions: rows, targets and weights stay aligned across sequences of different lengths
/// (padding) and prompts without a loss.
#[test]
fn loss_at_the_loss_rows_equals_the_weighted_loss_of_the_full_logits() {
    let _rng = backend_rng();
    let config = tiny_model();
    let model = Molmo::<Cpu>::new(&config, &Default::default());
    let packed = colour_questions(
        &colour_examples()[..2],
        &[
            " It is red.",
            " A much longer answer about the green colour.",
        ],
    );
    let batch = collate::<Cpu>(&packed, &config.vision, &Default::default());
    let [_, s] = batch.shape;

    let logits = model.forward(&batch, &ResidualDropout::Off);
    let v = logits.dims()[2];
    let values: Vec<f32> = logits.into_data().to_vec().unwrap();
    let (mut want, mut rows) = (0.0f64, 0);
    for (bi, p) in packed.iter().enumerate() {
        for i in 0..p.tokens.len() {
            if p.weights[i] == 0.0 {
                continue;
            }
            rows += 1;
            let row = &values[(bi * s + i) * v..(bi * s + i + 1) * v];
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let lse = f64::from(max)
                + row
                    .iter()
                    .map(|&x| f64::from((x - max).exp()))
                    .sum::<f64>()
                    .ln();
            let target = usize::try_from(p.targets[i]).unwrap();
            want += f64::from(p.weights[i]) * (lse - f64::from(row[target]));
        }
    }
    assert!(rows > 10, "{rows} loss rows");
    assert!(rows < packed.iter().map(|p| p.tokens.len()).sum::<usize>() / 2);
    assert_eq!(batch.loss_rows.dims(), [rows]);

    let (_, ce) = loss(
        model.loss_logits(&batch, &ResidualDropout::Off),
        &batch,
        0.0,
        1.0,
    );
    let got = ce.into_scalar().elem::<f64>();
    assert!(
        (got - want).abs() <= 1e-4 * want.abs(),
        "loss at the loss rows {got}, from the full logits {want}"
    );
}

/// Mixed precision's casts are burn's no-ops when the activations are already in the
/// parameters' dtype: an f32 model asked to compute in f32 computes the bits it computes
/// without the setting (`tests/mixed.rs` checks an f64 model computing in f32).
#[test]
fn computing_in_the_parameters_own_dtype_changes_no_bit() {
    let _rng = backend_rng();
    let config = tiny_model();
    let model = Molmo::<Cpu>::new(&config, &Default::default());
    let packed = colour_questions(&colour_examples()[2..3], &[" It is blue."]);
    let batch = collate::<Cpu>(&packed, &config.vision, &Default::default());
    let logits = |b: &Batch<Cpu>| -> Vec<u32> {
        let v: Vec<f32> = model
            .forward(b, &ResidualDropout::Off)
            .into_data()
            .to_vec()
            .unwrap();
        v.iter().map(|x| x.to_bits()).collect()
    };
    let plain = logits(&batch);
    assert_eq!(plain, logits(&batch.in_compute(Some(Compute::F32))));
}

#[test]
fn changing_one_annotation_does_not_change_another_annotations_logits() {
    let _rng = backend_rng();
    let config = tiny_model();
    let model = Molmo::<Cpu>::new(&config, &Default::default());
    let (a, first_a, second_a, v) = two_annotation_logits(&model, "It is red.");
    let (b, first_b, second_b, _) = two_annotation_logits(&model, "Something much longer here.");
    assert_eq!(second_a.len(), second_b.len());
    let row = |x: &[f32], p: usize| x[p * v..(p + 1) * v].to_vec();
    for (&pa, &pb) in second_a.iter().zip(&second_b) {
        let (ra, rb) = (row(&a, pa), row(&b, pb));
        let diff = ra
            .iter()
            .zip(&rb)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(
            diff < 1e-5,
            "annotation 2 logits moved by {diff} at {pa}/{pb}"
        );
    }
    // The edited annotation's own logits do change once its text differs.
    let last_a = *first_a.last().unwrap();
    let edited = first_a
        .iter()
        .zip(&first_b)
        .take_while(|(p, _)| **p < last_a)
        .any(|(&pa, &pb)| row(&a, pa) != row(&b, pb));
    assert!(edited, "annotation 1 logits should depend on annotation 1");
}

#[test]
fn pretraining_dropout_touches_only_response_positions() {
    let _rng = backend_rng();
    let config = tiny_model();
    let device = Default::default();
    let tok = Tokenizer::new(config.llm.vocab_size);
    let ex = &colour_examples()[0];
    let image = preprocess(&config.vision, &tok, &decode_image(ex).unwrap());
    let texts = [FormattedText {
        prompt: " long_caption 3:".into(),
        response: " A red square.".into(),
    }];
    let packed = pack(image, &texts, Stage::Pretrain, &tok, 512);
    let weights = packed.weights.clone();
    let batch = collate::<Cpu>(&[packed], &config.vision, &device);
    let model = Molmo::<Cpu>::new(&config, &device);
    let train = tiny_train(Stage::Pretrain, 1);

    // The residual branch itself: untouched off-response, 0 or 1/(1−p) on responses.
    <Cpu as Backend>::seed(&device, 5);
    let ones = Tensor::<Cpu, 3>::ones([1, weights.len(), 8], &device);
    let dropped: Vec<f32> = ResidualDropout::Masked(0.5, batch.response_mask.clone())
        .apply(ones)
        .into_data()
        .to_vec()
        .unwrap();
    let mut zeroed = 0;
    for (i, w) in weights.iter().enumerate() {
        for &x in &dropped[i * 8..(i + 1) * 8] {
            if *w > 0.0 {
                assert!(x == 0.0 || x == 2.0, "{x}");
                zeroed += usize::from(x == 0.0);
            } else {
                assert_eq!(x, 1.0, "position {i} is not a response position");
            }
        }
    }
    assert!(zeroed > 0);

    // Whole model: logits before the first response position are unchanged.
    let clean: Vec<f32> = model
        .forward(&batch, &ResidualDropout::Off)
        .into_data()
        .to_vec()
        .unwrap();
    let mut mode = train.dropout_for(&batch);
    if let ResidualDropout::Masked(p, _) = &mut mode {
        *p = 0.5;
    } else {
        panic!("pre-training uses response-only dropout");
    }
    let noisy: Vec<f32> = model.forward(&batch, &mode).into_data().to_vec().unwrap();
    let v = config.llm.vocab_size;
    let first_response = weights.iter().position(|&w| w > 0.0).unwrap();
    for i in 0..first_response {
        assert_eq!(
            clean[i * v..(i + 1) * v],
            noisy[i * v..(i + 1) * v],
            "position {i}"
        );
    }
    assert_ne!(
        clean[first_response * v..(first_response + 1) * v],
        noisy[first_response * v..(first_response + 1) * v]
    );
    // Fine-tuning drops everywhere, so the image positions change too.
    let everywhere: Vec<f32> = model
        .forward(&batch, &ResidualDropout::All(0.5))
        .into_data()
        .to_vec()
        .unwrap();
    assert_ne!(clean[v..2 * v], everywhere[v..2 * v]);
}

#[test]
fn checkpoint_round_trip_resumes_to_the_same_next_step_loss() {
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    let mut train = tiny_train(Stage::Pretrain, 6);
    train.dropout = 0.1;
    train.grad_accum = 2;
    train.micro_batch = 2;
    let data = || {
        DataSource::new(
            vec![(Dataset::AskModelAnything, colour_examples())],
            Stage::Pretrain,
            9,
        )
        .unwrap()
    };
    let mut a =
        Trainer::<Train>::new(tiny_model(), train.clone(), data(), Default::default()).unwrap();
    for _ in 0..3 {
        a.train_step().expect("step");
    }
    a.save_checkpoint(dir.path()).unwrap();
    let next = a.train_step().expect("step");
    let after = a.train_step().expect("step");

    let mut b = Trainer::<Train>::resume(dir.path(), data(), Default::default()).unwrap();
    assert_eq!(b.step, 3);
    assert_eq!(b.train, train);
    let resumed = b.train_step().expect("step");
    let resumed_after = b.train_step().expect("step");
    assert_eq!(resumed.step, next.step);
    assert!(
        (resumed.loss - next.loss).abs() < 1e-6,
        "{} vs {}",
        resumed.loss,
        next.loss
    );
    // The optimiser state came back too: the step after also matches.
    assert!(
        (resumed_after.loss - after.loss).abs() < 1e-5,
        "{} vs {}",
        resumed_after.loss,
        after.loss
    );
}

/// A step whose gradients are not finite (one NaN in the head's gradient) is not taken:
/// [`apply`] hands back the model as it was and leaves the optimiser state alone, so the
/// next finite step is, bit for bit, the one an optimiser that never saw it takes.
#[test]
fn a_step_with_non_finite_gradients_changes_neither_the_model_nor_the_optimiser() {
    let _rng = backend_rng();
    let mut t = trainer(Stage::Finetune, 6);
    t.train_step().expect("step");
    let batches = t.next_batches().unwrap();
    let grads = || step_gradients(t.model(), &batches, &t.train, false).2;
    let max = t.train.max_grad_norm;
    let head = t.model().llm.lm_head.weight.id;
    let mut poisoned = grads();
    let g: Tensor<Cpu, 2> = poisoned.remove(head).expect("the head has a gradient");
    let nan = Tensor::<Cpu, 2>::full([1, 1], f32::NAN, &g.device());
    poisoned.register(head, g.slice_assign([0..1, 0..1], nan));
    let groups = split_and_clip(t.model(), poisoned, max);
    assert!(groups[2].norm.is_nan() && groups[0].norm.is_finite());
    let schedule = t.train.schedule;
    let mut skipping = t.optimizer.clone();
    let mut plain = t.optimizer.clone();
    let (same, applied) = apply(&mut skipping, t.model().clone(), groups, &schedule, 1);
    assert!(!applied);
    assert_eq!(flat(&same), flat(t.model()));
    let finite = || split_and_clip(t.model(), grads(), max);
    let (after_skip, applied_a) = apply(&mut skipping, same, finite(), &schedule, 1);
    let (after, applied_b) = apply(&mut plain, t.model().clone(), finite(), &schedule, 1);
    assert!(applied_a && applied_b);
    assert_ne!(flat(&after), flat(t.model()));
    assert_eq!(flat(&after_skip), flat(&after));
}

/// Examples are prepared on all cores, yet a step's sequences are exactly those of preparing
/// the draws one by one (each `next_packed(1)` call draws one example at a time): same order,
/// same random choices (several annotations, shuffled per draw), same skipped undecodable
/// images and the same sampler position afterwards.
#[test]
fn preparing_on_all_cores_gives_the_sequences_of_one_by_one() {
    let config = tiny_model();
    let tok = config.build_tokenizer().unwrap();
    let mut examples = colour_examples();
    for e in &mut examples {
        let first = e.tasks[0].clone();
        e.tasks = vec![first.clone(), first.clone(), first];
        for (k, t) in e.tasks.iter_mut().enumerate() {
            if let pixmo_trainer::format::Task::Qa { question, .. } = t {
                question.push_str(&format!(" ({k})"));
            }
        }
    }
    let mut broken = examples[0].clone();
    broken.id = "broken".into();
    broken.image = b"not an image".to_vec();
    examples.push(broken.clone());
    examples.push(broken);
    let source = DataSource::new(
        vec![(Dataset::AskModelAnything, examples)],
        Stage::Finetune,
        11,
    )
    .unwrap();
    let (mut all, mut one) = (source.clone(), source);
    let mut skipped = 0;
    for _ in 0..3 {
        let batch = all
            .next_packed(7, Stage::Finetune, &config, &tok, 256, 5)
            .unwrap();
        let singles: Vec<_> = (0..7)
            .flat_map(|_| {
                one.next_packed(1, Stage::Finetune, &config, &tok, 256, 5)
                    .unwrap()
            })
            .collect();
        assert_eq!(format!("{batch:?}"), format!("{singles:?}"));
        assert_eq!(all.state().drawn, one.state().drawn);
        skipped = all.skipped;
    }
    assert_eq!(skipped, one.skipped);
    assert!(skipped > 0, "the undecodable images were drawn");
}

/// Every float parameter's gradient (`None` where it has none), in module order.
struct Gradients<'a>(&'a burn::optim::GradientsParams, Vec<Option<Vec<f32>>>);

impl burn::module::ModuleVisitor<Train> for Gradients<'_> {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<Train, D>>) {
        let grad = self.0.get::<Cpu, D>(param.id);
        self.1
            .push(grad.map(|g| g.into_data().to_vec::<f32>().unwrap()));
    }
}

/// The head and loss in chunks of rows (`--head-chunk`, the logits never kept for the
/// backward pass, the loss's gradients formed per chunk in closed form) give the loss and
/// every gradient of the whole-logits loss through autodiff: a 32k vocabulary, two
/// micro-batches of different lengths, a z-loss large enough to matter, chunks of one row, of
/// three (not dividing the rows) and of more rows than there are. (Parameters whose gradient
/// is zero but for rounding, the attention keys' bias under the softmax's shift invariance,
/// are held to 1e-7.)
#[test]
fn the_head_and_loss_in_chunks_give_the_whole_logits_loss_and_gradients() {
    let _rng = backend_rng();
    let mut config = tiny_model();
    config.llm.vocab_size = 32_768;
    let device = Default::default();
    let model = Molmo::<Train>::new(&config, &device);
    let examples = colour_examples();
    let batches: Vec<Batch<Train>> = [
        colour_questions(&examples[0..2], &[" It is red.", " Green, mostly."]),
        colour_questions(&examples[2..3], &[" A blue square on white."]),
    ]
    .iter()
    .map(|p| collate::<Train>(p, &config.vision, &device))
    .collect();
    let mut train = tiny_train(Stage::Finetune, 4);
    train.z_loss = 0.05;
    let step = |chunk: Option<usize>| {
        let mut t = train.clone();
        t.head_chunk = chunk;
        let (loss, ce, grads) = pixmo_trainer::train::step_gradients(&model, &batches, &t, false);
        let mut g = Gradients(&grads, Vec::new());
        model.visit(&mut g);
        (loss, ce, g.1)
    };
    let (loss, ce, grads) = step(None);
    assert!(loss > ce && ce > 0.0, "loss {loss}, cross-entropy {ce}");
    let rows: usize = batches.iter().map(|b| b.loss_rows.dims()[0]).sum();
    assert!(rows > 6, "{rows} loss rows");
    let mut by_chunk = Vec::new();
    for chunk in [1, 3, rows + 5] {
        let (chunked_loss, chunked_ce, chunked) = step(Some(chunk));
        assert!(
            (chunked_loss - loss).abs() < 1e-5 * loss && (chunked_ce - ce).abs() < 1e-5 * ce,
            "chunk {chunk}: loss {chunked_loss} / {loss}, cross-entropy {chunked_ce} / {ce}"
        );
        assert_eq!(chunked.len(), grads.len());
        for (k, (a, b)) in grads.iter().zip(&chunked).enumerate() {
            let (a, b) = (
                a.as_ref().expect("a gradient"),
                b.as_ref().expect("a gradient"),
            );
            let norm = a.iter().map(|x| x * x).sum::<f32>().sqrt();
            let apart = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f32>()
                .sqrt();
            assert!(
                apart <= 1e-4 * norm + 1e-7,
                "chunk {chunk}: parameter {k}'s gradient {apart} apart (norm {norm})"
            );
        }
        by_chunk.push(chunked);
    }
    // The chunks were taken: the head's gradient summed row by row and over all rows at once
    // round differently (a step that ignored `head_chunk` would give the same bits for both).
    assert!(
        by_chunk[0] != by_chunk[2],
        "chunks of one row and of all rows gave the same bits"
    );
}
