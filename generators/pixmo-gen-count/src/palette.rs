//! Named colours (what a referring expression may call an object) and backgrounds.

use pixmo_core::Rng;
use serde::{Deserialize, Serialize};

/// The colour names objects get; each renders near its base value, so its name stays true.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Color {
    /// Red.
    Red,
    /// Orange.
    Orange,
    /// Yellow.
    Yellow,
    /// Green.
    Green,
    /// Blue.
    Blue,
    /// Purple.
    Purple,
    /// Pink.
    Pink,
    /// Brown.
    Brown,
    /// Black.
    Black,
    /// White.
    White,
    /// Gray.
    Gray,
    /// Teal.
    Teal,
}

impl Color {
    /// Every colour.
    pub const ALL: [Color; 12] = [
        Color::Red,
        Color::Orange,
        Color::Yellow,
        Color::Green,
        Color::Blue,
        Color::Purple,
        Color::Pink,
        Color::Brown,
        Color::Black,
        Color::White,
        Color::Gray,
        Color::Teal,
    ];

    /// The word.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Color::Red => "red",
            Color::Orange => "orange",
            Color::Yellow => "yellow",
            Color::Green => "green",
            Color::Blue => "blue",
            Color::Purple => "purple",
            Color::Pink => "pink",
            Color::Brown => "brown",
            Color::Black => "black",
            Color::White => "white",
            Color::Gray => "gray",
            Color::Teal => "teal",
        }
    }

    /// The base value.
    #[must_use]
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Color::Red => [210, 35, 40],
            Color::Orange => [240, 135, 25],
            Color::Yellow => [245, 210, 35],
            Color::Green => [45, 160, 60],
            Color::Blue => [35, 85, 215],
            Color::Purple => [130, 55, 185],
            Color::Pink => [240, 120, 185],
            Color::Brown => [125, 75, 35],
            Color::Black => [25, 25, 28],
            Color::White => [248, 248, 248],
            Color::Gray => [128, 128, 132],
            Color::Teal => [25, 155, 155],
        }
    }
}

/// Distance between two colours (Euclidean in RGB).
#[must_use]
pub fn distance(a: [u8; 3], b: [u8; 3]) -> f64 {
    let d = |i: usize| f64::from(a[i]) - f64::from(b[i]);
    (d(0) * d(0) + d(1) * d(1) + d(2) * d(2)).sqrt()
}

/// The background pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// One colour.
    Solid,
    /// From the first colour to the second, top to bottom.
    Gradient,
    /// Stripes of `period` pixels, at an angle.
    Stripes,
    /// A checkerboard of `period`-pixel cells.
    Checker,
    /// Soft blobs of the two colours (value noise).
    Blobs,
    /// A table top (second colour) under a wall (first colour).
    Table,
}

/// A background: pattern, two muted colours, a scale, lighting and noise.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Background {
    /// The pattern.
    pub pattern: Pattern,
    /// First colour.
    pub a: [u8; 3],
    /// Second colour.
    pub b: [u8; 3],
    /// Stripe and checker period, blob size, or table edge height (fraction of the height).
    pub period: f64,
    /// Stripe angle and light direction, degrees.
    pub angle_deg: f64,
    /// Overall brightness.
    pub gain: f64,
    /// Strength of the light gradient across the image.
    pub light: f64,
    /// Amplitude of per-pixel noise (0–255 scale).
    pub noise: f64,
}

fn muted(rng: &mut Rng) -> [u8; 3] {
    let light = rng.range_f64(0.25, 0.95);
    let chroma = rng.range_f64(0.0, 0.18);
    let hue = rng.range_f64(0.0, std::f64::consts::TAU);
    let channel = |shift: f64| {
        let v = light + chroma * libm::cos(hue + shift);
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    };
    [channel(0.0), channel(2.094), channel(4.189)]
}

impl Background {
    /// A random background.
    pub fn sample(rng: &mut Rng) -> Background {
        let pattern = *rng
            .choose(&[
                Pattern::Solid,
                Pattern::Gradient,
                Pattern::Stripes,
                Pattern::Checker,
                Pattern::Blobs,
                Pattern::Table,
            ])
            .unwrap_or(&Pattern::Solid);
        let a = muted(rng);
        // The second colour stays near the first, so patterns never out-shout objects.
        let mut b = muted(rng);
        for (bi, ai) in b.iter_mut().zip(a) {
            *bi = ((u16::from(*bi) + 2 * u16::from(ai)) / 3) as u8;
        }
        Background {
            pattern,
            a,
            b,
            period: match pattern {
                Pattern::Table => rng.range_f64(0.25, 0.6),
                Pattern::Blobs => rng.range_f64(40.0, 140.0),
                _ => rng.range_f64(12.0, 60.0),
            },
            angle_deg: rng.range_f64(0.0, 360.0),
            gain: rng.range_f64(0.8, 1.12),
            light: rng.range_f64(0.0, 0.3),
            noise: if rng.bool(0.5) {
                rng.range_f64(0.0, 8.0)
            } else {
                0.0
            },
        }
    }

    /// The colours an object's colour must stand out from.
    #[must_use]
    pub fn colours(&self) -> [[u8; 3]; 2] {
        [self.a, self.b]
    }
}
