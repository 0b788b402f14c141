//! Many worker processes on one output directory: started together and staggered, killed
//! with SIGKILL and restarted, a duplicate of a running worker started beside it. Together
//! they must produce exactly the shards of one uninterrupted process, with no failed task.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{AS_OF, build, markers, ok, pixmo, shard_hashes, small_spec};

const COUNT: &str = "160";
const WORKERS: u32 = 4;

fn worker(spec: &Path, out: &Path, index: u32) -> Child {
    pixmo()
        .args(["build", "clocks", "--spec"])
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args(["--count", COUNT, "--seed", "7", "--as-of", AS_OF])
        .args(["--progress", "quiet", "--jobs", "1", "--num-shards"])
        .arg(WORKERS.to_string())
        .args(["--shard-index", &index.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start worker")
}

/// Temporary files (of anyone) under the dataset root right now.
fn temporaries(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if name != "quarantine" {
                    stack.push(entry.path());
                }
            } else if name.starts_with('.') && name.contains(".tmp-") {
                found.push(entry.path().display().to_string());
            }
        }
    }
    found
}

/// The running workers; a worker that fails fails the test at once, with its stderr.
struct Workers(Vec<(Child, String)>);

impl Workers {
    fn start(&mut self, child: Child, who: &str) {
        self.0.push((child, who.to_string()));
    }

    fn check(&mut self) {
        for (child, who) in &mut self.0 {
            if let Some(status) = child.try_wait().unwrap()
                && !status.success()
            {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("{who} failed ({status}):\n{err}");
            }
        }
    }

    /// Waits (polling, with a deadline) until `ready` holds, failing as soon as a worker
    /// fails.
    fn wait_for(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(600);
        while !ready() {
            self.check();
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn take(&mut self, who: &str) -> Child {
        let at = self.0.iter().position(|(_, w)| w == who).unwrap();
        self.0.remove(at).0
    }

    fn finish(self) {
        for (child, who) in self.0 {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{who} failed ({:?}):\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn concurrent_staggered_killed_and_duplicated_workers_equal_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let (shared, single) = (tmp.path().join("shared"), tmp.path().join("single"));
    let root = shared.join("clocks");

    // Workers 0 and 1 start at the same moment: both race to write the run's state files.
    let mut workers = Workers(Vec::new());
    workers.start(worker(&spec, &shared, 0), "worker 0");
    workers.start(worker(&spec, &shared, 1), "worker 1");
    // Staggered: worker 2 starts while others are mid-shard (their temporary files exist).
    // A start that cleaned every temporary file would break their commits.
    workers.wait_for("a shard in progress", || !temporaries(&root).is_empty());
    workers.start(worker(&spec, &shared, 2), "worker 2");
    // Worker 1 is killed mid-run (after committing something) and requeued.
    workers.wait_for("a first commit", || !markers(&root).is_empty());
    let w1_pid = workers.0[1].0.id();
    workers.wait_for("worker 1 mid-shard", || {
        temporaries(&root)
            .iter()
            .any(|t| t.contains(&format!("-{w1_pid}-")))
    });
    let mut w1 = workers.take("worker 1");
    w1.kill().unwrap(); // SIGKILL: its temporary files and lease stay behind
    w1.wait().unwrap();
    let orphans: Vec<String> = temporaries(&root)
        .into_iter()
        .filter(|t| t.contains(&format!("-{w1_pid}-")))
        .collect();
    assert!(
        !orphans.is_empty(),
        "the killed worker left temporary files"
    );
    workers.wait_for("another shard in progress", || {
        !temporaries(&root).is_empty()
    });
    workers.start(worker(&spec, &shared, 3), "worker 3");
    workers.start(worker(&spec, &shared, 1), "requeued worker 1");
    // A duplicate of worker 2 (a requeue whose first instance still runs) computes the same
    // shards at the same time.
    workers.start(worker(&spec, &shared, 2), "duplicate worker 2");
    workers.finish();
    assert!(
        orphans.iter().all(|o| !Path::new(o).exists()),
        "a later worker removed the dead worker's temporary files"
    );
    ok(&pixmo().arg("finalize").arg(&root).output().unwrap());
    assert!(temporaries(&root).is_empty(), "{:?}", temporaries(&root));
    let leases = std::fs::read_dir(root.join(".pixmo/leases"))
        .map(|d| d.flatten().count())
        .unwrap_or(0);
    assert_eq!(leases, 0, "finalize removed the dead worker's lease");

    ok(&build(&spec, &single, 160, &[]));
    let (a, b) = (shard_hashes(&root), shard_hashes(&single.join("clocks")));
    assert!(a.len() >= 30, "{a:?}");
    assert_eq!(a, b);
    ok(&pixmo().arg("verify").arg(&root).output().unwrap());
}
