//! `pixmo launch`: scripts for existing schedulers, no home-made cluster.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{Overrides, load_plan};
use crate::args::{BuildArgs, Scheduler};

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `pixmo build` arguments every task runs (the index comes from the scheduler).
fn build_command(args: &BuildArgs, as_of: &str, n: u32) -> Vec<String> {
    let mut cmd = vec![
        "pixmo".to_string(),
        "build".into(),
        args.pipeline.dataset.clone(),
        "--count".into(),
        args.count.to_string(),
        "--seed".into(),
        args.seed.to_string(),
        "--out".into(),
        args.out.display().to_string(),
        "--num-shards".into(),
        n.to_string(),
        "--as-of".into(),
        as_of.to_string(),
        "--progress".into(),
        "plain".into(),
        "--json".into(),
    ];
    if let Some(spec) = &args.pipeline.spec {
        cmd.extend(["--spec".into(), spec.display().to_string()]);
    }
    if let Some(rows) = args.shard_rows {
        cmd.extend(["--shard-rows".into(), rows.to_string()]);
    }
    if let Some(bytes) = args.shard_bytes {
        cmd.extend(["--shard-bytes".into(), bytes.to_string()]);
    }
    if let Some(f) = &args.image_format {
        cmd.extend(["--image-format".into(), f.clone()]);
    }
    cmd
}

pub fn launch(
    scheduler: Scheduler,
    args: &BuildArgs,
    parallelism: u32,
    cpus: u32,
    image: &str,
    pvc: &str,
    write: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    // Check the pipeline now rather than on the cluster.
    let overrides = Overrides {
        shard_rows: args.shard_rows,
        shard_bytes: args.shard_bytes,
        image_format: args.image_format.clone(),
    };
    let plan = load_plan(&args.pipeline, &overrides)?;
    let Some(n) = args.num_shards else {
        bail!("`pixmo launch` needs --num-shards (the number of array tasks)");
    };
    if n == 0 {
        bail!("--num-shards must be at least 1");
    }
    // Every task must stamp the same build time into its rows.
    let as_of = match &args.as_of {
        Some(a) => {
            crate::time::parse_as_of(a).map_err(anyhow::Error::msg)?;
            a.clone()
        }
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .to_string(),
    };
    let cmd = build_command(args, &as_of, n);
    let dataset_dir = args.out.join(&args.pipeline.dataset);
    let mut out = String::new();
    match scheduler {
        Scheduler::Slurm => {
            let quoted: Vec<String> = cmd.iter().map(|c| shell_quote(c)).collect();
            let _ = writeln!(out, "#!/bin/bash");
            let _ = writeln!(
                out,
                "# pixmo build of `{}` (config {}), {n} array tasks.",
                plan.spec.name,
                &plan.config_hash[..12]
            );
            let _ = writeln!(out, "# Submit:   jobid=$(sbatch --parsable THIS_FILE)");
            let _ = writeln!(
                out,
                "# Finalize: sbatch --dependency=afterok:$jobid --wrap 'pixmo finalize {}'",
                shell_quote(&dataset_dir.display().to_string())
            );
            let _ = writeln!(
                out,
                "# Re-submitting the same script re-runs only unfinished shards."
            );
            let _ = writeln!(out, "#SBATCH --job-name=pixmo-{}", args.pipeline.dataset);
            let _ = writeln!(out, "#SBATCH --array=0-{}%{parallelism}", n - 1);
            let _ = writeln!(out, "#SBATCH --cpus-per-task={cpus}");
            let _ = writeln!(out, "#SBATCH --requeue");
            let _ = writeln!(
                out,
                "#SBATCH --output=pixmo-{}-%A_%a.log",
                args.pipeline.dataset
            );
            let _ = writeln!(out, "set -euo pipefail");
            let _ = writeln!(
                out,
                "# pixmo reads the shard index from SLURM_ARRAY_TASK_ID."
            );
            let _ = writeln!(
                out,
                "{} --jobs \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"",
                quoted.join(" ")
            );
        }
        Scheduler::K8s => {
            let name = format!("pixmo-{}", args.pipeline.dataset.replace('_', "-"));
            let _ = writeln!(
                out,
                "# pixmo build of `{}` (config {}) as a Kubernetes Indexed Job.",
                plan.spec.name,
                &plan.config_hash[..12]
            );
            let _ = writeln!(
                out,
                "# kubectl apply -f THIS_FILE; then run `pixmo finalize {}` once it completes.",
                dataset_dir.display()
            );
            let _ = writeln!(
                out,
                "# pixmo reads the shard index from JOB_COMPLETION_INDEX; retried pods redo only unfinished shards."
            );
            let _ = writeln!(
                out,
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\nspec:"
            );
            let _ = writeln!(
                out,
                "  completionMode: Indexed\n  completions: {n}\n  parallelism: {parallelism}\n  backoffLimitPerIndex: 3\n  maxFailedIndexes: {}",
                (n / 20).max(1)
            );
            let _ = writeln!(
                out,
                "  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: pixmo\n        image: {image}"
            );
            let _ = writeln!(out, "        command:");
            for c in &cmd {
                let _ = writeln!(out, "        - {}", serde_json::to_string(c)?);
            }
            let _ = writeln!(out, "        - \"--jobs\"\n        - \"{cpus}\"");
            let _ = writeln!(
                out,
                "        resources:\n          requests:\n            cpu: \"{cpus}\"\n            memory: 8Gi"
            );
            let _ = writeln!(
                out,
                "        volumeMounts:\n        - name: data\n          mountPath: {}",
                serde_json::to_string(&args.out.display().to_string())?
            );
            let _ = writeln!(
                out,
                "      volumes:\n      - name: data\n        persistentVolumeClaim:\n          claimName: {pvc}"
            );
        }
    }
    match write {
        Some(path) => {
            std::fs::write(path, &out)
                .with_context(|| format!("Could not write `{}`", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{out}"),
    }
    Ok(ExitCode::SUCCESS)
}
