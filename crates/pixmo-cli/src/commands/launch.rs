//! `pixmo launch`: the files an existing scheduler runs, no home-made cluster.
//!
//! Every task runs the same `pixmo build` with `--num-shards N`, and the scheduler hands it
//! its index (`SLURM_ARRAY_TASK_ID`, `JOB_COMPLETION_INDEX`). The build time (`--as-of`) is
//! pinned at launch so every task stamps the same rows; a retried, requeued or re-submitted
//! task redoes only the shards it has not committed. Once every task has succeeded a
//! separate finalize step runs `pixmo finalize <out>/<dataset>` (writes `manifest.json`).
//!
//! `--write DIR` writes a folder (without it, the main file goes to stdout):
//!
//! - **Slurm** (`slurm.rs`): `array.sbatch` (an array `0-(N-1)%P` with `--mem`, `--time`,
//!   `--cpus-per-task`, `--requeue`, `--open-mode=append` and log paths under `--log-dir`,
//!   default `<out>/logs`), `finalize.sbatch`, and `submit.sh`, which creates the log folder,
//!   submits the array with `sbatch --parsable` and then finalize with
//!   `--dependency=afterok:<array job id> --kill-on-invalid-dep=yes`, and prints
//!   `array=<id>` and `finalize=<id>`. `--out`, `--spec` and the log folder are made absolute
//!   at launch, so the scripts run from any directory.
//! - **Kubernetes** (`k8s.rs`): `job.yaml` (a ConfigMap with the spec when `--spec` is given,
//!   and an Indexed Job), `finalize.yaml` (a Job running `pixmo finalize`) and `apply.sh`
//!   (applies the Job, waits for `Complete`, then applies finalize). The PVC (`--pvc`) must be
//!   ReadWriteMany: every pod writes its shards to the same volume, mounted at `/data`;
//!   `--out` names a folder on that volume (relative, or absolute under `/data`). LLM
//!   pipelines also mount the volume's `models/` at `/models` (`PIXMO_MODELS_DIR`) and
//!   `llm-cache/` at `/cache` (`PIXMO_LLM_CACHE`), and each `api_key_env` a spec names comes
//!   from the Secret `--api-key-secret` (key = the variable's name).
//!
//! Every user-supplied value lands quoted (shell), through `serde_yaml` (YAML) or is
//! rejected (`quote.rs`); control characters are always rejected.

mod k8s;
mod quote;
mod slurm;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{Overrides, load_plan};
use crate::args::{LaunchArgs, Scheduler};

/// One file `pixmo launch` writes.
struct File {
    name: &'static str,
    text: String,
    executable: bool,
}

/// A checked launch request: everything the scheduler files are made from.
struct Launch {
    /// Dataset (`clocks`), checked against the spec and the registry.
    dataset: String,
    /// The spec's pipeline name (no control characters).
    pipeline_name: String,
    /// First 12 hex digits of the plan's config hash.
    config_hash: String,
    /// The spec file given with `--spec`: absolute path and text.
    spec: Option<(String, String)>,
    /// Array tasks / completions.
    num_shards: u32,
    /// Tasks at once.
    parallelism: u32,
    /// CPUs per task.
    cpus: u32,
    /// Memory per task: Slurm and Kubernetes spellings.
    mem: (String, String),
    /// Time limit per task: Slurm spelling and seconds.
    time: (String, u64),
    /// The `pixmo` executable tasks run.
    pixmo_bin: String,
    /// `api_key_env` names of the spec's LLM stages; `None` when no stage uses an LLM.
    llm: Option<Vec<String>>,
    /// The build flags every task passes, minus `--out`, `--spec` and `--jobs`.
    build_flags: Vec<String>,
    /// `--out` as given.
    out: PathBuf,
}

impl Launch {
    /// The worker's argument list (after the executable) for an output folder and spec path.
    fn build_args(&self, out: &str, spec: Option<&str>) -> Vec<String> {
        let mut args = vec![
            "build".to_string(),
            self.dataset.clone(),
            "--out".into(),
            out.to_string(),
        ];
        if let Some(spec) = spec {
            args.extend(["--spec".into(), spec.to_string()]);
        }
        args.extend(self.build_flags.iter().cloned());
        args
    }

    /// The header comment lines shared by all files (already safe: no control characters).
    fn describe(&self) -> String {
        format!(
            "pixmo build of pipeline {:?} (dataset `{}`, config {}): {} tasks, at most {} at once",
            self.pipeline_name, self.dataset, self.config_hash, self.num_shards, self.parallelism
        )
    }
}

/// Runs `pixmo launch`.
pub fn launch(args: &LaunchArgs) -> anyhow::Result<ExitCode> {
    let launch = check(args)?;
    let files = match args.scheduler {
        Scheduler::Slurm => {
            let out = std::path::absolute(&launch.out)?;
            let log_dir = match &args.log_dir {
                Some(dir) => std::path::absolute(dir)?,
                None => out.join("logs"),
            };
            let options = slurm::Options {
                out: quote::path_text("--out", &out)?.to_string(),
                log_dir: quote::path_text("--log-dir", &log_dir)?.to_string(),
                partition: args
                    .partition
                    .as_deref()
                    .map(quote::partition)
                    .transpose()?,
            };
            slurm::files(&launch, &options)?
        }
        Scheduler::K8s => {
            quote::image(&args.image)?;
            quote::k8s_name("--pvc", &args.pvc)?;
            quote::k8s_name("--api-key-secret", &args.api_key_secret)?;
            let options = k8s::Options {
                image: &args.image,
                pvc: &args.pvc,
                api_key_secret: &args.api_key_secret,
            };
            k8s::files(&launch, &options)?
        }
    };
    match &args.write {
        Some(dir) => write_files(dir, &files)?,
        None => {
            print!("{}", files[0].text);
            let rest: Vec<&str> = files[1..].iter().map(|f| f.name).collect();
            eprintln!(
                "note: printed {} only; pass --write DIR for {} too",
                files[0].name,
                rest.join(" and ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks the pipeline and every value now, rather than on the cluster.
fn check(launch: &LaunchArgs) -> anyhow::Result<Launch> {
    let LaunchArgs {
        build: args,
        parallelism,
        cpus,
        ..
    } = launch;
    let (parallelism, cpus, pixmo_bin) = (*parallelism, *cpus, &launch.pixmo_bin);
    let overrides = Overrides {
        shard_rows: args.shard_rows,
        shard_bytes: args.shard_bytes,
        image_format: args.image_format.clone(),
    };
    let plan = load_plan(&args.pipeline, &overrides)?;
    quote::no_control("Pipeline name", &plan.spec.name)?;
    let dataset = &args.pipeline.dataset;
    if !dataset
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        bail!("Dataset name `{dataset}` must be lower-case letters, digits and `_`");
    }
    let Some(num_shards) = args.num_shards else {
        bail!("`pixmo launch` needs --num-shards (the number of array tasks)");
    };
    if num_shards == 0 {
        bail!("--num-shards must be at least 1");
    }
    if args.shard_index.is_some() {
        bail!("`pixmo launch` sets each task's index itself; drop --shard-index");
    }
    if parallelism == 0 || cpus == 0 {
        bail!("--parallelism and --cpus must be at least 1");
    }
    quote::no_control("--pixmo-bin", pixmo_bin)?;
    if pixmo_bin.is_empty() {
        bail!("--pixmo-bin must not be empty");
    }
    // Every task must stamp the same build time into its rows.
    let as_of = match &args.as_of {
        Some(a) => {
            pixmo_core::parse_as_of(a).map_err(anyhow::Error::msg)?;
            a.clone()
        }
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .to_string(),
    };
    let spec = match &args.pipeline.spec {
        Some(path) => {
            let absolute = std::path::absolute(path)
                .with_context(|| format!("Could not resolve `{}`", path.display()))?;
            let text = std::fs::read_to_string(&absolute)
                .with_context(|| format!("Could not read `{}`", absolute.display()))?;
            Some((quote::path_text("--spec", &absolute)?.to_string(), text))
        }
        None => None,
    };
    let mut build_flags = match (args.count, &args.inbox) {
        (Some(count), _) => vec!["--count".to_string(), count.to_string()],
        (None, Some(inbox)) => vec![
            "--inbox".to_string(),
            quote::path_text("--inbox", &std::path::absolute(inbox)?)?.to_string(),
        ],
        (None, None) => anyhow::bail!("`pixmo launch` needs --count (or --inbox for `cap`)"),
    };
    build_flags.extend([
        "--seed".into(),
        args.seed.to_string(),
        "--num-shards".into(),
        num_shards.to_string(),
        "--as-of".into(),
        as_of,
    ]);
    if let Some(rows) = args.shard_rows {
        build_flags.extend(["--shard-rows".into(), rows.to_string()]);
    }
    if let Some(bytes) = args.shard_bytes {
        build_flags.extend(["--shard-bytes".into(), bytes.to_string()]);
    }
    if let Some(format) = &args.image_format {
        build_flags.extend(["--image-format".into(), format.clone()]);
    }
    build_flags.extend(["--progress".into(), "plain".into(), "--json".into()]);
    Ok(Launch {
        dataset: dataset.clone(),
        pipeline_name: plan.spec.name.clone(),
        config_hash: plan.config_hash.chars().take(12).collect(),
        spec,
        num_shards,
        // More at once than there are tasks means nothing on Slurm and is refused by nothing,
        // but reads wrong in the files.
        parallelism: parallelism.min(num_shards),
        cpus,
        mem: quote::memory(&launch.mem)?,
        time: (launch.time.clone(), quote::time_limit(&launch.time)?),
        pixmo_bin: pixmo_bin.clone(),
        llm: llm_use(&plan.spec.stages)?,
        build_flags,
        out: args.out.clone(),
    })
}

/// Whether a stage talks to an LLM (its kind's last part starts with `llm`, or its config
/// has an `llm` table), and the `api_key_env` names found in those configs.
fn llm_use(stages: &[pixmo_dag::spec::StageSpec]) -> anyhow::Result<Option<Vec<String>>> {
    fn keys(value: &toml::Value, out: &mut Vec<String>) {
        match value {
            toml::Value::Table(table) => {
                for (key, value) in table {
                    match (key.as_str(), value) {
                        ("api_key_env", toml::Value::String(name)) => out.push(name.clone()),
                        _ => keys(value, out),
                    }
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    let mut uses = false;
    let mut names = Vec::new();
    for stage in stages {
        let kind_is_llm = stage
            .kind
            .rsplit('.')
            .next()
            .is_some_and(|k| k.starts_with("llm"));
        let has_llm_table = stage.config.get("llm").is_some();
        uses |= kind_is_llm || has_llm_table;
        keys(&stage.config, &mut names);
    }
    for name in &names {
        quote::env_name("The spec's `api_key_env`", name)?;
    }
    names.sort();
    names.dedup();
    Ok(uses.then_some(names))
}

fn write_files(dir: &Path, files: &[File]) -> anyhow::Result<()> {
    if dir.is_file() {
        bail!(
            "`{}` is a file; --write takes a folder (pixmo launch writes several files)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("Could not create `{}`", dir.display()))?;
    for file in files {
        let path = dir.join(file.name);
        std::fs::write(&path, &file.text)
            .with_context(|| format!("Could not write `{}`", path.display()))?;
        #[cfg(unix)]
        if file.executable {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("Could not make `{}` executable", path.display()))?;
        }
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
