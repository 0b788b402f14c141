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
    // Each row pair as one u64: (p00, p10) and (p01, p11), left pixel in the low half.
    let (top, bottom) = if xi >= 0 && yi >= 0 && xi + 1 < w && yi + 1 < h {
        let i0 = ((yi * w + xi) * 4) as usize;
        let i1 = i0 + (w * 4) as usize;
        let r0: [u8; 8] = d[i0..i0 + 8].try_into().expect("8 bytes");
        let r1: [u8; 8] = d[i1..i1 + 8].try_into().expect("8 bytes");
        (u64::from_le_bytes(r0), u64::from_le_bytes(r1))
    } else {
        let at = |tx: i32, ty: i32| {
            if tx < 0 || ty < 0 || tx >= w || ty >= h {
                0
            } else {
                load(d, ((ty * w + tx) * 4) as usize)
            }
        };
        (
            u64::from(at(xi, yi)) | u64::from(at(xi + 1, yi)) << 32,
            u64::from(at(xi, yi + 1)) | u64::from(at(xi + 1, yi + 1)) << 32,
        )
    };
    if (top | bottom) & 0xff00_0000_ff00_0000 == 0 {
        return 0;
    }
    // Both horizontal lerps at once: lefts (p00, p01) against rights (p10, p11).
    const HIGH: u64 = 0xffff_ffff_0000_0000;
    let lefts = (top & !HIGH) | (bottom << 32);
    let rights = (top >> 32) | (bottom & HIGH);
    let rows = lerp_px2(lefts, rights, wx);
    lerp_px(rows as u32, (rows >> 32) as u32, wy)
}

/// [`lerp_px`] of two pixel pairs packed in `u64`s (each 16-bit lane holds at most
/// 255 * 256, so lanes never carry): the same value as two `lerp_px` calls.
#[inline(always)]
fn lerp_px2(a: u64, b: u64, t: u32) -> u64 {
    const LOW: u64 = 0x00ff_00ff_00ff_00ff;
    let (t, it) = (u64::from(t), u64::from(256 - t));
    let rb = (((a & LOW) * it + (b & LOW) * t) >> 8) & LOW;
    let ag = (((a >> 8) & LOW) * it + ((b >> 8) & LOW) * t) & !LOW;
    rb | ag
}

/// Halves a premultiplied raster with a 2x2 box filter (one mip level) into `out` (reused
/// from image to image); returns its size. Four pixels are averaged two channels at a time
/// in 16-bit lanes of a `u32` (a lane sum is at most 1022, so lanes never carry).
pub(crate) fn half_into(src: &Src<'_>, out: &mut Vec<u8>) -> (u32, u32) {
    let (w2, h2) = ((src.w / 2).max(1), (src.h / 2).max(1));
    out.clear();
    out.resize((w2 * h2 * 4) as usize, 0);
    let (sw, sh) = (src.w as usize, src.h as usize);
    let px = |row: usize, x: usize| load(src.data, (row * sw + x.min(sw - 1)) * 4);
    const LOW: u32 = 0x00ff_00ff;
    for (y, line) in out.chunks_exact_mut(w2 as usize * 4).enumerate() {
        let (r0, r1) = ((2 * y).min(sh - 1), (2 * y + 1).min(sh - 1));
        for (x, o) in line.chunks_exact_mut(4).enumerate() {
            let p = [
                px(r0, 2 * x),
                px(r0, 2 * x + 1),
                px(r1, 2 * x),
                px(r1, 2 * x + 1),
            ];
            let rb: u32 = p.iter().map(|v| v & LOW).sum::<u32>() + 0x0002_0002;
            let ag: u32 = p.iter().map(|v| (v >> 8) & LOW).sum::<u32>() + 0x0002_0002;
            let v = ((rb >> 2) & LOW) | (((ag >> 2) & LOW) << 8);
            o.copy_from_slice(&v.to_le_bytes());
        }
    }
    (w2, h2)
}

/// A single-channel coverage mask (the shadow), 8-bit, sampled bilinearly.
pub(crate) struct Mask {
    /// `(w + 2) x (h + 2)` coverage: the mask inside a one-pixel border of zeros.
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
        // Each row adds its pixels to their cells in order, `factor` pixels per cell (no
        // division per pixel; the same sums, added in the same order).
        let cell_bytes = factor as usize * 4;
        for y in 0..src.h {
            let row = (y / factor * w) as usize;
            let line = &src.data[(y * src.w * 4) as usize..((y + 1) * src.w * 4) as usize];
            for (cell, pixels) in acc[row..row + w as usize]
                .iter_mut()
                .zip(line.chunks(cell_bytes))
            {
                for px in pixels.chunks_exact(4) {
                    *cell += f32::from(px[3]) * norm;
                }
            }
        }
        let mut tmp = vec![0.0f32; acc.len()];
        for _ in 0..2 {
            box_1d(&acc, &mut tmp, w as usize, h as usize, 1, true);
            box_1d(&tmp, &mut acc, w as usize, h as usize, 1, false);
        }
        // Stored with a one-pixel transparent border, so bilinear taps need no bounds checks.
        let stride = w as usize + 2;
        let mut data = vec![0u8; stride * (h as usize + 2)];
        for (row, line) in data[stride..]
            .chunks_exact_mut(stride)
            .zip(acc.chunks_exact(w as usize))
        {
            for (o, v) in row[1..].iter_mut().zip(line) {
                *o = (v + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
        Mask {
            data,
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
        // Taps (x0, y0) .. (x0 + 1, y0 + 1) sit at (x0 + 1, y0 + 1) .. in the bordered data.
        let stride = self.w as usize + 2;
        let i = (y0 + 1) as usize * stride + (x0 + 1) as usize;
        let get = |k: usize| u32::from(self.data[k]);
        let top = get(i) * (256 - fx) + get(i + 1) * fx;
        let bot = get(i + stride) * (256 - fx) + get(i + stride + 1) * fx;
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

/// Per-channel saturating `a + b` of two packed pixels' RGB, alpha set to 255.
#[inline(always)]
fn saturating_add_rgb(a: u32, b: u32) -> u32 {
    const LOW: u32 = 0x00ff_00ff;
    let sat = |sum: u32| (sum | (((sum >> 8) & LOW) * 0xff)) & LOW;
    let rb = sat((a & LOW) + (b & LOW));
    let ag = sat(((a >> 8) & LOW) + ((b >> 8) & LOW));
    rb | (ag << 8) | 0xff00_0000
}

/// Blends one output pixel: `(x, y)` is the 16.16 position in `src`, `(mx, my)` in the
/// shadow mask (both measured from the centre of pixel (0, 0)). `SHADOW` says whether
/// `shadow` is `Some`, so the loop without a shadow carries no shadow code.
#[inline(always)]
fn blend_pixel<const SHADOW: bool>(
    dst: &mut [u8],
    i: usize,
    src: &Src<'_>,
    (x, y): (i32, i32),
    (mx, my): (i32, i32),
    shadow: Option<&ShadowPass<'_>>,
) {
    let s = sample(src, x, y);
    let a = s >> 24;
    let out = &mut dst[i..i + 4];
    if a == 255 {
        // Opaque face: source-over keeps the source (and the shadow under it is hidden).
        out.copy_from_slice(&s.to_le_bytes());
        return;
    }
    let mut d = u32::from_le_bytes([out[0], out[1], out[2], out[3]]);
    if SHADOW && let Some(sh) = shadow {
        let m = (sh.mask.at(mx, my) * sh.opacity) >> 8;
        if m > 0 {
            d = lerp_px(d, 0xff00_0000, m + (m >> 7)) | 0xff00_0000;
        } else if a == 0 {
            return;
        }
    } else if a == 0 {
        return;
    }
    if a != 0 {
        // Premultiplied source-over: out = s + d * (1 - a), with 1 - a in 0..=256, added per
        // channel with saturation two channels at a time (16-bit lanes).
        let keep = 256 - (a + (a >> 7));
        d = saturating_add_rgb(s, lerp_px(0, d, keep));
    }
    out.copy_from_slice(&d.to_le_bytes());
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
    match shadow {
        Some(_) => composite_rows::<true>(dst, (w, h), quad, src, shadow, map),
        None => composite_rows::<false>(dst, (w, h), quad, src, shadow, map),
    }
}

/// The row loop of [`composite`], with `SHADOW == shadow.is_some()`.
#[inline(always)]
fn composite_rows<const SHADOW: bool>(
    dst: &mut [u8],
    (w, h): (u32, u32),
    quad: &Quad,
    src: &Src<'_>,
    shadow: Option<&ShadowPass<'_>>,
    map: impl Fn(u32, u32) -> [i32; 4],
) {
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
            // Full steps divide by the constant (a shift, not `idiv`); same quotient.
            let d: [i32; 4] = if n == STEP {
                std::array::from_fn(|k| (end[k] - start[k]) / STEP as i32)
            } else {
                std::array::from_fn(|k| (end[k] - start[k]) / n as i32)
            };
            let mut p = start;
            for k in 0..n {
                blend_pixel::<SHADOW>(
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

/// Buffers the per-image passes reuse from image to image (no allocation per pass).
#[derive(Default)]
pub(crate) struct Buffers {
    /// The blur's intermediate image.
    blur_tmp: Vec<u8>,
    /// One row of packed pixels with clamped edges (horizontal box filter).
    packed: Vec<u64>,
    /// Running column sums (vertical box filter).
    sums: Vec<u32>,
    /// Vignette factor per column of the current row (tone).
    gain: Vec<i32>,
    /// Noise per column of the current row, one vector per channel (tone).
    noise: [Vec<i32>; 3],
    /// Squared horizontal distance from the centre per column (tone).
    dx2: Vec<f32>,
    /// Per byte of the current row: the toned value times 256 (tone).
    values: Vec<i32>,
    /// Mip levels of the face layer with its hands (composite).
    pub mips: [Vec<u8>; 4],
    /// The background at half resolution.
    pub background: Vec<u8>,
}

/// Blurs the RGB channels of an opaque image in place.
pub(crate) fn blur(img: &mut [u8], w: u32, h: u32, blur: &Blur, buf: &mut Buffers) {
    let radii: Vec<usize> = match blur {
        Blur::None => return,
        Blur::Box { radius } => vec![(*radius).min(16) as usize],
        Blur::Gaussian { sigma } => gauss_boxes(f64::from(*sigma).clamp(0.0, 8.0)),
    };
    let (w, h) = (w as usize, h as usize);
    if w == 0 || h == 0 {
        return;
    }
    buf.blur_tmp.clear();
    buf.blur_tmp.resize(img.len(), 0);
    for r in radii.into_iter().filter(|&r| r > 0) {
        box_rows(img, &mut buf.blur_tmp, w, h, r, &mut buf.packed);
        box_cols(&buf.blur_tmp, img, w, h, r, &mut buf.sums);
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

/// RGB of a pixel in three 16-bit lanes of a `u64` (a box sum of up to 257 pixels fits a
/// lane, so sums of packed pixels never carry into the next lane).
#[inline(always)]
fn pack_rgb(px: &[u8]) -> u64 {
    u64::from(px[0]) | u64::from(px[1]) << 16 | u64::from(px[2]) << 32
}

/// `(sum * recip + 1/2) >> 16`, at most 255: the mean of a box sum (recip = 2^16 / n).
#[inline(always)]
fn box_mean(sum: u64, recip: u64) -> u8 {
    ((sum * recip + 32_768) >> 16).min(255) as u8
}

/// Horizontal box filter of radius `r` over RGB (edges clamped); alpha copied. Each row is
/// packed once into `packed` with `r + 1` clamped pixels on the left and `r` on the right,
/// so the running sum needs no bounds logic; the three channel sums share one `u64`.
fn box_rows(src: &[u8], dst: &mut [u8], w: usize, h: usize, r: usize, packed: &mut Vec<u64>) {
    let recip = u64::from(65_536 / (2 * r + 1) as u32);
    packed.clear();
    packed.resize(w + 2 * r + 1, 0);
    for (row, out) in src
        .chunks_exact(w * 4)
        .zip(dst.chunks_exact_mut(w * 4))
        .take(h)
    {
        let (first, last) = (pack_rgb(&row[..4]), pack_rgb(&row[(w - 1) * 4..]));
        packed[..=r].fill(first);
        for (p, px) in packed[r + 1..r + 1 + w].iter_mut().zip(row.chunks_exact(4)) {
            *p = pack_rgb(px);
        }
        packed[r + 1 + w..].fill(last);
        // Window of output pixel x: packed[x + 1 ..= x + 2r + 1]; start with x = 0.
        let mut sum: u64 = packed[1..2 * r + 2].iter().sum();
        let (adds, subs) = (&packed[2 * r + 2..], &packed[1..]);
        for (x, (o, px)) in out.chunks_exact_mut(4).zip(row.chunks_exact(4)).enumerate() {
            o[0] = box_mean(sum & 0xffff, recip);
            o[1] = box_mean((sum >> 16) & 0xffff, recip);
            o[2] = box_mean((sum >> 32) & 0xffff, recip);
            o[3] = px[3];
            if x + 1 < w {
                sum = sum + adds[x] - subs[x];
            }
        }
    }
}

/// Vertical box filter of radius `r` over RGB (edges clamped), walking rows in order with one
/// running sum per column; alpha copied.
fn box_cols(src: &[u8], dst: &mut [u8], w: usize, h: usize, r: usize, sums: &mut Vec<u32>) {
    let recip = 65_536 / (2 * r + 1) as u32;
    let stride = w * 4;
    let row = |y: isize| y.clamp(0, h as isize - 1) as usize * stride;
    sums.clear();
    sums.resize(stride, 0);
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
        let s = &src[out..out + stride];
        for (dp, sp) in d.chunks_exact_mut(4).zip(s.chunks_exact(4)) {
            dp[3] = sp[3];
        }
    }
}

/// Tone curve (brightness, contrast, gamma, cast), vignette and noise in one integer pass.
/// Per row, the vignette gains and the noise of every column are computed first in plain
/// loops over `Buffers` (which the compiler vectorises), then one loop applies the lookup
/// table, gain and noise to the pixels.
pub(crate) fn tone(
    img: &mut [u8],
    w: u32,
    h: u32,
    lighting: &Lighting,
    noise: &Noise,
    buf: &mut Buffers,
) {
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
    let wu = w as usize;
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let inv_r2 = 1.0 / (cx * cx + cy * cy).max(1.0);
    buf.dx2.clear();
    buf.dx2.extend((0..w).map(|x| {
        let dx = x as f32 + 0.5 - cx;
        dx * dx
    }));
    buf.gain.clear();
    buf.gain.resize(wu, 256);
    for n in &mut buf.noise {
        n.clear();
        n.resize(wu, 0);
    }
    buf.values.clear();
    buf.values.resize(4 * wu, 0);
    // Noise: a sum of four bytes of a hash is close to normal with sd 147.8 (mono); two
    // bytes give a triangular deviate with sd 104.5 (per channel, colour). Scaled by 2^8.
    let k_mono = (noise.sigma.clamp(0.0, 64.0) / 147.8 * 256.0) as i32;
    let k_col = (noise.sigma.clamp(0.0, 64.0) / 104.5 * 256.0) as i32;
    let seed = noise.seed;
    let b = |h: u32, s: u32| ((h >> s) & 0xff) as i32;
    for (y, row) in img.chunks_exact_mut(wu * 4).enumerate().take(h as usize) {
        let y = y as u32;
        if vig > 0.0 {
            let dy = y as f32 + 0.5 - cy;
            let dy2 = dy * dy;
            for (g, dx2) in buf.gain.iter_mut().zip(&buf.dx2) {
                let t = (dx2 + dy2) * inv_r2;
                *g = ((1.0 - vig * t * t) * 256.0) as i32;
            }
        }
        let [nr, ng, nb] = &mut buf.noise;
        if has_noise && noise.monochrome {
            for (x, n) in (0u32..).zip(nr.iter_mut()) {
                let h1 = hash2(x, y, seed);
                *n = (b(h1, 0) + b(h1, 8) + b(h1, 16) + b(h1, 24) - 510) * k_mono;
            }
            ng.copy_from_slice(nr);
            nb.copy_from_slice(nr);
        } else if has_noise {
            for (x, (r, g)) in (0u32..).zip(nr.iter_mut().zip(ng.iter_mut())) {
                let h1 = hash2(x, y, seed);
                *r = (b(h1, 0) + b(h1, 8) - 255) * k_col;
                *g = (b(h1, 16) + b(h1, 24) - 255) * k_col;
            }
            for (x, n) in (0u32..).zip(nb.iter_mut()) {
                let h2 = hash2(x, y, seed ^ 0x5bd1_e995);
                *n = (b(h2, 0) + b(h2, 8) - 255) * k_col;
            }
        }
        // Look the colours up and apply gain and noise (alpha becomes `a << 8`, which the
        // rounding below returns unchanged), then one branch-free loop over the row's bytes.
        for ((v, px), (k, ((r, g), bl))) in buf
            .values
            .chunks_exact_mut(4)
            .zip(row.chunks_exact(4))
            .zip(buf.gain.iter().zip(nr.iter().zip(ng.iter()).zip(nb.iter())))
        {
            v.copy_from_slice(&[
                i32::from(lut[0][usize::from(px[0])]) * k + r,
                i32::from(lut[1][usize::from(px[1])]) * k + g,
                i32::from(lut[2][usize::from(px[2])]) * k + bl,
                i32::from(px[3]) << 8,
            ]);
        }
        for (o, v) in row.iter_mut().zip(&buf.values) {
            *o = ((v + 128) >> 8).clamp(0, 255) as u8;
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
    fn swar_helpers_match_per_byte_arithmetic() {
        let mut rng = crate::rng::Rng::new(3);
        for _ in 0..10_000 {
            let (a, b) = (rng.next_u64() as u32, rng.next_u64() as u32);
            let (ab, bb) = (a.to_le_bytes(), b.to_le_bytes());
            let want = u32::from_le_bytes([
                ab[0].saturating_add(bb[0]),
                ab[1].saturating_add(bb[1]),
                ab[2].saturating_add(bb[2]),
                255,
            ]);
            assert_eq!(saturating_add_rgb(a, b), want);
        }
        let (w, h) = (7u32, 5u32);
        let data: Vec<u8> = (0..w * h * 4).map(|_| rng.next_u64() as u8).collect();
        let mut out = Vec::new();
        assert_eq!(half_into(&Src { data: &data, w, h }, &mut out), (3, 2));
        for (i, v) in out.iter().enumerate() {
            let (x, y, c) = ((i / 4) % 3, i / 12, i % 4);
            let at = |xx: usize, yy: usize| u32::from(data[(yy * w as usize + xx) * 4 + c]);
            let sum = at(2 * x, 2 * y)
                + at(2 * x + 1, 2 * y)
                + at(2 * x, 2 * y + 1)
                + at(2 * x + 1, 2 * y + 1);
            assert_eq!(u32::from(*v), (sum + 2) >> 2, "pixel {i}");
        }
    }

    #[test]
    fn paired_lerp_matches_two_lerps() {
        let mut rng = crate::rng::Rng::new(5);
        for _ in 0..10_000 {
            let (a, b) = (rng.next_u64(), rng.next_u64());
            let t = (rng.next_u64() % 257) as u32;
            let two = lerp_px2(a, b, t);
            assert_eq!(two as u32, lerp_px(a as u32, b as u32, t));
            assert_eq!(
                (two >> 32) as u32,
                lerp_px((a >> 32) as u32, (b >> 32) as u32, t)
            );
        }
    }

    #[test]
    fn box_blur_keeps_flat_images_flat() {
        let mut img = vec![100u8; 16 * 16 * 4];
        blur(
            &mut img,
            16,
            16,
            &Blur::Box { radius: 2 },
            &mut Buffers::default(),
        );
        assert!(img.iter().all(|&v| v == 100));
    }
}
