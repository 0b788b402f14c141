//! Finding a dataset's shards and streaming a few of their columns.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pixmo_annotation_schema::Dataset;
use pixmo_shards::{DatasetLayout, DatasetManifest, RunState, ShardMarker};

use crate::error::{CardError, Result};

/// Rows per decoded batch: bounded memory whatever the shard size.
const BATCH_ROWS: usize = 4096;

/// A dataset's run and committed shards.
#[derive(Debug)]
pub(crate) struct DatasetFiles {
    /// Paths under the dataset root.
    pub layout: DatasetLayout,
    /// `.pixmo/run.json`.
    pub run: RunState,
    /// The dataset.
    pub dataset: Dataset,
    /// Whether `manifest.json` exists (the shards come from it), or the shards come from
    /// the commit markers of an unfinalized run.
    pub finalized: bool,
    /// Committed shards by split, in shard order.
    pub splits: BTreeMap<String, Vec<ShardMarker>>,
}

impl DatasetFiles {
    /// Reads the run and the manifest (or, without one, the commit markers).
    pub fn load(root: &Path) -> Result<DatasetFiles> {
        let layout = DatasetLayout {
            root: root.to_path_buf(),
        };
        let state = |source| CardError::State {
            path: root.to_path_buf(),
            source,
        };
        let run =
            RunState::load(&layout)
                .map_err(state)?
                .ok_or_else(|| CardError::NotADataset {
                    path: root.to_path_buf(),
                })?;
        let dataset =
            Dataset::from_name(&run.dataset).ok_or_else(|| CardError::UnknownDataset {
                path: root.to_path_buf(),
                name: run.dataset.clone(),
            })?;
        let finalized = layout.manifest_path().is_file();
        let splits = if finalized {
            let manifest = DatasetManifest::load(&layout).map_err(state)?;
            manifest
                .splits
                .into_iter()
                .map(|(split, m)| (split, m.shards))
                .collect()
        } else {
            let mut splits = BTreeMap::new();
            for split in run.counts.keys() {
                splits.insert(split.clone(), Vec::new());
            }
            for id in run.shards() {
                let marker = ShardMarker::load(&layout.marker_path(&id)).map_err(state)?;
                if let (Some(marker), Some(list)) = (marker, splits.get_mut(&id.split)) {
                    list.push(marker);
                }
            }
            splits
        };
        Ok(DatasetFiles {
            layout,
            run,
            dataset,
            finalized,
            splits,
        })
    }

    /// Absolute path of a file named relative to the dataset root.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.layout.root.join(relative)
    }
}

/// Streams the columns of `path` whose leaf path is in `columns` or below one of them
/// (`provenance` selects all of it, `provenance.vlm_free` one leaf), calling `each` per
/// batch. Columns that the file lacks are skipped. `limit` stops after that many rows.
pub(crate) fn for_each_batch(
    path: &Path,
    columns: &[&str],
    limit: Option<usize>,
    mut each: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(CardError::io("open", path))?;
    let parquet = |source| CardError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet)?;
    let descr = builder.parquet_schema();
    let leaves: Vec<usize> = (0..descr.num_columns())
        .filter(|&i| {
            let leaf = descr.column(i).path().string();
            columns.iter().any(|c| {
                leaf == *c || (leaf.starts_with(c) && leaf.as_bytes().get(c.len()) == Some(&b'.'))
            })
        })
        .collect();
    let mask = ProjectionMask::leaves(descr, leaves);
    let mut builder = builder
        .with_projection(mask)
        .with_batch_size(limit.unwrap_or(BATCH_ROWS).clamp(1, BATCH_ROWS));
    if let Some(limit) = limit {
        builder = builder.with_limit(limit);
    }
    let reader = builder.build().map_err(parquet)?;
    for batch in reader {
        let batch = batch.map_err(|source| CardError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
        each(&batch)?;
    }
    Ok(())
}
