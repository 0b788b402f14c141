//! [`SceneSpec`]: where the watch sits in the image, what is behind it, and how the final
//! raster is degraded (rotation, perspective, crop, blur, lighting, noise).

use serde::{Deserialize, Serialize};

use crate::color::Color;
use crate::rng::Rng;

/// A procedural background, evaluated in scene pixels (the `size x size` plane before the
/// crop).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Background {
    Flat {
        color: Color,
    },
    LinearGradient {
        from: Color,
        to: Color,
        angle_deg: f32,
    },
    RadialGradient {
        inner: Color,
        outer: Color,
    },
    Stripes {
        a: Color,
        b: Color,
        /// Stripe period in pixels.
        period: f32,
        angle_deg: f32,
    },
    Checker {
        a: Color,
        b: Color,
        /// Cell side in pixels.
        cell: f32,
        angle_deg: f32,
    },
    Dots {
        base: Color,
        dot: Color,
        spacing: f32,
        radius: f32,
    },
    /// Fractal value noise between two colours (fabric, stone, concrete).
    Noise {
        a: Color,
        b: Color,
        /// Feature size in pixels.
        scale: f32,
        seed: u32,
    },
    /// A wooden table top.
    Wood {
        light: Color,
        dark: Color,
        /// Ring spacing in pixels.
        ring: f32,
        angle_deg: f32,
        seed: u32,
    },
    /// A painted wall.
    Plaster {
        base: Color,
        strength: f32,
        seed: u32,
    },
    /// A brick wall.
    Bricks {
        brick: Color,
        mortar: Color,
        /// Brick height in pixels (width is about 2.2x).
        height: f32,
        seed: u32,
    },
    /// Soft out-of-focus light blobs over a gradient.
    Bokeh {
        from: Color,
        to: Color,
        count: u32,
        seed: u32,
    },
}

/// A soft drop shadow of the watch on the background.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Shadow {
    /// Offset as a fraction of the watch canvas side.
    pub dx: f32,
    pub dy: f32,
    pub opacity: f32,
}

/// A crop window in scene pixels; the output image is this size.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Optical blur of the final image.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Blur {
    None,
    /// One separable box filter of this radius (pixels).
    Box {
        radius: u32,
    },
    /// Gaussian approximated by three box filters.
    Gaussian {
        sigma: f32,
    },
}

/// Global tone changes, applied per channel through a lookup table, then a vignette.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lighting {
    /// Added to values in `[0, 1]`.
    pub brightness: f32,
    /// Scale about mid-grey.
    pub contrast: f32,
    /// Output = input^(1/gamma).
    pub gamma: f32,
    /// Per-channel multipliers (colour cast).
    pub cast: [f32; 3],
    /// Darkening at the corners, `0` = none.
    pub vignette: f32,
}

impl Lighting {
    pub const NEUTRAL: Lighting = Lighting {
        brightness: 0.0,
        contrast: 1.0,
        gamma: 1.0,
        cast: [1.0, 1.0, 1.0],
        vignette: 0.0,
    };

    pub fn is_neutral(&self) -> bool {
        *self == Lighting::NEUTRAL
    }
}

/// Additive sensor-like noise.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    /// Standard deviation in 8-bit levels; `0` = none.
    pub sigma: f32,
    /// Same noise on all channels.
    pub monochrome: bool,
    pub seed: u32,
}

/// The whole scene: background, placement of the watch, and augmentation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SceneSpec {
    /// Side of the square scene plane in pixels (the output size when there is no crop).
    pub size: u32,
    pub background: Background,
    /// Side of the watch canvas relative to `size` (the case of a wristwatch spans about 0.66
    /// of its canvas, a wall clock nearly all of it).
    pub watch_scale: f32,
    /// Dial centre as fractions of `size`.
    pub center: (f32, f32),
    /// In-plane rotation of the watch, degrees clockwise.
    pub rotation_deg: f32,
    /// Perspective: rotation of the watch plane about the horizontal axis (degrees).
    pub tilt_x_deg: f32,
    /// Perspective: rotation of the watch plane about the vertical axis (degrees).
    pub tilt_y_deg: f32,
    /// Camera distance for the perspective, relative to `size`.
    pub focal: f32,
    pub shadow: Option<Shadow>,
    pub crop: Option<Crop>,
    pub blur: Blur,
    pub lighting: Lighting,
    pub noise: Noise,
    /// Advisory JPEG quality for the encoder; the renderer itself never compresses (JPEG
    /// artefacts are left to the pipeline's encoder).
    pub jpeg_quality: Option<u8>,
}

fn q(x: f64) -> f32 {
    ((x * 1000.0).round() / 1000.0) as f32
}

impl SceneSpec {
    /// A plain centred scene with no augmentation: light grey background, watch canvas
    /// filling the image.
    pub fn none(size: u32) -> SceneSpec {
        SceneSpec {
            size,
            background: Background::Flat {
                color: Color::rgb(236, 236, 232),
            },
            watch_scale: 1.0,
            center: (0.5, 0.5),
            rotation_deg: 0.0,
            tilt_x_deg: 0.0,
            tilt_y_deg: 0.0,
            focal: 2.0,
            shadow: None,
            crop: None,
            blur: Blur::None,
            lighting: Lighting::NEUTRAL,
            noise: Noise {
                sigma: 0.0,
                monochrome: true,
                seed: 0,
            },
            jpeg_quality: None,
        }
    }

    /// A random scene of this size from a seed.
    pub fn sample(seed: u64, size: u32) -> SceneSpec {
        let mut rng = Rng::with_domain(seed, "pixmo-gen-clock/scene");
        let s = f64::from(size.max(1));
        let background = sample_background(&mut rng, s);
        let watch_scale = rng.range_f64(0.6, 1.12);
        let margin = (0.5 - 0.4 * watch_scale).max(0.0);
        let center = (
            q(0.5 + rng.range_f64(-margin, margin)),
            q(0.5 + rng.range_f64(-margin, margin)),
        );
        let rotation_deg = match rng.weighted(&[0.55, 0.35, 0.1]) {
            0 => rng.range_f64(-8.0, 8.0),
            1 => rng.range_f64(-35.0, 35.0),
            _ => rng.range_f64(-180.0, 180.0),
        };
        let (tilt_x_deg, tilt_y_deg) = if rng.bool(0.5) {
            (rng.range_f64(-30.0, 30.0), rng.range_f64(-30.0, 30.0))
        } else {
            (0.0, 0.0)
        };
        let shadow = rng.bool(0.6).then(|| Shadow {
            dx: q(rng.range_f64(-0.03, 0.03)),
            dy: q(rng.range_f64(0.005, 0.04)),
            opacity: q(rng.range_f64(0.2, 0.5)),
        });
        let crop = rng.bool(0.25).then(|| {
            let w = (s * rng.range_f64(0.7, 1.0)).round().max(1.0) as u32;
            let h = (s * rng.range_f64(0.7, 1.0)).round().max(1.0) as u32;
            // Keep the dial centre inside, at least 15% from each crop edge.
            let (cx, cy) = (f64::from(center.0) * s, f64::from(center.1) * s);
            let pick = |rng: &mut Rng, c: f64, len: u32| {
                let len = f64::from(len);
                let lo = (c - 0.85 * len).max(0.0);
                let hi = (c - 0.15 * len).min(s - len).max(lo);
                rng.range_f64(lo, hi).round() as u32
            };
            let x = pick(&mut rng, cx, w);
            let y = pick(&mut rng, cy, h);
            Crop {
                x,
                y,
                width: w,
                height: h,
            }
        });
        let blur = match rng.weighted(&[0.6, 0.25, 0.15]) {
            0 => Blur::None,
            1 => Blur::Box {
                radius: rng.range_u32(1, 3),
            },
            _ => Blur::Gaussian {
                sigma: q(rng.range_f64(0.5, 1.6)),
            },
        };
        let cast = if rng.bool(0.5) {
            [
                q(rng.range_f64(0.92, 1.08)),
                q(rng.range_f64(0.92, 1.08)),
                q(rng.range_f64(0.92, 1.08)),
            ]
        } else {
            [1.0; 3]
        };
        let lighting = Lighting {
            brightness: q(rng.normal(0.0, 0.05).clamp(-0.15, 0.15)),
            contrast: q(rng.range_f64(0.8, 1.2)),
            gamma: q(rng.range_f64(0.8, 1.25)),
            cast,
            vignette: if rng.bool(0.5) {
                q(rng.range_f64(0.05, 0.45))
            } else {
                0.0
            },
        };
        let noise = Noise {
            sigma: if rng.bool(0.5) {
                q(rng.range_f64(1.0, 8.0))
            } else {
                0.0
            },
            monochrome: rng.bool(0.5),
            seed: rng.next_u64() as u32,
        };
        SceneSpec {
            size,
            background,
            watch_scale: q(watch_scale),
            center,
            rotation_deg: q(rotation_deg),
            tilt_x_deg: q(tilt_x_deg),
            tilt_y_deg: q(tilt_y_deg),
            focal: 2.0,
            shadow,
            crop,
            blur,
            lighting,
            noise,
            jpeg_quality: rng.bool(0.5).then(|| rng.range_u32(60, 96) as u8),
        }
    }

    /// Output width and height.
    pub fn output_size(&self) -> (u32, u32) {
        match self.crop {
            Some(c) => (c.width, c.height),
            None => (self.size, self.size),
        }
    }
}

fn any_color(rng: &mut Rng) -> Color {
    Color::hsv(
        rng.range_f64(0.0, 360.0),
        rng.range_f64(0.0, 0.7),
        rng.range_f64(0.15, 0.95),
    )
}

fn sample_background(rng: &mut Rng, s: f64) -> Background {
    let seed = rng.next_u64() as u32;
    match rng.weighted(&[1.0, 1.2, 0.8, 0.6, 0.5, 0.4, 1.2, 1.4, 1.0, 0.6, 0.8]) {
        0 => Background::Flat {
            color: any_color(rng),
        },
        1 => {
            let from = any_color(rng);
            Background::LinearGradient {
                from,
                to: if rng.bool(0.5) {
                    any_color(rng)
                } else {
                    from.darken(0.5)
                },
                angle_deg: q(rng.range_f64(0.0, 360.0)),
            }
        }
        2 => {
            let inner = any_color(rng);
            Background::RadialGradient {
                inner,
                outer: inner.darken(rng.range_f64(0.3, 0.8)),
            }
        }
        3 => {
            let a = any_color(rng);
            Background::Stripes {
                a,
                b: if rng.bool(0.5) {
                    any_color(rng)
                } else {
                    a.lighten(0.3)
                },
                period: q(s * rng.range_f64(0.03, 0.15)),
                angle_deg: q(rng.range_f64(0.0, 180.0)),
            }
        }
        4 => {
            let a = any_color(rng);
            Background::Checker {
                a,
                b: if rng.bool(0.5) {
                    any_color(rng)
                } else {
                    a.darken(0.35)
                },
                cell: q(s * rng.range_f64(0.04, 0.15)),
                angle_deg: q(rng.range_f64(0.0, 90.0)),
            }
        }
        5 => {
            let spacing = s * rng.range_f64(0.04, 0.1);
            Background::Dots {
                base: any_color(rng),
                dot: any_color(rng),
                spacing: q(spacing),
                radius: q(spacing * rng.range_f64(0.15, 0.4)),
            }
        }
        6 => {
            let a = any_color(rng);
            Background::Noise {
                a,
                b: if rng.bool(0.6) {
                    a.lighten(0.35)
                } else {
                    any_color(rng)
                },
                scale: q(s * rng.range_f64(0.02, 0.2)),
                seed,
            }
        }
        7 => {
            let light = *rng.choose(&[
                Color::rgb(196, 150, 100),
                Color::rgb(170, 120, 76),
                Color::rgb(214, 180, 130),
                Color::rgb(120, 80, 50),
                Color::rgb(90, 56, 36),
            ]);
            Background::Wood {
                light,
                dark: light.darken(rng.range_f64(0.25, 0.5)),
                ring: q(s * rng.range_f64(0.02, 0.06)),
                angle_deg: q(rng.range_f64(-20.0, 20.0) + if rng.bool(0.5) { 90.0 } else { 0.0 }),
                seed,
            }
        }
        8 => Background::Plaster {
            base: Color::hsv(
                rng.range_f64(0.0, 360.0),
                rng.range_f64(0.0, 0.35),
                rng.range_f64(0.55, 0.95),
            ),
            strength: q(rng.range_f64(0.05, 0.25)),
            seed,
        },
        9 => Background::Bricks {
            brick: *rng.choose(&[
                Color::rgb(160, 70, 50),
                Color::rgb(130, 60, 45),
                Color::rgb(190, 110, 80),
                Color::rgb(200, 200, 196),
                Color::rgb(90, 90, 96),
            ]),
            mortar: Color::rgb(200, 196, 186).darken(rng.range_f64(0.0, 0.4)),
            height: q(s * rng.range_f64(0.04, 0.09)),
            seed,
        },
        _ => Background::Bokeh {
            from: any_color(rng),
            to: any_color(rng).darken(0.5),
            count: rng.range_u32(6, 20),
            seed,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_keep_the_dial_centre() {
        for seed in 0..500 {
            let s = SceneSpec::sample(seed, 448);
            if let Some(c) = s.crop {
                let cx = s.center.0 * 448.0;
                let cy = s.center.1 * 448.0;
                assert!(c.x + c.width <= 448 && c.y + c.height <= 448, "{c:?}");
                assert!(
                    cx > c.x as f32 && cx < (c.x + c.width) as f32,
                    "{seed} {c:?} {cx}"
                );
                assert!(
                    cy > c.y as f32 && cy < (c.y + c.height) as f32,
                    "{seed} {c:?} {cy}"
                );
            }
        }
    }

    #[test]
    fn json_round_trips() {
        for seed in 0..50 {
            let s = SceneSpec::sample(seed, 384);
            let back: SceneSpec =
                serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
            assert_eq!(s, back);
        }
    }
}
