//! Finished records written as a committed one-shard run, for datasets that are not built by
//! the executor but assembled at once (imports of other tools' annotations): the same layout,
//! files and checks as `pixmo build`'s output, so `pixmo verify`, `pixmo audit` and `pixmo sql`
//! read it.
//!
//! Under `out/<dataset>`: the run identity and generation 0 (written once), the data shard and
//! the rejects shard through `ShardWriter` (temporary file, fsync, rename), the marker that
//! commits them, then `manifest.json`. Record indices `0..rows` are the rows and
//! `rows..rows + rejects` the rejections (whose `record_index` must say so), as a build's
//! shard covers both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use pixmo_annotation_schema::Dataset;
use pixmo_dag::{Record, Rejection};
pub use pixmo_shards::writer::WrittenFile;
use pixmo_shards::{
    DatasetLayout, DatasetManifest, Generation, RunIdentity, ShardMarker, ShardWriter,
    WriterSettings, create_generation, create_identity, shard_list,
};

use crate::sink::{records_to_batch, rejections_to_batch, rfc3339_micros};

/// Why a snapshot could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The dataset folder exists: a snapshot is written once, into a new folder.
    #[error("`{0}` exists; write into a new folder (a snapshot is never overwritten)")]
    Exists(PathBuf),
    /// The records or rejections do not fit the dataset schema or the run.
    #[error("Cannot make the `{dataset}` shard: {message}")]
    Rows {
        /// Dataset name.
        dataset: &'static str,
        /// What does not fit.
        message: String,
    },
    /// Writing a file failed.
    #[error("Cannot write the snapshot")]
    Shards(#[from] pixmo_shards::Error),
    /// The run, as written, does not pass `finalize`'s checks (likely a bug).
    #[error("The written run does not check: {0}")]
    Check(String),
}

/// What [`write_snapshot`] wrote.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// `out/<dataset>`.
    pub root: PathBuf,
    /// The data shard.
    pub data: WrittenFile,
    /// The rejects shard.
    pub rejects: WrittenFile,
}

/// Writes `records` and `rejections` of one split as a committed run of `dataset` under `out`
/// (see the module documentation). `run.rows_per_shard` must hold them all, and each
/// rejection's `record_index` must be its position after the rows.
///
/// # Errors
/// [`SnapshotError::Exists`] when `out/<dataset>` exists; [`SnapshotError::Rows`] when the
/// records do not fit the schema or the indices the layout; I/O failures.
pub fn write_snapshot(
    out: &Path,
    dataset: Dataset,
    split: &str,
    records: &[Record],
    rejections: &[Rejection],
    run: &RunIdentity,
    as_of_us: i64,
) -> Result<Snapshot, SnapshotError> {
    let rows_error = |message: String| SnapshotError::Rows {
        dataset: dataset.name(),
        message,
    };
    let layout = DatasetLayout::new(out, dataset.name());
    if layout.root.exists() {
        return Err(SnapshotError::Exists(layout.root));
    }
    let total = (records.len() + rejections.len()) as u64;
    for (i, rejection) in rejections.iter().enumerate() {
        let want = (records.len() + i) as u64;
        if rejection.record_index != want || rejection.split != split {
            return Err(rows_error(format!(
                "rejection {} is record {} of split `{}`, expected {want} of `{split}` (likely a bug)",
                rejection.record_id, rejection.record_index, rejection.split
            )));
        }
    }
    let generation = Generation {
        index: 0,
        counts: BTreeMap::from([(split.to_string(), total)]),
        as_of_us,
    };
    let ids = shard_list(run.rows_per_shard, std::slice::from_ref(&generation));
    let [id] = ids.as_slice() else {
        return Err(rows_error(format!(
            "{total} records need {} shards of {}; a snapshot has one (likely a bug)",
            ids.len(),
            run.rows_per_shard
        )));
    };
    let schema = dataset.schema();
    // Every record may have been rejected: an empty shard of the schema still commits them.
    let batch = if records.is_empty() {
        RecordBatch::new_empty(Arc::clone(&schema.schema))
    } else {
        records_to_batch(&schema, records, run, as_of_us).map_err(rows_error)?
    };
    let rejects_batch = rejections_to_batch(rejections).map_err(rows_error)?;

    create_identity(&layout, run)?;
    create_generation(&layout, &generation)?;
    let started = std::time::Instant::now();
    let data = write_batch(&layout.data_path(id), Arc::clone(&schema.schema), batch)?;
    let rejects = write_batch(
        &layout.rejects_path(id),
        pixmo_shards::rejects_schema(),
        rejects_batch,
    )?;
    let marker = ShardMarker {
        dataset: dataset.name().to_string(),
        split: id.split.clone(),
        generation: id.generation,
        shard_index: id.index,
        start: id.start,
        end: id.end,
        file: layout.relative(&data.path),
        rows: data.rows,
        bytes: data.bytes,
        sha256: data.sha256.clone(),
        rejects_file: layout.relative(&rejects.path),
        rejects: rejects.rows,
        rejects_bytes: rejects.bytes,
        rejects_sha256: rejects.sha256.clone(),
        seed: run.seed,
        config_hash: run.config_hash.clone(),
        code_version: run.code_version.clone(),
        schema_version: run.schema_version.clone(),
        run_id: run.run_id.clone(),
        committed_at: rfc3339_micros(now_us()),
        seconds: started.elapsed().as_secs_f64(),
    };
    marker.store(&layout)?;
    match DatasetManifest::finalize(&layout)? {
        Ok(_) => Ok(Snapshot {
            root: layout.root,
            data,
            rejects,
        }),
        Err(problems) => Err(SnapshotError::Check(problems.join("; "))),
    }
}

fn write_batch(
    path: &Path,
    schema: SchemaRef,
    batch: RecordBatch,
) -> Result<WrittenFile, SnapshotError> {
    let mut writer = ShardWriter::create(path, schema, &WriterSettings::default())?;
    writer.write(batch)?;
    Ok(writer.finish()?)
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rows_per_shard: u64) -> RunIdentity {
        RunIdentity {
            pipeline: "test".into(),
            dataset: "points".into(),
            run_id: "r".repeat(64),
            config_hash: "c".repeat(64),
            seed: 0,
            code_version: "test".into(),
            schema_version: pixmo_annotation_schema::SCHEMA_VERSION.into(),
            rows_per_shard,
        }
    }

    fn rejection(index: u64) -> Rejection {
        Rejection {
            record_id: format!("r{index}"),
            split: "train".into(),
            record_index: index,
            stage: "import".into(),
            kind: "image_missing".into(),
            message: "no file".into(),
        }
    }

    #[test]
    fn rejects_alone_make_a_committed_run_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_snapshot(
            dir.path(),
            Dataset::Points,
            "train",
            &[],
            &[rejection(0), rejection(1)],
            &run(2),
            0,
        )
        .unwrap();
        assert_eq!((written.data.rows, written.rejects.rows), (0, 2));
        let layout = DatasetLayout::new(dir.path(), "points");
        let manifest = DatasetManifest::load(&layout).unwrap();
        assert_eq!(manifest.total_rejects, 2);
        let again = write_snapshot(dir.path(), Dataset::Points, "train", &[], &[], &run(1), 0);
        assert!(matches!(again, Err(SnapshotError::Exists(_))), "{again:?}");
    }

    #[test]
    fn indices_and_shard_size_are_checked_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let out = |name: &str| dir.path().join(name);
        let gap = write_snapshot(
            &out("gap"),
            Dataset::Points,
            "train",
            &[],
            &[rejection(1)],
            &run(1),
            0,
        );
        assert!(matches!(gap, Err(SnapshotError::Rows { .. })), "{gap:?}");
        let small = write_snapshot(
            &out("small"),
            Dataset::Points,
            "train",
            &[],
            &[rejection(0), rejection(1)],
            &run(1),
            0,
        );
        assert!(
            matches!(small, Err(SnapshotError::Rows { .. })),
            "{small:?}"
        );
        assert!(!out("gap").join("points").exists() && !out("small").join("points").exists());
    }
}
