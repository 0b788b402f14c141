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

use crate::augment::{self, Augment, Kept};
use crate::config::{ModelConfig, VisionGeometry};
use crate::data::{EvalTarget, Example, decode_image};
use crate::error::Error;
use crate::model::{Connector, Vit, normal_param};
use crate::optim::{Group, GroupSchedule, Schedule};
use crate::preprocess::{ImageInput, RgbF32, assemble, assemble_crops, resize_for, tiling_for};
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
    /// `[features → 4]`: where the dial is ([`DialBox`]), with [`Locator::Linear`].
    pub dial_head: Option<Linear<B>>,
    /// The heat-map locator, with [`Locator::Heatmap`].
    pub dial_heat: Option<HeatLocator<B>>,
    /// How far the dial is turned ([`ProbeSettings::turn_loss`]): `[features → 2]`, its
    /// cosine and sine, or with [`TurnTeller::Bins`] `[features → bins]`, logits over equal
    /// arcs of the circle.
    pub turn_head: Option<Linear<B>>,
    /// `[features → bins]`: where the hour hand points, as one of `bins` equal arcs of the
    /// dial ([`ProbeSettings::hand_bins`]), with a hand head.
    pub hand_head: Option<Linear<B>>,
    /// How the heads read the pooled tokens.
    #[module(skip)]
    readout: Readout,
    patches: usize,
    patch_dim: usize,
    /// Pooled tokens per crop (the global crop's come first) and the crop side in pixels.
    pooled: usize,
    crop_size: usize,
    /// The turn head's arcs ([`TurnTeller::Bins`]); 0 when it regresses cosine and sine.
    turn_bins: usize,
    /// Read the hour from the hour head and the minute together ([`hour_by_minute`]).
    #[module(skip)]
    hour_by_minute: bool,
    /// Read the hour and the minute together ([`read_time`]), with this overlap discount.
    #[module(skip)]
    joint: Option<f32>,
    /// Read each clock several ways and average the heads' probabilities ([`Views`]).
    #[module(skip)]
    views: Option<Views>,
}

/// Several views of each clock a probe reads (test-time augmentation): the clock as it is
/// and draws of [`Augment`] from its kept image ([`ProbeExample::kept`]), the hour, minute
/// and hand heads' probabilities averaged over them before the time is read. Each draw is
/// fixed by `seed`, the clock's place in what is read and the view's number. A clock kept
/// without its image is read as it is only. A teller over arcs averages its arcs'
/// probabilities over the views too, each view's arcs turned back by the turn drawn for it
/// ([`arcs_turned_back`]), and `spins` turns views further, evenly round the circle.
#[derive(Clone, Debug)]
pub struct Views {
    /// How far each draw may go.
    pub augment: Augment,
    /// Views in all, the clock as it is included (1: that one alone).
    pub count: usize,
    /// Turns spread evenly round the circle (1: none): view `v` is the `v / spins`-th draw
    /// (0: the clock as it is) turned a further `v % spins` × 360° / `spins` clockwise.
    pub spins: usize,
    /// Seed of the draws.
    pub seed: u64,
    /// How images become crops, for the drawn views.
    pub vision: VisionGeometry,
}

impl Views {
    /// View `v` (0: as it is) of each of `clocks`, the first of them `first` in what is
    /// read.
    #[must_use]
    pub fn draw(&self, clocks: &[ProbeExample], first: usize, v: usize) -> Vec<ImageInput> {
        self.draw_turned(clocks, first, v).0
    }

    /// [`Views::draw`], with how far each view was turned (degrees clockwise on screen; 0
    /// for a clock read as it is).
    #[must_use]
    pub fn draw_turned(
        &self,
        clocks: &[ProbeExample],
        first: usize,
        v: usize,
    ) -> (Vec<ImageInput>, Vec<f32>) {
        let spins = self.spins.max(1);
        if v == 0 {
            return (
                clocks.iter().map(|e| e.input.clone()).collect(),
                vec![0.0; clocks.len()],
            );
        }
        #[allow(clippy::cast_precision_loss)]
        let spin = (v % spins) as f32 * 360.0 / spins as f32;
        let places: Vec<(usize, &ProbeExample)> = clocks.iter().enumerate().collect();
        parallel_map(&places, pixmo_core::parallel::cores(), |&(i, e)| {
            if e.kept.is_none() {
                return (e.input.clone(), 0.0);
            }
            let mut draw = if v / spins == 0 {
                augment::Draw::identity()
            } else {
                let place = u64::try_from((first + i) * self.count + v).unwrap_or(u64::MAX);
                self.augment
                    .draw(&mut Rng::derive(self.seed ^ 0x7669_6577, place))
            };
            draw.turn += spin;
            (augmented(&self.vision, e, &draw), draw.turn)
        })
        .into_iter()
        .unzip()
    }
}

/// Probabilities over equal arcs (the first starting at -180°) told of a view turned
/// `turn_deg` clockwise, turned back to the clock as it is: the view shows each turn
/// `turn_deg` further on, so arc `a` takes the view's probability `turn_deg` further on,
/// interpolated between the two arcs it falls between.
#[must_use]
pub fn arcs_turned_back(p: &[f32], turn_deg: f32) -> Vec<f32> {
    let n = p.len();
    if n == 0 {
        return Vec::new();
    }
    #[allow(clippy::cast_precision_loss)]
    let by = wrap_degrees(turn_deg) / (360.0 / n as f32);
    let whole = by.floor();
    let part = by - whole;
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let whole = whole as i64;
    #[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)]
    let at = |a: i64| p[a.rem_euclid(n as i64) as usize];
    #[allow(clippy::cast_possible_wrap)]
    (0..n as i64)
        .map(|a| {
            let from = a + whole;
            if part == 0.0 {
                at(from)
            } else {
                at(from) * (1.0 - part) + at(from + 1) * part
            }
        })
        .collect()
}

/// How a probe tells how far the dial is turned ([`ProbeSettings::turn_bins`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnTeller {
    /// A linear head regresses the turn's cosine and sine (squared error).
    Regress,
    /// A linear head scores this many equal arcs of the circle, the first starting at
    /// -180° (cross-entropy on the arc the turn falls in); the told turn is the
    /// probability-weighted circular mean of the likeliest arc's centre and its two
    /// neighbours' ([`turn_of_arcs`]). Unlike a regression, which meets an image that could
    /// be turned either of two ways with the mean of the two, it picks one.
    Bins(usize),
}

/// How `turns` (degrees) are spread over `bins` equal arcs, as each arc's log-odds against an
/// even spread (one more clock counted in every arc, so no arc is ruled out): the prior a
/// teller over arcs trained on evenly spread turns adds to its logits ([`read_clocks_with`]).
#[must_use]
pub fn turn_prior(turns: impl IntoIterator<Item = f32>, bins: usize) -> Vec<f32> {
    if bins == 0 {
        return Vec::new();
    }
    let mut counts = vec![1.0f32; bins];
    for t in turns {
        counts[turn_arc(t, bins)] += 1.0;
    }
    let total: f32 = counts.iter().sum();
    #[allow(clippy::cast_precision_loss)]
    let even = 1.0 / bins as f32;
    counts.iter().map(|c| (c / total / even).ln()).collect()
}

/// The arc of `bins` equal arcs (the first starting at -180°) that `turn_deg` falls in.
#[must_use]
pub fn turn_arc(turn_deg: f32, bins: usize) -> usize {
    #[allow(clippy::cast_precision_loss)]
    let width = 360.0 / bins.max(1) as f32;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let arc = ((wrap_degrees(turn_deg) + 180.0) / width).floor() as usize;
    arc % bins.max(1)
}

/// The turn (degrees, in (-180, 180]) that logits over equal arcs ([`TurnTeller::Bins`])
/// tell: the circular mean of the likeliest arc's centre and its two neighbours', each
/// weighted by its softmax probability (so two equally likely neighbours tell the line
/// between them, and a lone likely arc its centre).
#[must_use]
pub fn turn_of_arcs(logits: &[f32]) -> f32 {
    if logits.is_empty() {
        return 0.0;
    }
    let top = logits
        .iter()
        .enumerate()
        .fold(0, |best, (i, &l)| if l > logits[best] { i } else { best });
    turn_about_arc(logits, top)
}

/// The turn that arc `top` and its two neighbours tell: their centres' circular mean, each
/// weighted by its softmax probability ([`turn_of_arcs`] about the likeliest arc).
fn turn_about_arc(logits: &[f32], top: usize) -> f32 {
    let n = logits.len();
    #[allow(clippy::cast_precision_loss)]
    let width = 360.0 / n as f32;
    let (mut x, mut y) = (0.0f32, 0.0f32);
    for k in [n + top - 1, top, top + 1] {
        let arc = k % n;
        let p = (logits[arc] - logits[top]).exp();
        #[allow(clippy::cast_precision_loss)]
        let centre = (-180.0 + (arc as f32 + 0.5) * width).to_radians();
        x += p * centre.cos();
        y += p * centre.sin();
    }
    wrap_degrees(y.atan2(x).to_degrees())
}

/// Up to `k` turns that logits over equal arcs tell, likeliest first, each with its
/// log-probability: one per peak of the arcs (an arc above its left neighbour and not below
/// its right one), told about that peak as [`turn_of_arcs`] tells about the likeliest arc,
/// its probability the softmax mass of the peak and its two neighbours. A teller unsure
/// whether a dial is upright or upside down gives both.
#[must_use]
pub fn turn_candidates(logits: &[f32], k: usize) -> Vec<(f32, f32)> {
    let n = logits.len();
    if n == 0 || k == 0 {
        return Vec::new();
    }
    let most = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = logits.iter().map(|l| (l - most).exp()).sum();
    let mass = |top: usize| -> f32 {
        let near: f32 = [n + top - 1, top, top + 1]
            .iter()
            .map(|&a| (logits[a % n] - most).exp())
            .sum();
        (near / total).ln()
    };
    let mut peaks: Vec<usize> = (0..n)
        .filter(|&i| {
            n == 1 || logits[i] > logits[(n + i - 1) % n] && logits[i] >= logits[(i + 1) % n]
        })
        .collect();
    if peaks.is_empty() {
        // Every arc alike: no peak stands out; the first arc speaks for them.
        peaks.push(0);
    }
    peaks.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    peaks
        .into_iter()
        .take(k)
        .map(|p| (turn_about_arc(logits, p), mass(p)))
        .collect()
}

/// For each clock, the candidate turn whose teller's log-probability plus `weight` times
/// the reader's ([`Reading::sure`] of the crop turned by it) is largest: the reader, trained
/// on upright crops, checks each turn the teller offers. `sure[j]` holds the reader's
/// log-probabilities for every clock's `j`-th candidate; a candidate the reader did not read
/// is not chosen (unless none was: then the likeliest is). Clocks without candidates are
/// left out.
#[must_use]
pub fn choose_turns(
    candidates: &std::collections::HashMap<String, Vec<(f32, f32)>>,
    sure: &[std::collections::HashMap<String, f32>],
    weight: f32,
) -> std::collections::HashMap<String, f32> {
    candidates
        .iter()
        .filter_map(|(id, cands)| {
            let score = |j: usize, teller: f32| {
                teller
                    + sure
                        .get(j)
                        .and_then(|s| s.get(id))
                        .map_or(f32::NEG_INFINITY, |r| weight * r)
            };
            let best = cands
                .iter()
                .enumerate()
                .map(|(j, &(turn, teller))| (turn, score(j, teller)))
                .fold(None, |best: Option<(f32, f32)>, c| match best {
                    Some(b) if b.1 >= c.1 => Some(b),
                    _ => Some(c),
                })?;
            Some((id.clone(), best.0))
        })
        .collect()
}

/// How a probe locates the dial ([`ProbeSettings::locator`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locator {
    /// A linear head over the readout's features regresses the box.
    #[default]
    Linear,
    /// Every pooled token of the global crop is scored by the same weights; the softmax of
    /// the scores weights the tokens' places into the dial's centre and their size
    /// estimates into its size (a soft arg-max over a heat map: what finds the dial is the
    /// same wherever it is).
    Heatmap,
}

impl Locator {
    /// The default, which settings do not write.
    #[must_use]
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` wants a reference
    pub fn is_linear(&self) -> bool {
        *self == Locator::Linear
    }
}

impl std::str::FromStr for Locator {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "linear" => Ok(Locator::Linear),
            "heatmap" => Ok(Locator::Heatmap),
            other => Err(format!("`{other}`: expected linear or heatmap")),
        }
    }
}

/// The heat-map dial locator ([`Locator::Heatmap`]).
#[derive(Module, Debug)]
pub struct HeatLocator<B: Backend> {
    /// `[width → 1]`: how much each token looks like the dial's centre.
    score: Linear<B>,
    /// `[width → 2]`: each token's estimate of the dial's width and height (fractions of the
    /// global crop).
    size: Linear<B>,
}

impl<B: Backend> HeatLocator<B> {
    fn new(width: usize, device: &B::Device) -> Self {
        HeatLocator {
            score: LinearConfig::new(width, 1).init(device),
            size: LinearConfig::new(width, 2).init(device),
        }
    }

    /// The dial's box in the global crop's fractions, `[batch, 4]`, from its pooled tokens
    /// `[batch, grid², width]` (row-major).
    fn forward(&self, tokens: Tensor<B, 3>, grid: usize) -> Tensor<B, 2> {
        let [b, t, _] = tokens.dims();
        let device = tokens.device();
        let weights = burn::tensor::activation::softmax(
            self.score.forward(tokens.clone()).reshape([b, t]),
            1,
        );
        #[allow(clippy::cast_precision_loss)]
        let places: Vec<f32> = (0..t)
            .flat_map(|i| {
                let g = grid.max(1) as f32;
                [
                    ((i % grid.max(1)) as f32 + 0.5) / g,
                    ((i / grid.max(1)) as f32 + 0.5) / g,
                ]
            })
            .collect();
        let places = Tensor::<B, 2>::from_data(TensorData::new(places, [t, 2]), &device);
        let centre = weights.clone().matmul(places);
        let size = (weights.reshape([b, t, 1]) * self.size.forward(tokens))
            .sum_dim(1)
            .reshape([b, 2]);
        Tensor::cat(vec![centre, size], 1)
    }
}

/// Where the global crop puts an image of `size` (width, height): `[left, top, width,
/// height]` of the image in the crop, as fractions of the crop's side (the image is resized
/// to fit and centred, as [`crate::preprocess::resize_and_pad`] does).
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn global_frame(size: (usize, usize), crop: usize) -> [f32; 4] {
    let (w, h) = (size.0.max(1) as f32, size.1.max(1) as f32);
    let scale = (crop as f32 / h).min(crop as f32 / w);
    let sh = ((h * scale) as usize).clamp(1, crop);
    let sw = ((w * scale) as usize).clamp(1, crop);
    let c = crop as f32;
    [
        ((crop - sw) / 2) as f32 / c,
        ((crop - sh) / 2) as f32 / c,
        sw as f32 / c,
        sh as f32 / c,
    ]
}

/// What each head of a probe makes of a batch of images.
#[derive(Debug)]
pub struct Heads<B: Backend> {
    /// Hour logits `[batch, 12]`.
    pub hours: Tensor<B, 2>,
    /// Minute logits `[batch, 60]`, with a minute head.
    pub minutes: Option<Tensor<B, 2>>,
    /// The dial's box `[batch, 4]` as a [`DialBox`], with a dial head.
    pub dial: Option<Tensor<B, 2>>,
    /// How far the dial is turned, with a turn head: `[batch, 2]` (cosine, sine), or
    /// `[batch, bins]` arc logits with [`TurnTeller::Bins`].
    pub turn: Option<Tensor<B, 2>>,
    /// Logits over the arcs where the hour hand points `[batch, bins]`, with a hand head.
    pub hand: Option<Tensor<B, 2>>,
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
        Self::with_dial(config, crops, minutes, readout, None, None, device)
    }

    /// [`HourProbe::new`], with a head that locates the dial as `dial` says and, with
    /// `turn`, one that tells how far the dial is turned as it says.
    pub fn with_dial(
        config: &ModelConfig,
        crops: usize,
        minutes: bool,
        readout: Readout,
        dial: Option<Locator>,
        turn: Option<TurnTeller>,
        device: &B::Device,
    ) -> Self {
        let width = config.llm.d_model;
        let features = features_of(config, crops, readout);
        HourProbe {
            readout,
            attention: (readout == Readout::Attention)
                .then(|| AttentionReadout::new(width, device)),
            vit: Vit::new(config, device),
            connector: Connector::new(config, device),
            head: LinearConfig::new(features, 12).init(device),
            minute_head: minutes.then(|| LinearConfig::new(features, 60).init(device)),
            dial_head: (dial == Some(Locator::Linear))
                .then(|| LinearConfig::new(features, 4).init(device)),
            dial_heat: (dial == Some(Locator::Heatmap)).then(|| HeatLocator::new(width, device)),
            turn_head: turn.map(|t| {
                let outputs = match t {
                    TurnTeller::Regress => 2,
                    TurnTeller::Bins(bins) => bins,
                };
                LinearConfig::new(features, outputs).init(device)
            }),
            turn_bins: match turn {
                Some(TurnTeller::Bins(bins)) => bins,
                _ => 0,
            },
            hour_by_minute: false,
            joint: None,
            views: None,
            hand_head: None,
            patches: config.vision.patches_per_crop(),
            patch_dim: config.vision.patch_dim(),
            pooled: config.vision.pooled_per_crop(),
            crop_size: config.vision.crop_size,
        }
    }

    /// This probe with a fresh head telling where the hour hand points as one of `bins`
    /// equal arcs (images of `crops` crops, as the probe was made for).
    #[must_use]
    pub fn with_hand(
        mut self,
        config: &ModelConfig,
        crops: usize,
        bins: usize,
        device: &B::Device,
    ) -> Self {
        let features = features_of(config, crops, self.readout);
        self.hand_head = Some(LinearConfig::new(features, bins).init(device));
        self
    }

    /// The arcs of the hand head; 0 without one.
    #[must_use]
    pub fn hand_bins(&self) -> usize {
        self.hand_head.as_ref().map_or(0, |h| h.weight.dims()[1])
    }

    /// This probe, reading the hour from its hour head and the minute it reads together
    /// ([`hour_by_minute`]) when `on` and it has a minute head, else from the hour head alone.
    #[must_use]
    pub fn with_hour_by_minute(mut self, on: bool) -> Self {
        self.hour_by_minute = on && self.minute_head.is_some();
        self
    }

    /// This probe, reading the hour and the minute together ([`read_time`], taking
    /// `discount` off a time whose hands lie together) when `discount` is given and it has a
    /// minute head; this reading comes before [`Self::with_hour_by_minute`]'s.
    #[must_use]
    pub fn with_joint(mut self, discount: Option<f32>) -> Self {
        self.joint = discount.filter(|_| self.minute_head.is_some());
        self
    }

    /// This probe, reading each clock through `views` ([`Views`]; `None` or one view: as it
    /// is).
    #[must_use]
    pub fn with_views(mut self, views: Option<Views>) -> Self {
        self.views = views.filter(|v| v.count > 1);
        self
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

    /// Whether the probe locates the dial.
    #[must_use]
    pub fn locates(&self) -> bool {
        self.dial_head.is_some() || self.dial_heat.is_some()
    }

    /// Every head's output for images of `sizes` (width, height: a heat map's places are
    /// turned into the image's fractions with them).
    pub fn forward_all(
        &self,
        images: &[&ImageInput],
        sizes: &[(usize, usize)],
        device: &B::Device,
    ) -> Heads<B> {
        let tokens = self.tokens(images, device);
        let features = self.read(tokens.clone());
        let minutes = self
            .minute_head
            .as_ref()
            .map(|h| h.forward(features.clone()));
        let mut dial = self.dial_head.as_ref().map(|h| h.forward(features.clone()));
        if let Some(heat) = &self.dial_heat {
            let [b, _, d] = tokens.dims();
            let global = tokens.slice([0..b, 0..self.pooled, 0..d]);
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let grid = (self.pooled as f32).sqrt().round() as usize;
            let in_crop = heat.forward(global, grid);
            // Crop fractions → image fractions: x = (x_crop - left) / width, sizes / width.
            let frames: Vec<f32> = sizes
                .iter()
                .flat_map(|&s| {
                    let [l, t, w, h] = global_frame(s, self.crop_size);
                    [l, t, 0.0, 0.0, w, h, w, h]
                })
                .collect();
            let frames = Tensor::<B, 2>::from_data(TensorData::new(frames, [b, 8]), device);
            let offset = frames.clone().slice([0..b, 0..4]);
            let scale = frames.slice([0..b, 4..8]);
            dial = Some((in_crop - offset) / scale);
        }
        Heads {
            turn: self.turn_head.as_ref().map(|h| h.forward(features.clone())),
            hand: self.hand_head.as_ref().map(|h| h.forward(features.clone())),
            hours: self.head.forward(features),
            minutes,
            dial,
        }
    }

    /// Where the dial is in each image of `sizes` (width, height), as [`DialBox`]es; `None`
    /// without a dial head.
    pub fn locate(
        &self,
        images: &[&ImageInput],
        sizes: &[(usize, usize)],
        device: &B::Device,
    ) -> Option<Vec<DialBox>> {
        let dial = self.forward_all(images, sizes, device).dial;
        let values: Vec<f32> = dial?.into_data().convert::<f32>().to_vec().ok()?;
        Some(
            values
                .chunks_exact(4)
                .map(|c| [c[0], c[1], c[2], c[3]])
                .collect(),
        )
    }

    /// The pooled tokens' features of an image as the readout reads them: concatenated
    /// `[batch, crops · pooled · width]`, their mean `[batch, width]`, or the attention's
    /// `[batch, queries · width]`.
    fn features(&self, images: &[&ImageInput], device: &B::Device) -> Tensor<B, 2> {
        self.read(self.tokens(images, device))
    }

    /// Every pooled token of every crop, `[batch, crops · pooled, width]` (global crop first).
    fn tokens(&self, images: &[&ImageInput], device: &B::Device) -> Tensor<B, 3> {
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
        let layers = self.vit.forward(crops, None);
        let features = self.connector.forward(&layers, masks);
        let [rows, d] = features.dims();
        features.reshape([b, rows / b, d])
    }

    /// The tokens as the readout reads them (see [`HourProbe::features`]).
    fn read(&self, features: Tensor<B, 3>) -> Tensor<B, 2> {
        let [b, t, d] = features.dims();
        match (self.readout, &self.attention) {
            (Readout::Attention, Some(attention)) => attention.forward(features),
            (Readout::Mean, _) => features.mean_dim(1).reshape([b, d]),
            _ => features.reshape([b, t * d]),
        }
    }
}

/// How many features the heads read for images of `crops` crops under `readout`.
fn features_of(config: &ModelConfig, crops: usize, readout: Readout) -> usize {
    let width = config.llm.d_model;
    match readout {
        Readout::Concat => crops * config.vision.pooled_per_crop() * width,
        Readout::Mean => width,
        Readout::Attention => ATTENTION_QUERIES * width,
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

/// Where a dial is in an image: its box's centre and size as fractions of the image's
/// width and height, `[cx, cy, w, h]` (a box may reach past the image: a cropped watch).
pub type DialBox = [f32; 4];

/// A dial's box in pixels, `[x0, y0, x1, y1]` (as the clock renderer's truth writes it).
pub type PixelBox = [f32; 4];

/// `b` (pixels) in an image of `width × height` as a [`DialBox`].
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn dial_box(b: PixelBox, width: usize, height: usize) -> DialBox {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    [
        (b[0] + b[2]) / 2.0 / w,
        (b[1] + b[3]) / 2.0 / h,
        (b[2] - b[0]) / w,
        (b[3] - b[1]) / h,
    ]
}

/// `b` as a [`PixelBox`] in an image of `width × height`.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn pixel_box(b: DialBox, width: usize, height: usize) -> PixelBox {
    let (w, h) = (width as f32, height as f32);
    let (cx, cy, bw, bh) = (b[0] * w, b[1] * h, b[2].abs() * w, b[3].abs() * h);
    [cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0]
}

/// Intersection over union of two [`DialBox`]es (0 when either is empty).
#[must_use]
pub fn iou(a: DialBox, b: DialBox) -> f32 {
    let edges = |d: DialBox| {
        let (w, h) = (d[2].abs(), d[3].abs());
        (
            d[0] - w / 2.0,
            d[1] - h / 2.0,
            d[0] + w / 2.0,
            d[1] + h / 2.0,
            w * h,
        )
    };
    let (ax0, ay0, ax1, ay1, aa) = edges(a);
    let (bx0, by0, bx1, by1, ba) = edges(b);
    let inter = (ax1.min(bx1) - ax0.max(bx0)).max(0.0) * (ay1.min(by1) - ay0.max(by0)).max(0.0);
    let union = aa + ba - inter;
    if union > 0.0 && union.is_finite() {
        inter / union
    } else {
        0.0
    }
}

/// The square around box `b` (pixels), each side `margin` of the box's longer side wider,
/// centred on the box: cropping to the dial. Pixels past the image's edges are black.
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn dial_crop(image: &RgbF32, b: PixelBox, margin: f32) -> RgbF32 {
    dial_crop_at(image, b, margin, 8).0
}

/// The side of the smallest square image that `geometry` tiles as it tiles a large one (2×2
/// crops for `small`): a dial crop any smaller would make fewer crops than the others, and a
/// probe reads images of one number of crops ([`Prepare::least`]).
#[must_use]
pub fn least_full_side(geometry: &VisionGeometry) -> usize {
    const LARGE: usize = 1 << 16;
    let full = tiling_for(geometry, LARGE, LARGE);
    (1..LARGE)
        .find(|&side| tiling_for(geometry, side, side) == full)
        .unwrap_or(LARGE)
}

/// [`dial_crop`] at least `least` px on a side (and 8), and the crop's top-left corner in the
/// image (pixels; negative past the top or left edge).
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
fn dial_crop_at(image: &RgbF32, b: PixelBox, margin: f32, least: usize) -> (RgbF32, (f32, f32)) {
    let longest = (b[2] - b[0]).abs().max((b[3] - b[1]).abs());
    let side = if longest.is_finite() {
        (longest * (1.0 + 2.0 * margin.max(0.0))).round()
    } else {
        0.0
    };
    // At least `least` (and 8) px and at most the image's longer side twice over (or
    // `least`): a wild box from a locator still gives a bounded crop.
    let least = least.max(8);
    let limit = (2 * image.width.max(image.height)).max(least);
    let side = (side.max(least as f32) as usize).min(limit);
    let centre = |lo: f32, hi: f32, len: usize| {
        let c = (lo + hi) / 2.0;
        if c.is_finite() { c } else { len as f32 / 2.0 }
    };
    let left = (centre(b[0], b[2], image.width) - side as f32 / 2.0).round() as i64;
    let top = (centre(b[1], b[3], image.height) - side as f32 / 2.0).round() as i64;
    let mut data = vec![0.0f32; side * side * 3];
    for y in 0..side {
        let Ok(sy) = usize::try_from(top + y as i64) else {
            continue;
        };
        if sy >= image.height {
            continue;
        }
        for x in 0..side {
            let Ok(sx) = usize::try_from(left + x as i64) else {
                continue;
            };
            if sx >= image.width {
                continue;
            }
            let from = (sy * image.width + sx) * 3;
            data[(y * side + x) * 3..(y * side + x) * 3 + 3]
                .copy_from_slice(&image.data[from..from + 3]);
        }
    }
    (
        RgbF32 {
            height: side,
            width: side,
            data,
        },
        (left as f32, top as f32),
    )
}

/// [`dial_crop_at`], the crop turned against `turn_deg` (degrees clockwise on screen) about
/// its centre: the crop's pixel at offset `d` from its centre shows the image at `d` turned
/// clockwise by `turn_deg` (bilinear; black past the image's edges), so a dial the renderer
/// turned clockwise by `turn_deg` stands upright. The corner is the unturned crop's. A turn
/// of 0 is [`dial_crop_at`] exactly. The crop is at least `least` px on a side
/// ([`least_full_side`]; 8 at the least).
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn dial_crop_turned(
    image: &RgbF32,
    b: PixelBox,
    margin: f32,
    turn_deg: f32,
    least: usize,
) -> (RgbF32, (f32, f32)) {
    let (straight, origin) = dial_crop_at(image, b, margin, least);
    if turn_deg == 0.0 || !turn_deg.is_finite() {
        return (straight, origin);
    }
    let side = straight.width;
    let half = side as f32 / 2.0;
    let (sin, cos) = turn_deg.to_radians().sin_cos();
    let (w, h) = (image.width as i64, image.height as i64);
    let at = |x: i64, y: i64, c: usize| -> f32 {
        if (0..w).contains(&x) && (0..h).contains(&y) {
            image.data[((y * w + x) as usize) * 3 + c]
        } else {
            0.0
        }
    };
    let mut data = vec![0.0f32; side * side * 3];
    for y in 0..side {
        for x in 0..side {
            // Offset from the crop's centre, turned clockwise on screen (y points down).
            let (dx, dy) = (x as f32 + 0.5 - half, y as f32 + 0.5 - half);
            let sx = origin.0 + half + dx * cos - dy * sin - 0.5;
            let sy = origin.1 + half + dx * sin + dy * cos - 0.5;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            for c in 0..3 {
                let top = at(x0, y0, c) * (1.0 - fx) + at(x0 + 1, y0, c) * fx;
                let bottom = at(x0, y0 + 1, c) * (1.0 - fx) + at(x0 + 1, y0 + 1, c) * fx;
                data[(y * side + x) * 3 + c] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
    (
        RgbF32 {
            height: side,
            width: side,
            data,
        },
        origin,
    )
}

/// `d` (a [`DialBox`] in an image of `size`) in the part of that image of `part` pixels
/// whose top-left corner is at `origin`.
fn shift_box(
    d: DialBox,
    size: (usize, usize),
    origin: (f32, f32),
    part: (usize, usize),
) -> DialBox {
    let [x0, y0, x1, y1] = pixel_box(d, size.0, size.1);
    let (l, t) = origin;
    dial_box([x0 - l, y0 - t, x1 - l, y1 - t], part.0, part.1)
}

/// `deg` in (-180, 180].
#[must_use]
pub fn wrap_degrees(deg: f32) -> f32 {
    let w = (deg + 180.0).rem_euclid(360.0) - 180.0;
    if w <= -180.0 { w + 360.0 } else { w }
}

/// One preprocessed clock image and its hour (0–11) and minute.
#[derive(Clone, Debug)]
pub struct ProbeExample {
    /// The row's id.
    pub id: String,
    /// The model's input.
    pub input: ImageInput,
    /// Hour on the 12-hour dial (12 → 0).
    pub hour: usize,
    /// Minute (0–59).
    pub minute: usize,
    /// Where the dial is in the image the model sees, when known.
    pub dial: Option<DialBox>,
    /// That image's width and height.
    pub size: (usize, usize),
    /// That image's top-left corner in the clock's whole image (pixels; `(0, 0)` when
    /// uncropped, negative where a crop reaches past the top or left edge).
    pub origin: (f32, f32),
    /// How far the dial is turned in the image the model sees (degrees clockwise on screen,
    /// in (-180, 180]), when known: the renderer's rotation less the crop's own turn.
    pub turn: Option<f32>,
    /// The image as the model's letterboxed boxes, kept for per-step augmentation
    /// ([`ProbeSettings::augment`]) when [`Prepare::keep`] asks for it.
    pub kept: Option<Kept>,
}

/// How [`probe_examples_with`] prepares each clock's image.
#[derive(Clone, Copy, Debug, Default)]
pub struct Prepare<'a> {
    /// Keep only the central fraction of each image ([`centre_crop`]).
    pub centre: Option<f32>,
    /// Each row's dial box in its image (pixels, by row id): the dial target.
    pub truth: Option<&'a std::collections::HashMap<String, PixelBox>>,
    /// Crop each image to these boxes (pixels, by row id), with this margin ([`dial_crop`]);
    /// a row without one is skipped.
    pub crop: Option<(&'a std::collections::HashMap<String, PixelBox>, f32)>,
    /// Move and scale each crop box at random by up to this fraction of its size (and seed),
    /// so a reader trained on true boxes meets a locator's errors in training: the centre
    /// shifts by up to `j` of the box's longer side on each axis, the size by a factor in
    /// `[1 - j, 1 + j]`. Drawn once per row, from the row id and the seed.
    pub jitter: Option<(f32, u64)>,
    /// With `crop`: turn each crop about its centre against this angle (degrees clockwise
    /// on screen, by row id), so that a dial the renderer rotated by it stands upright
    /// ([`dial_crop_turned`]); a row without one is skipped.
    pub turn: Option<&'a std::collections::HashMap<String, f32>>,
    /// How far the renderer turned each dial (degrees clockwise on screen, by row id): the
    /// turn target ([`ProbeExample::turn`]).
    pub rotation: Option<&'a std::collections::HashMap<String, f32>>,
    /// Keep each image's letterboxed boxes ([`ProbeExample::kept`]) for per-step
    /// augmentation: training clocks under [`ProbeSettings::augment`].
    pub keep: bool,
    /// With `crop`: crop no smaller than this (px; [`least_full_side`] of the model's
    /// geometry makes every crop tile as a large image does, so a speck an untrained locator
    /// finds is read with its surroundings instead of making fewer crops than the rest).
    pub least: usize,
}

/// The random draws of row `id` under `seed`: the same every time, another row's apart.
fn clock_rng(id: &str, seed: u64) -> Rng {
    let key = pixmo_core::sha256_hex(id.as_bytes());
    let stream = u64::from_str_radix(&key[..16], 16).unwrap_or(0);
    Rng::derive(seed, stream)
}

/// `b` moved and scaled as [`Prepare::jitter`] says, for row `id`.
#[must_use]
#[allow(clippy::cast_possible_truncation)]
pub fn jitter_box(b: PixelBox, id: &str, amount: f32, seed: u64) -> PixelBox {
    let mut rng = clock_rng(id, seed);
    let mut draw = || (rng.unit() * 2.0 - 1.0) as f32 * amount;
    let side = (b[2] - b[0]).abs().max((b[3] - b[1]).abs());
    let (dx, dy, k) = (draw() * side, draw() * side, 1.0 + draw());
    let (cx, cy) = ((b[0] + b[2]) / 2.0 + dx, (b[1] + b[3]) / 2.0 + dy);
    let (hw, hh) = ((b[2] - b[0]) / 2.0 * k, (b[3] - b[1]) / 2.0 * k);
    [cx - hw, cy - hh, cx + hw, cy + hh]
}

/// Each of `boxes` moved and scaled by [`jitter_box`] (`amount`, `seed`); as they are at 0.
#[must_use]
pub fn jitter_boxes(
    boxes: &std::collections::HashMap<String, PixelBox>,
    amount: f32,
    seed: u64,
) -> std::collections::HashMap<String, PixelBox> {
    boxes
        .iter()
        .map(|(id, &b)| {
            let moved = if amount == 0.0 {
                b
            } else {
                jitter_box(b, id, amount, seed)
            };
            (id.clone(), moved)
        })
        .collect()
}

/// The mean of the boxes `found` (one map per look) gives each clock, for the clocks every
/// look found.
#[must_use]
pub fn mean_boxes(
    found: &[std::collections::HashMap<String, PixelBox>],
) -> std::collections::HashMap<String, PixelBox> {
    let Some((first, rest)) = found.split_first() else {
        return std::collections::HashMap::new();
    };
    #[allow(clippy::cast_precision_loss)]
    let n = found.len() as f32;
    first
        .iter()
        .filter_map(|(id, b)| {
            let mut sum = *b;
            for other in rest {
                let o = other.get(id)?;
                for (s, x) in sum.iter_mut().zip(o) {
                    *s += x;
                }
            }
            Some((id.clone(), sum.map(|x| x / n)))
        })
        .collect()
}

/// A turn for row `id` drawn uniformly from [-180°, 180°) with `seed` (the same every time):
/// a crop turned by it shows a turn teller a dial at any angle.
#[must_use]
#[allow(clippy::cast_possible_truncation)]
pub fn random_turn(id: &str, seed: u64) -> f32 {
    let mut rng = clock_rng(id, seed ^ 0x7475_726e);
    (rng.unit() * 360.0 - 180.0) as f32
}

/// A turn for row `id` drawn uniformly from [-`most`, `most`] with `seed` (the same every
/// time, and apart from [`random_turn`]'s): added to the renderer's rotation, a crop is left
/// that far from upright, as a turn teller's small errors leave it.
#[must_use]
#[allow(clippy::cast_possible_truncation)]
pub fn jitter_turn(id: &str, seed: u64, most: f32) -> f32 {
    let mut rng = clock_rng(id, seed ^ 0x6a69_7474);
    (rng.unit() * 2.0 - 1.0) as f32 * most
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
    probe_examples_with(
        config,
        tok,
        examples,
        &Prepare {
            centre,
            ..Prepare::default()
        },
    )
}

/// Why the `examples` that [`probe_examples_with`] left out of `prepared` were left out, as
/// one line (e.g. "3 images that cannot be decoded (the first: …); 1 answer that is no
/// time"); `None` when every example was kept. Only the left-out examples are looked at
/// again.
#[must_use]
pub fn left_out(examples: &[Example], prepared: &[ProbeExample]) -> Option<String> {
    let kept: std::collections::HashSet<&str> = prepared.iter().map(|p| p.id.as_str()).collect();
    let (mut not_clock, mut no_time, mut undecodable, mut unplaced) =
        (0usize, 0usize, 0usize, 0usize);
    let (mut first_time, mut first_image) = (None, None);
    for e in examples.iter().filter(|e| !kept.contains(e.id.as_str())) {
        let EvalTarget::Clock { text, .. } = &e.target else {
            not_clock += 1;
            continue;
        };
        if parse_time(text).is_none() {
            no_time += 1;
            first_time.get_or_insert_with(|| format!("`{}`: {text:?}", e.id));
            continue;
        }
        match decode_image(e) {
            Err(err) => {
                undecodable += 1;
                first_image.get_or_insert_with(|| {
                    let why = std::error::Error::source(&err).map(ToString::to_string);
                    format!("`{}`: {}", e.id, why.unwrap_or_else(|| err.to_string()))
                });
            }
            Ok(_) => unplaced += 1,
        }
    }
    let mut parts = Vec::new();
    if undecodable > 0 {
        parts.push(format!(
            "{undecodable} images that cannot be decoded (the first, {})",
            first_image.unwrap_or_default()
        ));
    }
    if no_time > 0 {
        parts.push(format!(
            "{no_time} answers that are no time (the first, {})",
            first_time.unwrap_or_default()
        ));
    }
    if not_clock > 0 {
        parts.push(format!("{not_clock} rows that are not clock readings"));
    }
    if unplaced > 0 {
        parts.push(format!(
            "{unplaced} clocks without a dial box or a turn to crop them by"
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// [`probe_examples`], with the image prepared as `prepare` says.
#[must_use]
pub fn probe_examples_with(
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[Example],
    prepare: &Prepare<'_>,
) -> Vec<ProbeExample> {
    let one = |e: &Example| -> Option<ProbeExample> {
        let EvalTarget::Clock { text, .. } = &e.target else {
            return None;
        };
        let time = parse_time(text)?;
        let image = decode_image(e).ok()?;
        let mut dial = prepare
            .truth
            .and_then(|t| t.get(&e.id))
            .map(|&b| dial_box(b, image.width, image.height));
        let size = (image.width, image.height);
        let mut at = (0.0, 0.0);
        let mut turned = 0.0;
        let image = match (prepare.crop, prepare.centre) {
            (Some((boxes, margin)), _) => {
                let mut b = *boxes.get(&e.id)?;
                if let Some((amount, seed)) = prepare.jitter {
                    b = jitter_box(b, &e.id, amount, seed);
                }
                let turn = match prepare.turn {
                    Some(turns) => *turns.get(&e.id)?,
                    None => 0.0,
                };
                let (cropped, origin) = dial_crop_turned(&image, b, margin, turn, prepare.least);
                turned = turn;
                // Turned, the box keeps its centre (the crop turns about it), not its extent.
                dial = dial.map(|d| shift_box(d, size, origin, (cropped.width, cropped.height)));
                at = origin;
                cropped
            }
            (None, Some(f)) => {
                let cropped = centre_crop(&image, f);
                #[allow(clippy::cast_precision_loss)]
                let origin = (
                    ((image.width - cropped.width) / 2) as f32,
                    ((image.height - cropped.height) / 2) as f32,
                );
                dial = dial.map(|d| shift_box(d, size, origin, (cropped.width, cropped.height)));
                at = origin;
                cropped
            }
            (None, None) => image,
        };
        let resized = resize_for(&config.vision, &image);
        Some(ProbeExample {
            id: e.id.clone(),
            size: (image.width, image.height),
            input: assemble(&config.vision, tok, &resized),
            kept: prepare.keep.then(|| Kept::keep(&resized)),
            hour: usize::try_from(time.hour % 12).unwrap_or(0),
            minute: usize::try_from(time.minute % 60).unwrap_or(0),
            dial,
            origin: at,
            turn: prepare
                .rotation
                .and_then(|r| r.get(&e.id))
                .map(|&r| wrap_degrees(r - turned)),
        })
    };
    let threads = pixmo_core::parallel::cores();
    parallel_map(examples, threads, one)
        .into_iter()
        .flatten()
        .collect()
}

/// The file beside a clocks build that holds each row's render truth (written by
/// `build_clocks` with `PIXMO_CLOCK_TRUTH`; JSON lines `{"example_id", "truth"}`).
pub const TRUTH_FILE: &str = "clock-truth.jsonl";

/// The dial boxes (pixels, by row id) of the clocks built in `dir`, from its [`TRUTH_FILE`];
/// `None` when it has none.
///
/// # Errors
/// When the file cannot be read or a line is not a truth record with a dial box.
pub fn read_truth(
    dir: &Path,
) -> crate::Result<Option<std::collections::HashMap<String, PixelBox>>> {
    #[derive(Deserialize)]
    struct Line {
        example_id: String,
        truth: Truth,
    }
    #[derive(Deserialize)]
    struct Truth {
        dial_box: PixelBox,
    }
    truth_lines(dir, "", |line: Line| (line.example_id, line.truth.dial_box))
}

/// How far the renderer turned each dial, degrees clockwise on screen (by row id), from the
/// scene each line of `dir`'s [`TRUTH_FILE`] carries; `None` when there is no such file.
///
/// # Errors
/// When the file cannot be read, or a line has no scene with a rotation (a truth file
/// written before `build_clocks` logged scenes).
pub fn read_turns(dir: &Path) -> crate::Result<Option<std::collections::HashMap<String, f32>>> {
    #[derive(Deserialize)]
    struct Line {
        example_id: String,
        scene: Scene,
    }
    #[derive(Deserialize)]
    struct Scene {
        rotation_deg: f32,
    }
    truth_lines(
        dir,
        "\nhint: a truth file from before `build_clocks` logged each clock's scene has no rotation; build the clocks again",
        |line: Line| (line.example_id, line.scene.rotation_deg),
    )
}

/// Each line of `dir`'s [`TRUTH_FILE`] as `L`, kept as `pick` says; `None` without the
/// file. A line that is not an `L` is named, with `hint` after the reason.
fn truth_lines<L: serde::de::DeserializeOwned, V>(
    dir: &Path,
    hint: &str,
    pick: impl Fn(L) -> (String, V),
) -> crate::Result<Option<std::collections::HashMap<String, V>>> {
    let path = dir.join(TRUTH_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let mut values = std::collections::HashMap::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line: L = serde_json::from_str(line).map_err(|e| {
            Error::Config(format!("`{}` line {}: {e}{hint}", path.display(), n + 1))
        })?;
        let (id, value) = pick(line);
        values.insert(id, value);
    }
    Ok(Some(values))
}

/// Where `locator` (a probe with a dial head) finds the dial in each clock of `examples`
/// (pixels of the whole image, by row id), seeing the images as `prepare` crops them
/// (whole without its crop; its centre crop and jitter unused): a locator trained on an
/// earlier locator's crops refines that locator's boxes. A row without a crop box is
/// skipped. Images are prepared and located 512 at a time, so only those are held at once.
///
/// # Errors
/// [`Error::Config`] when the locator has no dial head.
pub fn locate_boxes<B: Backend>(
    locator: &HourProbe<B>,
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[Example],
    prepare: &Prepare<'_>,
    device: &B::Device,
) -> crate::Result<std::collections::HashMap<String, PixelBox>> {
    if !locator.locates() {
        return Err(Error::Config(
            "the locator probe has no dial head\nhint: train it with `--dial-loss W`".into(),
        ));
    }
    let mut boxes = std::collections::HashMap::new();
    each_seen(config, tok, examples, prepare, |chunk| {
        let inputs: Vec<&ImageInput> = chunk.iter().map(|e| &e.input).collect();
        let sizes: Vec<_> = chunk.iter().map(|e| e.size).collect();
        let found = locator.locate(&inputs, &sizes, device).unwrap_or_default();
        for (e, d) in chunk.iter().zip(found) {
            let [x0, y0, x1, y1] = pixel_box(d, e.size.0, e.size.1);
            let (l, t) = e.origin;
            boxes.insert(e.id.clone(), [x0 + l, y0 + t, x1 + l, y1 + t]);
        }
    });
    Ok(boxes)
}

/// How far `teller` (a probe with a turn head) finds each clock's dial turned (degrees
/// clockwise on screen, by row id), seeing the images as `prepare` crops them (unturned; its
/// centre crop and jitter unused): the turn to take away so the dial stands upright
/// ([`Prepare::turn`]). A row without a crop box is skipped. With `prior`, a teller over
/// arcs weighs each arc by it too ([`read_clocks_with`]).
///
/// # Errors
/// [`Error::Config`] when the probe has no turn head, or a prior is given for a teller that
/// does not tell arcs or has another number of them.
pub fn tell_turns<B: Backend>(
    teller: &HourProbe<B>,
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[Example],
    prepare: &Prepare<'_>,
    prior: Option<&[f32]>,
    device: &B::Device,
) -> crate::Result<std::collections::HashMap<String, f32>> {
    if teller.turn_head.is_none() {
        return Err(Error::Config(
            "the probe has no turn head\nhint: train it with `--turn-loss W`".into(),
        ));
    }
    check_prior(teller, prior)?;
    let mut turns = std::collections::HashMap::new();
    each_seen(config, tok, examples, prepare, |chunk| {
        for (e, r) in chunk
            .iter()
            .zip(read_clocks_with(teller, chunk, device, prior))
        {
            turns.insert(e.id.clone(), r.turn.unwrap_or_default());
        }
    });
    Ok(turns)
}

/// The probabilities a teller over arcs ([`TurnTeller::Bins`]) gives its arcs for each
/// clock (through its views, [`Reading::turn_p`]), before any prior, seeing the images as
/// [`tell_turns`] does: what [`turns_of_arcs`] tells turns from, several tellers' together.
///
/// # Errors
/// [`Error::Config`] when the probe tells no arcs.
pub fn tell_arcs<B: Backend>(
    teller: &HourProbe<B>,
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[Example],
    prepare: &Prepare<'_>,
    device: &B::Device,
) -> crate::Result<std::collections::HashMap<String, Vec<f32>>> {
    if teller.turn_head.is_none() || teller.turn_bins == 0 {
        return Err(Error::Config(
            "the probe tells no arcs of turn\nhint: train it with `--turn-loss W --turn-bins N`"
                .into(),
        ));
    }
    let mut arcs = std::collections::HashMap::new();
    each_seen(config, tok, examples, prepare, |chunk| {
        for (e, r) in chunk.iter().zip(read_clocks(teller, chunk, device)) {
            arcs.insert(e.id.clone(), r.turn_p);
        }
    });
    Ok(arcs)
}

/// The turn of each clock that every one of `told` (arcs' probabilities by clock, one map
/// per teller, [`tell_arcs`]) gives arcs for: from the mean of their probabilities, weighed
/// by `prior` as [`tell_turns`] weighs one teller's. Tellers of different numbers of arcs
/// are not averaged: a clock whose arcs differ in number is left out.
#[must_use]
pub fn turns_of_arcs(
    told: &[std::collections::HashMap<String, Vec<f32>>],
    prior: Option<&[f32]>,
) -> std::collections::HashMap<String, f32> {
    let Some((first, rest)) = told.split_first() else {
        return std::collections::HashMap::new();
    };
    first
        .iter()
        .filter_map(|(id, p)| {
            let mut mean = p.clone();
            for other in rest {
                let q = other.get(id).filter(|q| q.len() == p.len())?;
                for (m, x) in mean.iter_mut().zip(q) {
                    *m += x;
                }
            }
            let logits: Vec<f32> = mean.iter().map(|x| x.ln()).collect();
            Some((id.clone(), turn_of_arcs(&weigh_arcs(&logits, prior))))
        })
        .collect()
}

/// Up to `k` turns a teller over arcs ([`TurnTeller::Bins`]) tells for each clock, likeliest
/// first, each with its log-probability ([`turn_candidates`]; arcs weighed by `prior` as in
/// [`tell_turns`]), seeing the images as [`tell_turns`] does.
///
/// # Errors
/// [`Error::Config`] when the probe has no turn head or tells cosine and sine, or the prior
/// has another number of arcs.
#[allow(clippy::too_many_arguments)]
pub fn tell_turn_candidates<B: Backend>(
    teller: &HourProbe<B>,
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[Example],
    prepare: &Prepare<'_>,
    prior: Option<&[f32]>,
    k: usize,
    device: &B::Device,
) -> crate::Result<std::collections::HashMap<String, Vec<(f32, f32)>>> {
    let n = teller.turn_bins;
    if teller.turn_head.is_none() || n == 0 {
        return Err(Error::Config(
            "the probe tells no arcs of turn\nhint: train it with `--turn-loss W --turn-bins N`"
                .into(),
        ));
    }
    check_prior(teller, prior)?;
    let mut told = std::collections::HashMap::new();
    each_seen(config, tok, examples, prepare, |chunk| {
        let inputs: Vec<&ImageInput> = chunk.iter().map(|e| &e.input).collect();
        let sizes: Vec<_> = chunk.iter().map(|e| e.size).collect();
        let Some(turn) = teller.forward_all(&inputs, &sizes, device).turn else {
            return;
        };
        let logits: Vec<f32> = turn
            .into_data()
            .convert::<f32>()
            .to_vec()
            .unwrap_or_default();
        for (e, row) in chunk.iter().zip(logits.chunks(n)) {
            told.insert(e.id.clone(), turn_candidates(&weigh_arcs(row, prior), k));
        }
    });
    Ok(told)
}

/// Refuses a prior over arcs ([`turn_prior`]) of another number than `teller` tells.
fn check_prior<B: Backend>(teller: &HourProbe<B>, prior: Option<&[f32]>) -> crate::Result<()> {
    match prior {
        Some(prior) if prior.len() != teller.turn_bins => Err(Error::Config(format!(
            "a prior over {} arcs for a teller that tells {}\nhint: a prior weighs the arcs of a teller trained with `--turn-bins N`",
            prior.len(),
            match teller.turn_bins {
                0 => "cosine and sine".to_string(),
                n => format!("{n} arcs"),
            }
        ))),
        _ => Ok(()),
    }
}

/// A teller's arc logits weighed by `prior` (added to each, as log-odds), where it has one
/// for each arc; the logits as they are otherwise.
fn weigh_arcs(logits: &[f32], prior: Option<&[f32]>) -> Vec<f32> {
    match prior {
        Some(prior) if prior.len() == logits.len() => {
            logits.iter().zip(prior).map(|(l, p)| l + p).collect()
        }
        _ => logits.to_vec(),
    }
}

/// `examples` prepared as `prepare` says but unturned, without its centre crop and jitter
/// (as a locator or turn teller sees them), handed to `f` 32 at a time; only 512 are
/// prepared at once.
fn each_seen(
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[Example],
    prepare: &Prepare<'_>,
    mut f: impl FnMut(&[ProbeExample]),
) {
    let seen_as = Prepare {
        centre: None,
        jitter: None,
        turn: None,
        ..*prepare
    };
    for part in examples.chunks(512) {
        let seen = probe_examples_with(config, tok, part, &seen_as);
        for chunk in seen.chunks(32) {
            f(chunk);
        }
    }
}

/// Settings of a probe run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProbeSettings {
    /// Optimiser steps.
    pub steps: u64,
    /// Images per step.
    pub batch: usize,
    /// Adam learning rate (after a linear warmup of `steps / 20`; see [`Self::lr_at`]).
    pub lr: f64,
    /// The rate of the last step: after the warmup the rate falls from `lr` to this along
    /// half a cosine (none: `lr` throughout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_end: Option<f64>,
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
    /// Weight of a dial-locating loss beside the time's (0: no dial head): the squared
    /// error of the predicted [`DialBox`], summed over its four numbers. Needs clocks whose
    /// dial box is known ([`ProbeExample::dial`]).
    #[serde(default, skip_serializing_if = "is_zero_f32")]
    pub dial_loss: f32,
    /// How the dial is located, with a dial loss.
    #[serde(default, skip_serializing_if = "Locator::is_linear")]
    pub locator: Locator,
    /// Weight of the time's cross-entropies (hour, and minute with a minute head); 0 with a
    /// dial loss trains a locator alone, its heads for the time left as initialised.
    #[serde(default = "one_f32", skip_serializing_if = "is_one_f32")]
    pub read_loss: f32,
    /// Weight of a loss on how far the dial is turned (0: no turn head): the squared error
    /// of the predicted (cosine, sine) of the turn, summed over the two, or with
    /// `turn_bins` the cross-entropy of the arc it falls in. Needs clocks whose turn is known
    /// ([`ProbeExample::turn`]).
    #[serde(default, skip_serializing_if = "is_zero_f32")]
    pub turn_loss: f32,
    /// With a turn loss: tell the turn as one of this many equal arcs
    /// ([`TurnTeller::Bins`], 4 to 360) instead of regressing its cosine and sine (0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub turn_bins: usize,
    /// Augment each training image afresh each time it is drawn into a batch (its turn,
    /// scale, place and colours; none by default): a reader's training clocks meet it in a
    /// form not seen before. Needs the training examples' [`ProbeExample::kept`] boxes;
    /// refused with a dial or turn loss (their targets would move with the image).
    #[serde(default, skip_serializing_if = "Augment::is_none")]
    pub augment: Augment,
    /// Read the hour from the hour head and the minute together ([`hour_by_minute`]) in
    /// every score and reading of the run; needs a minute head.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hour_by_minute: bool,
    /// Train a head telling where the hour hand points, as one of this many equal arcs of
    /// the dial (0: none; 4 to 720), beside the hour head: its arc is fixed by the hour and
    /// the minute together, so near an hour's end the target is not the next hour's; read
    /// with [`Self::hour_by_minute`]. Needs a minute head.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hand_bins: usize,
    /// Read the hour and the minute together ([`read_time`]): the time whose minute and
    /// hour hand the heads find likeliest together, this much log-probability taken off a
    /// time whose hands lie within 3 minutes of each other (0: nothing taken off). Needs a
    /// minute head; comes before [`Self::hour_by_minute`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joint: Option<f32>,
    /// Read each clock this many ways ([`Views`]: as it is and draws of [`Self::augment`]),
    /// averaging the heads' probabilities (0 or 1: as it is). Held-out clocks need their
    /// image kept ([`Prepare::keep`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub views: usize,
}

impl Default for ProbeSettings {
    /// The `probe` command's defaults: a reader of hours alone, 500 steps of 16 at a held
    /// rate of 1e-3, seed 0, scored every 50 steps, nothing else.
    fn default() -> Self {
        ProbeSettings {
            steps: 500,
            batch: 16,
            lr: 1e-3,
            lr_end: None,
            seed: 0,
            eval_every: 50,
            first_steps: 0,
            gradual: false,
            minutes: false,
            readout: Readout::Concat,
            dial_loss: 0.0,
            locator: Locator::Linear,
            read_loss: 1.0,
            turn_loss: 0.0,
            turn_bins: 0,
            augment: Augment::default(),
            hour_by_minute: false,
            hand_bins: 0,
            joint: None,
            views: 0,
        }
    }
}

impl ProbeSettings {
    /// The probe's dial locator: `None` without a dial loss.
    #[must_use]
    pub fn dial(&self) -> Option<Locator> {
        (self.dial_loss > 0.0).then_some(self.locator)
    }

    /// Whether the probe tells how far the dial is turned.
    #[must_use]
    pub fn turns(&self) -> bool {
        self.turn_loss > 0.0
    }

    /// How the probe tells how far the dial is turned: `None` without a turn loss.
    #[must_use]
    pub fn teller(&self) -> Option<TurnTeller> {
        self.turns().then_some(match self.turn_bins {
            0 => TurnTeller::Regress,
            bins => TurnTeller::Bins(bins),
        })
    }
}

fn one_f32() -> f32 {
    1.0
}

#[allow(clippy::trivially_copy_pass_by_ref, clippy::float_cmp)] // serde's `skip_serializing_if` wants a reference
fn is_one_f32(x: &f32) -> bool {
    *x == 1.0
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` wants a reference
fn is_zero_f32(x: &f32) -> bool {
    *x == 0.0
}

impl ProbeSettings {
    /// Adam's rate at optimiser step `step` (0-based): up from `lr / warmup` to `lr` over a
    /// warmup of `steps / 20` steps, then `lr` held, or with [`Self::lr_end`] falling to it
    /// along half a cosine by the last step (the trainer's [`Schedule::lr`], Molmo's
    /// `CosWithWarmup`, with its floor at `lr_end`).
    #[must_use]
    pub fn lr_at(&self, step: u64) -> f64 {
        let warmup = (self.steps / 20).max(1);
        let alpha_f = match self.lr_end {
            Some(end) if self.lr > 0.0 => end / self.lr,
            _ => 1.0,
        };
        let group = GroupSchedule {
            peak_lr: self.lr,
            warmup,
        };
        let schedule = Schedule {
            connector: group,
            vit: group,
            llm: group,
            total_steps: self.steps,
            alpha_f,
        };
        schedule.lr(Group::Connector, step + 1)
    }

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
fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
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
    /// Mean intersection over union of the located dials with the true ones, over the
    /// clocks whose dial is known; `None` without a dial head or such clocks.
    pub dial_iou: Option<f64>,
    /// Mean error of the told turn (degrees), over the clocks whose turn is known; `None`
    /// without a turn head or such clocks.
    pub turn_error: Option<f64>,
}

/// What a probe reads from one clock.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reading {
    /// The hour head's argmax (0–11).
    pub hour: i64,
    /// The minute head's argmax, with a minute head.
    pub minute: Option<i64>,
    /// The located dial in the image the probe saw, with a dial head.
    pub dial: Option<DialBox>,
    /// How far the dial is turned in that image (degrees clockwise, in (-180, 180]), with
    /// a turn head.
    pub turn: Option<f32>,
    /// How sure the probe is of what it read: the log-probability of its hour, plus its
    /// minute's with a minute head.
    pub sure: f32,
    /// The hour head's probabilities of the 12 hours.
    pub hour_p: Vec<f32>,
    /// Where the probe expects the hour hand: the probabilities of the hand head's arcs
    /// (the first starting at 12), else of the hour head's 12 hours.
    pub hand_p: Vec<f32>,
    /// The minute head's probabilities of the 60 minutes; empty without one.
    pub minute_p: Vec<f32>,
    /// A turn head over arcs: the probabilities of its arcs (through the probe's views,
    /// each view's turned back), before any prior; empty otherwise.
    pub turn_p: Vec<f32>,
}

impl Reading {
    /// How far the told turn is from `e`'s (degrees, 0 to 180), where both are known.
    #[must_use]
    pub fn turn_error(&self, e: &ProbeExample) -> Option<f32> {
        Some(wrap_degrees(self.turn? - e.turn?).abs())
    }

    /// Whether the hour is `e`'s.
    #[must_use]
    pub fn hour_right(&self, e: &ProbeExample) -> bool {
        usize::try_from(self.hour).ok() == Some(e.hour)
    }

    /// Whether the time is within 3 minutes of `e`'s on the 12-hour dial (false without a
    /// minute head).
    #[must_use]
    pub fn close(&self, e: &ProbeExample) -> bool {
        self.minute
            .is_some_and(|m| within_3_minutes((self.hour, m), (e.hour, e.minute)))
    }

    /// The located dial's IoU with `e`'s true one, where both are known.
    #[must_use]
    pub fn dial_iou(&self, e: &ProbeExample) -> Option<f32> {
        Some(iou(self.dial?, e.dial?))
    }
}

/// What `probe` reads from each clock of `data`, one forward pass per 32 clocks.
pub fn read_clocks<B: Backend>(
    probe: &HourProbe<B>,
    data: &[ProbeExample],
    device: &B::Device,
) -> Vec<Reading> {
    read_clocks_with(probe, data, device, None)
}

/// [`read_clocks`], with a turn head over arcs ([`TurnTeller::Bins`]) weighing each arc by
/// `prior` too (log-odds against an even spread, added to its logit; [`turn_prior`]): how
/// turns are spread where the clocks come from, for a teller trained where they are spread
/// evenly (`--random-turn`). A prior of another length than the arcs is not used.
pub fn read_clocks_with<B: Backend>(
    probe: &HourProbe<B>,
    data: &[ProbeExample],
    device: &B::Device,
    prior: Option<&[f32]>,
) -> Vec<Reading> {
    let mut readings = Vec::with_capacity(data.len());
    for (c, chunk) in data.chunks(32).enumerate() {
        let inputs: Vec<&ImageInput> = chunk.iter().map(|e| &e.input).collect();
        let sizes: Vec<_> = chunk.iter().map(|e| e.size).collect();
        let heads = probe.forward_all(&inputs, &sizes, device);
        let values = |t: Option<Tensor<B, 2>>| -> Vec<f32> {
            t.map_or_else(Vec::new, |t| {
                t.into_data().convert::<f32>().to_vec().unwrap_or_default()
            })
        };
        let dials = values(heads.dial.clone());
        // The hour, minute and hand heads' probabilities (the hand's: the hour head's
        // without one) summed over the views, and the turn head's over arcs, each view's
        // turned back by the turn drawn for it.
        let softmax =
            |t: Option<Tensor<B, 2>>| values(t.map(|t| burn::tensor::activation::softmax(t, 1)));
        let turn_raw = values(heads.turn.clone());
        let turn_too = probe.turn_bins > 0 && probe.views.as_ref().is_some_and(|v| v.count > 1);
        let probs = |h: Heads<B>, turned: &[f32]| {
            let hand = h.hand.unwrap_or_else(|| h.hours.clone());
            let mut arcs = softmax(h.turn.filter(|_| probe.turn_bins > 0));
            if probe.turn_bins > 0 {
                for (row, &t) in arcs.chunks_mut(probe.turn_bins).zip(turned) {
                    if t != 0.0 {
                        let back = arcs_turned_back(row, t);
                        row.copy_from_slice(&back);
                    }
                }
            }
            [
                softmax(Some(h.hours)),
                softmax(h.minutes),
                softmax(Some(hand)),
                arcs,
            ]
        };
        let arcs = heads.hand.as_ref().map_or(12, |t| t.dims()[1]);
        let mut sum = probs(heads, &[]);
        let mut count = 1.0f32;
        if let Some(views) = &probe.views {
            for v in 1..views.count {
                let (drawn, turned) = views.draw_turned(chunk, c * 32, v);
                let inputs: Vec<&ImageInput> = drawn.iter().collect();
                let more = probs(probe.forward_all(&inputs, &sizes, device), &turned);
                for (s, m) in sum.iter_mut().zip(more) {
                    for (s, m) in s.iter_mut().zip(m) {
                        *s += m;
                    }
                }
                count += 1.0;
            }
        }
        let [hour_p, minute_p, arc_p, turn_p] = sum;
        let [hour_p, minute_p, arc_p, turn_p] = [hour_p, minute_p, arc_p, turn_p]
            .map(|p| p.into_iter().map(|x| x / count).collect::<Vec<f32>>());
        // The turn head's logits; over arcs and several views, the log of their summed
        // probabilities (logits but for a constant).
        let turns = if turn_too {
            turn_p.iter().map(|x| x.ln()).collect()
        } else {
            turn_raw
        };
        let told = |i: usize| match probe.turn_bins {
            0 => turns
                .get(2 * i..2 * i + 2)
                .map(|t| wrap_degrees(t[1].atan2(t[0]).to_degrees())),
            n => turns
                .get(n * i..n * i + n)
                .map(|logits| turn_of_arcs(&weigh_arcs(logits, prior))),
        };
        let row = |p: &[f32], n: usize, i: usize| -> Vec<f32> {
            p.get(n * i..n * i + n)
                .map(<[f32]>::to_vec)
                .unwrap_or_default()
        };
        for i in 0..chunk.len() {
            let (hour_p, minute_p, hand_p) = (
                row(&hour_p, 12, i),
                row(&minute_p, 60, i),
                row(&arc_p, arcs, i),
            );
            let turn_arcs = row(&turn_p, probe.turn_bins, i);
            let (hour, minute) = decide(probe, &hour_p, &hand_p, &minute_p);
            let ln_max = |p: &[f32]| p.iter().copied().fold(f32::NEG_INFINITY, f32::max).ln();
            readings.push(Reading {
                hour,
                minute,
                dial: dials
                    .get(4 * i..4 * i + 4)
                    .map(|d| [d[0], d[1], d[2], d[3]]),
                turn: told(i),
                sure: ln_max(&hour_p)
                    + if minute_p.is_empty() {
                        0.0
                    } else {
                        ln_max(&minute_p)
                    },
                hour_p,
                hand_p,
                minute_p,
                turn_p: turn_arcs,
            });
        }
    }
    readings
}

/// `e`'s input drawn anew by `draw` from its kept image; as it is without one.
fn augmented(vision: &VisionGeometry, e: &ProbeExample, draw: &augment::Draw) -> ImageInput {
    let Some(kept) = &e.kept else {
        return e.input.clone();
    };
    let image = draw.apply(&kept.restore());
    let (crops, patch_masks) = assemble_crops(vision, &image);
    // The pixel-free parts only: cloning the whole input would copy its crops to drop them.
    ImageInput {
        tiling: e.input.tiling,
        crops,
        patch_masks,
        tokens: e.input.tokens.clone(),
        input_idx: e.input.input_idx.clone(),
    }
}

/// The hour and, with a minute head, the minute `probe` reads from its heads' probabilities
/// of one clock: the hour head's 12, the arcs where the hour hand points (the hand head's,
/// else the hour head's) and the minute head's 60 (empty without one). Read together
/// ([`read_time`]) when the probe is asked to, else the minute head's likeliest minute and
/// the hour from it ([`hour_by_minute`]) or the hour head's likeliest hour.
fn decide<B: Backend>(
    probe: &HourProbe<B>,
    hour_p: &[f32],
    hand_p: &[f32],
    minute_p: &[f32],
) -> (i64, Option<i64>) {
    let whole = |x: usize| i64::try_from(x).unwrap_or(0);
    let likeliest = |p: &[f32]| {
        // The first of equals, as a tensor's argmax.
        (0..p.len()).fold(0, |best, i| if p[i] > p[best] { i } else { best })
    };
    if minute_p.is_empty() {
        return (whole(likeliest(hour_p)), None);
    }
    let minute = likeliest(minute_p);
    match probe.joint {
        Some(discount) => {
            let (h, m) = read_time(hand_p, minute_p, discount);
            (whole(h), Some(whole(m)))
        }
        None if probe.hour_by_minute => {
            (whole(hour_by_minute(hand_p, minute)), Some(whole(minute)))
        }
        None => (whole(likeliest(hour_p)), Some(whole(minute))),
    }
}

/// The arc of `bins` equal arcs of the dial (the first starting at 12) where the hour hand
/// of `hour:minute` points.
#[must_use]
pub fn hand_arc(hour: usize, minute: usize, bins: usize) -> usize {
    ((hour % 12) * 60 + minute % 60) * bins / 720
}

/// The hour of a clock whose minute is `minute`, from `probs`: how likely the hour hand
/// points into each of `probs.len()` equal arcs of the dial, the first starting at 12 (the
/// hour head's 12 hours, or a hand head's arcs). The hour `h` whose hand at `h:minute`
/// stands where `probs` most expects it: the hand of `h:m` is `30 h + m / 2` degrees round
/// the dial; each arc's probability is taken to sit at its middle and is interpolated in
/// between, so a hand near the end of an arc counts both arcs it lies between. An hour head
/// torn between 2 and 3 reads 2 at minute 58 and 3 at minute 2; at minute 30 it reads its
/// own argmax. Parameter-free; ties go to the earlier hour; no arcs read hour 0.
#[must_use]
pub fn hour_by_minute(probs: &[f32], minute: usize) -> usize {
    let mut best = 0;
    for h in 1..12 {
        if hand_at(probs, h, minute) > hand_at(probs, best, minute) {
            best = h;
        }
    }
    best
}

/// How likely `probs` (as in [`hour_by_minute`]) makes the hour hand of `hour:minute`: the
/// probability of the arc it points into, interpolated between arcs' middles; 0 without
/// arcs.
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn hand_at(probs: &[f32], hour: usize, minute: usize) -> f32 {
    let n = probs.len();
    if n == 0 {
        return 0.0;
    }
    // The hand's place in arcs from the middle of the first.
    let t = ((hour % 12) as f32 * 60.0 + (minute % 60) as f32) * n as f32 / 720.0 - 0.5;
    let below = t.floor();
    let f = t - below;
    let below = (below as i64).rem_euclid(n as i64) as usize;
    (1.0 - f) * probs[below] + f * probs[(below + 1) % n]
}

/// The time `(hour, minute)` read from where the hour hand points (`hand`, as in
/// [`hour_by_minute`]) and the minute head's 60 probabilities together: the one of the 720
/// whose `ln P(minute) + ln P(hour hand at hour:minute)` is largest, less `discount` where
/// the two hands lie within 3 minutes of each other on the dial. A reader unsure which hand
/// is which finds the minute hand where it looks for the hour hand too, and so reads the
/// time at which the hour hand would lie on the minute hand; the discount asks more of it
/// before it reads such a time (the hands lie that close for 1 time in 10). Each
/// probability counts from 1e-6 up, so no arc rules a time out alone. Ties go to the
/// earlier time; without a minute head's 60 probabilities, 0:00.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn read_time(hand: &[f32], minutes: &[f32], discount: f32) -> (usize, usize) {
    if minutes.len() != 60 {
        return (0, 0);
    }
    let mut best = ((0, 0), f32::NEG_INFINITY);
    for hour in 0..12 {
        for (minute, &p) in minutes.iter().enumerate() {
            // How far apart the hands are, in minutes of the dial.
            let apart = ((hour * 60 + minute) as f32 / 12.0 - minute as f32).rem_euclid(60.0);
            let together = apart.min(60.0 - apart) <= 3.0;
            let score = (p + 1e-6).ln() + (hand_at(hand, hour, minute) + 1e-6).ln()
                - if together { discount } else { 0.0 };
            if score > best.1 {
                best = ((hour, minute), score);
            }
        }
    }
    best.0
}

/// Scores `data` with one forward pass per 32 clocks (the hour and, with a minute head, the
/// time within 3 minutes).
pub fn score<B: Backend>(
    probe: &HourProbe<B>,
    data: &[ProbeExample],
    device: &B::Device,
) -> ProbeScore {
    score_readings(probe, data, &read_clocks(probe, data, device))
}

/// The score of `readings`, what `probe` read from each clock of `data` ([`score`]).
fn score_readings<B: Backend>(
    probe: &HourProbe<B>,
    data: &[ProbeExample],
    readings: &[Reading],
) -> ProbeScore {
    let count = |f: &dyn Fn(&Reading, &ProbeExample) -> bool| {
        readings.iter().zip(data).filter(|(r, e)| f(r, e)).count()
    };
    // The mean of what `f` gives where it gives something.
    let mean = |f: &dyn Fn(&Reading, &ProbeExample) -> Option<f32>| {
        let v: Vec<f64> = readings
            .iter()
            .zip(data)
            .filter_map(|(r, e)| f(r, e).map(f64::from))
            .collect();
        #[allow(clippy::cast_precision_loss)]
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    #[allow(clippy::cast_precision_loss)]
    let share = |n: usize| n as f64 / data.len().max(1) as f64;
    ProbeScore {
        hour: share(count(&|r, e| r.hour_right(e))),
        close: probe
            .minute_head
            .is_some()
            .then(|| share(count(&|r, e| r.close(e)))),
        dial_iou: mean(&|r, e| r.dial_iou(e)),
        turn_error: mean(&|r, e| r.turn_error(e)),
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
    /// How its images were cropped to the dial, when they were (`truth` or a locator's
    /// folder, and the margin): a record of what it read, for whoever starts from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dial_crop: Option<(String, f32)>,
    /// How its dial crops were turned, when they were: `truth` (upright by the renderer's
    /// rotation), `random` (each by its own random angle) or a turn teller's folder (upright
    /// by what it told). A reader of upright crops reads unturned ones worse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turned: Option<String>,
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
    let json = serde_json::to_vec_pretty(saved).map_err(|e| Error::Checkpoint {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    // Each file written beside its place and renamed into it once whole (the weights
    // first, the description last), so a failed save leaves the probe that was there.
    // (burn sets the `.mpk` extension itself: no other dot in the name.)
    let tmp = dir.join(format!("probe-tmp-{}", std::process::id()));
    let tmp_file = tmp.with_extension("mpk");
    let written = probe
        .clone()
        .save_file(&tmp, &recorder)
        .map_err(|e| Error::Checkpoint {
            path: dir.to_path_buf(),
            message: format!("cannot save the probe: {e}"),
        })
        .and_then(|()| {
            std::fs::File::open(&tmp_file)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io("sync", &tmp_file, e))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp_file);
        return Err(e);
    }
    let weights = dir.join("probe.mpk");
    std::fs::rename(&tmp_file, &weights)
        .map_err(|e| Error::io("rename into place", &weights, e))?;
    let path = dir.join("probe.json");
    pixmo_shards::atomic_write(&path, &json).map_err(|e| Error::Checkpoint {
        path: path.clone(),
        message: format!("cannot write: {e}"),
    })
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
    let saved = read_saved(dir)?;
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
    let probe = HourProbe::<B>::with_dial(
        m,
        saved.crops,
        saved.minutes,
        saved.settings.readout,
        saved.settings.dial(),
        saved.settings.teller(),
        device,
    );
    let probe = match saved.settings.hand_bins {
        0 => probe,
        bins => probe.with_hand(m, saved.crops, bins, device),
    }
    .load_file(dir.join("probe"), &recorder, device)
    .map_err(|e| fail(format!("cannot load the probe: {e}")))?;
    Ok((probe, saved))
}

/// What a probe saved by [`save_vision`] in `dir` is (its `probe.json`), without its weights.
///
/// # Errors
/// When the file cannot be read or is not a saved probe's.
pub fn read_saved(dir: &Path) -> crate::Result<SavedProbe> {
    let path = dir.join("probe.json");
    let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Checkpoint {
        path: dir.to_path_buf(),
        message: format!("bad `probe.json`: {e}"),
    })
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

/// A report line: `step`, `loss`, `train_acc` on `sets[0]`, `test_acc` on `sets[1]` (with
/// `_close` and `_dial_iou` where the probe reads minutes or locates dials) and `also`.
/// What the probe read from each clock of `sets[1]` is left in `readings`.
fn scores<B: Backend>(
    probe: &HourProbe<B>,
    step: u64,
    loss: f64,
    sets: &[&[ProbeExample]; 2],
    also: &[(String, Vec<ProbeExample>)],
    device: &B::Device,
    readings: &mut Vec<Reading>,
) -> serde_json::Value {
    // The scores of `set` read as `read` under keys that start with `prefix` (`train_acc`,
    // `acc`, ...).
    let put = |line: &mut serde_json::Value, prefix: &str, set, read: &[Reading]| {
        let got = score_readings(probe, set, read);
        line[format!("{prefix}acc")] = serde_json::json!(got.hour);
        let optional = [
            ("close", got.close),
            ("dial_iou", got.dial_iou),
            ("turn_error", got.turn_error),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                line[format!("{prefix}{name}")] = serde_json::json!(v);
            }
        }
    };
    let mut line = serde_json::json!({ "step": step, "loss": loss });
    put(
        &mut line,
        "train_",
        sets[0],
        &read_clocks(probe, sets[0], device),
    );
    *readings = read_clocks(probe, sets[1], device);
    put(&mut line, "test_", sets[1], readings);
    if !also.is_empty() {
        let mut scores = serde_json::Map::new();
        for (name, set) in also {
            let mut entry = serde_json::json!({});
            put(&mut entry, "", set, &read_clocks(probe, set, device));
            scores.insert(name.clone(), entry);
        }
        line["also"] = serde_json::Value::Object(scores);
    }
    line
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
    report: impl FnMut(serde_json::Value),
) -> crate::Result<HourProbe<B>> {
    train_probe_reading(config, data, start, settings, device, report).map(|(probe, _)| probe)
}

/// [`train_probe`], and what the trained probe read from each clock of `data.test` for its
/// last report: the readings its held-out scores count (one pass over the held-out clocks
/// instead of another for `--predictions`).
///
/// # Errors
/// As [`train_probe`].
pub fn train_probe_reading<B: AutodiffBackend>(
    config: &ModelConfig,
    data: &ProbeData<'_>,
    start: ProbeStart<B>,
    settings: &ProbeSettings,
    device: &B::Device,
    mut report: impl FnMut(serde_json::Value),
) -> crate::Result<(HourProbe<B>, Vec<Reading>)> {
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
    if settings.turns() && settings.turn_bins != 0 && !(4..=360).contains(&settings.turn_bins) {
        return Err(Error::Config(format!(
            "a turn told in {} arcs; it takes 4 to 360 (or 0, a regression of its cosine and sine)",
            settings.turn_bins
        )));
    }
    if !settings.augment.is_none() {
        settings.augment.check().map_err(Error::Config)?;
        if settings.dial().is_some() || settings.turns() {
            return Err(Error::Config(
                "augmentation moves and turns the image, and a dial or turn loss's target with it; it is for readers\nhint: train a locator or a teller without `--augment-*`".into(),
            ));
        }
        let bare = train
            .iter()
            .chain(first)
            .filter(|e| e.kept.is_none())
            .count();
        if bare > 0 {
            return Err(Error::Config(format!(
                "augmentation needs each training clock's letterboxed image; {bare} were prepared without it (`Prepare::keep`)"
            )));
        }
    }
    if settings.hand_bins != 0 && !(settings.minutes && (4..=720).contains(&settings.hand_bins)) {
        return Err(Error::Config(format!(
            "a hand head over {} arcs; it takes 4 to 720 arcs and a probe that reads minutes (`--minutes`)",
            settings.hand_bins
        )));
    }
    let misread = |d: &f32| !settings.minutes || !d.is_finite() || *d < 0.0;
    if let Some(d) = settings.joint.filter(misread) {
        return Err(Error::Config(format!(
            "the hour and minute are read together by a probe that reads minutes (`--minutes`), with an overlap discount of 0 or more (not {d})"
        )));
    }
    if settings.views > 1 && settings.augment.is_none() {
        return Err(Error::Config(format!(
            "{} views of each clock, but no augmentation to draw them by\nhint: bound the draws with `--augment-turn` and the like",
            settings.views
        )));
    }
    if settings.hour_by_minute && !settings.minutes {
        return Err(Error::Config(
            "the hour is read with the minute only by a probe that reads minutes\nhint: add `--minutes`".into(),
        ));
    }
    if settings.first_steps > 0 && first.is_empty() {
        return Err(Error::Config(
            "a curriculum (`--first-steps`) needs first clocks (`--first-data`)".into(),
        ));
    }
    B::seed(device, settings.seed);
    let locates = settings.dial();
    // A loss on what the truth file tells needs it for every training clock.
    let known = |loss: bool, what: &str, unknown: &dyn Fn(&ProbeExample) -> bool| {
        let unknown = train.iter().chain(first).filter(|e| unknown(e)).count();
        if loss && unknown > 0 {
            return Err(Error::Config(format!(
                "a {what}; {unknown} training clocks have none\nhint: build the clocks with `PIXMO_CLOCK_TRUTH=DIR/clock-truth.jsonl build_clocks DIR ...`"
            )));
        }
        Ok(())
    };
    known(
        locates.is_some(),
        "dial loss needs every training clock's dial box",
        &|e| e.dial.is_none(),
    )?;
    known(
        settings.turns(),
        "turn loss needs how far every training clock's dial is turned",
        &|e| e.turn.is_none(),
    )?;
    let fresh = || {
        HourProbe::<B>::with_dial(
            config,
            crops,
            settings.minutes,
            settings.readout,
            locates,
            settings.teller(),
            device,
        )
    };
    let mut probe = match start {
        ProbeStart::Probe(probe, saved) => {
            let theirs = (
                saved.crops,
                saved.minutes,
                saved.settings.readout,
                saved.settings.dial(),
                saved.settings.teller(),
            );
            let ours = (
                crops,
                settings.minutes,
                settings.readout,
                locates,
                settings.teller(),
            );
            if theirs != ours {
                return Err(Error::Config(format!(
                    "the starting probe reads (crops, minutes, readout, dial, turn) = {theirs:?}; these clocks and settings need {ours:?}\nhint: continue with the starting probe's `--minutes`/`--readout`/`--dial-loss`/`--turn-loss`/`--turn-bins` on clocks of its size"
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
    // A reader continued with a hand head gets a fresh one; one that has a head keeps it.
    match (probe.hand_bins(), settings.hand_bins) {
        (0, 0) => {}
        (0, bins) => probe = probe.with_hand(config, crops, bins, device),
        (have, want) if have != want => {
            return Err(Error::Config(format!(
                "the starting probe's hand head tells {have} arcs; this run's `--hand-bins` is {want}\nhint: continue it with `--hand-bins {have}`"
            )));
        }
        _ => {}
    }
    probe = probe
        .with_hour_by_minute(settings.hour_by_minute)
        .with_joint(settings.joint)
        .with_views(Some(Views {
            augment: settings.augment,
            count: settings.views,
            spins: 1,
            seed: settings.seed,
            vision: config.vision.clone(),
        }));
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut draws = Draws::new(first.len(), train.len(), settings.seed);
    let (mut loss_sum, mut losses) = (0.0, 0u32);
    let seen = &train[..train.len().min(300)];
    let mut readings = Vec::new();
    if settings.steps == 0 {
        // Scores only: a saved probe on other clocks, or other crops of them.
        report(scores(
            &probe.valid(),
            0,
            f64::NAN,
            &[seen, test],
            also,
            device,
            &mut readings,
        ));
    }
    for step in 0..settings.steps {
        let share = settings.first_share(step);
        let batch: Vec<&ProbeExample> = (0..settings.batch)
            .map(|_| match draws.next(share) {
                Draw::First(i) => &first[i],
                Draw::Train(i) => &train[i],
            })
            .collect();
        let augmented: Vec<ImageInput> = if settings.augment.is_none() {
            Vec::new()
        } else {
            augment_batch(config, &batch, settings, step)
        };
        let inputs: Vec<&ImageInput> = if augmented.is_empty() {
            batch.iter().map(|e| &e.input).collect()
        } else {
            augmented.iter().collect()
        };
        let labels = |f: &dyn Fn(&ProbeExample) -> usize| -> Tensor<B, 1, Int> {
            let v: Vec<i64> = batch
                .iter()
                .map(|e| i64::try_from(f(e)).unwrap_or(0))
                .collect();
            Tensor::from_data(TensorData::new(v, [batch.len()]), device)
        };
        let sizes: Vec<_> = batch.iter().map(|e| e.size).collect();
        let Heads {
            hours,
            minutes,
            dial,
            turn,
            hand,
        } = probe.forward_all(&inputs, &sizes, device);
        let mut loss = loss_fn.forward(hours, labels(&|e| e.hour));
        if let Some(minutes) = minutes {
            loss = loss + loss_fn.forward(minutes, labels(&|e| e.minute));
        }
        if let Some(hand) = hand {
            let bins = settings.hand_bins;
            loss = loss + loss_fn.forward(hand, labels(&|e| hand_arc(e.hour, e.minute, bins)));
        }
        loss = loss.mul_scalar(settings.read_loss);
        if let Some(dial) = dial {
            let want: Vec<f32> = batch
                .iter()
                .flat_map(|e| e.dial.unwrap_or_default())
                .collect();
            let want = Tensor::<B, 2>::from_data(TensorData::new(want, [batch.len(), 4]), device);
            let squared = (dial - want).powi_scalar(2).sum_dim(1).mean();
            loss = loss + squared.mul_scalar(settings.dial_loss);
        }
        if let (Some(turn), Some(TurnTeller::Bins(bins))) = (&turn, settings.teller()) {
            let arcs = labels(&|e| turn_arc(e.turn.unwrap_or_default(), bins));
            loss = loss
                + loss_fn
                    .forward(turn.clone(), arcs)
                    .mul_scalar(settings.turn_loss);
        } else if let Some(turn) = turn {
            let want: Vec<f32> = batch
                .iter()
                .flat_map(|e| {
                    let (sin, cos) = e.turn.unwrap_or_default().to_radians().sin_cos();
                    [cos, sin]
                })
                .collect();
            let want = Tensor::<B, 2>::from_data(TensorData::new(want, [batch.len(), 2]), device);
            let squared = (turn - want).powi_scalar(2).sum_dim(1).mean();
            loss = loss + squared.mul_scalar(settings.turn_loss);
        }
        loss_sum += loss.clone().into_scalar().elem::<f64>();
        losses += 1;
        let grads = GradientsParams::from_grads(loss.backward(), &probe);
        probe = optim.step(settings.lr_at(step), probe, grads);
        let last = step + 1 == settings.steps;
        if last || (settings.eval_every > 0 && (step + 1).is_multiple_of(settings.eval_every)) {
            report(scores(
                &probe.valid(),
                step + 1,
                loss_sum / f64::from(losses.max(1)),
                &[seen, test],
                also,
                device,
                &mut readings,
            ));
            (loss_sum, losses) = (0.0, 0);
        }
    }
    Ok((probe, readings))
}

/// The images of `batch` (training step `step`) each augmented by a draw of its own
/// ([`ProbeSettings::augment`]): the same draws for the same seed, step and place in the
/// batch. Examples without kept boxes keep their input (the run refuses them first).
fn augment_batch(
    config: &ModelConfig,
    batch: &[&ProbeExample],
    settings: &ProbeSettings,
    step: u64,
) -> Vec<ImageInput> {
    let batch_len = u64::try_from(batch.len()).unwrap_or(u64::MAX);
    let one = |(i, e): (usize, &&ProbeExample)| {
        let place = step
            .saturating_mul(batch_len)
            .saturating_add(u64::try_from(i).unwrap_or(0));
        let mut rng = Rng::derive(settings.seed ^ 0x6175_676d, place);
        augmented(&config.vision, e, &settings.augment.draw(&mut rng))
    };
    let places: Vec<(usize, &&ProbeExample)> = batch.iter().enumerate().collect();
    parallel_map(&places, pixmo_core::parallel::cores(), |&p| one(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 12 probabilities: `mass` spread over (hour, share) and the rest evenly.
    fn torn(mass: &[(usize, f32)]) -> Vec<f32> {
        let used: f32 = mass.iter().map(|(_, p)| p).sum();
        let mut p = vec![(1.0 - used) / 12.0; 12];
        for &(h, share) in mass {
            p[h] += share;
        }
        p
    }

    #[test]
    fn the_hands_arc_is_fixed_by_hour_and_minute_and_wraps_at_twelve() {
        assert_eq!(hand_arc(0, 0, 60), 0);
        assert_eq!(hand_arc(3, 47, 60), 18);
        assert_eq!(hand_arc(3, 48, 60), 19);
        assert_eq!(hand_arc(3, 59, 60), 19);
        assert_eq!(hand_arc(4, 0, 60), 20);
        assert_eq!(hand_arc(11, 59, 60), 59);
        assert_eq!(hand_arc(12, 0, 60), 0);
        assert_eq!(hand_arc(6, 30, 12), 6);
        assert_eq!(hand_arc(6, 30, 720), 390);
    }

    #[test]
    fn the_minute_settles_an_hour_head_torn_between_neighbours() {
        // Torn between 2 and 3: late in the hour it is 2, early it is 3.
        let p = torn(&[(2, 0.45), (3, 0.45)]);
        assert_eq!(hour_by_minute(&p, 58), 2);
        assert_eq!(hour_by_minute(&p, 45), 2);
        assert_eq!(hour_by_minute(&p, 2), 3);
        assert_eq!(hour_by_minute(&p, 15), 3);
        // Sure of 5: 5 whatever the minute.
        let p = torn(&[(5, 0.9)]);
        for m in [0, 1, 29, 30, 31, 59] {
            assert_eq!(hour_by_minute(&p, m), 5, "minute {m}");
        }
        // At half past, the argmax (the hand is in the middle of its arc).
        let p = torn(&[(7, 0.5), (8, 0.4)]);
        assert_eq!(hour_by_minute(&p, 30), 7);
        // The head leaning to 4 with 3 behind it, at 3:55: the hand is at the end of 3's arc.
        let p = torn(&[(4, 0.55), (3, 0.35)]);
        assert_eq!(hour_by_minute(&p, 55), 3);
        // The same head at 4:05 stays on 4; and across twelve o'clock: 11 and 0 (12).
        assert_eq!(hour_by_minute(&p, 5), 4);
        let p = torn(&[(11, 0.45), (0, 0.45)]);
        assert_eq!(hour_by_minute(&p, 57), 11);
        assert_eq!(hour_by_minute(&p, 3), 0);
        // No arcs: hour 0, not a panic.
        assert_eq!(hour_by_minute(&[], 10), 0);
        // 60 arcs of 6° (a hand head): arc 19 is where the hand of 3:48-3:59 points, arc 20
        // where that of 4:00-4:11 does.
        let mut arcs = vec![0.0; 60];
        arcs[19] = 1.0;
        assert_eq!(hour_by_minute(&arcs, 54), 3);
        arcs[19] = 0.0;
        arcs[20] = 1.0;
        assert_eq!(hour_by_minute(&arcs, 6), 4);
        // Torn between arcs 19 and 20 (the boundary at 4:00): the minute settles it.
        arcs[19] = 1.0;
        assert_eq!(hour_by_minute(&arcs, 58), 3);
        assert_eq!(hour_by_minute(&arcs, 1), 4);
    }

    /// 60 arcs or minutes holding `rest` each, but for `peaks` (index, probability).
    fn spread(peaks: &[(usize, f32)], rest: f32) -> Vec<f32> {
        let mut p = vec![rest; 60];
        for &(i, v) in peaks {
            p[i] = v;
        }
        p
    }

    #[test]
    fn read_time_reads_the_minute_and_hour_hand_together() {
        // Sure heads read their time: the hand of 3:20 points into arc 16 of 60.
        let hand = spread(&[(hand_arc(3, 20, 60), 0.9)], 0.1 / 59.0);
        let minutes = spread(&[(20, 0.9)], 0.1 / 59.0);
        assert_eq!(read_time(&hand, &minutes, 0.0), (3, 20));
        assert_eq!(read_time(&hand, &minutes, 0.5), (3, 20));
        // A minute head torn between 10 and 40 is settled by the hour hand: the hand of
        // 7:40 points into arc 38, and no hour's hand at minute 10 points there; the minute
        // head's argmax alone reads 10.
        let minutes = spread(&[(10, 0.5), (40, 0.45)], 0.05 / 58.0);
        let hand = spread(&[(38, 0.9)], 0.1 / 59.0);
        assert_eq!(read_time(&hand, &minutes, 0.0), (7, 40));
        // A minute head of another length reads 0:00; no arcs leave the minute head's argmax
        // at hour 0.
        assert_eq!(read_time(&hand, &minutes[..59], 0.0), (0, 0));
        assert_eq!(read_time(&[], &minutes, 0.0), (0, 10));
    }

    #[test]
    fn read_time_asks_more_of_a_time_whose_hands_lie_together() {
        // A hand head that half finds the minute hand (arcs 20 to 22) where it looks for
        // the hour hand, and less the hour hand of 3:20 (arcs 16 and 17): plain, it reads
        // 4:20, when the hour hand would lie on the minute hand; discounted, 3:20.
        let minutes = spread(&[(20, 0.9)], 0.1 / 59.0);
        let hand = spread(
            &[(20, 0.22), (21, 0.22), (22, 0.22), (16, 0.15), (17, 0.15)],
            0.04 / 55.0,
        );
        assert_eq!(read_time(&hand, &minutes, 0.0), (4, 20));
        assert_eq!(read_time(&hand, &minutes, 0.5), (3, 20));
        // A sure reading of such a time stands: 4:20, the hour hand in arc 21.
        let sure = spread(&[(21, 0.9)], 0.1 / 59.0);
        assert_eq!(read_time(&sure, &minutes, 0.5), (4, 20));
        // The hands of 3:00 are a quarter of the dial apart: no discount is taken from it.
        let minutes = spread(&[(0, 0.9)], 0.1 / 59.0);
        let hand = spread(&[(hand_arc(3, 0, 60), 0.3)], 0.7 / 59.0);
        assert_eq!(read_time(&hand, &minutes, 100.0), (3, 0));
    }

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

    /// Hours only, no curriculum, seed 0, no reports.
    fn plain(steps: u64, batch: usize, lr: f64) -> ProbeSettings {
        ProbeSettings {
            steps,
            batch,
            lr,
            eval_every: 0,
            ..ProbeSettings::default()
        }
    }

    #[test]
    fn the_rate_warms_up_then_holds_or_falls_along_a_cosine_to_its_end() {
        let mut s = plain(200, 1, 3e-4);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12 * b.abs().max(1e-12);
        // Warmup of 10 steps: step 0 trains at a tenth, step 9 at the full rate.
        let held: Vec<f64> = (0..200).map(|t| s.lr_at(t)).collect();
        assert!(
            close(held[0], 3e-5) && close(held[4], 1.5e-4),
            "{:?}",
            &held[..5]
        );
        assert!(held[9..].iter().all(|&r| close(r, 3e-4)), "held to the end");
        s.lr_end = Some(3e-5);
        let falling: Vec<f64> = (0..200).map(|t| s.lr_at(t)).collect();
        assert_eq!(falling[..9], held[..9], "the same warmup");
        assert!(close(falling[9], 3e-4), "the peak at the warmup's end");
        assert!(close(falling[199], 3e-5), "the end rate at the last step");
        // Half way through the fall, half way between the two (cos 90° = 0).
        assert!(close(falling[104], 1.65e-4), "{}", falling[104]);
        assert!(
            falling[9..].windows(2).all(|w| w[1] < w[0]),
            "falling every step"
        );
        // Falling to zero; a run of no rate stays at none.
        s.lr_end = Some(0.0);
        assert_eq!(s.lr_at(199), 0.0);
        s.lr = 0.0;
        assert!((0..200).all(|t| s.lr_at(t) == 0.0));
    }

    #[test]
    fn curriculum_share_falls_linearly_when_gradual_and_switches_otherwise() {
        let mut s = ProbeSettings {
            first_steps: 4,
            ..plain(10, 1, 1e-3)
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
            seed: 3,
            first_steps: 200,
            gradual: true,
            ..plain(400, 50, 1e-3)
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

    #[test]
    fn dial_crop_centres_the_box_keeps_orientation_and_pads_black() {
        // 10×6 image whose red channel is x + 1 and green channel is y + 1 (0 is padding).
        let mut data = Vec::new();
        for y in 1..=6u8 {
            for x in 1..=10u8 {
                data.extend_from_slice(&[f32::from(x), f32::from(y), 1.0]);
            }
        }
        let image = RgbF32 {
            height: 6,
            width: 10,
            data,
        };
        // A 4×2 box at x 6..10, y 0..2, half its longer side wider each side: an 8 px
        // square centred on (8, 1), so from x 4 and y -3.
        let (c, origin) = dial_crop_at(&image, [6.0, 0.0, 10.0, 2.0], 0.5, 8);
        assert_eq!((c.width, c.height, origin), (8, 8, (4.0, -3.0)));
        let at = |x: usize, y: usize| &c.data[(y * 8 + x) * 3..(y * 8 + x) * 3 + 3];
        assert_eq!(at(0, 0), &[0.0, 0.0, 0.0], "above the image: black");
        assert_eq!(at(0, 3), &[5.0, 1.0, 1.0], "image (4, 0)");
        assert_eq!(
            at(5, 4),
            &[10.0, 2.0, 1.0],
            "image (9, 1): x grows right, y down"
        );
        assert_eq!(at(6, 4), &[0.0, 0.0, 0.0], "past the right edge: black");
        // The box, in the crop, is in its middle.
        let d = shift_box(
            dial_box([6.0, 0.0, 10.0, 2.0], 10, 6),
            (10, 6),
            origin,
            (8, 8),
        );
        for (got, want) in d.iter().zip([0.5, 0.5, 0.5, 0.25]) {
            assert!((got - want).abs() < 1e-6, "{d:?}");
        }
        // A wild box (a locator's) still gives a bounded crop.
        let wild = dial_crop(&image, [f32::NAN, 0.0, 1e9, 2.0], 0.1);
        assert!(wild.width <= 20 && wild.width == wild.height);
        assert_eq!(dial_crop(&image, [3.0, 3.0, 3.0, 3.0], 0.1).width, 8);
    }

    #[test]
    #[allow(clippy::float_cmp)]
    fn turns_wrap_into_one_half_open_circle() {
        for (deg, want) in [
            (0.0, 0.0),
            (190.0, -170.0),
            (-190.0, 170.0),
            (180.0, 180.0),
            (-180.0, 180.0),
            (540.0, 180.0),
            (-359.0, 1.0),
        ] {
            assert_eq!(wrap_degrees(deg), want, "{deg}");
        }
    }

    #[test]
    fn several_tellers_tell_the_turn_of_their_arcs_mean() {
        let arcs = |peaks: &[(usize, f32)]| -> Vec<f32> {
            let rest = (1.0 - peaks.iter().map(|p| p.1).sum::<f32>()) / 34.0;
            let mut p = vec![rest; 36];
            for &(a, x) in peaks {
                p[a] = x;
            }
            p
        };
        let map = |pairs: &[(&str, Vec<f32>)]| -> std::collections::HashMap<String, Vec<f32>> {
            pairs
                .iter()
                .map(|(id, p)| ((*id).to_string(), p.clone()))
                .collect()
        };
        // Arc 20 is 20° to 30°, arc 26 80° to 90°.
        let first = map(&[
            ("a", arcs(&[(20, 0.5), (26, 0.4)])),
            ("b", arcs(&[(20, 0.9)])),
        ]);
        let second = map(&[("a", arcs(&[(20, 0.1), (26, 0.6)]))]);
        let alone = turns_of_arcs(std::slice::from_ref(&first), None);
        assert!((alone["a"] - 25.0).abs() < 5.0, "{alone:?}");
        let both = turns_of_arcs(&[first.clone(), second.clone()], None);
        assert!((both["a"] - 85.0).abs() < 5.0, "{both:?}");
        // A clock one teller did not tell is left out.
        assert_eq!(both.len(), 1);
        // The prior weighs the mean as it weighs one teller's arcs.
        let mut prior = vec![0.0f32; 36];
        prior[20] = 2.0;
        let weighed = turns_of_arcs(&[first, second], Some(&prior));
        assert!((weighed["a"] - 25.0).abs() < 5.0, "{weighed:?}");
        assert!(turns_of_arcs(&[], None).is_empty());
    }

    #[test]
    fn boxes_found_by_several_looks_are_their_mean() {
        let map = |pairs: &[(&str, PixelBox)]| -> std::collections::HashMap<String, PixelBox> {
            pairs
                .iter()
                .map(|(id, b)| ((*id).to_string(), *b))
                .collect()
        };
        let one = map(&[("a", [0.0, 0.0, 10.0, 10.0]), ("b", [5.0, 5.0, 9.0, 9.0])]);
        let two = map(&[("a", [2.0, 4.0, 12.0, 18.0])]);
        let mean = mean_boxes(&[one.clone(), two]);
        assert_eq!(mean.len(), 1, "a clock one look missed is left out");
        assert_eq!(mean["a"], [1.0, 2.0, 11.0, 14.0]);
        assert_eq!(mean_boxes(std::slice::from_ref(&one)), one);
        assert!(mean_boxes(&[]).is_empty());
        // Moved looks: as they are at 0, each clock its own way otherwise.
        assert_eq!(jitter_boxes(&one, 0.0, 3), one);
        let moved = jitter_boxes(&one, 0.1, 3);
        assert_eq!(moved["a"], jitter_box(one["a"], "a", 0.1, 3));
        assert_ne!(moved["a"], one["a"]);
        assert_ne!(jitter_boxes(&one, 0.1, 4)["a"], moved["a"]);
    }

    #[test]
    fn a_turned_views_arcs_turn_back_by_its_turn() {
        let mut p = vec![0.0f32; 36];
        p[20] = 0.75;
        p[21] = 0.25;
        // A view turned a quarter clockwise shows every turn 90° (nine arcs) further on.
        let back = arcs_turned_back(&p, 90.0);
        assert_eq!((back[11], back[12]), (0.75, 0.25));
        assert_eq!(arcs_turned_back(&p, -90.0)[29], 0.75);
        // Across -180°, and half an arc: the mass falls between two arcs.
        assert_eq!(arcs_turned_back(&p, 270.0), arcs_turned_back(&p, -90.0));
        let half = arcs_turned_back(&p, 5.0);
        assert_eq!((half[19], half[20], half[21]), (0.375, 0.5, 0.125));
        let across = arcs_turned_back(&p, 185.0);
        assert_eq!((across[1], across[2], across[3]), (0.375, 0.5, 0.125));
        assert!((across.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(arcs_turned_back(&p, 0.0), p);
        // Told by the arcs, the turn moves back by the view's turn.
        let logits: Vec<f32> = p.iter().map(|x| (x + 1e-6).ln()).collect();
        let turned: Vec<f32> = arcs_turned_back(&p, 37.0)
            .iter()
            .map(|x| (x + 1e-6).ln())
            .collect();
        let moved = wrap_degrees(turn_of_arcs(&logits) - turn_of_arcs(&turned));
        assert!((moved - 37.0).abs() < 3.0, "{moved}");
    }

    #[test]
    fn turns_fall_in_arcs_and_arc_logits_tell_turns() {
        // Twelve arcs of 30°, the first [-180°, -150°).
        assert_eq!(turn_arc(-180.0, 12), 0);
        assert_eq!(turn_arc(180.0, 12), 0, "180° is -180°");
        assert_eq!(turn_arc(-150.0, 12), 1);
        assert_eq!(turn_arc(-0.1, 12), 5);
        assert_eq!(turn_arc(0.0, 12), 6);
        assert_eq!(turn_arc(179.9, 12), 11);
        assert_eq!(turn_arc(370.0, 12), 6, "wrapped first");
        let tells = |logits: &[f32], want: f32| {
            let told = turn_of_arcs(logits);
            assert!(wrap_degrees(told - want).abs() < 0.01, "{told}, not {want}");
        };
        // A lone likely arc tells its centre.
        let mut logits = vec![-30.0; 12];
        logits[7] = 10.0;
        tells(&logits, 45.0);
        // Two equally likely neighbours tell the line between them, across ±180° too.
        logits[8] = 10.0;
        tells(&logits, 60.0);
        let mut logits = vec![-30.0; 12];
        logits[0] = 4.0;
        logits[11] = 4.0;
        tells(&logits, 180.0);
        // A likelier neighbour pulls the turn towards it, but not past the arc's edge.
        let mut logits = vec![-30.0; 12];
        logits[6] = 2.0;
        logits[7] = 1.0;
        let t = turn_of_arcs(&logits);
        assert!(t > 15.0 && t < 30.0, "{t}");
        // An arc far from the likeliest does not move it (the mean is local).
        logits[0] = 1.9;
        tells(&logits, t);
        // Every arc's centre round-trips through its own arc.
        for n in [4, 12, 36, 360] {
            for k in 0..n {
                let mut logits = vec![0.0; n];
                logits[k] = 50.0;
                assert_eq!(turn_arc(turn_of_arcs(&logits), n), k, "{n} arcs, arc {k}");
            }
        }
    }

    #[test]
    fn a_prior_over_arcs_settles_a_turn_the_image_leaves_open() {
        // Natural clocks: most stand near upright.
        let upright: Vec<f32> = (0..200u8).map(|i| f32::from(i % 11) - 5.0).collect();
        let prior = turn_prior(upright.iter().copied(), 12);
        assert_eq!(prior.len(), 12);
        assert!(prior[5] > 1.0 && prior[6] > 1.0, "{prior:?}");
        assert!(prior[0] < -1.0, "{prior:?}");
        // Evenly spread turns make a flat prior (log-odds near 0 everywhere).
        let even = turn_prior((0..1200u16).map(|i| wrap_degrees(0.3 * f32::from(i))), 12);
        assert!(even.iter().all(|p| p.abs() < 0.05), "{even:?}");
        assert!(turn_prior(upright.iter().copied(), 0).is_empty());
        // A teller torn between 15° and half a turn from it: the prior picks the upright one,
        // and a prior of clocks standing on their heads the other.
        let mut logits = [-10.0; 12];
        logits[6] = 3.0;
        logits[0] = 3.0;
        let weighed = |prior: &[f32]| -> f32 {
            let l: Vec<f32> = logits.iter().zip(prior).map(|(l, p)| l + p).collect();
            turn_of_arcs(&l)
        };
        assert!(wrap_degrees(weighed(&prior) - 15.0).abs() < 10.0);
        let headstand = turn_prior(upright.iter().map(|t| wrap_degrees(t + 180.0)), 12);
        assert!(wrap_degrees(weighed(&headstand) + 165.0).abs() < 10.0);
        // Where the image is sure, a prior against it does not overrule it.
        let mut sure = [-10.0; 12];
        sure[0] = 12.0;
        let l: Vec<f32> = sure.iter().zip(&prior).map(|(l, p)| l + p).collect();
        assert!(wrap_degrees(turn_of_arcs(&l) + 165.0).abs() < 10.0);
    }

    #[test]
    fn a_teller_torn_between_two_turns_offers_both_and_a_reader_can_pick() {
        // Upright (arc 6 of 12: 15°) likelier than upside down (arc 0: -165°), a lesser bump
        // beside the first peak is no peak of its own.
        let mut logits = vec![-10.0; 12];
        logits[6] = 3.0;
        logits[7] = 1.0;
        logits[0] = 2.0;
        let offered = turn_candidates(&logits, 5);
        assert_eq!(offered.len(), 2, "{offered:?}");
        let (up, down) = (offered[0], offered[1]);
        assert!((up.0 - turn_of_arcs(&logits)).abs() < 1e-4, "{up:?}");
        assert!(wrap_degrees(down.0 + 165.0).abs() < 1e-3, "{down:?}");
        assert!(up.1 > down.1 && down.1 < 0.0 && up.1 < 0.0, "{offered:?}");
        // The masses are probabilities: their sum is at most 1.
        assert!(up.1.exp() + down.1.exp() <= 1.0 + 1e-5);
        assert_eq!(turn_candidates(&logits, 1), vec![up]);
        assert!(turn_candidates(&logits, 0).is_empty() && turn_candidates(&[], 3).is_empty());
        // Every arc alike: one candidate, not twelve.
        assert_eq!(turn_candidates(&[0.5; 12], 3).len(), 1);
        // The reader sure of the upside-down crop overrules a teller that leans upright,
        // unless its word is weighed lightly; a candidate it did not read is not taken.
        let candidates = std::collections::HashMap::from([("c".to_string(), offered.clone())]);
        let sure = |a: f32, b: f32| {
            vec![
                std::collections::HashMap::from([("c".to_string(), a)]),
                std::collections::HashMap::from([("c".to_string(), b)]),
            ]
        };
        assert_eq!(
            choose_turns(&candidates, &sure(-4.0, -0.1), 1.0)["c"],
            down.0
        );
        assert_eq!(
            choose_turns(&candidates, &sure(-4.0, -0.1), 0.01)["c"],
            up.0
        );
        assert_eq!(choose_turns(&candidates, &sure(-0.1, -4.0), 1.0)["c"], up.0);
        let unread = vec![std::collections::HashMap::from([("c".to_string(), -9.0)])];
        assert_eq!(choose_turns(&candidates, &unread, 1.0)["c"], up.0);
        assert_eq!(choose_turns(&candidates, &[], 1.0)["c"], up.0);
    }

    #[test]
    fn jittered_turns_stay_within_their_bound_and_are_spread_in_it() {
        let turns: Vec<f32> = (0..400)
            .map(|i| jitter_turn(&format!("c{i}"), 3, 10.0))
            .collect();
        assert_eq!(
            turns[7],
            jitter_turn("c7", 3, 10.0),
            "the same clock, the same turn"
        );
        assert_ne!(
            turns[7],
            jitter_turn("c7", 4, 10.0),
            "another seed, another turn"
        );
        assert!(turns.iter().all(|t| (-10.0..=10.0).contains(t)));
        // Both signs, about half each, and their sizes spread evenly: mean size about 5°.
        let left = turns.iter().filter(|&&t| t < 0.0).count();
        assert!((160..240).contains(&left), "{left} of 400 below zero");
        let mean = turns.iter().map(|t| t.abs()).sum::<f32>() / 400.0;
        assert!((4.0..6.0).contains(&mean), "mean size {mean}");
        // Not the random turn scaled down: its own draw.
        let scaled = random_turn("c7", 3) / 18.0;
        assert!((turns[7] - scaled).abs() > 1e-3);
        assert_eq!(jitter_turn("c7", 3, 0.0), 0.0);
    }

    #[test]
    fn random_turns_are_fixed_per_clock_and_spread_over_the_circle() {
        let turns: Vec<f32> = (0..400).map(|i| random_turn(&format!("c{i}"), 3)).collect();
        assert_eq!(
            turns[7],
            random_turn("c7", 3),
            "the same clock, the same turn"
        );
        assert_ne!(turns[7], random_turn("c7", 4), "another seed, another turn");
        assert!(turns.iter().all(|t| (-180.0..180.0).contains(t)));
        // Each quarter of the circle holds about a quarter of them.
        for q in 0..4u8 {
            let lo = -180.0 + 90.0 * f32::from(q);
            let n = turns
                .iter()
                .filter(|&&t| (lo..lo + 90.0).contains(&t))
                .count();
            assert!(
                (70..=130).contains(&n),
                "{n} of 400 in [{lo}, {})",
                lo + 90.0
            );
        }
    }

    #[test]
    fn a_turned_crop_stands_a_turned_dial_upright() {
        // 40×40, dark, a bright hand from the centre to the right edge: a dial whose 12 the
        // renderer turned 90° clockwise points right.
        let mut data = Vec::new();
        for y in 0..40 {
            for x in 0..40 {
                let v = if (18..22).contains(&y) && x >= 20 {
                    1.0
                } else {
                    0.1
                };
                data.extend_from_slice(&[v, v, v]);
            }
        }
        let image = RgbF32 {
            height: 40,
            width: 40,
            data,
        };
        let b = [0.0, 0.0, 40.0, 40.0];
        let value = |c: &RgbF32, x: usize, y: usize| c.data[(y * c.width + x) * 3];
        let (up, origin) = dial_crop_turned(&image, b, 0.0, 90.0, 8);
        assert_eq!((up.width, origin), (40, (0.0, 0.0)));
        assert!(value(&up, 20, 8) > 0.9, "turned back, the hand points up");
        assert!(value(&up, 32, 20) < 0.2, "and no longer right");
        assert!(value(&up, 20, 32) < 0.2, "nor down");
        let (down, _) = dial_crop_turned(&image, b, 0.0, -90.0, 8);
        assert!(
            value(&down, 20, 32) > 0.9,
            "a turn the other way points it down"
        );
        assert!(value(&down, 20, 8) < 0.2);
        // Half a turn is the crop mirrored through its centre, pixel for pixel: the turn is
        // about the centre, not a pixel off it.
        let (half, _) = dial_crop_turned(&image, b, 0.0, 180.0, 8);
        let straight = dial_crop(&image, b, 0.0);
        for y in 0..40 {
            for x in 0..40 {
                let (got, want) = (value(&half, x, y), value(&straight, 39 - x, 39 - y));
                assert!(
                    (got - want).abs() < 1e-4,
                    "({x}, {y}): {got} against {want}"
                );
            }
        }
        // No turn is the straight crop, bit for bit.
        let (same, _) = dial_crop_turned(&image, b, 0.1, 0.0, 8);
        assert_eq!(same.data, dial_crop(&image, b, 0.1).data);
        // Past the image's edges a turned crop is black too.
        let (corner, _) = dial_crop_turned(&image, b, 0.5, 45.0, 8);
        assert!(corner.data[..3].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn the_global_crop_frame_is_where_resize_and_pad_puts_the_image() {
        // A 20×10 image in a 32 px crop: resized to 32×16 and centred, 8 px from the top.
        assert_eq!(global_frame((20, 10), 32), [0.0, 0.25, 1.0, 0.5]);
        assert_eq!(global_frame((10, 20), 32), [0.25, 0.0, 0.5, 1.0]);
        assert_eq!(global_frame((448, 448), 64), [0.0, 0.0, 1.0, 1.0]);
        // The real pixels of the crop are exactly the frame's.
        let image = RgbF32 {
            height: 10,
            width: 20,
            data: vec![0.5; 600],
        };
        let (_, mask) = crate::preprocess::resize_and_pad(&image, 32, 32);
        let real: Vec<usize> = (0..32).filter(|y| mask[y * 32 + 5] > 0.0).collect();
        assert_eq!((real[0], real.len()), (8, 16));
    }

    #[test]
    fn jitter_moves_and_scales_each_box_within_bounds_and_the_same_way_every_time() {
        let b = [100.0, 50.0, 200.0, 130.0];
        let (cx, cy, w, h) = (150.0f32, 90.0f32, 100.0f32, 80.0f32);
        let mut moved = 0;
        for i in 0..200 {
            let id = format!("clock-{i}");
            let j = jitter_box(b, &id, 0.2, 7);
            assert_eq!(j, jitter_box(b, &id, 0.2, 7), "{id}: not repeatable");
            let (jx, jy) = ((j[0] + j[2]) / 2.0, (j[1] + j[3]) / 2.0);
            let k = (j[2] - j[0]) / w;
            assert!(
                (jx - cx).abs() <= 20.0 + 1e-3 && (jy - cy).abs() <= 20.0 + 1e-3,
                "{j:?}"
            );
            assert!((0.8 - 1e-6..=1.2 + 1e-6).contains(&k), "{j:?}");
            assert!(((j[3] - j[1]) / h - k).abs() < 1e-4, "aspect kept: {j:?}");
            if (jx - cx).abs() > 1.0 {
                moved += 1;
            }
        }
        assert!(moved > 150, "only {moved} of 200 boxes moved");
        assert_ne!(
            jitter_box(b, "a", 0.2, 7),
            jitter_box(b, "a", 0.2, 8),
            "seed unused"
        );
        assert_eq!(jitter_box(b, "a", 0.0, 7), b);
    }
}
