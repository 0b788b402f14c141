//! Fonts: the clock generator's bundled files, reused (not copied) through `include_bytes!`,
//! registered with plotters (ab_glyph) and loaded into one usvg font database. System fonts
//! are never consulted, so text renders the same everywhere.

use std::sync::{Arc, Once, OnceLock};

use plotters::style::FontStyle;
use resvg::usvg;
use serde::{Deserialize, Serialize};

/// `(file name, bytes)` of every font this crate draws with.
pub const FONT_FILES: [(&str, &[u8]); 5] = [
    (
        "LiberationSans-Regular.ttf",
        include_bytes!("../../pixmo-gen-clock/fonts/LiberationSans-Regular.ttf"),
    ),
    (
        "LiberationSans-Bold.ttf",
        include_bytes!("../../pixmo-gen-clock/fonts/LiberationSans-Bold.ttf"),
    ),
    (
        "LiberationSerif-Bold.ttf",
        include_bytes!("../../pixmo-gen-clock/fonts/LiberationSerif-Bold.ttf"),
    ),
    (
        "DejaVuSerif.ttf",
        include_bytes!("../../pixmo-gen-clock/fonts/DejaVuSerif.ttf"),
    ),
    (
        "DejaVuSansCondensed-Bold.ttf",
        include_bytes!("../../pixmo-gen-clock/fonts/DejaVuSansCondensed-Bold.ttf"),
    ),
];

/// A typeface a figure may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FontChoice {
    /// Liberation Sans (regular text, bold titles).
    Sans,
    /// DejaVu Serif text with Liberation Serif Bold titles.
    Serif,
    /// DejaVu Sans Condensed Bold throughout.
    Condensed,
}

impl FontChoice {
    /// Every choice.
    pub const ALL: [FontChoice; 3] = [FontChoice::Sans, FontChoice::Serif, FontChoice::Condensed];

    /// Index into [`FONT_FILES`] of the body and title faces.
    fn files(self) -> (usize, usize) {
        match self {
            FontChoice::Sans => (0, 1),
            FontChoice::Serif => (3, 2),
            FontChoice::Condensed => (4, 4),
        }
    }

    /// plotters family name of the body face.
    #[must_use]
    pub fn plot_body(self) -> &'static str {
        PLOT_FAMILIES[self.files().0]
    }

    /// plotters family name of the title face.
    #[must_use]
    pub fn plot_title(self) -> &'static str {
        PLOT_FAMILIES[self.files().1]
    }

    /// SVG `font-family` of body text and whether titles are bold in that family.
    #[must_use]
    pub fn svg_family(self) -> &'static str {
        match self {
            FontChoice::Sans => "Liberation Sans",
            FontChoice::Serif => "DejaVu Serif",
            FontChoice::Condensed => "DejaVu Sans",
        }
    }

    /// Parsed body face, for measuring text.
    pub(crate) fn body_font(self) -> ab_glyph::FontRef<'static> {
        font_ref(self.files().0)
    }
}

/// plotters names of the faces in [`FONT_FILES`] order (namespaced so they cannot clash with
/// other crates' registrations in the same process).
const PLOT_FAMILIES: [&str; 5] = [
    "pixmo-docs-sans",
    "pixmo-docs-sans-bold",
    "pixmo-docs-serif-bold",
    "pixmo-docs-serif",
    "pixmo-docs-condensed",
];

fn font_ref(index: usize) -> ab_glyph::FontRef<'static> {
    // The bundled files are known good; a test parses every one.
    ab_glyph::FontRef::try_from_slice(FONT_FILES[index].1)
        .unwrap_or_else(|_| panic!("bundled font {} does not parse", FONT_FILES[index].0))
}

/// Registers the bundled faces with plotters, once per process.
pub(crate) fn register_plot_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (family, (_, bytes)) in PLOT_FAMILIES.iter().zip(FONT_FILES) {
            // Cannot fail for the bundled files (see the test below).
            let _ = plotters::style::register_font(family, FontStyle::Normal, bytes);
        }
    });
}

/// Width in pixels of `text` at `size` px in `font` (advance widths and kerning).
pub(crate) fn text_width(font: &ab_glyph::FontRef<'static>, size: f32, text: &str) -> f32 {
    use ab_glyph::{Font, ScaleFont};
    let scaled = font.as_scaled(size);
    let mut width = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    width
}

/// usvg options with the bundled fonts only, no resource directory and no external images.
pub(crate) fn svg_options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        for (_, bytes) in FONT_FILES {
            db.load_font_data(bytes.to_vec());
        }
        db.set_sans_serif_family("Liberation Sans");
        db.set_serif_family("DejaVu Serif");
        usvg::Options {
            resources_dir: None,
            font_family: "Liberation Sans".to_owned(),
            fontdb: Arc::new(db),
            image_href_resolver: usvg::ImageHrefResolver {
                resolve_data: Box::new(|_, _, _| None),
                resolve_string: Box::new(|_, _| None),
            },
            ..usvg::Options::default()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_font_parses_for_both_backends() {
        for i in 0..FONT_FILES.len() {
            let _ = font_ref(i);
        }
        for (_, bytes) in FONT_FILES {
            assert!(
                plotters::style::register_font("pixmo-docs-test", FontStyle::Normal, bytes).is_ok()
            );
        }
        let families: Vec<String> = svg_options()
            .fontdb
            .faces()
            .flat_map(|f| f.families.iter().map(|(n, _)| n.clone()))
            .collect();
        for choice in FontChoice::ALL {
            assert!(
                families.iter().any(|f| f == choice.svg_family()),
                "{families:?}"
            );
        }
    }
}
