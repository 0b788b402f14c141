//! `pixmo-train`: trains Molmo on pixmo shards (`pixmo train ...` runs this binary).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing;
use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::{AutodiffBackend, DeviceId};
use clap::{Args, Parser, Subcommand};
use pixmo_annotation_schema::Dataset;
use pixmo_trainer::augment::Augment;
use pixmo_trainer::bench::BenchSpec;
use pixmo_trainer::config::{ModelConfig, TokenizerConfig};
use pixmo_trainer::data::{Example, load_examples};
use pixmo_trainer::eval::{EvalReport, Prediction, evaluate, predict};
use pixmo_trainer::format::Stage;
use pixmo_trainer::gguf::GgufFile;
use pixmo_trainer::gguf::llama::{import_llama, llm_config};
use pixmo_trainer::import::{HfTensors, import_clip, import_qwen2};
use pixmo_trainer::model::mixed::Compute;
use pixmo_trainer::probe::{Readout, load_vision};
use pixmo_trainer::train::{
    CheckpointState, DataSource, LossScale, MetricsLog, TrainConfig, Trainer, load_model, prepare,
    read_state, validation_loss, verify_checkpoint,
};

#[derive(Parser)]
#[command(
    name = "pixmo-train",
    version,
    about = "Train Molmo on pixmo shards (burn)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Caption pre-training (recipe: 22.2k steps × 128, LRs 2e-4/6e-6/2e-5).
    Pretrain(TrainArgs),
    /// Multitask fine-tuning on the pixmo mixture (recipe: 30k steps × 256).
    Finetune(TrainArgs),
    /// Greedy-decode and score a checkpoint on clock and count examples.
    Eval(EvalArgs),
    /// Training throughput on synthetic batches: tokens/s, TFLOP/s and MFU (JSON).
    Bench(BenchArgs),
    /// Vision-only probe: ViT + connector + a 12-way hour head on clocks (JSON lines).
    Probe(ProbeArgs),
}

#[derive(Args)]
struct ProbeArgs {
    /// Output folder of `pixmo build` with clocks to train on.
    #[arg(long)]
    data: PathBuf,
    /// Output folder with the held-out clocks (default: `--data`).
    #[arg(long)]
    eval_data: Option<PathBuf>,
    /// More held-out clocks (repeatable; each a `pixmo build` output folder, its
    /// `--eval-split`, at most `--eval-count`), scored at every report under `also`, keyed
    /// by the folder's name: one run measures what each pose costs.
    #[arg(long)]
    also_eval: Vec<PathBuf>,
    /// Split to train on.
    #[arg(long, default_value = "train")]
    split: String,
    /// Split to evaluate on.
    #[arg(long, default_value = "val")]
    eval_split: String,
    /// Model preset whose vision side is probed (`tiny`, `small`).
    #[arg(long, default_value = "small")]
    model: String,
    /// Model config JSON (overrides `--model`).
    #[arg(long)]
    model_config: Option<PathBuf>,
    /// Training clocks (at most).
    #[arg(long)]
    limit: Option<usize>,
    /// Held-out clocks (at most).
    #[arg(long, default_value_t = 300)]
    eval_count: usize,
    /// Keep only the central fraction of each image (a stand-in for cropping to the dial).
    #[arg(long, conflicts_with = "dial_crop")]
    centre_crop: Option<f32>,
    /// Crop every image to its dial (a square around the dial's box, `--dial-margin` wider
    /// each side): `truth` takes the box from the renderer's truth beside each clocks folder
    /// (`clock-truth.jsonl`, written by `build_clocks` with `PIXMO_CLOCK_TRUTH`); a folder
    /// (any other value) takes it from a saved probe trained with `--dial-loss` (a locator
    /// seeing whole images). Given again, each further locator refines the boxes: it sees
    /// the previous boxes' crops with the margin it was trained on (a locator trained with
    /// `--dial-crop` of the ones before it).
    #[arg(long)]
    dial_crop: Vec<PathBuf>,
    /// Keep the boxes each `--dial-crop` locator finds in this folder, keyed by a hash of
    /// the clocks' images, the locators' saved files and the model, and read them back on
    /// a later run over the same clocks with the same locators instead of locating again.
    #[arg(long, requires = "dial_crop")]
    box_cache: Option<PathBuf>,
    /// Each `--dial-crop` locator after the first finds each dial K times: in the crop of
    /// the box before it, and in K - 1 crops of that box moved and scaled at random by up
    /// to `--locator-jitter` of its side (each fixed by the seed, the clock and the view);
    /// the K boxes' mean is its box. 1: once.
    #[arg(long, requires = "dial_crop", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    locator_views: u16,
    /// With `--locator-views`: how far each view's box may be moved and scaled, as a
    /// fraction of its longer side.
    #[arg(long, requires = "dial_crop", default_value_t = 0.1)]
    locator_jitter: f32,
    /// Margin of `--dial-crop` on each side, as a fraction of the box's longer side.
    #[arg(long, default_value_t = 0.1)]
    dial_margin: f32,
    /// Move and scale each training clock's `--dial-crop` box at random by up to this
    /// fraction (fixed per clock, from `--seed`): a reader that meets a locator's errors.
    #[arg(long, requires = "dial_crop")]
    dial_jitter: Option<f32>,
    /// Turn each `--dial-crop` crop upright by the rotation the renderer gave its dial (the
    /// scene in `clock-truth.jsonl` beside each clocks folder): what reading costs when the
    /// dial is turned, measured by taking the turn away. Knows the answer's rotation, so it
    /// is a measurement, not a way to read clocks.
    #[arg(long, requires = "dial_crop")]
    truth_upright: bool,
    /// With `--truth-upright`: leave each training crop turned by up to this many degrees
    /// either way from upright (uniform, fixed per clock from `--seed`), so that a reader
    /// meets the few degrees a turn teller leaves. Held-out crops stay upright.
    #[arg(long, requires = "truth_upright")]
    turn_jitter: Option<f32>,
    /// Turn each `--dial-crop` crop upright by how far a saved probe trained with
    /// `--turn-loss` on such crops tells its dial is turned (it sees the unturned crops at
    /// the margin it was trained on). Given more than once, tellers over arcs of the same
    /// number: their arcs' probabilities are averaged before the turn is told.
    #[arg(long, requires = "dial_crop", conflicts_with = "truth_upright")]
    derotate: Vec<PathBuf>,
    /// With `--derotate` a teller over arcs (`--turn-bins`): weigh its arcs by how the
    /// turns are spread among the clocks of this folder (its `clock-truth.jsonl` scenes; the
    /// training clocks, say), for a teller trained on evenly spread turns (`--random-turn`).
    #[arg(long, requires = "derotate")]
    turn_prior: Option<PathBuf>,
    /// With `--turn-prior`: how much the prior counts (its log-odds times this; 0: not at
    /// all, 1: as measured).
    #[arg(long, requires = "turn_prior", default_value_t = 1.0)]
    turn_prior_weight: f32,
    /// With `--derotate` a teller over arcs: offer the held-out crops turned by each of the
    /// teller's K likeliest turns (one per peak of its arcs) to the reader (`--init-probe`,
    /// read as saved: `--steps 0`), and keep the turn whose teller's log-probability plus
    /// `--reader-weight` times the reader's (of the hour and minute it reads) is largest:
    /// the reader, trained on upright crops, checks the turn.
    #[arg(long, requires = "derotate")]
    turn_candidates: Option<usize>,
    /// With `--turn-candidates`: how much the reader's log-probability counts against the
    /// teller's.
    #[arg(long, requires = "turn_candidates", default_value_t = 1.0)]
    reader_weight: f32,
    /// Turn each training clock's `--dial-crop` crop by its own random angle (uniform in
    /// [-180°, 180°), fixed per clock from `--seed`): a turn teller (`--turn-loss`) then meets
    /// dials at every angle, not only the few large turns natural clocks have.
    #[arg(
        long,
        requires = "dial_crop",
        conflicts_with_all = ["truth_upright", "derotate"]
    )]
    random_turn: bool,
    /// Tell how far the dial is turned too: a head predicting the turn's cosine and sine,
    /// this weight on its squared error (needs `clock-truth.jsonl` with each clock's scene
    /// beside the clocks).
    #[arg(long, default_value_t = 0.0)]
    turn_loss: f32,
    /// With `--turn-loss`: tell the turn as one of this many equal arcs of the circle
    /// (cross-entropy on the arc it falls in; 4 to 360) instead of regressing its cosine and
    /// sine: a classifier picks one of two turns an image could have where a regression
    /// tells their mean.
    #[arg(long)]
    turn_bins: Option<usize>,
    /// Locate the dial too: a head predicting its box, this weight on its squared error
    /// (needs `clock-truth.jsonl` beside the training clocks).
    #[arg(long, default_value_t = 0.0)]
    dial_loss: f32,
    /// How the dial is located with `--dial-loss`: `linear` (a linear head over the readout's
    /// features regresses the box) or `heatmap` (the global crop's tokens scored by shared
    /// weights, a soft arg-max of their places).
    #[arg(long, default_value = "linear")]
    locator: pixmo_trainer::probe::Locator,
    /// Weight of the time's loss (hour, and minute with `--minutes`); 0 with `--dial-loss`
    /// trains a locator alone.
    #[arg(long, default_value_t = 1.0)]
    read_loss: f32,
    /// Augment each training image afresh each time it is drawn into a batch: turn it about
    /// its centre by up to this many degrees either way (uniform; a reader's option: refused
    /// with `--dial-loss` or `--turn-loss`). Held-out clocks are never augmented.
    #[arg(long, default_value_t = 0.0)]
    augment_turn: f32,
    /// With the augmentation: scale each training image by a factor in [1 - F, 1 + F].
    #[arg(long, default_value_t = 0.0)]
    augment_scale: f32,
    /// With the augmentation: move each training image by up to this fraction of its side
    /// along each axis.
    #[arg(long, default_value_t = 0.0)]
    augment_shift: f32,
    /// With the augmentation: change each training image's contrast by a factor in
    /// [1 - F, 1 + F], its brightness by up to F / 2 and each channel's gain by a factor in
    /// [1 - F / 2, 1 + F / 2].
    #[arg(long, default_value_t = 0.0)]
    augment_colour: f32,
    /// Read each clock's hour from the hour head and the minute head together: the hour
    /// whose hand, at the minute read, stands where the hour head most expects it (a hand
    /// near the end of its hour's arc is not taken for the next hour). Needs `--minutes`.
    #[arg(long, requires = "minutes")]
    hour_by_minute: bool,
    /// Read each clock's hour and minute together: the time whose minute (the minute
    /// head's) and hour hand (the hand head's arcs, else the hour head's) are likeliest
    /// together, rather than the minute head's argmax and then the hour. Comes before
    /// `--hour-by-minute`. Needs `--minutes`.
    #[arg(long, requires = "minutes")]
    joint: bool,
    /// With `--joint`: take this much log-probability off a time whose hands lie within
    /// 3 minutes of each other (a reader unsure which hand is which reads such times too
    /// often).
    #[arg(long, requires = "joint", default_value_t = 0.0)]
    overlap_discount: f32,
    /// Read each clock K ways and average what the heads make of them (test-time
    /// augmentation): as it is, and K - 1 draws within the `--augment-*` bounds (each fixed
    /// by the seed, the clock's place and the view). Scores and predictions are read so;
    /// 1: as it is.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    views: u16,
    /// With `--derotate` a teller over arcs: tell each held-out clock's turn from K views
    /// of it (as it is, and K - 1 draws within the `--augment-*` bounds but unturned),
    /// averaging the arcs' probabilities. 1: as it is.
    #[arg(long, requires = "derotate", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    teller_views: u16,
    /// With `--derotate` a teller over arcs: tell each held-out clock's turn from each of
    /// its `--teller-views` turned K ways evenly round the circle too (4: by 0°, 90°, 180°
    /// and 270°), each view's arcs turned back by its turn before the arcs' probabilities
    /// are averaged. 1: unturned.
    #[arg(long, requires = "derotate", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=36))]
    teller_spins: u16,
    /// Train a head telling where the hour hand points, as one of this many equal arcs of
    /// the dial (4 to 720; 60: 6° each), beside the hour head: its target is fixed by the
    /// hour and minute together, so a hand near the end of its hour is not the next hour's.
    /// `--hour-by-minute` then reads the hour from it. Needs `--minutes`; a saved probe with
    /// one (`--init-probe`) is continued with the same number, which this may leave out.
    #[arg(long, requires = "minutes")]
    hand_bins: Option<usize>,
    /// Optimiser steps.
    #[arg(long, default_value_t = 500)]
    steps: u64,
    /// Images per step.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// The rate of the last step: after the warmup the rate falls from `--lr` to this along
    /// half a cosine (without it, `--lr` is held to the end).
    #[arg(long)]
    lr_end: Option<f64>,
    /// Curriculum: clocks to train on first (a `pixmo build` output folder, e.g. upright
    /// clocks from `pose = "upright"`), for `--first-steps` steps, before `--data`.
    #[arg(long, requires = "first_steps")]
    first_data: Option<PathBuf>,
    /// Steps on `--first-data` before `--data`.
    #[arg(long, requires = "first_data")]
    first_steps: Option<u64>,
    /// Gradual curriculum: over the `--first-steps`, each image comes from `--first-data`
    /// with a probability falling linearly from 1 to 0 (else from `--data`), instead of
    /// switching at once.
    #[arg(long, requires = "first_data")]
    gradual: bool,
    /// Read the minute too: a 60-way minute head beside the hour head (reports `test_close`,
    /// the share read within 3 minutes).
    #[arg(long)]
    minutes: bool,
    /// How the heads read the pooled image tokens: `concat` (every token's feature, a weight
    /// per position), `mean` (their mean: the vision side learns to make the time visible to
    /// an evenly spread attention, what a fresh decoder starts with) or `attention` (4 learned
    /// queries attend over the tokens: the same weights read a feature wherever it is).
    #[arg(long, default_value = "concat")]
    readout: Readout,
    /// Shorthand for `--readout mean`.
    #[arg(long, conflicts_with = "readout")]
    mean_readout: bool,
    /// Start from a probe saved with `--save` (its ViT, connector and heads; fresh Adam and
    /// warmup) instead of a random init: the next phase of a curriculum that widens the pose.
    #[arg(long)]
    init_probe: Option<PathBuf>,
    /// Start from the ViT and connector of a probe saved with `--save`, under fresh heads of
    /// this run's `--readout` and `--minutes` (what another readout makes of its features).
    #[arg(long, conflicts_with = "init_probe")]
    init_vision: Option<PathBuf>,
    /// Save the trained probe here (`probe.mpk`, `probe.json`): fine-tuning can start its
    /// ViT and connector from it (`finetune --init-vision DIR`).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Write what the trained probe reads from each held-out clock here, as JSON lines
    /// (`id`, `hour`, `minute`, `gold` `[hour, minute]`, `hour_right`, `close`, `dial_iou`,
    /// `turn`, `turn_error`, and `turn_left`: how far the dial is still turned in the crop the
    /// probe saw, after `--derotate` say), `hour_p` (the hour head's 12 probabilities),
    /// `hand_p` (those of the arcs where the hour hand points: the hand head's, else the
    /// hour head's 12) and `minute_p` (the minute head's 60, with one): for splitting a
    /// score by the clocks' pose (`trainer/bench/by_pose.py`) or trying another way of
    /// reading the heads (`trainer/bench/joint_read.py`).
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Evaluate every N steps.
    #[arg(long, default_value_t = 50)]
    eval_every: u64,
    /// Device.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Dtype {
    /// 32-bit floats everywhere (what `pretrain`/`finetune` use).
    F32,
    /// bfloat16 everywhere (CUDA only; weights and optimiser state too, no f32 master copy).
    Bf16,
    /// Mixed precision (CUDA only): bfloat16 activations, f32 parameters, gradients and
    /// optimiser state (`--mixed bf16` of `pretrain`/`finetune`).
    Mixed,
}

#[derive(Args)]
struct BenchArgs {
    /// Model preset (`molmo-7b-d`, `small`, `tiny`).
    #[arg(long, default_value = "molmo-7b-d")]
    model: String,
    /// Model config JSON (overrides `--model`).
    #[arg(long)]
    model_config: Option<PathBuf>,
    /// Keep only this many LLM blocks (a layer-sliced proxy at full width).
    #[arg(long)]
    llm_layers: Option<usize>,
    /// Keep only this many ViT blocks.
    #[arg(long)]
    vit_layers: Option<usize>,
    /// Device.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceKind,
    /// Float type.
    #[arg(long, value_enum, default_value = "f32")]
    dtype: Dtype,
    /// Sequences per micro-batch.
    #[arg(long, default_value_t = 4)]
    micro_batch: usize,
    /// Micro-batches per step.
    #[arg(long, default_value_t = 1)]
    grad_accum: usize,
    /// Sequence length.
    #[arg(long, default_value_t = 2304)]
    seq_len: usize,
    /// Side of the square synthetic images (1008 px gives Molmo's 12 crops + global).
    #[arg(long, default_value_t = 1008)]
    image_px: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 2)]
    warmup_steps: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Peak dense TFLOP/s for MFU (989: H100/H200 SXM bf16 dense).
    #[arg(long, default_value_t = 989.0)]
    peak_tflops: f64,
    /// bf16 on CUDA without burn's kernel fusion (builds with `--features cuda-fused` only:
    /// measures fusion on its own, autotuning stays on).
    #[arg(long)]
    no_fusion: bool,
    /// burn's balanced activation checkpointing (memory-bound operations are recomputed in
    /// the backward pass instead of kept), with any `--dtype`.
    #[arg(long, conflicts_with = "no_fusion")]
    checkpointing: bool,
    /// AdamW's moments kept in this dtype between steps (`--moments` of `pretrain`).
    #[arg(long, value_enum)]
    moments: Option<Compute>,
    /// The output head and loss this many loss rows at a time (`--head-chunk` of `pretrain`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    head_chunk: Option<u32>,
    /// Attention this many query rows at a time (`--attention-chunk` of `pretrain`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    attention_chunk: Option<u32>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum DeviceKind {
    /// ndarray on the CPU.
    Cpu,
    /// burn-cuda (build with `--features cuda`).
    Cuda,
}

#[derive(Args)]
struct TrainArgs {
    /// Output folder of `pixmo build` (holds `<dataset>/<split>/part-*.parquet`).
    #[arg(long)]
    data: PathBuf,
    /// Datasets to train on (default: `cap` for pretrain, every one found for finetune).
    #[arg(long, value_delimiter = ',')]
    datasets: Vec<String>,
    /// Split to train on.
    #[arg(long, default_value = "train")]
    split: String,
    /// Split to evaluate on.
    #[arg(long, default_value = "val")]
    eval_split: String,
    /// Run folder (metrics.jsonl, checkpoints/).
    #[arg(long, default_value = "runs/molmo")]
    out: PathBuf,
    /// Model preset (`molmo-7b-d`, `small`, `tiny`; default `molmo-7b-d`).
    #[arg(long, conflicts_with = "resume")]
    model: Option<String>,
    /// Model config JSON (overrides `--model`).
    #[arg(long, conflicts_with = "resume")]
    model_config: Option<PathBuf>,
    /// Continue from a checkpoint folder, with its model and training settings: the options
    /// that would change them are refused with it (`--init-checkpoint` starts a new run from a
    /// checkpoint's weights). `--head-chunk` and `--checkpoint-every` (memory and bookkeeping,
    /// not the steps) replace the checkpoint's.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// One command line for a run's first start and every restart (a pre-empted or requeued
    /// job): resume from the newest whole checkpoint in `--out` (`last` or the highest
    /// `step-N` whose files are the ones their save wrote) when there is one, else start the
    /// run the other options describe. Resuming, those options must describe the
    /// checkpoint's run (a difference is refused, naming it); `--init-*` weights only start
    /// a run.
    #[arg(long, conflicts_with = "resume")]
    auto_resume: bool,
    /// Start from the weights of a checkpoint folder (a `pretrain` run's `checkpoints/last`:
    /// Molmo's pre-train → fine-tune hand-over; or a fine-tune to go on with other settings)
    /// with a fresh optimiser, schedule and data position. The model sizes and tokenizer are
    /// the checkpoint's.
    #[arg(long, conflicts_with_all = [
        "resume", "model", "model_config", "init_vit", "init_vision", "init_llm", "init_llm_gguf",
    ])]
    init_checkpoint: Option<PathBuf>,
    /// CLIP vision tower safetensors to start from.
    #[arg(long, num_args = 1.., conflicts_with = "resume")]
    init_vit: Vec<PathBuf>,
    /// A vision probe saved by `pixmo-train probe --save DIR` to start the ViT and connector
    /// from (same `--model`/`--model-config` as the probe).
    #[arg(long, conflicts_with_all = ["init_vit", "resume"])]
    init_vision: Option<PathBuf>,
    /// Qwen2 safetensors (every shard) to start from.
    #[arg(long, num_args = 1.., conflicts_with = "resume")]
    init_llm: Vec<PathBuf>,
    /// A llama-layout GGUF decoder to start from (SmolLM2-135M-Instruct Q4_1, say): its
    /// sizes replace the LLM of `--model`/`--model-config`, its BPE tokenizer replaces the
    /// byte tokenizer (and is recorded in every checkpoint); the vision side stays as chosen.
    #[arg(long, conflicts_with_all = ["init_llm", "resume"])]
    init_llm_gguf: Option<PathBuf>,
    /// Device.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceKind,
    /// Optimiser steps (default: the recipe's).
    #[arg(long, conflicts_with = "resume")]
    steps: Option<u64>,
    /// Devices to train on (data parallelism: one model replica per device, gradients summed
    /// with burn's collective all-reduce; CUDA devices 0..N, or N CPU replicas). The global
    /// batch stays `--micro-batch × --grad-accum`, so `--grad-accum` must divide by N.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    devices: u16,
    /// Sequences per forward pass.
    #[arg(long, conflicts_with = "resume")]
    micro_batch: Option<usize>,
    /// Micro-batches per step.
    #[arg(long, conflicts_with = "resume")]
    grad_accum: Option<usize>,
    /// Longest sequence.
    #[arg(long, conflicts_with = "resume")]
    seq_len: Option<usize>,
    /// Seed.
    #[arg(long, conflicts_with = "resume")]
    seed: Option<u64>,
    /// Residual dropout.
    #[arg(long, conflicts_with = "resume")]
    dropout: Option<f64>,
    /// Peak LR of the connector group.
    #[arg(long, conflicts_with = "resume")]
    lr_connector: Option<f64>,
    /// Peak LR of the ViT group.
    #[arg(long, conflicts_with = "resume")]
    lr_vit: Option<f64>,
    /// Peak LR of the LLM group.
    #[arg(long, conflicts_with = "resume")]
    lr_llm: Option<f64>,
    /// Warmup steps of every group.
    #[arg(long, conflicts_with = "resume")]
    warmup: Option<u64>,
    /// Checkpoint every N steps.
    #[arg(long)]
    checkpoint_every: Option<u64>,
    /// Stop with an error after this many optimiser steps in a row were skipped because their
    /// gradients were not finite (NaN or infinite: a diverged run); 0: never stop (default 5).
    /// Skipped steps change neither the parameters nor the optimiser state. With `--resume`
    /// it replaces the checkpoint's setting.
    #[arg(long)]
    max_skipped_steps: Option<u64>,
    /// Mixed precision: activations in this dtype (`bf16` on CUDA), the parameters, their
    /// gradients and the optimiser state in f32 (master weights).
    #[arg(long, value_enum, conflicts_with = "resume")]
    mixed: Option<Compute>,
    /// AdamW's two moments kept in this dtype between steps (`bf16` on CUDA: 4 bytes a
    /// parameter instead of 8); computed in the parameters' dtype each step.
    #[arg(long, value_enum, conflicts_with = "resume")]
    moments: Option<Compute>,
    /// Dynamic loss scaling from this initial factor (a power of two): the loss times it
    /// before the backward pass, the gradients over it after; halved on each step whose
    /// gradients overflow (skipped), doubled after 2,000 clean steps. `--mixed f16` scales
    /// from 65536 unless given; 0 turns scaling off.
    #[arg(long, conflicts_with = "resume", value_parser = loss_scale_arg)]
    loss_scale: Option<f64>,
    /// The output head and loss this many loss rows at a time: the logits (152k classes in
    /// Molmo-7B-D) exist for one chunk at a time and are not kept for the backward pass (the
    /// loss's gradients are formed per chunk in closed form). Same loss, less memory. With
    /// `--resume` it replaces the checkpoint's setting (it changes memory, not the steps).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    head_chunk: Option<u32>,
    /// Attention (decoder and ViT) this many query rows at a time: each block's scores exist
    /// while it is computed and are recomputed in the backward pass from the rows'
    /// log-sum-exps, never kept (the materialised scores are `heads × seq²` per sequence and
    /// layer). Same numbers to rounding, less memory. With `--resume` it replaces the
    /// checkpoint's setting.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    attention_chunk: Option<u32>,
    /// burn's balanced activation checkpointing: memory-bound operations (element-wise ones,
    /// norms' parts) are recomputed in the backward pass instead of kept from the forward
    /// pass. Same numbers, less activation memory, more time.
    #[arg(long)]
    checkpointing: bool,
    /// Stop (and checkpoint) after this many minutes.
    #[arg(long)]
    max_minutes: Option<f64>,
    /// Evaluate every N steps (0: only at the end).
    #[arg(long, default_value_t = 0)]
    eval_every: u64,
    /// Examples per dataset to evaluate on.
    #[arg(long, default_value_t = 200)]
    eval_count: usize,
    /// Use at most this many examples per dataset.
    #[arg(long)]
    limit: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct EvalArgs {
    /// Checkpoint folder.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Output folder of `pixmo build`.
    #[arg(long)]
    data: PathBuf,
    /// Datasets to score.
    #[arg(long, value_delimiter = ',', default_value = "clocks")]
    datasets: Vec<String>,
    /// Split.
    #[arg(long, default_value = "val")]
    split: String,
    /// Examples per dataset.
    #[arg(long, default_value_t = 200)]
    count: usize,
    /// Also write every scored example (id, expected, generated, scores) to this file, one
    /// JSON object per line.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Device.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceKind,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    type CpuTrain = burn::backend::Autodiff<burn::backend::NdArray>;
    let device = match &cli.command {
        Command::Pretrain(a) | Command::Finetune(a) => a.device,
        Command::Eval(a) => a.device,
        Command::Bench(a) => a.device,
        Command::Probe(a) => a.device,
    };
    if let Command::Bench(a) = &cli.command
        && a.no_fusion
        && a.dtype != Dtype::Bf16
    {
        bail!(
            "`--no-fusion` is for the bf16 CUDA bench only\nhint: add `--dtype bf16 --device cuda`"
        );
    }
    if let Command::Bench(a) = &cli.command
        && a.dtype == Dtype::Bf16
    {
        return match device {
            DeviceKind::Cpu => bail!(
                "`--dtype bf16` runs on CUDA only\nhint: add `--device cuda`, or drop `--dtype`"
            ),
            DeviceKind::Cuda => bench_cuda_bf16(a),
        };
    }
    // burn's ndarray computes in f32 and f64 only.
    let half = |m: Option<Compute>| matches!(m, Some(Compute::Bf16 | Compute::F16));
    let mixed_on_cpu = match &cli.command {
        Command::Pretrain(a) | Command::Finetune(a) => half(a.mixed) || half(a.moments),
        Command::Bench(a) => a.dtype == Dtype::Mixed || half(a.moments),
        _ => false,
    };
    if mixed_on_cpu && matches!(device, DeviceKind::Cpu) {
        bail!(
            "mixed precision in bf16 or f16 runs on CUDA only (the CPU backend computes in f32)\nhint: add `--device cuda`, or drop `--mixed` / `--moments` / `--dtype mixed`"
        );
    }
    let checkpointing = match &cli.command {
        Command::Pretrain(a) | Command::Finetune(a) => a.checkpointing,
        Command::Bench(a) => a.checkpointing,
        _ => false,
    };
    match (device, checkpointing) {
        (DeviceKind::Cpu, false) => run::<CpuTrain>(cli, Default::default()),
        (DeviceKind::Cpu, true) => run_checkpointed::<CpuCheckpointed>(cli, Default::default()),
        (DeviceKind::Cuda, _) => run_cuda(cli, checkpointing),
    }
}

type CpuCheckpointed = burn::backend::Autodiff<burn::backend::NdArray, BalancedCheckpointing>;

/// Checks that a CUDA device answers (a one-element tensor round trip), turning the
/// backend's panic on a machine without a driver or GPU into an error.
#[cfg(feature = "cuda")]
fn probe_cuda() -> anyhow::Result<()> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::panic::catch_unwind(|| {
        let device = burn::backend::cuda::CudaDevice::default();
        Tensor::<burn::backend::Cuda, 1>::zeros([1], &device)
            .into_data()
            .to_vec::<f32>()
            .map(|v| v.len())
    });
    std::panic::set_hook(previous);
    match probe {
        Ok(Ok(1)) => Ok(()),
        _ => bail!(
            "No usable CUDA device: the CUDA driver (libcuda), NVRTC or a GPU is missing\nhint: run on a machine with an NVIDIA GPU and driver, with NVRTC on `LD_LIBRARY_PATH`, or use `--device cpu`"
        ),
    }
}

#[cfg(feature = "cuda")]
fn run_cuda(cli: Cli, checkpointing: bool) -> anyhow::Result<()> {
    type CudaTrain = burn::backend::Autodiff<burn::backend::Cuda>;
    type CudaCheckpointed = burn::backend::Autodiff<burn::backend::Cuda, BalancedCheckpointing>;
    probe_cuda()?;
    let device = burn::backend::cuda::CudaDevice::default();
    if checkpointing {
        run_checkpointed::<CudaCheckpointed>(cli, device)
    } else {
        run::<CudaTrain>(cli, device)
    }
}

#[cfg(feature = "cuda")]
fn bench_cuda_bf16(a: &BenchArgs) -> anyhow::Result<()> {
    type CudaBf16 = burn::backend::Autodiff<burn::backend::Cuda<burn::tensor::bf16>>;
    type CudaBf16Checkpointed =
        burn::backend::Autodiff<burn::backend::Cuda<burn::tensor::bf16>, BalancedCheckpointing>;
    probe_cuda()?;
    let device = burn::backend::cuda::CudaDevice::default();
    if a.no_fusion {
        return bench_cuda_bf16_unfused(a, &device);
    }
    if a.checkpointing {
        return bench::<CudaBf16Checkpointed>(a, &device);
    }
    bench::<CudaBf16>(a, &device)
}

/// The same backend without the fusion layer (autotuning still on).
#[cfg(feature = "cuda-fused")]
fn bench_cuda_bf16_unfused(
    a: &BenchArgs,
    device: &burn::backend::cuda::CudaDevice,
) -> anyhow::Result<()> {
    type Unfused = burn::backend::Autodiff<
        burn_cubecl::CubeBackend<
            burn_cubecl::cubecl::cuda::CudaRuntime,
            burn::tensor::bf16,
            i32,
            u8,
        >,
    >;
    bench::<Unfused>(a, device)
}

#[cfg(all(feature = "cuda", not(feature = "cuda-fused")))]
fn bench_cuda_bf16_unfused(
    _a: &BenchArgs,
    _device: &burn::backend::cuda::CudaDevice,
) -> anyhow::Result<()> {
    bail!(
        "This `pixmo-train` has no kernel fusion to switch off\nhint: `--no-fusion` needs a build with `--features cuda-fused`"
    )
}

#[cfg(not(feature = "cuda"))]
fn bench_cuda_bf16(_a: &BenchArgs) -> anyhow::Result<()> {
    run_cuda_missing()
}

#[cfg(not(feature = "cuda"))]
fn run_cuda(_cli: Cli, _checkpointing: bool) -> anyhow::Result<()> {
    run_cuda_missing()
}

#[cfg(not(feature = "cuda"))]
fn run_cuda_missing() -> anyhow::Result<()> {
    bail!(
        "This `pixmo-train` was built without CUDA\nhint: rebuild with `cargo build --release -p pixmo-trainer --features cuda`"
    )
}

fn run<B: AutodiffBackend>(cli: Cli, device: B::Device) -> anyhow::Result<()> {
    match cli.command {
        Command::Pretrain(a) => train::<B>(Stage::Pretrain, &a, device),
        Command::Finetune(a) => train::<B>(Stage::Finetune, &a, device),
        Command::Eval(a) => eval::<B::InnerBackend>(&a, &device),
        Command::Bench(a) => bench::<B>(&a, &device),
        Command::Probe(a) => probe::<B>(&a, &device),
    }
}

/// The commands that take `--checkpointing` on a checkpointing backend (the others do not
/// take the flag, so they are not built a second time for it).
fn run_checkpointed<B: AutodiffBackend>(cli: Cli, device: B::Device) -> anyhow::Result<()> {
    match cli.command {
        Command::Pretrain(a) => train::<B>(Stage::Pretrain, &a, device),
        Command::Finetune(a) => train::<B>(Stage::Finetune, &a, device),
        Command::Bench(a) => bench::<B>(&a, &device),
        Command::Eval(_) | Command::Probe(_) => bail!("`--checkpointing` is for training only"),
    }
}

/// How a probe run turns its dial crops, as [`SavedProbe::turned`] records it.
///
/// [`SavedProbe::turned`]: pixmo_trainer::probe::SavedProbe::turned
fn turned(a: &ProbeArgs) -> Option<String> {
    if a.truth_upright {
        Some(match a.turn_jitter {
            Some(most) => format!("truth, left up to {most}° off"),
            None => "truth".into(),
        })
    } else if a.random_turn {
        Some("random".into())
    } else {
        (!a.derotate.is_empty()).then(|| {
            a.derotate
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        })
    }
}

fn probe<B: AutodiffBackend>(a: &ProbeArgs, device: &B::Device) -> anyhow::Result<()> {
    use pixmo_trainer::box_cache::{BoxCache, images_key, link_key};
    use pixmo_trainer::probe::{
        Prepare, ProbeData, ProbeSettings, ProbeStart, SavedProbe, TRUTH_FILE, Views, choose_turns,
        jitter_boxes, jitter_turn, least_full_side, left_out, load_probe, locate_boxes, mean_boxes,
        probe_examples_with, random_turn, read_clocks, read_saved, read_truth, read_turns,
        save_vision, tell_arcs, tell_turn_candidates, tell_turns, train_probe_reading, turn_prior,
        turns_of_arcs,
    };
    let config: ModelConfig = match &a.model_config {
        Some(path) => serde_json::from_slice(
            &std::fs::read(path).with_context(|| format!("Cannot read `{}`", path.display()))?,
        )
        .with_context(|| format!("Bad model config `{}`", path.display()))?,
        None => ModelConfig::preset(&a.model)?,
    };
    let tok = config.build_tokenizer()?;
    if a.batch == 0 {
        bail!("`--batch` is 0; it must be at least 1");
    }
    if let Some(f) = a.centre_crop
        && !(f > 0.0 && f <= 1.0)
    {
        bail!("`--centre-crop` is {f}; it must be a fraction above 0 and at most 1");
    }
    if !(a.dial_loss >= 0.0 && a.dial_loss.is_finite()) {
        bail!(
            "`--dial-loss` is {}; it must be 0 (off) or more",
            a.dial_loss
        );
    }
    if !(a.turn_loss >= 0.0 && a.turn_loss.is_finite()) {
        bail!(
            "`--turn-loss` is {}; it must be 0 (off) or more",
            a.turn_loss
        );
    }
    if let Some(most) = a.turn_jitter
        && !(0.0..=180.0).contains(&most)
    {
        bail!("`--turn-jitter` is {most}; it takes 0 to 180 degrees");
    }
    if let Some(k) = a.turn_candidates
        && (k == 0 || a.steps > 0 || a.init_probe.is_none())
    {
        bail!(
            "`--turn-candidates {k}` offers the held-out crops turned by the teller's likeliest turns to a saved reader; it takes 1 or more, with the reader as `--init-probe` and `--steps 0`"
        );
    }
    if !a.reader_weight.is_finite() {
        bail!(
            "`--reader-weight` is {}; it must be a number",
            a.reader_weight
        );
    }
    let augment = Augment {
        turn: a.augment_turn,
        scale: a.augment_scale,
        shift: a.augment_shift,
        colour: a.augment_colour,
    };
    if !augment.is_none() {
        augment
            .check()
            .map_err(|e| anyhow::anyhow!("`--augment-*`: {e}"))?;
        if a.dial_loss > 0.0 || a.turn_loss > 0.0 {
            bail!(
                "`--augment-*` moves and turns each training image, and a dial or turn target with it; it is for readers\nhint: train a locator (`--dial-loss`) or a teller (`--turn-loss`) without it"
            );
        }
    }
    if a.turn_bins.is_some() && a.turn_loss == 0.0 {
        bail!("`--turn-bins` says how a turn head tells the turn; it needs `--turn-loss W`");
    }
    if !(a.read_loss >= 0.0 && a.read_loss.is_finite())
        || a.read_loss == 0.0 && a.dial_loss == 0.0 && a.turn_loss == 0.0
    {
        bail!(
            "`--read-loss` is {} with `--dial-loss` {} and `--turn-loss` {}; it must be 0 or more, and above 0 unless a dial or turn loss is trained",
            a.read_loss,
            a.dial_loss,
            a.turn_loss
        );
    }
    if !(0.0..=2.0).contains(&a.dial_margin) {
        bail!(
            "`--dial-margin` is {}; it must be between 0 and 2",
            a.dial_margin
        );
    }
    if !(a.lr >= 0.0 && a.lr.is_finite()) {
        bail!("`--lr` is {}; it must be 0 or more", a.lr);
    }
    if let Some(end) = a.lr_end.filter(|end| !(0.0..=a.lr).contains(end)) {
        bail!(
            "`--lr-end` is {end}; the rate falls to it from `--lr` {}, so it takes 0 to {}",
            a.lr,
            a.lr
        );
    }
    if let Some(j) = a.dial_jitter.filter(|j| !(0.0..1.0).contains(j)) {
        bail!("`--dial-jitter` is {j}; it must be at least 0 and below 1");
    }
    if !(0.0..1.0).contains(&a.locator_jitter) {
        bail!(
            "`--locator-jitter` is {}; it must be at least 0 and below 1",
            a.locator_jitter
        );
    }
    let by_truth = a.dial_crop.iter().any(|p| p.as_os_str() == "truth");
    if by_truth && a.dial_crop.len() > 1 {
        bail!("`--dial-crop truth` takes the true boxes; it cannot be chained with locators");
    }
    // Each locator, and the margin of the crops it was trained on (`None`: whole images).
    let mut locators = Vec::new();
    for (k, dir) in a.dial_crop.iter().enumerate().filter(|_| !by_truth) {
        let (probe, saved) = load_probe::<B>(dir, &config, device)?;
        let margin = saved.dial_crop.map(|(_, m)| m);
        if (k == 0) != margin.is_none() {
            bail!(
                "`{}` was trained on {}; a chain of `--dial-crop` locators starts with one trained on whole images and goes on with ones trained on the crops of those before\nhint: give the locators in the order they were trained",
                dir.display(),
                margin.map_or_else(
                    || "whole images".to_string(),
                    |m| format!("crops (margin {m})")
                ),
            );
        }
        locators.push((probe.valid(), margin));
    }
    // The turn tellers, each with the margin of the crops it was trained on.
    let mut tellers = Vec::with_capacity(a.derotate.len());
    let mut teller_bins = None;
    for dir in &a.derotate {
        tellers.push({
            let (probe, saved) = load_probe::<B>(dir, &config, device)?;
            let Some((_, margin)) = saved.dial_crop else {
                bail!(
                    "`{}` was trained on whole images; `--derotate` takes a probe trained with `--turn-loss` on dial crops",
                    dir.display()
                );
            };
            if !saved.settings.turns() {
                bail!(
                    "`{}` has no turn head\nhint: train it with `--turn-loss W`",
                    dir.display()
                );
            }
            let prior = match &a.turn_prior {
                Some(from) => {
                    let bins = saved.settings.turn_bins;
                    if bins == 0 {
                        bail!(
                            "`{}` tells the turn's cosine and sine; `--turn-prior` weighs the arcs of a teller trained with `--turn-bins N`",
                            dir.display()
                        );
                    }
                    let turns = read_turns(from)?.with_context(|| {
                        format!(
                            "`{}` has no `{TRUTH_FILE}` (how far each dial is turned)",
                            from.display()
                        )
                    })?;
                    let w = a.turn_prior_weight;
                    if !(w.is_finite() && w >= 0.0) {
                        bail!("`--turn-prior-weight` is {w}; it takes a number from 0 up");
                    }
                    Some(
                        turn_prior(turns.into_values(), bins)
                            .into_iter()
                            .map(|l| l * w)
                            .collect::<Vec<f32>>(),
                    )
                }
                None => None,
            };
            if (a.teller_views > 1 || a.teller_spins > 1) && saved.settings.turn_bins == 0 {
                bail!(
                    "`{}` tells the turn's cosine and sine; `--teller-views` and `--teller-spins` average the arcs of a teller trained with `--turn-bins N`",
                    dir.display()
                );
            }
            let unturned = Augment {
                turn: 0.0,
                ..augment
            };
            if a.teller_views > 1 && unturned.is_none() {
                bail!(
                    "`--teller-views {}` draws unturned views within the `--augment-*` bounds, and none are given but the turn\nhint: add `--augment-scale`, `--augment-shift` or `--augment-colour`",
                    a.teller_views
                );
            }
            let views = Views {
                augment: unturned,
                count: usize::from(a.teller_views) * usize::from(a.teller_spins),
                spins: usize::from(a.teller_spins),
                seed: a.seed,
                vision: config.vision.clone(),
            };
            if a.derotate.len() > 1 {
                let bins = saved.settings.turn_bins;
                if bins == 0 {
                    bail!(
                        "`{}` tells the turn's cosine and sine; several `--derotate` tellers average the arcs of tellers trained with `--turn-bins N`",
                        dir.display()
                    );
                }
                match teller_bins {
                    Some(first) if first != bins => bail!(
                        "`{}` tells {first} arcs and `{}` {bins}: several `--derotate` tellers average arcs of one number",
                        a.derotate[0].display(),
                        dir.display(),
                    ),
                    _ => teller_bins = Some(bins),
                }
            }
            (probe.valid().with_views(Some(views)), margin, prior)
        });
    }
    if tellers.len() > 1 && a.turn_candidates.is_some() {
        bail!("`--turn-candidates` checks one teller's turns; give `--derotate` once");
    }
    // The reader that checks each candidate turn: the saved probe itself.
    let checker = match (a.turn_candidates, &a.init_probe) {
        (Some(_), Some(dir)) => Some(load_probe::<B>(dir, &config, device)?.0.valid()),
        _ => None,
    };
    let box_cache = a.box_cache.as_deref().map(BoxCache::open).transpose()?;
    let load = |dir: &Path, split: &str, limit, training: bool| -> anyhow::Result<_> {
        let examples = load_examples(dir, Dataset::Clocks, split, limit)?;
        let truth = read_truth(dir)?;
        let random: Option<HashMap<String, f32>> = (a.random_turn && training).then(|| {
            examples
                .iter()
                .map(|e| (e.id.clone(), random_turn(&e.id, a.seed)))
                .collect()
        });
        let rotations = if a.truth_upright || a.turn_loss > 0.0 && training {
            Some(read_turns(dir)?.with_context(|| {
                format!(
                    "`{}` has no `{TRUTH_FILE}` (how far each dial is turned)",
                    dir.display()
                )
            })?)
        } else if a.turn_loss > 0.0 || !a.derotate.is_empty() {
            // Held-out clocks without their turns, or clocks turned by a teller, are read
            // all the same; what their turns would score (the turn error, how far each is
            // still turned) is left out.
            match read_turns(dir) {
                Ok(Some(turns)) => Some(turns),
                Ok(None) => {
                    eprintln!(
                        "note: `{}` has no `{TRUTH_FILE}`; the turns there are not scored",
                        dir.display()
                    );
                    None
                }
                Err(e) => {
                    eprintln!("note: the turns in `{}` are not scored: {e}", dir.display());
                    None
                }
            }
        } else {
            None
        };
        if truth.is_none() && (a.dial_loss > 0.0 || by_truth) {
            bail!(
                "`{}` has no `{TRUTH_FILE}` (where each clock's dial is)\nhint: build the clocks with `PIXMO_CLOCK_TRUTH={}/{TRUTH_FILE} build_clocks {} ...`",
                dir.display(),
                dir.display(),
                dir.display()
            );
        }
        // Training crops turned upright by the truth, each left off by its own small turn.
        let jittered: Option<HashMap<String, f32>> = match (a.turn_jitter, &rotations) {
            (Some(most), Some(turns)) if training && a.truth_upright => Some(
                turns
                    .iter()
                    .map(|(id, t)| (id.clone(), t + jitter_turn(id, a.seed, most)))
                    .collect(),
            ),
            _ => None,
        };
        let mut prepare = Prepare {
            centre: a.centre_crop,
            truth: truth.as_ref(),
            crop: None,
            jitter: a.dial_jitter.filter(|_| training).map(|j| (j, a.seed)),
            turn: jittered
                .as_ref()
                .or_else(|| rotations.as_ref().filter(|_| a.truth_upright))
                .or(random.as_ref()),
            rotation: rotations.as_ref(),
            keep: false,
            least: least_full_side(&config.vision),
        };
        let mut located = None;
        let mut key = box_cache.as_ref().map(|_| images_key(&examples));
        for ((locator, margin), saved) in locators.iter().zip(&a.dial_crop) {
            let seen = Prepare {
                crop: located.as_ref().map(|b| (b, margin.unwrap_or_default())),
                ..prepare
            };
            let cached = match (&box_cache, &key) {
                (Some(cache), Some(previous)) => {
                    let mut link = link_key(previous, &config, saved)?;
                    if located.is_some() && a.locator_views > 1 {
                        // Boxes found through views are cached apart from those found once.
                        link = pixmo_core::sha256_hex(
                            format!(
                                "{link}\nviews {} jitter {} seed {}",
                                a.locator_views, a.locator_jitter, a.seed
                            )
                            .as_bytes(),
                        );
                    }
                    let found = cached_boxes(cache, &link, &examples, saved, dir, split);
                    key = Some(link);
                    found
                }
                _ => None,
            };
            let boxes = match cached {
                Some(boxes) => boxes,
                None => {
                    let boxes = match &located {
                        Some(before) if a.locator_views > 1 => {
                            let mut found = Vec::with_capacity(usize::from(a.locator_views));
                            for v in 0..a.locator_views {
                                let moved = jitter_boxes(
                                    before,
                                    a.locator_jitter * f32::from(v.min(1)),
                                    a.seed ^ u64::from(v),
                                );
                                let seen = Prepare {
                                    crop: Some((&moved, margin.unwrap_or_default())),
                                    ..prepare
                                };
                                found.push(locate_boxes(
                                    locator, &config, &tok, &examples, &seen, device,
                                )?);
                            }
                            mean_boxes(&found)
                        }
                        _ => locate_boxes(locator, &config, &tok, &examples, &seen, device)?,
                    };
                    if let (Some(cache), Some(link)) = (&box_cache, &key) {
                        cache.store(link, &boxes)?;
                    }
                    boxes
                }
            };
            located = Some(boxes);
        }
        if !a.dial_crop.is_empty() {
            let boxes = match &located {
                Some(boxes) => boxes,
                None => truth.as_ref().context("no truth")?,
            };
            prepare.crop = Some((boxes, a.dial_margin));
        }
        let told;
        if let (Some((teller, margin, prior)), Some((boxes, _))) = (tellers.first(), prepare.crop) {
            let seen = Prepare {
                crop: Some((boxes, *margin)),
                // The teller's views are drawn from the kept image.
                keep: a.teller_views > 1 || a.teller_spins > 1,
                ..prepare
            };
            told = match (&checker, a.turn_candidates) {
                (Some(reader), Some(k)) if !training => {
                    let candidates = tell_turn_candidates(
                        teller,
                        &config,
                        &tok,
                        &examples,
                        &seen,
                        prior.as_deref(),
                        k,
                        device,
                    )?;
                    // The reader's log-probability of each clock turned by its j-th turn.
                    let mut sure = Vec::with_capacity(k);
                    for j in 0..k {
                        let turns: HashMap<String, f32> = candidates
                            .iter()
                            .filter_map(|(id, c)| Some((id.clone(), c.get(j)?.0)))
                            .collect();
                        let as_turned = Prepare {
                            turn: Some(&turns),
                            ..prepare
                        };
                        let seen = probe_examples_with(&config, &tok, &examples, &as_turned);
                        let read = read_clocks(reader, &seen, device);
                        sure.push(
                            seen.iter()
                                .zip(read)
                                .filter(|(e, _)| turns.contains_key(&e.id))
                                .map(|(e, r)| (e.id.clone(), r.sure))
                                .collect::<HashMap<_, _>>(),
                        );
                    }
                    choose_turns(&candidates, &sure, a.reader_weight)
                }
                // Several tellers: their arcs' probabilities, each teller's seen at its own
                // margin, averaged.
                _ if tellers.len() > 1 => {
                    let mut told = Vec::with_capacity(tellers.len());
                    for (teller, margin, _) in &tellers {
                        let seen = Prepare {
                            crop: Some((boxes, *margin)),
                            ..seen
                        };
                        told.push(tell_arcs(teller, &config, &tok, &examples, &seen, device)?);
                    }
                    turns_of_arcs(&told, prior.as_deref())
                }
                _ => tell_turns(
                    teller,
                    &config,
                    &tok,
                    &examples,
                    &seen,
                    prior.as_deref(),
                    device,
                )?,
            };
            prepare.turn = Some(&told);
        }
        // Training clocks keep their letterboxed image for a fresh augmentation each draw.
        // Held-out clocks read several ways keep theirs for the views.
        prepare.keep = !augment.is_none() && (training || a.views > 1);
        let prepared = probe_examples_with(&config, &tok, &examples, &prepare);
        if let Some(why) = left_out(&examples, &prepared) {
            if prepared.is_empty() {
                bail!(
                    "None of the {} `{split}` clocks in `{}` can be probed: {why}",
                    examples.len(),
                    dir.display()
                );
            }
            eprintln!(
                "warning: {} of the {} `{split}` clocks in `{}` left out: {why}",
                examples.len() - prepared.len(),
                examples.len(),
                dir.display()
            );
        }
        Ok(prepared)
    };
    // After the flags: a bad flag is named first, whatever the data.
    predictions_file(a.predictions.as_deref())?;
    data_folder(&a.data)?;
    let train = load(&a.data, &a.split, a.limit, true)?;
    let first = match &a.first_data {
        Some(dir) => load(dir, &a.split, a.limit, true)?,
        None => Vec::new(),
    };
    let test = load(
        a.eval_data.as_deref().unwrap_or(&a.data),
        &a.eval_split,
        Some(a.eval_count),
        false,
    )?;
    let mut also = Vec::new();
    for dir in &a.also_eval {
        let set = load(dir, &a.eval_split, Some(a.eval_count), false)?;
        if set.is_empty() {
            bail!(
                "No `{}` clocks in `{}` to score",
                a.eval_split,
                dir.display()
            );
        }
        let name = dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
        if also.iter().any(|(n, _)| *n == name) {
            bail!(
                "Two `--also-eval` folders are named `{name}`\nhint: give each held-out set its own folder name"
            );
        }
        also.push((name, set));
    }
    if train.is_empty() || test.is_empty() {
        bail!(
            "No clocks to probe ({} train, {} held out)\nhint: build some first, e.g. `pixmo build clocks --count 2000 --out {}`",
            train.len(),
            test.len(),
            a.data.display()
        );
    }
    // A saved reader with a hand head keeps it unless another number of arcs is asked for
    // (which `train_probe` refuses, naming the number it has).
    let hand_bins = match (a.hand_bins, &a.init_probe) {
        (Some(bins), _) => bins,
        (None, Some(dir)) => read_saved(dir)?.settings.hand_bins,
        (None, None) => 0,
    };
    let settings = ProbeSettings {
        steps: a.steps,
        batch: a.batch,
        lr: a.lr,
        lr_end: a.lr_end,
        seed: a.seed,
        eval_every: a.eval_every,
        first_steps: a.first_steps.unwrap_or(0),
        gradual: a.gradual,
        minutes: a.minutes,
        readout: if a.mean_readout {
            Readout::Mean
        } else {
            a.readout
        },
        dial_loss: a.dial_loss,
        locator: a.locator,
        read_loss: a.read_loss,
        turn_loss: a.turn_loss,
        turn_bins: a.turn_bins.unwrap_or(0),
        augment,
        hour_by_minute: a.hour_by_minute,
        hand_bins,
        joint: a.joint.then_some(a.overlap_discount),
        views: usize::from(a.views),
    };
    println!(
        "{}",
        serde_json::json!({
            "train": train.len(), "first": first.len(), "test": test.len(),
            "also": also.iter().map(|(n, set)| (n.clone(), set.len())).collect::<BTreeMap<_, _>>(),
            "init_probe": a.init_probe, "init_vision": a.init_vision,
            "settings": settings,
            "centre_crop": a.centre_crop, "vision": config.vision,
            "dial_crop": a.dial_crop, "dial_margin": (!a.dial_crop.is_empty()).then_some(a.dial_margin),
            "dial_jitter": a.dial_jitter, "truth_upright": a.truth_upright, "turn_jitter": a.turn_jitter, "derotate": (!a.derotate.is_empty()).then_some(&a.derotate), "locator_views": a.locator_views, "locator_jitter": (a.locator_views > 1).then_some(a.locator_jitter), "turn_prior": a.turn_prior, "turn_prior_weight": a.turn_prior.as_ref().map(|_| a.turn_prior_weight), "teller_views": a.teller_views, "teller_spins": a.teller_spins, "random_turn": a.random_turn,
            "turn_candidates": a.turn_candidates, "reader_weight": a.turn_candidates.map(|_| a.reader_weight),
        })
    );
    let init = match (&a.init_probe, &a.init_vision) {
        (Some(dir), _) => {
            let (probe, saved) = load_probe::<B>(dir, &config, device)?;
            let ours = turned(a);
            if saved.turned != ours {
                let say = |t: &Option<String>| {
                    t.as_ref()
                        .map_or_else(|| "not turned".to_string(), |t| format!("turned by {t}"))
                };
                eprintln!(
                    "warning: `{}` was trained on crops {}; these are {}",
                    dir.display(),
                    say(&saved.turned),
                    say(&ours)
                );
            }
            ProbeStart::Probe(probe, saved)
        }
        (None, Some(dir)) => {
            let (vit, connector) = load_vision::<B>(dir, &config, device)?;
            ProbeStart::Vision(vit, connector)
        }
        (None, None) => ProbeStart::Random,
    };
    let start = Instant::now();
    let (probe, readings) = train_probe_reading::<B>(
        &config,
        &ProbeData {
            first: &first,
            train: &train,
            test: &test,
            also: &also,
        },
        init,
        &settings,
        device,
        |mut line| {
            line["seconds"] = serde_json::json!(start.elapsed().as_secs_f64().round());
            println!("{line}");
        },
    )?;
    if let Some(dir) = &a.save {
        let saved = SavedProbe {
            model: config.clone(),
            crops: train[0].input.crop_count(),
            minutes: a.minutes,
            centre_crop: a.centre_crop,
            dial_crop: (!a.dial_crop.is_empty()).then(|| {
                let chain: Vec<_> = a
                    .dial_crop
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect();
                (chain.join(" then "), a.dial_margin)
            }),
            turned: turned(a),
            settings,
        };
        save_vision(&probe.valid(), &saved, dir)?;
        eprintln!("probe saved in `{}`", dir.display());
    }
    if let Some(path) = &a.predictions {
        // What the last report scored: the trained probe's reading of each held-out clock.
        let mut text = String::new();
        for (e, r) in test.iter().zip(&readings) {
            let line = serde_json::json!({
                "id": e.id, "hour": r.hour, "minute": r.minute, "gold": [e.hour, e.minute],
                "hour_right": r.hour_right(e), "close": r.minute.map(|_| r.close(e)),
                "dial_iou": r.dial_iou(e), "turn": r.turn, "turn_error": r.turn_error(e),
                "turn_left": e.turn.map(f32::abs),
                "hour_p": rounded(&r.hour_p), "hand_p": rounded(&r.hand_p), "minute_p": rounded(&r.minute_p),
            });
            text.push_str(&line.to_string());
            text.push('\n');
        }
        pixmo_shards::atomic_write(path, text.as_bytes())
            .with_context(|| format!("writing the predictions to `{}`", path.display()))?;
        eprintln!(
            "{} readings written to `{}`",
            readings.len(),
            path.display()
        );
    }
    Ok(())
}

/// The boxes `cache` keeps under `link` for every one of `examples` (those the locator saved
/// in `locator` finds on the `split` clocks of `data`), saying on stderr where they were
/// read from, or why a file there is not used.
fn cached_boxes(
    cache: &pixmo_trainer::box_cache::BoxCache,
    link: &str,
    examples: &[Example],
    locator: &Path,
    data: &Path,
    split: &str,
) -> Option<HashMap<String, pixmo_trainer::probe::PixelBox>> {
    use pixmo_trainer::box_cache::Lookup;
    match cache.load(link, examples.iter().map(|e| e.id.as_str())) {
        Lookup::Hit(boxes) => {
            eprintln!(
                "note: the boxes `{}` finds on `{}` ({split}) are read from `{}`",
                locator.display(),
                data.display(),
                cache.path(link).display()
            );
            Some(boxes)
        }
        Lookup::Miss => None,
        Lookup::Unusable(why) => {
            eprintln!(
                "note: `{}` is not used ({why}); the boxes are found again",
                cache.path(link).display()
            );
            None
        }
    }
}

fn parse_datasets(names: &[String]) -> anyhow::Result<Vec<Dataset>> {
    let mut datasets = Vec::with_capacity(names.len());
    for n in names {
        let d = Dataset::from_name(n).with_context(|| {
            let all: Vec<&str> = Dataset::ALL.iter().map(|d| d.name()).collect();
            format!("Unknown dataset `{n}`\nhint: one of {}", all.join(", "))
        })?;
        if datasets.contains(&d) {
            bail!("`{n}` is named twice in `--datasets`\nhint: name each dataset once");
        }
        datasets.push(d);
    }
    Ok(datasets)
}

/// `path` is a folder (`--data`, `--eval-data`): a file or a missing path is named as such,
/// not reported as a folder without examples.
fn data_folder(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let what = if path.exists() {
        "is not a folder"
    } else {
        "does not exist"
    };
    bail!(
        "`{}` {what}\nhint: `--data` takes the output folder of `pixmo build` (holding \
         `<dataset>/<split>/part-*.parquet`)",
        path.display()
    )
}

/// `--predictions PATH` can become a file: not a folder (found at the end of a long run,
/// the rename into place failed naming only a temporary file).
fn predictions_file(path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        Some(p) if p.is_dir() => bail!(
            "`--predictions {}` is a folder\nhint: give a file path, e.g. `{}`",
            p.display(),
            p.join("predictions.jsonl").display()
        ),
        _ => Ok(()),
    }
}

fn load_split(
    data: &Path,
    datasets: &[Dataset],
    split: &str,
    limit: Option<usize>,
) -> anyhow::Result<Vec<(Dataset, Vec<Example>)>> {
    data_folder(data)?;
    datasets
        .iter()
        .map(|&d| Ok((d, load_examples(data, d, split, limit)?)))
        .collect()
}

/// A GGUF decoder opened for import, and when its opening began.
type OpenedGguf = (GgufFile, Instant);

/// A checkpoint whose weights start a run (`--init-checkpoint`), and its state.
type InitCheckpoint<'a> = (&'a PathBuf, CheckpointState);

/// The model the options of a new run describe: `--init-checkpoint`'s, `--model-config`'s
/// or the `--model` preset's, with `--init-llm-gguf`'s decoder sizes and tokenizer; with the
/// checkpoint and the GGUF file to load weights from.
fn flag_model(
    a: &TrainArgs,
) -> anyhow::Result<(ModelConfig, Option<InitCheckpoint<'_>>, Option<OpenedGguf>)> {
    let init = match &a.init_checkpoint {
        Some(dir) => Some((dir, read_state(dir)?)),
        None => None,
    };
    let mut model_config: ModelConfig = match (&init, &a.model_config) {
        (Some((_, state)), _) => state.model.clone(),
        (None, Some(path)) => serde_json::from_slice(
            &std::fs::read(path).with_context(|| format!("Cannot read `{}`", path.display()))?,
        )
        .with_context(|| format!("Bad model config `{}`", path.display()))?,
        (None, None) => ModelConfig::preset(a.model.as_deref().unwrap_or("molmo-7b-d"))?,
    };
    let gguf = match &a.init_llm_gguf {
        Some(path) => {
            let started = Instant::now();
            let path = std::fs::canonicalize(path)
                .with_context(|| format!("Cannot find `{}`", path.display()))?;
            let file = GgufFile::open(&path)?;
            model_config.llm = llm_config(&file, model_config.llm.additional_vocab_size)?;
            model_config.tokenizer = TokenizerConfig::Gguf { path };
            Some((file, started))
        }
        None => None,
    };
    Ok((model_config, init, gguf))
}

/// The newest whole checkpoint under `checkpoints` (`last` or a `step-N`, by the step its
/// `state.json` records, `last` first on a tie) whose tensor files are the ones its save
/// wrote; a newer one that is not is named and passed over. `None` when there is none.
fn newest_checkpoint(checkpoints: &Path) -> anyhow::Result<Option<PathBuf>> {
    // A checkpoint a killed save moved aside is put back first.
    pixmo_shards::sweep_dead_writers(checkpoints)?;
    let Ok(entries) = std::fs::read_dir(checkpoints) else {
        return Ok(None);
    };
    let mut found: Vec<(u64, bool, PathBuf, CheckpointState)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let named = name == "last"
            || name
                .strip_prefix("step-")
                .is_some_and(|n| n.parse::<u64>().is_ok());
        if !named || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        match read_state(&entry.path()) {
            Ok(state) => found.push((state.step, name == "last", entry.path(), state)),
            Err(e) => eprintln!("warning: `{}` passed over: {e}", entry.path().display()),
        }
    }
    found.sort_by_key(|y| std::cmp::Reverse((y.0, y.1)));
    for (_, _, dir, state) in found {
        match verify_checkpoint(&dir, &state) {
            Ok(()) => return Ok(Some(dir)),
            Err(e) => eprintln!("warning: `{}` passed over: {e}", dir.display()),
        }
    }
    Ok(None)
}

/// Whether the checkpoint folder `dir` is one of the run in `out` (in its `checkpoints/`).
fn checkpoint_of(dir: &Path, out: &Path) -> bool {
    let (Ok(dir), Ok(checkpoints)) = (
        std::fs::canonicalize(dir),
        std::fs::canonicalize(out.join("checkpoints")),
    ) else {
        // Either missing: refused or reported where it is read.
        return true;
    };
    dir.parent() == Some(checkpoints.as_path())
}

/// The options of an `--auto-resume` run describe the run of the checkpoint it resumes:
/// stage, model and training settings (those `--resume` replaces aside).
fn same_run(stage: Stage, a: &TrainArgs, state: &CheckpointState) -> anyhow::Result<()> {
    let (model, _, _) = flag_model(a)?;
    let mut train = train_config(stage, a);
    train.head_chunk = state.train.head_chunk;
    train.attention_chunk = state.train.attention_chunk;
    train.checkpoint_every = state.train.checkpoint_every;
    train.max_skipped_steps = state.train.max_skipped_steps;
    let mut differ = Vec::new();
    json_differences(
        "model",
        &serde_json::to_value(&model)?,
        &serde_json::to_value(&state.model)?,
        &mut differ,
    );
    json_differences(
        "train",
        &serde_json::to_value(&train)?,
        &serde_json::to_value(&state.train)?,
        &mut differ,
    );
    if differ.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 6;
    if differ.len() > SHOWN {
        let more = differ.len() - SHOWN;
        differ.truncate(SHOWN);
        differ.push(format!("and {more} more"));
    }
    bail!(
        "the options describe another run than the checkpoint's: {}\nhint: give the options \
         the run was started with, or start a new run in another `--out`",
        differ.join("; ")
    )
}

/// Each leaf where `here` and `saved` differ, as `path: here (options) vs saved (checkpoint)`.
fn json_differences(
    path: &str,
    here: &serde_json::Value,
    saved: &serde_json::Value,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (here, saved) {
        (Value::Object(h), Value::Object(s)) => {
            let keys: std::collections::BTreeSet<&String> = h.keys().chain(s.keys()).collect();
            for k in keys {
                let null = Value::Null;
                let (x, y) = (h.get(k).unwrap_or(&null), s.get(k).unwrap_or(&null));
                json_differences(&format!("{path}.{k}"), x, y, out);
            }
        }
        _ if here != saved => out.push(format!(
            "`{path}` is {here} by the options, {saved} in the checkpoint"
        )),
        _ => {}
    }
}

fn train<B: AutodiffBackend>(stage: Stage, a: &TrainArgs, device: B::Device) -> anyhow::Result<()> {
    let newest = if a.auto_resume {
        newest_checkpoint(&a.out.join("checkpoints"))?
    } else {
        None
    };
    let resume = a.resume.clone().or_else(|| newest.clone());
    let holds_a_run = a.out.join("metrics.jsonl").exists() || a.out.join("checkpoints").exists();
    if resume.is_none() && !a.auto_resume && holds_a_run {
        bail!(
            "`{}` holds a run already (its `metrics.jsonl` or `checkpoints/`); a new run there \
             would overwrite its checkpoints and mix two runs in one log\nhint: choose another \
             `--out`, or continue that run from its newest checkpoint with `--auto-resume` (or \
             `--resume {}/step-N`)",
            a.out.display(),
            a.out.join("checkpoints").display()
        );
    }
    if let Some(dir) = &a.resume
        && holds_a_run
        && !checkpoint_of(dir, &a.out)
    {
        bail!(
            "`{}` is not a checkpoint of the run in `{}`: resuming it there would mix two runs \
             in one log and one `checkpoints/`\nhint: resume it into its own run folder, or a \
             new `--out`",
            dir.display(),
            a.out.display()
        );
    }
    if resume.is_none() {
        // Before the data is read: settings that cannot train are refused at once (the
        // sequence length against the model's positions once the model is known).
        train_config(stage, a).validate(usize::MAX)?;
    }
    let datasets = if a.datasets.is_empty() {
        match stage {
            Stage::Pretrain => vec![Dataset::Cap],
            Stage::Finetune => Dataset::ALL.to_vec(),
        }
    } else {
        parse_datasets(&a.datasets)?
    };
    let data = load_split(&a.data, &datasets, &a.split, a.limit)?;
    let total: usize = data.iter().map(|d| d.1.len()).sum();
    if total == 0 {
        bail!(
            "No `{}` examples of {:?} under `{}`\nhint: build some first, e.g. `pixmo build clocks --count 3000 --out {}`",
            a.split,
            datasets.iter().map(|d| d.name()).collect::<Vec<_>>(),
            a.data.display(),
            a.data.display()
        );
    }
    let eval_data = load_split(&a.data, &datasets, &a.eval_split, Some(a.eval_count))?;

    let mut trainer = if let Some(dir) = &resume {
        let state = read_state(dir)?;
        if newest.is_some() {
            same_run(stage, a, &state)
                .with_context(|| format!("`--auto-resume` from `{}`", dir.display()))?;
            eprintln!(
                "resuming from `{}` (step {}), the newest checkpoint in `{}`",
                dir.display(),
                state.step,
                a.out.display()
            );
        }
        let saved = state.train;
        if saved.stage != stage {
            let name = |s: Stage| match s {
                Stage::Pretrain => "pretrain",
                Stage::Finetune => "finetune",
            };
            bail!(
                "`{}` is a checkpoint of a {} run; resume it with `pixmo-train {} --resume`, \
                 or start a {} run from its weights with `--init-checkpoint`",
                dir.display(),
                name(saved.stage),
                name(saved.stage),
                name(stage)
            );
        }
        let source = DataSource::new(data, stage, saved.seed)?;
        let mut t = Trainer::<B>::resume(dir, source, device.clone())?;
        if let Some(n) = a.head_chunk {
            t.train.head_chunk = Some(n as usize);
        }
        if let Some(n) = a.attention_chunk {
            t.train.attention_chunk = Some(n as usize);
        }
        if let Some(n) = a.checkpoint_every {
            t.train.checkpoint_every = n;
        }
        if let Some(n) = a.max_skipped_steps {
            t.train.max_skipped_steps = n;
        }
        t
    } else {
        let (model_config, init, gguf) = flag_model(a)?;
        let train_config = train_config(stage, a);
        let source = DataSource::new(data, stage, train_config.seed)?;
        let mut t = Trainer::<B>::new(model_config, train_config, source, device.clone())?;
        if let Some((file, started)) = gguf {
            let mut model = t.model().clone();
            model.llm = import_llama(model.llm, &file)?;
            t.set_model(model);
            eprintln!(
                "imported `{}` ({} blocks, vocabulary {}) in {:.1?}",
                file.source().display(),
                t.model_config.llm.layers,
                t.model_config.llm.vocab_size,
                started.elapsed()
            );
        }
        if let Some((dir, state)) = &init {
            t.set_model(load_model::<B>(dir, state, &device)?);
            eprintln!(
                "started from the weights of `{}` ({:?} run, step {})",
                dir.display(),
                state.train.stage,
                state.step
            );
        }
        if let Some(dir) = &a.init_vision {
            let (vit, connector) = load_vision::<B>(dir, &t.model_config, &device)?;
            let mut model = t.model().clone();
            model.vit = vit;
            model.connector = connector;
            t.set_model(model);
        }
        if !a.init_vit.is_empty() {
            let mut tensors = HfTensors::load(&a.init_vit)?;
            let mut model = t.model().clone();
            model.vit = import_clip(model.vit, &mut tensors)?;
            t.set_model(model);
        }
        if !a.init_llm.is_empty() {
            let mut tensors = HfTensors::load(&a.init_llm)?;
            let mut model = t.model().clone();
            model.llm = import_qwen2(model.llm, &mut tensors)?;
            t.set_model(model);
        }
        t
    };
    trainer.data_parallel(&peer_devices::<B>(&device, a.devices))?;

    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("Cannot create `{}`", a.out.display()))?;
    let config_path = a.out.join("config.json");
    std::fs::write(
        &config_path,
        serde_json::to_vec_pretty(&serde_json::json!({
            "model": trainer.model_config, "train": trainer.train, "devices": trainer.devices(),
            "backend": std::any::type_name::<B>(),
        }))?,
    )?;
    let metrics = a.out.join("metrics.jsonl");
    let mut log = if resume.is_some() || a.auto_resume {
        let (log, dropped) = MetricsLog::continue_at(&metrics, trainer.step)?;
        if dropped > 0 {
            eprintln!(
                "`{}`: {dropped} line(s) after step {} (logged before the run stopped, logged \
                 again now) dropped",
                metrics.display(),
                trainer.step
            );
        }
        log
    } else {
        MetricsLog::open(&metrics)?
    };
    let bar = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(trainer.train.steps)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_position(trainer.step);
    let start = Instant::now();
    let deadline = a.max_minutes.map(|m| m * 60.0);
    let every = trainer.train.checkpoint_every;
    let mut last_saved = resume.clone();
    let mut warned_unreadable = false;
    while trainer.step < trainer.train.steps {
        let m = trainer.train_step()?;
        log.write(&serde_json::to_value(&m)?)?;
        if m.images_skipped > 0 && !warned_unreadable {
            warned_unreadable = true;
            bar.suspend(|| {
                eprintln!(
                    "warning: examples whose image cannot be decoded are skipped (counted in \
                     `images_skipped` of metrics.jsonl); the first: {}",
                    trainer.data.first_skipped.as_deref().unwrap_or_default()
                );
            });
        }
        bar.set_position(trainer.step);
        bar.set_message(format!("loss {:.4} ce {:.4}", m.loss, m.ce));
        if trainer.diverged() {
            bar.abandon();
            let n = trainer.skipped_in_a_row();
            bail!(
                "the run diverged: its last {n} steps ({}-{}) had gradients that are not finite \
                 (NaN or infinite) and were skipped, so the model is the one step {} started \
                 from, and no final checkpoint is written; the last checkpoint is {}. Lower the learning \
                 rates (or their warm-up's end), or resume from an earlier checkpoint; \
                 `--max-skipped-steps` sets how many skipped steps in a row stop a run",
                trainer.step - n,
                trainer.step - 1,
                trainer.step - n,
                last_saved
                    .as_ref()
                    .map_or_else(|| "none".to_string(), |p| format!("`{}`", p.display())),
            );
        }
        if every > 0 && trainer.step.is_multiple_of(every) {
            let dir = a
                .out
                .join("checkpoints")
                .join(format!("step-{}", trainer.step));
            trainer.save_checkpoint(&dir)?;
            last_saved = Some(dir);
        }
        if a.eval_every > 0 && trainer.step.is_multiple_of(a.eval_every) {
            run_eval(&trainer, &eval_data, &mut log, &device)?;
        }
        if deadline.is_some_and(|d| start.elapsed().as_secs_f64() >= d) {
            bar.println(format!("time limit reached at step {}", trainer.step));
            break;
        }
    }
    bar.finish();
    let last = a.out.join("checkpoints").join("last");
    trainer.save_checkpoint(&last)?;
    let report = run_eval(&trainer, &eval_data, &mut log, &device)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    println!("checkpoint: {}", last.display());
    Ok(())
}

/// The devices after `device` of the same kind, for `count` devices in all (CUDA: the next
/// ordinals; the CPU has one device, so its peers share it).
fn peer_devices<B: Backend>(device: &B::Device, count: u16) -> Vec<B::Device> {
    let id = device.to_id();
    (1..count)
        .map(|k| {
            B::Device::from_id(DeviceId {
                type_id: id.type_id,
                index_id: id.index_id.saturating_add(k),
            })
        })
        .collect()
}

fn run_eval<B: AutodiffBackend>(
    trainer: &Trainer<B>,
    eval_data: &[(Dataset, Vec<Example>)],
    log: &mut MetricsLog,
    device: &B::Device,
) -> anyhow::Result<serde_json::Value> {
    let model = trainer.model().valid();
    let examples: Vec<Example> = eval_data.iter().flat_map(|d| d.1.clone()).collect();
    let mut report = evaluate(
        &model,
        &trainer.model_config,
        &trainer.tokenizer,
        &examples,
        16,
        device,
    );
    let captions: Vec<_> = eval_data
        .iter()
        .filter(|d| d.0 == Dataset::Cap)
        .flat_map(|d| d.1.iter())
        .enumerate()
        .filter_map(|(i, e)| {
            let mut rng = pixmo_trainer::rng::Rng::derive(trainer.train.seed, i as u64);
            prepare(
                e,
                Stage::Pretrain,
                &trainer.model_config,
                &trainer.tokenizer,
                trainer.train.seq_len,
                &mut rng,
            )
        })
        .collect();
    if !captions.is_empty() {
        report.caption_loss = Some(validation_loss(
            &model,
            &trainer.model_config,
            &captions,
            trainer.train.micro_batch,
            device,
        ));
    }
    let value = serde_json::json!({ "step": trainer.step, "eval": report });
    log.write(&value)?;
    Ok(value)
}

fn train_config(stage: Stage, a: &TrainArgs) -> TrainConfig {
    let mut c = TrainConfig::recipe(stage);
    if let Some(s) = a.steps {
        c.steps = s;
        c.schedule.total_steps = s;
    }
    let set = |dst: &mut usize, v: Option<usize>| {
        if let Some(v) = v {
            *dst = v;
        }
    };
    set(&mut c.micro_batch, a.micro_batch);
    set(&mut c.grad_accum, a.grad_accum);
    set(&mut c.seq_len, a.seq_len);
    if let Some(s) = a.seed {
        c.seed = s;
    }
    if let Some(d) = a.dropout {
        c.dropout = d;
    }
    if let Some(lr) = a.lr_connector {
        c.schedule.connector.peak_lr = lr;
    }
    if let Some(lr) = a.lr_vit {
        c.schedule.vit.peak_lr = lr;
    }
    if let Some(lr) = a.lr_llm {
        c.schedule.llm.peak_lr = lr;
    }
    if let Some(w) = a.warmup {
        c.schedule.connector.warmup = w;
        c.schedule.vit.warmup = w;
        c.schedule.llm.warmup = w;
    }
    if let Some(n) = a.checkpoint_every {
        c.checkpoint_every = n;
    }
    if let Some(n) = a.max_skipped_steps {
        c.max_skipped_steps = n;
    }
    c.mixed = a.mixed;
    c.moments = a.moments;
    c.loss_scale = match a.loss_scale {
        Some(s) if s > 0.0 => Some(LossScale::new(s, LossScale::f16().growth_interval)),
        Some(_) => None,
        None => (a.mixed == Some(Compute::F16)).then(LossScale::f16),
    };
    c.head_chunk = a.head_chunk.map(|n| n as usize);
    c.attention_chunk = a.attention_chunk.map(|n| n as usize);
    c
}

/// A `--loss-scale`: finite and not negative.
fn loss_scale_arg(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
        _ => Err(format!(
            "`{text}` is not a loss scale (a finite number ≥ 0, a power of two such as 65536; \
             0 for none)"
        )),
    }
}

/// What the bench ran on: the build's CUDA features and the autotune level asked for.
fn backend_label(a: &BenchArgs) -> serde_json::Value {
    let cuda = matches!(a.device, DeviceKind::Cuda);
    let tuned = cuda && cfg!(feature = "cuda-fused");
    serde_json::json!({
        "fusion": tuned && !a.no_fusion,
        "autotune": tuned,
        "checkpointing": a.checkpointing,
        "autotune_level": if tuned {
            std::env::var("CUBECL_AUTOTUNE_LEVEL").unwrap_or_else(|_| "balanced".into())
        } else {
            "off".into()
        },
    })
}

fn bench<B: AutodiffBackend>(a: &BenchArgs, device: &B::Device) -> anyhow::Result<()> {
    let mut model = match &a.model_config {
        Some(path) => serde_json::from_slice(
            &std::fs::read(path).with_context(|| format!("Cannot read `{}`", path.display()))?,
        )
        .with_context(|| format!("Bad model config `{}`", path.display()))?,
        None => ModelConfig::preset(&a.model)?,
    };
    if let Some(n) = a.llm_layers {
        model.llm.layers = n;
    }
    if let Some(n) = a.vit_layers {
        model.vit.layers = n;
    }
    let spec = BenchSpec {
        model,
        micro_batch: a.micro_batch,
        grad_accum: a.grad_accum,
        seq_len: a.seq_len,
        image_px: a.image_px,
        warmup_steps: a.warmup_steps,
        steps: a.steps,
        peak_tflops: a.peak_tflops,
        mixed: (a.dtype == Dtype::Mixed).then_some(Compute::Bf16),
        moments: a.moments,
        head_chunk: a.head_chunk.map(|n| n as usize),
        attention_chunk: a.attention_chunk.map(|n| n as usize),
    };
    let report = pixmo_trainer::bench::run::<B>(&spec, device)?;
    println!(
        "{}",
        serde_json::to_string(&serde_json::json!({
            "dtype": format!("{:?}", a.dtype).to_lowercase(),
            "cuda_build": backend_label(a),
            "spec": spec,
            "report": report,
        }))?
    );
    Ok(())
}

fn eval<B: Backend>(a: &EvalArgs, device: &B::Device) -> anyhow::Result<()> {
    predictions_file(a.predictions.as_deref())?;
    let state = read_state(&a.checkpoint)?;
    let model = load_model::<B>(&a.checkpoint, &state, device)?;
    let datasets = parse_datasets(&a.datasets)?;
    let examples: Vec<Example> = load_split(&a.data, &datasets, &a.split, Some(a.count))?
        .into_iter()
        .flat_map(|d| d.1)
        .collect();
    let tok = state.model.build_tokenizer()?;
    let predictions = predict(&model, &state.model, &tok, &examples, 16, device);
    if let Some(path) = &a.predictions {
        write_predictions(path, &predictions)?;
    }
    let report = EvalReport::from_predictions(&predictions);
    if let Some(first) = predictions.iter().find(|p| p.unreadable.is_some()) {
        eprintln!(
            "warning: {} example(s) not scored: their image cannot be decoded (first: {}: {})",
            report.unreadable,
            first.id,
            first.unreadable.as_deref().unwrap_or_default()
        );
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Probabilities to 4 decimals, for a predictions file.
fn rounded(p: &[f32]) -> Vec<f64> {
    p.iter()
        .map(|&x| (f64::from(x) * 1e4).round() / 1e4)
        .collect()
}

/// Writes predictions as JSON lines, whole or not at all.
fn write_predictions(path: &Path, predictions: &[Prediction]) -> anyhow::Result<()> {
    let mut text = String::new();
    for p in predictions {
        text.push_str(&serde_json::to_string(p)?);
        text.push('\n');
    }
    pixmo_shards::atomic_write(path, text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The training config `pixmo-train finetune` builds from `args`.
    fn finetune_config(args: &str) -> TrainConfig {
        let line = format!("pixmo-train finetune --data shards {args}");
        let cli = Cli::try_parse_from(line.split_whitespace()).expect("arguments parse");
        let Command::Finetune(a) = cli.command else {
            panic!("not a finetune command");
        };
        train_config(Stage::Finetune, &a)
    }

    /// `--mixed f16` scales the loss from 65536 unless told otherwise (`--loss-scale 0`: not
    /// at all); other runs scale only when asked; `--max-skipped-steps` reaches the config.
    #[test]
    fn f16_activations_scale_the_loss_unless_told_otherwise() {
        assert_eq!(
            finetune_config("--mixed f16").loss_scale,
            Some(LossScale::f16())
        );
        assert_eq!(
            finetune_config("--mixed f16 --loss-scale 0").loss_scale,
            None
        );
        let asked = finetune_config("--mixed f16 --loss-scale 1024").loss_scale;
        assert_eq!(asked.map(|s| s.scale), Some(1024.0));
        assert_eq!(finetune_config("--mixed bf16").loss_scale, None);
        assert_eq!(finetune_config("").loss_scale, None);
        assert_eq!(finetune_config("").max_skipped_steps, 5);
        assert_eq!(
            finetune_config("--max-skipped-steps 0").max_skipped_steps,
            0
        );
    }
}
