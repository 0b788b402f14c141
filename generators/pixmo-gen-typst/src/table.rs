//! Typst code for a [`TableData`] in one of the [`TableStyle`]s.

use crate::model::TableData;
use crate::style::{HeaderStyle, Style, TableStyle};
use crate::typ::{lit, rgb};

/// Extra rows drawn below the data (totals); label and value cells, right-aligned.
pub struct Footer {
    /// `(label, value)` pairs; the label spans all but the last column.
    pub rows: Vec<(String, String)>,
}

/// `#table(...)` for `t` styled by `style`, `width` = `auto` or `100%`.
#[must_use]
pub fn table_code(
    t: &TableData,
    style: &Style,
    full_width: bool,
    footer: Option<&Footer>,
) -> String {
    let p = &style.palette;
    let ncols = t.columns.len();
    let columns: Vec<&str> = (0..ncols)
        .map(|c| if c == 0 && full_width { "1fr" } else { "auto" })
        .collect();
    let aligns: Vec<&str> = t
        .columns
        .iter()
        .map(|c| match (&c.number, style.numbers_right) {
            (Some(_), true) => "right",
            (Some(_), false) => "center",
            (None, _) => "left",
        })
        .collect();
    let mut out = String::new();
    out.push_str(&format!(
        "#table(\n  columns: ({},),\n  align: ({},),\n  inset: (x: 0.6em, y: 0.45em),\n",
        columns.join(", "),
        aligns.join(", ")
    ));
    let header_fill = match style.header {
        HeaderStyle::Filled => rgb(&p.accent),
        _ => "none".into(),
    };
    match style.table {
        TableStyle::Grid => out.push_str(&format!(
            "  stroke: 0.5pt + {},\n  fill: (x, y) => if y == 0 {{ {header_fill} }},\n",
            rgb(&p.muted)
        )),
        TableStyle::Striped => out.push_str(&format!(
            "  stroke: none,\n  fill: (x, y) => if y == 0 {{ {header_fill} }} else if calc.even(y) {{ {} }},\n",
            rgb(&p.stripe)
        )),
        TableStyle::Ruled | TableStyle::Minimal => out.push_str(&format!(
            "  stroke: none,\n  fill: (x, y) => if y == 0 {{ {header_fill} }},\n"
        )),
    }
    let rule = |w: f64| format!("  table.hline(stroke: {w}pt + {}),\n", rgb(&p.accent));
    if style.table == TableStyle::Ruled {
        out.push_str(&rule(1.2));
    }
    let header_cell = |name: &str| match style.header {
        HeaderStyle::Filled => format!(
            "text(fill: {}, weight: \"bold\", {})",
            rgb(&p.on_accent),
            lit(name)
        ),
        HeaderStyle::Bold => format!(
            "text(fill: {}, weight: \"bold\", {})",
            rgb(&p.accent),
            lit(name)
        ),
        HeaderStyle::SmallCaps => format!(
            "text(fill: {}, size: 0.85em, weight: \"bold\", tracking: 0.04em, upper({}))",
            rgb(&p.muted),
            lit(name)
        ),
    };
    let header: Vec<String> = t.columns.iter().map(|c| header_cell(&c.name)).collect();
    out.push_str(&format!("  table.header({}),\n", header.join(", ")));
    if matches!(style.table, TableStyle::Ruled | TableStyle::Minimal) {
        out.push_str(&rule(0.6));
    }
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| lit(c)).collect();
        out.push_str(&format!("  {},\n", cells.join(", ")));
    }
    if let Some(footer) = footer {
        out.push_str(&rule(0.8));
        for (label, value) in &footer.rows {
            out.push_str(&format!(
                "  table.cell(colspan: {}, align: right, strong({})), strong({}),\n",
                ncols - 1,
                lit(label),
                lit(value)
            ));
        }
    }
    if style.table == TableStyle::Ruled {
        out.push_str(&rule(1.2));
    }
    out.push_str(")\n");
    out
}
