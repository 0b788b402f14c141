//! One function per subcommand.

mod annotate;
mod build;
mod count_tasks;
mod eval;
mod hints;
mod import_points;
mod launch;
mod misc;
mod models;
mod reference;
mod transcribe;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use pixmo_dag::{PipelineSpec, Plan};

use crate::args::{Command, PipelineArgs};
use crate::registry;

/// Runs a command; `Ok` carries the exit code (1 for a failed audit).
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Build(args) => build::build(&args),
        Command::Plan(args) => {
            let plan = load_plan(&args, &Overrides::default())?;
            print!("{}", plan.describe());
            Ok(ExitCode::SUCCESS)
        }
        Command::Graph(args) => {
            let plan = load_plan(&args, &Overrides::default())?;
            print!("{}", plan.to_dot());
            Ok(ExitCode::SUCCESS)
        }
        Command::Stages => {
            for factory in registry::stages().iter() {
                println!("{:<16} {}", factory.kind, factory.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Launch(args) => launch::launch(&args),
        Command::Finalize { dir } => misc::finalize(&dir),
        Command::Verify {
            dir,
            quarantine,
            json,
        } => misc::verify(&dir, quarantine, json),
        Command::Audit { dir, json } => misc::audit(&dir, json),
        Command::Sql { dir, query } => misc::sql(&dir, &query),
        Command::Card {
            dir,
            cards_dir,
            reference,
            check,
            out,
        } => match dir {
            Some(dir) if !reference => misc::card(&dir, &cards_dir),
            _ => reference::reference_cards(&cards_dir, out.as_deref(), check),
        },
        Command::Schema { dataset, write } => misc::schema(dataset.as_deref(), write.as_deref()),
        Command::Bench {
            dataset,
            count,
            image_format,
            out,
            spec,
        } => build::bench(&dataset, spec, count, &image_format, out.as_deref()),
        Command::Eval { task } => eval::run(task),
        Command::Models { action } => models::run(action),
        Command::Transcribe {
            files,
            model,
            language,
            dir,
        } => transcribe::transcribe(&files, &model, &language, dir),
        Command::Annotate(command) => annotate::annotate(command),
        Command::SampleInbox { out } => {
            let rows = runtime(1)?.block_on(pixmo_cap::sample::make_sample_inbox(&out))?;
            eprintln!(
                "{}: {rows} recordings of {} photographs (synthetic speech: espeak-ng); build it with `pixmo build cap --inbox {}`",
                out.display(),
                pixmo_cap::sample::PHOTOS.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::CountTasks { from, spec, out } => count_tasks::run(&from, spec, &out),
        Command::ImportPoints(args) => import_points::run(&args),
        Command::SampleDetections { out } => count_tasks::sample(&out),
        Command::External(args) => misc::external(&args),
    }
}

/// Changes to a spec requested on the command line.
#[derive(Debug, Default)]
pub struct Overrides {
    /// `--shard-rows`.
    pub shard_rows: Option<u64>,
    /// `--shard-bytes`.
    pub shard_bytes: Option<u64>,
    /// `--image-format`.
    pub image_format: Option<String>,
}

/// Reads, overrides and checks a pipeline spec.
pub fn load_plan(args: &PipelineArgs, overrides: &Overrides) -> anyhow::Result<Plan> {
    let (text, origin) = match &args.spec {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("Could not read pipeline spec `{}`", path.display()))?,
            path.clone(),
        ),
        None => match registry::default_spec(&args.dataset) {
            Some(spec) => (
                spec.to_string(),
                PathBuf::from(format!("<built-in {}>", args.dataset)),
            ),
            None => {
                let names = registry::names();
                let hint = pixmo_dag::registry::nearest(&args.dataset, names.iter().copied())
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                bail!(
                    "No built-in pipeline for dataset `{}`{hint} (available: {}); pass --spec FILE for your own",
                    args.dataset,
                    names.join(", ")
                );
            }
        },
    };
    let mut spec = PipelineSpec::parse(&text, &origin)?;
    // A pipeline may build another's dataset (`count-detections` writes `count` rows).
    let expected = registry::default_spec(&args.dataset)
        .and_then(|built_in| PipelineSpec::parse(built_in, &origin).ok())
        .map_or_else(|| args.dataset.replace('-', "_"), |s| s.dataset);
    if spec.dataset != expected {
        bail!(
            "Pipeline spec `{}` builds dataset `{}`, not `{}`",
            origin.display(),
            spec.dataset,
            args.dataset
        );
    }
    if let Some(rows) = overrides.shard_rows {
        spec.output.remove("target_shard_bytes");
        spec.output.insert(
            "rows_per_shard".into(),
            toml::Value::Integer(i64::try_from(rows)?),
        );
    }
    if let Some(bytes) = overrides.shard_bytes {
        spec.output.remove("rows_per_shard");
        spec.output.insert(
            "target_shard_bytes".into(),
            toml::Value::Integer(i64::try_from(bytes)?),
        );
    }
    if let Some(format) = &overrides.image_format {
        let mut found = false;
        for stage in spec.stages.iter_mut().filter(|s| s.kind == "image.encode") {
            if let toml::Value::Table(table) = &mut stage.config {
                table.insert("format".into(), toml::Value::String(format.clone()));
                found = true;
            }
        }
        if !found {
            bail!("--image-format given, but the pipeline has no `image.encode` stage");
        }
    }
    let cores = pixmo_core::parallel::cores();
    let plan = Plan::build(spec, &registry::stages(), cores)?;
    let dataset = pixmo_annotation_schema::Dataset::from_name(&plan.spec.dataset)
        .with_context(|| format!("Unknown dataset `{}`", plan.spec.dataset))?;
    pixmo_stages::sink::check_plan(&plan, &dataset.schema()).map_err(|message| {
        pixmo_dag::Error::DatasetColumns {
            pipeline: plan.spec.name.clone(),
            dataset: plan.spec.dataset.clone(),
            message,
        }
    })?;
    pixmo_build::OutputConfig::from_table(&plan.spec.output).map_err(|message| {
        pixmo_dag::Error::Output {
            pipeline: plan.spec.name.clone(),
            message,
        }
    })?;
    Ok(plan)
}

/// The dataset folders under `dir`: `dir` itself when it holds a run, else its children
/// that do.
pub fn dataset_roots(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.join(".pixmo").join("run.json").is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("Could not read folder `{}`", dir.display()))?;
    let mut roots: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(".pixmo").join("run.json").is_file())
        .collect();
    roots.sort();
    if roots.is_empty() {
        bail!(
            "`{}` holds no pixmo dataset (no .pixmo/run.json in it or its sub-folders)",
            dir.display()
        );
    }
    Ok(roots)
}

/// A multi-threaded tokio runtime with `cores` workers.
pub fn runtime(cores: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.max(2))
        .enable_all()
        .build()
        .context("Could not start the async runtime")
}

/// A hint for errors users can fix.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    if let Some(e) = err.downcast_ref::<pixmo_build::BuildError>() {
        use pixmo_build::BuildError as B;
        return match e {
            B::RunMismatch { .. } => Some(
                "an output directory holds one run; build into a new --out, or delete the old one".into(),
            ),
            B::Shards(s) if s.is_disk_full() => Some(
                "free some space and re-run the same command: committed shards are kept and only the rest is built".into(),
            ),
            B::Output { .. } => Some(
                "check that --out exists or can be created, is writable, and holds no symbolic links inside the dataset folder".into(),
            ),
            B::Shrink { .. } => Some(
                "pass a --count at least as large as the directory's; growth appends, it never removes rows".into(),
            ),
            B::GrowthConflict { .. } => Some(
                "every worker of one run must get the same --count; wait for the other growth to finish, then re-run with its count".into(),
            ),
            B::Unfinished { .. } => Some(
                "run the missing workers (or the same `pixmo build` without --num-shards), then `pixmo finalize` again".into(),
            ),
            B::Worker { .. } => Some("--shard-index counts from 0 to --num-shards minus 1".into()),
            _ => None,
        };
    }
    if let Some(e) = err.downcast_ref::<pixmo_dag::Error>() {
        return Some(hints::plan(e));
    }
    if let Some(e) = err.downcast_ref::<pixmo_audit::AuditError>() {
        return hints::audit(e);
    }
    None
}

/// Shared by build and bench.
pub fn plan_arc(plan: Plan) -> Arc<Plan> {
    Arc::new(plan)
}
