//! `pixmo launch slurm` on a real single-node Slurm (started by `.ci/slurm-setup.sh`): the
//! written `submit.sh` submits the array and the dependent finalize job, one running array
//! task is requeued mid-run with `scontrol requeue`, and the result must be complete and
//! byte-identical to a single-process build. Without Slurm the test is skipped, except under
//! `CI`, where it fails.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{AS_OF, ok, pixmo, shard_hashes};

/// Whether `sinfo` answers with at least one node.
fn slurm_available() -> bool {
    Command::new("sinfo")
        .args(["-h", "-o", "%t"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

/// Runs a Slurm client command; its stdout.
fn slurm(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Cancels the submitted jobs when the test ends early, so no job outlives it.
struct Cancel(Vec<String>);

impl Drop for Cancel {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let _ = Command::new("scancel").args(&self.0).status();
        }
    }
}

/// Every log file, for a failure message.
fn logs(dir: &Path) -> String {
    let mut out = String::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map(|e| e.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        out += &format!("==> {} <==\n", path.display());
        for line in tail.iter().rev() {
            out += line;
            out.push('\n');
        }
    }
    out
}

/// Polls `check` every 200 ms until it returns `Some` or `limit` passes.
fn poll<T>(
    limit: Duration,
    what: &str,
    logs_dir: &Path,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}\n{}\n{}",
            slurm("squeue", &["-a", "-r"]),
            logs(logs_dir)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `Key=Value` from `scontrol show job`.
fn field(job: &str, key: &str) -> Option<String> {
    job.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
}

#[test]
fn slurm_array_with_a_requeued_task_equals_one_process() {
    if !slurm_available() {
        assert!(
            std::env::var_os("CI").is_none() && std::env::var_os("PIXMO_SLURM").is_none(),
            "CI starts a single-node Slurm (.ci/slurm-setup.sh sets PIXMO_SLURM); `sinfo` found none"
        );
        eprintln!("skipped: no Slurm (`source .ci/slurm-setup.sh` starts one as root)");
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let out = root.join("slurm-out");
    let log_dir = root.join("logs");
    let dir = root.join("launch");
    // The default clocks spec (448 px): about 5 s per task of 48 records in a debug build, so
    // the requeue lands mid-run.
    let common = [
        "clocks",
        "--count",
        "192",
        "--seed",
        "7",
        "--as-of",
        AS_OF,
        "--shard-rows",
        "4",
    ];
    let mut launch = pixmo();
    launch
        .args(["launch", "slurm"])
        .args(common)
        .arg("--out")
        .arg(&out)
        .args(["--num-shards", "4", "--parallelism", "2", "--cpus", "1"])
        .args(["--mem", "256M", "--time", "10", "--log-dir"])
        .arg(&log_dir)
        .args(["--pixmo-bin", env!("CARGO_BIN_EXE_pixmo"), "--write"])
        .arg(&dir);
    ok(&launch.output().unwrap());

    let submitted = ok(&Command::new("bash")
        .arg(dir.join("submit.sh"))
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap());
    let id = |key: &str| {
        submitted
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in {submitted}"))
            .to_string()
    };
    let (array, finalize) = (id("array"), id("finalize"));
    let _cancel = Cancel(vec![array.clone(), finalize.clone()]);

    // Requeue one task that has been running for two seconds (it is mid-build).
    let task = poll(Duration::from_secs(120), "a running task", &log_dir, || {
        let running = slurm(
            "squeue",
            &["-h", "-r", "-j", &array, "-t", "R", "-o", "%i %M"],
        );
        running.lines().find_map(|line| {
            let (task, elapsed) = line.trim().split_once(' ')?;
            let seconds = elapsed
                .split(':')
                .try_fold(0u64, |acc, part| Some(acc * 60 + part.parse::<u64>().ok()?))?;
            (seconds >= 2).then(|| task.to_string())
        })
    });
    slurm("scontrol", &["requeue", &task]);
    eprintln!("requeued {task} after {:?}", started.elapsed());
    // Slurm holds a requeued job for two minutes (pending, Reason=BeginTime) once it has been
    // killed; let it start now instead.
    poll(
        Duration::from_secs(60),
        "the requeued task to pend",
        &log_dir,
        || {
            let state = slurm("squeue", &["-h", "-j", &task, "-o", "%t %r"]);
            (state.trim() == "PD BeginTime").then_some(())
        },
    );
    slurm(
        "scontrol",
        &["update", &format!("JobId={task}"), "StartTime=now"],
    );

    poll(
        Duration::from_secs(600),
        "the array and finalize",
        &log_dir,
        || {
            let queued = slurm("squeue", &["-h", "-j", &format!("{array},{finalize}")]);
            queued.trim().is_empty().then_some(())
        },
    );
    let requeued = slurm("scontrol", &["show", "job", &task]);
    let final_job = slurm("scontrol", &["show", "job", &finalize]);
    eprintln!("slurm run done after {:?}", started.elapsed());
    assert_eq!(
        field(&final_job, "JobState").as_deref(),
        Some("COMPLETED"),
        "finalize did not complete:\n{final_job}\n{}",
        logs(&log_dir)
    );
    assert!(
        field(&requeued, "Restarts").is_some_and(|r| r != "0"),
        "{task} was not restarted:\n{requeued}"
    );
    assert!(
        out.join("clocks/manifest.json").is_file(),
        "finalize wrote no manifest\n{}",
        logs(&log_dir)
    );

    let single = root.join("single");
    ok(&pixmo()
        .arg("build")
        .args(common)
        .arg("--out")
        .arg(&single)
        .args(["--progress", "quiet", "--jobs", "2"])
        .output()
        .unwrap());
    let expected = shard_hashes(&single.join("clocks"));
    assert!(expected.len() >= 48, "{expected:?}");
    assert_eq!(
        shard_hashes(&out.join("clocks")),
        expected,
        "the Slurm run differs from one process\n{}",
        logs(&log_dir)
    );
}
