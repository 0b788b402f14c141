//! The kinds the docs pipeline can draw: charts and diagrams from `pixmo-gen-docs`, tables
//! and documents from `pixmo-gen-typst`, under one name space.
//!
//! Names are the generators' snake_case names (`bar_chart`, `flowchart`, `invoice`); a
//! document kind may also be written `typst:<kind>`. The two sets of names are disjoint (a
//! unit test checks it), so a plain name is never ambiguous.

use pixmo_gen_docs::FigureKind;
use pixmo_gen_typst::DocKind;
use serde::{Deserialize, Serialize};

/// One kind of figure or document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A chart or diagram (`pixmo-gen-docs`: plotters or SVG through resvg).
    Figure(FigureKind),
    /// A table or document (`pixmo-gen-typst`: typst as a library).
    Doc(DocKind),
}

impl Kind {
    /// Every kind: figures first, then documents.
    #[must_use]
    pub fn all() -> Vec<Kind> {
        FigureKind::ALL
            .into_iter()
            .map(Kind::Figure)
            .chain(DocKind::ALL.into_iter().map(Kind::Doc))
            .collect()
    }

    /// The stable name written into rows (`bar_chart`, `invoice`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Kind::Figure(k) => k.name(),
            Kind::Doc(k) => k.name(),
        }
    }

    /// The kind called `name` (`invoice` or `typst:invoice`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Kind> {
        if let Some(doc) = name.strip_prefix("typst:") {
            return DocKind::from_name(doc).map(Kind::Doc);
        }
        FigureKind::from_name(name)
            .map(Kind::Figure)
            .or_else(|| DocKind::from_name(name).map(Kind::Doc))
    }

    /// Parses `name`, or explains what it is not, naming the closest known kind.
    ///
    /// # Errors
    /// A message for an unknown name.
    pub fn parse(name: &str) -> Result<Kind, String> {
        Kind::from_name(name).ok_or_else(|| {
            let bare = name.strip_prefix("typst:").unwrap_or(name);
            let names: Vec<&'static str> = Kind::all().into_iter().map(Kind::name).collect();
            let hint = pixmo_dag::registry::nearest(bare, names.iter().copied())
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            format!(
                "unknown figure kind `{name}`{hint}; known kinds: {}",
                names.join(", ")
            )
        })
    }

    /// The generator's answer to unanswerable questions.
    #[must_use]
    pub fn refusal(self) -> &'static str {
        match self {
            Kind::Figure(_) => pixmo_gen_docs::REFUSAL,
            Kind::Doc(_) => pixmo_gen_typst::REFUSAL,
        }
    }
}

/// Render settings carried in each record's `figure_options`, turned into each generator's
/// own options by `docs.render`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderSettings {
    /// Smallest canvas side of charts and diagrams, in pixels.
    pub min_side: u32,
    /// Largest canvas side of charts and diagrams, in pixels.
    pub max_side: u32,
    /// Resolution of typst documents in pixels per point (1.5 = 108 dpi: an A4 page is
    /// 893 x 1263 pixels).
    pub doc_pixel_per_pt: f32,
}

impl RenderSettings {
    /// Options for `pixmo-gen-docs`.
    #[must_use]
    pub fn figure_options(&self) -> pixmo_gen_docs::GenerateOptions {
        pixmo_gen_docs::GenerateOptions {
            min_side: self.min_side,
            max_side: self.max_side,
        }
    }

    /// Options for `pixmo-gen-typst`.
    #[must_use]
    pub fn doc_options(&self) -> pixmo_gen_typst::GenerateOptions {
        let mut options = pixmo_gen_typst::GenerateOptions::default();
        options.render.pixel_per_pt = self.doc_pixel_per_pt;
        options
    }

    /// Checks the bounds.
    ///
    /// # Errors
    /// A message naming the bad setting.
    pub fn validate(&self) -> Result<(), String> {
        self.figure_options()
            .validate()
            .map_err(|e| e.to_string())?;
        if !(self.doc_pixel_per_pt.is_finite() && (0.5..=4.0).contains(&self.doc_pixel_per_pt)) {
            return Err(format!(
                "`doc_pixel_per_pt` must be between 0.5 and 4, not {}",
                self.doc_pixel_per_pt
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_disjoint_and_round_trip() {
        let all = Kind::all();
        let mut names: Vec<&str> = all.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "a name is shared by two generators");
        for k in all {
            assert_eq!(Kind::from_name(k.name()), Some(k));
        }
        assert_eq!(
            Kind::from_name("typst:invoice"),
            Some(Kind::Doc(DocKind::Invoice))
        );
        assert_eq!(Kind::from_name("typst:bar_chart"), None);
    }

    #[test]
    fn unknown_names_get_the_nearest_kind() {
        let err = Kind::parse("invioce").unwrap_err();
        assert!(err.contains("did you mean `invoice`"), "{err}");
        let err = Kind::parse("typst:reciept").unwrap_err();
        assert!(err.contains("did you mean `receipt`"), "{err}");
        assert!(Kind::parse("flowchart").is_ok());
    }

    #[test]
    fn settings_are_checked() {
        let mut s = RenderSettings {
            min_side: 400,
            max_side: 1000,
            doc_pixel_per_pt: 1.5,
        };
        assert!(s.validate().is_ok());
        s.doc_pixel_per_pt = 9.0;
        assert!(s.validate().unwrap_err().contains("doc_pixel_per_pt"));
        s.doc_pixel_per_pt = 1.5;
        s.min_side = 10;
        assert!(s.validate().is_err());
    }
}
