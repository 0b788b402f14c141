//! What the count and points cards add to the generic card: rows per count (a histogram),
//! where the points fall in the image (a 5 x 5 heat map as a table), and label variety.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use pixmo_card::arrow::array::{Array, AsArray, RecordBatch};
use pixmo_card::arrow::datatypes::{Float64Type, Int32Type};
use pixmo_card::{BarChart, CardContext, CardExtension, Plot, column, pct, ratio, strings, wrong};

/// Cells per side of the point heat map.
const GRID: usize = 5;

/// Statistics of a count or points dataset.
#[derive(Debug, Default)]
pub struct CountCard {
    counts: BTreeMap<i32, u64>,
    grid: [[u64; GRID]; GRID],
    points: u64,
    labels: BTreeSet<String>,
}

/// A fresh extension for one card.
#[must_use]
pub fn extension() -> Box<dyn CardExtension> {
    Box::new(CountCard::default())
}

impl CardExtension for CountCard {
    fn columns(&self) -> Vec<&'static str> {
        vec!["count", "points", "label"]
    }

    fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> pixmo_card::Result<()> {
        let counts = column(batch, "count", path)?
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| wrong(path, "count", "a 32-bit integer"))?;
        for n in counts.iter().flatten() {
            *self.counts.entry(n).or_default() += 1;
        }
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
            for (x, y) in xs.iter().zip(ys.iter()) {
                let (Some(x), Some(y)) = (x, y) else { continue };
                let cell = |v: f64| ((v / 100.0 * GRID as f64) as usize).min(GRID - 1);
                self.grid[cell(y)][cell(x)] += 1;
                self.points += 1;
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
        let _ = writeln!(
            out,
            "\n{} points in all ({:.1} per row); {} distinct labels.\n",
            self.points,
            ratio(self.points, rows),
            self.labels.len()
        );
        out.push_str(
            "Where the points fall (share of all points per fifth of the width and height; \
             top row = top of the image):\n\n| | left | | middle | | right |\n|---|---:|---:|---:|---:|---:|\n",
        );
        for (r, row) in self.grid.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|&n| pct(n, self.points)).collect();
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
}
