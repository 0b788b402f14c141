//! The catalogue of watch and clock bodies: case shape, bezel, lugs, crown, strap.
//!
//! A body is everything around the dial. Faces pick a body by index into [`bodies`] and a case
//! [`Material`] from the ones that suit its [`BodyFamily`]. The catalogue is append-only:
//! changing or reordering an entry changes the pixels of existing face specs, so it needs a
//! [`crate::GENERATOR_VERSION`] bump.

use serde::{Deserialize, Serialize};

use crate::color::Color;

/// The outline of the case (and, through it, the dial shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseShape {
    Round,
    Cushion,
    Tonneau,
    Square,
    Rectangle,
    Octagon,
    Oval,
    Pocket,
    Wall,
    WallSquare,
    AlarmBells,
    Desk,
}

/// The ring around the dial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BezelStyle {
    /// A narrow polished rim.
    Thin,
    /// A wide polished ring.
    Polished,
    /// A rotating diver's bezel with a 60-minute scale and numbers every ten minutes.
    Diver,
    /// A tachymeter scale printed on the bezel.
    Tachymeter,
    /// A coin-edge (knurled) ring.
    Knurled,
    /// A fluted ring (radial grooves).
    Fluted,
    /// A two-tone 24-hour scale.
    Gmt,
    /// A ring of set stones.
    Gems,
    /// An octagonal ring held by eight screws.
    Screws,
}

/// How the case meets the strap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LugStyle {
    Straight,
    Horn,
    Integrated,
    Wire,
    None,
}

/// The winding crown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrownStyle {
    Standard,
    Onion,
    Guarded,
    /// A stem and bow at 12 o'clock.
    Pocket,
    None,
}

/// What holds the watch, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrapKind {
    Leather,
    /// Three-row link bracelet.
    Bracelet,
    /// Five-row link bracelet.
    Jubilee,
    Mesh,
    /// Striped fabric strap.
    Nato,
    Rubber,
    /// A pocket-watch chain.
    Chain,
    None,
}

/// Which kind of object a body is: decides materials, typical dial sizes and strap use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyFamily {
    Wrist,
    Pocket,
    Wall,
    Alarm,
}

/// What the case is made of (its colours).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Material {
    Steel,
    Gold,
    RoseGold,
    BlackSteel,
    Titanium,
    Bronze,
    WhitePlastic,
    BlackPlastic,
    RedPlastic,
    BluePlastic,
    GreenPlastic,
    YellowPlastic,
    Wood,
    DarkWood,
}

impl Material {
    /// Base, highlight and shadow colours.
    pub fn colors(self) -> (Color, Color, Color) {
        let base = match self {
            Material::Steel => Color::rgb(176, 180, 186),
            Material::Gold => Color::rgb(205, 164, 82),
            Material::RoseGold => Color::rgb(206, 148, 126),
            Material::BlackSteel => Color::rgb(48, 50, 54),
            Material::Titanium => Color::rgb(128, 130, 134),
            Material::Bronze => Color::rgb(150, 108, 64),
            Material::WhitePlastic => Color::rgb(236, 236, 232),
            Material::BlackPlastic => Color::rgb(34, 34, 36),
            Material::RedPlastic => Color::rgb(196, 40, 44),
            Material::BluePlastic => Color::rgb(40, 92, 170),
            Material::GreenPlastic => Color::rgb(60, 140, 90),
            Material::YellowPlastic => Color::rgb(236, 196, 50),
            Material::Wood => Color::rgb(170, 118, 70),
            Material::DarkWood => Color::rgb(96, 60, 36),
        };
        let metal = !matches!(
            self,
            Material::WhitePlastic
                | Material::BlackPlastic
                | Material::RedPlastic
                | Material::BluePlastic
                | Material::GreenPlastic
                | Material::YellowPlastic
                | Material::Wood
                | Material::DarkWood
        );
        let (hi, lo) = if metal { (0.55, 0.45) } else { (0.25, 0.3) };
        (base, base.lighten(hi), base.darken(lo))
    }

    /// English name for face names.
    pub fn name(self) -> &'static str {
        match self {
            Material::Steel => "steel",
            Material::Gold => "gold",
            Material::RoseGold => "rose-gold",
            Material::BlackSteel => "black steel",
            Material::Titanium => "titanium",
            Material::Bronze => "bronze",
            Material::WhitePlastic => "white",
            Material::BlackPlastic => "black",
            Material::RedPlastic => "red",
            Material::BluePlastic => "blue",
            Material::GreenPlastic => "green",
            Material::YellowPlastic => "yellow",
            Material::Wood => "wooden",
            Material::DarkWood => "dark wooden",
        }
    }
}

impl BodyFamily {
    /// Materials that suit this family.
    pub fn materials(self) -> &'static [Material] {
        use Material::*;
        match self {
            BodyFamily::Wrist => &[Steel, Steel, Gold, RoseGold, BlackSteel, Titanium, Bronze],
            BodyFamily::Pocket => &[Steel, Gold, Gold, RoseGold, Bronze],
            BodyFamily::Wall => &[
                BlackPlastic,
                WhitePlastic,
                Wood,
                DarkWood,
                Steel,
                RedPlastic,
                BluePlastic,
                Gold,
            ],
            BodyFamily::Alarm => &[
                RedPlastic,
                BluePlastic,
                GreenPlastic,
                YellowPlastic,
                Steel,
                BlackPlastic,
                WhitePlastic,
            ],
        }
    }
}

/// One catalogue entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct BodySpec {
    pub name: &'static str,
    pub case: CaseShape,
    pub bezel: BezelStyle,
    pub lugs: LugStyle,
    pub crown: CrownStyle,
    pub strap: StrapKind,
    /// Chronograph pushers beside the crown.
    pub pushers: bool,
}

impl BodySpec {
    pub fn family(&self) -> BodyFamily {
        match self.case {
            CaseShape::Pocket => BodyFamily::Pocket,
            CaseShape::Wall | CaseShape::WallSquare => BodyFamily::Wall,
            CaseShape::AlarmBells | CaseShape::Desk => BodyFamily::Alarm,
            _ => BodyFamily::Wrist,
        }
    }
}

const fn b(
    name: &'static str,
    case: CaseShape,
    bezel: BezelStyle,
    lugs: LugStyle,
    crown: CrownStyle,
    strap: StrapKind,
    pushers: bool,
) -> BodySpec {
    BodySpec {
        name,
        case,
        bezel,
        lugs,
        crown,
        strap,
        pushers,
    }
}

use BezelStyle as Bz;
use CaseShape as Cs;
use CrownStyle as Cr;
use LugStyle as Lg;
use StrapKind as St;

#[rustfmt::skip]
static BODIES: [BodySpec; 60] = [
    b("round dress watch on leather", Cs::Round, Bz::Polished, Lg::Straight, Cr::Standard, St::Leather, false),
    b("round diver on link bracelet", Cs::Round, Bz::Diver, Lg::Straight, Cr::Guarded, St::Bracelet, false),
    b("round diver on rubber strap", Cs::Round, Bz::Diver, Lg::Straight, Cr::Guarded, St::Rubber, false),
    b("round diver on NATO strap", Cs::Round, Bz::Diver, Lg::Straight, Cr::Standard, St::Nato, false),
    b("round tachymeter chronograph on bracelet", Cs::Round, Bz::Tachymeter, Lg::Straight, Cr::Standard, St::Bracelet, true),
    b("round tachymeter chronograph on leather", Cs::Round, Bz::Tachymeter, Lg::Horn, Cr::Standard, St::Leather, true),
    b("round racing chronograph on rubber", Cs::Round, Bz::Tachymeter, Lg::Straight, Cr::Standard, St::Rubber, true),
    b("round fluted-bezel watch on jubilee", Cs::Round, Bz::Fluted, Lg::Straight, Cr::Standard, St::Jubilee, false),
    b("round GMT watch on jubilee", Cs::Round, Bz::Gmt, Lg::Straight, Cr::Guarded, St::Jubilee, false),
    b("round GMT watch on bracelet", Cs::Round, Bz::Gmt, Lg::Straight, Cr::Guarded, St::Bracelet, false),
    b("round knurled-bezel watch on mesh", Cs::Round, Bz::Knurled, Lg::Straight, Cr::Standard, St::Mesh, false),
    b("round minimalist watch on mesh", Cs::Round, Bz::Thin, Lg::Straight, Cr::Standard, St::Mesh, false),
    b("round field watch on NATO strap", Cs::Round, Bz::Polished, Lg::Straight, Cr::Standard, St::Nato, false),
    b("round pilot watch on leather", Cs::Round, Bz::Thin, Lg::Straight, Cr::Onion, St::Leather, false),
    b("round pilot watch on NATO strap", Cs::Round, Bz::Thin, Lg::Straight, Cr::Onion, St::Nato, false),
    b("round gem-set watch on jubilee", Cs::Round, Bz::Gems, Lg::Straight, Cr::Standard, St::Jubilee, false),
    b("round gem-set watch on leather", Cs::Round, Bz::Gems, Lg::Horn, Cr::Standard, St::Leather, false),
    b("round vintage watch with wire lugs", Cs::Round, Bz::Polished, Lg::Wire, Cr::Onion, St::Leather, false),
    b("round integrated sports watch", Cs::Round, Bz::Polished, Lg::Integrated, Cr::Standard, St::Bracelet, false),
    b("round screwed-bezel sports watch on rubber", Cs::Round, Bz::Screws, Lg::Integrated, Cr::Guarded, St::Rubber, false),
    b("round knurled-bezel watch on leather", Cs::Round, Bz::Knurled, Lg::Horn, Cr::Standard, St::Leather, false),
    b("round fluted dress watch on leather", Cs::Round, Bz::Fluted, Lg::Horn, Cr::Standard, St::Leather, false),
    b("round chronograph on mesh", Cs::Round, Bz::Polished, Lg::Straight, Cr::Standard, St::Mesh, true),
    b("round chronograph on NATO strap", Cs::Round, Bz::Thin, Lg::Straight, Cr::Standard, St::Nato, true),
    b("round diver on mesh", Cs::Round, Bz::Diver, Lg::Straight, Cr::Guarded, St::Mesh, false),
    b("round diver on leather", Cs::Round, Bz::Diver, Lg::Horn, Cr::Standard, St::Leather, false),
    b("round wire-lug watch on NATO strap", Cs::Round, Bz::Thin, Lg::Wire, Cr::Standard, St::Nato, false),
    b("round thin watch on rubber", Cs::Round, Bz::Thin, Lg::Straight, Cr::Standard, St::Rubber, false),
    b("cushion diver on rubber", Cs::Cushion, Bz::Diver, Lg::Straight, Cr::Guarded, St::Rubber, false),
    b("cushion watch on leather", Cs::Cushion, Bz::Polished, Lg::Straight, Cr::Standard, St::Leather, false),
    b("cushion sports watch on bracelet", Cs::Cushion, Bz::Knurled, Lg::Integrated, Cr::Standard, St::Bracelet, false),
    b("cushion pilot watch on NATO strap", Cs::Cushion, Bz::Thin, Lg::Straight, Cr::Onion, St::Nato, false),
    b("tonneau watch on rubber", Cs::Tonneau, Bz::Polished, Lg::Integrated, Cr::Standard, St::Rubber, false),
    b("tonneau watch on leather", Cs::Tonneau, Bz::Polished, Lg::Integrated, Cr::Standard, St::Leather, false),
    b("tonneau chronograph on rubber", Cs::Tonneau, Bz::Screws, Lg::Integrated, Cr::Standard, St::Rubber, true),
    b("square watch on leather", Cs::Square, Bz::Polished, Lg::Straight, Cr::Standard, St::Leather, false),
    b("square watch on link bracelet", Cs::Square, Bz::Polished, Lg::Integrated, Cr::Standard, St::Bracelet, false),
    b("square screwed-bezel watch on rubber", Cs::Square, Bz::Screws, Lg::Straight, Cr::Standard, St::Rubber, false),
    b("square watch on mesh", Cs::Square, Bz::Thin, Lg::Straight, Cr::Onion, St::Mesh, false),
    b("rectangular tank watch on leather", Cs::Rectangle, Bz::Polished, Lg::Straight, Cr::Onion, St::Leather, false),
    b("rectangular watch on link bracelet", Cs::Rectangle, Bz::Polished, Lg::Integrated, Cr::Standard, St::Bracelet, false),
    b("rectangular vintage watch with wire lugs", Cs::Rectangle, Bz::Thin, Lg::Wire, Cr::Standard, St::Leather, false),
    b("rectangular watch on mesh", Cs::Rectangle, Bz::Polished, Lg::Straight, Cr::Standard, St::Mesh, false),
    b("octagonal sports watch on bracelet", Cs::Octagon, Bz::Screws, Lg::Integrated, Cr::Standard, St::Bracelet, false),
    b("octagonal sports watch on rubber", Cs::Octagon, Bz::Screws, Lg::Integrated, Cr::Standard, St::Rubber, false),
    b("octagonal watch on leather", Cs::Octagon, Bz::Polished, Lg::Straight, Cr::Standard, St::Leather, false),
    b("oval watch on leather", Cs::Oval, Bz::Polished, Lg::Straight, Cr::Standard, St::Leather, false),
    b("oval gem-set watch on bracelet", Cs::Oval, Bz::Gems, Lg::Straight, Cr::Standard, St::Bracelet, false),
    b("pocket watch on a chain", Cs::Pocket, Bz::Polished, Lg::None, Cr::Pocket, St::Chain, false),
    b("knurled pocket watch", Cs::Pocket, Bz::Knurled, Lg::None, Cr::Pocket, St::None, false),
    b("fluted pocket watch on a chain", Cs::Pocket, Bz::Fluted, Lg::None, Cr::Pocket, St::Chain, false),
    b("round wall clock with a thin rim", Cs::Wall, Bz::Thin, Lg::None, Cr::None, St::None, false),
    b("round station wall clock", Cs::Wall, Bz::Polished, Lg::None, Cr::None, St::None, false),
    b("round wall clock with a fluted frame", Cs::Wall, Bz::Fluted, Lg::None, Cr::None, St::None, false),
    b("porthole wall clock", Cs::Wall, Bz::Screws, Lg::None, Cr::None, St::None, false),
    b("square wall clock", Cs::WallSquare, Bz::Polished, Lg::None, Cr::None, St::None, false),
    b("square wall clock with a thin frame", Cs::WallSquare, Bz::Thin, Lg::None, Cr::None, St::None, false),
    b("twin-bell alarm clock", Cs::AlarmBells, Bz::Polished, Lg::None, Cr::None, St::None, false),
    b("twin-bell alarm clock with a knurled rim", Cs::AlarmBells, Bz::Knurled, Lg::None, Cr::None, St::None, false),
    b("desk clock on a stand", Cs::Desk, Bz::Polished, Lg::None, Cr::None, St::None, false),
];

/// Every body in the catalogue, in a fixed order.
pub fn bodies() -> &'static [BodySpec] {
    &BODIES
}

/// Number of bodies in the catalogue.
pub const BODY_COUNT: usize = BODIES.len();

/// The body at index `i`, wrapping around the catalogue.
pub fn body(i: usize) -> &'static BodySpec {
    &BODIES[i % BODY_COUNT]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_entries_are_distinct() {
        const { assert!(BODY_COUNT >= 50) };
        for (i, a) in BODIES.iter().enumerate() {
            for other in &BODIES[i + 1..] {
                let key = |x: &BodySpec| (x.case, x.bezel, x.lugs, x.crown, x.strap, x.pushers);
                assert_ne!(key(a), key(other), "{} vs {}", a.name, other.name);
                assert_ne!(a.name, other.name);
            }
        }
    }
}
