//! Molmo's multi-crop image preprocessing (`olmo/data/model_preprocessor.py`).
//!
//! An image is letterboxed to a grid of overlapping crops chosen by [`select_tiling`], cut
//! into crops with a stride of one window, and preceded by a low-resolution global crop.
//! Each crop is split into flattened patches with the fraction of real (non-padding) pixels
//! per patch; [`ImageInput::input_idx`] says which image token each pooled patch feeds.

use crate::config::VisionGeometry;
use crate::tokenizer::{Special, Tokenizer};

/// OpenAI CLIP normalisation mean (RGB), digits as published.
#[allow(clippy::excessive_precision)]
pub const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
/// OpenAI CLIP normalisation standard deviation (RGB), digits as published.
#[allow(clippy::excessive_precision)]
pub const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];

/// Rows and columns of high-resolution crops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tiling {
    /// Crop rows.
    pub rows: usize,
    /// Crop columns.
    pub cols: usize,
}

/// Molmo's `select_tiling`: the tiling of windows of `window` pixels for an image of
/// `height`×`width` pixels (margins already subtracted).
///
/// Candidates are all (rows, cols) with rows·cols ≤ `max_crops`, sorted by (crops, rows).
/// When every candidate needs downscaling the one with the largest scale wins; otherwise
/// the smallest scale ≥ 1. Ties go to the earlier (fewer crops, fewer rows) candidate.
#[must_use]
pub fn select_tiling(height: f32, width: f32, window: usize, max_crops: usize) -> Tiling {
    let mut candidates = Vec::new();
    for rows in 1..=max_crops {
        for cols in 1..=max_crops {
            if rows * cols <= max_crops {
                candidates.push(Tiling { rows, cols });
            }
        }
    }
    candidates.sort_by_key(|t| (t.rows * t.cols, t.rows));
    let (h, w) = (height.max(1.0), width.max(1.0));
    #[allow(clippy::cast_precision_loss)]
    let scale = |t: &Tiling| ((t.rows * window) as f32 / h).min((t.cols * window) as f32 / w);
    let scales: Vec<f32> = candidates.iter().map(scale).collect();
    let pick = if scales.iter().all(|&s| s < 1.0) {
        first_extreme(&scales, |a, b| a > b)
    } else {
        let up: Vec<f32> = scales
            .iter()
            .map(|&s| if s < 1.0 { 1e10 } else { s })
            .collect();
        first_extreme(&up, |a, b| a < b)
    };
    candidates[pick]
}

fn first_extreme(values: &[f32], better: impl Fn(f32, f32) -> bool) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if better(v, values[best]) {
            best = i;
        }
    }
    best
}

/// The tiling Molmo picks for an image of `width`×`height` pixels.
#[must_use]
pub fn tiling_for(geometry: &VisionGeometry, width: usize, height: usize) -> Tiling {
    #[allow(clippy::cast_precision_loss)]
    let (h, w, m) = (height as f32, width as f32, geometry.margin_px() as f32);
    select_tiling(h - m, w - m, geometry.window_px(), geometry.max_crops)
}

/// Height and width of the letterboxed high-resolution image for a tiling.
#[must_use]
pub fn resized_box(geometry: &VisionGeometry, tiling: Tiling) -> (usize, usize) {
    (
        tiling.rows * geometry.window_px() + geometry.margin_px(),
        tiling.cols * geometry.window_px() + geometry.margin_px(),
    )
}

/// Pooled rows and columns of the high-resolution token grid (8r+4, 8c+4 for Molmo).
#[must_use]
pub fn high_res_grid(geometry: &VisionGeometry, tiling: Tiling) -> (usize, usize) {
    let window = geometry.window_patches() / geometry.pool_size;
    let margins = (geometry.overlap_margins[0] + geometry.overlap_margins[1]) / geometry.pool_size;
    (
        tiling.rows * window + margins,
        tiling.cols * window + margins,
    )
}

/// Image tokens of one image: global crop then high-resolution grid, each as
/// `<im_start>` + rows × (patches + `<im_col>`) + `<im_end>`.
#[must_use]
pub fn image_token_count(geometry: &VisionGeometry, tiling: Tiling) -> usize {
    let g = geometry.crop_pooled();
    let (h, w) = high_res_grid(geometry, tiling);
    g * (g + 1) + 2 + h * (w + 1) + 2
}

/// A preprocessed image.
#[derive(Clone, Debug)]
pub struct ImageInput {
    /// Chosen tiling.
    pub tiling: Tiling,
    /// Crops (global first): `[crops, patches_per_crop, patch_dim]`, CLIP-normalised,
    /// patch values ordered (row, column, channel) within a patch.
    pub crops: Vec<f32>,
    /// Fraction of real pixels per patch: `[crops, patches_per_crop]`.
    pub patch_masks: Vec<f32>,
    /// Image tokens (global crop block, then high-resolution block).
    pub tokens: Vec<u32>,
    /// For each crop and pooled patch (row-major), the index in `tokens` of the
    /// `<im_patch>` it is added to, or −1 when the patch is an overlap margin.
    pub input_idx: Vec<i64>,
}

impl ImageInput {
    /// Number of crops including the global one.
    #[must_use]
    pub fn crop_count(&self) -> usize {
        self.tiling.rows * self.tiling.cols + 1
    }
}

/// An RGB image as floats in `[0, 1]`, row-major, 3 channels.
#[derive(Clone, Debug)]
pub struct RgbF32 {
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
    /// `height × width × 3` values.
    pub data: Vec<f32>,
}

impl RgbF32 {
    /// From 8-bit RGB bytes.
    #[must_use]
    pub fn from_rgb8(width: usize, height: usize, bytes: &[u8]) -> RgbF32 {
        RgbF32 {
            height,
            width,
            data: bytes.iter().map(|&b| f32::from(b) / 255.0).collect(),
        }
    }
}

/// Preprocesses one image for the model.
#[must_use]
pub fn preprocess(geometry: &VisionGeometry, tokenizer: &Tokenizer, image: &RgbF32) -> ImageInput {
    assemble(geometry, tokenizer, &resize_for(geometry, image))
}

/// One image letterboxed for the model but not yet normalised or cut into crops: the
/// high-resolution box its tiling needs and the global crop, each with its real-pixel mask.
/// What a per-step augmentation ([`crate::augment`]) warps before [`assemble`] cuts it.
#[derive(Clone, Debug)]
pub struct Resized {
    /// The tiling of the image.
    pub tiling: Tiling,
    /// The high-resolution box: `resized_box(tiling)` pixels in `[0, 1]`.
    pub hi: RgbF32,
    /// 1 where `hi` shows the image, 0 in its letterbox padding.
    pub hi_mask: Vec<f32>,
    /// The global crop: `crop_size` square, in `[0, 1]`.
    pub lo: RgbF32,
    /// 1 where `lo` shows the image, 0 in its padding.
    pub lo_mask: Vec<f32>,
}

/// `image` letterboxed into the high-resolution box of its tiling and into the global crop.
#[must_use]
pub fn resize_for(geometry: &VisionGeometry, image: &RgbF32) -> Resized {
    let tiling = tiling_for(geometry, image.width, image.height);
    let (box_h, box_w) = resized_box(geometry, tiling);
    let (hi, hi_mask) = letterbox(image, box_h, box_w);
    let (lo, lo_mask) = letterbox(image, geometry.crop_size, geometry.crop_size);
    Resized {
        tiling,
        hi,
        hi_mask,
        lo,
        lo_mask,
    }
}

/// A [`Resized`] image CLIP-normalised and cut into the model's crops and tokens.
#[must_use]
pub fn assemble(geometry: &VisionGeometry, tokenizer: &Tokenizer, image: &Resized) -> ImageInput {
    let (crops, patch_masks) = assemble_crops(geometry, image);
    let (tokens, input_idx) = layout_tokens(geometry, tokenizer, image.tiling);
    ImageInput {
        tiling: image.tiling,
        crops,
        patch_masks,
        tokens,
        input_idx,
    }
}

/// The crops and patch masks of [`assemble`] (global crop first): all an image's input
/// that depends on its pixels; the tokens depend on its tiling alone.
#[must_use]
pub fn assemble_crops(geometry: &VisionGeometry, image: &Resized) -> (Vec<f32>, Vec<f32>) {
    let tiling = image.tiling;
    let hi = normalise(&image.hi.data);
    let lo = normalise(&image.lo.data);
    let mut crops = Vec::new();
    let mut patch_masks = Vec::new();
    extract_crop(
        geometry,
        &lo,
        &image.lo_mask,
        geometry.crop_size,
        0,
        0,
        &mut crops,
        &mut patch_masks,
    );
    for r in 0..tiling.rows {
        for c in 0..tiling.cols {
            let (y0, x0) = (r * geometry.window_px(), c * geometry.window_px());
            extract_crop(
                geometry,
                &hi,
                &image.hi_mask,
                image.hi.width,
                y0,
                x0,
                &mut crops,
                &mut patch_masks,
            );
        }
    }
    (crops, patch_masks)
}

/// Token layout and pooled-patch → token mapping for a tiling.
#[must_use]
pub fn layout_tokens(
    geometry: &VisionGeometry,
    tokenizer: &Tokenizer,
    tiling: Tiling,
) -> (Vec<u32>, Vec<i64>) {
    let g = geometry.crop_pooled();
    let (grid_h, grid_w) = high_res_grid(geometry, tiling);
    let mut tokens = Vec::with_capacity(image_token_count(geometry, tiling));
    let block = |tokens: &mut Vec<u32>, rows: usize, cols: usize| {
        tokens.push(tokenizer.special(Special::ImStart));
        for _ in 0..rows {
            tokens.extend(std::iter::repeat_n(
                tokenizer.special(Special::ImPatch),
                cols,
            ));
            tokens.push(tokenizer.special(Special::ImCol));
        }
        tokens.push(tokenizer.special(Special::ImEnd));
    };
    block(&mut tokens, g, g);
    let hi_offset = tokens.len();
    block(&mut tokens, grid_h, grid_w);

    let to_i64 = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    let mut input_idx = Vec::with_capacity(tiling.rows * tiling.cols * g * g + g * g);
    for pr in 0..g {
        for pc in 0..g {
            input_idx.push(to_i64(1 + pr * (g + 1) + pc));
        }
    }
    let window = geometry.window_patches() / geometry.pool_size;
    let left = geometry.overlap_margins[0] / geometry.pool_size;
    let right = geometry.overlap_margins[1] / geometry.pool_size;
    let kept = |i: usize, n: usize| {
        let start = if i == 0 { 0 } else { left };
        let end = if i + 1 == n { g } else { g - right };
        start..end
    };
    for r in 0..tiling.rows {
        for c in 0..tiling.cols {
            let (rows, cols) = (kept(r, tiling.rows), kept(c, tiling.cols));
            for pr in 0..g {
                for pc in 0..g {
                    if rows.contains(&pr) && cols.contains(&pc) {
                        let (gr, gc) = (r * window + pr, c * window + pc);
                        input_idx.push(to_i64(hi_offset + 1 + gr * (grid_w + 1) + gc));
                    } else {
                        input_idx.push(-1);
                    }
                }
            }
        }
    }
    (tokens, input_idx)
}

#[allow(clippy::too_many_arguments)]
fn extract_crop(
    geometry: &VisionGeometry,
    image: &[f32],
    mask: &[f32],
    image_w: usize,
    y0: usize,
    x0: usize,
    crops: &mut Vec<f32>,
    patch_masks: &mut Vec<f32>,
) {
    let (p, n) = (geometry.patch_size, geometry.crop_patches());
    #[allow(clippy::cast_precision_loss)]
    let area = (p * p) as f32;
    for py in 0..n {
        for px in 0..n {
            let mut real = 0.0;
            for dy in 0..p {
                let y = y0 + py * p + dy;
                for dx in 0..p {
                    let x = x0 + px * p + dx;
                    let at = y * image_w + x;
                    crops.extend_from_slice(&image[at * 3..at * 3 + 3]);
                    real += mask[at];
                }
            }
            patch_masks.push(real / area);
        }
    }
}

/// Letterboxes `image` into `out_h`×`out_w`: aspect-preserving bilinear resize with
/// antialiasing, centred, padded with 0 before CLIP normalisation. Returns the normalised
/// pixels and the real-pixel mask (1 inside the image, 0 in the padding).
#[must_use]
pub fn resize_and_pad(image: &RgbF32, out_h: usize, out_w: usize) -> (Vec<f32>, Vec<f32>) {
    let (pixels, mask) = letterbox(image, out_h, out_w);
    (normalise(&pixels.data), mask)
}

/// [`resize_and_pad`] before normalisation: the pixels in `[0, 1]`, the padding 0.
fn letterbox(image: &RgbF32, out_h: usize, out_w: usize) -> (RgbF32, Vec<f32>) {
    #[allow(clippy::cast_precision_loss)]
    let (h, w) = (image.height as f32, image.width as f32);
    #[allow(clippy::cast_precision_loss)]
    let scale = (out_h as f32 / h).min(out_w as f32 / w);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (sh, sw) = (
        ((h * scale) as usize).clamp(1, out_h),
        ((w * scale) as usize).clamp(1, out_w),
    );
    let resized = resize_bilinear_aa(&image.data, image.height, image.width, sh, sw);
    let (top, left) = ((out_h - sh) / 2, (out_w - sw) / 2);
    let mut pixels = vec![0.0f32; out_h * out_w * 3];
    let mut mask = vec![0.0f32; out_h * out_w];
    for y in 0..sh {
        for x in 0..sw {
            let at = (y + top) * out_w + x + left;
            mask[at] = 1.0;
            for ch in 0..3 {
                pixels[at * 3 + ch] = resized[(y * sw + x) * 3 + ch].clamp(0.0, 1.0);
            }
        }
    }
    let pixels = RgbF32 {
        height: out_h,
        width: out_w,
        data: pixels,
    };
    (pixels, mask)
}

/// RGB values in `[0, 1]` CLIP-normalised.
fn normalise(pixels: &[f32]) -> Vec<f32> {
    pixels
        .iter()
        .enumerate()
        .map(|(i, v)| (v - CLIP_MEAN[i % 3]) / CLIP_STD[i % 3])
        .collect()
}

/// Per-output-pixel source range and weights of a separable triangle filter whose support
/// widens when downscaling (the antialiased bilinear of torchvision and PIL).
fn aa_weights(in_size: usize, out_size: usize) -> Vec<(usize, Vec<f32>)> {
    #[allow(clippy::cast_precision_loss)]
    let scale = in_size as f64 / out_size as f64;
    let support = scale.max(1.0);
    let inv = 1.0 / support;
    (0..out_size)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let center = scale * (i as f64 + 0.5);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let lo = (center - support + 0.5).max(0.0) as usize;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let hi = ((center + support + 0.5) as usize).min(in_size);
            #[allow(clippy::cast_precision_loss)]
            let mut w: Vec<f64> = (lo..hi)
                .map(|j| (1.0 - ((j as f64 - center + 0.5) * inv).abs()).max(0.0))
                .collect();
            let total: f64 = w.iter().sum();
            if total > 0.0 {
                w.iter_mut().for_each(|v| *v /= total);
            }
            #[allow(clippy::cast_possible_truncation)]
            (lo, w.into_iter().map(|v| v as f32).collect())
        })
        .collect()
}

/// Antialiased bilinear resize of an `h`×`w`×3 image (horizontal pass, then vertical).
#[must_use]
pub fn resize_bilinear_aa(src: &[f32], h: usize, w: usize, out_h: usize, out_w: usize) -> Vec<f32> {
    let wx = aa_weights(w, out_w);
    let mut tmp = vec![0.0f32; h * out_w * 3];
    for y in 0..h {
        for (x, (lo, ws)) in wx.iter().enumerate() {
            for ch in 0..3 {
                let mut acc = 0.0f32;
                for (k, wt) in ws.iter().enumerate() {
                    acc += wt * src[(y * w + lo + k) * 3 + ch];
                }
                tmp[(y * out_w + x) * 3 + ch] = acc;
            }
        }
    }
    let wy = aa_weights(h, out_h);
    let mut out = vec![0.0f32; out_h * out_w * 3];
    for (y, (lo, ws)) in wy.iter().enumerate() {
        for x in 0..out_w {
            for ch in 0..3 {
                let mut acc = 0.0f32;
                for (k, wt) in ws.iter().enumerate() {
                    acc += wt * tmp[((lo + k) * out_w + x) * 3 + ch];
                }
                out[(y * out_w + x) * 3 + ch] = acc;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::BYTE_VOCAB;

    /// MOLMO_TRAINER.md §1.2 at full geometry (336 px crops, 14 px patches, 12 crops).
    #[test]
    fn tiling_and_token_counts_match_the_molmo_table() {
        let g = VisionGeometry::molmo();
        let table = [
            ((300, 300), (1, 1), (336, 336), 316),
            ((640, 480), (2, 3), (784, 560), 740),
            ((1024, 768), (3, 4), (1008, 784), 1196),
            ((1920, 1080), (3, 4), (1008, 784), 1196),
            ((4000, 3000), (3, 4), (1008, 784), 1196),
            ((2000, 500), (2, 6), (1456, 560), 1220),
            ((800, 3000), (6, 2), (560, 1456), 1252),
        ];
        for ((w, h), (rows, cols), (box_w, box_h), tokens) in table {
            let t = tiling_for(&g, w, h);
            assert_eq!((t.rows, t.cols), (rows, cols), "{w}x{h}");
            assert_eq!(resized_box(&g, t), (box_h, box_w), "{w}x{h}");
            assert_eq!(image_token_count(&g, t), tokens, "{w}x{h}");
            let (grid_h, grid_w) = high_res_grid(&g, t);
            assert_eq!(tokens, grid_h * (grid_w + 1) + 2 + 158);
        }
        let widest = Tiling { rows: 1, cols: 12 };
        assert_eq!(image_token_count(&g, widest), 1372);
    }

    #[test]
    fn every_high_res_patch_token_is_fed_exactly_once() {
        let tok = Tokenizer::new(BYTE_VOCAB);
        for geometry in [VisionGeometry::molmo(), VisionGeometry::tiny()] {
            for (w, h) in [(300, 300), (640, 480), (2000, 500), (800, 3000), (40, 90)] {
                let t = tiling_for(&geometry, w, h);
                let (tokens, idx) = layout_tokens(&geometry, &tok, t);
                assert_eq!(tokens.len(), image_token_count(&geometry, t));
                assert_eq!(
                    idx.len(),
                    (t.rows * t.cols + 1) * geometry.pooled_per_crop()
                );
                let mut fed = vec![0usize; tokens.len()];
                for &i in idx.iter().filter(|&&i| i >= 0) {
                    fed[usize::try_from(i).unwrap()] += 1;
                }
                for (pos, &token) in tokens.iter().enumerate() {
                    let want = usize::from(token == tok.special(Special::ImPatch));
                    assert_eq!(fed[pos], want, "{w}x{h} token {pos}");
                }
            }
        }
    }

    #[test]
    fn full_geometry_crops_have_the_expected_shapes_and_masks() {
        let g = VisionGeometry::molmo();
        let tok = Tokenizer::new(BYTE_VOCAB);
        // 640×480 → 2×3 crops plus the global crop, letterboxed vertically.
        let img = RgbF32::from_rgb8(640, 480, &vec![200u8; 640 * 480 * 3]);
        let input = preprocess(&g, &tok, &img);
        assert_eq!(input.crop_count(), 7);
        assert_eq!(input.crops.len(), 7 * 576 * 588);
        assert_eq!(input.patch_masks.len(), 7 * 576);
        assert_eq!(input.tokens.len(), 740);
        // Global crop: scale 336/640 in f32 gives int(480·0.525) = 251 rows, as in Molmo's
        // float32 arithmetic; centred with 42 px (3 patch rows) above, so patch row 20 is
        // 13/14 real (a partial-padding patch).
        for row in 0..24 {
            let want = match row {
                3..20 => 1.0,
                20 => 13.0 / 14.0,
                _ => 0.0,
            };
            let masks = &input.patch_masks[row * 24..(row + 1) * 24];
            assert!(
                masks.iter().all(|&m| (m - want).abs() < 1e-6),
                "row {row}: {masks:?}"
            );
        }
        // Real pixels normalise to (200/255 − mean)/std, padding to −mean/std.
        let v = (200.0 / 255.0 - CLIP_MEAN[0]) / CLIP_STD[0];
        let centre = (12 * 24 + 12) * 588;
        assert!((input.crops[centre] - v).abs() < 1e-4);
        assert!((input.crops[0] + CLIP_MEAN[0] / CLIP_STD[0]).abs() < 1e-6);
    }

    #[test]
    fn resize_keeps_constant_images_constant_and_downscales_by_averaging() {
        let img = vec![0.25f32; 10 * 7 * 3];
        let out = resize_bilinear_aa(&img, 10, 7, 4, 3);
        assert!(out.iter().all(|v| (v - 0.25).abs() < 1e-6));
        // A 1-pixel stripe pattern averages to grey when halved.
        let mut stripes = vec![0.0f32; 8 * 8 * 3];
        for y in 0..8 {
            for x in (0..8).step_by(2) {
                for c in 0..3 {
                    stripes[(y * 8 + x) * 3 + c] = 1.0;
                }
            }
        }
        let half = resize_bilinear_aa(&stripes, 8, 8, 4, 4);
        for v in &half[3..half.len() - 3] {
            assert!((v - 0.5).abs() < 0.2, "{v}");
        }
    }
}
