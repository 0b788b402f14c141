//! The bundled fonts: compiled into the binary, never read from the host.
//!
//! typst's own embedded fonts (typst-assets) have no proportional sans-serif face, so this
//! crate ships its own set of open fonts instead (licences next to the files, `fonts/LICENSE-*`;
//! the Liberation Sans and Liberation Serif Bold files are shared with `pixmo-gen-clock` and
//! live in its `fonts/` folder).

use std::sync::OnceLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;

macro_rules! font {
    ($dir:literal, $file:literal) => {
        ($file, include_bytes!(concat!($dir, $file)) as &[u8])
    };
}

/// `(file name, bytes)` of every bundled font file.
pub const FONT_FILES: [(&str, &[u8]); 15] = [
    font!("../../pixmo-gen-clock/fonts/", "LiberationSans-Regular.ttf"),
    font!("../../pixmo-gen-clock/fonts/", "LiberationSans-Bold.ttf"),
    font!("../fonts/", "LiberationSerif-Regular.ttf"),
    font!("../../pixmo-gen-clock/fonts/", "LiberationSerif-Bold.ttf"),
    font!("../fonts/", "Caladea-Regular.ttf"),
    font!("../fonts/", "Caladea-Bold.ttf"),
    font!("../fonts/", "Caladea-Italic.ttf"),
    font!("../fonts/", "Cabin-Regular.otf"),
    font!("../fonts/", "Cabin-Bold.otf"),
    font!("../fonts/", "DejaVuSansCondensed.ttf"),
    font!(
        "../../pixmo-gen-clock/fonts/",
        "DejaVuSansCondensed-Bold.ttf"
    ),
    font!("../fonts/", "LiberationMono-Regular.ttf"),
    font!("../fonts/", "LiberationMono-Bold.ttf"),
    font!("../fonts/", "ComicNeue-Regular.otf"),
    font!("../fonts/", "ComicNeue-Bold.otf"),
];

/// Script face used for some headings and signatures (not in [`FONT_FILES`]'s body families).
const SCRIPT_FILES: [(&str, &[u8]); 2] = [
    font!("../fonts/", "DancingScript-Regular.otf"),
    font!("../fonts/", "DancingScript-Bold.otf"),
];

/// A font family a style can pick, by role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FontFamily {
    /// Liberation Sans (Arial-metric grotesque).
    Sans,
    /// Cabin (humanist sans).
    HumanistSans,
    /// Liberation Serif (Times-metric).
    Serif,
    /// Caladea (Cambria-metric serif).
    BookSerif,
    /// DejaVu Sans Condensed.
    Condensed,
    /// Liberation Mono (Courier-metric typewriter).
    Mono,
    /// Comic Neue (handwriting-like).
    Handwriting,
    /// Dancing Script (script; headings only).
    Script,
}

impl FontFamily {
    /// Families suitable for body text.
    pub const BODY: [FontFamily; 7] = [
        FontFamily::Sans,
        FontFamily::HumanistSans,
        FontFamily::Serif,
        FontFamily::BookSerif,
        FontFamily::Condensed,
        FontFamily::Mono,
        FontFamily::Handwriting,
    ];

    /// The family name typst knows the font by.
    #[must_use]
    pub fn typst_name(self) -> &'static str {
        match self {
            FontFamily::Sans => "Liberation Sans",
            FontFamily::HumanistSans => "Cabin",
            FontFamily::Serif => "Liberation Serif",
            FontFamily::BookSerif => "Caladea",
            FontFamily::Condensed => "DejaVu Sans",
            FontFamily::Mono => "Liberation Mono",
            FontFamily::Handwriting => "Comic Neue",
            FontFamily::Script => "Dancing Script",
        }
    }
}

/// The parsed fonts and their book, built once per process.
pub(crate) struct FontSet {
    pub book: LazyHash<FontBook>,
    pub fonts: Vec<Font>,
}

pub(crate) fn font_set() -> &'static FontSet {
    static SET: OnceLock<FontSet> = OnceLock::new();
    SET.get_or_init(|| {
        let fonts: Vec<Font> = FONT_FILES
            .iter()
            .chain(SCRIPT_FILES.iter())
            .flat_map(|(_, bytes)| Font::iter(Bytes::new(*bytes)))
            .collect();
        FontSet {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_resolves_to_a_bundled_font() {
        let set = font_set();
        assert_eq!(set.fonts.len(), FONT_FILES.len() + SCRIPT_FILES.len());
        let families: Vec<String> = set
            .book
            .families()
            .map(|(name, _)| name.to_string())
            .collect();
        for family in FontFamily::BODY.iter().chain([&FontFamily::Script]) {
            let want = family.typst_name().to_lowercase();
            assert!(
                families.iter().any(|f| f.to_lowercase() == want),
                "{want} missing from {families:?}"
            );
        }
    }

    /// Templates use `weight: "bold"` and `strong`: every family needs a real bold face, or
    /// typst would silently draw regular glyphs.
    #[test]
    fn every_family_has_regular_and_bold() {
        let set = font_set();
        for family in FontFamily::BODY.iter().chain([&FontFamily::Script]) {
            let weights: Vec<u16> = set
                .fonts
                .iter()
                .map(|f| f.info())
                .filter(|i| i.family.eq_ignore_ascii_case(family.typst_name()))
                .map(|i| i.variant.weight.to_number())
                .collect();
            assert!(weights.iter().any(|&w| w <= 500), "{family:?}: {weights:?}");
            assert!(weights.iter().any(|&w| w >= 700), "{family:?}: {weights:?}");
        }
    }
}
