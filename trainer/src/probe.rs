//! A vision-only probe: can the vision side of a model read a clock's hour at a given
//! geometry, without the decoder? The ViT and the connector (pooling and projector) of a
//! Molmo model, the features of every pooled token of every crop concatenated, and a linear
//! head over the 12 hours, trained with cross-entropy on the hour label.
//!
//! If the probe stays at chance (1/12), the decoder cannot do better from these features:
//! the limit is the pixels, the geometry or the vision encoder, not the language side.
//!
//! With a minute head too (60-way), the probe is also a supervised pre-training stage for the
//! vision side: [`save_vision`] writes its ViT and connector, and fine-tuning can start from
//! them ([`load_vision`]; `pixmo-train finetune --init-vision DIR`).

use burn::module::AutodiffModule;
use burn::module::Param;
use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use std::path::Path;

use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};

use crate::config::ModelConfig;
use crate::data::{EvalTarget, Example, decode_image};
use crate::error::Error;
use crate::model::{Connector, Vit, normal_param};
use crate::preprocess::{ImageInput, RgbF32, preprocess};
use crate::rng::Rng;
use crate::tokenizer::Tokenizer;
use pixmo_core::parallel::parallel_map;
use pixmo_eval::clock::parse_time;

/// How the heads read the pooled tokens of an image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Readout {
    /// Every pooled token's feature concatenated: a linear head with its own weights for each
    /// token position (it reads a dial that stays in place; a moved dial is another input).
    #[default]
    Concat,
    /// The mean of the pooled tokens' features: the vision side must put the time into what
    /// an attention spread evenly over the image tokens sees, which is what a freshly
    /// initialised decoder sees.
    Mean,
    /// [`ATTENTION_QUERIES`] learned queries attend over the pooled tokens (multi-head, as
    /// the decoder's attention reads them), their outputs concatenated: the weights that read
    /// a feature are the same wherever it is in the image, and where to look depends on the
    /// image.
    Attention,
}

impl Readout {
    /// The default, which settings do not write (so older probes' settings read the same).
    #[must_use]
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` wants a reference
    pub fn is_concat(&self) -> bool {
        *self == Readout::Concat
    }
}

impl std::str::FromStr for Readout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "concat" => Ok(Readout::Concat),
            "mean" => Ok(Readout::Mean),
            "attention" => Ok(Readout::Attention),
            _ => Err(format!(
                "unknown readout `{s}`: one of `concat`, `mean`, `attention`"
            )),
        }
    }
}

/// Learned queries of [`Readout::Attention`].
pub const ATTENTION_QUERIES: usize = 4;

/// Heads of the readout's attention (they divide every preset's LLM width).
const ATTENTION_HEADS: usize = 4;

/// [`Readout::Attention`]: learned queries over the pooled tokens.
#[derive(Module, Debug)]
pub struct AttentionReadout<B: Backend> {
    /// `[queries, width]`.
    pub queries: Param<Tensor<B, 2>>,
    /// Multi-head attention of the queries over the tokens.
    pub attention: MultiHeadAttention<B>,
}

impl<B: Backend> AttentionReadout<B> {
    fn new(width: usize, device: &B::Device) -> Self {
        let heads = if width.is_multiple_of(ATTENTION_HEADS) {
            ATTENTION_HEADS
        } else {
            1
        };
        AttentionReadout {
            queries: normal_param([ATTENTION_QUERIES, width], 0.02, device),
            attention: MultiHeadAttentionConfig::new(width, heads)
                .with_dropout(0.0)
                .init(device),
        }
    }

    /// `[batch, tokens, width]` → `[batch, queries · width]`.
    fn forward(&self, tokens: Tensor<B, 3>) -> Tensor<B, 2> {
        let [b, _, d] = tokens.dims();
        let queries = self.queries.val().unsqueeze_dim::<3>(0).repeat_dim(0, b);
        let out = self
            .attention
            .forward(MhaInput::new(queries, tokens.clone(), tokens))
            .context;
        out.reshape([b, ATTENTION_QUERIES * d])
    }
}

/// ViT + connector + a linear hour head (and optionally a linear minute head).
#[derive(Module, Debug)]
pub struct HourProbe<B: Backend> {
    /// Vision encoder.
    pub vit: Vit<B>,
    /// Pooling and projector.
    pub connector: Connector<B>,
    /// `[features → 12]` (features: see [`Readout`]).
    pub head: Linear<B>,
    /// `[features → 60]`, when the probe reads minutes too.
    pub minute_head: Option<Linear<B>>,
    /// The learned queries, with [`Readout::Attention`].
    pub attention: Option<AttentionReadout<B>>,
    /// How the heads read the pooled tokens.
    #[module(skip)]
    readout: Readout,
    patches: usize,
    patch_dim: usize,
}

impl<B: Backend> HourProbe<B> {
    /// Random init for images of `crops` crops each (global included); heads over the pooled
    /// features as `readout` reads them.
    pub fn new(
        config: &ModelConfig,
        crops: usize,
        minutes: bool,
        readout: Readout,
        device: &B::Device,
    ) -> Self {
        let width = config.llm.d_model;
        let features = match readout {
            Readout::Concat => crops * config.vision.pooled_per_crop() * width,
            Readout::Mean => width,
            Readout::Attention => ATTENTION_QUERIES * width,
        };
        HourProbe {
            readout,
            attention: (readout == Readout::Attention)
                .then(|| AttentionReadout::new(width, device)),
            vit: Vit::new(config, device),
            connector: Connector::new(config, device),
            head: LinearConfig::new(features, 12).init(device),
            minute_head: minutes.then(|| LinearConfig::new(features, 60).init(device)),
            patches: config.vision.patches_per_crop(),
            patch_dim: config.vision.patch_dim(),
        }
    }

    /// How the heads read the pooled tokens.
    #[must_use]
    pub fn readout(&self) -> Readout {
        self.readout
    }

    /// Hour logits `[batch, 12]` of preprocessed images that all have the same crop count.
    pub fn forward(&self, images: &[&ImageInput], device: &B::Device) -> Tensor<B, 2> {
        self.head.forward(self.features(images, device))
    }

    /// Hour logits `[batch, 12]` and, with a minute head, minute logits `[batch, 60]`.
    pub fn forward_time(
        &self,
        images: &[&ImageInput],
        device: &B::Device,
    ) -> (Tensor<B, 2>, Option<Tensor<B, 2>>) {
        let features = self.features(images, device);
        let minutes = self
            .minute_head
            .as_ref()
            .map(|h| h.forward(features.clone()));
        (self.head.forward(features), minutes)
    }

    /// The pooled tokens' features of an image as the readout reads them: concatenated
    /// `[batch, crops · pooled · width]`, their mean `[batch, width]`, or the attention's
    /// `[batch, queries · width]`.
    fn features(&self, images: &[&ImageInput], device: &B::Device) -> Tensor<B, 2> {
        let b = images.len();
        let crops: Vec<f32> = images
            .iter()
            .flat_map(|i| i.crops.iter().copied())
            .collect();
        let masks: Vec<f32> = images
            .iter()
            .flat_map(|i| i.patch_masks.iter().copied())
            .collect();
        let n = masks.len() / self.patches;
        let crops = Tensor::from_data(
            TensorData::new(crops, [n, self.patches, self.patch_dim]),
            device,
        );
        let masks = Tensor::from_data(TensorData::new(masks, [n, self.patches]), device);
        let layers = self.vit.forward(crops);
        let features = self.connector.forward(&layers, masks);
        let [rows, d] = features.dims();
        match (self.readout, &self.attention) {
            (Readout::Attention, Some(attention)) => {
                attention.forward(features.reshape([b, rows / b, d]))
            }
            (Readout::Mean, _) => features
                .reshape([b, rows / b, d])
                .mean_dim(1)
                .reshape([b, d]),
            _ => features.reshape([b, rows * d / b]),
        }
    }
}

/// The central `fraction` of an image (both sides), as a stand-in for cropping to the dial:
/// pixmo clocks keep the dial centre within ±0.26 of the image centre.
#[must_use]
pub fn centre_crop(image: &RgbF32, fraction: f32) -> RgbF32 {
    let f = fraction.clamp(0.05, 1.0);
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let (h, w) = (
        ((image.height as f32 * f) as usize).max(1),
        ((image.width as f32 * f) as usize).max(1),
    );
    let (top, left) = ((image.height - h) / 2, (image.width - w) / 2);
    let mut data = Vec::with_capacity(h * w * 3);
    for y in top..top + h {
        let row = (y * image.width + left) * 3;
        data.extend_from_slice(&image.data[row..row + w * 3]);
    }
    RgbF32 {
        height: h,
        width: w,
        data,
    }
}

/// One preprocessed clock image and its hour (0–11) and minute.
#[derive(Clone, Debug)]
pub struct ProbeExample {
    /// The model's input.
    pub input: ImageInput,
    /// Hour on the 12-hour dial (12 → 0).
    pub hour: usize,
    /// Minute (0–59).
    pub minute: usize,
}

/// Clock examples → probe examples (others, and undecodable images, are skipped), in input
/// order; decoding and preprocessing run on all cores.
#[must_use]
pub fn probe_examples(
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[Example],
    centre: Option<f32>,
) -> Vec<ProbeExample> {
    let one = |e: &Example| -> Option<ProbeExample> {
        let EvalTarget::Clock { text, .. } = &e.target else {
            return None;
        };
        let time = parse_time(text)?;
        let image = decode_image(e).ok()?;
        let image = match centre {
            Some(f) => centre_crop(&image, f),
            None => image,
        };
        Some(ProbeExample {
            input: preprocess(&config.vision, tok, &image),
            hour: usize::try_from(time.hour % 12).unwrap_or(0),
            minute: usize::try_from(time.minute % 60).unwrap_or(0),
        })
    };
    let threads = pixmo_core::parallel::cores();
    parallel_map(examples, threads, one)
        .into_iter()
        .flatten()
        .collect()
}

/// Settings of a probe run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProbeSettings {
    /// Optimiser steps.
    pub steps: u64,
    /// Images per step.
    pub batch: usize,
    /// Adam learning rate (after a linear warmup of `steps / 20`).
    pub lr: f64,
    /// Seed of the init and of the batch order.
    pub seed: u64,
    /// Evaluate every this many steps.
    pub eval_every: u64,
    /// Curriculum: the first this many steps draw from the `first` examples of
    /// [`train_probe`] (upright clocks, say), the rest from its `train` (0: no curriculum).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_steps: u64,
    /// Curriculum mixing: during the `first_steps`, each image is drawn from `first` with a
    /// probability falling linearly from 1 (step 0) to 0 (step `first_steps`), else from
    /// `train`; without it every image of those steps comes from `first`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gradual: bool,
    /// Train a minute head beside the hour head (the two cross-entropies added).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub minutes: bool,
    /// How the heads read the pooled tokens (see [`Readout`]).
    #[serde(default, skip_serializing_if = "Readout::is_concat")]
    pub readout: Readout,
}

impl ProbeSettings {
    /// Probability that an image of `step` comes from the curriculum's first examples.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn first_share(&self, step: u64) -> f64 {
        if step >= self.first_steps {
            0.0
        } else if self.gradual {
            1.0 - step as f64 / self.first_steps as f64
        } else {
            1.0
        }
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` wants a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Where one training image comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draw {
    /// Index into the curriculum's first examples.
    First(usize),
    /// Index into the training examples.
    Train(usize),
}

/// Seeded epochs over the curriculum's first examples and the training examples: each set
/// is reshuffled whenever it is used up.
#[derive(Debug)]
pub struct Draws {
    order: Vec<usize>,
    at: usize,
    first_order: Vec<usize>,
    first_at: usize,
    rng: Rng,
    mix: Rng,
}

impl Draws {
    /// Draws over `first` and `train` examples.
    #[must_use]
    pub fn new(first: usize, train: usize, seed: u64) -> Draws {
        Draws {
            order: (0..train).collect(),
            at: train,
            first_order: (0..first).collect(),
            first_at: first,
            rng: Rng::new(seed),
            // Its own stream, so runs without mixing draw the same batches as before it.
            mix: Rng::derive(seed, 1),
        }
    }

    /// The next image: from the first examples with probability `first_share`.
    pub fn next(&mut self, first_share: f64) -> Draw {
        let from_first = first_share >= 1.0 || (first_share > 0.0 && self.mix.chance(first_share));
        if from_first && !self.first_order.is_empty() {
            if self.first_at == self.first_order.len() {
                self.rng.shuffle(&mut self.first_order);
                self.first_at = 0;
            }
            self.first_at += 1;
            return Draw::First(self.first_order[self.first_at - 1]);
        }
        if self.at == self.order.len() {
            self.rng.shuffle(&mut self.order);
            self.at = 0;
        }
        self.at += 1;
        Draw::Train(self.order[self.at - 1])
    }
}

/// The index of each row's largest logit.
fn argmax_rows<B: Backend>(logits: Tensor<B, 2>) -> Vec<i64> {
    logits
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .to_vec()
        .unwrap_or_default()
}

/// Whether a read `(hour, minute)` (argmax indices) is within 3 minutes of the gold time on
/// the 12-hour dial (11:59 is 2 minutes from 0:01).
fn within_3_minutes(read: (i64, i64), gold: (usize, usize)) -> bool {
    let (Ok(hour), Ok(minute)) = (i64::try_from(gold.0), i64::try_from(gold.1)) else {
        return false;
    };
    let diff = (read.0 * 60 + read.1 - (hour * 60 + minute)).rem_euclid(720);
    diff.min(720 - diff) <= 3
}

/// How well a probe reads a set of clocks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProbeScore {
    /// Share whose hour the probe gets right.
    pub hour: f64,
    /// Share read within 3 minutes on the 12-hour dial (hour and minute heads together, as
    /// Molmo's clock metric scores a time); `None` without a minute head.
    pub close: Option<f64>,
}

/// Scores `data` with one forward pass per 32 clocks (the hour and, with a minute head, the
/// time within 3 minutes).
pub fn score<B: Backend>(
    probe: &HourProbe<B>,
    data: &[ProbeExample],
    device: &B::Device,
) -> ProbeScore {
    let (mut right, mut close) = (0usize, 0usize);
    for chunk in data.chunks(32) {
        let inputs: Vec<&ImageInput> = chunk.iter().map(|e| &e.input).collect();
        let (hours, minutes) = probe.forward_time(&inputs, device);
        let hours = argmax_rows(hours);
        let minutes = minutes.map(argmax_rows).unwrap_or_default();
        for (e, &h) in chunk.iter().zip(&hours) {
            if usize::try_from(h).ok() == Some(e.hour) {
                right += 1;
            }
        }
        for ((e, &h), &m) in chunk.iter().zip(&hours).zip(&minutes) {
            if within_3_minutes((h, m), (e.hour, e.minute)) {
                close += 1;
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let share = |n: usize| n as f64 / data.len().max(1) as f64;
    ProbeScore {
        hour: share(right),
        close: probe.minute_head.is_some().then(|| share(close)),
    }
}

/// What [`save_vision`] writes beside the probe's weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedProbe {
    /// The model config whose vision side the probe trained.
    pub model: ModelConfig,
    /// Crops per image (global included).
    pub crops: usize,
    /// Whether it has a minute head.
    pub minutes: bool,
    /// The centre crop its images had (fine-tuning sees whole images).
    pub centre_crop: Option<f32>,
    /// How it was trained.
    pub settings: ProbeSettings,
}

/// Writes a trained probe (`probe.mpk`) and what it is (`probe.json`) into `dir`.
///
/// # Errors
/// When a file cannot be written.
pub fn save_vision<B: Backend>(
    probe: &HourProbe<B>,
    saved: &SavedProbe,
    dir: &Path,
) -> crate::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    probe
        .clone()
        .save_file(dir.join("probe"), &recorder)
        .map_err(|e| Error::Checkpoint {
            path: dir.to_path_buf(),
            message: format!("cannot save the probe: {e}"),
        })?;
    let json = serde_json::to_vec_pretty(saved).map_err(|e| Error::Checkpoint {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let path = dir.join("probe.json");
    std::fs::write(&path, json).map_err(|e| Error::io("write", &path, e))
}

/// A probe saved by [`save_vision`] and what it is, for a model of `config` (its vision
/// geometry, ViT, connector and LLM width must be the probe's).
///
/// # Errors
/// When the files cannot be read or do not fit `config`.
pub fn load_probe<B: Backend>(
    dir: &Path,
    config: &ModelConfig,
    device: &B::Device,
) -> crate::Result<(HourProbe<B>, SavedProbe)> {
    let fail = |message: String| Error::Checkpoint {
        path: dir.to_path_buf(),
        message,
    };
    let path = dir.join("probe.json");
    let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    let saved: SavedProbe =
        serde_json::from_slice(&bytes).map_err(|e| fail(format!("bad `probe.json`: {e}")))?;
    let m = &saved.model;
    if m.vision != config.vision
        || m.vit != config.vit
        || m.connector != config.connector
        || m.llm.d_model != config.llm.d_model
    {
        return Err(fail(
            "the probe's vision geometry, ViT, connector or LLM width differ from the model's\nhint: train the probe with the same `--model`/`--model-config`".into(),
        ));
    }
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    let probe = HourProbe::<B>::new(
        m,
        saved.crops,
        saved.minutes,
        saved.settings.readout,
        device,
    )
    .load_file(dir.join("probe"), &recorder, device)
    .map_err(|e| fail(format!("cannot load the probe: {e}")))?;
    Ok((probe, saved))
}

/// The ViT and connector of a probe saved by [`save_vision`] (see [`load_probe`]).
///
/// # Errors
/// When the files cannot be read or do not fit `config`.
pub fn load_vision<B: Backend>(
    dir: &Path,
    config: &ModelConfig,
    device: &B::Device,
) -> crate::Result<(Vit<B>, Connector<B>)> {
    let (probe, _) = load_probe::<B>(dir, config, device)?;
    Ok((probe.vit, probe.connector))
}

/// The clocks of a probe run.
#[derive(Clone, Copy, Debug)]
pub struct ProbeData<'a> {
    /// A curriculum's first clocks (see [`ProbeSettings::first_steps`]); empty without one.
    pub first: &'a [ProbeExample],
    /// Training clocks.
    pub train: &'a [ProbeExample],
    /// Held-out clocks (`test_acc`, `test_close`).
    pub test: &'a [ProbeExample],
    /// More named held-out sets, scored at the same reports.
    pub also: &'a [(String, Vec<ProbeExample>)],
}

/// Where a probe run starts.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per run, moved into the run at once
pub enum ProbeStart<B: Backend> {
    /// A random init.
    Random,
    /// A probe of [`load_probe`], heads included (a curriculum's next phase): its crops,
    /// minute head and readout must be the run's.
    Probe(HourProbe<B>, SavedProbe),
    /// A saved probe's ViT and connector (of [`load_vision`]) under fresh heads of the run's
    /// readout: what another readout makes of vision features trained one way.
    Vision(Vit<B>, Connector<B>),
}

/// Trains a probe on `data.train`, reporting `{"step", "loss", "train_acc", "test_acc"}` to
/// `report` every `eval_every` steps and at the end (train accuracy on at most 300 training
/// images; held-out accuracy on `data.test`). It starts from `start` (see [`ProbeStart`]).
/// Each named set of `data.also` (held-out clocks of other poses, say) is scored at the
/// same reports, as `"also": {name: {"acc", "close"}}` (`close` with a minute head only).
///
/// # Errors
/// [`Error::Config`] when `train` is empty, the images do not all have the same number of
/// crops (the head reads every crop's features, so one size), or a curriculum has no first
/// examples.
pub fn train_probe<B: AutodiffBackend>(
    config: &ModelConfig,
    data: &ProbeData<'_>,
    start: ProbeStart<B>,
    settings: &ProbeSettings,
    device: &B::Device,
    mut report: impl FnMut(serde_json::Value),
) -> crate::Result<HourProbe<B>> {
    let ProbeData {
        first,
        train,
        test,
        also,
    } = *data;
    let Some(crops) = train.first().map(|e| e.input.crop_count()) else {
        return Err(Error::Config("the probe has no training clocks".into()));
    };
    let sizes: std::collections::BTreeSet<usize> = train
        .iter()
        .chain(test)
        .chain(first)
        .chain(also.iter().flat_map(|(_, set)| set))
        .map(|e| e.input.crop_count())
        .collect();
    if sizes.len() > 1 {
        return Err(Error::Config(format!(
            "the probe reads every crop of an image, so it needs images that all make the same number of crops; these make {sizes:?}\nhint: probe clocks rendered at one size (PixMo-Clocks renders 448 px)"
        )));
    }
    if settings.first_steps > 0 && first.is_empty() {
        return Err(Error::Config(
            "a curriculum (`--first-steps`) needs first clocks (`--first-data`)".into(),
        ));
    }
    B::seed(device, settings.seed);
    let fresh = || HourProbe::<B>::new(config, crops, settings.minutes, settings.readout, device);
    let mut probe = match start {
        ProbeStart::Probe(probe, saved) => {
            let theirs = (saved.crops, saved.minutes, saved.settings.readout);
            let ours = (crops, settings.minutes, settings.readout);
            if theirs != ours {
                return Err(Error::Config(format!(
                    "the starting probe reads (crops, minutes, readout) = {theirs:?}; these clocks and settings need {ours:?}\nhint: continue with the starting probe's `--minutes`/`--readout` on clocks of its size"
                )));
            }
            probe
        }
        ProbeStart::Random => fresh(),
        ProbeStart::Vision(vit, connector) => HourProbe {
            vit,
            connector,
            ..fresh()
        },
    };
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut draws = Draws::new(first.len(), train.len(), settings.seed);
    let (mut loss_sum, mut losses) = (0.0, 0u32);
    let seen = &train[..train.len().min(300)];
    let warmup = (settings.steps / 20).max(1);
    for step in 0..settings.steps {
        let share = settings.first_share(step);
        let batch: Vec<&ProbeExample> = (0..settings.batch)
            .map(|_| match draws.next(share) {
                Draw::First(i) => &first[i],
                Draw::Train(i) => &train[i],
            })
            .collect();
        let inputs: Vec<&ImageInput> = batch.iter().map(|e| &e.input).collect();
        let labels = |f: &dyn Fn(&ProbeExample) -> usize| -> Tensor<B, 1, Int> {
            let v: Vec<i64> = batch
                .iter()
                .map(|e| i64::try_from(f(e)).unwrap_or(0))
                .collect();
            Tensor::from_data(TensorData::new(v, [batch.len()]), device)
        };
        let (hours, minutes) = probe.forward_time(&inputs, device);
        let mut loss = loss_fn.forward(hours, labels(&|e| e.hour));
        if let Some(minutes) = minutes {
            loss = loss + loss_fn.forward(minutes, labels(&|e| e.minute));
        }
        loss_sum += loss.clone().into_scalar().elem::<f64>();
        losses += 1;
        let grads = GradientsParams::from_grads(loss.backward(), &probe);
        #[allow(clippy::cast_precision_loss)]
        let lr = settings.lr * ((step + 1) as f64 / warmup as f64).min(1.0);
        probe = optim.step(lr, probe, grads);
        let last = step + 1 == settings.steps;
        if last || (settings.eval_every > 0 && (step + 1).is_multiple_of(settings.eval_every)) {
            let valid = probe.valid();
            let put = |line: &mut serde_json::Value, acc: &str, close: &str, set| {
                let got = score(&valid, set, device);
                line[acc] = serde_json::json!(got.hour);
                if let Some(c) = got.close {
                    line[close] = serde_json::json!(c);
                }
            };
            let mut line = serde_json::json!({
                "step": step + 1,
                "loss": loss_sum / f64::from(losses.max(1)),
            });
            put(&mut line, "train_acc", "train_close", seen);
            put(&mut line, "test_acc", "test_close", test);
            if !also.is_empty() {
                let mut scores = serde_json::Map::new();
                for (name, set) in also {
                    let mut entry = serde_json::json!({});
                    put(&mut entry, "acc", "close", set);
                    scores.insert(name.clone(), entry);
                }
                line["also"] = serde_json::Value::Object(scores);
            }
            report(line);
            (loss_sum, losses) = (0.0, 0);
        }
    }
    Ok(probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_3_minutes_wraps_the_twelve_hour_dial() {
        assert!(within_3_minutes((3, 20), (3, 20)));
        assert!(within_3_minutes((3, 23), (3, 20)));
        assert!(!within_3_minutes((3, 24), (3, 20)));
        assert!(within_3_minutes((2, 58), (3, 1)));
        assert!(!within_3_minutes((2, 57), (3, 1)));
        // across 12 o'clock, both ways
        assert!(within_3_minutes((11, 59), (0, 1)));
        assert!(within_3_minutes((0, 2), (11, 59)));
        assert!(!within_3_minutes((11, 57), (0, 1)));
        // the right minute under the wrong hour is not close
        assert!(!within_3_minutes((4, 20), (3, 20)));
    }

    #[test]
    fn curriculum_share_falls_linearly_when_gradual_and_switches_otherwise() {
        let mut s = ProbeSettings {
            steps: 10,
            batch: 1,
            lr: 1e-3,
            seed: 0,
            eval_every: 0,
            first_steps: 4,
            gradual: false,
            minutes: false,
            readout: Readout::Concat,
        };
        let abrupt: Vec<f64> = (0..6).map(|t| s.first_share(t)).collect();
        assert_eq!(abrupt, [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        s.gradual = true;
        let gradual: Vec<f64> = (0..6).map(|t| s.first_share(t)).collect();
        assert_eq!(gradual, [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]);
        s.first_steps = 0;
        assert_eq!(s.first_share(0), 0.0);
    }

    #[test]
    fn gradual_draws_mix_both_sets_in_the_scheduled_shares() {
        let s = ProbeSettings {
            steps: 400,
            batch: 50,
            lr: 1e-3,
            seed: 3,
            eval_every: 0,
            first_steps: 200,
            gradual: true,
            minutes: false,
            readout: Readout::Concat,
        };
        let mut draws = Draws::new(30, 40, s.seed);
        let mut first_per_step = Vec::new();
        let mut seen_train = std::collections::BTreeSet::new();
        for step in 0..s.steps {
            let share = s.first_share(step);
            let mut n = 0;
            for _ in 0..s.batch {
                match draws.next(share) {
                    Draw::First(i) => {
                        assert!(i < 30);
                        n += 1;
                    }
                    Draw::Train(i) => {
                        assert!(i < 40);
                        seen_train.insert(i);
                    }
                }
            }
            first_per_step.push(n);
        }
        let mean = |r: std::ops::Range<usize>| {
            let len = r.len();
            #[allow(clippy::cast_precision_loss)]
            let m = first_per_step[r].iter().sum::<usize>() as f64 / (len * 50) as f64;
            m
        };
        // Linear from 1 to 0 over 200 steps: ~0.875 in the first quarter, ~0.125 in the last.
        assert!((mean(0..50) - 0.875).abs() < 0.03, "{}", mean(0..50));
        assert!((mean(150..200) - 0.125).abs() < 0.03, "{}", mean(150..200));
        assert_eq!(first_per_step[0], 50);
        assert!(first_per_step[200..].iter().all(|&n| n == 0));
        assert_eq!(seen_train.len(), 40);
        // The same seed draws the same sequence.
        let mut again = Draws::new(30, 40, s.seed);
        let mut other = Draws::new(30, 40, s.seed);
        for _ in 0..500 {
            assert_eq!(again.next(0.5), other.next(0.5));
        }
    }

    #[test]
    fn centre_crop_keeps_the_middle_and_the_orientation() {
        // 10×6 image whose red channel is x and green channel is y.
        let mut data = Vec::new();
        for y in 0..6u8 {
            for x in 0..10u8 {
                data.extend_from_slice(&[f32::from(x), f32::from(y), 0.0]);
            }
        }
        let image = RgbF32 {
            height: 6,
            width: 10,
            data,
        };
        let c = centre_crop(&image, 0.5);
        assert_eq!((c.width, c.height), (5, 3));
        // Top-left of the crop is (x 2, y 1); the last pixel is (x 6, y 3).
        assert_eq!(&c.data[..3], &[2.0, 1.0, 0.0]);
        assert_eq!(&c.data[c.data.len() - 3..], &[6.0, 3.0, 0.0]);
    }
}
