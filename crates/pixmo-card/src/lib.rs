//! Hugging Face style data cards for built pixmo datasets, with plots.
//!
//! [`write_card`] reads a dataset root (`OUT/<dataset>`) and writes `CARDS/<dataset>.md`:
//! YAML front matter (license, task categories, size category, `configs` with one
//! `data_files` glob per split relative to the dataset root, `dataset_info` features and
//! split sizes) and sections: dataset summary with loading code, how it was built (run,
//! seed, hashes, stages and models from the provenance), statistics, provenance and audit,
//! limitations and citation. PNG plots go to `CARDS/<dataset>/` and are linked relatively.
//!
//! Reading streams batches of the small columns only (`width`, `height`,
//! `provenance.vlm_free` and the dataset's statistics columns, never `image`), so large
//! shards are read quickly in bounded memory. The card is a function of the shards and the
//! run: it carries no time other than the run's own build time, and rewriting it from the
//! same shards gives the same bytes.
//!
//! No DataFusion here: plain `parquet` + `arrow`, and plotters with ab_glyph and a vendored
//! font (no system fonts).

mod about;
mod error;
mod markdown;
mod plot;
mod read;
mod stats;

use std::path::{Path, PathBuf};

pub use error::{CardError, Result};

use markdown::Plot;
use plot::{BarChart, write_bar_chart};
use read::DatasetFiles;
use stats::Stats;

/// Plot files a card may own; those not drawn this time are removed, so a card never links
/// a plot from an older build.
const PLOT_FILES: [&str; 5] = [
    "rows_per_split.png",
    "image_sizes.png",
    "rejects.png",
    "hours.png",
    "minutes.png",
];

/// Writes the data card of the dataset at `dataset_root` to `cards_dir/<dataset>.md`, and its
/// plots to `cards_dir/<dataset>/`. Returns the card's path.
///
/// # Errors
/// When the folder holds no pixmo run, a shard cannot be read, or a file cannot be written.
pub fn write_card(dataset_root: &Path, cards_dir: &Path) -> Result<PathBuf> {
    let files = DatasetFiles::load(dataset_root)?;
    let stats = stats::gather(&files)?;
    let name = files.dataset.name();
    let plot_dir = cards_dir.join(name);
    std::fs::create_dir_all(&plot_dir).map_err(CardError::io("create folder", &plot_dir))?;
    for file in PLOT_FILES {
        let path = plot_dir.join(file);
        if path.is_file() {
            std::fs::remove_file(&path).map_err(CardError::io("remove", &path))?;
        }
    }
    let plots = write_plots(&plot_dir, name, &stats)?;
    let text = markdown::render(&files, &stats, &plots);
    let path = cards_dir.join(format!("{name}.md"));
    std::fs::write(&path, text).map_err(CardError::io("write", &path))?;
    Ok(path)
}

/// Draws the plots that apply and describes them for the card.
fn write_plots(dir: &Path, name: &str, stats: &Stats) -> Result<Vec<Plot>> {
    let mut plots = Vec::new();
    let mut draw = |file: &str, caption: String, chart: BarChart<'_>| -> Result<()> {
        write_bar_chart(&dir.join(file), &chart)?;
        plots.push(Plot {
            link: format!("{name}/{file}"),
            caption,
        });
        Ok(())
    };
    draw(
        "rows_per_split.png",
        "Rows per split".into(),
        BarChart {
            title: "Rows per split",
            x_label: "split",
            y_label: "rows",
            labels: stats.splits.keys().cloned().collect(),
            values: stats.splits.values().map(|s| s.rows).collect(),
            label_every: 1,
        },
    )?;
    let mut sizes: Vec<(&(u32, u32), &u64)> = stats.sizes.iter().collect();
    sizes.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    sizes.truncate(12);
    draw(
        "image_sizes.png",
        "Most common image sizes".into(),
        BarChart {
            title: "Most common image sizes",
            x_label: "width x height (pixels)",
            y_label: "rows",
            labels: sizes.iter().map(|((w, h), _)| format!("{w}x{h}")).collect(),
            values: sizes.iter().map(|(_, n)| **n).collect(),
            label_every: 1,
        },
    )?;
    if !stats.rejects_by.is_empty() {
        draw(
            "rejects.png",
            "Rejected records by stage/kind".into(),
            BarChart {
                title: "Rejected records by stage/kind",
                x_label: "stage/kind",
                y_label: "records",
                labels: stats
                    .rejects_by
                    .keys()
                    .map(|(stage, kind)| format!("{stage}/{kind}"))
                    .collect(),
                values: stats.rejects_by.values().copied().collect(),
                label_every: 1,
            },
        )?;
    }
    if let Some(clocks) = &stats.clocks {
        draw(
            "hours.png",
            "Rows per hour on the dial (1–12)".into(),
            BarChart {
                title: "Hour shown on the dial",
                x_label: "hour (12-hour dial)",
                y_label: "rows",
                labels: (1..=12).map(|h| h.to_string()).collect(),
                values: clocks.hours.to_vec(),
                label_every: 1,
            },
        )?;
        draw(
            "minutes.png",
            "Rows per minute (0–59)".into(),
            BarChart {
                title: "Minute shown",
                x_label: "minute",
                y_label: "rows",
                labels: (0..60).map(|m| m.to_string()).collect(),
                values: clocks.minutes.to_vec(),
                label_every: 5,
            },
        )?;
    }
    Ok(plots)
}
