//! Slurm: `array.sbatch` (the build array), `finalize.sbatch` (one task after the array) and
//! `submit.sh` (chains them with `sbatch --parsable` and `--dependency=afterok`).

use std::fmt::Write as _;

use super::quote::{sbatch_path, shell_quote};
use super::{File, Launch};

/// Slurm-only settings, already checked.
pub struct Options<'a> {
    /// Absolute `--out`.
    pub out: String,
    /// Absolute log folder.
    pub log_dir: String,
    /// `--partition`.
    pub partition: Option<&'a str>,
}

/// The three files, `array.sbatch` first.
pub fn files(launch: &Launch, options: &Options) -> anyhow::Result<Vec<File>> {
    let logs = sbatch_path("--log-dir", &options.log_dir)?;
    let dataset_dir = format!("{}/{}", options.out.trim_end_matches('/'), launch.dataset);
    let name = format!("pixmo-{}", launch.dataset);
    let bin = shell_quote(&launch.pixmo_bin);

    let mut array = String::from("#!/bin/bash\n");
    let _ = writeln!(array, "# {}.", launch.describe());
    let _ = writeln!(
        array,
        "# Submit with submit.sh (this array, then finalize.sbatch once every task succeeded)."
    );
    let _ = writeln!(
        array,
        "# pixmo reads the task's shard index from SLURM_ARRAY_TASK_ID. A requeued or re-submitted"
    );
    let _ = writeln!(
        array,
        "# task redoes only the shards it has not committed; logs are appended (--open-mode)."
    );
    let _ = writeln!(array, "#SBATCH --job-name={name}");
    let _ = writeln!(
        array,
        "#SBATCH --array=0-{}%{}",
        launch.num_shards - 1,
        launch.parallelism
    );
    directives(&mut array, launch, launch.cpus, options.partition);
    let _ = writeln!(array, "#SBATCH --requeue");
    let _ = writeln!(array, "#SBATCH --open-mode=append");
    let _ = writeln!(array, "#SBATCH --output={logs}/%x-%A_%a.out");
    let _ = writeln!(array, "#SBATCH --error={logs}/%x-%A_%a.err");
    let _ = writeln!(array, "set -euo pipefail");
    let args: Vec<String> = launch
        .build_args(
            &options.out,
            launch.spec.as_ref().map(|(path, _)| path.as_str()),
        )
        .iter()
        .map(|a| shell_quote(a))
        .collect();
    let _ = writeln!(
        array,
        "exec {bin} {} --jobs \"${{SLURM_CPUS_PER_TASK:-{}}}\"",
        args.join(" "),
        launch.cpus
    );

    let mut finalize = String::from("#!/bin/bash\n");
    let _ = writeln!(
        finalize,
        "# Finalize of the {name} array: verify every shard, write manifest.json."
    );
    let _ = writeln!(
        finalize,
        "# submit.sh queues it with --dependency=afterok on the array job."
    );
    let _ = writeln!(finalize, "#SBATCH --job-name={name}-finalize");
    directives(&mut finalize, launch, 1, options.partition);
    let _ = writeln!(finalize, "#SBATCH --output={logs}/%x-%j.out");
    let _ = writeln!(finalize, "#SBATCH --error={logs}/%x-%j.err");
    let _ = writeln!(finalize, "set -euo pipefail");
    let _ = writeln!(
        finalize,
        "exec {bin} finalize {}",
        shell_quote(&dataset_dir)
    );

    let mut submit = String::from("#!/bin/bash\n");
    let _ = writeln!(submit, "# {}.", launch.describe());
    let _ = writeln!(
        submit,
        "# Submits array.sbatch, then finalize.sbatch once every array task has succeeded"
    );
    let _ = writeln!(
        submit,
        "# (afterok; a failed task cancels finalize). Prints `array=<id>` and `finalize=<id>`."
    );
    let _ = writeln!(
        submit,
        "# Running it again after a failure re-runs only the unfinished shards."
    );
    let _ = writeln!(submit, "set -euo pipefail");
    let _ = writeln!(submit, "here=\"$(cd \"$(dirname \"$0\")\" && pwd)\"");
    let _ = writeln!(submit, "mkdir -p {}", shell_quote(&options.log_dir));
    let _ = writeln!(
        submit,
        "array=\"$(sbatch --parsable \"$here/array.sbatch\")\""
    );
    let _ = writeln!(
        submit,
        "array=\"${{array%%;*}}\"  # --parsable prints `id` or `id;cluster`"
    );
    let _ = writeln!(
        submit,
        "finalize=\"$(sbatch --parsable --dependency=\"afterok:$array\" --kill-on-invalid-dep=yes \"$here/finalize.sbatch\")\""
    );
    let _ = writeln!(submit, "finalize=\"${{finalize%%;*}}\"");
    let _ = writeln!(submit, "echo \"array=$array\"");
    let _ = writeln!(submit, "echo \"finalize=$finalize\"");

    Ok(vec![
        File {
            name: "array.sbatch",
            text: array,
            executable: true,
        },
        File {
            name: "finalize.sbatch",
            text: finalize,
            executable: true,
        },
        File {
            name: "submit.sh",
            text: submit,
            executable: true,
        },
    ])
}

/// Resource lines shared by both jobs.
fn directives(out: &mut String, launch: &Launch, cpus: u32, partition: Option<&str>) {
    if let Some(partition) = partition {
        let _ = writeln!(out, "#SBATCH --partition={partition}");
    }
    let _ = writeln!(out, "#SBATCH --cpus-per-task={cpus}");
    let _ = writeln!(out, "#SBATCH --mem={}", launch.mem.0);
    let _ = writeln!(out, "#SBATCH --time={}", launch.time.0);
}
