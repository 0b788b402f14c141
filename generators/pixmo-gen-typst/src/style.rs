//! The look of a document: fonts, palette, page, margins, table style. Chosen by a seeded RNG.

use pixmo_core::Rng;
use serde::{Deserialize, Serialize};

use crate::fonts::FontFamily;
use crate::typ::rgb;

/// Colours of one document, as `#rrggbb`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Palette {
    /// Page background.
    pub background: String,
    /// Body text.
    pub ink: String,
    /// Headings, rules, header fills.
    pub accent: String,
    /// Secondary text (labels, captions).
    pub muted: String,
    /// Text on an accent fill.
    pub on_accent: String,
    /// Alternate-row fill of striped tables.
    pub stripe: String,
}

/// `(background, ink, accent, muted, on_accent, stripe)`.
const PALETTES: [[&str; 6]; 12] = [
    [
        "#ffffff", "#1a1a1a", "#1f4e79", "#5f6b7a", "#ffffff", "#eaf1f8",
    ],
    [
        "#ffffff", "#222222", "#8b1e3f", "#6b5e62", "#ffffff", "#f7ecef",
    ],
    [
        "#fdfbf6", "#2b2b2b", "#2e6b4f", "#6a7063", "#ffffff", "#edf4ee",
    ],
    [
        "#fffdf7", "#30261c", "#a0522d", "#7a6a58", "#ffffff", "#f6ece1",
    ],
    [
        "#f7f9fc", "#111827", "#374151", "#6b7280", "#ffffff", "#e5e7eb",
    ],
    [
        "#ffffff", "#0b1f33", "#0e7490", "#4b6475", "#ffffff", "#e3f3f7",
    ],
    [
        "#fbf8ff", "#241a33", "#5b3f8c", "#6e6380", "#ffffff", "#efe9f8",
    ],
    [
        "#ffffff", "#1c1c1c", "#c2410c", "#6b6b6b", "#ffffff", "#fdeee5",
    ],
    [
        "#f4f1e8", "#262018", "#54463a", "#7b705f", "#f4f1e8", "#e7e1d2",
    ],
    [
        "#ffffff", "#202020", "#000000", "#606060", "#ffffff", "#f0f0f0",
    ],
    [
        "#eef4f2", "#18302a", "#1d6b5c", "#52685f", "#ffffff", "#dbe9e4",
    ],
    [
        "#fffaf0", "#2a2118", "#b7791f", "#7c6a4f", "#1f1a12", "#fbefd5",
    ],
];

/// How table cells are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableStyle {
    /// Alternating row fills, no lines.
    Striped,
    /// Horizontal rules only: top, under the header, bottom (booktabs).
    Ruled,
    /// A line around every cell.
    Grid,
    /// No lines except a thin one under the header.
    Minimal,
}

impl TableStyle {
    /// Every table style.
    pub const ALL: [TableStyle; 4] = [
        TableStyle::Striped,
        TableStyle::Ruled,
        TableStyle::Grid,
        TableStyle::Minimal,
    ];
}

/// How a table's header row stands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderStyle {
    /// Accent fill, contrasting bold text.
    Filled,
    /// Bold text in the accent colour.
    Bold,
    /// Small upper-case muted text.
    SmallCaps,
}

/// Page size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageSize {
    /// ISO A4, 595 x 842 pt.
    A4,
    /// US Letter, 612 x 792 pt.
    Letter,
    /// ISO A5, 420 x 595 pt.
    A5,
    /// A fixed width and a height that grows with the content (one page, never overflows).
    Auto {
        /// Width in points.
        width: f64,
    },
}

/// Everything about a document's appearance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Style {
    /// Body font.
    pub font: FontFamily,
    /// Heading font.
    pub heading_font: FontFamily,
    /// Body size in points.
    pub font_size: f64,
    /// Page size.
    pub page: PageSize,
    /// Page margin in points.
    pub margin: f64,
    /// Colours.
    pub palette: Palette,
    /// Table rules.
    pub table: TableStyle,
    /// Table header look.
    pub header: HeaderStyle,
    /// Right-align numeric columns (else centre them).
    pub numbers_right: bool,
}

impl Style {
    /// A random style; `narrow` documents (receipts) get a small auto-height page.
    pub fn sample(rng: &mut Rng, page_choices: &[PageSize]) -> Style {
        let font = *rng.choose(&FontFamily::BODY).unwrap_or(&FontFamily::Sans);
        let heading_font = if rng.bool(0.6) {
            font
        } else {
            *rng.choose(&[
                FontFamily::Sans,
                FontFamily::Serif,
                FontFamily::BookSerif,
                FontFamily::HumanistSans,
                FontFamily::Condensed,
            ])
            .unwrap_or(&font)
        };
        let p = rng.choose(&PALETTES).unwrap_or(&PALETTES[0]);
        let palette = Palette {
            background: p[0].into(),
            ink: p[1].into(),
            accent: p[2].into(),
            muted: p[3].into(),
            on_accent: p[4].into(),
            stripe: p[5].into(),
        };
        let page = *rng.choose(page_choices).unwrap_or(&PageSize::A4);
        let font_size = match page {
            PageSize::A5 => rng.range_f64(8.5, 10.0),
            _ => rng.range_f64(9.5, 11.5),
        };
        Style {
            font,
            heading_font,
            font_size: (font_size * 2.0).round() / 2.0,
            page,
            margin: f64::from(rng.range_u32(28, 60)),
            palette,
            table: *rng.choose(&TableStyle::ALL).unwrap_or(&TableStyle::Grid),
            header: *rng
                .choose(&[
                    HeaderStyle::Filled,
                    HeaderStyle::Bold,
                    HeaderStyle::SmallCaps,
                ])
                .unwrap_or(&HeaderStyle::Bold),
            numbers_right: rng.bool(0.8),
        }
    }

    /// The `set` rules every document starts with.
    #[must_use]
    pub fn preamble(&self) -> String {
        let (w, h) = match self.page {
            PageSize::A4 => ("595.28pt".to_owned(), "841.89pt".to_owned()),
            PageSize::Letter => ("612pt".to_owned(), "792pt".to_owned()),
            PageSize::A5 => ("419.53pt".to_owned(), "595.28pt".to_owned()),
            PageSize::Auto { width } => (format!("{width:.0}pt"), "auto".to_owned()),
        };
        format!(
            "#set page(width: {w}, height: {h}, margin: {m:.0}pt, fill: {bg})\n\
             #set text(font: \"{font}\", size: {size}pt, fill: {ink}, hyphenate: false)\n\
             #set par(justify: false, leading: 0.6em)\n\
             #show heading: set text(font: \"{hfont}\", fill: {accent})\n",
            m = self.margin,
            bg = rgb(&self.palette.background),
            font = self.font.typst_name(),
            size = self.font_size,
            ink = rgb(&self.palette.ink),
            hfont = self.heading_font.typst_name(),
            accent = rgb(&self.palette.accent),
        )
    }
}
