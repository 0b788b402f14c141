//! Helpers shared by the end-to-end tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The build time pinned in tests, so separate runs are byte-identical.
pub const AS_OF: &str = "2026-11-22T00:00:00Z";

/// A command running the `pixmo` binary under test.
pub fn pixmo() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pixmo"));
    cmd.env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SOURCE_DATE_EPOCH");
    cmd
}

/// The default clocks spec with small images, so tests run fast in debug builds.
pub fn small_spec(dir: &Path, extra: &str) -> PathBuf {
    let spec = include_str!("../../pipelines/pixmo-clocks/pipeline.toml")
        .replace("image_size = 448", "image_size = 128")
        .replace("rows_per_shard = 1000", "rows_per_shard = 10")
        .replace("row_group_rows = 64", "row_group_rows = 4")
        // Crops make some 128 px scenes smaller than PixMo's 128 px gate.
        .replace(
            "kind = \"image.validate\"\nafter = [\"render\"]",
            "kind = \"image.validate\"\nafter = [\"render\"]\n[stages.config]\nmin_side = 64",
        )
        + extra;
    let path = dir.join("clocks-small.toml");
    std::fs::write(&path, spec).expect("write spec");
    path
}

/// Runs `pixmo build clocks` with the small spec; returns the output.
pub fn build(spec: &Path, out: &Path, count: u64, extra: &[&str]) -> Output {
    let mut cmd = pixmo();
    cmd.args(["build", "clocks", "--spec"])
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args([
            "--count",
            &count.to_string(),
            "--seed",
            "7",
            "--as-of",
            AS_OF,
        ])
        .args(["--progress", "quiet", "--jobs", "2"])
        .args(extra);
    cmd.output().expect("run pixmo")
}

/// Asserts success and returns stdout.
pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "pixmo failed ({:?}):\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// SHA-256 of every data and rejects file of a dataset, by relative path.
pub fn shard_hashes(dataset_root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    collect(dataset_root, dataset_root, &mut out);
    out
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("quarantine") {
                collect(root, &path, out);
            }
        } else if path.extension().is_some_and(|e| e == "parquet") {
            let bytes = std::fs::read(&path).expect("read shard");
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            out.insert(rel, pixmo_core::sha256_hex(&bytes));
        }
    }
}

/// `pixmo sql DATASET_ROOT QUERY`, asserted to succeed; the printed table.
pub fn sql(dataset_root: &Path, query: &str) -> String {
    ok(&pixmo()
        .arg("sql")
        .arg(dataset_root)
        .arg(query)
        .output()
        .unwrap())
}

/// `pixmo card OUT --cards-dir CARDS`, asserted to succeed; the text of `CARDS/DATASET.md`.
pub fn card(out: &Path, cards: &Path, dataset: &str) -> String {
    ok(&pixmo()
        .arg("card")
        .arg(out)
        .arg("--cards-dir")
        .arg(cards)
        .output()
        .unwrap());
    std::fs::read_to_string(cards.join(format!("{dataset}.md"))).unwrap()
}

/// Committed markers of a dataset.
pub fn markers(dataset_root: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for split in ["train", "val"] {
        let dir = dataset_root.join(".pixmo/commits").join(split);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        // Only committed markers (`part-NNNNN.json`): a running build's `.part-*.tmp-PID`
        // is not a commit yet, and may be renamed away while we list.
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("part-") && n.ends_with(".json"))
            })
            .collect();
        paths.sort();
        for p in paths {
            out.push(serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap());
        }
    }
    out
}

/// The JSON summary printed by `--json`.
pub fn summary(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).expect("json summary")
}

/// Every row of a split, one single-row batch each, in file-name order (generation, then
/// shard): record order.
pub fn rows_in_order(
    dataset_root: &Path,
    split: &str,
) -> Vec<impl PartialEq + std::fmt::Debug + use<>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dataset_root.join(split))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for file in files {
        for batch in pixmo_shards::read_batches(&file, 64).unwrap() {
            for i in 0..batch.num_rows() {
                rows.push(batch.slice(i, 1));
            }
        }
    }
    rows
}

/// The Python of the independent-reader tests (`PIXMO_PYTHON`, else `python3`) when it can
/// import `modules` (such as `"pyarrow, PIL"`); `None`, with a note, when it cannot. On CI
/// (`CI` set) a missing module fails the test instead: `.ci/run` installs them.
pub fn python_with(modules: &str) -> Option<String> {
    let python = std::env::var("PIXMO_PYTHON").unwrap_or_else(|_| "python3".into());
    let importable = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    if importable {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI installs {modules} (.ci/run); {python} lacks them"
    );
    eprintln!("skipped the Python reader: {python} lacks {modules} (set PIXMO_PYTHON)");
    None
}
