//! The build loop: every `pixmo build` goes through [`build`].
//!
//! A dataset is a list of **logical shards**: fixed ranges of record indices per split. Each
//! build that adds records appends a **generation** (`.pixmo/generations/GGGGG.json`, written
//! once) whose new records are cut into shards of the run's fixed size; a shard is a pure
//! function of (config, seed, split, range), named `part-GGGGG-SSSSS` forever. So:
//! - a re-run skips committed shards (checked against their marker by size; `pixmo verify`
//!   re-hashes) and computes the rest;
//! - a broken committed shard or marker is moved to quarantine (never deleted) and recomputed;
//! - raising `--count` appends a generation: committed files keep their names and bytes, only
//!   the new records are computed (`records_appended` in the summary);
//! - `--num-shards N --shard-index i` builds the shards at positions `i, i+N, ...` of the
//!   run's shard list, so N workers (a Slurm array, a Kubernetes Indexed Job) together build
//!   exactly what one process builds;
//! - any number of workers may share one directory, start late, be killed and requeued: each
//!   holds a lease (`pixmo_shards::lease`) and only removes temporary files of provably dead
//!   workers; state files are written once.
//!
//! Modules by concern: `run` (identity and generations), `resume` (skip or quarantine),
//! `shard` (compute and commit), [`verify`] (full check and finalize), [`summary`].

mod dedup;
pub mod error;
pub mod output;
mod probe;
mod resume;
mod run;
mod shard;
pub mod summary;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use pixmo_annotation_schema::Dataset;
use pixmo_dag::exec::ExecStats;
use pixmo_dag::progress::{Progress, ProgressMode};
use pixmo_dag::{ColumnType, Plan};
use pixmo_shards::{DatasetLayout, Lease, ShardId, sweep_dead_temporaries};

pub use error::BuildError;
pub use output::OutputConfig;
pub use summary::{BuildSummary, StageSummary};
pub use verify::{VerifyReport, finalize, verify};

use crate::resume::Resume;
use crate::shard::ShardContext;

/// What to build.
#[derive(Clone, Debug)]
pub struct BuildRequest {
    /// Output directory (the dataset goes into `<out>/<dataset>`).
    pub out: PathBuf,
    /// Records over all splits (ignored when `source` is given: it says how many).
    pub count: u64,
    /// Where the records come from when they are collected, not generated (an inbox of
    /// recordings, another dataset): its counts per split replace `count`, and each record
    /// carries its description into the first stage.
    pub source: Option<Arc<dyn pixmo_dag::RecordSource>>,
    /// Run seed.
    pub seed: u64,
    /// `(N, i)`: build only the shards at positions `i, i+N, ...`; `None`: all, then finalize.
    pub worker: Option<(u32, u32)>,
    /// Build time to stamp into the rows of a new generation (µs since the epoch). `None`:
    /// `SOURCE_DATE_EPOCH`, or now. Existing generations keep their recorded time.
    pub as_of_us: Option<i64>,
    /// Progress display.
    pub progress: ProgressMode,
    /// Worker threads for CPU stages (0: all cores).
    pub cores: usize,
}

/// Checks that a directory can be created and written.
fn check_writable(dir: &Path) -> Result<(), BuildError> {
    let err = |message: String| BuildError::Output {
        path: dir.to_path_buf(),
        message,
    };
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let probe = dir.join(format!(
        ".pixmo-write-test.tmp-{}",
        pixmo_shards::lease::process_token()
    ));
    std::fs::write(&probe, b"ok").map_err(|e| err(e.to_string()))?;
    remove_probe(&probe).map_err(|e| err(e.to_string()))
}

/// Removes the write probe. The probe is named like a temporary file (so that a probe left by a
/// crash is swept), and it is written before this process holds a lease, so a concurrent
/// worker's sweep may already have removed it as an ownerless temporary: gone is fine, the write
/// has proved the folder writable.
fn remove_probe(probe: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(probe) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Refuses a dataset root whose own folders are symbolic links: pixmo never follows links
/// out of the root, for reading, writing or cleaning.
fn refuse_links(layout: &DatasetLayout, splits: &[String]) -> Result<(), BuildError> {
    let state = layout.state_dir();
    let mut dirs = vec![layout.root.clone(), state.clone()];
    for sub in ["commits", "rejects", "generations", "leases", "quarantine"] {
        dirs.push(state.join(sub));
    }
    for split in splits {
        dirs.push(layout.split_dir(split));
        dirs.push(layout.marker_dir(split));
        dirs.push(state.join("rejects").join(split));
    }
    for dir in dirs {
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(BuildError::Output {
                path: dir,
                message: "is a symbolic link; pixmo does not follow links inside a dataset root"
                    .into(),
            });
        }
    }
    Ok(())
}

/// The shards of worker `(n, i)`: positions `i, i+n, ...` of the run's list.
fn select(all: Vec<ShardId>, worker: Option<(u32, u32)>) -> Vec<ShardId> {
    all.into_iter()
        .enumerate()
        .filter(|(pos, _)| worker.is_none_or(|(n, i)| *pos % n as usize == i as usize))
        .map(|(_, id)| id)
        .collect()
}

/// Builds (or resumes, or grows) a dataset. Must be called inside a tokio runtime.
///
/// # Errors
/// Run-level failures ([`BuildError`]); bad records become rejections instead.
pub async fn build(plan: Arc<Plan>, request: BuildRequest) -> Result<BuildSummary, BuildError> {
    let started = Instant::now();
    let config_err = |message: String| BuildError::Config {
        pipeline: plan.spec.name.clone(),
        message,
    };
    let dataset = Dataset::from_name(&plan.spec.dataset).ok_or_else(|| {
        config_err(format!(
            "unknown dataset `{}`; known: {}",
            plan.spec.dataset,
            Dataset::ALL.map(Dataset::name).join(", ")
        ))
    })?;
    let schema = dataset.schema();
    pixmo_stages::sink::check_plan(&plan, &schema).map_err(&config_err)?;
    let output = OutputConfig::from_table(&plan.spec.output).map_err(&config_err)?;
    if output.near_duplicate_bits.is_some()
        && plan.output_columns().get("image_dhash") != Some(&ColumnType::Bytes)
    {
        return Err(config_err(
            "[output]: `near_duplicate_bits` needs the `image_dhash` column: set `dhash = true` in the `image.validate` stage"
                .into(),
        ));
    }
    if let Some((count, index)) = request.worker
        && (count == 0 || index >= count)
    {
        return Err(BuildError::Worker { count, index });
    }
    let layout = DatasetLayout::new(&request.out, dataset.name());
    let splits: Vec<String> = run::split_counts(&plan, &request)?.into_keys().collect();
    refuse_links(&layout, &splits)?;
    check_writable(&layout.state_dir())?;
    // Held until this function returns: other workers see this process as alive.
    let lease = Lease::acquire(&layout)?;
    let swept = sweep_dead_temporaries(&layout)?;

    let opened = run::open(&plan, &request, &layout, &schema, &output).await?;
    let run = opened.run;
    let all = run.shards();
    let records_appended = opened.created.map_or(0, |g| {
        all.iter()
            .filter(|s| s.generation == g)
            .map(ShardId::records)
            .sum()
    });
    let mine = select(all, request.worker);
    let stats = Arc::new(ExecStats::for_plan(&plan));
    let ctx = ShardContext {
        plan: &plan,
        source: request.source.clone(),
        schema: &schema,
        layout: &layout,
        run: &run.identity,
        generations: &run.generations,
        settings: output.writer_settings(),
        near_duplicate_bits: output.near_duplicate_bits,
        stats: &stats,
    };
    let mut summary = BuildSummary {
        dataset: dataset.name().to_string(),
        path: layout.root.display().to_string(),
        run_id: run.identity.run_id.clone(),
        config_hash: plan.config_hash.clone(),
        generation: run.generations.last().map_or(0, |g| g.index),
        generation_created: opened.created,
        records_appended,
        temporaries_removed: swept.temporaries as u64,
        ..BuildSummary::default()
    };
    let total_records: u64 = mine.iter().map(ShardId::records).sum();
    let stage_names: Vec<String> = plan.stages.iter().map(|s| s.name.clone()).collect();
    let mut progress = Progress::new(request.progress, &stage_names, total_records);

    for id in &mine {
        match resume::check(&layout, &run, id)? {
            Resume::Committed => {
                summary.shards_skipped += 1;
                summary.records_skipped += id.records();
                progress.skip(id.records());
                continue;
            }
            Resume::Compute { quarantined } => {
                if !quarantined.is_empty() {
                    summary.shards_quarantined += 1;
                }
            }
        }
        let computed = ctx.compute(id, &mut progress).await?;
        summary.shards_written += 1;
        summary.records_computed += computed.records;
        summary.rows_written += computed.marker.rows;
        summary.rejects += computed.marker.rejects;
        for (reason, n) in computed.rejects_by_reason {
            *summary.rejects_by_reason.entry(reason).or_default() += n;
        }
    }
    progress.finish();

    summary.seconds = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    {
        summary.records_per_second = summary.records_computed as f64 / summary.seconds.max(1e-9);
    }
    summary.stages = summary::stage_summaries(&plan, &stats);
    if request.worker.is_none() {
        drop(lease);
        let manifest = finalize(&layout)?;
        summary.finalized = true;
        summary.dataset_rows = Some(manifest.total_rows);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The write probe goes into `.pixmo` before this process holds a lease, so another
    /// worker starting at the same moment can sweep it as an ownerless temporary between the
    /// write and the removal (seen as "Output directory `.../.pixmo` is not usable: No such
    /// file or directory" from a worker of the concurrent-workers test). That must not fail the
    /// build: the write already proved the folder writable.
    #[test]
    fn a_probe_swept_by_a_concurrent_worker_still_proves_the_folder_writable() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = DatasetLayout::new(tmp.path(), "clocks");
        std::fs::create_dir_all(layout.state_dir()).unwrap();
        // A probe as another process (no lease) writes it.
        let probe = layout
            .state_dir()
            .join(".pixmo-write-test.tmp-otherhost-4242-abcd");
        std::fs::write(&probe, b"ok").unwrap();
        let sweep = pixmo_shards::lease::sweep_dead_temporaries(&layout).unwrap();
        assert_eq!(sweep.temporaries, 1, "{sweep:?}");
        assert!(!probe.exists());
        // Its writer then removes it: gone is fine, any other failure is not.
        remove_probe(&probe).unwrap();
        assert!(std::fs::remove_file(&probe).is_err());
        // And the whole check passes in a folder another worker is sweeping.
        check_writable(&layout.state_dir()).unwrap();
    }
}
