//! Training-throughput benchmark at any model size: synthetic packed batches (noise images
//! through the real preprocessing, byte text through the real packing) pushed through the
//! real training step (forward, loss, backward, per-group clipping, AdamW), timed after
//! warm-up, with model FLOPs counted from the config to give achieved TFLOP/s and MFU.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use serde::Serialize;

use crate::batch::{Batch, Packed, collate, pack};
use crate::config::{ModelConfig, VitPositions};
use crate::error::{Error, Result};
use crate::format::{FormattedText, Stage};
use crate::model::Molmo;
use crate::model::mixed::Compute;
use crate::optim::{Schedule, adamw_with, apply, split_and_clip};
use crate::preprocess::{RgbF32, preprocess};
use crate::rng::Rng;
use crate::tokenizer::Tokenizer;
use crate::train::{TrainConfig, step_gradients};

/// Parameters per group, counted from the config (matches `Module::num_params`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ParamCounts {
    /// Vision encoder.
    pub vit: usize,
    /// Connector and new-token embeddings.
    pub connector: usize,
    /// Language model (embeddings and head included).
    pub llm: usize,
}

impl ParamCounts {
    /// All parameters.
    #[must_use]
    pub fn total(&self) -> usize {
        self.vit + self.connector + self.llm
    }
}

/// Counts the parameters a [`Molmo`] built from `c` has.
#[must_use]
pub fn param_counts(c: &ModelConfig) -> ParamCounts {
    let (v, g) = (&c.vit, &c.vision);
    let ln = 2 * v.d_model;
    let vit_block = 2 * ln
        + 4 * (v.d_model * v.d_model + v.d_model)
        + (v.d_model * v.mlp_hidden + v.mlp_hidden)
        + (v.mlp_hidden * v.d_model + v.d_model);
    let positions = match v.positions {
        VitPositions::Learned => (g.patches_per_crop() + 1) * v.d_model,
        VitPositions::Rope2d => 0,
    };
    let vit = g.patch_dim() * v.d_model + v.d_model + positions + ln + v.layers * vit_block;

    let features = v.d_model * v.feature_layers.len();
    let (h, d) = (c.connector.projector_hidden, c.llm.d_model);
    let pooling = 3 * (features * v.d_model + v.d_model) + v.d_model * v.d_model + v.d_model;
    let connector =
        2 * features + pooling + 2 * v.d_model * h + h * d + c.llm.additional_vocab_size * d;

    let l = &c.llm;
    let hd = l.d_model / l.heads;
    let (q, kv) = (l.heads * hd, l.kv_heads * hd);
    let llm_block = 2 * l.d_model
        + (l.d_model * q + q)
        + 2 * (l.d_model * kv + kv)
        + q * l.d_model
        + 3 * l.d_model * l.mlp_hidden;
    let llm = 2 * l.vocab_size * l.d_model + l.layers * llm_block + l.d_model;
    ParamCounts {
        vit,
        connector,
        llm,
    }
}

/// Forward FLOPs of one micro-batch (matrix products only, 2 per multiply-add), by part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Flops {
    /// ViT over every crop.
    pub vit: f64,
    /// Pooling attention and projector over every pooling window.
    pub connector: f64,
    /// Decoder blocks and output head over the padded sequences.
    pub llm: f64,
}

impl Flops {
    /// Forward total.
    #[must_use]
    pub fn forward(&self) -> f64 {
        self.vit + self.connector + self.llm
    }

    /// A training step's FLOPs: forward plus a backward of twice the forward.
    #[must_use]
    pub fn train(&self) -> f64 {
        3.0 * self.forward()
    }
}

/// Forward FLOPs for `crops` crops and `batch` sequences of `seq` tokens, the output head
/// over `head_rows` of them (the loss rows: [`Molmo::loss_logits`]). Attention counts every
/// score computed (the masks are additive, so masked scores are computed too).
///
/// [`Molmo::loss_logits`]: crate::model::Molmo::loss_logits
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn forward_flops(
    c: &ModelConfig,
    crops: usize,
    batch: usize,
    seq: usize,
    head_rows: usize,
) -> Flops {
    let f = |x: usize| x as f64;
    let (v, g) = (&c.vit, &c.vision);
    let (n, p) = (f(crops), f(g.patches_per_crop()));
    let s = p + 1.0;
    let dv = f(v.d_model);
    let vit = 2.0 * n * p * f(g.patch_dim()) * dv
        + f(v.layers)
            * (2.0 * n * s * (4.0 * dv * dv + 2.0 * dv * f(v.mlp_hidden)) + 4.0 * n * s * s * dv);

    let side = g.crop_patches() / g.pool_size;
    let windows = n * f(side * side);
    let k = f(g.pool_size * g.pool_size);
    let feat = dv * f(v.feature_layers.len());
    let (h, d) = (f(c.connector.projector_hidden), f(c.llm.d_model));
    let connector = 2.0 * windows * (feat * dv + 2.0 * k * feat * dv + dv * dv + 2.0 * k * dv)
        + 2.0 * windows * (2.0 * dv * h + h * d);

    let l = &c.llm;
    let hd = f(l.d_model / l.heads);
    let (q, kv) = (f(l.heads) * hd, f(l.kv_heads) * hd);
    let tokens = f(batch) * f(seq);
    let block = 2.0 * tokens * (d * q + 2.0 * d * kv + q * d + 3.0 * d * f(l.mlp_hidden))
        + 4.0 * f(batch) * f(seq) * f(seq) * q;
    let llm = f(l.layers) * block + 2.0 * f(head_rows) * d * f(l.vocab_size);
    Flops {
        vit,
        connector,
        llm,
    }
}

/// One synthetic sequence: a seeded noise image of `image_px`² (tiled by the real
/// preprocessing) and a caption that fills the sequence to `seq_len`.
#[must_use]
pub fn synthetic_packed(
    config: &ModelConfig,
    tok: &Tokenizer,
    seq_len: usize,
    image_px: usize,
    seed: u64,
) -> Packed {
    let mut rng = Rng::derive(seed, 0);
    let bytes: Vec<u8> = (0..image_px * image_px * 3)
        .map(|_| u8::try_from(rng.next_u64() % 256).unwrap_or(0))
        .collect();
    let input = preprocess(
        &config.vision,
        tok,
        &RgbF32::from_rgb8(image_px, image_px, &bytes),
    );
    const WORDS: [&str; 12] = [
        "the", "clock", "shows", "a", "red", "chart", "with", "three", "bars", "and", "text",
        "below",
    ];
    let mut caption = String::new();
    while caption.len() < seq_len {
        caption.push(' ');
        caption.push_str(WORDS[usize::try_from(rng.next_u64() % 12).unwrap_or(0)]);
    }
    let text = FormattedText {
        prompt: " long_caption 500:".into(),
        response: caption,
    };
    pack(input, &[text], Stage::Pretrain, tok, seq_len)
}

/// What to benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct BenchSpec {
    /// Model sizes.
    pub model: ModelConfig,
    /// Sequences per micro-batch.
    pub micro_batch: usize,
    /// Micro-batches per step.
    pub grad_accum: usize,
    /// Sequence length (each sequence is filled to it).
    pub seq_len: usize,
    /// Side of the square synthetic images, in pixels (sets the number of crops).
    pub image_px: usize,
    /// Untimed steps first (kernel compilation, autotuning, allocation).
    pub warmup_steps: usize,
    /// Timed steps.
    pub steps: usize,
    /// Peak dense TFLOP/s of the device, for MFU.
    pub peak_tflops: f64,
    /// Mixed precision: activations in this dtype, parameters and optimiser state in the
    /// backend's ([`TrainConfig::mixed`]).
    pub mixed: Option<Compute>,
    /// AdamW's moments kept in this dtype between steps ([`TrainConfig::moments`]).
    pub moments: Option<Compute>,
    /// The head and loss this many rows at a time ([`TrainConfig::head_chunk`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_chunk: Option<usize>,
    /// Attention this many query rows at a time ([`TrainConfig::attention_chunk`]).
    pub attention_chunk: Option<usize>,
}

/// Measured throughput.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Backend name.
    pub backend: String,
    /// Parameters per group.
    pub params: ParamCounts,
    /// Crops per sequence (global crop included).
    pub crops_per_sequence: usize,
    /// LLM tokens per step (padded sequence length × sequences).
    pub tokens_per_step: usize,
    /// Rows the output head and loss run over per step (tokens with a loss weight).
    pub head_rows_per_step: usize,
    /// Training FLOPs per step (3 × forward, matrix products only).
    pub flops_per_step: f64,
    /// Forward FLOPs per micro-batch by part.
    pub forward_flops: Flops,
    /// Seconds of each timed step.
    pub step_seconds: Vec<f64>,
    /// Median step time.
    pub median_step_seconds: f64,
    /// LLM tokens per second at the median step time.
    pub tokens_per_second: f64,
    /// Achieved model TFLOP/s at the median step time.
    pub tflops: f64,
    /// `tflops / peak_tflops`.
    pub mfu: f64,
    /// Median seconds to collate one micro-batch (tensors built and on the device), which
    /// the training loop pays per micro-batch on top of the step time.
    pub collate_seconds: f64,
    /// Seconds of the warm-up steps.
    pub warmup_seconds: f64,
    /// Loss of the last step (finite if the step computed something sensible).
    pub last_loss: f64,
    /// The process's peak resident memory in bytes at the end of the run (Linux `VmHWM`):
    /// host memory, so on the CPU backend the model, its optimiser state and the steps'
    /// activations; `null` where the OS does not report it.
    pub peak_rss_bytes: Option<u64>,
}

/// This process's peak resident set size in bytes (`VmHWM` of `/proc/self/status`).
#[must_use]
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// Largest side of the bench's synthetic images.
pub const MAX_IMAGE_PX: usize = 16_384;

/// Runs the benchmark on `device`.
///
/// # Errors
/// When the config is invalid, sizes are zero, or the device fails to synchronise.
#[allow(clippy::cast_precision_loss)]
pub fn run<B: AutodiffBackend>(spec: &BenchSpec, device: &B::Device) -> Result<BenchReport> {
    spec.model.validate()?;
    if spec.micro_batch == 0 || spec.grad_accum == 0 || spec.steps == 0 || spec.seq_len < 16 {
        return Err(Error::Config(
            "bench needs micro-batch, grad-accum and steps ≥ 1 and seq-len ≥ 16".into(),
        ));
    }
    if spec.seq_len > spec.model.llm.max_position {
        return Err(Error::Config(format!(
            "the sequence length {} is longer than the model's {} positions",
            spec.seq_len, spec.model.llm.max_position
        )));
    }
    if spec.micro_batch > crate::train::MAX_MICRO_BATCH
        || !(1..=MAX_IMAGE_PX).contains(&spec.image_px)
    {
        return Err(Error::Config(format!(
            "bench takes micro-batches of at most {} sequences and images of 1 to {MAX_IMAGE_PX} px",
            crate::train::MAX_MICRO_BATCH
        )));
    }
    let mut train = TrainConfig::recipe(Stage::Pretrain);
    train.micro_batch = spec.micro_batch;
    train.grad_accum = spec.grad_accum;
    train.seq_len = spec.seq_len;
    train.mixed = spec.mixed;
    train.moments = spec.moments;
    train.head_chunk = spec.head_chunk;
    train.attention_chunk = spec.attention_chunk;
    let total_steps = (spec.warmup_steps + spec.steps) as u64;
    let schedule = Schedule::recipe(Stage::Pretrain, total_steps);

    let tok = spec.model.build_tokenizer()?;
    let packed: Vec<Packed> = (0..spec.micro_batch)
        .map(|i| synthetic_packed(&spec.model, &tok, spec.seq_len, spec.image_px, i as u64))
        .collect();
    let crops = packed[0].image.crop_count();
    let sync = |device: &B::Device| {
        B::sync(device).map_err(|e| Error::Config(format!("device sync failed: {e:?}")))
    };
    // Collation is timed on its own (host work and the copy to the device): the training
    // loop pays it inside every step, the timed steps below do not.
    let mut batches: Vec<Batch<B>> = Vec::with_capacity(spec.grad_accum);
    let mut collate_times = Vec::with_capacity(spec.grad_accum);
    for _ in 0..spec.grad_accum {
        let start = Instant::now();
        batches.push(collate(&packed, &spec.model.vision, device));
        sync(device)?;
        collate_times.push(start.elapsed().as_secs_f64());
    }
    let [b, s] = batches[0].shape;
    let head_rows = batches[0].loss_rows.dims()[0];
    let fwd = forward_flops(&spec.model, crops * b, b, s, head_rows);
    let flops_per_step = fwd.train() * spec.grad_accum as f64;

    B::seed(device, 17);
    let mut model = Molmo::<B>::new(&spec.model, device);
    let mut optimizer = adamw_with::<B>(spec.moments);
    let mut times = Vec::with_capacity(spec.steps);
    let mut warmup_seconds = 0.0;
    let mut last_loss = f64::NAN;
    for step in 0..total_steps {
        let start = Instant::now();
        let (loss, _, grads) = step_gradients(&model, &batches, &train, true);
        let groups = split_and_clip(&model, grads, train.max_grad_norm);
        (model, _) = apply(&mut optimizer, model, groups, &schedule, step);
        sync(device)?;
        let dt = start.elapsed().as_secs_f64();
        last_loss = loss;
        if step < spec.warmup_steps as u64 {
            warmup_seconds += dt;
        } else {
            times.push(dt);
        }
    }
    let median = median_of(times.clone());
    let tokens_per_step = b * s * spec.grad_accum;
    let tflops = flops_per_step / median / 1e12;
    Ok(BenchReport {
        backend: B::name(device),
        params: param_counts(&spec.model),
        crops_per_sequence: crops,
        tokens_per_step,
        head_rows_per_step: head_rows * spec.grad_accum,
        flops_per_step,
        forward_flops: fwd,
        step_seconds: times,
        median_step_seconds: median,
        tokens_per_second: tokens_per_step as f64 / median,
        tflops,
        mfu: tflops / spec.peak_tflops,
        collate_seconds: median_of(collate_times),
        warmup_seconds,
        last_loss,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// The middle value (the upper one of an even count); `times` is not empty.
fn median_of(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;

    type B = burn::backend::Autodiff<burn::backend::NdArray>;

    #[test]
    fn parameter_count_matches_the_built_model() {
        let mut rotary = ModelConfig::small();
        rotary.vit.positions = VitPositions::Rope2d;
        for config in [ModelConfig::tiny(), ModelConfig::small(), rotary] {
            let model = Molmo::<B>::new(&config, &Default::default());
            let counted = param_counts(&config);
            assert_eq!(counted.vit, model.vit.num_params());
            assert_eq!(counted.connector, model.connector.num_params());
            assert_eq!(counted.llm, model.llm.num_params());
        }
        // Molmo-7B-D: ~0.3B ViT-L (23 blocks), ~7.6B Qwen2-7B.
        let p = param_counts(&ModelConfig::molmo_7b_d());
        assert!((290e6..310e6).contains(&(p.vit as f64)), "{p:?}");
        assert!((7.5e9..7.7e9).contains(&(p.llm as f64)), "{p:?}");
    }

    #[test]
    fn llm_flops_follow_six_n_t_when_attention_is_small() {
        let c = ModelConfig::molmo_7b_d();
        let f = forward_flops(&c, 0, 1, 1, 1);
        // Training FLOPs per token ≈ 6 × (non-embedding parameters + head).
        let p = param_counts(&c);
        let matmul_params = p.llm - c.llm.vocab_size * c.llm.d_model;
        let ratio = f.train() / (6.0 * matmul_params as f64);
        assert!((0.99..1.01).contains(&ratio), "{ratio}");
        // Doubling the sequence more than doubles the LLM's cost (quadratic attention).
        let a = forward_flops(&c, 0, 1, 2048, 2048).llm;
        let b = forward_flops(&c, 0, 1, 4096, 4096).llm;
        assert!(b > 2.0 * a);
        // The head runs over the loss rows only: each row fewer saves 2·width·vocab.
        let half = forward_flops(&c, 0, 1, 2048, 1024).llm;
        #[allow(clippy::cast_precision_loss)]
        let per_row = 2.0 * (c.llm.d_model * c.llm.vocab_size) as f64;
        assert!(((a - half) / (1024.0 * per_row) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn tiny_bench_runs_on_cpu() {
        let spec = BenchSpec {
            model: ModelConfig::tiny(),
            micro_batch: 2,
            grad_accum: 1,
            seq_len: 96,
            image_px: 40,
            warmup_steps: 1,
            steps: 2,
            peak_tflops: 1.0,
            mixed: None,
            moments: None,
            head_chunk: None,
            attention_chunk: None,
        };
        let r = run::<B>(&spec, &Default::default()).unwrap();
        assert_eq!(r.step_seconds.len(), 2);
        assert!(r.last_loss.is_finite() && r.last_loss > 0.0);
        assert_eq!(r.tokens_per_step, 2 * 96);
        assert!(r.tflops > 0.0 && r.mfu > 0.0);
    }
}
