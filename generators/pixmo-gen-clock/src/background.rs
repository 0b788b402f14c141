//! Procedural backgrounds painted straight into the output buffer.
//!
//! Expensive smooth fields (fractal noise) are evaluated on a coarse grid and interpolated;
//! sharp patterns (stripes, bricks, wood rings) are evaluated per pixel with cheap arithmetic.
//! Pixel `(x, y)` of the output shows the scene plane at `(x + ox + 0.5, y + oy + 0.5)`.

use crate::color::Color;
use crate::geometry::sin_cos_deg;
use crate::rng::{Rng, hash2};
use crate::scene::Background;

/// `floor` for the coordinate ranges used here, without a libm call.
#[inline]
fn floor(x: f32) -> f32 {
    crate::augment::ifloor(x) as f32
}

#[inline]
fn unit_hash(x: i32, y: i32, seed: u32) -> f32 {
    (hash2(x as u32, y as u32, seed) >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Smooth value noise in `[0, 1)`.
fn value_noise(x: f32, y: f32, seed: u32) -> f32 {
    let (xf, yf) = (floor(x), floor(y));
    let (ix, iy) = (xf as i32, yf as i32);
    let (fx, fy) = (x - xf, y - yf);
    let sx = fx * fx * (3.0 - 2.0 * fx);
    let sy = fy * fy * (3.0 - 2.0 * fy);
    let a = unit_hash(ix, iy, seed);
    let b = unit_hash(ix + 1, iy, seed);
    let c = unit_hash(ix, iy + 1, seed);
    let d = unit_hash(ix + 1, iy + 1, seed);
    let top = a + (b - a) * sx;
    let bot = c + (d - c) * sx;
    top + (bot - top) * sy
}

/// Four octaves of value noise, normalised to about `[0, 1]`.
fn fbm(x: f32, y: f32, seed: u32) -> f32 {
    let mut sum = 0.0;
    let mut amp = 0.5;
    let mut f = 1.0;
    for o in 0..4u32 {
        sum += amp * value_noise(x * f, y * f, seed.wrapping_add(o.wrapping_mul(0x9e37)));
        f *= 2.03;
        amp *= 0.5;
    }
    sum / 0.9375
}

/// A smooth field sampled every `step` pixels and interpolated bilinearly.
struct Coarse {
    data: Vec<f32>,
    gw: usize,
    step: f32,
}

impl Coarse {
    /// `step` is in buffer pixels; `g` maps buffer pixels to scene pixels.
    fn new(g: &Grid, step: f32, f: impl Fn(f32, f32) -> f32) -> Coarse {
        let gw = (g.w as f32 / step).ceil() as usize + 2;
        let gh = (g.h as f32 / step).ceil() as usize + 2;
        let mut data = Vec::with_capacity(gw * gh);
        for j in 0..gh {
            for i in 0..gw {
                let (x, y) = g.scene(i as f32 * step, j as f32 * step);
                data.push(f(x, y));
            }
        }
        Coarse { data, gw, step }
    }

    #[inline]
    fn at(&self, x: u32, y: u32) -> f32 {
        let gx = x as f32 / self.step;
        let gy = y as f32 / self.step;
        let (i, j) = (gx as usize, gy as usize);
        let (fx, fy) = (gx - i as f32, gy - j as f32);
        let k = j * self.gw + i;
        let a = self.data[k];
        let b = self.data[k + 1];
        let c = self.data[k + self.gw];
        let d = self.data[k + self.gw + 1];
        let top = a + (b - a) * fx;
        let bot = c + (d - c) * fx;
        top + (bot - top) * fy
    }
}

#[inline]
fn lerp3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn rgb(c: Color) -> [f32; 3] {
    [f32::from(c.r), f32::from(c.g), f32::from(c.b)]
}

#[inline]
fn put(buf: &mut [u8], i: usize, c: [f32; 3]) {
    buf[i] = c[0].clamp(0.0, 255.0) as u8;
    buf[i + 1] = c[1].clamp(0.0, 255.0) as u8;
    buf[i + 2] = c[2].clamp(0.0, 255.0) as u8;
    buf[i + 3] = 255;
}

/// Buffer pixels to scene pixels: buffer pixel `(x, y)` has its centre at scene point
/// `(ox + (x + 0.5) * step, oy + (y + 0.5) * step)`.
struct Grid {
    w: u32,
    h: u32,
    ox: f32,
    oy: f32,
    step: f32,
}

impl Grid {
    #[inline]
    fn scene(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.ox + (x + 0.5) * self.step,
            self.oy + (y + 0.5) * self.step,
        )
    }
}

fn each(buf: &mut [u8], g: &Grid, mut f: impl FnMut(u32, u32, f32, f32) -> [f32; 3]) {
    for y in 0..g.h {
        let sy = g.oy + (y as f32 + 0.5) * g.step;
        let row = (y * g.w) as usize * 4;
        for x in 0..g.w {
            let sx = g.ox + (x as f32 + 0.5) * g.step;
            let c = f(x, y, sx, sy);
            put(buf, row + x as usize * 4, c);
        }
    }
}

/// Fills `buf` (`w x h` RGBA, row-major) with the background. Everything but flat colours is
/// evaluated at half resolution and upsampled bilinearly (a touch of depth-of-field softness,
/// a quarter of the per-pixel work).
#[allow(clippy::too_many_arguments)]
pub(crate) fn paint(
    bg: &Background,
    buf: &mut [u8],
    w: u32,
    h: u32,
    ox: f32,
    oy: f32,
    size: u32,
    half: &mut Vec<u8>,
) {
    if let Background::Flat { color } = bg {
        let px = [color.r, color.g, color.b, 255];
        for chunk in buf.chunks_exact_mut(4) {
            chunk.copy_from_slice(&px);
        }
        return;
    }
    let g = Grid {
        w: w / 2 + 2,
        h: h / 2 + 2,
        ox,
        oy,
        step: 2.0,
    };
    half.clear();
    half.resize((g.w * g.h * 4) as usize, 0);
    paint_grid(bg, half, &g, size);
    upsample2(half, g.w, g.h, buf, w, h);
}

/// Bilinear 2x upsampling of an opaque RGBA buffer (`sw x sh`) into `dst` (`w x h`):
/// output centre `y + 0.5` sits at source index `(y - 0.5) / 2`, so weights alternate
/// between 1/4 and 3/4 (clamped at the top and left edges). A 1/4-3/4 blend is
/// `(3a + b) >> 2` per channel (the same value as `lerp_px(a, b, 64)`), computed bytewise:
/// the vertical pass is a plain loop over bytes that the compiler vectorises.
fn upsample2(src: &[u8], sw: u32, sh: u32, dst: &mut [u8], w: u32, h: u32) {
    let (sw, sh) = (sw as usize, sh as usize);
    let near_far = |a: u8, b: u8| ((3 * u16::from(a) + u16::from(b)) >> 2) as u8;
    let mut line = vec![0u8; sw * 4];
    let mut line32 = vec![0u32; sw];
    for (y, out) in dst
        .chunks_exact_mut(w as usize * 4)
        .enumerate()
        .take(h as usize)
    {
        // Rows j0 and j0 + 1 with weight 1/4 (odd y) or 3/4 (even y) on j0 + 1.
        let (j0, far_first) = match (y % 2, y) {
            (_, 0) => (0, None),
            (0, _) => (y / 2 - 1, Some(false)),
            _ => (y / 2, Some(true)),
        };
        let r0 = &src[j0.min(sh - 1) * sw * 4..][..sw * 4];
        let r1 = &src[(j0 + 1).min(sh - 1) * sw * 4..][..sw * 4];
        match far_first {
            None => line.copy_from_slice(r0),
            Some(true) => {
                for ((l, a), b) in line.iter_mut().zip(r0).zip(r1) {
                    *l = near_far(*a, *b);
                }
            }
            Some(false) => {
                for ((l, a), b) in line.iter_mut().zip(r0).zip(r1) {
                    *l = near_far(*b, *a);
                }
            }
        }
        // Output pixel 0 copies source 0; then pixels 2i+1 and 2i+2 sit between sources i
        // and i+1 at 1/4 and 3/4, two channels at a time in 16-bit lanes of a `u32`.
        for (p, bytes) in line32.iter_mut().zip(line.chunks_exact(4)) {
            *p = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let Some((first, rest)) = out.split_first_chunk_mut::<4>() else {
            continue;
        };
        *first = (line32[0] | 0xff00_0000).to_le_bytes();
        let px = |i: usize| line32[i.min(sw - 1)];
        let mut pairs = rest.chunks_exact_mut(8);
        let mut i = 0;
        for o in &mut pairs {
            let (a, b) = (px(i), px(i + 1));
            o[..4].copy_from_slice(&(quarter(a, b) | 0xff00_0000).to_le_bytes());
            o[4..].copy_from_slice(&(quarter(b, a) | 0xff00_0000).to_le_bytes());
            i += 1;
        }
        let tail = pairs.into_remainder();
        if !tail.is_empty() {
            tail.copy_from_slice(&(quarter(px(i), px(i + 1)) | 0xff00_0000).to_le_bytes());
        }
    }
}

/// `(3a + b) >> 2` per channel of two packed pixels (a quarter of the way from `a` to `b`;
/// the same value as `lerp_px(a, b, 64)`), two channels per 16-bit lane pair.
#[inline(always)]
fn quarter(a: u32, b: u32) -> u32 {
    const LOW: u32 = 0x00ff_00ff;
    let rb = (((a & LOW) * 3 + (b & LOW)) >> 2) & LOW;
    let ag = ((((a >> 8) & LOW) * 3 + ((b >> 8) & LOW)) << 6) & !LOW;
    rb | ag
}

fn paint_grid(bg: &Background, buf: &mut [u8], g: &Grid, size: u32) {
    let pw = g.step;
    let s = size.max(1) as f32;
    match bg {
        Background::Flat { color } => each(buf, g, |_, _, _, _| rgb(*color)),
        Background::LinearGradient {
            from,
            to,
            angle_deg,
        } => {
            let (sn, cs) = sin_cos_deg(f64::from(*angle_deg));
            let (sn, cs) = (sn as f32, cs as f32);
            let (a, b) = (rgb(*from), rgb(*to));
            let half = 0.5 * s * (sn.abs() + cs.abs());
            each(buf, g, |_, _, x, y| {
                let u = (x - 0.5 * s) * cs + (y - 0.5 * s) * sn;
                lerp3(a, b, (u / (2.0 * half) + 0.5).clamp(0.0, 1.0))
            });
        }
        Background::RadialGradient { inner, outer } => {
            let (a, b) = (rgb(*inner), rgb(*outer));
            let r = 0.75 * s;
            each(buf, g, |_, _, x, y| {
                let (dx, dy) = (x - 0.5 * s, y - 0.5 * s);
                lerp3(a, b, ((dx * dx + dy * dy).sqrt() / r).min(1.0))
            });
        }
        Background::Stripes {
            a,
            b,
            period,
            angle_deg,
        } => {
            let (sn, cs) = sin_cos_deg(f64::from(*angle_deg));
            let (sn, cs) = (sn as f32, cs as f32);
            let (ca, cb) = (rgb(*a), rgb(*b));
            let p = period.max(2.0);
            each(buf, g, |_, _, x, y| {
                let u = (x * cs + y * sn) / p;
                let t = u - floor(u);
                // Distance (pixels) to the nearest stripe edge at t = 0, 0.5, 1.
                let d = (t.min((t - 0.5).abs()).min(1.0 - t)) * p;
                let inside_a = t < 0.5;
                let m = (d / pw + 0.5).clamp(0.0, 1.0);
                let (near, far) = if inside_a { (ca, cb) } else { (cb, ca) };
                lerp3(far, near, 0.5 + 0.5 * m)
            });
        }
        Background::Checker {
            a,
            b,
            cell,
            angle_deg,
        } => {
            let (sn, cs) = sin_cos_deg(f64::from(*angle_deg));
            let (sn, cs) = (sn as f32, cs as f32);
            let (ca, cb) = (rgb(*a), rgb(*b));
            let c = cell.max(2.0);
            each(buf, g, |_, _, x, y| {
                let u = (x * cs + y * sn) / c;
                let v = (-x * sn + y * cs) / c;
                let parity = (floor(u) as i64 + floor(v) as i64) & 1;
                if parity == 0 { ca } else { cb }
            });
        }
        Background::Dots {
            base,
            dot,
            spacing,
            radius,
        } => {
            let (cb, cd) = (rgb(*base), rgb(*dot));
            let sp = spacing.max(3.0);
            let r = *radius;
            each(buf, g, |_, _, x, y| {
                let row = floor(y / sp);
                let shift = if (row as i64) & 1 == 1 { 0.5 * sp } else { 0.0 };
                let fx = (x + shift) / sp;
                let dx = (fx - floor(fx) - 0.5) * sp;
                let dy = (y / sp - row - 0.5) * sp;
                let d = (dx * dx + dy * dy).sqrt();
                lerp3(cd, cb, ((d - r) / pw + 0.5).clamp(0.0, 1.0))
            });
        }
        Background::Noise { a, b, scale, seed } => {
            let (ca, cb) = (rgb(*a), rgb(*b));
            let sc = scale.max(2.0);
            let step = (sc / 3.0 / pw).clamp(1.0, 8.0);
            let field = Coarse::new(g, step, |x, y| fbm(x / sc, y / sc, *seed));
            let grain_seed = seed.wrapping_mul(31);
            each(buf, g, |px, py, _, _| {
                let t = field.at(px, py);
                let g = (unit_hash(px as i32, py as i32, grain_seed) - 0.5) * 14.0;
                let c = lerp3(ca, cb, ((t - 0.5) * 1.6 + 0.5).clamp(0.0, 1.0));
                [c[0] + g, c[1] + g, c[2] + g]
            });
        }
        Background::Wood {
            light,
            dark,
            ring,
            angle_deg,
            seed,
        } => {
            let (sn, cs) = sin_cos_deg(f64::from(*angle_deg));
            let (sn, cs) = (sn as f32, cs as f32);
            let (cl, cd) = (rgb(*light), rgb(*dark));
            let ring = ring.max(3.0);
            let warp = Coarse::new(g, 4.0, |x, y| {
                let u = x * cs + y * sn;
                let v = -x * sn + y * cs;
                2.2 * fbm(u / (9.0 * ring), v / (2.5 * ring), *seed)
            });
            let grain_seed = seed.wrapping_add(17);
            each(buf, g, |px, py, x, y| {
                let u = x * cs + y * sn;
                let v = -x * sn + y * cs;
                let wv = v / ring + warp.at(px, py);
                let t = 1.0 - 2.0 * (wv - floor(wv) - 0.5).abs();
                let t = t * t;
                let streak = unit_hash(floor(v * 0.7) as i32, floor(u / 40.0) as i32, grain_seed);
                let c = lerp3(cl, cd, (0.75 * t + 0.25 * streak).clamp(0.0, 1.0));
                let g = (unit_hash(px as i32, py as i32, grain_seed ^ 0x55) - 0.5) * 8.0;
                [c[0] + g, c[1] + g, c[2] + g]
            });
        }
        Background::Plaster {
            base,
            strength,
            seed,
        } => {
            let cb = rgb(*base);
            let sc = 0.25 * s;
            let field = Coarse::new(g, 8.0, |x, y| fbm(x / sc, y / sc, *seed));
            let st = *strength;
            each(buf, g, |px, py, _, _| {
                let t = field.at(px, py) - 0.5;
                let g = unit_hash(px as i32, py as i32, *seed ^ 0xabcd) - 0.5;
                let k = 1.0 + st * (1.2 * t + 0.6 * g);
                [cb[0] * k, cb[1] * k, cb[2] * k]
            });
        }
        Background::Bricks {
            brick,
            mortar,
            height,
            seed,
        } => {
            let (cb, cm) = (rgb(*brick), rgb(*mortar));
            let bh = height.max(4.0);
            let bw = 2.2 * bh;
            let m = (0.12 * bh).max(1.0);
            each(buf, g, |px, py, x, y| {
                let row = floor(y / bh);
                let shift = if (row as i64) & 1 == 1 { 0.5 * bw } else { 0.0 };
                let col = floor((x + shift) / bw);
                let fy = y - row * bh;
                let fx = x + shift - col * bw;
                let edge = fy.min(bh - fy).min(fx).min(bw - fx);
                let tone = 0.85 + 0.3 * unit_hash(col as i32, row as i32, *seed);
                let g = (unit_hash(px as i32, py as i32, *seed ^ 0x77) - 0.5) * 16.0;
                let b = [cb[0] * tone + g, cb[1] * tone + g, cb[2] * tone + g];
                lerp3(cm, b, ((edge - m) / pw + 0.5).clamp(0.0, 1.0))
            });
        }
        Background::Bokeh {
            from,
            to,
            count,
            seed,
        } => {
            let (a, b) = (rgb(*from), rgb(*to));
            each(buf, g, |_, _, _, y| lerp3(a, b, (y / s).clamp(0.0, 1.0)));
            let mut rng = Rng::new(u64::from(*seed));
            for _ in 0..(*count).min(64) {
                let cx = (rng.range_f32(0.0, s) - g.ox) / pw;
                let cy = (rng.range_f32(0.0, s) - g.oy) / pw;
                let r = rng.range_f32(0.03, 0.12) * s / pw;
                let alpha = rng.range_f32(0.12, 0.4);
                let col = Color::hsv(rng.range_f64(0.0, 360.0), 0.5, 1.0);
                blob(buf, g.w, g.h, cx, cy, r, alpha, rgb(col));
            }
        }
    }
}

/// A soft disc blended over the buffer.
#[allow(clippy::too_many_arguments)]
fn blob(buf: &mut [u8], w: u32, h: u32, cx: f32, cy: f32, r: f32, alpha: f32, c: [f32; 3]) {
    let x0 = floor(cx - r).max(0.0) as u32;
    let y0 = floor(cy - r).max(0.0) as u32;
    let x1 = ((cx + r).ceil().max(0.0) as u32).min(w);
    let y1 = ((cy + r).ceil().max(0.0) as u32).min(h);
    for y in y0..y1 {
        for x in x0..x1 {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let d = (dx * dx + dy * dy).sqrt();
            let edge = ((r - d) / (0.15 * r)).clamp(0.0, 1.0);
            let a = alpha * edge;
            if a <= 0.0 {
                continue;
            }
            let i = (y * w + x) as usize * 4;
            for ch in 0..3 {
                let v = f32::from(buf[i + ch]);
                buf[i + ch] = (v + (c[ch] - v) * a).clamp(0.0, 255.0) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarter_is_a_quarter_lerp() {
        let mut rng = Rng::new(9);
        for _ in 0..10_000 {
            let (a, b) = (rng.next_u64() as u32, rng.next_u64() as u32);
            assert_eq!(quarter(a, b), crate::augment::lerp_px(a, b, 64));
        }
    }
}
