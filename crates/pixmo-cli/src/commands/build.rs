//! `pixmo build` and `pixmo bench`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use pixmo_build::{BuildRequest, BuildSummary};
use pixmo_dag::progress::ProgressMode;

use super::{Overrides, load_plan, plan_arc, runtime};
use crate::args::{BuildArgs, PipelineArgs, ProgressArg};

/// Resolves `(N, i)` from flags and the scheduler's environment.
pub fn worker(args: &BuildArgs) -> anyhow::Result<Option<(u32, u32)>> {
    let Some(n) = args.num_shards else {
        if args.shard_index.is_some() {
            bail!("--shard-index needs --num-shards");
        }
        return Ok(None);
    };
    let index = match args.shard_index {
        Some(i) => i,
        None => {
            let from_env = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"]
                .iter()
                .find_map(|var| std::env::var(var).ok().map(|v| (*var, v)));
            match from_env {
                Some((var, value)) => value
                    .trim()
                    .parse()
                    .with_context(|| format!("{var}=`{value}` is not a shard index"))?,
                None => bail!(
                    "--num-shards needs --shard-index (or SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX in the environment)"
                ),
            }
        }
    };
    if n == 0 || index >= n {
        bail!("--shard-index {index} is out of range for --num-shards {n}");
    }
    Ok(Some((n, index)))
}

fn cores(jobs: usize) -> usize {
    if jobs > 0 {
        jobs
    } else {
        pixmo_core::parallel::cores()
    }
}

/// The record source of a collected dataset (`cap --inbox DIR`), after taking what is new
/// when `take_new`; `None` for a generated dataset, which needs `--count`.
fn open_source(
    args: &BuildArgs,
    plan: &pixmo_dag::Plan,
    take_new: bool,
) -> anyhow::Result<Option<std::sync::Arc<dyn pixmo_dag::RecordSource>>> {
    let dataset = &plan.spec.dataset;
    // The pipeline named on the command line: `count-detections` builds dataset `count`.
    let opener = crate::registry::find(&args.pipeline.dataset).and_then(|p| p.source);
    match (opener, &args.inbox, args.count) {
        (None, None, Some(_)) => Ok(None),
        (None, None, None) => {
            bail!("`pixmo build {dataset}` needs --count (records over all splits)")
        }
        (None, Some(_), _) => {
            bail!("`{dataset}` is generated from a seed; it takes --count, not --inbox")
        }
        (Some(_), None, _) => bail!(
            "`{}` is built from collected inputs: give --inbox DIR (cap: a folder of manifests, or one manifest) or --from DIR (cap_qa: a finished PixMo-Cap dataset; count-detections: a folder of detections, see pipelines/pixmo-count/README.md)",
            args.pipeline.dataset
        ),
        (Some(_), Some(_), Some(_)) => {
            bail!("`{dataset}` counts what its --inbox holds; leave out --count")
        }
        (Some(open), Some(inbox), None) => {
            let root = args.out.join(dataset);
            let request = pixmo_pipeline::SourceRequest {
                path: inbox,
                dataset_root: &root,
                splits: &plan.spec.splits,
                stages: &plan.spec.stages,
                take_new: take_new || args.seal_only,
                now_us: now_us(),
            };
            let opened = open(&request).map_err(anyhow::Error::msg)?;
            eprintln!("{}", opened.report);
            Ok(Some(opened.source))
        }
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

pub fn build(args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        shard_rows: args.shard_rows,
        shard_bytes: args.shard_bytes,
        image_format: args.image_format.clone(),
    };
    let plan = load_plan(&args.pipeline, &overrides)?;
    let worker = worker(args)?;
    let as_of_us = args
        .as_of
        .as_deref()
        .map(pixmo_core::parse_as_of)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let source = open_source(args, &plan, worker.is_none())?;
    if args.seal_only {
        return Ok(ExitCode::SUCCESS);
    }
    let request = BuildRequest {
        out: args.out.clone(),
        count: args.count.unwrap_or(0),
        source,
        seed: args.seed,
        worker,
        as_of_us,
        progress: match args.progress {
            ProgressArg::Auto => ProgressMode::Auto,
            ProgressArg::Plain => ProgressMode::Plain,
            ProgressArg::Quiet => ProgressMode::Quiet,
        },
        cores: cores(args.jobs),
    };
    let rt = runtime(cores(args.jobs))?;
    let summary = rt.block_on(pixmo_build::build(plan_arc(plan), request))?;
    print_summary(&summary);
    if args.json {
        let mut value = serde_json::to_value(&summary)?;
        // This process's peak; sandboxed render workers are bounded by their own limits.
        if let Some(kib) = peak_rss_kib() {
            #[allow(clippy::cast_precision_loss)]
            let mib = (kib as f64 / 102.4).round() / 10.0;
            value["peak_rss_mib"] = serde_json::json!(mib);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(s: &BuildSummary) {
    eprintln!(
        "{}: {} records computed, {} skipped (already committed), {} appended by generation {}; {} rows written, {} rejected; shards: {} written, {} skipped, {} quarantined; {:.1} s ({:.1} records/s)",
        s.path,
        s.records_computed,
        s.records_skipped,
        s.records_appended,
        s.generation_created
            .map_or_else(|| "none".to_string(), |g| g.to_string()),
        s.rows_written,
        s.rejects,
        s.shards_written,
        s.shards_skipped,
        s.shards_quarantined,
        s.seconds,
        s.records_per_second
    );
    for (reason, n) in &s.rejects_by_reason {
        eprintln!("  rejected {n} at {reason}");
    }
    if s.finalized {
        eprintln!(
            "  finalized: {} rows in the dataset; manifest at {}/manifest.json",
            s.dataset_rows.unwrap_or(0),
            s.path
        );
    } else {
        eprintln!(
            "  this worker is done; run `pixmo finalize {}` after all workers",
            s.path
        );
    }
}

pub fn bench(
    dataset: &str,
    spec: Option<PathBuf>,
    count: u64,
    image_format: &str,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let args = PipelineArgs {
        dataset: dataset.to_string(),
        spec,
    };
    let overrides = Overrides {
        image_format: Some(image_format.to_string()),
        ..Overrides::default()
    };
    let plan = load_plan(&args, &overrides)?;
    let temp = tempfile::tempdir().context("Could not create a temporary folder")?;
    let dir = out.map_or_else(|| temp.path().to_path_buf(), Path::to_path_buf);
    let cores = cores(0);
    let request = BuildRequest {
        out: dir.clone(),
        count,
        source: None,
        seed: 1,
        worker: None,
        as_of_us: Some(0),
        progress: ProgressMode::Quiet,
        cores,
    };
    let rt = runtime(cores)?;
    let summary = rt.block_on(pixmo_build::build(plan_arc(plan), request))?;
    let bytes: u64 = walk_parquet_bytes(&dir.join(dataset));
    #[allow(clippy::cast_precision_loss)]
    let (rate, per_row) = (
        summary.records_computed as f64 / summary.seconds.max(1e-9),
        bytes as f64 / summary.rows_written.max(1) as f64,
    );
    println!("pixmo bench {dataset}: {count} records, {image_format}, {cores} cores");
    println!("  wall            {:.2} s", summary.seconds);
    println!("  throughput      {rate:.1} images/s (render + encode + write, finalize included)");
    println!("  shard bytes     {:.1} KiB per row", per_row / 1024.0);
    let busy: f64 = summary.stages.iter().map(|s| s.busy_seconds).sum();
    println!("  stage CPU time (summed over workers):");
    for s in &summary.stages {
        #[allow(clippy::cast_precision_loss)]
        let per = s.busy_seconds * 1000.0 / (s.ok + s.rejected).max(1) as f64;
        println!(
            "    {:<10} {:>8.2} s  {:>5.1} %  {per:.2} ms/record",
            s.stage,
            s.busy_seconds,
            100.0 * s.busy_seconds / busy.max(1e-9)
        );
    }
    #[allow(clippy::cast_precision_loss)]
    let outside = (summary.seconds * cores as f64 - busy).max(0.0);
    println!(
        "    (outside stages: {outside:.2} core-s for Arrow conversion, Parquet writing, hashing and idle)"
    );
    match peak_rss_kib() {
        Some(kib) => println!("  peak RSS        {:.1} MiB", kib as f64 / 1024.0),
        None => println!("  peak RSS        unknown (no /proc/self/status)"),
    }
    // The released size, declared by the dataset's pipeline crate.
    if let Some(released) = crate::registry::released_size(dataset) {
        println!(
            "  at this rate {released} images take {:.1} min",
            released as f64 / rate.max(1e-9) / 60.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident set size of this process (`VmHWM`), in KiB, where Linux reports it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn walk_parquet_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() && !p.ends_with(".pixmo") {
                walk_parquet_bytes(&p)
            } else if p.extension().is_some_and(|x| x == "parquet") {
                e.metadata().map_or(0, |m| m.len())
            } else {
                0
            }
        })
        .sum()
}
