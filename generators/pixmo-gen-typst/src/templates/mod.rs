//! Document templates: each samples [`DocData`] from seeded banks and writes typst code for it.

pub(crate) mod commerce;
pub(crate) mod office;
pub(crate) mod tables;

use crate::model::{DocData, Field};
use crate::qa::QaHints;
use crate::style::Style;
use crate::typ::{lit, rgb};

/// What a template produces before rendering.
pub(crate) struct Built {
    pub figure_type: &'static str,
    pub topic: String,
    pub data: DocData,
    pub hints: QaHints,
}

/// `= Title` in the heading font and a size multiple of the body size.
pub(crate) fn title_code(text: &str, style: &Style, scale: f64) -> String {
    format!(
        "#text(font: \"{}\", size: {:.1}pt, weight: \"bold\", fill: {}, {})\n\n",
        style.heading_font.typst_name(),
        style.font_size * scale,
        rgb(&style.palette.accent),
        lit(text)
    )
}

/// A section heading.
pub(crate) fn heading_code(text: &str, style: &Style) -> String {
    format!(
        "#v(0.4em)\n#text(font: \"{}\", size: {:.1}pt, weight: \"bold\", fill: {}, {})\n#v(-0.2em)\n",
        style.heading_font.typst_name(),
        style.font_size * 1.25,
        rgb(&style.palette.accent),
        lit(text)
    )
}

/// Label/value pairs in a grid of `pairs_per_row` pairs.
pub(crate) fn fields_code(fields: &[&Field], style: &Style, pairs_per_row: usize) -> String {
    let cols = ["auto", "1fr"].repeat(pairs_per_row.max(1)).join(", ");
    let mut out = format!("#grid(columns: ({cols}), column-gutter: 0.8em, row-gutter: 0.55em,\n");
    for f in fields {
        out.push_str(&format!(
            "  text(fill: {}, weight: \"bold\", {}), {},\n",
            rgb(&style.palette.muted),
            lit(&f.label),
            lit(&f.value)
        ));
    }
    out.push_str(")\n");
    out
}

/// A paragraph of running text.
pub(crate) fn para_code(text: &str) -> String {
    format!("#par({})\n\n", lit(text))
}

/// Fields of `data` by key, in the given order, skipping missing ones.
pub(crate) fn fields<'a>(data: &'a DocData, keys: &[&str]) -> Vec<&'a Field> {
    keys.iter().filter_map(|k| data.field_ref(k)).collect()
}

/// A field's value or an empty string.
pub(crate) fn value<'a>(data: &'a DocData, key: &str) -> &'a str {
    data.get(key).unwrap_or("")
}

pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
