//! Byte-identical reruns, shard splits, incremental growth.

use crate::common::{build, ok, pixmo, rows_in_order, shard_hashes, small_spec, summary};

#[test]
fn same_command_twice_gives_byte_identical_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    ok(&build(&spec, &a, 36, &[]));
    ok(&build(&spec, &b, 36, &[]));
    let (ha, hb) = (
        shard_hashes(&a.join("clocks")),
        shard_hashes(&b.join("clocks")),
    );
    assert!(ha.len() >= 8, "train and val shards plus rejects: {ha:?}");
    assert_eq!(ha, hb);
    // A rerun in the same directory skips everything and changes nothing.
    let out = ok(&build(&spec, &a, 36, &["--json"]));
    let s = summary(&out);
    assert_eq!(s["records_computed"], 0, "{s}");
    assert_eq!(shard_hashes(&a.join("clocks")), ha);
}

#[test]
fn four_workers_give_the_same_shards_as_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let single = tmp.path().join("single");
    let split = tmp.path().join("split");
    ok(&build(&spec, &single, 60, &[]));
    for i in 0..4 {
        // Worker index from the flag for three workers, from the Slurm variable for one.
        let out = if i == 3 {
            let mut cmd = pixmo();
            cmd.args(["build", "clocks", "--spec"])
                .arg(&spec)
                .arg("--out")
                .arg(&split)
                .args([
                    "--count",
                    "60",
                    "--seed",
                    "7",
                    "--as-of",
                    crate::common::AS_OF,
                ])
                .args(["--progress", "quiet", "--num-shards", "4"])
                .env("SLURM_ARRAY_TASK_ID", "3");
            cmd.output().unwrap()
        } else {
            build(
                &spec,
                &split,
                60,
                &["--num-shards", "4", "--shard-index", &i.to_string()],
            )
        };
        ok(&out);
        assert!(String::from_utf8_lossy(&out.stderr).contains("run `pixmo finalize"));
    }
    assert!(
        !split.join("clocks/manifest.json").exists(),
        "workers do not finalize"
    );
    ok(&pixmo()
        .arg("finalize")
        .arg(split.join("clocks"))
        .output()
        .unwrap());
    assert!(split.join("clocks/manifest.json").exists());
    assert_eq!(
        shard_hashes(&single.join("clocks")),
        shard_hashes(&split.join("clocks"))
    );
}

#[test]
fn raising_count_appends_and_never_touches_committed_files() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let grown = tmp.path().join("grown");
    let fresh = tmp.path().join("fresh");
    ok(&build(&spec, &grown, 45, &[]));
    let root = grown.join("clocks");
    let before = shard_hashes(&root);
    let before_times = modified_times(&root, &before);
    let out = ok(&build(&spec, &grown, 75, &["--json"]));
    let s = summary(&out);
    assert_eq!(s["records_computed"], 30, "{s}");
    assert_eq!(s["records_appended"], 30, "{s}");
    assert_eq!(s["records_skipped"], 45, "{s}");
    assert_eq!(s["generation_created"], 1, "{s}");
    assert_eq!(s["shards_skipped"], before.len() as u64 / 2, "{s}");
    // Committed files keep their names, bytes and modification times; growth only adds.
    let after = shard_hashes(&root);
    for (file, hash) in &before {
        assert_eq!(after.get(file), Some(hash), "{file} changed");
    }
    assert_eq!(modified_times(&root, &before), before_times);
    assert!(after.len() > before.len());
    assert!(
        after
            .keys()
            .filter(|f| !before.contains_key(*f))
            .all(|f| f.contains("part-00001-")),
        "new files belong to generation 1: {after:?}"
    );
    // The rows, in record order, are those of one build of 75.
    ok(&build(&spec, &fresh, 75, &[]));
    for split in ["train", "val"] {
        assert_eq!(
            rows_in_order(&root, split),
            rows_in_order(&fresh.join("clocks"), split),
            "{split}"
        );
    }
    // The same count again is a no-op; a smaller one is refused.
    let s = summary(&ok(&build(&spec, &grown, 75, &["--json"])));
    assert_eq!(
        (
            s["records_computed"].as_u64(),
            s["generation_created"].is_null()
        ),
        (Some(0), true),
        "{s}"
    );
    let shrink = build(&spec, &grown, 50, &[]);
    assert_eq!(shrink.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&shrink.stderr).contains("counts only grow"));
    ok(&pixmo().arg("audit").arg(&root).output().unwrap());
}

fn modified_times(
    root: &std::path::Path,
    files: &std::collections::BTreeMap<String, String>,
) -> Vec<std::time::SystemTime> {
    files
        .keys()
        .map(|f| std::fs::metadata(root.join(f)).unwrap().modified().unwrap())
        .collect()
}
