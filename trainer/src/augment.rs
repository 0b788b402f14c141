//! Per-step augmentation of a reader's training images: each time a clock is drawn into a
//! batch it is turned, scaled and moved a little and its colours changed, by draws of its
//! own, so that a reader that has seen its training clocks several times still meets each in
//! a form it has not seen. Held-out clocks are never augmented.
//!
//! The image is kept as the model's letterboxed boxes ([`Resized`]) in 8 bits ([`Kept`]),
//! warped there and cut into crops ([`crate::preprocess::assemble_crops`]); the identity
//! draw gives the unaugmented input up to the 8-bit rounding.

use serde::{Deserialize, Serialize};

use crate::preprocess::{Resized, RgbF32, Tiling};
use crate::rng::Rng;

/// How far each draw may go (0 everywhere: no augmentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Turn the image about its centre by up to this many degrees either way.
    #[serde(default)]
    pub turn: f32,
    /// Scale it about its centre by a factor in `[1 - scale, 1 + scale]`.
    #[serde(default)]
    pub scale: f32,
    /// Move it by up to this fraction of its side along each axis.
    #[serde(default)]
    pub shift: f32,
    /// Change its colours: contrast about its mean grey by a factor in `[1 - colour,
    /// 1 + colour]`, brightness by up to `colour / 2`, each channel's gain by a factor in
    /// `[1 - colour / 2, 1 + colour / 2]`.
    #[serde(default)]
    pub colour: f32,
}

impl Augment {
    /// Whether no draw changes anything.
    #[must_use]
    pub fn is_none(&self) -> bool {
        *self == Augment::default()
    }

    /// Why these bounds cannot be drawn from, if they cannot.
    ///
    /// # Errors
    /// A bound that is not finite, negative, or past its range (turn 180°, scale below 1,
    /// shift and colour at most 1).
    pub fn check(&self) -> Result<(), String> {
        let bounds = [
            ("turn", self.turn, 180.0, true),
            ("scale", self.scale, 1.0, false),
            ("shift", self.shift, 1.0, true),
            ("colour", self.colour, 1.0, true),
        ];
        for (name, value, most, inclusive) in bounds {
            let within = if inclusive {
                value <= most
            } else {
                value < most
            };
            if !value.is_finite() || value < 0.0 || !within {
                let below = if inclusive { "at most" } else { "below" };
                return Err(format!(
                    "augmentation's {name} bound is {value}; it takes a number from 0 {below} {most}"
                ));
            }
        }
        Ok(())
    }

    /// One draw within these bounds.
    #[must_use]
    #[allow(clippy::cast_possible_truncation)]
    pub fn draw(&self, rng: &mut Rng) -> Draw {
        let mut either = |most: f32| (rng.unit() * 2.0 - 1.0) as f32 * most;
        Draw {
            turn: either(self.turn),
            scale: 1.0 + either(self.scale),
            shift: (either(self.shift), either(self.shift)),
            contrast: 1.0 + either(self.colour),
            brightness: either(self.colour / 2.0),
            gains: [
                1.0 + either(self.colour / 2.0),
                1.0 + either(self.colour / 2.0),
                1.0 + either(self.colour / 2.0),
            ],
        }
    }
}

/// One augmentation of one image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Draw {
    /// Degrees clockwise on screen, about the centre.
    pub turn: f32,
    /// Factor about the centre.
    pub scale: f32,
    /// Move right and down, as fractions of the width and height.
    pub shift: (f32, f32),
    /// Contrast factor about the image's mean grey.
    pub contrast: f32,
    /// Added to every value.
    pub brightness: f32,
    /// Each channel's factor.
    pub gains: [f32; 3],
}

impl Draw {
    /// The draw that changes nothing.
    #[must_use]
    pub fn identity() -> Draw {
        Draw {
            turn: 0.0,
            scale: 1.0,
            shift: (0.0, 0.0),
            contrast: 1.0,
            brightness: 0.0,
            gains: [1.0; 3],
        }
    }

    /// `image` augmented: both boxes warped alike (each relative to its own size), then
    /// their colours changed alike (about the high-resolution box's mean grey). Past the
    /// edges the warp repeats the edge pixels; the masks are warped with the pixels.
    #[must_use]
    pub fn apply(&self, image: &Resized) -> Resized {
        let (hi, hi_mask) = self.warp(&image.hi, &image.hi_mask);
        let (lo, lo_mask) = self.warp(&image.lo, &image.lo_mask);
        let grey = mean(&hi.data);
        Resized {
            tiling: image.tiling,
            hi: self.recolour(hi, grey),
            hi_mask,
            lo: self.recolour(lo, grey),
            lo_mask,
        }
    }

    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap
    )]
    fn warp(&self, image: &RgbF32, mask: &[f32]) -> (RgbF32, Vec<f32>) {
        let (w, h) = (image.width, image.height);
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        let (sin, cos) = self.turn.to_radians().sin_cos();
        let (tx, ty) = (self.shift.0 * w as f32, self.shift.1 * h as f32);
        let k = if self.scale > 0.0 { self.scale } else { 1.0 };
        let clamp = |v: i64, n: usize| v.clamp(0, n as i64 - 1) as usize;
        let mut data = vec![0.0f32; w * h * 3];
        let mut warped_mask = vec![0.0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                // The output pixel's offset from the centre, less the move, undone from
                // the scale and from the clockwise turn (y points down).
                let (u, v) = (
                    (x as f32 + 0.5 - cx - tx) / k,
                    (y as f32 + 0.5 - cy - ty) / k,
                );
                let sx = cx + u * cos + v * sin - 0.5;
                let sy = cy - u * sin + v * cos - 0.5;
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = (sx - x0, sy - y0);
                let (x0, y0) = (x0 as i64, y0 as i64);
                let (xa, xb) = (clamp(x0, w), clamp(x0 + 1, w));
                let (ya, yb) = (clamp(y0, h), clamp(y0 + 1, h));
                let corners = [
                    (ya * w + xa, (1.0 - fx) * (1.0 - fy)),
                    (ya * w + xb, fx * (1.0 - fy)),
                    (yb * w + xa, (1.0 - fx) * fy),
                    (yb * w + xb, fx * fy),
                ];
                let at = y * w + x;
                for (from, weight) in corners {
                    warped_mask[at] += mask[from] * weight;
                    for c in 0..3 {
                        data[at * 3 + c] += image.data[from * 3 + c] * weight;
                    }
                }
            }
        }
        let warped = RgbF32 {
            height: h,
            width: w,
            data,
        };
        (warped, warped_mask)
    }

    fn recolour(&self, mut image: RgbF32, grey: f32) -> RgbF32 {
        for (i, v) in image.data.iter_mut().enumerate() {
            let changed =
                ((*v - grey) * self.contrast + grey + self.brightness) * self.gains[i % 3];
            *v = changed.clamp(0.0, 1.0);
        }
        image
    }
}

#[allow(clippy::cast_precision_loss)]
fn mean(values: &[f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f32>() / values.len() as f32
}

/// A [`Resized`] image kept in 8 bits per value (a quarter of its f32 memory).
#[derive(Clone, Debug)]
pub struct Kept {
    tiling: Tiling,
    hi: (usize, usize, Vec<u8>),
    hi_mask: Vec<u8>,
    lo: (usize, usize, Vec<u8>),
    lo_mask: Vec<u8>,
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn to_u8(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect()
}

fn from_u8(values: &[u8]) -> Vec<f32> {
    values.iter().map(|&b| f32::from(b) / 255.0).collect()
}

impl Kept {
    /// `image` in 8 bits (each value rounded to the nearest 255th).
    #[must_use]
    pub fn keep(image: &Resized) -> Kept {
        Kept {
            tiling: image.tiling,
            hi: (image.hi.width, image.hi.height, to_u8(&image.hi.data)),
            hi_mask: to_u8(&image.hi_mask),
            lo: (image.lo.width, image.lo.height, to_u8(&image.lo.data)),
            lo_mask: to_u8(&image.lo_mask),
        }
    }

    /// The kept image back in f32.
    #[must_use]
    pub fn restore(&self) -> Resized {
        let rgb = |(width, height, data): &(usize, usize, Vec<u8>)| RgbF32 {
            height: *height,
            width: *width,
            data: from_u8(data),
        };
        Resized {
            tiling: self.tiling,
            hi: rgb(&self.hi),
            hi_mask: from_u8(&self.hi_mask),
            lo: rgb(&self.lo),
            lo_mask: from_u8(&self.lo_mask),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::Tiling;

    /// A `side` px grey image with a bright 3 px block centred `at` pixels from its centre
    /// pixel (an odd `side` puts that pixel's centre on the image's).
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_wrap)]
    fn block(side: usize, at: (i64, i64)) -> RgbF32 {
        let c = (side / 2) as i64;
        let mut data = vec![0.3f32; side * side * 3];
        for y in 0..side as i64 {
            for x in 0..side as i64 {
                if (x - c - at.0).abs() <= 1 && (y - c - at.1).abs() <= 1 {
                    let i = (y as usize * side + x as usize) * 3;
                    data[i..i + 3].copy_from_slice(&[0.9, 0.8, 0.7]);
                }
            }
        }
        RgbF32 {
            height: side,
            width: side,
            data,
        }
    }

    fn resized(hi: RgbF32, lo: RgbF32) -> Resized {
        let (hn, ln) = (hi.width * hi.height, lo.width * lo.height);
        Resized {
            tiling: Tiling { rows: 2, cols: 2 },
            hi,
            hi_mask: vec![1.0; hn],
            lo,
            lo_mask: vec![1.0; ln],
        }
    }

    /// Where the bright block's pixels are on average, as an offset from the centre pixel
    /// (rounded).
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    fn brightest(image: &RgbF32) -> (i64, i64) {
        let (w, c) = (image.width, (image.width / 2) as f32);
        let bright: Vec<usize> = (0..image.width * image.height)
            .filter(|&i| image.data[i * 3] > 0.6)
            .collect();
        assert!(!bright.is_empty(), "no bright block left");
        let n = bright.len() as f32;
        let x = bright.iter().map(|i| (i % w) as f32).sum::<f32>() / n;
        let y = bright.iter().map(|i| (i / w) as f32).sum::<f32>() / n;
        ((x - c).round() as i64, (y - c).round() as i64)
    }

    /// The largest difference between `a` and `b`, value by value.
    fn worst(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    }

    #[test]
    fn the_identity_draw_changes_nothing() {
        let image = resized(block(24, (5, -7)), block(16, (3, -5)));
        let same = Draw::identity().apply(&image);
        for (a, b) in [(&image.hi, &same.hi), (&image.lo, &same.lo)] {
            let worst = worst(&a.data, &b.data);
            assert!(worst < 1e-5, "{worst}");
        }
        assert_eq!(same.hi_mask, image.hi_mask);
        assert_eq!(same.lo_mask, image.lo_mask);
    }

    /// Clockwise on screen (y down): what was above the centre goes to its right, in both
    /// boxes, each at its own scale; a move goes right and down; a scale moves away from
    /// the centre.
    #[test]
    fn a_turn_goes_clockwise_a_move_right_and_down_a_scale_outward() {
        let image = resized(block(33, (0, -8)), block(17, (0, -4)));
        let turned = Draw {
            turn: 90.0,
            ..Draw::identity()
        }
        .apply(&image);
        assert_eq!(brightest(&turned.hi), (8, 0));
        assert_eq!(brightest(&turned.lo), (4, 0));
        let moved = Draw {
            shift: (0.25, 0.125),
            ..Draw::identity()
        }
        .apply(&image);
        assert_eq!(brightest(&moved.hi), (8, -4));
        assert_eq!(brightest(&moved.lo), (4, -2));
        let scaled = Draw {
            scale: 1.5,
            ..Draw::identity()
        }
        .apply(&image);
        assert_eq!(brightest(&scaled.hi), (0, -12));
    }

    #[test]
    fn colours_change_by_contrast_brightness_and_gains_and_stay_in_range() {
        let image = resized(block(8, (0, 0)), block(8, (0, 0)));
        let grey = mean(&image.hi.data);
        let draw = Draw {
            contrast: 1.5,
            brightness: 0.05,
            gains: [1.1, 1.0, 0.5],
            ..Draw::identity()
        };
        let out = draw.apply(&image);
        for (i, (v, was)) in out.hi.data.iter().zip(&image.hi.data).enumerate() {
            let want = ((was - grey) * 1.5 + grey + 0.05) * draw.gains[i % 3];
            assert!((v - want.clamp(0.0, 1.0)).abs() < 1e-5, "{i}: {v} {want}");
        }
        let strong = Draw {
            contrast: 9.0,
            brightness: 0.5,
            ..Draw::identity()
        };
        let out = strong.apply(&image);
        assert!(out.hi.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn draws_stay_within_their_bounds_and_spread_over_them() {
        let bounds = Augment {
            turn: 10.0,
            scale: 0.1,
            shift: 0.05,
            colour: 0.2,
        };
        let mut rng = Rng::new(7);
        let draws: Vec<Draw> = (0..2000).map(|_| bounds.draw(&mut rng)).collect();
        let spread = |f: &dyn Fn(&Draw) -> f32, most: f32| {
            let values: Vec<f32> = draws.iter().map(f).collect();
            let (lo, hi) = values
                .iter()
                .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
            assert!(lo >= -most && hi <= most, "{lo}..{hi} past ±{most}");
            assert!(
                lo < -0.9 * most && hi > 0.9 * most,
                "{lo}..{hi} short of ±{most}"
            );
        };
        spread(&|d| d.turn, 10.0);
        spread(&|d| d.scale - 1.0, 0.1);
        spread(&|d| d.shift.0, 0.05);
        spread(&|d| d.shift.1, 0.05);
        spread(&|d| d.contrast - 1.0, 0.2);
        spread(&|d| d.brightness, 0.1);
        spread(&|d| d.gains[2] - 1.0, 0.1);
        let none = Augment::default();
        assert!(none.is_none());
        assert_eq!(none.draw(&mut rng), Draw::identity());
    }

    #[test]
    fn bounds_past_their_range_are_refused_with_the_bound_named() {
        assert!(Augment::default().check().is_ok());
        for (bad, name) in [
            (
                Augment {
                    turn: f32::NAN,
                    ..Augment::default()
                },
                "turn",
            ),
            (
                Augment {
                    turn: 181.0,
                    ..Augment::default()
                },
                "turn",
            ),
            (
                Augment {
                    scale: 1.0,
                    ..Augment::default()
                },
                "scale",
            ),
            (
                Augment {
                    shift: -0.1,
                    ..Augment::default()
                },
                "shift",
            ),
            (
                Augment {
                    colour: f32::INFINITY,
                    ..Augment::default()
                },
                "colour",
            ),
        ] {
            let why = bad.check().expect_err("refused");
            assert!(why.contains(name), "{why}");
        }
    }

    #[test]
    fn a_kept_image_comes_back_within_a_255th() {
        let image = resized(block(24, (2, 3)), block(16, (1, 2)));
        let back = Kept::keep(&image).restore();
        assert_eq!(back.tiling, image.tiling);
        for (a, b) in [(&image.hi, &back.hi), (&image.lo, &back.lo)] {
            assert_eq!((a.width, a.height), (b.width, b.height));
            let worst = worst(&a.data, &b.data);
            assert!(worst <= 0.5 / 255.0 + 1e-6, "{worst}");
        }
        assert_eq!(back.hi_mask, image.hi_mask);
    }
}
