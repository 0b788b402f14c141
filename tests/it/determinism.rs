//! Byte-identical reruns, shard splits, incremental growth.

use crate::common::{build, ok, pixmo, shard_hashes, small_spec, summary};

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
fn raising_count_computes_only_new_records() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let grown = tmp.path().join("grown");
    let fresh = tmp.path().join("fresh");
    ok(&build(&spec, &grown, 45, &[]));
    let out = ok(&build(&spec, &grown, 75, &["--json"]));
    let s = summary(&out);
    assert_eq!(s["records_computed"], 30, "{s}");
    assert!(
        s["shards_skipped"].as_u64().unwrap() + s["shards_renamed"].as_u64().unwrap() >= 4,
        "{s}"
    );
    assert!(s["shards_extended"].as_u64().unwrap() >= 1, "{s}");
    ok(&build(&spec, &fresh, 75, &[]));
    assert_eq!(
        shard_hashes(&grown.join("clocks")),
        shard_hashes(&fresh.join("clocks"))
    );
}
