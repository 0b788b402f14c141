//! The card's extension point: what a pipeline adds to the generic card of its dataset.
//!
//! The generic card (front matter, summary, how it was built, split sizes, rejects, image
//! sizes, per-column statistics, provenance, limitations, citation) knows no dataset. A
//! pipeline crate implements [`CardExtension`] to stream the columns it cares about and add
//! paragraphs, statistics, plots and limitations; its prose is an [`crate::About`].

use std::path::Path;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use crate::error::{CardError, Result};
use crate::plot::{BarChart, HeatMap};

/// What an extension may know about the card being written.
#[derive(Clone, Copy, Debug)]
pub struct CardContext<'a> {
    /// Dataset name (`clocks`).
    pub dataset: &'a str,
    /// Rows over all splits.
    pub rows: u64,
    /// Whether a text LLM wrote any field, from the first row's recorded models; `None`
    /// when no row records a lineage.
    pub llm_used: Option<bool>,
}

/// A plot an extension asks for: drawn to `CARDS/<dataset>/<file>` and linked in the card.
#[derive(Clone, Debug)]
pub struct Plot {
    /// File name (`hours.png`).
    pub file: String,
    /// Alt text and caption.
    pub caption: String,
    /// The chart.
    pub chart: BarChart,
}

/// A heat map an extension asks for: drawn to `CARDS/<dataset>/<file>` and linked in the
/// card after the bar charts.
#[derive(Clone, Debug)]
pub struct HeatMapPlot {
    /// File name (`points_heatmap.png`).
    pub file: String,
    /// Alt text and caption.
    pub caption: String,
    /// The map.
    pub map: HeatMap,
}

/// The limitation the card lists for text written by text-only LLMs.
pub const LLM_TEXT_LIMITATION: &str =
    "Text written by text-only LLMs can contain errors the image does not support.";

/// What a pipeline adds to its dataset's card. Every method has a default, so an extension
/// implements only what it adds. One value writes one card: it accumulates over
/// [`CardExtension::add_batch`] and is read by the other methods.
pub trait CardExtension {
    /// Columns to stream besides the card's own (`width`, `height`, `provenance.vlm_free`
    /// and, with [`CardExtension::column_statistics`], every other non-image column).
    /// Nested leaves are named with dots (`metadata.figure_type`).
    fn columns(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Whether the card lists generic per-column statistics (`### Columns`); `false` when
    /// the extension's own statistics say more.
    fn column_statistics(&self) -> bool {
        true
    }

    /// Called once per split of the dataset, in order, before that split's batches (a split
    /// with no rows gets no batch, but is announced here).
    fn begin_split(&mut self, split: &str) {
        let _ = split;
    }

    /// Called for each streamed batch of every shard, in split and shard order.
    ///
    /// # Errors
    /// A [`CardError`] naming the file and column when a column is missing or mistyped
    /// (see [`column`] and [`strings`]).
    fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> Result<()> {
        let _ = (batch, path);
        Ok(())
    }

    /// Paragraphs after the summary (how this copy was made, say).
    fn summary_notes(&self, card: &CardContext<'_>) -> Vec<String> {
        let _ = card;
        Vec::new()
    }

    /// Markdown after the image sizes in `## Statistics` (usually a `###` section).
    fn statistics(&self, card: &CardContext<'_>) -> String {
        let _ = card;
        String::new()
    }

    /// Plots after the card's own (rows per split, image sizes, rejects).
    fn plots(&self) -> Vec<Plot> {
        Vec::new()
    }

    /// Heat maps after the plots.
    fn heat_maps(&self) -> Vec<HeatMapPlot> {
        Vec::new()
    }

    /// Limitations after the [`crate::About`] ones and the card's own.
    fn limitations(&self, card: &CardContext<'_>) -> Vec<String> {
        let _ = card;
        Vec::new()
    }

    /// For a collected dataset, whose records come from an inbox or another dataset rather
    /// than from `--count`: the `pixmo build` option and placeholder that name that source
    /// in the card's *Rebuild* commands, e.g. `("--inbox", "INBOX")`.
    fn records_from(&self) -> Option<(&'static str, &'static str)> {
        None
    }
}

/// No additions: the generic card.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoExtension;

impl CardExtension for NoExtension {}

/// The column `name` of `batch`, or an error naming the file.
///
/// # Errors
/// [`CardError::Column`] when the batch lacks the column.
pub fn column<'a>(batch: &'a RecordBatch, name: &str, path: &Path) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| wrong(path, name, "present"))
}

/// The error for a column of `path` that is not what a reader expected.
#[must_use]
pub fn wrong(path: &Path, column: &str, expected: &'static str) -> CardError {
    CardError::Column {
        path: path.to_path_buf(),
        column: column.to_string(),
        expected,
    }
}

/// The column `name` cast to `Utf8`.
///
/// # Errors
/// [`CardError::Column`] when the column is missing or cannot be read as text.
pub fn strings(batch: &RecordBatch, name: &str, path: &Path) -> Result<ArrayRef> {
    cast(column(batch, name, path)?, &DataType::Utf8).map_err(|_| wrong(path, name, "text"))
}

/// `n` of `total` as a percentage with one decimal (`58.3%`).
#[must_use]
pub fn pct(n: u64, total: u64) -> String {
    format!("{:.1}%", ratio(n, total) * 100.0)
}

/// `a / b`, 0 when `b` is 0.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
