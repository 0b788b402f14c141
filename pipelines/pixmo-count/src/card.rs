//! What the count and points cards add to the generic card: rows per count (a histogram),
//! where the points fall in the image (a 20 x 20 heat map over the image's width and
//! height, drawn as a PNG, and a 5 x 5 table), label variety, and rows per count in each
//! split (so an unbalanced val/test, after verdicts, shows).
//!
//! The points are read in the unit their column's field metadata names (pixels for
//! PixMo-Count, percent for PixMo-Points) and placed by their fraction of the row's
//! `width` and `height`, so both datasets' maps mean the same thing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use pixmo_annotation_schema::PointUnit;
use pixmo_card::arrow::array::{Array, AsArray, RecordBatch};
use pixmo_card::arrow::datatypes::{Float64Type, Int32Type, UInt32Type};
use pixmo_card::{
    BarChart, CardContext, CardExtension, HeatMap, HeatMapPlot, Plot, column, pct, ratio, strings,
    wrong,
};

/// Cells per side of the heat map.
pub const HEAT_CELLS: usize = 20;

/// Cells per side of the table (each a 4 x 4 block of the heat map).
const TABLE_CELLS: usize = 5;

/// Statistics of a count or points dataset.
#[derive(Debug)]
pub struct CountCard {
    counts: BTreeMap<i32, u64>,
    /// Rows per count in each split.
    by_split: BTreeMap<String, BTreeMap<i32, u64>>,
    /// The split being read.
    split: String,
    heat: HeatMap,
    points: u64,
    /// Points outside their image (not drawn; an audit would look at these rows).
    outside: u64,
    unit: Option<PointUnit>,
    labels: BTreeSet<String>,
}

impl Default for CountCard {
    fn default() -> CountCard {
        CountCard {
            counts: BTreeMap::new(),
            by_split: BTreeMap::new(),
            split: String::new(),
            heat: HeatMap::new(HEAT_CELLS, HEAT_CELLS),
            points: 0,
            outside: 0,
            unit: None,
            labels: BTreeSet::new(),
        }
    }
}

/// A fresh extension for one card.
#[must_use]
pub fn extension() -> Box<dyn CardExtension> {
    Box::new(CountCard::default())
}

impl CountCard {
    /// The heat map gathered so far.
    #[must_use]
    pub fn heat_map(&self) -> &HeatMap {
        &self.heat
    }

    /// Rows per count in each split.
    #[must_use]
    pub fn counts_by_split(&self) -> &BTreeMap<String, BTreeMap<i32, u64>> {
        &self.by_split
    }

    /// Rows per count in each split as a table, and whether val and test are balanced
    /// (see [`balance_note`]).
    fn split_table(&self) -> String {
        let counts: BTreeSet<i32> = self
            .by_split
            .values()
            .flat_map(|m| m.keys())
            .copied()
            .collect();
        if counts.is_empty() {
            return String::new();
        }
        let mut out = String::from("Rows per count in each split:\n\n| split |");
        for c in &counts {
            let _ = write!(out, " {c} |");
        }
        out.push_str("\n|---|");
        out.push_str(&"---:|".repeat(counts.len()));
        out.push('\n');
        for (split, per) in &self.by_split {
            let _ = write!(out, "| {split} |");
            for c in &counts {
                let _ = write!(out, " {} |", per.get(c).copied().unwrap_or(0));
            }
            out.push('\n');
        }
        out.push('\n');
        if let Some(note) = balance_note(&self.by_split, None) {
            out.push_str(&note);
            out.push_str("\n\n");
        }
        out
    }
}

/// `1 row`, `3 rows`.
fn rows_word(n: u64) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

/// What balanced splits should hold: these splits, each with `per_count` rows of every
/// count in `counts` (a count-detections spec's `balanced_*` and `per_count`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    /// The balanced splits.
    pub splits: Vec<String>,
    /// The counts each holds.
    pub counts: std::ops::RangeInclusive<i32>,
    /// Rows per count.
    pub per_count: u64,
}

/// Whether the balanced splits hold every count equally often, as PixMo-Count's
/// human-verified val and test do (120 images per count from 2 to 10). With `expected`
/// (the build knows its spec) each split is held to it; without (the card) the splits are
/// `val`/`validation` and `test`, the counts those any of them holds, and the target the
/// most rows of one count in one of them. `None` when there are no such splits. Verdicts
/// that reject candidates, or too few images of a count, leave a split short: the note
/// names each short count with its rows.
#[must_use]
pub fn balance_note(
    by_split: &BTreeMap<String, BTreeMap<i32, u64>>,
    expected: Option<&Balance>,
) -> Option<String> {
    let empty = BTreeMap::new();
    let (splits, counts, target): (Vec<&str>, Vec<i32>, u64) = match expected {
        Some(b) => (
            b.splits.iter().map(String::as_str).collect(),
            b.counts.clone().collect(),
            b.per_count,
        ),
        None => {
            let splits: Vec<&str> = by_split
                .keys()
                .map(String::as_str)
                .filter(|s| matches!(*s, "val" | "validation" | "test"))
                .collect();
            let per = |s: &str| by_split.get(s).unwrap_or(&empty);
            let counts: BTreeSet<i32> =
                splits.iter().flat_map(|s| per(s).keys()).copied().collect();
            let target = splits
                .iter()
                .flat_map(|s| per(s).values())
                .copied()
                .max()
                .unwrap_or(0);
            (splits, counts.into_iter().collect(), target)
        }
    };
    if splits.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    for split in &splits {
        let per = by_split.get(*split).unwrap_or(&empty);
        if target > 0 && per.values().sum::<u64>() == 0 {
            problems.push(format!("`{split}` is empty"));
            continue;
        }
        let short: Vec<String> = counts
            .iter()
            .filter_map(|c| {
                let n = per.get(c).copied().unwrap_or(0);
                (n < target).then(|| format!("{c}:{n}"))
            })
            .collect();
        if !short.is_empty() {
            problems.push(format!(
                "`{split}` is short of {} per count at (count:rows) {}",
                rows_word(target),
                short.join(" ")
            ));
        }
    }
    let names: Vec<String> = splits.iter().map(|s| format!("`{s}`")).collect();
    let range = match (counts.first(), counts.last()) {
        (Some(lo), Some(hi)) if lo != hi => format!("counts {lo}-{hi}"),
        (Some(lo), _) => format!("count {lo}"),
        _ => "no counts".to_string(),
    };
    Some(if problems.is_empty() {
        format!(
            "Balanced: {} hold{} {} of every count ({range}).",
            names.join(" and "),
            if names.len() == 1 { "s" } else { "" },
            rows_word(target)
        )
    } else {
        format!(
            "Unbalanced: {}. PixMo-Count's val and test hold every count equally often; \
             rejected records (a verifier's verdict, an image that failed a check) and counts \
             with too few images leave these gaps.",
            problems.join("; ")
        )
    })
}

impl CardExtension for CountCard {
    fn columns(&self) -> Vec<&'static str> {
        vec!["count", "points", "label"]
    }

    fn begin_split(&mut self, split: &str) {
        self.split = split.to_string();
        self.by_split.entry(self.split.clone()).or_default();
    }

    fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> pixmo_card::Result<()> {
        let counts = column(batch, "count", path)?
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| wrong(path, "count", "a 32-bit integer"))?;
        let per_split = self.by_split.entry(self.split.clone()).or_default();
        for n in counts.iter().flatten() {
            *self.counts.entry(n).or_default() += 1;
            *per_split.entry(n).or_default() += 1;
        }
        let schema = batch.schema();
        let unit = schema
            .field_with_name("points")
            .ok()
            .and_then(|f| f.metadata().get("unit"))
            .and_then(|u| PointUnit::from_metadata(u))
            .ok_or_else(|| {
                wrong(
                    path,
                    "points",
                    "points whose field metadata names their `unit` (percent or pixels)",
                )
            })?;
        self.unit = Some(unit);
        let size = |name: &'static str| {
            column(batch, name, path)?
                .as_primitive_opt::<UInt32Type>()
                .cloned()
                .ok_or_else(|| wrong(path, name, "a 32-bit unsigned integer"))
        };
        let (widths, heights) = (size("width")?, size("height")?);
        let lists = column(batch, "points", path)?
            .as_list_opt::<i32>()
            .ok_or_else(|| wrong(path, "points", "a list of points"))?;
        for row in 0..lists.len() {
            if lists.is_null(row) {
                continue;
            }
            let points = lists.value(row);
            let points = points
                .as_struct_opt()
                .ok_or_else(|| wrong(path, "points", "a list of {x, y}"))?;
            let axis = |name: &str| {
                points
                    .column_by_name(name)
                    .and_then(|c| c.as_primitive_opt::<Float64Type>().cloned())
                    .ok_or_else(|| wrong(path, "points", "points with float `x` and `y`"))
            };
            let (xs, ys) = (axis("x")?, axis("y")?);
            let (w, h) = (widths.value(row), heights.value(row));
            for (x, y) in xs.iter().zip(ys.iter()) {
                let (Some(x), Some(y)) = (x, y) else { continue };
                self.points += 1;
                let (u, v) = unit.to_unit_square(x, y, w, h);
                if !self.heat.add(u, v) {
                    self.outside += 1;
                }
            }
        }
        let labels = strings(batch, "label", path)?;
        for label in labels.as_string::<i32>().iter().flatten() {
            if !self.labels.contains(label) {
                self.labels.insert(label.to_string());
            }
        }
        Ok(())
    }

    fn statistics(&self, card: &CardContext<'_>) -> String {
        let rows = card.rows;
        let mut out =
            String::from("### Counts and points\n\n| count | rows | share |\n|---:|---:|---:|\n");
        for (count, n) in &self.counts {
            let _ = writeln!(out, "| {count} | {n} | {} |", pct(*n, rows));
        }
        let unit = match self.unit {
            Some(PointUnit::Pixels) => "in pixels of each image",
            Some(PointUnit::Percent) => "in percent of each image",
            None => "with no unit",
        };
        let _ = writeln!(
            out,
            "\n{} points in all ({:.1} per row), stored {unit}; {} distinct labels.\n",
            self.points,
            ratio(self.points, rows),
            self.labels.len()
        );
        if self.outside > 0 {
            let _ = writeln!(
                out,
                "{} points lie outside their image and are not in the map below.\n",
                self.outside
            );
        }
        // PixMo-Count's val and test are balanced by count; PixMo-Points' splits are not.
        if card.dataset == "count" && self.by_split.len() > 1 {
            out.push_str(&self.split_table());
        }
        out.push_str(
            "Where the points fall (share of all points per fifth of the width and height, \
             from each point's fraction of its image's size; top row = top of the image; the \
             heat map below has 20 x 20 cells):\n\n| | left | | middle | | right |\n|---|---:|---:|---:|---:|---:|\n",
        );
        let table = self
            .heat
            .coarsen(TABLE_CELLS, TABLE_CELLS)
            .unwrap_or_else(|| HeatMap::new(TABLE_CELLS, TABLE_CELLS));
        let drawn: u64 = table.values.iter().sum();
        for r in 0..TABLE_CELLS {
            let cells: Vec<String> = (0..TABLE_CELLS)
                .map(|c| pct(table.get(c, r), drawn))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} |",
                ["top", "", "middle", "", "bottom"][r],
                cells.join(" | ")
            );
        }
        out.push('\n');
        out
    }

    fn plots(&self) -> Vec<Plot> {
        vec![Plot {
            file: "counts.png".into(),
            caption: "Rows per count (instances the label names)".into(),
            chart: BarChart {
                title: "Rows per count".into(),
                x_label: "count".into(),
                y_label: "rows".into(),
                labels: self.counts.keys().map(ToString::to_string).collect(),
                values: self.counts.values().copied().collect(),
                label_every: 1,
            },
        }]
    }

    fn heat_maps(&self) -> Vec<HeatMapPlot> {
        let mut map = self.heat.clone();
        map.title = "Where the points fall".into();
        map.x_label = "x / width (left to right)".into();
        map.y_label = "y / height (top to bottom)".into();
        map.value_label = "points per cell".into();
        vec![HeatMapPlot {
            file: "points_heatmap.png".into(),
            caption: format!(
                "Where the points fall: {HEAT_CELLS} x {HEAT_CELLS} cells over each image's \
                 width and height, top of the image at the top"
            ),
            map,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splits(list: &[(&str, &[(i32, u64)])]) -> BTreeMap<String, BTreeMap<i32, u64>> {
        list.iter()
            .map(|(s, c)| (s.to_string(), c.iter().copied().collect()))
            .collect()
    }

    #[test]
    fn balance_note_names_the_short_counts() {
        let even = splits(&[
            ("train", &[(1, 9), (2, 1)]),
            ("val", &[(2, 3), (3, 3)]),
            ("test", &[(2, 3), (3, 3)]),
        ]);
        assert_eq!(
            balance_note(&even, None).unwrap(),
            "Balanced: `test` and `val` hold 3 rows of every count (counts 2-3)."
        );
        let short = splits(&[("val", &[(2, 3), (3, 1)]), ("test", &[])]);
        let note = balance_note(&short, None).unwrap();
        assert!(note.starts_with("Unbalanced: `test` is empty; `val` is short of 3 rows per count at (count:rows) 3:1. "), "{note}");
        assert!(balance_note(&splits(&[("train", &[(1, 2)])]), None).is_none());
        // Held to the spec: counts 2-4, 2 rows each; a verdict took a 4 from val.
        let spec = Balance {
            splits: vec!["val".into(), "test".into()],
            counts: 2..=4,
            per_count: 2,
        };
        let built = splits(&[
            ("val", &[(2, 2), (3, 2), (4, 1)]),
            ("test", &[(2, 2), (3, 2), (4, 2)]),
        ]);
        let note = balance_note(&built, Some(&spec)).unwrap();
        assert!(
            note.starts_with(
                "Unbalanced: `val` is short of 2 rows per count at (count:rows) 4:1. "
            ),
            "{note}"
        );
        let full = splits(&[
            ("val", &[(2, 2), (3, 2), (4, 2)]),
            ("test", &[(2, 2), (3, 2), (4, 2)]),
        ]);
        assert_eq!(
            balance_note(&full, Some(&spec)).unwrap(),
            "Balanced: `val` and `test` hold 2 rows of every count (counts 2-4)."
        );
    }
}
