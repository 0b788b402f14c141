//! The bundled fonts and the one shared `usvg::Options` that knows them.
//!
//! Fonts are compiled into the binary (`include_bytes!`) and loaded into a single font
//! database the first time a face is rendered; system fonts are never consulted, so text
//! renders the same everywhere. Licences: `fonts/LICENSE-*.txt`.

use std::sync::{Arc, OnceLock};

use resvg::usvg;

/// `(file name, bytes)` of every bundled font.
pub const FONT_FILES: [(&str, &[u8]); 5] = [
    (
        "LiberationSans-Regular.ttf",
        include_bytes!("../fonts/LiberationSans-Regular.ttf"),
    ),
    (
        "LiberationSans-Bold.ttf",
        include_bytes!("../fonts/LiberationSans-Bold.ttf"),
    ),
    (
        "LiberationSerif-Bold.ttf",
        include_bytes!("../fonts/LiberationSerif-Bold.ttf"),
    ),
    (
        "DejaVuSerif.ttf",
        include_bytes!("../fonts/DejaVuSerif.ttf"),
    ),
    (
        "DejaVuSansCondensed-Bold.ttf",
        include_bytes!("../fonts/DejaVuSansCondensed-Bold.ttf"),
    ),
];

/// Parse options with the bundled fonts, built once per process.
pub(crate) fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        for (_, bytes) in FONT_FILES {
            db.load_font_data(bytes.to_vec());
        }
        db.set_sans_serif_family("Liberation Sans");
        db.set_serif_family("DejaVu Serif");
        usvg::Options {
            font_family: "Liberation Sans".to_owned(),
            fontdb: Arc::new(db),
            ..usvg::Options::default()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_loaded() {
        let db = &options().fontdb;
        let families: Vec<String> = db
            .faces()
            .flat_map(|f| f.families.iter().map(|(n, _)| n.clone()))
            .collect();
        for want in [
            "Liberation Sans",
            "Liberation Serif",
            "DejaVu Serif",
            "DejaVu Sans",
        ] {
            assert!(
                families.iter().any(|f| f == want),
                "{want} missing from {families:?}"
            );
        }
    }
}
