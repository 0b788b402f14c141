//! Building a dataset: shards planned from (config, count), computed, committed, resumed.
//!
//! Logical shards are fixed ranges of record indices: shard `j` of a split holds records
//! `j*R .. min((j+1)*R, count)` where `R` (rows per shard) is fixed for the output
//! directory. Each shard is a pure function of (config, seed, split, range), so:
//! - a re-run skips committed shards (verified against their marker) and redoes the rest;
//!   temporary files of killed writers are removed first;
//! - a corrupted committed shard is moved to quarantine (never deleted) and recomputed;
//! - raising `--count` keeps full shards (renamed when the shard total changes), extends the
//!   last partial shard by reading its rows back and computing only the new records;
//! - `--num-shards N --shard-index i` builds the shards at positions `i, i+N, ...` of the
//!   run's shard list, so N workers (a Slurm array, a Kubernetes Indexed Job) together build
//!   exactly what one process builds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pixmo_annotation_schema::{Dataset, DatasetSchema, SCHEMA_VERSION};
use pixmo_dag::exec::{ExecStats, Outcome};
use pixmo_dag::progress::{Progress, ProgressMode};
use pixmo_dag::{ColumnType, Plan, Record, Rejection, Value, WorkUnit};
use pixmo_shards::manifest::quarantine;
use pixmo_shards::writer::remove_stale_temporaries;
use pixmo_shards::{
    DatasetLayout, DatasetManifest, RunState, ShardMarker, ShardWriter, WriterSettings,
    read_batches,
};
use serde::{Deserialize, Serialize};

use crate::sink::{check_plan, records_to_batch, rejections_to_batch, rfc3339_micros};

/// Run-level failures of a build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The pipeline does not fit the dataset schema, or its `[output]` table is wrong.
    #[error("Invalid pipeline `{pipeline}`: {message}")]
    Config {
        /// Pipeline name.
        pipeline: String,
        /// What is wrong.
        message: String,
    },
    /// The output directory cannot be used.
    #[error("Output directory `{path}` is not usable: {message}")]
    Output {
        /// Directory.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The directory holds another run.
    #[error("`{path}` holds a different run ({what}); use a new --out directory or delete it")]
    RunMismatch {
        /// Directory.
        path: PathBuf,
        /// What differs.
        what: String,
    },
    /// Reading or writing shards failed.
    #[error(transparent)]
    Shards(#[from] pixmo_shards::Error),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] pixmo_dag::Error),
    /// Converting rows to Arrow failed (likely a bug).
    #[error("Could not convert rows of shard `{shard}` (likely a bug): {message}")]
    Convert {
        /// Shard.
        shard: String,
        /// Message.
        message: String,
    },
}

/// The `[output]` table of a pipeline spec.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Records per shard. Default 1000 unless `target_shard_bytes` is set.
    pub rows_per_shard: Option<u64>,
    /// Aim for shards of about this many bytes: rows per shard is derived from the
    /// encoded size of the first records (a deterministic probe).
    pub target_shard_bytes: Option<u64>,
    /// Rows per Parquet row group.
    #[serde(default = "default_row_group_rows")]
    pub row_group_rows: usize,
    /// zstd level of non-image columns.
    #[serde(default = "default_zstd")]
    pub zstd_level: i32,
    /// Reject a row as `near_duplicate` when its image's difference hash (`image_dhash`,
    /// written by `image.validate`) is within this many bits of an earlier row's in the same
    /// shard. Rows are checked in record order, so the result does not depend on worker
    /// timing or on how shards are spread over machines. Off when absent.
    pub near_duplicate_bits: Option<u32>,
}

fn default_row_group_rows() -> usize {
    64
}

fn default_zstd() -> i32 {
    3
}

impl OutputConfig {
    /// Parses and checks the `[output]` table.
    ///
    /// # Errors
    /// Unknown fields, both sizes given, or zero sizes.
    pub fn from_table(table: &toml::Table) -> Result<OutputConfig, String> {
        let config: OutputConfig = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| format!("[output]: {}", e.message()))?;
        if config.rows_per_shard.is_some() && config.target_shard_bytes.is_some() {
            return Err("[output]: set `rows_per_shard` or `target_shard_bytes`, not both".into());
        }
        if config.rows_per_shard == Some(0) || config.target_shard_bytes == Some(0) {
            return Err("[output]: shard sizes must be positive".into());
        }
        if config.row_group_rows == 0 {
            return Err("[output]: `row_group_rows` must be positive".into());
        }
        if config.near_duplicate_bits.is_some_and(|b| b > 256) {
            return Err("[output]: `near_duplicate_bits` must be at most 256 (of 1024)".into());
        }
        Ok(config)
    }
}

/// What to build.
#[derive(Clone, Debug)]
pub struct BuildRequest {
    /// Output directory (the dataset goes into `<out>/<dataset>`).
    pub out: PathBuf,
    /// Records over all splits.
    pub count: u64,
    /// Run seed.
    pub seed: u64,
    /// `(N, i)`: build only the shards at positions `i, i+N, ...`; `None`: all, then finalize.
    pub worker: Option<(u32, u32)>,
    /// Build time to stamp into rows (µs since the epoch). `None`: `SOURCE_DATE_EPOCH`, the
    /// directory's recorded time, or now.
    pub as_of_us: Option<i64>,
    /// Progress display.
    pub progress: ProgressMode,
    /// Worker threads for CPU stages (0: all cores).
    pub cores: usize,
}

/// Time and counts of one stage over the run.
#[derive(Clone, Debug, Serialize)]
pub struct StageSummary {
    /// Stage name.
    pub stage: String,
    /// Records processed successfully.
    pub ok: u64,
    /// Records rejected here.
    pub rejected: u64,
    /// CPU seconds spent inside the stage, summed over workers.
    pub busy_seconds: f64,
    /// The stage's own counters ([`pixmo_dag::Stage::summary`]), such as LLM calls and
    /// cache hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// The `--json` summary of a build.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BuildSummary {
    /// Dataset name.
    pub dataset: String,
    /// Dataset folder.
    pub path: String,
    /// Run id.
    pub run_id: String,
    /// Config hash.
    pub config_hash: String,
    /// Rows written by this invocation (carried-over rows of extended shards included).
    pub rows_written: u64,
    /// Records rejected by this invocation.
    pub rejects: u64,
    /// Rejections by `stage/kind`.
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Shards computed.
    pub shards_written: u64,
    /// Committed shards kept as they were.
    pub shards_skipped: u64,
    /// Committed shards renamed because the shard total changed.
    pub shards_renamed: u64,
    /// Partial shards extended with new records.
    pub shards_extended: u64,
    /// Corrupted shards moved to quarantine and recomputed.
    pub shards_quarantined: u64,
    /// Records computed by this invocation.
    pub records_computed: u64,
    /// Wall seconds.
    pub seconds: f64,
    /// Records computed per second.
    pub records_per_second: f64,
    /// Per-stage counts and time.
    pub stages: Vec<StageSummary>,
    /// Total rows of the finalized dataset, when this invocation finalized it.
    pub dataset_rows: Option<u64>,
    /// Whether `manifest.json` was written.
    pub finalized: bool,
}

/// One logical shard.
#[derive(Clone, Debug)]
struct ShardJob {
    split: String,
    index: u32,
    total: u32,
    start: u64,
    end: u64,
}

/// Now, in µs since the epoch.
fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn source_date_epoch() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| s * 1_000_000)
}

/// Checks that a directory can be created and written.
fn check_writable(dir: &Path) -> Result<(), BuildError> {
    let err = |message: String| BuildError::Output {
        path: dir.to_path_buf(),
        message,
    };
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let probe = dir.join(format!(".pixmo-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(|e| err(e.to_string()))?;
    std::fs::remove_file(&probe).map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// Builds (or resumes, or grows) a dataset. Must be called inside a tokio runtime.
///
/// # Errors
/// Run-level failures ([`BuildError`]); bad records become rejections instead.
#[allow(clippy::too_many_lines)]
pub async fn build(plan: Arc<Plan>, request: BuildRequest) -> Result<BuildSummary, BuildError> {
    let started = Instant::now();
    let pipeline = plan.spec.name.clone();
    let config_err = |message: String| BuildError::Config {
        pipeline: pipeline.clone(),
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
    check_plan(&plan, &schema).map_err(&config_err)?;
    let output = OutputConfig::from_table(&plan.spec.output).map_err(&config_err)?;
    if output.near_duplicate_bits.is_some()
        && plan.output_columns().get("image_dhash") != Some(&ColumnType::Bytes)
    {
        return Err(config_err(
            "[output]: `near_duplicate_bits` needs the `image_dhash` column: set `dhash = true` in the `image.validate` stage"
                .into(),
        ));
    }
    if let Some((n, i)) = request.worker
        && (n == 0 || i >= n)
    {
        return Err(config_err(format!(
            "--shard-index {i} is out of range for --num-shards {n}"
        )));
    }
    let layout = DatasetLayout::new(&request.out, dataset.name());
    check_writable(&layout.state_dir())?;
    remove_stale_temporaries(&layout.root)?;

    let code_version = pixmo_core::code_version();
    let run_id = pixmo_core::sha256_hex(
        format!("{}|{}|{}", plan.config_hash, request.seed, code_version).as_bytes(),
    )[..16]
        .to_string();
    let existing = RunState::load(&layout)?;
    if let Some(state) = &existing {
        let mut diffs = Vec::new();
        if state.config_hash != plan.config_hash {
            diffs.push(format!(
                "config hash {} vs {}",
                &state.config_hash[..12.min(state.config_hash.len())],
                &plan.config_hash[..12]
            ));
        }
        if state.seed != request.seed {
            diffs.push(format!("seed {} vs {}", state.seed, request.seed));
        }
        if state.code_version != code_version {
            diffs.push(format!(
                "code version `{}` vs `{code_version}`",
                state.code_version
            ));
        }
        if !diffs.is_empty() {
            return Err(BuildError::RunMismatch {
                path: layout.root.clone(),
                what: diffs.join(", "),
            });
        }
    }
    let split_counts = plan.spec.split_counts(request.count);
    if let Some(state) = &existing {
        for (split, count) in &split_counts {
            let before = state.counts.get(split).copied().unwrap_or(0);
            if *count < before {
                return Err(config_err(format!(
                    "split `{split}` would shrink from {before} to {count} records; counts only grow in one output directory"
                )));
            }
        }
    }
    let stats = Arc::new(ExecStats::for_plan(&plan));
    let settings = WriterSettings {
        row_group_rows: output.row_group_rows,
        zstd_level: output.zstd_level,
    };
    let rows_per_shard = match (&existing, output.rows_per_shard, output.target_shard_bytes) {
        (Some(state), Some(rows), _) if rows != state.rows_per_shard => {
            return Err(BuildError::RunMismatch {
                path: layout.root.clone(),
                what: format!("rows per shard {} vs {rows}", state.rows_per_shard),
            });
        }
        (Some(state), _, _) => state.rows_per_shard,
        (None, Some(rows), _) => rows,
        (None, None, Some(bytes)) => {
            probe_rows_per_shard(&plan, &schema, &request, &split_counts, bytes).await?
        }
        (None, None, None) => 1000,
    };
    let as_of_us = request
        .as_of_us
        .or_else(source_date_epoch)
        .or(existing.as_ref().map(|s| s.as_of_us))
        .unwrap_or_else(now_us);
    let run = RunState {
        pipeline: pipeline.clone(),
        dataset: dataset.name().to_string(),
        config_hash: plan.config_hash.clone(),
        seed: request.seed,
        code_version,
        schema_version: SCHEMA_VERSION.to_string(),
        run_id: run_id.clone(),
        as_of_us,
        rows_per_shard,
        counts: split_counts.iter().cloned().collect(),
    };
    if existing.as_ref() != Some(&run) {
        run.store(&layout)?;
    }

    // The run's shard list, in a fixed order; a worker takes every N-th.
    let mut jobs = Vec::new();
    for (split, count) in &split_counts {
        let total = run.num_shards(split);
        for index in 0..total {
            let start = u64::from(index) * rows_per_shard;
            jobs.push(ShardJob {
                split: split.clone(),
                index,
                total,
                start,
                end: (start + rows_per_shard).min(*count),
            });
        }
    }
    let mine: Vec<ShardJob> = jobs
        .into_iter()
        .enumerate()
        .filter(|(pos, _)| {
            request
                .worker
                .is_none_or(|(n, i)| u32::try_from(*pos % n as usize).unwrap_or(u32::MAX) == i)
        })
        .map(|(_, job)| job)
        .collect();

    let mut summary = BuildSummary {
        dataset: dataset.name().to_string(),
        path: layout.root.display().to_string(),
        run_id,
        config_hash: plan.config_hash.clone(),
        ..BuildSummary::default()
    };
    let total_records: u64 = mine.iter().map(|j| j.end - j.start).sum();
    let stage_names: Vec<String> = plan.stages.iter().map(|s| s.name.clone()).collect();
    let mut progress = Progress::new(request.progress, &stage_names, total_records);

    for job in &mine {
        let shard_started = Instant::now();
        let marker = ShardMarker::load(&layout.marker_path(&job.split, job.index))?;
        let mut carried: Option<ShardMarker> = None;
        if let Some(marker) = marker {
            let same_run = marker.config_hash == run.config_hash && marker.seed == run.seed;
            let usable = same_run && marker.start == job.start && marker.end <= job.end;
            if usable {
                match marker.verify(&layout) {
                    Ok(()) if marker.end == job.end && marker.num_shards == job.total => {
                        summary.shards_skipped += 1;
                        progress.skip(job.end - job.start);
                        continue;
                    }
                    Ok(()) if marker.end == job.end => {
                        rename_shard(&layout, &marker, job)?;
                        summary.shards_renamed += 1;
                        progress.skip(job.end - job.start);
                        continue;
                    }
                    Ok(()) => carried = Some(marker),
                    Err(e) => {
                        eprintln!("warning: {e}; moving it to quarantine and recomputing");
                        for file in [&marker.file, &marker.rejects_file] {
                            let path = layout.root.join(file);
                            if path.exists() {
                                quarantine(&layout, &path)?;
                            }
                        }
                        summary.shards_quarantined += 1;
                    }
                }
            }
        }
        let compute_from = carried.as_ref().map_or(job.start, |m| m.end);
        let outcome = compute_shard(
            &plan,
            &schema,
            &layout,
            &run,
            &settings,
            output.near_duplicate_bits,
            job,
            compute_from,
            carried.as_ref(),
            &stats,
            &mut progress,
            &mut summary,
        )
        .await?;
        let (rows, rejects, rejects_by_reason) = outcome;
        let data_path = layout.shard_path(&job.split, job.index, job.total);
        let written_data = ShardMarker {
            dataset: run.dataset.clone(),
            split: job.split.clone(),
            shard_index: job.index,
            num_shards: job.total,
            start: job.start,
            end: job.end,
            file: layout.relative(&data_path),
            rows: rows.rows,
            bytes: rows.bytes,
            sha256: rows.sha256,
            rejects_file: layout.relative(&rejects.path),
            rejects: rejects.rows,
            rejects_sha256: rejects.sha256,
            seed: run.seed,
            config_hash: run.config_hash.clone(),
            code_version: run.code_version.clone(),
            schema_version: run.schema_version.clone(),
            run_id: run.run_id.clone(),
            committed_at: rfc3339_micros(now_us()),
            seconds: shard_started.elapsed().as_secs_f64(),
        };
        written_data.store(&layout)?;
        // Files of the same shard under an older total are superseded now.
        if let Some(old) = &carried {
            if old.file != written_data.file {
                let _ = std::fs::remove_file(layout.root.join(&old.file));
            }
            if old.rejects_file != written_data.rejects_file {
                let _ = std::fs::remove_file(layout.root.join(&old.rejects_file));
            }
            summary.shards_extended += 1;
        } else {
            summary.shards_written += 1;
        }
        summary.rows_written += written_data.rows;
        summary.rejects += written_data.rejects;
        for (reason, n) in rejects_by_reason {
            *summary.rejects_by_reason.entry(reason).or_default() += n;
        }
    }
    progress.finish();

    summary.seconds = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    {
        summary.records_per_second = summary.records_computed as f64 / summary.seconds.max(1e-9);
    }
    summary.stages = stats
        .stages
        .iter()
        .map(|s| {
            use std::sync::atomic::Ordering::Relaxed;
            #[allow(clippy::cast_precision_loss)]
            let busy = s.busy_nanos.load(Relaxed) as f64 / 1e9;
            StageSummary {
                stage: s.name.clone(),
                ok: s.ok.load(Relaxed),
                rejected: s.rejected.load(Relaxed),
                busy_seconds: busy,
                details: plan
                    .stages
                    .iter()
                    .find(|p| p.name == s.name)
                    .and_then(|p| p.stage.summary()),
            }
        })
        .collect();
    if request.worker.is_none() {
        match DatasetManifest::finalize(&layout)? {
            Ok(manifest) => {
                summary.finalized = true;
                summary.dataset_rows = Some(manifest.total_rows);
            }
            Err(problems) => {
                return Err(BuildError::Output {
                    path: layout.root.clone(),
                    message: format!("finalize found problems: {}", problems.join("; ")),
                });
            }
        }
    }
    Ok(summary)
}

fn rename_shard(
    layout: &DatasetLayout,
    marker: &ShardMarker,
    job: &ShardJob,
) -> Result<(), BuildError> {
    let data = layout.shard_path(&job.split, job.index, job.total);
    let rejects = layout.rejects_path(&job.split, job.index, job.total);
    let io = |e: std::io::Error, p: &Path| pixmo_shards::Error::io("rename", p, e);
    std::fs::rename(layout.root.join(&marker.file), &data)
        .map_err(|e| io(e, &layout.root.join(&marker.file)))?;
    if let Some(dir) = rejects.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    }
    std::fs::rename(layout.root.join(&marker.rejects_file), &rejects)
        .map_err(|e| io(e, &layout.root.join(&marker.rejects_file)))?;
    let mut updated = marker.clone();
    updated.num_shards = job.total;
    updated.file = layout.relative(&data);
    updated.rejects_file = layout.relative(&rejects);
    updated.store(layout)?;
    Ok(())
}

type ShardOutcome = (
    pixmo_shards::writer::WrittenFile,
    pixmo_shards::writer::WrittenFile,
    BTreeMap<String, u64>,
);

/// Computes one shard (records `from..job.end`, after any carried rows) and writes its
/// data and rejects files. The marker is written by the caller.
#[allow(clippy::too_many_arguments)]
async fn compute_shard(
    plan: &Arc<Plan>,
    schema: &DatasetSchema,
    layout: &DatasetLayout,
    run: &RunState,
    settings: &WriterSettings,
    near_duplicate_bits: Option<u32>,
    job: &ShardJob,
    from: u64,
    carried: Option<&ShardMarker>,
    stats: &Arc<ExecStats>,
    progress: &mut Progress,
    summary: &mut BuildSummary,
) -> Result<ShardOutcome, BuildError> {
    let shard_name = format!(
        "{}/{}",
        job.split,
        DatasetLayout::shard_name(job.index, job.total)
    );
    let data_path = layout.shard_path(&job.split, job.index, job.total);
    let rejects_path = layout.rejects_path(&job.split, job.index, job.total);
    let mut writer = ShardWriter::create(&data_path, Arc::clone(&schema.schema), settings)?;
    let mut rejections: Vec<Rejection> = Vec::new();
    let mut dedup = near_duplicate_bits.map(NearDuplicates::new);
    if let Some(old) = carried {
        for batch in read_batches(&layout.root.join(&old.file), settings.row_group_rows)? {
            if let Some(d) = dedup.as_mut() {
                d.add_carried(&batch, &run.dataset, &job.split);
            }
            writer.write(batch)?;
        }
        for batch in read_batches(&layout.root.join(&old.rejects_file), 1024)? {
            rejections.extend(rejections_from_batch(&batch));
        }
        progress.skip(from - job.start);
    }
    let unit = WorkUnit {
        run_seed: run.seed,
        dataset: run.dataset.clone(),
        split: job.split.clone(),
        start: from,
        end: job.end,
    };
    let capacity = plan.stages.iter().map(|s| s.concurrency).max().unwrap_or(1) * 2;
    let (mut outcomes, handle) =
        pixmo_dag::execute(Arc::clone(plan), unit, Arc::clone(stats), capacity);
    let batch_rows = settings.row_group_rows;
    let mut pending: Vec<Record> = Vec::with_capacity(batch_rows);
    let mut new_rejections = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let no_done: Vec<u64> = Vec::new();
    loop {
        tokio::select! {
            outcome = outcomes.recv() => {
                let Some(outcome) = outcome else { break };
                summary.records_computed += 1;
                match outcome {
                    Outcome::Row(record) => {
                        if let Some(r) = dedup.as_mut().and_then(|d| d.check(&record)) {
                            new_rejections.push(r);
                            continue;
                        }
                        pending.push(*record);
                        if pending.len() >= batch_rows {
                            let records = std::mem::take(&mut pending);
                            write_records(&mut writer, schema, records, run, &shard_name).await?;
                        }
                    }
                    Outcome::Rejected(r) => new_rejections.push(r),
                }
            }
            _ = tick.tick() => progress.update(stats, &no_done),
        }
    }
    handle.await.map_err(|e| pixmo_dag::Error::Internal {
        stage: "executor".into(),
        message: e.to_string(),
    })??;
    if !pending.is_empty() {
        write_records(&mut writer, schema, pending, run, &shard_name).await?;
    }
    progress.update(stats, &no_done);
    let mut by_reason = BTreeMap::new();
    for r in &new_rejections {
        *by_reason
            .entry(format!("{}/{}", r.stage, r.kind))
            .or_insert(0) += 1;
    }
    rejections.extend(new_rejections);
    // Rejects first, then data: the marker written afterwards commits both.
    let mut rejects_writer =
        ShardWriter::create(&rejects_path, pixmo_shards::rejects_schema(), settings)?;
    let batch = rejections_to_batch(&rejections).map_err(|message| BuildError::Convert {
        shard: shard_name.clone(),
        message,
    })?;
    rejects_writer.write(batch)?;
    let rejects_file = rejects_writer.finish()?;
    let data_file = tokio::task::block_in_place(|| writer.finish())?;
    Ok((data_file, rejects_file, by_reason))
}

/// Difference hashes of the rows kept so far in one shard, in record order.
struct NearDuplicates {
    max_bits: u32,
    seen: Vec<(Arc<Vec<u8>>, String)>,
}

impl NearDuplicates {
    fn new(max_bits: u32) -> NearDuplicates {
        NearDuplicates {
            max_bits,
            seen: Vec::new(),
        }
    }

    /// The rejection of `record` when it nearly repeats a kept row; otherwise remembers it.
    fn check(&mut self, record: &Record) -> Option<Rejection> {
        let Some(Value::Bytes(hash)) = record.get("image_dhash") else {
            return None;
        };
        if let Some((bits, id)) = self
            .seen
            .iter()
            .map(|(h, id)| (pixmo_core::hamming(h, hash), id))
            .find(|(bits, _)| *bits <= self.max_bits)
        {
            return Some(Rejection {
                record_id: record.id.clone(),
                split: record.key.split.clone(),
                record_index: record.key.record_index,
                stage: "dedup".into(),
                kind: "near_duplicate".into(),
                message: format!(
                    "Image nearly repeats {id}'s ({bits} of 1024 difference-hash bits differ; limit {})",
                    self.max_bits
                ),
            });
        }
        self.seen.push((Arc::clone(hash), record.id.clone()));
        None
    }

    /// Remembers the rows of a carried (committed) batch, hashing their PNG images again.
    /// JPEG rows are not re-decoded and so are not compared against.
    fn add_carried(&mut self, batch: &arrow::array::RecordBatch, dataset: &str, split: &str) {
        use arrow::array::{Array, BinaryArray, StructArray, UInt64Array};
        let images = batch
            .column_by_name("image")
            .and_then(|c| c.as_any().downcast_ref::<StructArray>())
            .and_then(|s| s.column_by_name("bytes"))
            .and_then(|c| c.as_any().downcast_ref::<BinaryArray>());
        let Some(images) = images else { return };
        let indices = batch
            .column_by_name("provenance")
            .and_then(|c| c.as_any().downcast_ref::<StructArray>())
            .and_then(|s| s.column_by_name("record_index"))
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>());
        for row in 0..images.len() {
            if let Some(image) = crate::encode::decode_png(images.value(row)) {
                // The record id, as `Record::new` spells it.
                let id = indices.map_or_else(
                    || format!("committed row {row}"),
                    |a| format!("{dataset}-{split}-{:09}", a.value(row)),
                );
                self.seen.push((Arc::new(pixmo_core::dhash(&image)), id));
            }
        }
    }
}

async fn write_records(
    writer: &mut ShardWriter,
    schema: &DatasetSchema,
    records: Vec<Record>,
    run: &RunState,
    shard_name: &str,
) -> Result<(), BuildError> {
    // Arrow conversion and Parquet encoding are CPU work: keep them off the async threads.
    tokio::task::block_in_place(|| {
        let batch =
            records_to_batch(schema, &records, run).map_err(|message| BuildError::Convert {
                shard: shard_name.to_string(),
                message,
            })?;
        writer.write(batch)?;
        Ok(())
    })
}

fn rejections_from_batch(batch: &arrow::array::RecordBatch) -> Vec<Rejection> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::UInt64Type;
    let s = |name: &str| {
        batch
            .column_by_name(name)
            .map(|c| c.as_string::<i32>().clone())
    };
    let (Some(id), Some(split), Some(stage), Some(kind), Some(message)) = (
        s("record_id"),
        s("split"),
        s("stage"),
        s("kind"),
        s("message"),
    ) else {
        return Vec::new();
    };
    let Some(index) = batch
        .column_by_name("record_index")
        .map(|c| c.as_primitive::<UInt64Type>().clone())
    else {
        return Vec::new();
    };
    (0..batch.num_rows())
        .filter(|i| !id.is_null(*i))
        .map(|i| Rejection {
            record_id: id.value(i).to_string(),
            split: split.value(i).to_string(),
            record_index: index.value(i),
            stage: stage.value(i).to_string(),
            kind: kind.value(i).to_string(),
            message: message.value(i).to_string(),
        })
        .collect()
}

/// Rows per shard for a byte target, from the encoded size of the first records of the
/// first non-empty split. Deterministic: the same config always probes the same records.
async fn probe_rows_per_shard(
    plan: &Arc<Plan>,
    schema: &DatasetSchema,
    request: &BuildRequest,
    split_counts: &[(String, u64)],
    target_bytes: u64,
) -> Result<u64, BuildError> {
    let Some((split, count)) = split_counts.iter().find(|(_, c)| *c > 0) else {
        return Ok(1000);
    };
    let unit = WorkUnit {
        run_seed: request.seed,
        dataset: schema.dataset.name().to_string(),
        split: split.clone(),
        start: 0,
        end: (*count).min(16),
    };
    let stats = Arc::new(ExecStats::for_plan(plan));
    let (mut outcomes, handle) = pixmo_dag::execute(Arc::clone(plan), unit, stats, 8);
    let (mut rows, mut bytes) = (0u64, 0u64);
    while let Some(outcome) = outcomes.recv().await {
        if let Outcome::Row(record) = outcome {
            rows += 1;
            // Image bytes dominate; 2 KiB covers text columns and provenance.
            bytes += 2048;
            if let Some(pixmo_dag::Value::Bytes(b)) = record.get("image_bytes") {
                bytes += b.len() as u64;
            }
        }
    }
    handle.await.map_err(|e| pixmo_dag::Error::Internal {
        stage: "probe".into(),
        message: e.to_string(),
    })??;
    let per_row = bytes.checked_div(rows).unwrap_or(2048).max(1);
    Ok((target_bytes / per_row).clamp(1, 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(seed: u8) -> pixmo_core::RgbaImage {
        let mut rng = pixmo_core::Rng::new(u64::from(seed));
        let (w, h) = (64u32, 48u32);
        let mut data = Vec::new();
        for _ in 0..w * h {
            let v = u8::try_from(rng.range_u32(0, 256)).unwrap_or(0);
            data.extend_from_slice(&[v, v, v, 255]);
        }
        pixmo_core::RgbaImage::new(w, h, data).unwrap()
    }

    fn record(index: u64, img: &pixmo_core::RgbaImage) -> Record {
        let mut r = Record::new(pixmo_core::SeedKey {
            run_seed: 1,
            dataset: "docs".into(),
            split: "train".into(),
            record_index: index,
        });
        r.set(
            "image_dhash",
            Value::Bytes(Arc::new(pixmo_core::dhash(img))),
        );
        r
    }

    #[test]
    fn near_duplicates_are_rejected_in_record_order() {
        let (a, b) = (image(1), image(2));
        let mut a2 = a.clone();
        a2.data[..40].fill(0); // a few pixels changed
        let mut d = NearDuplicates::new(24);
        assert!(d.check(&record(0, &a)).is_none());
        assert!(d.check(&record(1, &b)).is_none());
        let r = d.check(&record(2, &a2)).expect("near duplicate");
        assert_eq!(
            (r.stage.as_str(), r.kind.as_str()),
            ("dedup", "near_duplicate")
        );
        assert!(r.message.contains("docs-train-000000000"), "{}", r.message);
        // A rejected row is not remembered; rows without a hash pass.
        assert_eq!(d.seen.len(), 2);
        let mut bare = record(3, &b);
        bare.take("image_dhash");
        assert!(d.check(&bare).is_none());
    }

    #[test]
    fn carried_png_rows_hash_like_fresh_ones() {
        let a = image(3);
        let png = crate::encode::encode_png(&a, false).unwrap();
        let decoded = crate::encode::decode_png(&png).unwrap();
        assert_eq!(pixmo_core::dhash(&decoded), pixmo_core::dhash(&a));
        assert!(crate::encode::decode_png(b"not a png").is_none());
    }
}
