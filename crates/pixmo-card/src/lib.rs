//! Hugging Face style data cards for built pixmo datasets, with plots (bar charts and heat
//! maps).
//!
//! [`write_card`] reads a dataset root (`OUT/<dataset>`) and writes `CARDS/<dataset>.md`:
//! YAML front matter (license, task categories, size category, `configs` with one
//! `data_files` glob per split relative to the dataset root, `dataset_info` features and
//! split sizes) and sections: dataset summary with loading code, how it was built (run,
//! seed, hashes, stages and models from the provenance), statistics, provenance and audit,
//! limitations and citation. PNG plots go to `CARDS/<dataset>/` and are linked relatively.
//!
//! The card knows no dataset: what a dataset is (an [`About`]) and what its card adds
//! (statistics, plots, paragraphs and limitations, a [`CardExtension`]) come from its
//! pipeline crate, through `pixmo-pipeline`'s `PipelineInfo`.
//!
//! Reading streams batches of the small columns only (`width`, `height`,
//! `provenance.vlm_free`, the columns summarised and those the extension asks for, never
//! `image`), so large shards are read quickly in bounded memory. The card is a function of the shards and the
//! run: it carries no time other than the run's own build time, and rewriting it from the
//! same shards gives the same bytes.
//!
//! No DataFusion here: plain `parquet` + `arrow`, and plotters with ab_glyph and a vendored
//! font (no system fonts).

mod about;
mod error;
mod extension;
mod markdown;
mod plot;
mod read;
mod stats;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use about::About;
/// The Arrow crate the extension API speaks (`RecordBatch`), for pipeline crates that read
/// batches without depending on `arrow` themselves.
pub use arrow;
pub use error::{CardError, Result};
pub use extension::{
    CardContext, CardExtension, HeatMapPlot, LLM_TEXT_LIMITATION, NoExtension, Plot, column, pct,
    ratio, strings, wrong,
};
pub use plot::{BarChart, HeatMap};

use read::DatasetFiles;
use stats::Stats;

/// The dataset name recorded in the run of `dataset_root` (`OUT/<dataset>`), to find its
/// pipeline's [`About`] and [`CardExtension`].
///
/// # Errors
/// When the folder holds no pixmo run.
pub fn dataset_name(dataset_root: &Path) -> Result<String> {
    Ok(DatasetFiles::load(dataset_root)?.dataset.name().to_string())
}

/// Writes the data card of the dataset at `dataset_root` to `cards_dir/<dataset>.md`, and its
/// plots to `cards_dir/<dataset>/`, with the prose of `about` and the additions of
/// `extension` (use [`NoExtension`] for none). Returns the card's path. PNG files in
/// `cards_dir/<dataset>/` that this card did not draw are removed, so a card never links a
/// plot from an older build.
///
/// # Errors
/// When the folder holds no pixmo run, a shard cannot be read, the extension refuses a
/// batch, or a file cannot be written.
pub fn write_card(
    dataset_root: &Path,
    cards_dir: &Path,
    about: &About,
    extension: &mut dyn CardExtension,
) -> Result<PathBuf> {
    let files = DatasetFiles::load(dataset_root)?;
    let stats = stats::gather(&files, extension)?;
    let name = files.dataset.name();
    let plot_dir = cards_dir.join(name);
    std::fs::create_dir_all(&plot_dir).map_err(CardError::io("create folder", &plot_dir))?;
    let plots = write_plots(&plot_dir, name, &stats, extension)?;
    remove_stale_plots(&plot_dir, &plots)?;
    let text = markdown::render(&files, &stats, &plots, about, extension);
    let path = cards_dir.join(format!("{name}.md"));
    std::fs::write(&path, text).map_err(CardError::io("write", &path))?;
    Ok(path)
}

/// A plot written next to the card.
#[derive(Clone, Debug)]
pub(crate) struct Linked {
    /// File name in the plot folder.
    pub file: String,
    /// Path relative to the card (`clocks/hours.png`).
    pub link: String,
    /// Alt text and caption.
    pub caption: String,
}

/// Removes the `*.png` files of `dir` that are not among `plots`.
fn remove_stale_plots(dir: &Path, plots: &[Linked]) -> Result<()> {
    let drawn: BTreeSet<&str> = plots.iter().map(|p| p.file.as_str()).collect();
    let entries = std::fs::read_dir(dir).map_err(CardError::io("read folder", dir))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if file.ends_with(".png") && !drawn.contains(file.as_ref()) && path.is_file() {
            std::fs::remove_file(&path).map_err(CardError::io("remove", &path))?;
        }
    }
    Ok(())
}

/// Draws the card's plots and the extension's, and describes them for the card.
fn write_plots(
    dir: &Path,
    name: &str,
    stats: &Stats,
    extension: &dyn CardExtension,
) -> Result<Vec<Linked>> {
    let mut plots = Vec::new();
    let mut draw = |plot: Plot| -> Result<()> {
        plot::write_bar_chart(&dir.join(&plot.file), &plot.chart)?;
        plots.push(Linked {
            link: format!("{name}/{}", plot.file),
            file: plot.file,
            caption: plot.caption,
        });
        Ok(())
    };
    let chart = |title: &str, x: &str, y: &str, labels: Vec<String>, values: Vec<u64>| BarChart {
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        labels,
        values,
        label_every: 1,
    };
    draw(Plot {
        file: "rows_per_split.png".into(),
        caption: "Rows per split".into(),
        chart: chart(
            "Rows per split",
            "split",
            "rows",
            stats.splits.keys().cloned().collect(),
            stats.splits.values().map(|s| s.rows).collect(),
        ),
    })?;
    let mut sizes: Vec<(&(u32, u32), &u64)> = stats.sizes.iter().collect();
    sizes.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    sizes.truncate(12);
    draw(Plot {
        file: "image_sizes.png".into(),
        caption: "Most common image sizes".into(),
        chart: chart(
            "Most common image sizes",
            "width x height (pixels)",
            "rows",
            sizes.iter().map(|((w, h), _)| format!("{w}x{h}")).collect(),
            sizes.iter().map(|(_, n)| **n).collect(),
        ),
    })?;
    if !stats.rejects_by.is_empty() {
        draw(Plot {
            file: "rejects.png".into(),
            caption: "Rejected records by stage/kind".into(),
            chart: chart(
                "Rejected records by stage/kind",
                "stage/kind",
                "records",
                stats
                    .rejects_by
                    .keys()
                    .map(|(stage, kind)| format!("{stage}/{kind}"))
                    .collect(),
                stats.rejects_by.values().copied().collect(),
            ),
        })?;
    }
    for plot in extension.plots() {
        draw(plot)?;
    }
    for heat in extension.heat_maps() {
        plot::write_heat_map(&dir.join(&heat.file), &heat.map)?;
        plots.push(Linked {
            link: format!("{name}/{}", heat.file),
            file: heat.file,
            caption: heat.caption,
        });
    }
    Ok(plots)
}
