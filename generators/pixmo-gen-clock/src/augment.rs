//! Raster passes after the face is drawn: one inverse-mapping pass that places the watch
//! (scale + rotation + perspective + crop) with bilinear sampling and a soft drop shadow,
//! then an optional separable box blur, then one pass of tone curve + vignette + noise.

use crate::geometry::{Mat3, Pt};
use crate::rng::hash2;
use crate::scene::{Blur, Lighting, Noise};

/// A premultiplied RGBA8 raster borrowed from a `tiny_skia::Pixmap`.
pub(crate) struct Src<'a> {
    pub data: &'a [u8],
    pub w: u32,
    pub h: u32,
}

/// `floor` without a libm call (`f32::floor` is a function call on baseline x86-64).
#[inline]
pub(crate) fn ifloor(x: f32) -> i32 {
    let i = x as i32;
    if (i as f32) > x { i - 1 } else { i }
}

/// Interpolates two packed RGBA8 pixels, `t` in `0..=256` (SWAR: two 16-bit lanes per
/// multiply).
#[inline(always)]
pub(crate) fn lerp_px(a: u32, b: u32, t: u32) -> u32 {
    let it = 256 - t;
    let rb = (((a & 0x00ff_00ff) * it + (b & 0x00ff_00ff) * t) >> 8) & 0x00ff_00ff;
    let ag = (((a >> 8) & 0x00ff_00ff) * it + ((b >> 8) & 0x00ff_00ff) * t) & 0xff00_ff00;
    rb | ag
}

#[inline(always)]
fn load(d: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]])
}

/// Fixed point 16.16.
const ONE: i32 = 1 << 16;

/// A coordinate in 16.16 fixed point, clamped far outside any raster (so it cannot wrap).
#[inline(always)]
fn to_fixed(v: f64) -> i32 {
    (v.clamp(-30_000.0, 30_000.0) * f64::from(ONE)) as i32
}

/// Bilinear sample of a premultiplied raster at a 16.16 fixed-point position measured from
/// the centre of pixel (0, 0) (that is, continuous coordinates minus one half), transparent
/// outside; returns a packed RGBA8 pixel (R in the low byte).
#[inline(always)]
fn sample(src: &Src<'_>, x: i32, y: i32) -> u32 {
    let (xi, yi) = (x >> 16, y >> 16);
    let (w, h) = (src.w as i32, src.h as i32);
    if xi < -1 || yi < -1 || xi >= w || yi >= h {
        return 0;
    }
    let wx = ((x >> 8) & 0xff) as u32;
    let wy = ((y >> 8) & 0xff) as u32;
    let d = src.data;
    let (p00, p10, p01, p11) = if xi >= 0 && yi >= 0 && xi + 1 < w && yi + 1 < h {
        let i0 = ((yi * w + xi) * 4) as usize;
        let i1 = i0 + (w * 4) as usize;
        let r0: &[u8; 8] = d[i0..i0 + 8].try_into().expect("8 bytes");
        let r1: &[u8; 8] = d[i1..i1 + 8].try_into().expect("8 bytes");
        (
            u32::from_le_bytes([r0[0], r0[1], r0[2], r0[3]]),
            u32::from_le_bytes([r0[4], r0[5], r0[6], r0[7]]),
            u32::from_le_bytes([r1[0], r1[1], r1[2], r1[3]]),
            u32::from_le_bytes([r1[4], r1[5], r1[6], r1[7]]),
        )
    } else {
        let at = |tx: i32, ty: i32| {
            if tx < 0 || ty < 0 || tx >= w || ty >= h {
                0
            } else {
                load(d, ((ty * w + tx) * 4) as usize)
            }
        };
        (
            at(xi, yi),
            at(xi + 1, yi),
            at(xi, yi + 1),
            at(xi + 1, yi + 1),
        )
    };
    if (p00 | p10 | p01 | p11) >> 24 == 0 {
        return 0;
    }
    lerp_px(lerp_px(p00, p10, wx), lerp_px(p01, p11, wx), wy)
}

/// Halves a premultiplied raster with a 2x2 box filter (one mip level).
pub(crate) fn half(src: &Src<'_>) -> (Vec<u8>, u32, u32) {
    let (w2, h2) = ((src.w / 2).max(1), (src.h / 2).max(1));
    let mut out = vec![0u8; (w2 * h2 * 4) as usize];
    let sw = src.w as usize * 4;
    for y in 0..h2 as usize {
        let r0 = (2 * y).min(src.h as usize - 1) * sw;
        let r1 = (2 * y + 1).min(src.h as usize - 1) * sw;
        for x in 0..w2 as usize {
            let c0 = (2 * x).min(src.w as usize - 1) * 4;
            let c1 = (2 * x + 1).min(src.w as usize - 1) * 4;
            let o = (y * w2 as usize + x) * 4;
            for c in 0..4 {
                let sum = u32::from(src.data[r0 + c0 + c])
                    + u32::from(src.data[r0 + c1 + c])
                    + u32::from(src.data[r1 + c0 + c])
                    + u32::from(src.data[r1 + c1 + c]);
                out[o + c] = ((sum + 2) >> 2) as u8;
            }
        }
    }
    (out, w2, h2)
}

/// A single-channel coverage mask (the shadow), 8-bit, sampled bilinearly.
pub(crate) struct Mask {
    pub data: Vec<u8>,
    pub w: u32,
    pub h: u32,
    /// Mask pixels per face-layer pixel.
    pub scale: f32,
}

impl Mask {
    /// Alpha of `src` reduced by `factor` (box average) and then box-blurred: a soft shadow.
    pub fn shadow_of(src: &Src<'_>, factor: u32) -> Mask {
        let factor = factor.max(1);
        let w = src.w.div_ceil(factor);
        let h = src.h.div_ceil(factor);
        let mut acc = vec![0.0f32; (w * h) as usize];
        let norm = 1.0 / (factor * factor) as f32;
        for y in 0..src.h {
            let row = (y / factor * w) as usize;
            let line = &src.data[(y * src.w * 4) as usize..((y + 1) * src.w * 4) as usize];
            for (x, px) in line.chunks_exact(4).enumerate() {
                acc[row + x / factor as usize] += f32::from(px[3]) * norm;
            }
        }
        let mut tmp = vec![0.0f32; acc.len()];
        for _ in 0..2 {
            box_1d(&acc, &mut tmp, w as usize, h as usize, 1, true);
            box_1d(&tmp, &mut acc, w as usize, h as usize, 1, false);
        }
        Mask {
            data: acc
                .iter()
                .map(|v| (v + 0.5).clamp(0.0, 255.0) as u8)
                .collect(),
            w,
            h,
            scale: 1.0 / factor as f32,
        }
    }

    /// Coverage in `0..=255` at a 16.16 fixed-point mask position measured from the centre of
    /// mask pixel (0, 0).
    #[inline(always)]
    fn at(&self, x: i32, y: i32) -> u32 {
        let (x0, y0) = (x >> 16, y >> 16);
        let (w, h) = (self.w as i32, self.h as i32);
        if x0 < -1 || y0 < -1 || x0 >= w || y0 >= h {
            return 0;
        }
        let fx = ((x >> 8) & 0xff) as u32;
        let fy = ((y >> 8) & 0xff) as u32;
        let get = |tx: i32, ty: i32| -> u32 {
            if tx < 0 || ty < 0 || tx >= w || ty >= h {
                0
            } else {
                u32::from(self.data[(ty * w + tx) as usize])
            }
        };
        let top = get(x0, y0) * (256 - fx) + get(x0 + 1, y0) * fx;
        let bot = get(x0, y0 + 1) * (256 - fx) + get(x0 + 1, y0 + 1) * fx;
        (top * (256 - fy) + bot * fy) >> 16
    }
}

fn box_1d(src: &[f32], dst: &mut [f32], w: usize, h: usize, r: usize, horizontal: bool) {
    let (n, lines, stride, step) = if horizontal {
        (w, h, w, 1)
    } else {
        (h, w, 1, w)
    };
    let norm = 1.0 / (2 * r + 1) as f32;
    for line in 0..lines {
        let base = line * stride;
        let get = |i: isize| -> f32 {
            if i < 0 || i as usize >= n {
                0.0
            } else {
                src[base + i as usize * step]
            }
        };
        let mut sum: f32 = (-(r as isize)..=r as isize).map(get).sum();
        for i in 0..n {
            dst[base + i * step] = sum * norm;
            sum += get(i as isize + r as isize + 1) - get(i as isize - r as isize);
        }
    }
}

/// A convex quadrilateral in output pixels (the warped face layer, or its shadow).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quad(pub [Pt; 4]);

impl Quad {
    /// Columns `x0..x1` whose pixel centres on row `y` lie within the quad (plus a margin
    /// for the bilinear footprint), clamped to `0..w`.
    fn span(&self, y: u32, w: u32) -> Option<(u32, u32)> {
        let yc = f64::from(y) + 0.5;
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for i in 0..4 {
            let (a, b) = (self.0[i], self.0[(i + 1) % 4]);
            let (ya, yb) = (a.y.min(b.y) - 1.5, a.y.max(b.y) + 1.5);
            if yc < ya || yc > yb {
                continue;
            }
            let xs = if (b.y - a.y).abs() < 1e-9 {
                [a.x, b.x]
            } else {
                let t = ((yc - a.y) / (b.y - a.y)).clamp(0.0, 1.0);
                let x = a.x + t * (b.x - a.x);
                [x, x]
            };
            for x in xs {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        if lo > hi {
            return None;
        }
        let x0 = (lo - 2.0).floor().clamp(0.0, f64::from(w)) as u32;
        let x1 = (hi + 2.0).ceil().clamp(0.0, f64::from(w)) as u32;
        (x0 < x1).then_some((x0, x1))
    }
}

/// The watch's drop shadow: a soft mask in face-layer pixels, moved by `offset` layer pixels.
pub(crate) struct ShadowPass<'a> {
    pub mask: &'a Mask,
    pub offset: (f32, f32),
    /// `0..=256`.
    pub opacity: u32,
    /// Where the shadow falls, in output pixels.
    pub quad: Quad,
}

/// Blends one output pixel: `(x, y)` is the 16.16 position in `src`, `(mx, my)` in the
/// shadow mask (both measured from the centre of pixel (0, 0)).
#[inline(always)]
fn blend_pixel(
    dst: &mut [u8],
    i: usize,
    src: &Src<'_>,
    (x, y): (i32, i32),
    (mx, my): (i32, i32),
    shadow: Option<&ShadowPass<'_>>,
) {
    let s = sample(src, x, y);
    let a = s >> 24;
    let mut d = load(dst, i);
    if a < 255
        && let Some(sh) = shadow
    {
        let m = (sh.mask.at(mx, my) * sh.opacity) >> 8;
        if m > 0 {
            d = lerp_px(d, 0xff00_0000, m + (m >> 7)) | 0xff00_0000;
        }
    }
    if a != 0 {
        // Premultiplied source-over: out = s + d * (1 - a), with 1 - a in 0..=256.
        let keep = 256 - (a + (a >> 7));
        let (sb, tb) = (s.to_le_bytes(), lerp_px(0, d, keep).to_le_bytes());
        d = u32::from_le_bytes([
            sb[0].saturating_add(tb[0]),
            sb[1].saturating_add(tb[1]),
            sb[2].saturating_add(tb[2]),
            255,
        ]);
    }
    dst[i..i + 4].copy_from_slice(&d.to_le_bytes());
}

/// Pixels per exactly-mapped step; positions in between are interpolated linearly in fixed
/// point (exact for affine maps, a sub-pixel approximation under perspective).
const STEP: u32 = 8;

/// Composites the face raster `src` (through `inv`: output pixel -> `src` pixel) and its
/// shadow over the opaque background `dst` (`w x h`, RGBA), visiting only the pixels near
/// `quad` (and the shadow's quad). `level_scale` is face-layer pixels per `src` pixel.
pub(crate) fn composite(
    dst: &mut [u8],
    (w, h): (u32, u32),
    quad: &Quad,
    src: &Src<'_>,
    inv: &Mat3,
    level_scale: f64,
    shadow: Option<&ShadowPass<'_>>,
) {
    let m = &inv.0;
    // Source position (minus one half) and mask position (minus one half) of the centre of
    // output pixel (x, y).
    let map = |x: u32, y: u32| -> [i32; 4] {
        let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        let hw = m[6] * px + m[7] * py + m[8];
        let hw = if hw.abs() < 1e-9 { 1e-9 } else { hw };
        let u = (m[0] * px + m[1] * py + m[2]) / hw;
        let v = (m[3] * px + m[4] * py + m[5]) / hw;
        let (mu, mv) = match shadow {
            Some(sh) => {
                let k = level_scale * f64::from(sh.mask.scale);
                (
                    u * k - f64::from(sh.offset.0) * f64::from(sh.mask.scale) - 0.5,
                    v * k - f64::from(sh.offset.1) * f64::from(sh.mask.scale) - 0.5,
                )
            }
            None => (0.0, 0.0),
        };
        [
            to_fixed(u - 0.5),
            to_fixed(v - 0.5),
            to_fixed(mu),
            to_fixed(mv),
        ]
    };
    for y in 0..h {
        let span = match (quad.span(y, w), shadow.and_then(|sh| sh.quad.span(y, w))) {
            (Some(a), Some(b)) => (a.0.min(b.0), a.1.max(b.1)),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => continue,
        };
        let row = (y * w) as usize * 4;
        let mut x = span.0;
        let mut start = map(x, y);
        while x < span.1 {
            let n = STEP.min(span.1 - x);
            let end = map(x + n, y);
            let d: [i32; 4] = std::array::from_fn(|k| (end[k] - start[k]) / n as i32);
            let mut p = start;
            for k in 0..n {
                blend_pixel(
                    dst,
                    row + (x + k) as usize * 4,
                    src,
                    (p[0], p[1]),
                    (p[2], p[3]),
                    shadow,
                );
                for (pk, dk) in p.iter_mut().zip(d) {
                    *pk += dk;
                }
            }
            x += n;
            start = end;
        }
    }
}

/// Blurs the RGB channels of an opaque image in place.
pub(crate) fn blur(img: &mut [u8], w: u32, h: u32, blur: &Blur) {
    let radii: Vec<usize> = match blur {
        Blur::None => return,
        Blur::Box { radius } => vec![(*radius).min(16) as usize],
        Blur::Gaussian { sigma } => gauss_boxes(f64::from(*sigma).clamp(0.0, 8.0)),
    };
    let (w, h) = (w as usize, h as usize);
    if w == 0 || h == 0 {
        return;
    }
    let mut tmp = vec![0u8; img.len()];
    for r in radii.into_iter().filter(|&r| r > 0) {
        box_rows(img, &mut tmp, w, h, r);
        box_cols(&tmp, img, w, h, r);
    }
}

/// Radii of two box filters whose convolution approximates a Gaussian of `sigma`.
fn gauss_boxes(sigma: f64) -> Vec<usize> {
    let n = 2.0;
    let w_ideal = libm::sqrt(12.0 * sigma * sigma / n + 1.0);
    let mut wl = w_ideal.floor() as i64;
    if wl % 2 == 0 {
        wl -= 1;
    }
    let wu = wl + 2;
    let wlf = wl as f64;
    let m_ideal =
        (12.0 * sigma * sigma - n * wlf * wlf - 4.0 * n * wlf - 3.0 * n) / (-4.0 * wlf - 4.0);
    let m = m_ideal.round() as i64;
    (0..2)
        .map(|i| {
            let size = if i < m { wl } else { wu };
            ((size - 1) / 2).max(0) as usize
        })
        .collect()
}

/// Horizontal box filter of radius `r` over RGB (edges clamped); alpha copied.
fn box_rows(src: &[u8], dst: &mut [u8], w: usize, h: usize, r: usize) {
    let recip = 65_536 / (2 * r + 1) as u32;
    for y in 0..h {
        let row = &src[y * w * 4..(y + 1) * w * 4];
        let out = &mut dst[y * w * 4..(y + 1) * w * 4];
        let px = |i: isize, c: usize| u32::from(row[i.clamp(0, w as isize - 1) as usize * 4 + c]);
        let mut sum = [0u32; 3];
        for (c, s) in sum.iter_mut().enumerate() {
            *s = (-(r as isize)..=r as isize).map(|i| px(i, c)).sum();
        }
        for x in 0..w {
            let (add, sub) = (x + r + 1, x as isize - r as isize);
            let interior = add < w && sub >= 0;
            for c in 0..3 {
                out[x * 4 + c] = ((sum[c] * recip + 32_768) >> 16).min(255) as u8;
                if interior {
                    sum[c] =
                        sum[c] + u32::from(row[add * 4 + c]) - u32::from(row[sub as usize * 4 + c]);
                } else {
                    sum[c] = sum[c] + px(add as isize, c) - px(sub, c);
                }
            }
            out[x * 4 + 3] = row[x * 4 + 3];
        }
    }
}

/// Vertical box filter of radius `r` over RGB (edges clamped), walking rows in order with one
/// running sum per column; alpha copied.
fn box_cols(src: &[u8], dst: &mut [u8], w: usize, h: usize, r: usize) {
    let recip = 65_536 / (2 * r + 1) as u32;
    let stride = w * 4;
    let row = |y: isize| y.clamp(0, h as isize - 1) as usize * stride;
    let mut sums = vec![0u32; stride];
    for y in -(r as isize)..=r as isize {
        let base = row(y);
        for (s, v) in sums.iter_mut().zip(&src[base..base + stride]) {
            *s += u32::from(*v);
        }
    }
    for y in 0..h {
        let out = y * stride;
        let add = row(y as isize + r as isize + 1);
        let sub = row(y as isize - r as isize);
        let (d, a, b) = (
            &mut dst[out..out + stride],
            &src[add..add + stride],
            &src[sub..sub + stride],
        );
        for (((dv, s), av), bv) in d.iter_mut().zip(sums.iter_mut()).zip(a).zip(b) {
            *dv = ((*s * recip + 32_768) >> 16).min(255) as u8;
            *s = *s + u32::from(*av) - u32::from(*bv);
        }
        // Alpha is opaque in the images we blur; keep it untouched.
        for x in 0..w {
            d[x * 4 + 3] = src[out + x * 4 + 3];
        }
    }
}

/// Tone curve (brightness, contrast, gamma, cast), vignette and noise in one integer pass.
pub(crate) fn tone(img: &mut [u8], w: u32, h: u32, lighting: &Lighting, noise: &Noise) {
    let has_noise = noise.sigma > 0.0;
    if lighting.is_neutral() && !has_noise {
        return;
    }
    let mut lut = [[0u8; 256]; 3];
    let inv_gamma = 1.0 / f64::from(lighting.gamma.clamp(0.2, 5.0));
    for (c, table) in lut.iter_mut().enumerate() {
        for (v, out) in table.iter_mut().enumerate() {
            let f = v as f64 / 255.0;
            let f = (f - 0.5) * f64::from(lighting.contrast) + 0.5 + f64::from(lighting.brightness);
            let f = libm::pow(f.clamp(0.0, 1.0), inv_gamma) * f64::from(lighting.cast[c]);
            *out = (f * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
        }
    }
    let vig = lighting.vignette.clamp(0.0, 1.0);
    if vig == 0.0 && !has_noise {
        for px in img.chunks_exact_mut(4) {
            for c in 0..3 {
                px[c] = lut[c][usize::from(px[c])];
            }
        }
        return;
    }
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let inv_r2 = 1.0 / (cx * cx + cy * cy).max(1.0);
    // Noise: a sum of four bytes of a hash is close to normal with sd 147.8 (mono); two
    // bytes give a triangular deviate with sd 104.5 (per channel, colour). Scaled by 2^8.
    let k_mono = (noise.sigma.clamp(0.0, 64.0) / 147.8 * 256.0) as i32;
    let k_col = (noise.sigma.clamp(0.0, 64.0) / 104.5 * 256.0) as i32;
    let seed = noise.seed;
    for y in 0..h {
        let dy = y as f32 + 0.5 - cy;
        let dy2 = dy * dy;
        let row = (y * w) as usize * 4;
        for x in 0..w {
            let i = row + x as usize * 4;
            let k = if vig > 0.0 {
                let dx = x as f32 + 0.5 - cx;
                let t = (dx * dx + dy2) * inv_r2;
                ((1.0 - vig * t * t) * 256.0) as i32
            } else {
                256
            };
            let mut n = [0i32; 3];
            if has_noise {
                let h1 = hash2(x, y, seed);
                let b = |h: u32, s: u32| ((h >> s) & 0xff) as i32;
                if noise.monochrome {
                    let v = (b(h1, 0) + b(h1, 8) + b(h1, 16) + b(h1, 24) - 510) * k_mono;
                    n = [v, v, v];
                } else {
                    let h2 = hash2(x, y, seed ^ 0x5bd1_e995);
                    n = [
                        (b(h1, 0) + b(h1, 8) - 255) * k_col,
                        (b(h1, 16) + b(h1, 24) - 255) * k_col,
                        (b(h2, 0) + b(h2, 8) - 255) * k_col,
                    ];
                }
            }
            for c in 0..3 {
                let v = i32::from(lut[c][usize::from(img[i + c])]) * k + n[c];
                img[i + c] = ((v + 128) >> 8).clamp(0, 255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_boxes_grow_with_sigma() {
        assert_eq!(gauss_boxes(0.5).len(), 2);
        let small: usize = gauss_boxes(0.8).iter().sum();
        let big: usize = gauss_boxes(3.0).iter().sum();
        assert!(big > small);
    }

    #[test]
    fn box_blur_keeps_flat_images_flat() {
        let mut img = vec![100u8; 16 * 16 * 4];
        blur(&mut img, 16, 16, &Blur::Box { radius: 2 });
        assert!(img.iter().all(|&v| v == 100));
    }
}
