//! Multi-annotation packing and batch collation.
//!
//! All annotations of one image go into one sequence after a single copy of the image
//! tokens: `EOS-as-BOS, image tokens, annotation 1, annotation 2, ...`. Segment ids drive
//! the attention mask (a query sees a key iff it is causal and `seg[q] <= seg[k]`: every
//! annotation sees the image and itself, never another annotation), position ids restart
//! after the image for each annotation, and in fine-tuning every loss token of an image
//! with `n` annotations weighs `1/sqrt(n)`.

use burn::prelude::*;
use burn::tensor::TensorData;

use crate::config::VisionGeometry;
use crate::format::{FormattedText, Stage};
use crate::preprocess::ImageInput;
use crate::tokenizer::Tokenizer;

/// Segment id of the BOS and image tokens.
pub const IMAGE_SEGMENT: i32 = 10_000;
/// Segment id of padding.
pub const PAD_SEGMENT: i32 = -1;

/// One packed sequence.
#[derive(Clone, Debug)]
pub struct Packed {
    /// Input tokens.
    pub tokens: Vec<u32>,
    /// Next-token targets (0 where the weight is 0).
    pub targets: Vec<u32>,
    /// Loss weight of each target.
    pub weights: Vec<f32>,
    /// Segment ids (image, then 1, 2, ... per annotation).
    pub segments: Vec<i32>,
    /// Position ids.
    pub positions: Vec<i64>,
    /// The preprocessed image.
    pub image: ImageInput,
    /// Index of the first image token in `tokens`.
    pub image_offset: usize,
    /// Number of annotations that fit.
    pub annotations: usize,
}

/// Packs an image with its formatted annotations, dropping whole trailing annotations that
/// do not fit in `max_len` tokens (the first one is truncated instead).
#[must_use]
pub fn pack(
    image: ImageInput,
    texts: &[FormattedText],
    stage: Stage,
    tokenizer: &Tokenizer,
    max_len: usize,
) -> Packed {
    let mut tokens = vec![tokenizer.bos()];
    let image_offset = tokens.len();
    tokens.extend_from_slice(&image.tokens);
    let mut segments = vec![IMAGE_SEGMENT; tokens.len()];
    let mut positions: Vec<i64> = (0..tokens.len()).map(to_i64).collect();
    let mut is_response = vec![false; tokens.len()];
    let prefix = tokens.len();

    let mut annotations = 0;
    for (k, text) in texts.iter().enumerate() {
        let prompt = tokenizer.encode(&text.prompt);
        let mut response = tokenizer.encode(&text.response);
        response.push(tokenizer.eos());
        let len = prompt.len() + response.len();
        if tokens.len() + len > max_len && annotations > 0 {
            break;
        }
        annotations += 1;
        let seg = i32::try_from(k + 1).unwrap_or(i32::MAX);
        for (j, (&t, resp)) in prompt
            .iter()
            .map(|t| (t, false))
            .chain(response.iter().map(|t| (t, true)))
            .enumerate()
        {
            tokens.push(t);
            segments.push(seg);
            positions.push(to_i64(prefix + j));
            is_response.push(resp);
        }
    }
    tokens.truncate(max_len);
    segments.truncate(max_len);
    positions.truncate(max_len);
    is_response.truncate(max_len);

    #[allow(clippy::cast_precision_loss)]
    let weight = match stage {
        Stage::Pretrain => 1.0,
        Stage::Finetune => 1.0 / (annotations.max(1) as f32).sqrt(),
    };
    let n = tokens.len();
    let mut targets = vec![0u32; n];
    let mut weights = vec![0.0f32; n];
    for i in 0..n.saturating_sub(1) {
        if is_response[i + 1] && segments[i + 1] == segments[i] {
            targets[i] = tokens[i + 1];
            weights[i] = weight;
        }
    }
    Packed {
        tokens,
        targets,
        weights,
        segments,
        positions,
        image,
        image_offset,
        annotations,
    }
}

fn to_i64(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A collated batch on a device.
#[derive(Clone, Debug)]
pub struct Batch<B: Backend> {
    /// `[batch, seq]` input tokens.
    pub tokens: Tensor<B, 2, Int>,
    /// `[batch, seq]` position ids.
    pub positions: Tensor<B, 2, Int>,
    /// `[batch, seq]` segment id of each position ([`IMAGE_SEGMENT`], annotation index,
    /// [`PAD_SEGMENT`]): the attention mask is built from it on the device, per forward
    /// pass ([`Batch::attention_bias`]).
    pub segments: Tensor<B, 2, Int>,
    /// `[rows]` the flattened (`batch·seq`) positions with a loss weight, in order: the
    /// output head and the loss run at these rows only (one zero-weight row when none has).
    pub loss_rows: Tensor<B, 1, Int>,
    /// `[rows]` target token at each loss row.
    pub loss_targets: Tensor<B, 1, Int>,
    /// `[rows]` loss weight at each loss row.
    pub loss_weights: Tensor<B, 1>,
    /// `[batch, seq, 1]` 1 at positions with a loss weight (for response-only dropout).
    pub response_mask: Tensor<B, 3>,
    /// `[crops, patches, patch_dim]` every crop of every image.
    pub crops: Tensor<B, 3>,
    /// `[crops, patches]` fraction of real pixels per patch.
    pub patch_masks: Tensor<B, 2>,
    /// `[batch·seq]` row of the pooled-feature table added at each position (the last row
    /// is zeros).
    pub feature_index: Tensor<B, 1, Int>,
    /// Sum of loss weights in this batch.
    pub weight_sum: f32,
    /// Batch size and padded length.
    pub shape: [usize; 2],
    /// Query rows per block of attention (`None`: materialised): [`Batch::with_attention_chunk`].
    pub attention_chunk: Option<usize>,
}

/// Large negative bias for masked attention scores; `exp` of it underflows to exactly 0.
pub const MASKED: f32 = -1.0e9;

impl<B: Backend> Batch<B> {
    /// The batch with its image patches in the compute dtype `compute` (`None`: as collated,
    /// in the backend's float type): the model's activations follow them
    /// ([`crate::model::mixed`]).
    #[must_use]
    pub fn in_compute(mut self, compute: Option<crate::model::mixed::Compute>) -> Self {
        if let Some(compute) = compute {
            self.crops = self.crops.cast(compute.dtype());
        }
        self
    }

    /// The batch with the model's attention computed `chunk` query rows at a time (`None`:
    /// every row at once), in the decoder and the ViT alike
    /// ([`crate::model::attention::attend`]; `--attention-chunk`).
    #[must_use]
    pub fn with_attention_chunk(mut self, chunk: Option<usize>) -> Self {
        self.attention_chunk = chunk;
        self
    }

    /// `[batch, 1, seq, seq]` additive attention bias: 0 where a query may see a key (the key
    /// is not after it and `seg[q] <= seg[k]`), [`MASKED`] elsewhere. Built on the batch's
    /// device from the `[batch, seq]` segment ids, so only those cross from the host (not
    /// `seq²` floats per sequence), and the mask exists only while a forward pass runs (not for
    /// every collated micro-batch of a step).
    #[must_use]
    pub fn attention_bias(&self) -> Tensor<B, 4> {
        let [b, s] = self.shape;
        let device = self.segments.device();
        // Broadcast comparisons: no `[batch, seq, seq]` copy of the ids or of the causal mask.
        let query = self.segments.clone().reshape([b, s, 1]);
        let key = self.segments.clone().reshape([b, 1, s]);
        let future = Tensor::<B, 2, Bool>::tril_mask([s, s], 0, &device).unsqueeze::<3>();
        let hidden = query.greater(key).bool_or(future);
        Tensor::<B, 3>::zeros([b, s, s], &device)
            .mask_fill(hidden, MASKED)
            .reshape([b, 1, s, s])
    }
}

/// Pads and stacks packed sequences into tensors.
#[must_use]
pub fn collate<B: Backend>(
    items: &[Packed],
    geometry: &VisionGeometry,
    device: &B::Device,
) -> Batch<B> {
    let b = items.len();
    let s = items.iter().map(|p| p.tokens.len()).max().unwrap_or(1);
    let (p, pd, pp) = (
        geometry.patches_per_crop(),
        geometry.patch_dim(),
        geometry.pooled_per_crop(),
    );
    let total_crops: usize = items.iter().map(|x| x.image.crop_count()).sum();
    let zero_row = to_i64(total_crops * pp);

    let mut tokens = vec![0i64; b * s];
    let mut positions = vec![0i64; b * s];
    let mut targets = vec![0i64; b * s];
    let mut weights = vec![0.0f32; b * s];
    let mut segments = vec![i64::from(PAD_SEGMENT); b * s];
    let mut feature_index = vec![zero_row; b * s];
    let mut crops = Vec::with_capacity(total_crops * p * pd);
    let mut patch_masks = Vec::with_capacity(total_crops * p);
    let mut crop_base = 0usize;
    for (bi, item) in items.iter().enumerate() {
        for (i, &t) in item.tokens.iter().enumerate() {
            let at = bi * s + i;
            tokens[at] = i64::from(t);
            positions[at] = item.positions[i];
            targets[at] = i64::from(item.targets[i]);
            weights[at] = item.weights[i];
            segments[at] = i64::from(item.segments[i]);
        }
        for (k, &idx) in item.image.input_idx.iter().enumerate() {
            let Ok(idx) = usize::try_from(idx) else {
                continue;
            };
            let pos = item.image_offset + idx;
            if pos < item.tokens.len() {
                feature_index[bi * s + pos] = to_i64(crop_base * pp + k);
            }
        }
        crops.extend_from_slice(&item.image.crops);
        patch_masks.extend_from_slice(&item.image.patch_masks);
        crop_base += item.image.crop_count();
    }

    let response: Vec<f32> = weights
        .iter()
        .map(|&w| f32::from(u8::from(w > 0.0)))
        .collect();
    let weight_sum = weights.iter().sum();
    let mut rows: Vec<usize> = (0..b * s).filter(|&i| weights[i] > 0.0).collect();
    if rows.is_empty() {
        rows.push(0);
    }
    let loss_targets: Vec<i64> = rows.iter().map(|&i| targets[i]).collect();
    let loss_weights: Vec<f32> = rows.iter().map(|&i| weights[i]).collect();
    let loss_rows: Vec<i64> = rows.iter().map(|&i| to_i64(i)).collect();
    let rows = rows.len();
    Batch {
        tokens: Tensor::from_data(TensorData::new(tokens, [b, s]), device),
        positions: Tensor::from_data(TensorData::new(positions, [b, s]), device),
        segments: Tensor::from_data(TensorData::new(segments, [b, s]), device),
        loss_rows: Tensor::from_data(TensorData::new(loss_rows, [rows]), device),
        loss_targets: Tensor::from_data(TensorData::new(loss_targets, [rows]), device),
        loss_weights: Tensor::from_data(TensorData::new(loss_weights, [rows]), device),
        response_mask: Tensor::from_data(TensorData::new(response, [b, s, 1]), device),
        crops: Tensor::from_data(TensorData::new(crops, [total_crops, p, pd]), device),
        patch_masks: Tensor::from_data(TensorData::new(patch_masks, [total_crops, p]), device),
        feature_index: Tensor::from_data(TensorData::new(feature_index, [b * s]), device),
        weight_sum,
        shape: [b, s],
        attention_chunk: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::{RgbF32, preprocess};
    use crate::tokenizer::BYTE_VOCAB;
    use crate::tokenizer::EOS;

    fn texts() -> Vec<FormattedText> {
        vec![
            FormattedText {
                prompt: " User: a? Assistant:".into(),
                response: " yes".into(),
            },
            FormattedText {
                prompt: " User: b? Assistant:".into(),
                response: " no".into(),
            },
        ]
    }

    #[test]
    fn annotations_restart_positions_and_weigh_one_over_root_n() {
        let tok = Tokenizer::new(BYTE_VOCAB);
        let g = VisionGeometry::tiny();
        let img = preprocess(&g, &tok, &RgbF32::from_rgb8(20, 20, &[9u8; 20 * 20 * 3]));
        let n_img = img.tokens.len();
        let p = pack(img, &texts(), Stage::Finetune, &tok, 1000);
        assert_eq!(p.annotations, 2);
        let start2 = p.segments.iter().position(|&s| s == 2).unwrap();
        let start1 = p.segments.iter().position(|&s| s == 1).unwrap();
        assert_eq!(start1, 1 + n_img);
        assert_eq!(p.positions[start1], p.positions[start2]);
        assert_eq!(p.positions[start2], to_i64(1 + n_img));
        let w = 1.0 / 2f32.sqrt();
        let trained: Vec<u32> = p
            .weights
            .iter()
            .zip(&p.targets)
            .filter(|(w, _)| **w > 0.0)
            .map(|(_, t)| *t)
            .collect();
        assert!(p.weights.iter().all(|&x| x == 0.0 || (x - w).abs() < 1e-7));
        let mut want = tok.encode(" yes");
        want.push(EOS);
        want.extend(tok.encode(" no"));
        want.push(EOS);
        assert_eq!(trained, want);
        let pre = pack(p.image.clone(), &texts(), Stage::Pretrain, &tok, 1000);
        assert!(pre.weights.iter().all(|&x| x == 0.0 || x == 1.0));
        // A short budget keeps only the first annotation.
        let short = pack(p.image.clone(), &texts(), Stage::Finetune, &tok, start2 + 2);
        assert_eq!(short.annotations, 1);
        assert!(short.weights.iter().all(|&x| x == 0.0 || x == 1.0));
    }

    /// The device-built mask is the rule written out on the host, position by position, for
    /// sequences of different lengths (padding) and annotation counts.
    #[test]
    fn the_device_mask_is_the_segment_rule() {
        let tok = Tokenizer::new(BYTE_VOCAB);
        let g = VisionGeometry::tiny();
        let img = preprocess(&g, &tok, &RgbF32::from_rgb8(20, 20, &[9u8; 20 * 20 * 3]));
        let three = [texts(), vec![texts()[0].clone()]].concat();
        let items = [
            pack(img.clone(), &texts()[..1], Stage::Finetune, &tok, 1000),
            pack(img.clone(), &three, Stage::Finetune, &tok, 1000),
            pack(img, &texts(), Stage::Finetune, &tok, 1000),
        ];
        let batch = collate::<burn::backend::NdArray>(&items, &g, &Default::default());
        let [b, s] = batch.shape;
        assert!(
            items.iter().any(|p| p.tokens.len() < s),
            "one row is padded"
        );
        let bias: Vec<f32> = batch.attention_bias().into_data().to_vec().unwrap();
        assert_eq!(bias.len(), b * s * s);
        let segment =
            |bi: usize, i: usize| items[bi].segments.get(i).copied().unwrap_or(PAD_SEGMENT);
        for bi in 0..b {
            for q in 0..s {
                for k in 0..s {
                    let visible = k <= q && segment(bi, q) <= segment(bi, k);
                    let want = if visible { 0.0 } else { MASKED };
                    assert_eq!(
                        bias[(bi * s + q) * s + k],
                        want,
                        "row {bi}, query {q}, key {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_mask_lets_annotations_see_the_image_and_themselves_only() {
        let tok = Tokenizer::new(BYTE_VOCAB);
        let g = VisionGeometry::tiny();
        let img = preprocess(&g, &tok, &RgbF32::from_rgb8(20, 20, &[9u8; 20 * 20 * 3]));
        let p = pack(img, &texts(), Stage::Finetune, &tok, 1000);
        let batch =
            collate::<burn::backend::NdArray>(std::slice::from_ref(&p), &g, &Default::default());
        let s = batch.shape[1];
        let bias: Vec<f32> = batch.attention_bias().into_data().to_vec().unwrap();
        let seen = |q: usize, k: usize| bias[q * s + k] == 0.0;
        let first1 = p.segments.iter().position(|&x| x == 1).unwrap();
        let first2 = p.segments.iter().position(|&x| x == 2).unwrap();
        assert!(seen(first2, 0) && seen(first2, first1 - 1), "image visible");
        assert!(!seen(first2, first1), "other annotation hidden");
        assert!(seen(first2 + 1, first2), "own annotation visible");
        assert!(!seen(3, first1), "image does not see text");
        assert!(!seen(0, 1), "causal");
    }
}
