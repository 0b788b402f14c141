//! Colours, named palettes and number formatting shared by charts and diagrams.

use serde::{Deserialize, Serialize};

use crate::error::{Result, invalid};

/// An sRGB colour as `#rrggbb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`.
    #[must_use]
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Parses `#rrggbb`.
    ///
    /// # Errors
    /// An invalid-spec error for anything else.
    pub fn parse(s: &str) -> Result<Rgb> {
        let bytes = s.as_bytes();
        if bytes.len() != 7 || bytes[0] != b'#' {
            return Err(invalid(format!("Colour `{s}` is not `#rrggbb`")));
        }
        let channel = |i: usize| {
            u8::from_str_radix(&s[i..i + 2], 16)
                .map_err(|_| invalid(format!("Colour `{s}` is not `#rrggbb`")))
        };
        Ok(Rgb(channel(1)?, channel(3)?, channel(5)?))
    }

    /// Relative luminance in 0..1 (sRGB weights, no linearisation: good enough for contrast).
    #[must_use]
    pub fn luma(self) -> f64 {
        (0.299 * f64::from(self.0) + 0.587 * f64::from(self.1) + 0.114 * f64::from(self.2)) / 255.0
    }

    /// Linear mix towards `other` by `t` in 0..1.
    #[must_use]
    pub fn mix(self, other: Rgb, t: f64) -> Rgb {
        let m = |a: u8, b: u8| {
            let v = f64::from(a) + (f64::from(b) - f64::from(a)) * t.clamp(0.0, 1.0);
            v.round().clamp(0.0, 255.0) as u8
        };
        Rgb(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }

    /// Black or white, whichever reads better on this colour.
    #[must_use]
    pub fn text_on(self) -> Rgb {
        if self.luma() > 0.55 {
            Rgb(20, 20, 20)
        } else {
            Rgb(255, 255, 255)
        }
    }
}

/// Colours with plain English names, so "which series is drawn in red?" has an answer.
pub const NAMED_COLORS: &[(&str, Rgb)] = &[
    ("red", Rgb(214, 39, 40)),
    ("blue", Rgb(31, 119, 180)),
    ("green", Rgb(44, 160, 44)),
    ("orange", Rgb(255, 127, 14)),
    ("purple", Rgb(148, 103, 189)),
    ("brown", Rgb(140, 86, 75)),
    ("pink", Rgb(227, 119, 194)),
    ("gray", Rgb(127, 127, 127)),
    ("olive", Rgb(188, 189, 34)),
    ("teal", Rgb(23, 190, 207)),
    ("navy", Rgb(31, 45, 110)),
    ("gold", Rgb(230, 180, 20)),
    ("black", Rgb(30, 30, 30)),
];

/// The English name of a colour, when it is one of [`NAMED_COLORS`].
#[must_use]
pub fn color_name(c: Rgb) -> Option<&'static str> {
    NAMED_COLORS.iter().find(|(_, v)| *v == c).map(|(n, _)| *n)
}

/// Palettes whose colours have no simple names (QA never asks about their colours).
pub const PALETTES: &[&[Rgb]] = &[
    &[
        Rgb(0x4e, 0x79, 0xa7),
        Rgb(0xf2, 0x8e, 0x2b),
        Rgb(0xe1, 0x57, 0x59),
        Rgb(0x76, 0xb7, 0xb2),
        Rgb(0x59, 0xa1, 0x4f),
        Rgb(0xed, 0xc9, 0x48),
        Rgb(0xb0, 0x7a, 0xa1),
        Rgb(0xff, 0x9d, 0xa7),
    ],
    &[
        Rgb(0x1b, 0x9e, 0x77),
        Rgb(0xd9, 0x5f, 0x02),
        Rgb(0x75, 0x70, 0xb3),
        Rgb(0xe7, 0x29, 0x8a),
        Rgb(0x66, 0xa6, 0x1e),
        Rgb(0xe6, 0xab, 0x02),
        Rgb(0xa6, 0x76, 0x1d),
        Rgb(0x66, 0x66, 0x66),
    ],
    &[
        Rgb(0x26, 0x46, 0x53),
        Rgb(0x2a, 0x9d, 0x8f),
        Rgb(0xe9, 0xc4, 0x6a),
        Rgb(0xf4, 0xa2, 0x61),
        Rgb(0xe7, 0x6f, 0x51),
        Rgb(0x8a, 0xb1, 0x7d),
        Rgb(0x6d, 0x59, 0x7a),
        Rgb(0xb5, 0x65, 0x76),
    ],
    &[
        Rgb(0x00, 0x3f, 0x5c),
        Rgb(0x2f, 0x4b, 0x7c),
        Rgb(0x66, 0x51, 0x91),
        Rgb(0xa0, 0x51, 0x95),
        Rgb(0xd4, 0x50, 0x87),
        Rgb(0xf9, 0x5d, 0x6a),
        Rgb(0xff, 0x7c, 0x43),
        Rgb(0xff, 0xa6, 0x00),
    ],
    &[
        Rgb(0x8d, 0xd3, 0xc7),
        Rgb(0xbe, 0xba, 0xda),
        Rgb(0xfb, 0x80, 0x72),
        Rgb(0x80, 0xb1, 0xd3),
        Rgb(0xfd, 0xb4, 0x62),
        Rgb(0xb3, 0xde, 0x69),
        Rgb(0xfc, 0xcd, 0xe5),
        Rgb(0xbc, 0x80, 0xbd),
    ],
    &[
        Rgb(0x35, 0x5c, 0x7d),
        Rgb(0x6c, 0x5b, 0x7b),
        Rgb(0xc0, 0x6c, 0x84),
        Rgb(0xf6, 0x72, 0x80),
        Rgb(0xf8, 0xb1, 0x95),
        Rgb(0x99, 0xb8, 0x98),
        Rgb(0x2a, 0x36, 0x3b),
        Rgb(0xe8, 0x4a, 0x5f),
    ],
    &[
        Rgb(0x5f, 0x0f, 0x40),
        Rgb(0x9a, 0x03, 0x1e),
        Rgb(0xfb, 0x8b, 0x24),
        Rgb(0xe3, 0x64, 0x14),
        Rgb(0x0f, 0x4c, 0x5c),
        Rgb(0x7a, 0x9e, 0x7e),
        Rgb(0x31, 0x3d, 0x5a),
        Rgb(0xc9, 0xa2, 0x27),
    ],
];

/// Background colours (light, so dark text reads on them).
pub const BACKGROUNDS: &[Rgb] = &[
    Rgb(255, 255, 255),
    Rgb(250, 250, 245),
    Rgb(245, 247, 250),
    Rgb(252, 248, 240),
    Rgb(240, 244, 240),
    Rgb(248, 244, 252),
    Rgb(255, 253, 231),
    Rgb(236, 240, 245),
];

/// A colour given in a spec: `#rrggbb`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HexColor(pub String);

impl HexColor {
    /// From a colour.
    #[must_use]
    pub fn of(c: Rgb) -> HexColor {
        HexColor(c.hex())
    }

    /// The parsed colour.
    ///
    /// # Errors
    /// When it is not `#rrggbb`.
    pub fn rgb(&self) -> Result<Rgb> {
        Rgb::parse(&self.0)
    }
}

/// Formats `v` with exactly `decimals` decimals (no thousands separators, `-0` printed as `0`).
/// Every number drawn on a figure and every numeric answer goes through this function.
#[must_use]
pub fn format_number(v: f64, decimals: u8) -> String {
    let s = format!("{:.*}", usize::from(decimals), v);
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_owned()
    } else {
        s
    }
}

/// Rounds `v` to `decimals` decimals (the value the figure prints).
#[must_use]
pub fn round_to(v: f64, decimals: u8) -> f64 {
    let scale = 10f64.powi(i32::from(decimals));
    (v * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_with_fixed_decimals() {
        assert_eq!(format_number(3.0, 0), "3");
        assert_eq!(format_number(2.26, 1), "2.3");
        assert_eq!(format_number(-0.01, 1), "0.0");
        assert_eq!(format_number(1234.5, 2), "1234.50");
    }

    #[test]
    fn hex_round_trips() {
        let c = Rgb(1, 171, 255);
        assert_eq!(Rgb::parse(&c.hex()).unwrap(), c);
        assert!(Rgb::parse("red").is_err());
    }
}
