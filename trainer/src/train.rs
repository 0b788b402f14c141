//! The training loop: micro-batches from the mixture, forward with residual dropout,
//! weighted CE + z-loss normalised over the optimiser step, gradient accumulation,
//! per-group clipping and learning rates, JSON-lines metrics and resumable checkpoints.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::optim::{GradientsAccumulator, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;
use pixmo_annotation_schema::Dataset;
use pixmo_core::parallel::parallel_map;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use burn::collective::PeerId;

use crate::batch::{Batch, Packed, collate, pack};
use crate::config::ModelConfig;
use crate::data::{Example, decode_image};
use crate::error::{Error, Result};
use crate::format::{Stage, format_task};
use crate::mixture::{Sampler, SamplerState, pixmo_groups, rates};
use crate::model::head_loss::chunked_head_loss;
use crate::model::mixed::Compute;
use crate::model::{Molmo, ResidualDropout, loss};
use crate::optim::{
    Group, GroupGrads, MolmoOptimizer, Schedule, adamw_with, apply, group_summary,
    split_unscale_and_clip,
};
use crate::parallel::{self, Peers};
use crate::preprocess::preprocess;
use crate::rng::Rng;
use crate::tokenizer::Tokenizer;

/// Training settings; saved with every checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Pre-training or fine-tuning (formatting, dropout placement, loss weights).
    pub stage: Stage,
    /// Optimiser steps.
    pub steps: u64,
    /// Sequences per forward pass.
    pub micro_batch: usize,
    /// Micro-batches per optimiser step (global batch = micro_batch × grad_accum).
    pub grad_accum: usize,
    /// Longest packed sequence.
    pub seq_len: usize,
    /// Seed of data order, formatting choices, dropout and init.
    pub seed: u64,
    /// Per-group gradient-norm limit (≤ 0: none).
    pub max_grad_norm: f64,
    /// z-loss coefficient.
    pub z_loss: f64,
    /// Residual dropout: on response tokens in pre-training, everywhere in fine-tuning.
    pub dropout: f64,
    /// Learning-rate schedules.
    pub schedule: Schedule,
    /// Save a checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    /// Mixed precision: the training forward and backward passes' activations in this dtype,
    /// the parameters, gradients and optimiser state in the backend's (`None`: everything in
    /// the backend's; [`crate::model::mixed`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mixed: Option<Compute>,
    /// AdamW's two moments kept in this dtype between steps (`None`: the parameters'):
    /// [`crate::optim::MolmoAdamW`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moments: Option<Compute>,
    /// The output head and loss this many loss rows at a time, their logits never kept for
    /// the backward pass (`None`: all rows at once, through autodiff):
    /// [`crate::model::head_loss`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_chunk: Option<usize>,
    /// Attention (the decoder's and the ViT's) this many query rows at a time, the scores
    /// never kept for the backward pass (`None`: every row at once, through autodiff):
    /// [`crate::model::attention`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_chunk: Option<usize>,
    /// A run stops (`pixmo-train`: an error) after this many optimiser steps in a row were
    /// skipped for non-finite gradients ([`crate::optim::apply`]); 0: it never stops.
    #[serde(default = "default_max_skipped_steps")]
    pub max_skipped_steps: u64,
    /// Dynamic loss scaling from this initial state (`None`: none): [`LossScale`]. What
    /// `--mixed f16` needs; the run's current scale is the trainer's, saved in checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<LossScale>,
}

/// Dynamic loss scaling, for activations in f16, whose five exponent bits flush gradients
/// below 6e-8 to zero: the loss is multiplied by `scale` before the backward pass, so the
/// gradients flowing through the activations are too, and the parameters' gradients are
/// divided by it before the norms, clipping and the optimiser see them. A step whose
/// gradients overflow (are not finite) is skipped and the scale halved, down to 1 (a skip
/// at 1 counts towards [`TrainConfig::max_skipped_steps`]; skips above it do not);
/// `growth_interval` applied steps in a row double it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossScale {
    /// The factor (a power of two keeps scaling exact).
    pub scale: f64,
    /// Applied steps in a row that double the scale.
    pub growth_interval: u64,
    /// Applied steps in a row since the scale last changed.
    #[serde(default)]
    pub good_steps: u64,
}

impl LossScale {
    /// Scaling from `scale`, doubled every `growth_interval` applied steps in a row.
    #[must_use]
    pub fn new(scale: f64, growth_interval: u64) -> LossScale {
        LossScale {
            scale,
            growth_interval: growth_interval.max(1),
            good_steps: 0,
        }
    }

    /// The usual start for f16 activations: 2^16, doubled after 2,000 clean steps.
    #[must_use]
    pub fn f16() -> LossScale {
        LossScale::new(65_536.0, 2_000)
    }

    /// The scale after a step that was applied or skipped; `true` when a skip happened at
    /// the smallest scale (the gradients are not finite even unscaled).
    pub fn update(&mut self, applied: bool) -> bool {
        if applied {
            self.good_steps += 1;
            if self.good_steps >= self.growth_interval {
                self.scale *= 2.0;
                self.good_steps = 0;
            }
            return false;
        }
        self.good_steps = 0;
        if self.scale > 1.0 {
            self.scale = (self.scale / 2.0).max(1.0);
            false
        } else {
            true
        }
    }
}

/// Most sequences a micro-batch may hold ([`TrainConfig::validate`]): beyond this a
/// micro-batch is taken for a typo rather than allocated.
pub const MAX_MICRO_BATCH: usize = 1 << 16;

/// [`TrainConfig::max_skipped_steps`] of the recipe (and of configs written before it).
fn default_max_skipped_steps() -> u64 {
    5
}

impl TrainConfig {
    /// The recipe: pre-training 22.2k steps of 128 × 2304 tokens; fine-tuning 30k steps of
    /// 256; micro-batch 4 per device.
    #[must_use]
    pub fn recipe(stage: Stage) -> TrainConfig {
        let (steps, global, seed) = match stage {
            Stage::Pretrain => (22_200, 128, 95_818),
            Stage::Finetune => (30_000, 256, 50_189),
        };
        TrainConfig {
            stage,
            steps,
            micro_batch: 4,
            grad_accum: global / 4,
            seq_len: 2304,
            seed,
            max_grad_norm: 1.0,
            z_loss: 1e-4,
            dropout: 0.1,
            schedule: Schedule::recipe(stage, steps),
            checkpoint_every: 1000,
            mixed: None,
            moments: None,
            head_chunk: None,
            attention_chunk: None,
            max_skipped_steps: default_max_skipped_steps(),
            loss_scale: None,
        }
    }

    /// Checks the settings can train a model of `max_position` positions: a micro-batch,
    /// accumulation and sequence of at least 1, 1 and 16 (and the micro-batch at most
    /// [`MAX_MICRO_BATCH`]), sequences no longer than the model's positions, a dropout in
    /// [0, 1), a valid schedule.
    ///
    /// # Errors
    /// When they cannot.
    pub fn validate(&self, max_position: usize) -> Result<()> {
        let fail = |m: String| Err(Error::Config(m));
        if !(1..=MAX_MICRO_BATCH).contains(&self.micro_batch) {
            return fail(format!(
                "the micro-batch is {}; it must be 1 to {MAX_MICRO_BATCH} sequences",
                self.micro_batch
            ));
        }
        if self.grad_accum == 0 {
            return fail("the gradient accumulation is 0; it must be at least 1".into());
        }
        if self.seq_len < 16 {
            return fail(format!(
                "the sequence length is {}; it must be at least 16 tokens",
                self.seq_len
            ));
        }
        if self.seq_len > max_position {
            return fail(format!(
                "the sequence length {} is longer than the model's {max_position} positions",
                self.seq_len
            ));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return fail(format!(
                "the dropout is {}; it must be at least 0 and below 1",
                self.dropout
            ));
        }
        self.schedule.validate()
    }

    /// The dropout mode of a batch.
    pub fn dropout_for<B: Backend>(&self, batch: &Batch<B>) -> ResidualDropout<B> {
        match self.stage {
            Stage::Pretrain => ResidualDropout::Masked(self.dropout, batch.response_mask.clone()),
            Stage::Finetune => ResidualDropout::All(self.dropout),
        }
    }
}

/// Formats, preprocesses and packs one example; `None` when its image cannot be decoded.
#[must_use]
pub fn prepare(
    example: &Example,
    stage: Stage,
    config: &ModelConfig,
    tok: &Tokenizer,
    seq_len: usize,
    rng: &mut Rng,
) -> Option<Packed> {
    let image = decode_image(example).ok()?;
    let input = preprocess(&config.vision, tok, &image);
    let texts: Vec<_> = example
        .tasks_for(stage, rng)
        .iter()
        .map(|t| format_task(t, stage, rng))
        .collect();
    Some(pack(input, &texts, stage, tok, seq_len))
}

/// Examples of several datasets and the sampler over them.
#[derive(Clone, Debug)]
pub struct DataSource {
    datasets: Vec<Vec<Example>>,
    sampler: Sampler,
    /// Examples skipped because their image could not be decoded.
    pub skipped: u64,
    /// The first of them and why (`id: reason`).
    pub first_skipped: Option<String>,
    /// Draws in a row whose image could not be decoded.
    unreadable_in_a_row: u64,
}

impl DataSource {
    /// Fine-tuning draws by the pixmo mixture ([`pixmo_groups`]); pre-training draws
    /// every example equally often. Each dataset's examples are digested in order (on all
    /// cores) for the checkpoints' data position.
    ///
    /// # Errors
    /// When there are no examples.
    pub fn new(data: Vec<(Dataset, Vec<Example>)>, stage: Stage, seed: u64) -> Result<DataSource> {
        let data: Vec<(Dataset, Vec<Example>)> =
            data.into_iter().filter(|(_, e)| !e.is_empty()).collect();
        if data.is_empty() {
            return Err(Error::Config("no training examples".into()));
        }
        let sizes: Vec<(Dataset, usize)> = data.iter().map(|(d, e)| (*d, e.len())).collect();
        #[allow(clippy::cast_precision_loss)]
        let dataset_rates: Vec<(String, f64)> = match stage {
            Stage::Finetune => {
                let all = rates(&pixmo_groups(&sizes));
                sizes
                    .iter()
                    .map(|(d, _)| {
                        let r = all.iter().find(|(n, _)| n == d.name()).map_or(0.0, |x| x.1);
                        (d.name().to_string(), r)
                    })
                    .collect()
            }
            Stage::Pretrain => sizes
                .iter()
                .map(|(d, n)| (d.name().to_string(), *n as f64))
                .collect(),
        };
        let lens: Vec<usize> = sizes.iter().map(|x| x.1).collect();
        let threads = pixmo_core::parallel::cores();
        let digests = data
            .iter()
            .map(|(_, examples)| {
                let mut all = Sha256::new();
                for digest in parallel_map(examples, threads, Example::digest) {
                    all.update(digest);
                }
                format!("{:x}", all.finalize())
            })
            .collect();
        Ok(DataSource {
            sampler: Sampler::new(&dataset_rates, &lens, seed).with_digests(digests),
            datasets: data.into_iter().map(|(_, e)| e).collect(),
            skipped: 0,
            first_skipped: None,
            unreadable_in_a_row: 0,
        })
    }

    /// The next `n` packed sequences. Images are decoded, preprocessed and packed on all
    /// cores; the result is the same as preparing the draws one by one until `n` succeed:
    /// each round draws only as many examples as are still missing, every draw's random
    /// choices come from its own index, and results keep the draw order. An example whose
    /// image cannot be decoded is skipped ([`DataSource::skipped`], the first one's reason in
    /// [`DataSource::first_skipped`]).
    ///
    /// # Errors
    /// When as many draws in a row as there are examples found no decodable image (the data
    /// has none, or almost none: drawing on would never end).
    pub fn next_packed(
        &mut self,
        n: usize,
        stage: Stage,
        config: &ModelConfig,
        tok: &Tokenizer,
        seq_len: usize,
        seed: u64,
    ) -> Result<Vec<Packed>> {
        let examples: usize = self.datasets.iter().map(Vec::len).sum();
        let threads = pixmo_core::parallel::cores();
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let draws: Vec<(u64, usize, usize)> = (out.len()..n)
                .map(|_| {
                    let draw = self.sampler.state().drawn;
                    let (d, i) = self.sampler.next_example();
                    (draw, d, i)
                })
                .collect();
            let datasets = &self.datasets;
            let prepared = parallel_map(&draws, threads, |&(draw, d, i)| {
                let mut rng = Rng::derive(seed ^ 0x5EED, draw);
                prepare(&datasets[d][i], stage, config, tok, seq_len, &mut rng)
            });
            for (p, &(_, d, i)) in prepared.into_iter().zip(&draws) {
                match p {
                    Some(p) => {
                        out.push(p);
                        self.unreadable_in_a_row = 0;
                    }
                    None => {
                        self.skipped += 1;
                        self.unreadable_in_a_row += 1;
                        if self.first_skipped.is_none() {
                            let example = &self.datasets[d][i];
                            let reason = decode_image(example)
                                .err()
                                .map_or_else(|| "not decodable".to_string(), |e| cause(&e));
                            self.first_skipped =
                                Some(format!("{} could not be decoded: {reason}", example.id));
                        }
                    }
                }
            }
            if self.unreadable_in_a_row >= examples.max(1) as u64 {
                return Err(Error::Config(format!(
                    "the last {} examples drawn (as many as there are) have images that cannot \
                     be decoded, {} skipped in all (the first: {}); the training data has no \
                     usable images",
                    self.unreadable_in_a_row,
                    self.skipped,
                    self.first_skipped.as_deref().unwrap_or_default()
                )));
            }
        }
        Ok(out)
    }

    /// Sampler position (saved in checkpoints).
    #[must_use]
    pub fn state(&self) -> &SamplerState {
        self.sampler.state()
    }

    /// Continues from a saved position.
    ///
    /// # Errors
    /// When the position is in other data ([`crate::mixture::Sampler::restore`]).
    pub fn restore(&mut self, state: SamplerState) -> std::result::Result<(), String> {
        self.sampler.restore(state)
    }
}

/// What lies under an error (the image decoder's message under "cannot decode row …").
#[must_use]
pub fn cause(error: &Error) -> String {
    std::error::Error::source(error).map_or_else(|| error.to_string(), ToString::to_string)
}

/// `work`'s result and its wall seconds.
fn timed<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = work();
    (out, start.elapsed().as_secs_f64())
}

/// What one optimiser step did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepMetrics {
    /// Step index (0-based) that was taken.
    pub step: u64,
    /// Total loss (CE + z-loss) of the step.
    pub loss: f64,
    /// Cross-entropy part.
    pub ce: f64,
    /// LR per group.
    pub lr: [f64; 3],
    /// Gradient norm per group before clipping.
    pub grad_norm: [f64; 3],
    /// (parameters, parameters with a gradient) per group.
    pub params_with_grad: [(usize, usize); 3],
    /// Loss tokens (weighted) in the step.
    pub loss_tokens: f64,
    /// Wall seconds.
    pub seconds: f64,
    /// Of `seconds`, those spent preparing the step's data on the host (decode, preprocess,
    /// pack; and collate, except under data parallelism where each peer collates its own).
    #[serde(default)]
    pub data_seconds: f64,
    /// The step's gradients were not finite, so it changed neither the parameters nor the
    /// optimiser state (its data stays drawn and its step number taken).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    /// The loss scale the step ran under ([`LossScale`]; absent without scaling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<f64>,
    /// Examples skipped so far in this process because their image could not be decoded
    /// ([`DataSource::skipped`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub images_skipped: u64,
}

/// For `skip_serializing_if`.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Loss and gradients of micro-batches forming one optimiser step.
pub fn step_gradients<B: AutodiffBackend>(
    model: &Molmo<B>,
    batches: &[Batch<B>],
    train: &TrainConfig,
    dropout: bool,
) -> (f64, f64, GradientsParams) {
    let divisor: f32 = batches.iter().map(|b| b.weight_sum).sum::<f32>();
    step_gradients_over(model, batches, train, dropout, divisor, 1.0)
}

/// [`step_gradients`] of some of a step's micro-batches, normalised by the loss weight of
/// the whole step (`divisor`): a data-parallel peer's share. The backward pass runs from the
/// loss times `loss_scale` ([`LossScale`]), so the gradients are scaled by it (the losses
/// returned are not).
pub fn step_gradients_over<B: AutodiffBackend>(
    model: &Molmo<B>,
    batches: &[Batch<B>],
    train: &TrainConfig,
    dropout: bool,
    divisor: f32,
    loss_scale: f64,
) -> (f64, f64, GradientsParams) {
    let divisor = divisor.max(1e-6);
    let trainable = trainable_view(model, &train.schedule);
    let model = trainable.as_ref().unwrap_or(model);
    let mut accumulator = GradientsAccumulator::<Molmo<B>>::new();
    let (mut total, mut ce_total) = (0.0, 0.0);
    for batch in batches {
        let mode = if dropout {
            train.dropout_for(batch)
        } else {
            ResidualDropout::Off
        };
        let batch = &batch
            .clone()
            .in_compute(train.mixed)
            .with_attention_chunk(train.attention_chunk);
        let (l, ce) = match train.head_chunk {
            Some(chunk) => chunked_head_loss(
                model.loss_hidden(batch, &mode),
                model.llm.lm_head.weight.val(),
                batch,
                train.z_loss,
                divisor,
                chunk,
            ),
            None => loss(
                model.loss_logits(batch, &mode),
                batch,
                train.z_loss,
                divisor,
            ),
        };
        total += l.clone().into_scalar().elem::<f64>();
        ce_total += ce.into_scalar().elem::<f64>();
        #[allow(clippy::float_cmp)]
        let l = if loss_scale == 1.0 { l } else { l * loss_scale };
        let grads = GradientsParams::from_grads(l.backward(), model);
        accumulator.accumulate(model, grads);
    }
    (total, ce_total, accumulator.grads())
}

/// The model as a step's forward pass should see it when some group is frozen (peak LR 0,
/// `--lr-vit 0` say): that group's parameters are cut out of autodiff (`no_grad`, same
/// parameter ids), so its operations are not recorded, its backward pass is skipped where
/// nothing trainable feeds it (a frozen ViT, first in the graph), and its parameters get no
/// gradient, which an LR of zero would leave unchanged anyway. `None` when nothing is frozen.
fn trainable_view<B: AutodiffBackend>(model: &Molmo<B>, schedule: &Schedule) -> Option<Molmo<B>> {
    let frozen = Group::ALL.map(|g| schedule.frozen(g));
    if !frozen.contains(&true) {
        return None;
    }
    let mut view = model.clone();
    for (group, frozen) in Group::ALL.into_iter().zip(frozen) {
        if frozen {
            match group {
                Group::Vit => view.vit = view.vit.no_grad(),
                Group::Connector => view.connector = view.connector.no_grad(),
                Group::Llm => view.llm = view.llm.no_grad(),
            }
        }
    }
    Some(view)
}

/// Model, optimiser, data and position of a training run.
pub struct Trainer<B: AutodiffBackend> {
    /// The model; `None` only while an optimiser step consumes it.
    model: Option<Molmo<B>>,
    /// AdamW state.
    pub optimizer: MolmoOptimizer<B>,
    /// Model sizes.
    pub model_config: ModelConfig,
    /// The tokenizer `model_config` names.
    pub tokenizer: Tokenizer,
    /// Training settings.
    pub train: TrainConfig,
    /// Next step to take.
    pub step: u64,
    /// Training data.
    pub data: DataSource,
    device: B::Device,
    /// Data-parallel peers on other devices ([`Trainer::data_parallel`]); this trainer's
    /// model and optimiser are peer 0's.
    peers: Option<Peers>,
    /// Steps skipped in a row for non-finite gradients, up to the last one taken.
    skipped_in_a_row: u64,
    /// The loss scale now (from [`TrainConfig::loss_scale`], or a checkpoint's).
    pub loss_scale: Option<LossScale>,
}

impl<B: AutodiffBackend> Trainer<B> {
    /// A new run from a freshly initialised model (seeded by `train.seed`).
    ///
    /// # Errors
    /// When the model config is invalid or its tokenizer cannot be built.
    pub fn new(
        model_config: ModelConfig,
        train: TrainConfig,
        data: DataSource,
        device: B::Device,
    ) -> Result<Self> {
        model_config.validate()?;
        train.validate(model_config.llm.max_position)?;
        let tokenizer = model_config.build_tokenizer()?;
        B::seed(&device, train.seed);
        let model = Molmo::new(&model_config, &device);
        Ok(Self::with_model(
            model,
            model_config,
            tokenizer,
            train,
            data,
            device,
        ))
    }

    /// A new run from a given model (imported weights, say).
    pub fn with_model(
        model: Molmo<B>,
        model_config: ModelConfig,
        tokenizer: Tokenizer,
        train: TrainConfig,
        data: DataSource,
        device: B::Device,
    ) -> Self {
        let loss_scale = train.loss_scale;
        Trainer {
            model: Some(model),
            optimizer: adamw_with(train.moments),
            model_config,
            tokenizer,
            train,
            step: 0,
            data,
            device,
            peers: None,
            skipped_in_a_row: 0,
            loss_scale,
        }
    }

    /// Data parallelism: one more replica of the model and optimiser state on each of
    /// `devices` (a thread each), their gradients summed with burn's collective all-reduce.
    /// A step's global batch (`micro_batch × grad_accum`) stays what it is; micro-batch `j`
    /// of a step runs on peer `j mod N`, so `grad_accum` must be a multiple of N. Nothing to
    /// do for no devices.
    ///
    /// # Errors
    /// When `grad_accum` does not divide among the peers, data parallelism is already on, or
    /// the peers cannot be started.
    pub fn data_parallel(&mut self, devices: &[B::Device]) -> Result<()> {
        if devices.is_empty() {
            return Ok(());
        }
        let n = devices.len() + 1;
        if self.peers.is_some() {
            return Err(Error::Config("data parallelism is already on".into()));
        }
        if !self.train.grad_accum.is_multiple_of(n) {
            return Err(Error::Config(format!(
                "{n} devices need a number of micro-batches per step that is a multiple of {n}, not {}\nhint: set `--grad-accum` to a multiple of the device count",
                self.train.grad_accum
            )));
        }
        self.peers = Some(Peers::start(
            self.model(),
            &self.optimizer,
            &self.device,
            devices,
            &self.train,
            &self.model_config.vision,
        )?);
        Ok(())
    }

    /// Devices taking part in each step (1 without data parallelism).
    #[must_use]
    pub fn devices(&self) -> usize {
        self.peers.as_ref().map_or(1, Peers::len)
    }

    /// The model.
    ///
    /// # Panics
    /// Never: the model is only taken inside [`Trainer::train_step`].
    #[must_use]
    pub fn model(&self) -> &Molmo<B> {
        self.model.as_ref().expect("model present between steps")
    }

    /// Replaces the model (after importing weights, say).
    pub fn set_model(&mut self, model: Molmo<B>) {
        self.model = Some(model);
    }

    /// The packed micro-batches of the next step (advances the data position).
    ///
    /// # Errors
    /// When the data has no decodable images ([`DataSource::next_packed`]).
    pub fn next_packed_batches(&mut self) -> Result<Vec<Vec<Packed>>> {
        (0..self.train.grad_accum.max(1))
            .map(|_| {
                self.data.next_packed(
                    self.train.micro_batch,
                    self.train.stage,
                    &self.model_config,
                    &self.tokenizer,
                    self.train.seq_len,
                    self.train.seed,
                )
            })
            .collect()
    }

    /// The micro-batches of the next step (advances the data position).
    ///
    /// # Errors
    /// When the data has no decodable images ([`DataSource::next_packed`]).
    pub fn next_batches(&mut self) -> Result<Vec<Batch<B>>> {
        Ok(self
            .next_packed_batches()?
            .iter()
            .map(|packed| collate(packed, &self.model_config.vision, &self.device))
            .collect())
    }

    /// Takes one optimiser step (on every peer under data parallelism).
    ///
    /// # Errors
    /// Only under data parallelism: when a peer fails or a collective operation does.
    pub fn train_step(&mut self) -> Result<StepMetrics> {
        let start = Instant::now();
        let step = self.step;
        // Dropout masks depend only on (seed, step), so a resumed run repeats them (not under
        // data parallelism: the peers' threads draw from one generator in no fixed order).
        B::seed(&self.device, Rng::derive(self.train.seed, step).next_u64());
        if let Some(peers) = self.peers.take() {
            let out = self.parallel_step(&peers, start);
            self.peers = Some(peers);
            return out;
        }
        let (batches, data_seconds) = timed(|| self.next_batches());
        let batches = batches?;
        let loss_tokens: f32 = batches.iter().map(|b| b.weight_sum).sum();
        let scale = self.scale();
        let (loss, ce, grads) = step_gradients_over(
            self.model(),
            &batches,
            &self.train,
            true,
            loss_tokens,
            scale,
        );
        let groups = split_unscale_and_clip(self.model(), grads, self.train.max_grad_norm, scale);
        Ok(self.apply_step(groups, (loss, ce), loss_tokens, start, data_seconds))
    }

    /// The factor the next step's loss is multiplied by (1 without loss scaling).
    fn scale(&self) -> f64 {
        self.loss_scale.map_or(1.0, |s| s.scale)
    }

    /// The optimiser step with clipped group gradients, and its metrics.
    fn apply_step(
        &mut self,
        groups: Vec<GroupGrads>,
        (loss, ce): (f64, f64),
        loss_tokens: f32,
        start: Instant,
        data_seconds: f64,
    ) -> StepMetrics {
        let step = self.step;
        let (grad_norm, params_with_grad) = group_summary(&groups);
        let lr = Group::ALL.map(|g| self.train.schedule.lr(g, step));
        let model = self.model.take().expect("model present between steps");
        let (model, applied) = apply(
            &mut self.optimizer,
            model,
            groups,
            &self.train.schedule,
            step,
        );
        self.model = Some(model);
        let scale = self.loss_scale.map(|s| s.scale);
        let counts = self
            .loss_scale
            .as_mut()
            .map_or(!applied, |s| s.update(applied));
        self.skipped_in_a_row = if applied {
            0
        } else {
            self.skipped_in_a_row + u64::from(counts)
        };
        self.step += 1;
        StepMetrics {
            step,
            loss,
            ce,
            lr,
            grad_norm,
            params_with_grad,
            loss_tokens: f64::from(loss_tokens),
            seconds: start.elapsed().as_secs_f64(),
            data_seconds,
            skipped: !applied,
            loss_scale: scale,
            images_skipped: self.data.skipped,
        }
    }

    /// Optimiser steps skipped in a row for non-finite gradients, up to the last step taken
    /// (0 when that step was applied).
    #[must_use]
    pub fn skipped_in_a_row(&self) -> u64 {
        self.skipped_in_a_row
    }

    /// [`TrainConfig::max_skipped_steps`] reached: the run has diverged.
    #[must_use]
    pub fn diverged(&self) -> bool {
        self.train.max_skipped_steps > 0 && self.skipped_in_a_row >= self.train.max_skipped_steps
    }

    fn parallel_step(&mut self, peers: &Peers, start: Instant) -> Result<StepMetrics> {
        let step = self.step;
        let (packed, data_seconds) = timed(|| self.next_packed_batches());
        let packed = packed?;
        let divisor = parallel::weight_sum(&packed);
        let scale = self.scale();
        let own = peers.dispatch(step, packed, divisor, scale);
        let mine = parallel::peer_gradients(
            PeerId::from(0u32),
            self.model(),
            &self.device,
            &own,
            (divisor, scale),
            &self.train,
            &self.model_config.vision,
        );
        let others = peers.collect();
        let (groups, mine) = mine?;
        let report = parallel::combine(mine, &others?);
        Ok(self.apply_step(
            groups,
            (report.loss, report.ce),
            divisor,
            start,
            data_seconds,
        ))
    }

    /// Saves model, optimiser, configs and data position under `dir`, whole or not at all:
    /// the files are written and synced in a folder beside it, which then takes the place
    /// of `dir` ([`pixmo_shards::replace_dir`]), so a failed save (a full disk) leaves the checkpoint that
    /// was there.
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn save_checkpoint(&self, dir: &Path) -> Result<()> {
        pixmo_shards::replace_dir(dir, |tmp| {
            let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
            let fail = |m: String| Error::Checkpoint {
                path: dir.to_path_buf(),
                message: m,
            };
            self.model()
                .clone()
                .save_file(tmp.join("model"), &recorder)
                .map_err(|e| fail(format!("cannot save the model: {e}")))?;
            recorder
                .record(self.optimizer.to_record(), tmp.join("optimizer"))
                .map_err(|e| fail(format!("cannot save the optimiser: {e}")))?;
            // One core each (SHA-256 runs at ~1.8 GB/s a core).
            let digests = std::thread::scope(|s| {
                let running: Vec<_> = TENSOR_FILES
                    .iter()
                    .map(|name| s.spawn(move || FileDigest::of(&tmp.join(name))))
                    .collect();
                running
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(Error::Config("a checkpoint digest thread failed".into()))
                        })
                    })
                    .collect::<Result<Vec<_>>>()
            })?;
            let files: BTreeMap<String, FileDigest> = TENSOR_FILES
                .iter()
                .map(ToString::to_string)
                .zip(digests)
                .collect();
            let state = CheckpointState {
                files: Some(files),
                step: self.step,
                sampler: self.data.state().clone(),
                model: self.model_config.clone(),
                train: self.train.clone(),
                loss_scale: self.loss_scale,
            };
            let json = serde_json::to_vec_pretty(&state).map_err(|e| fail(e.to_string()))?;
            let path = tmp.join("state.json");
            std::fs::write(&path, json).map_err(|e| Error::io("write", &path, e))
        })
    }

    /// Continues a run from a checkpoint written by [`Trainer::save_checkpoint`].
    ///
    /// # Errors
    /// When the checkpoint cannot be read or does not fit.
    pub fn resume(dir: &Path, data: DataSource, device: B::Device) -> Result<Self> {
        let state = read_state(dir)?;
        let model = load_model::<B>(dir, &state, &device)?;
        state
            .train
            .validate(state.model.llm.max_position)
            .map_err(|e| Error::Checkpoint {
                path: dir.to_path_buf(),
                message: format!("its `state.json` holds settings that cannot train: {e}"),
            })?;
        check_file(dir, &state, "optimizer.mpk")?;
        let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
        let record =
            recorder
                .load(dir.join("optimizer"), &device)
                .map_err(|e| Error::Checkpoint {
                    path: dir.to_path_buf(),
                    message: format!("cannot load the optimiser: {e}{DAMAGED}"),
                })?;
        let tokenizer = state.model.build_tokenizer()?;
        let mut trainer =
            Trainer::with_model(model, state.model, tokenizer, state.train, data, device);
        trainer.optimizer = trainer.optimizer.load_record(record);
        trainer.step = state.step;
        trainer.loss_scale = state.loss_scale.or(trainer.loss_scale);
        trainer
            .data
            .restore(state.sampler)
            .map_err(|message| Error::Checkpoint {
                path: dir.to_path_buf(),
                message,
            })?;
        Ok(trainer)
    }
}

/// What a checkpoint stores besides the tensors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Next step.
    pub step: u64,
    /// Data position.
    pub sampler: SamplerState,
    /// Model sizes.
    pub model: ModelConfig,
    /// Training settings.
    pub train: TrainConfig,
    /// The loss scale reached ([`LossScale`]; absent without scaling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<LossScale>,
    /// Each tensor file's length and SHA-256 (`model.mpk`, `optimizer.mpk`), checked before
    /// it is loaded; absent from checkpoints saved before they were recorded (present, a
    /// missing entry is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<BTreeMap<String, FileDigest>>,
}

/// The tensor files of a checkpoint, as burn's recorder names them.
const TENSOR_FILES: [&str; 2] = ["model.mpk", "optimizer.mpk"];

/// A file's length and SHA-256, as a checkpoint's `state.json` records them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Length in bytes.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

impl FileDigest {
    /// Measures `path`.
    ///
    /// # Errors
    /// When it cannot be read.
    pub fn of(path: &Path) -> Result<FileDigest> {
        let bytes = std::fs::metadata(path)
            .map_err(|e| Error::io("read", path, e))?
            .len();
        Ok(FileDigest {
            bytes,
            sha256: pixmo_shards::hash_file(path)?,
        })
    }
}

/// The SHA-256 of each tensor file this process has hashed, by path, length and
/// modification time ([`check_file`]).
type Stamp = (PathBuf, u64, Option<std::time::SystemTime>);
static HASHED: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<Stamp, String>>> =
    std::sync::LazyLock::new(Default::default);

/// Refuses a checkpoint's tensor file that is not a regular file, or not the one its save
/// recorded (cut short, damaged, or another run's file of the same shapes put in its place),
/// before burn reads it; in a checkpoint without records only the kind of file is checked.
fn check_file(dir: &Path, state: &CheckpointState, name: &str) -> Result<()> {
    let fail = |message: String| Error::Checkpoint {
        path: dir.to_path_buf(),
        message,
    };
    let path = dir.join(name);
    let meta = std::fs::metadata(&path).map_err(|e| Error::io("read", &path, e))?;
    // Before a byte is read, digests recorded or not: a folder, a device (`/dev/zero` never
    // ends) or a pipe is no checkpoint file, and a file of another length not the one the
    // save wrote.
    if !meta.is_file() {
        return Err(fail(format!(
            "`{name}` is not a regular file (a folder, a device or a pipe){ELSEWHERE}"
        )));
    }
    let Some(files) = &state.files else {
        return Ok(());
    };
    let Some(saved) = files.get(name) else {
        return Err(fail(format!(
            "its `state.json` records digests but none of `{name}`: the record is damaged{ELSEWHERE}"
        )));
    };
    let well_formed = saved.sha256.len() == 64
        && saved
            .sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed {
        return Err(fail(format!(
            "its `state.json` records no SHA-256 of `{name}` (64 lowercase hex digits) but {:?}: \
             the record is damaged{ELSEWHERE}",
            short(&saved.sha256)
        )));
    }
    if meta.len() != saved.bytes {
        return Err(fail(format!(
            "`{name}` is {} bytes, its save wrote {} (`state.json`): cut short, damaged or \
             replaced since{ELSEWHERE}",
            meta.len(),
            saved.bytes
        )));
    }
    // A file this process has hashed already, unchanged since (length and modification
    // time), is not hashed again: `--auto-resume` checks the checkpoint it picks, then
    // loads it.
    let stamp = (path.clone(), meta.len(), meta.modified().ok());
    let hashed = HASHED.lock().ok().and_then(|m| m.get(&stamp).cloned());
    let sha256 = match hashed {
        Some(sha) => sha,
        None => {
            let sha = pixmo_shards::hash_file(&path)?;
            if let Ok(mut m) = HASHED.lock() {
                m.insert(stamp, sha.clone());
            }
            sha
        }
    };
    let found = FileDigest {
        bytes: meta.len(),
        sha256,
    };
    if found.sha256 != saved.sha256 {
        return Err(fail(format!(
            "`{name}` is not the file its save wrote: SHA-256 {} where `state.json` records \
             {} (damaged, or another run's file of the same size){ELSEWHERE}",
            short(&found.sha256),
            short(&saved.sha256)
        )));
    }
    Ok(())
}

/// Checks a checkpoint's tensor files against the lengths and SHA-256 its save recorded
/// (nothing to check in a checkpoint saved before they were recorded).
///
/// # Errors
/// When a file is missing, cut short, damaged or another's.
pub fn verify_checkpoint(dir: &Path, state: &CheckpointState) -> Result<()> {
    for name in TENSOR_FILES {
        check_file(dir, state, name)?;
    }
    Ok(())
}

/// The first 16 characters of a digest (the recorded one is whatever `state.json` holds).
fn short(digest: &str) -> String {
    digest.chars().take(16).collect()
}

/// Where to go from a checkpoint that cannot be loaded.
const ELSEWHERE: &str = " (use another checkpoint, e.g. an earlier `step-N`)";

/// Said after burn's loading errors, which read alike for a file cut short or damaged ("the
/// internal data format has changed since version 0.14.0 …").
const DAMAGED: &str = " (a file cut short or damaged gives this error too: use another \
                       checkpoint, e.g. an earlier `step-N`)";

/// More than any `state.json` this trainer writes (sizes, settings, the data position).
const MAX_STATE_BYTES: u64 = 1 << 30;

/// Reads a checkpoint's `state.json` (a checkpoint that a killed save left moved aside is
/// put back first: [`pixmo_shards::sweep_dead_writers`]).
///
/// # Errors
/// When it is missing or malformed.
pub fn read_state(dir: &Path) -> Result<CheckpointState> {
    if !dir.exists()
        && let Some(parent) = dir.parent()
    {
        // A save killed between the renames of a file system that cannot swap left the
        // checkpoint moved aside: put back.
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        pixmo_shards::sweep_dead_writers(parent)?;
    }
    let path = dir.join("state.json");
    // A pipe in its place would block the read for ever.
    let meta = std::fs::metadata(&path).map_err(|e| Error::io("read", &path, e))?;
    if !meta.is_file() || meta.len() > MAX_STATE_BYTES {
        return Err(Error::Checkpoint {
            path: dir.to_path_buf(),
            message: format!(
                "`state.json` is not a regular file of at most {MAX_STATE_BYTES} bytes (a \
                 folder, a device, a pipe, or {} bytes)",
                meta.len()
            ),
        });
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Checkpoint {
        path: dir.to_path_buf(),
        message: format!("bad `state.json`: {e}"),
    })
}

/// Loads a checkpoint's model, its `model.mpk` first checked against the length and SHA-256
/// its save recorded.
///
/// # Errors
/// When the weights are not the file the save wrote, or do not match the config.
pub fn load_model<B: Backend>(
    dir: &Path,
    state: &CheckpointState,
    device: &B::Device,
) -> Result<Molmo<B>> {
    let config = &state.model;
    let fail = |message: String| Error::Checkpoint {
        path: dir.to_path_buf(),
        message,
    };
    config
        .validate()
        .map_err(|e| fail(format!("its `state.json` describes no valid model: {e}")))?;
    check_file(dir, state, "model.mpk")?;
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    let record: crate::model::MolmoRecord<B> = recorder
        .load(dir.join("model"), device)
        .map_err(|e| fail(format!("cannot load the model: {e}{DAMAGED}")))?;
    let blocks = (record.vit.blocks.len(), record.llm.layers.len());
    if blocks != (config.vit.layers, config.llm.layers) {
        return Err(fail(format!(
            "`model.mpk` holds {} ViT and {} decoder blocks, `state.json` says {} and {}",
            blocks.0, blocks.1, config.vit.layers, config.llm.layers
        )));
    }
    let fresh = Molmo::new(config, device);
    let expected = ParamShapes::of(&fresh);
    let model = fresh.load_record(record);
    let found = ParamShapes::of(&model);
    if found != expected {
        let at = found.0.iter().zip(&expected.0).position(|(a, b)| a != b);
        let detail = at.map_or_else(
            || format!("{} parameters against {}", found.0.len(), expected.0.len()),
            |i| {
                format!(
                    "parameter {i} is {:?} in `model.mpk`, {:?} by `state.json`",
                    found.0[i], expected.0[i]
                )
            },
        );
        return Err(fail(format!(
            "`model.mpk` does not hold the model `state.json` describes: {detail}"
        )));
    }
    Ok(model)
}

/// Every float parameter's shape, in module order.
#[derive(PartialEq, Eq)]
struct ParamShapes(Vec<Vec<usize>>);

impl ParamShapes {
    fn of<B: Backend>(model: &Molmo<B>) -> ParamShapes {
        let mut shapes = ParamShapes(Vec::new());
        model.visit(&mut shapes);
        shapes
    }
}

impl<B: Backend> burn::module::ModuleVisitor<B> for ParamShapes {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<B, D>>) {
        self.0.push(param.val().dims().to_vec());
    }
}

/// Weighted validation cross-entropy (no dropout) over packed sequences, per loss token.
pub fn validation_loss<B: Backend>(
    model: &Molmo<B>,
    config: &ModelConfig,
    packed: &[Packed],
    micro_batch: usize,
    device: &B::Device,
) -> f64 {
    let (mut sum, mut weight) = (0.0, 0.0);
    for chunk in packed.chunks(micro_batch.max(1)) {
        let batch = collate::<B>(chunk, &config.vision, device);
        let w = batch.weight_sum;
        let logits = model.loss_logits(&batch, &ResidualDropout::Off);
        let (_, ce) = loss(logits, &batch, 0.0, 1.0);
        sum += ce.into_scalar().elem::<f64>();
        weight += f64::from(w);
    }
    if weight > 0.0 { sum / weight } else { f64::NAN }
}

/// The lines of a metrics file a run resumed at step `next` keeps ([`MetricsLog::continue_at`]),
/// and how many it drops.
fn lines_before(bytes: &[u8], next: u64) -> (Vec<u8>, usize) {
    let mut kept = Vec::with_capacity(bytes.len());
    let mut dropped = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let whole = line.ends_with(b"\n");
        let record: Option<serde_json::Value> = serde_json::from_slice(line).ok();
        let keep = whole
            && record.is_some_and(
                |r| match r.get("step").and_then(serde_json::Value::as_u64) {
                    Some(step) if r.get("eval").is_some() => step <= next,
                    Some(step) => step < next,
                    None => true,
                },
            );
        if keep {
            kept.extend_from_slice(line);
        } else if !line.iter().all(u8::is_ascii_whitespace) {
            dropped += 1;
        }
    }
    (kept, dropped)
}

/// Appends JSON lines to a metrics file.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsLog {
    /// Opens (appending) `path`.
    ///
    /// # Errors
    /// When it cannot be opened.
    pub fn open(path: &Path) -> Result<MetricsLog> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io("open", path, e))?;
        Ok(MetricsLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Opens `path` to go on from step `next` (a run resumed from a checkpoint of that step):
    /// the lines it holds of later steps (logged after the checkpoint, before the run stopped:
    /// they are logged again) and a line cut short (a run killed while writing it) are
    /// dropped, the rest rewritten whole ([`pixmo_shards::atomic_write`]). A training line
    /// of 0-based step `k` is kept when `k < next`, an evaluation line (`"eval"`, logged
    /// after its checkpoint) when its `step <= next`; lines of neither kind are kept. Returns
    /// the log and how many lines were dropped.
    ///
    /// # Errors
    /// When the file cannot be read or rewritten.
    pub fn continue_at(path: &Path, next: u64) -> Result<(MetricsLog, usize)> {
        let dropped = match std::fs::read(path) {
            Ok(bytes) => {
                let (kept, dropped) = lines_before(&bytes, next);
                if dropped > 0 {
                    pixmo_shards::atomic_write(path, &kept)?;
                }
                dropped
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(Error::io("read", path, e)),
        };
        Ok((MetricsLog::open(path)?, dropped))
    }

    /// Writes one record as a line.
    ///
    /// # Errors
    /// When the write fails.
    pub fn write(&mut self, record: &serde_json::Value) -> Result<()> {
        writeln!(self.file, "{record}").map_err(|e| Error::io("write", &self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::lines_before;

    #[test]
    fn a_resumed_log_keeps_the_lines_up_to_its_checkpoint_and_drops_a_line_cut_short() {
        let log = concat!(
            "{\"step\":0,\"loss\":2.0}\n",
            "{\"step\":1,\"loss\":1.5}\n",
            "{\"step\":2,\"eval\":{\"clocks\":4}}\n",
            "{\"note\":\"no step\"}\n",
            "{\"step\":2,\"loss\":1.2}\n",
            "{\"step\":3,\"eval\":{\"clocks\":4}}\n",
            "{\"step\":3,\"lo",
        );
        let (kept, dropped) = lines_before(log.as_bytes(), 2);
        let kept = String::from_utf8(kept).unwrap();
        assert_eq!(
            kept,
            concat!(
                "{\"step\":0,\"loss\":2.0}\n",
                "{\"step\":1,\"loss\":1.5}\n",
                "{\"step\":2,\"eval\":{\"clocks\":4}}\n",
                "{\"note\":\"no step\"}\n",
            )
        );
        assert_eq!(dropped, 3);
        // A line whose newline was not written is cut short, even when it parses.
        let (kept, dropped) = lines_before(b"{\"step\":0}\n{\"step\":1}", 5);
        assert_eq!((kept.as_slice(), dropped), (&b"{\"step\":0}\n"[..], 1));
    }
}
