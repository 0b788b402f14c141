//! A vision-only probe: can the vision side of a model read a clock's hour at a given
//! geometry, without the decoder? The ViT and the connector (pooling and projector) of a
//! Molmo model, the features of every pooled token of every crop concatenated, and a linear
//! head over the 12 hours, trained with cross-entropy on the hour label.
//!
//! If the probe stays at chance (1/12), the decoder cannot do better from these features:
//! the limit is the pixels, the geometry or the vision encoder, not the language side.

use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::data::{EvalTarget, Example, decode_image};
use crate::model::{Connector, Vit};
use crate::preprocess::{ImageInput, RgbF32, preprocess};
use crate::rng::Rng;
use crate::tokenizer::Tokenizer;
use pixmo_eval::clock::parse_time;

/// ViT + connector + a linear hour head.
#[derive(Module, Debug)]
pub struct HourProbe<B: Backend> {
    /// Vision encoder.
    pub vit: Vit<B>,
    /// Pooling and projector.
    pub connector: Connector<B>,
    /// `[crops · pooled · width → 12]`.
    pub head: Linear<B>,
    patches: usize,
    patch_dim: usize,
}

impl<B: Backend> HourProbe<B> {
    /// Random init for images of `crops` crops each (global included).
    pub fn new(config: &ModelConfig, crops: usize, device: &B::Device) -> Self {
        let features = crops * config.vision.pooled_per_crop() * config.llm.d_model;
        HourProbe {
            vit: Vit::new(config, device),
            connector: Connector::new(config, device),
            head: LinearConfig::new(features, 12).init(device),
            patches: config.vision.patches_per_crop(),
            patch_dim: config.vision.patch_dim(),
        }
    }

    /// Hour logits `[batch, 12]` of preprocessed images that all have the same crop count.
    pub fn forward(&self, images: &[&ImageInput], device: &B::Device) -> Tensor<B, 2> {
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
        self.head.forward(features.reshape([b, rows * d / b]))
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

/// One preprocessed clock image and its hour (0–11).
#[derive(Clone, Debug)]
pub struct ProbeExample {
    /// The model's input.
    pub input: ImageInput,
    /// Hour on the 12-hour dial (12 → 0).
    pub hour: usize,
}

/// Clock examples → probe examples (others, and undecodable images, are skipped), in input
/// order; decoding and preprocessing run on all cores.
#[must_use]
pub fn probe_examples(
    config: &ModelConfig,
    examples: &[Example],
    centre: Option<f32>,
) -> Vec<ProbeExample> {
    let tok = Tokenizer::new(config.llm.vocab_size);
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
            input: preprocess(&config.vision, &tok, &image),
            hour: usize::try_from(time.hour % 12).unwrap_or(0),
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = examples.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = examples
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().filter_map(one).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
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
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` wants a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Share of `data` whose hour the probe gets right.
pub fn accuracy<B: Backend>(
    probe: &HourProbe<B>,
    data: &[ProbeExample],
    device: &B::Device,
) -> f64 {
    let mut right = 0usize;
    for chunk in data.chunks(32) {
        let inputs: Vec<&ImageInput> = chunk.iter().map(|e| &e.input).collect();
        let pred: Vec<i64> = probe
            .forward(&inputs, device)
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .to_vec()
            .unwrap_or_default();
        right += chunk
            .iter()
            .zip(pred)
            .filter(|(e, p)| usize::try_from(*p).ok() == Some(e.hour))
            .count();
    }
    #[allow(clippy::cast_precision_loss)]
    let acc = right as f64 / data.len().max(1) as f64;
    acc
}

/// Trains a probe on `train`, reporting `{"step", "loss", "train_acc", "test_acc"}` to
/// `report` every `eval_every` steps and at the end (train accuracy on at most 300 training
/// images).
///
/// # Panics
/// When `train` is empty or the images do not all have the same number of crops.
pub fn train_probe<B: AutodiffBackend>(
    config: &ModelConfig,
    first: &[ProbeExample],
    train: &[ProbeExample],
    test: &[ProbeExample],
    settings: &ProbeSettings,
    device: &B::Device,
    mut report: impl FnMut(serde_json::Value),
) -> HourProbe<B> {
    let crops = train[0].input.crop_count();
    assert!(
        train
            .iter()
            .chain(test)
            .chain(first)
            .all(|e| e.input.crop_count() == crops),
        "the probe needs images of one size (one crop count)"
    );
    B::seed(device, settings.seed);
    let mut probe = HourProbe::<B>::new(config, crops, device);
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut rng = Rng::new(settings.seed);
    assert!(
        settings.first_steps == 0 || !first.is_empty(),
        "a curriculum needs its first examples"
    );
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut at = order.len();
    let mut first_order: Vec<usize> = (0..first.len()).collect();
    let mut first_at = first_order.len();
    let (mut loss_sum, mut losses) = (0.0, 0u32);
    let seen = &train[..train.len().min(300)];
    let warmup = (settings.steps / 20).max(1);
    for step in 0..settings.steps {
        let mut batch = Vec::with_capacity(settings.batch);
        while batch.len() < settings.batch {
            if step < settings.first_steps {
                if first_at == first_order.len() {
                    rng.shuffle(&mut first_order);
                    first_at = 0;
                }
                batch.push(&first[first_order[first_at]]);
                first_at += 1;
                continue;
            }
            if at == order.len() {
                rng.shuffle(&mut order);
                at = 0;
            }
            batch.push(&train[order[at]]);
            at += 1;
        }
        let inputs: Vec<&ImageInput> = batch.iter().map(|e| &e.input).collect();
        let hours: Vec<i64> = batch
            .iter()
            .map(|e| i64::try_from(e.hour).unwrap_or(0))
            .collect();
        let targets = Tensor::from_data(TensorData::new(hours, [batch.len()]), device);
        let loss = loss_fn.forward(probe.forward(&inputs, device), targets);
        loss_sum += loss.clone().into_scalar().elem::<f64>();
        losses += 1;
        let grads = GradientsParams::from_grads(loss.backward(), &probe);
        #[allow(clippy::cast_precision_loss)]
        let lr = settings.lr * ((step + 1) as f64 / warmup as f64).min(1.0);
        probe = optim.step(lr, probe, grads);
        let last = step + 1 == settings.steps;
        if last || (settings.eval_every > 0 && (step + 1).is_multiple_of(settings.eval_every)) {
            let valid = probe.valid();
            report(serde_json::json!({
                "step": step + 1,
                "loss": loss_sum / f64::from(losses.max(1)),
                "train_acc": accuracy(&valid, seen, device),
                "test_acc": accuracy(&valid, test, device),
            }));
            (loss_sum, losses) = (0.0, 0);
        }
    }
    probe
}

#[cfg(test)]
mod tests {
    use super::*;

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
