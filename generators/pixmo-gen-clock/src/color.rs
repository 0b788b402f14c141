//! An sRGB colour that serialises as `"#rrggbb"`, with the few operations the palettes need.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An opaque sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Color {
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    pub const WHITE: Color = Color::rgb(255, 255, 255);

    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b }
    }

    /// `#rrggbb`, the SVG and JSON spelling.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// Parses `#rrggbb`.
    pub fn parse(s: &str) -> Option<Color> {
        let s = s.strip_prefix('#')?;
        if s.len() != 6 || !s.is_ascii() {
            return None;
        }
        let c = |i: usize| u8::from_str_radix(&s[i..i + 2], 16).ok();
        Some(Color::rgb(c(0)?, c(2)?, c(4)?))
    }

    /// Linear interpolation in sRGB space: `t = 0` gives `self`, `t = 1` gives `other`.
    pub fn mix(self, other: Color, t: f64) -> Color {
        let t = t.clamp(0.0, 1.0);
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Color::rgb(m(self.r, other.r), m(self.g, other.g), m(self.b, other.b))
    }

    /// Towards white by `t`.
    pub fn lighten(self, t: f64) -> Color {
        self.mix(Color::WHITE, t)
    }

    /// Towards black by `t`.
    pub fn darken(self, t: f64) -> Color {
        self.mix(Color::BLACK, t)
    }

    /// Relative luminance in `[0, 1]` (Rec. 709 weights on sRGB values; good enough to pick
    /// a contrasting ink).
    pub fn luma(self) -> f64 {
        (0.2126 * f64::from(self.r) + 0.7152 * f64::from(self.g) + 0.0722 * f64::from(self.b))
            / 255.0
    }

    /// Black or white ink, whichever reads better on this colour.
    pub fn contrasting(self) -> Color {
        if self.luma() > 0.5 {
            Color::rgb(20, 20, 24)
        } else {
            Color::rgb(240, 240, 236)
        }
    }

    /// Sum of absolute channel differences.
    pub fn distance(self, other: Color) -> u32 {
        let d = |a: u8, b: u8| u32::from(a.abs_diff(b));
        d(self.r, other.r) + d(self.g, other.g) + d(self.b, other.b)
    }

    /// From hue (degrees), saturation and value in `[0, 1]`.
    pub fn hsv(h: f64, s: f64, v: f64) -> Color {
        let h = h.rem_euclid(360.0) / 60.0;
        let c = v * s;
        let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
        let (r, g, b) = match h as u32 {
            0 => (c, x, 0.0),
            1 => (x, c, 0.0),
            2 => (0.0, c, x),
            3 => (0.0, x, c),
            4 => (x, 0.0, c),
            _ => (c, 0.0, x),
        };
        let m = v - c;
        let q = |f: f64| ((f + m) * 255.0).round().clamp(0.0, 255.0) as u8;
        Color::rgb(q(r), q(g), q(b))
    }

    /// A rough English name, for [`crate::FaceSpec::name`].
    pub fn name(self) -> &'static str {
        const NAMED: &[(&str, Color)] = &[
            ("black", Color::rgb(18, 18, 20)),
            ("charcoal", Color::rgb(60, 62, 66)),
            ("grey", Color::rgb(128, 130, 134)),
            ("silver", Color::rgb(192, 194, 198)),
            ("white", Color::rgb(244, 244, 240)),
            ("cream", Color::rgb(240, 228, 200)),
            ("champagne", Color::rgb(214, 196, 150)),
            ("gold", Color::rgb(200, 160, 60)),
            ("brown", Color::rgb(110, 70, 40)),
            ("salmon", Color::rgb(236, 160, 130)),
            ("red", Color::rgb(190, 30, 40)),
            ("burgundy", Color::rgb(110, 20, 40)),
            ("orange", Color::rgb(240, 120, 30)),
            ("yellow", Color::rgb(240, 210, 40)),
            ("olive", Color::rgb(110, 110, 50)),
            ("green", Color::rgb(40, 130, 70)),
            ("mint", Color::rgb(160, 220, 190)),
            ("teal", Color::rgb(20, 120, 130)),
            ("turquoise", Color::rgb(60, 190, 200)),
            ("sky blue", Color::rgb(130, 180, 230)),
            ("blue", Color::rgb(30, 70, 170)),
            ("navy", Color::rgb(20, 30, 70)),
            ("purple", Color::rgb(100, 50, 140)),
            ("pink", Color::rgb(230, 140, 180)),
        ];
        NAMED
            .iter()
            .min_by_key(|(_, c)| c.distance(self))
            .map_or("grey", |(n, _)| n)
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Color, D::Error> {
        let s = String::deserialize(deserializer)?;
        Color::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("invalid colour `{s}`, want `#rrggbb`"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let c = Color::rgb(1, 171, 255);
        assert_eq!(c.hex(), "#01abff");
        assert_eq!(Color::parse("#01abff"), Some(c));
        assert_eq!(Color::parse("01abff"), None);
    }

    #[test]
    fn serde_uses_hex() {
        let json = serde_json::to_string(&Color::rgb(255, 0, 16)).unwrap();
        assert_eq!(json, "\"#ff0010\"");
        let back: Color = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Color::rgb(255, 0, 16));
    }
}
