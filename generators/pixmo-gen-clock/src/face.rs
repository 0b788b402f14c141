//! [`FaceSpec`]: every choice that makes one watch face, sampled from a single seed.
//!
//! A face is static: body, dial, hand styles, colours and text. The time is not part of it,
//! so one face renders at many times (and its static layers are cached by [`FaceSpec::face_id`]).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::body::{BodyFamily, CaseShape, Material, body};
use crate::color::Color;
use crate::palette;
use crate::rng::Rng;

/// The overall dial archetype. Each kind decides which numerals, markers and sub-dials appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialKind {
    /// Twelve Arabic numerals.
    Arabic,
    /// Twelve Roman numerals.
    Roman,
    /// Batons, dots or wedges only.
    Indices,
    /// Numerals at 12/3/6/9 (or 3/6/9) with indices between.
    Sparse,
    /// No markings at all.
    Blank,
    /// A prominent railway minute track.
    Railway,
    /// A small-seconds sub-dial where the second hand lives.
    SmallSeconds,
    /// Two or three chronograph-look sub-dials.
    Chronograph,
    /// Large luminous indices, triangle at 12.
    Diver,
    /// Pilot style: Arabic numerals, triangle at 12, minute track, inner 24-hour ring.
    Pilot,
}

/// Every dial kind, in a fixed order.
pub const DIAL_KINDS: [DialKind; 10] = [
    DialKind::Arabic,
    DialKind::Roman,
    DialKind::Indices,
    DialKind::Sparse,
    DialKind::Blank,
    DialKind::Railway,
    DialKind::SmallSeconds,
    DialKind::Chronograph,
    DialKind::Diver,
    DialKind::Pilot,
];

impl DialKind {
    pub fn name(self) -> &'static str {
        match self {
            DialKind::Arabic => "arabic",
            DialKind::Roman => "roman",
            DialKind::Indices => "index",
            DialKind::Sparse => "sparse-numeral",
            DialKind::Blank => "blank",
            DialKind::Railway => "railway",
            DialKind::SmallSeconds => "small-seconds",
            DialKind::Chronograph => "chronograph",
            DialKind::Diver => "diver",
            DialKind::Pilot => "pilot",
        }
    }
}

/// Which hour numerals are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Numerals {
    None,
    Arabic,
    /// 12, 3, 6, 9.
    ArabicQuarters,
    /// 3, 6, 9 (a triangle or double index at 12).
    Explorer,
    /// 2, 4, 6, 8, 10, 12.
    ArabicEven,
    Roman,
    /// XII, III, VI, IX.
    RomanQuarters,
}

/// Hour marker shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerStyle {
    None,
    Baton,
    Dot,
    Wedge,
    /// Thin double lines.
    Double,
}

/// The ring of minute marks near the dial edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinuteTrack {
    None,
    Ticks,
    Railway,
    Dots,
    /// Ticks plus small minute numbers every five minutes.
    Numbered,
}

/// Dial surface finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialTexture {
    Flat,
    Sunburst,
    /// Dark towards the edge.
    Fume,
    LinearGradient,
    /// Concentric engraved rings.
    Guilloche,
    /// A grid of small squares.
    Waffle,
    /// Fine cross-hatching.
    Linen,
}

/// One of the bundled font families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FontChoice {
    Sans,
    SansBold,
    Condensed,
    Serif,
    SerifBold,
}

impl FontChoice {
    /// SVG `font-family`, `font-weight` pair.
    pub(crate) fn svg(self) -> (&'static str, u16) {
        match self {
            FontChoice::Sans => ("Liberation Sans", 400),
            FontChoice::SansBold => ("Liberation Sans", 700),
            FontChoice::Condensed => ("DejaVu Sans", 700),
            FontChoice::Serif => ("DejaVu Serif", 400),
            FontChoice::SerifBold => ("Liberation Serif", 700),
        }
    }
}

/// Numerals upright, or rotated to follow the dial edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    Upright,
    Radial,
}

/// Sub-dial arrangement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubDials {
    None,
    /// One sub-dial at 6 o'clock.
    At6,
    /// One sub-dial at 9 o'clock.
    At9,
    /// Sub-dials at 3 and 9.
    At3And9,
    /// Sub-dials at 3, 6 and 9.
    At3And6And9,
    /// Sub-dials at 12, 6 and 9.
    At12And6And9,
}

impl SubDials {
    /// Sub-dial positions as dial angles (degrees clockwise from 12).
    pub fn angles(self) -> &'static [f64] {
        match self {
            SubDials::None => &[],
            SubDials::At6 => &[180.0],
            SubDials::At9 => &[270.0],
            SubDials::At3And9 => &[90.0, 270.0],
            SubDials::At3And6And9 => &[90.0, 180.0, 270.0],
            SubDials::At12And6And9 => &[0.0, 180.0, 270.0],
        }
    }
}

/// Where the date window sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePosition {
    At3,
    At6,
    At4Thirty,
}

impl DatePosition {
    pub fn angle(self) -> f64 {
        match self {
            DatePosition::At3 => 90.0,
            DatePosition::At6 => 180.0,
            DatePosition::At4Thirty => 135.0,
        }
    }
}

/// A date window with the day number it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateWindow {
    pub position: DatePosition,
    /// Day of the month, `1..=31`.
    pub day: u8,
}

/// Hour and minute hand shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandStyle {
    Baton,
    Dauphine,
    Leaf,
    Sword,
    Breguet,
    Skeleton,
    Arrow,
    Alpha,
    Spade,
    Pencil,
}

pub const HAND_STYLES: [HandStyle; 10] = [
    HandStyle::Baton,
    HandStyle::Dauphine,
    HandStyle::Leaf,
    HandStyle::Sword,
    HandStyle::Breguet,
    HandStyle::Skeleton,
    HandStyle::Arrow,
    HandStyle::Alpha,
    HandStyle::Spade,
    HandStyle::Pencil,
];

impl HandStyle {
    pub fn name(self) -> &'static str {
        match self {
            HandStyle::Baton => "baton",
            HandStyle::Dauphine => "dauphine",
            HandStyle::Leaf => "leaf",
            HandStyle::Sword => "sword",
            HandStyle::Breguet => "breguet",
            HandStyle::Skeleton => "skeleton",
            HandStyle::Arrow => "arrow",
            HandStyle::Alpha => "alpha",
            HandStyle::Spade => "spade",
            HandStyle::Pencil => "pencil",
        }
    }
}

/// Second hand shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondStyle {
    Needle,
    Lollipop,
    Arrow,
    Counterweight,
}

/// The colour story of a face.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Light,
    Dark,
    Colored,
    LowContrast,
    Stylized,
}

impl Theme {
    pub fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::Colored => "coloured",
            Theme::LowContrast => "low-contrast",
            Theme::Stylized => "stylised",
        }
    }
}

/// Everything printed on the dial.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DialSpec {
    pub texture: DialTexture,
    pub color: Color,
    /// Second dial colour (gradients, sub-dial rings).
    pub color2: Color,
    /// Markers, numerals and text.
    pub ink: Color,
    /// Highlight colour for one text line, the 12 o'clock triangle and tachymeter marks.
    pub accent: Color,
    /// Luminous fill of markers, if any.
    pub lume: Option<Color>,
    pub numerals: Numerals,
    /// `IIII` instead of `IV` on Roman dials.
    pub roman_iiii: bool,
    pub font: FontChoice,
    pub orientation: Orientation,
    /// Numeral cap height relative to the dial radius.
    pub numeral_size: f32,
    pub markers: MarkerStyle,
    pub triangle_at_12: bool,
    pub minute_track: MinuteTrack,
    /// A small inner ring of 13..24 hour numbers.
    pub inner_24h: bool,
    pub subdials: SubDials,
    /// Fixed angles of the decorative sub-dial hands (the running-seconds sub-dial ignores its
    /// entry).
    pub subdial_hand_angles: [f32; 3],
    pub date: Option<DateWindow>,
    pub brand: Option<String>,
    pub subtitle: Option<String>,
    pub text_font: FontChoice,
}

/// The second hand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondHandSpec {
    pub style: SecondStyle,
    pub color: Color,
    /// The hand turns in a small-seconds sub-dial (the first sub-dial) instead of the centre.
    pub in_subdial: bool,
}

/// Hour and minute hands (and the optional second hand).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandsSpec {
    pub style: HandStyle,
    pub color: Color,
    /// Luminous inlay colour.
    pub lume: Option<Color>,
    /// Hour hand length relative to the dial radius.
    pub hour_length: f32,
    /// Minute hand length relative to the dial radius.
    pub minute_length: f32,
    /// Width scale (1 = typical).
    pub width: f32,
    pub second: Option<SecondHandSpec>,
}

/// A complete watch face: body + dial + hands + colours. See the crate docs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FaceSpec {
    /// Index into [`crate::bodies`].
    pub body: u16,
    pub material: Material,
    pub strap_color: Color,
    /// Stitching, stripes.
    pub strap_accent: Color,
    /// Bezel insert colour (diver, tachymeter, GMT).
    pub bezel_color: Color,
    /// Second bezel colour (GMT night half).
    pub bezel_color2: Color,
    pub theme: Theme,
    pub kind: DialKind,
    pub dial: DialSpec,
    pub hands: HandsSpec,
    /// A faint reflection on the crystal, drawn above the hands.
    pub crystal_glare: bool,
}

fn q(x: f64) -> f32 {
    ((x * 1000.0).round() / 1000.0) as f32
}

/// What a face name says, read back by [`FaceSpec::parse_name`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaceNameParts {
    /// Case material (`steel`, `rose-gold`, `dark wooden`).
    pub material: String,
    /// Index of the body in [`crate::bodies`].
    pub body: usize,
    /// Colour theme (`light`, `low-contrast`).
    pub theme: String,
    /// Dial colour name.
    pub dial_color: String,
    pub dial_kind: DialKind,
    pub hand_style: HandStyle,
}

impl FaceSpec {
    /// All face choices from one seed.
    pub fn sample(seed: u64) -> FaceSpec {
        let mut rng = Rng::with_domain(seed, "pixmo-gen-clock/face");
        let body_index = rng.index(crate::BODY_COUNT);
        let family = body(body_index).family();
        let kind = sample_kind(&mut rng, family);
        sample_with(&mut rng, body_index, kind)
    }

    /// A face from this seed with a given body and dial kind (tests, catalogue previews).
    pub fn sample_with(seed: u64, body_index: usize, kind: DialKind) -> FaceSpec {
        let mut rng = Rng::with_domain(seed, "pixmo-gen-clock/face-with");
        sample_with(&mut rng, body_index % crate::BODY_COUNT, kind)
    }

    /// Stable content id: the first 16 hex digits of the SHA-256 of the canonical JSON.
    pub fn face_id(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let digest = Sha256::digest(&json);
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Human-readable name, e.g. "Steel cushion diver on rubber, dark black diver dial, sword
    /// hands".
    pub fn name(&self) -> String {
        let b = body(usize::from(self.body));
        let mut name = format!(
            "{} {}, {} {} {} dial, {} hands",
            self.material.name(),
            b.name,
            self.theme.name(),
            self.dial.color.name(),
            self.kind.name(),
            self.hands.style.name()
        );
        match &self.hands.second {
            None => name.push_str(", no second hand"),
            Some(s) if s.in_subdial => name.push_str(", small seconds"),
            Some(_) => {}
        }
        let mut chars = name.chars();
        match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => name,
        }
    }

    /// The parts of a name written by [`FaceSpec::name`], read back from the text (data
    /// cards see rows, not specs); `None` for text that is not such a name.
    pub fn parse_name(name: &str) -> Option<FaceNameParts> {
        let mut parts = name.split(", ");
        let (case, dial, hands) = (parts.next()?, parts.next()?, parts.next()?);
        // `name` upper-cases only the first letter (body names keep `GMT`, `NATO`).
        let mut chars = case.chars();
        let case: String = chars.next()?.to_lowercase().chain(chars).collect();
        let (body, material) = crate::bodies()
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let material = case.strip_suffix(b.name)?.strip_suffix(' ')?;
                (!material.is_empty()).then(|| (i, material.to_string()))
            })
            .max_by_key(|(i, _)| crate::body(*i).name.len())?;
        let mut dial_words: Vec<&str> = dial.strip_suffix(" dial")?.split(' ').collect();
        let kind = dial_words.pop()?;
        let dial_kind = DIAL_KINDS.into_iter().find(|k| k.name() == kind)?;
        if dial_words.len() < 2 {
            return None;
        }
        let theme = dial_words.remove(0).to_string();
        let hands = hands.strip_suffix(" hands")?;
        let hand_style = HAND_STYLES.into_iter().find(|h| h.name() == hands)?;
        Some(FaceNameParts {
            material,
            body,
            theme,
            dial_color: dial_words.join(" "),
            dial_kind,
            hand_style,
        })
    }

    /// The body this face sits in.
    pub fn body_spec(&self) -> &'static crate::BodySpec {
        body(usize::from(self.body))
    }

    /// Whether the face has a second hand (central or in a sub-dial).
    pub fn has_second_hand(&self) -> bool {
        self.hands.second.is_some()
    }

    /// Whether the second hand turns in a sub-dial.
    pub fn seconds_in_subdial(&self) -> bool {
        self.hands.second.as_ref().is_some_and(|s| s.in_subdial)
    }
}

fn sample_kind(rng: &mut Rng, family: BodyFamily) -> DialKind {
    use DialKind::*;
    let (kinds, weights): (&[DialKind], &[f64]) = match family {
        BodyFamily::Wrist => (
            &DIAL_KINDS,
            &[1.3, 1.0, 1.4, 1.0, 0.4, 0.5, 0.7, 0.9, 1.0, 0.6],
        ),
        BodyFamily::Pocket => (
            &[Arabic, Roman, Sparse, Railway, SmallSeconds],
            &[1.0, 1.5, 0.5, 0.6, 1.2],
        ),
        BodyFamily::Wall | BodyFamily::Alarm => (
            &[Arabic, Roman, Indices, Sparse, Blank, Railway],
            &[2.0, 1.0, 1.0, 0.8, 0.3, 0.8],
        ),
    };
    kinds[rng.weighted(weights)]
}

fn sample_with(rng: &mut Rng, body_index: usize, kind: DialKind) -> FaceSpec {
    let b = body(body_index);
    let family = b.family();
    let material = *rng.choose(family.materials());
    let theme = *rng.choose(&[
        Theme::Light,
        Theme::Light,
        Theme::Dark,
        Theme::Dark,
        Theme::Colored,
        Theme::LowContrast,
        Theme::Stylized,
    ]);
    let colors = palette::sample(rng, theme);
    let dial = sample_dial(rng, kind, b.case, family, &colors);
    let hands = sample_hands(rng, kind, family, &dial, &colors);
    let (strap_color, strap_accent) = palette::strap(rng, b.strap);
    let (bezel_color, bezel_color2) = palette::bezel(rng);
    FaceSpec {
        body: body_index as u16,
        material,
        strap_color,
        strap_accent,
        bezel_color,
        bezel_color2,
        theme,
        kind,
        dial,
        hands,
        crystal_glare: rng.bool(0.6),
    }
}

fn sample_dial(
    rng: &mut Rng,
    kind: DialKind,
    case: CaseShape,
    family: BodyFamily,
    c: &palette::Colors,
) -> DialSpec {
    use DialKind as K;
    let round = matches!(
        case,
        CaseShape::Round
            | CaseShape::Cushion
            | CaseShape::Octagon
            | CaseShape::Pocket
            | CaseShape::Wall
            | CaseShape::WallSquare
            | CaseShape::AlarmBells
            | CaseShape::Desk
    );
    let texture = *rng.choose(&[
        DialTexture::Flat,
        DialTexture::Flat,
        DialTexture::Sunburst,
        DialTexture::Fume,
        DialTexture::LinearGradient,
        DialTexture::Guilloche,
        DialTexture::Waffle,
        DialTexture::Linen,
    ]);
    let numerals = match kind {
        K::Arabic | K::Pilot => {
            if rng.bool(0.15) {
                Numerals::ArabicEven
            } else {
                Numerals::Arabic
            }
        }
        K::Roman => Numerals::Roman,
        K::Sparse => *rng.choose(&[
            Numerals::ArabicQuarters,
            Numerals::Explorer,
            Numerals::RomanQuarters,
        ]),
        K::Railway => *rng.choose(&[Numerals::Arabic, Numerals::Roman, Numerals::None]),
        K::SmallSeconds => *rng.choose(&[
            Numerals::None,
            Numerals::None,
            Numerals::Arabic,
            Numerals::ArabicQuarters,
            Numerals::Roman,
        ]),
        // Sub-dials take the 3, 6 and 9 positions and their neighbours: only 12 (and 11/1)
        // are left for numerals.
        K::Chronograph => *rng.choose(&[
            Numerals::None,
            Numerals::None,
            Numerals::ArabicQuarters,
            Numerals::RomanQuarters,
        ]),
        K::Indices | K::Blank | K::Diver => Numerals::None,
    };
    let markers = match kind {
        K::Blank => MarkerStyle::None,
        K::Indices | K::Chronograph | K::SmallSeconds => *rng.choose(&[
            MarkerStyle::Baton,
            MarkerStyle::Baton,
            MarkerStyle::Dot,
            MarkerStyle::Wedge,
            MarkerStyle::Double,
        ]),
        K::Diver => *rng.choose(&[MarkerStyle::Dot, MarkerStyle::Baton, MarkerStyle::Wedge]),
        K::Sparse => *rng.choose(&[MarkerStyle::Baton, MarkerStyle::Wedge, MarkerStyle::Dot]),
        K::Arabic | K::Roman | K::Railway | K::Pilot => {
            if rng.bool(0.3) {
                *rng.choose(&[MarkerStyle::Baton, MarkerStyle::Dot])
            } else {
                MarkerStyle::None
            }
        }
    };
    let minute_track = match kind {
        K::Blank => MinuteTrack::None,
        K::Railway => *rng.choose(&[MinuteTrack::Railway, MinuteTrack::Numbered]),
        K::Pilot | K::Diver => *rng.choose(&[MinuteTrack::Ticks, MinuteTrack::Dots]),
        _ => *rng.choose(&[
            MinuteTrack::None,
            MinuteTrack::Ticks,
            MinuteTrack::Ticks,
            MinuteTrack::Railway,
            MinuteTrack::Dots,
            MinuteTrack::Numbered,
        ]),
    };
    let subdials = match kind {
        K::SmallSeconds => {
            if rng.bool(0.75) || !round {
                SubDials::At6
            } else {
                SubDials::At9
            }
        }
        K::Chronograph => *rng.choose(&[
            SubDials::At3And9,
            SubDials::At3And6And9,
            SubDials::At12And6And9,
        ]),
        _ => SubDials::None,
    };
    let wrist = family == BodyFamily::Wrist;
    let date = if wrist && kind != K::Blank && rng.bool(0.35) {
        let position = match subdials {
            SubDials::None => {
                *rng.choose(&[DatePosition::At3, DatePosition::At3, DatePosition::At6])
            }
            SubDials::At6 | SubDials::At9 => DatePosition::At3,
            _ => DatePosition::At4Thirty,
        };
        Some(DateWindow {
            position,
            day: rng.range_u32(1, 32) as u8,
        })
    } else {
        None
    };
    let brand = rng.bool(0.8).then(|| palette::brand_word(rng));
    let subtitle = rng
        .bool(0.55)
        .then(|| palette::subtitle(rng, kind, family).to_owned());
    let font = match numerals {
        Numerals::Roman | Numerals::RomanQuarters => {
            *rng.choose(&[FontChoice::Serif, FontChoice::SerifBold])
        }
        _ => *rng.choose(&[
            FontChoice::Sans,
            FontChoice::SansBold,
            FontChoice::SansBold,
            FontChoice::Condensed,
            FontChoice::Serif,
            FontChoice::SerifBold,
        ]),
    };
    let numeral_size = match numerals {
        Numerals::Roman => rng.range_f64(0.10, 0.15),
        Numerals::RomanQuarters | Numerals::ArabicQuarters | Numerals::Explorer => {
            rng.range_f64(0.15, 0.22)
        }
        _ => rng.range_f64(0.11, 0.17),
    };
    let lume = (matches!(kind, K::Diver | K::Pilot) || rng.bool(0.15)).then_some(c.lume);
    DialSpec {
        texture,
        color: c.dial,
        color2: c.dial2,
        ink: c.ink,
        accent: c.accent,
        lume,
        numerals,
        roman_iiii: rng.bool(0.5),
        font,
        orientation: if numerals != Numerals::None && rng.bool(0.2) {
            Orientation::Radial
        } else {
            Orientation::Upright
        },
        numeral_size: q(numeral_size),
        markers,
        triangle_at_12: matches!(kind, K::Diver | K::Pilot)
            || (numerals == Numerals::Explorer)
            || rng.bool(0.1),
        minute_track,
        inner_24h: kind == K::Pilot && rng.bool(0.5),
        subdials,
        subdial_hand_angles: [
            q(rng.range_f64(0.0, 360.0)),
            q(rng.range_f64(0.0, 360.0)),
            q(rng.range_f64(0.0, 360.0)),
        ],
        date,
        brand,
        subtitle,
        text_font: *rng.choose(&[
            FontChoice::Sans,
            FontChoice::SansBold,
            FontChoice::Condensed,
            FontChoice::Serif,
        ]),
    }
}

fn sample_hands(
    rng: &mut Rng,
    kind: DialKind,
    family: BodyFamily,
    dial: &DialSpec,
    c: &palette::Colors,
) -> HandsSpec {
    let style = match kind {
        DialKind::Diver => *rng.choose(&[
            HandStyle::Sword,
            HandStyle::Arrow,
            HandStyle::Baton,
            HandStyle::Pencil,
            HandStyle::Skeleton,
        ]),
        DialKind::Roman => *rng.choose(&[
            HandStyle::Breguet,
            HandStyle::Spade,
            HandStyle::Leaf,
            HandStyle::Dauphine,
            HandStyle::Alpha,
            HandStyle::Baton,
        ]),
        _ => *rng.choose(&HAND_STYLES),
    };
    let has_seconds = match kind {
        DialKind::SmallSeconds => true,
        _ => rng.bool(0.75),
    };
    let in_subdial = match kind {
        DialKind::SmallSeconds => true,
        DialKind::Chronograph => rng.bool(0.5),
        _ => false,
    };
    let second = has_seconds.then(|| SecondHandSpec {
        style: if in_subdial {
            SecondStyle::Needle
        } else {
            *rng.choose(&[
                SecondStyle::Needle,
                SecondStyle::Needle,
                SecondStyle::Lollipop,
                SecondStyle::Arrow,
                SecondStyle::Counterweight,
            ])
        },
        color: c.second,
        in_subdial,
    });
    let lume = (dial.lume.is_some()
        && matches!(
            style,
            HandStyle::Sword | HandStyle::Baton | HandStyle::Pencil | HandStyle::Arrow
        ))
    .then_some(c.lume);
    let long = family != BodyFamily::Wrist;
    HandsSpec {
        style,
        color: c.hands,
        lume,
        hour_length: q(rng.range_f64(0.5, 0.62)),
        minute_length: q(if long {
            rng.range_f64(0.84, 0.92)
        } else {
            rng.range_f64(0.8, 0.9)
        }),
        width: q(rng.range_f64(0.8, 1.25)),
        second,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sampled face's name reads back to the spec's material, body, theme, dial
    /// colour, dial kind and hand style.
    #[test]
    fn names_parse_back_to_their_parts() {
        for seed in 0..2000 {
            let face = FaceSpec::sample(seed);
            let parts = FaceSpec::parse_name(&face.name())
                .unwrap_or_else(|| panic!("{seed}: {:?} does not parse", face.name()));
            assert_eq!(
                parts,
                FaceNameParts {
                    material: face.material.name().to_string(),
                    body: usize::from(face.body),
                    theme: face.theme.name().to_string(),
                    dial_color: face.dial.color.name().to_string(),
                    dial_kind: face.kind,
                    hand_style: face.hands.style,
                },
                "{seed}: {}",
                face.name()
            );
        }
        assert_eq!(
            FaceSpec::parse_name("Steel sundial, light black arabic dial"),
            None
        );
        assert_eq!(FaceSpec::parse_name(""), None);
    }

    #[test]
    fn sample_is_deterministic_and_ids_are_stable() {
        let a = FaceSpec::sample(11);
        let b = FaceSpec::sample(11);
        assert_eq!(a, b);
        assert_eq!(a.face_id(), b.face_id());
        assert_eq!(a.face_id().len(), 16);
        assert_ne!(a.face_id(), FaceSpec::sample(12).face_id());
    }

    #[test]
    fn json_round_trips() {
        for seed in 0..50 {
            let f = FaceSpec::sample(seed);
            let json = serde_json::to_string(&f).unwrap();
            let back: FaceSpec = serde_json::from_str(&json).unwrap();
            assert_eq!(f, back);
            assert_eq!(f.face_id(), back.face_id());
        }
    }

    #[test]
    fn names_are_readable() {
        let n = FaceSpec::sample(3).name();
        assert!(n.chars().next().unwrap().is_uppercase(), "{n}");
        assert!(n.contains(" dial, "), "{n}");
    }
}
