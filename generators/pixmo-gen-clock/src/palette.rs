//! Colour themes, strap and bezel colours, and made-up dial text.

use crate::body::{BodyFamily, StrapKind};
use crate::color::Color;
use crate::face::{DialKind, Theme};
use crate::rng::Rng;

/// The colours of one face.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Colors {
    pub dial: Color,
    pub dial2: Color,
    pub ink: Color,
    pub accent: Color,
    pub lume: Color,
    pub hands: Color,
    pub second: Color,
}

const fn c(r: u8, g: u8, b: u8) -> Color {
    Color::rgb(r, g, b)
}

const LIGHT_DIALS: &[Color] = &[
    c(246, 246, 242),
    c(240, 232, 212),
    c(222, 224, 226),
    c(214, 200, 160),
    c(250, 250, 250),
    c(236, 226, 200),
];
const DARK_DIALS: &[Color] = &[
    c(18, 18, 20),
    c(30, 32, 36),
    c(20, 32, 66),
    c(22, 54, 40),
    c(58, 36, 24),
    c(44, 46, 52),
    c(64, 18, 30),
];
const COLORED_DIALS: &[Color] = &[
    c(28, 80, 170),
    c(26, 120, 110),
    c(170, 36, 40),
    c(40, 120, 60),
    c(236, 150, 120),
    c(230, 190, 40),
    c(96, 50, 140),
    c(60, 150, 200),
    c(210, 100, 30),
];
const STYLIZED_DIALS: &[Color] = &[
    c(255, 190, 210),
    c(170, 235, 200),
    c(255, 120, 40),
    c(120, 40, 200),
    c(250, 240, 90),
    c(20, 200, 200),
    c(240, 40, 140),
    c(150, 210, 255),
];
const ACCENTS: &[Color] = &[
    c(200, 30, 36),
    c(230, 110, 20),
    c(30, 100, 200),
    c(40, 150, 70),
    c(200, 160, 40),
];
const LUMES: &[Color] = &[c(222, 240, 200), c(238, 226, 190), c(200, 236, 220)];

/// Colours for a theme. Hands always contrast with the dial enough to read, except in the
/// deliberately low-contrast theme where they are still distinct.
pub(crate) fn sample(rng: &mut Rng, theme: Theme) -> Colors {
    let accent = *rng.choose(ACCENTS);
    let lume = *rng.choose(LUMES);
    let (dial, ink, hands) = match theme {
        Theme::Light => {
            let dial = *rng.choose(LIGHT_DIALS);
            let ink = *rng.choose(&[c(20, 20, 24), c(24, 30, 70), c(40, 40, 44)]);
            let hands = *rng.choose(&[c(20, 20, 24), c(30, 50, 130), c(60, 62, 66), ink]);
            (dial, ink, hands)
        }
        Theme::Dark => {
            let dial = *rng.choose(DARK_DIALS);
            let ink = *rng.choose(&[c(240, 240, 236), c(236, 226, 200), c(210, 212, 216)]);
            let hands = *rng.choose(&[c(236, 236, 232), c(210, 212, 216), c(220, 190, 120), ink]);
            (dial, ink, hands)
        }
        Theme::Colored => {
            let dial = *rng.choose(COLORED_DIALS);
            let ink = dial.contrasting();
            let hands = if rng.bool(0.5) {
                ink
            } else {
                *rng.choose(&[c(220, 222, 226), c(20, 20, 24), c(214, 180, 100)])
            };
            let hands = if hands.distance(dial) < 150 {
                ink
            } else {
                hands
            };
            (dial, ink, hands)
        }
        Theme::LowContrast => {
            let base = rng.range_f64(90.0, 200.0);
            let tint = *rng.choose(&[c(128, 128, 128), c(140, 128, 100), c(110, 124, 140)]);
            let g = base.round() as u8;
            let dial = Color::rgb(g, g, g).mix(tint, 0.3);
            let shift = if rng.bool(0.5) { 0.3 } else { -0.3 };
            let ink = if shift > 0.0 {
                dial.lighten(0.35)
            } else {
                dial.darken(0.35)
            };
            let hands = if shift > 0.0 {
                dial.lighten(0.45)
            } else {
                dial.darken(0.45)
            };
            (dial, ink, hands)
        }
        Theme::Stylized => {
            let dial = *rng.choose(STYLIZED_DIALS);
            let hue = rng.range_f64(0.0, 360.0);
            let mut ink = Color::hsv(hue, 0.85, if dial.luma() > 0.5 { 0.35 } else { 0.98 });
            if ink.distance(dial) < 200 {
                ink = dial.contrasting();
            }
            let mut hands = Color::hsv(hue + 150.0, 0.9, if dial.luma() > 0.5 { 0.3 } else { 1.0 });
            if hands.distance(dial) < 200 {
                hands = dial.contrasting();
            }
            (dial, ink, hands)
        }
    };
    let dial2 = if dial.luma() > 0.5 {
        dial.darken(rng.range_f64(0.1, 0.3))
    } else {
        dial.lighten(rng.range_f64(0.1, 0.25))
    };
    let mut second = *rng.choose(&[
        c(210, 30, 36),
        c(210, 30, 36),
        c(240, 120, 20),
        hands,
        c(230, 200, 40),
        c(30, 110, 210),
    ]);
    if second.distance(dial) < 120 {
        second = hands;
    }
    let accent = if accent.distance(dial) < 150 {
        ink
    } else {
        accent
    };
    Colors {
        dial,
        dial2,
        ink,
        accent,
        lume,
        hands,
        second,
    }
}

/// Strap colour and its accent (stitching, stripes).
pub(crate) fn strap(rng: &mut Rng, kind: StrapKind) -> (Color, Color) {
    match kind {
        StrapKind::Leather => {
            let base = *rng.choose(&[
                c(92, 52, 28),
                c(40, 26, 20),
                c(20, 20, 22),
                c(150, 96, 52),
                c(70, 40, 44),
                c(40, 50, 80),
                c(120, 110, 96),
            ]);
            let stitch = *rng.choose(&[base.lighten(0.3), c(236, 226, 200), base.darken(0.2)]);
            (base, stitch)
        }
        StrapKind::Nato => {
            let a = *rng.choose(&[c(30, 40, 80), c(60, 70, 40), c(20, 20, 22), c(120, 30, 40)]);
            let b = *rng.choose(&[
                c(180, 40, 40),
                c(200, 190, 160),
                c(60, 110, 60),
                c(230, 230, 230),
            ]);
            (a, b)
        }
        StrapKind::Rubber => {
            let base = *rng.choose(&[
                c(26, 26, 28),
                c(26, 26, 28),
                c(30, 50, 110),
                c(200, 80, 30),
                c(230, 230, 226),
                c(40, 90, 60),
            ]);
            (base, base.darken(0.35))
        }
        _ => (c(40, 40, 40), c(200, 200, 200)),
    }
}

/// Bezel insert colours.
pub(crate) fn bezel(rng: &mut Rng) -> (Color, Color) {
    *rng.choose(&[
        (c(18, 18, 20), c(18, 18, 20)),
        (c(20, 36, 90), c(20, 36, 90)),
        (c(24, 80, 50), c(24, 80, 50)),
        (c(150, 24, 30), c(20, 36, 100)),
        (c(20, 20, 22), c(30, 60, 140)),
        (c(120, 80, 40), c(20, 20, 22)),
        (c(200, 202, 206), c(200, 202, 206)),
    ])
}

const SYLLABLES: &[&str] = &[
    "ar", "bel", "cor", "dal", "ev", "fen", "gal", "hal", "il", "ker", "lum", "mor", "nor", "ost",
    "pra", "quin", "ros", "sol", "tor", "ul", "var", "wen", "xan", "yor", "zel", "cal", "ven",
];
const ENDINGS: &[&str] = &[
    "a", "ex", "ion", "o", "on", "ar", "ia", "ux", "en", "ora", "ine", "ant", "eus",
];
/// Real watch makers a random word must not spell.
const TAKEN: &[&str] = &[
    "ORIS", "RADO", "OMEGA", "ROLEX", "TUDOR", "SEIKO", "CASIO", "NOMOS", "ZENITH", "TISSOT",
    "ORIENT", "TIMEX", "FOSSIL", "GUESS", "SWATCH", "BULOVA", "CITIZEN", "CERTINA", "CORUM",
    "ZELOS", "LORUS", "ULYSSE",
];

/// A uniformly chosen string.
fn pick(rng: &mut Rng, items: &[&'static str]) -> &'static str {
    items[rng.index(items.len())]
}

/// A made-up brand-like word, e.g. "KERION".
pub(crate) fn brand_word(rng: &mut Rng) -> String {
    loop {
        let mut w = String::new();
        let n = rng.range_u32(1, 3);
        for _ in 0..n {
            w.push_str(pick(rng, SYLLABLES));
        }
        w.push_str(pick(rng, ENDINGS));
        let w = w.to_uppercase();
        if (4..=9).contains(&w.len()) && !TAKEN.contains(&w.as_str()) {
            return w;
        }
    }
}

/// A small second line of dial text.
pub(crate) fn subtitle(rng: &mut Rng, kind: DialKind, family: BodyFamily) -> &'static str {
    match family {
        BodyFamily::Wall | BodyFamily::Alarm => pick(
            rng,
            &[
                "QUARTZ",
                "SILENT SWEEP",
                "QUARTZ MOVEMENT",
                "EST. 1952",
                "KITCHEN",
            ],
        ),
        BodyFamily::Pocket => pick(
            rng,
            &["17 JEWELS", "RAILROAD GRADE", "SWISS LEVER", "EST. 1889"],
        ),
        BodyFamily::Wrist => match kind {
            DialKind::Diver => pick(
                rng,
                &[
                    "WATER RESIST 200M",
                    "DIVER'S 300M",
                    "AUTOMATIC",
                    "200M / 660FT",
                    "PROFESSIONAL",
                ],
            ),
            DialKind::Chronograph => {
                pick(rng, &["CHRONOGRAPH", "AUTOMATIC", "TACHYMETRE", "QUARTZ"])
            }
            _ => pick(
                rng,
                &[
                    "AUTOMATIC",
                    "WATER RESIST 100M",
                    "WATER RESISTANT",
                    "QUARTZ",
                    "CHRONOMETER",
                    "25 JEWELS",
                    "SELF-WINDING",
                    "MECHANICAL",
                    "SAPPHIRE",
                    "GMT",
                ],
            ),
        },
    }
}
