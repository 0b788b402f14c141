//! Audits built pixmo datasets and answers SQL over them, with DataFusion.
//!
//! The only pixmo crate that depends on DataFusion. [`audit`] checks one dataset root
//! (`OUT/<dataset>`) and returns an [`AuditReport`]; [`sql`] runs a query over the tables
//! below; [`session`] hands out the DataFusion session with the tables registered.
//!
//! # Tables
//!
//! For a dataset root, [`session`] and [`sql`] register:
//!
//! | table | rows |
//! |---|---|
//! | `rows` | every row of every split's shards (schema: `Dataset::schema()`), plus a `split` column |
//! | `<split>` (`train`, `val`, ...) | the rows of one split, without the `split` column |
//! | `rejects` | every rejected record: `record_id, split, record_index, stage, kind, message` |
//! | `shards` | one row per commit marker: `split, shard_index, num_shards, record_start, record_end, file, rows, bytes, sha256, rejects_file, rejects, rejects_sha256, seed, config_hash, code_version, schema_version, run_id, committed_at, seconds` |
//!
//! The shard files read are those named by the commit markers and `manifest.json`; stray
//! Parquet files in the split folders are not read (the `manifest` check reports them). A
//! split named `rows`, `rejects` or `shards` gets no table of its own. Nested columns are read
//! with brackets: `SELECT provenance['run_id'], count(*) FROM rows GROUP BY 1`.
//!
//! When [`sql`] is given an output folder holding several datasets, every table name is
//! prefixed with the dataset's folder name (pixmo names it after the dataset): `clocks_rows`, `clocks_rejects`, `clocks_shards`,
//! `clocks_train`, ... An output folder holding one dataset is treated as that dataset's
//! root (no prefixes). `SHOW TABLES` lists what is registered.
//!
//! # Checks
//!
//! [`audit`] runs, in this order (a dataset passes when all pass):
//! 1. `manifest`: `manifest.json` exists and matches `run.json` and the commit markers (no
//!    marker missing, none unlisted, none from another run); every data and rejects file
//!    exists with the size and a freshly computed SHA-256 its marker records; no stray
//!    `*.parquet` next to the shards.
//! 2. `row_counts`: each file's footer row count equals its marker; per-split `count(*)` of
//!    `rows` and `rejects` equals the markers and the manifest.
//! 3. `schema`: each shard's Arrow schema has the dataset's columns, in order, with their
//!    types, nullability and point units; `pixmo.schema_version` is
//!    [`pixmo_annotation_schema::SCHEMA_VERSION`]; the `huggingface` features are present.
//! 4. `provenance_complete`: run id, code version, config hash, schema version and pipeline
//!    set and equal to the run's; the run seed; non-empty stages (with kind, version and config
//!    hash), models with names and hex file hashes (LLMs also with prompt template id and
//!    hash), non-empty sources with hex hashes, `created_at` set.
//! 5. `image_hashes`: every image's bytes hash to `image_sha256`, start with a PNG or JPEG
//!    header, and that header's size equals `width` x `height` (streamed, files in parallel).
//! 6. `unique_ids`: the dataset's id column is unique across all splits.
//! 7. `duplicate_images`: rows repeating another row's `image_sha256`; informational, fails
//!    above [`MAX_DUPLICATE_IMAGE_SHARE`] of the rows.
//! 8. `vlm_free`: every row claims `vlm_free`, and the claim is re-derived from its recorded
//!    lineage: no stage with `uses_vlm` and no model of kind `vlm`.
//! 9. `rejects`: the rejects table is readable; counts by stage and kind.
//! 10. `points` (datasets with a `points` list of `{x, y}`: PixMo-Points, PixMo-Count):
//!     every point lies inside its image in the dataset's unit (percent: 0–100; pixels:
//!     0–`width`, 0–`height`), so a pixel value in a percent column is caught.
//!
//! A check that cannot run (an unreadable file, a failing query) fails with the reason;
//! [`AuditError`] is only for datasets that cannot be audited at all.

mod checks;
mod error;
mod inputs;
pub mod read_only;
mod report;
mod tables;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

pub use checks::ids::MAX_DUPLICATE_IMAGE_SHARE;
pub use error::{AuditError, Refused, Result};
pub use report::{AuditReport, Check};

use inputs::DatasetInputs;

/// Audits the dataset at `dataset_root` (`OUT/<dataset>`).
///
/// # Errors
/// When the folder holds no pixmo run, its `run.json` cannot be read or names an unknown
/// dataset, or the tables cannot be registered. Failed checks are not errors.
pub async fn audit(dataset_root: &Path) -> Result<AuditReport> {
    let inputs = Arc::new(DatasetInputs::load(dataset_root)?);
    let ctx = tables::dataset_session(&inputs).await?;
    let file_checks = {
        let inputs = Arc::clone(&inputs);
        tokio::task::spawn_blocking(move || {
            (
                checks::manifest::manifest(&inputs),
                checks::schema::schema(&inputs),
                checks::images::image_hashes(&inputs),
            )
        })
    };
    let (row_counts, rows, rejects) = checks::manifest::row_counts(&ctx, &inputs).await;
    let provenance = checks::provenance::provenance_complete(&ctx, &inputs).await;
    let unique_ids = checks::ids::unique_ids(&ctx, &inputs).await;
    let duplicate_images = checks::ids::duplicate_images(&ctx, rows, &inputs).await;
    let vlm_free = checks::provenance::vlm_free(&ctx, &inputs).await;
    let rejects_check = checks::ids::rejects(&ctx).await;
    let points = checks::points::point_ranges(&ctx, &inputs).await;
    let (manifest, schema, image_hashes) = file_checks.await.map_err(|e| AuditError::Task {
        path: dataset_root.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut checks = vec![
        manifest,
        row_counts,
        schema,
        provenance,
        image_hashes,
        unique_ids,
        duplicate_images,
        vlm_free,
        rejects_check,
    ];
    checks.extend(points);
    Ok(AuditReport {
        dataset_root: dataset_root.to_path_buf(),
        dataset: inputs.run.dataset.clone(),
        checks,
        rows,
        rejects,
    })
}

/// The dataset roots in `dir`: `dir` itself when it holds `.pixmo/run.json`, else its
/// sub-folders that do, sorted. Empty when there are none or `dir` cannot be read.
#[must_use]
pub fn find_datasets(dir: &Path) -> Vec<PathBuf> {
    let is_root = |p: &Path| p.join(".pixmo").join("run.json").is_file();
    if is_root(dir) {
        return vec![dir.to_path_buf()];
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut roots: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_root(p))
        .collect();
    roots.sort();
    roots
}

/// A DataFusion session with the tables of the dataset at `dataset_root` registered (see
/// the crate documentation).
///
/// # Errors
/// When the folder holds no readable pixmo run or a table cannot be registered.
pub async fn session(dataset_root: &Path) -> Result<SessionContext> {
    let inputs = DatasetInputs::load(dataset_root)?;
    tables::dataset_session(&inputs).await
}

/// Runs `query` over the dataset(s) in `dir` and collects the result. `dir` is a dataset
/// root, or an output folder: with one dataset its tables keep their plain names, with
/// several they are prefixed `<dataset>_`.
///
/// # Errors
/// When `dir` holds no dataset, the query is not read-only ([`AuditError::ReadOnly`]:
/// `COPY`, `CREATE EXTERNAL TABLE`, `SET`... are refused before anything runs), or it fails
/// (the message says why).
pub async fn sql(dir: &Path, query: &str) -> Result<Vec<RecordBatch>> {
    let roots = find_datasets(dir);
    let ctx = match roots.as_slice() {
        [] => {
            return Err(AuditError::NotADataset {
                path: dir.to_path_buf(),
            });
        }
        [root] => session(root).await?,
        many => tables::multi_session(dir, many).await?,
    };
    let frame = read_only::query(&ctx, query)
        .await
        .map_err(|e| read_only::refusal(query, &e).unwrap_or_else(|| AuditError::query(dir)(e)))?;
    frame.collect().await.map_err(AuditError::query(dir))
}

/// Query results as an ASCII table (or the formatting error, as text).
#[must_use]
pub fn pretty(batches: &[RecordBatch]) -> String {
    match datafusion::arrow::util::pretty::pretty_format_batches(batches) {
        Ok(table) => table.to_string(),
        Err(e) => format!("Could not format the result: {e}"),
    }
}
