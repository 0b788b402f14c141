//! Bad input gets a clear error and exit code 2, never a panic.

use crate::common::{build, pixmo, small_spec};

fn fails_with(output: &std::process::Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(needle), "expected `{needle}` in:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn malformed_toml_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("bad.toml");
    std::fs::write(
        &spec,
        "name = \"clocks\"\ndataset = \"clocks\"\n[[stages]\n",
    )
    .unwrap();
    let out = pixmo()
        .args(["plan", "clocks", "--spec"])
        .arg(&spec)
        .output()
        .unwrap();
    fails_with(&out, "Malformed pipeline spec");
    fails_with(&out, "line 3");
}

#[test]
fn unknown_stage_kind_suggests_the_nearest() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("kind = \"clocks.render\"", "kind = \"clocks.rendr\"");
    std::fs::write(&spec, text).unwrap();
    let out = build(&spec, &tmp.path().join("o"), 5, &[]);
    fails_with(
        &out,
        "unknown kind `clocks.rendr`; did you mean `clocks.render`?",
    );
    assert!(
        !tmp.path().join("o").exists(),
        "nothing is written before the plan is valid"
    );
}

#[test]
fn stage_config_and_column_errors_are_caught_at_plan_time() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let base = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        base.replace("examples_per_face = 5", "examples_per_face = 0"),
    )
    .unwrap();
    fails_with(
        &build(&spec, &tmp.path().join("o"), 5, &[]),
        "`examples_per_face` must be at least 1",
    );
    std::fs::write(
        &spec,
        base.replace("examples_per_face = 5", "examples_per_face = 5\nfaces = 3"),
    )
    .unwrap();
    fails_with(
        &build(&spec, &tmp.path().join("o"), 5, &[]),
        "unknown field `faces`",
    );
    // Label before render: `truth` is not written upstream.
    std::fs::write(
        &spec,
        base.replace(
            "name = \"label\"\nkind = \"clocks.label\"",
            "name = \"label\"\nkind = \"clocks.label\"\nafter = [\"sample\"]",
        ),
    )
    .unwrap();
    fails_with(
        &build(&spec, &tmp.path().join("o"), 5, &[]),
        "reads column `truth`",
    );
}

#[test]
fn unwritable_output_and_bad_flags_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    fails_with(&build(&spec, &file.join("out"), 5, &[]), "is not usable");
    fails_with(
        &build(&spec, &tmp.path().join("o"), 5, &["--shard-index", "1"]),
        "--shard-index needs --num-shards",
    );
    fails_with(
        &build(
            &spec,
            &tmp.path().join("o"),
            5,
            &["--num-shards", "2", "--shard-index", "2"],
        ),
        "out of range",
    );
    fails_with(
        &build(&spec, &tmp.path().join("o"), 5, &["--num-shards", "2"]),
        "SLURM_ARRAY_TASK_ID",
    );
    fails_with(
        &pixmo()
            .args(["build", "clockz", "--count", "1"])
            .output()
            .unwrap(),
        "did you mean `clocks`?",
    );
    fails_with(
        &pixmo().args(["bild"]).output().unwrap(),
        "did you mean `build`?",
    );
}

#[test]
fn a_directory_holds_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let out = tmp.path().join("o");
    crate::common::ok(&build(&spec, &out, 12, &[]));
    let mut cmd = pixmo();
    cmd.args(["build", "clocks", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .args(["--count", "12", "--seed", "8", "--progress", "quiet"]);
    fails_with(
        &cmd.output().unwrap(),
        "holds a different run (seed 7 vs 8)",
    );
    fails_with(&build(&spec, &out, 5, &[]), "counts only grow");
}

#[test]
fn plan_graph_launch_and_train_hint() {
    let plan = crate::common::ok(&pixmo().args(["plan", "clocks"]).output().unwrap());
    for needle in [
        "clocks.sample",
        "clocks.render",
        "image.validate",
        "image.encode",
        "reads:",
        "renderer",
    ] {
        assert!(plan.contains(needle), "{plan}");
    }
    let dot = crate::common::ok(&pixmo().args(["graph", "clocks"]).output().unwrap());
    assert!(
        dot.starts_with("digraph") && dot.contains("\"render\" -> \"validate\""),
        "{dot}"
    );
    let sbatch = crate::common::ok(
        &pixmo()
            .args([
                "launch",
                "slurm",
                "clocks",
                "--count",
                "826000",
                "--out",
                "/data/pixmo",
                "--num-shards",
                "64",
            ])
            .output()
            .unwrap(),
    );
    assert!(
        sbatch.contains("#SBATCH --array=0-63%16")
            && sbatch.contains("--num-shards 64")
            && sbatch.contains("--as-of"),
        "{sbatch}"
    );
    let k8s = crate::common::ok(
        &pixmo()
            .args([
                "launch",
                "k8s",
                "clocks",
                "--count",
                "1000",
                "--num-shards",
                "8",
            ])
            .output()
            .unwrap(),
    );
    assert!(
        k8s.contains("completionMode: Indexed") && k8s.contains("completions: 8"),
        "{k8s}"
    );
    let train = pixmo()
        .args(["train", "pretrain"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    fails_with(&train, "pixmo-train");
}

/// `pixmo plan clocks --spec` on the default clocks spec with `edit` applied: exit 2, the
/// error names the mistake and the `hint:` line is the one for its variant.
fn plan_hint(edit: impl Fn(&str) -> String, error: &str, hint: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("spec.toml");
    std::fs::write(
        &spec,
        edit(include_str!("../../pipelines/pixmo-clocks/pipeline.toml")),
    )
    .unwrap();
    let out = pixmo()
        .args(["plan", "clocks", "--spec"])
        .arg(&spec)
        .output()
        .unwrap();
    fails_with(&out, error);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let hints: Vec<&str> = stderr.lines().filter(|l| l.starts_with("hint: ")).collect();
    assert_eq!(hints.len(), 1, "one hint line expected:\n{stderr}");
    assert!(
        hints[0].contains(hint),
        "expected hint `{hint}` in:\n{stderr}"
    );
}

#[test]
fn each_plan_error_gets_the_hint_for_its_variant() {
    // MalformedSpec: the hint names the built-in datasets, not only clocks.
    plan_hint(
        |s| {
            s.replace(
                "[[stages]]\nname = \"render\"",
                "[[stages]\nname = \"render\"",
            )
        },
        "Malformed pipeline spec",
        "`pixmo plan <dataset>` (built in: clocks, docs, count, points, count_detections, cap, cap_qa)",
    );
    plan_hint(
        |s| format!("stages = []\n{}", s.split("[[stages]]").next().unwrap()),
        "the pipeline has no stages",
        "add at least one `[[stages]]` table",
    );
    plan_hint(
        |s| s.replace("val = 0.031", "val = 1.5"),
        "split `val` has fraction 1.5",
        "give each split a fraction between 0 and 1",
    );
    plan_hint(
        |s| s.replace("per_core = 3", "per_core = 0"),
        "stage `render`: `per_core` must be at least 1",
        "`concurrency = 0` (the default) runs `per_core` per core",
    );
    plan_hint(
        |s| s.replace("per_core = 3", "per_core = 3\nconcurrency = 4"),
        "`per_core` applies only with `concurrency = 0`",
        "`concurrency = N` runs N records of the stage at once",
    );
    plan_hint(
        |s| s.replace("name = \"label\"", "name = \"render\""),
        "stage name `render` is used twice",
        "give every `[[stages]]` table its own `name`",
    );
    plan_hint(
        |s| s.replace("kind = \"clocks.label\"", "kind = \"clocks.labl\""),
        "unknown kind `clocks.labl`; did you mean `clocks.label`?",
        "`pixmo stages` lists every registered stage kind",
    );
    plan_hint(
        |s| s.replace("kind = \"clocks.label\"", "kind = \"nothing.like.it\""),
        "unknown kind `nothing.like.it`",
        "`pixmo stages` lists every registered stage kind; a pipeline crate registers",
    );
    plan_hint(
        |s| s.replace("after = [\"validate\"]", "after = [\"validat\"]"),
        "runs after unknown stage `validat`; did you mean `validate`?",
        "`after` takes stage names from this spec, not stage kinds",
    );
    plan_hint(
        |s| {
            s.replace(
                "name = \"sample\"\nkind = \"clocks.sample\"",
                "name = \"sample\"\nkind = \"clocks.sample\"\nafter = [\"render\"]",
            )
        },
        "stages form a cycle: `render` -> `sample` -> `render`",
        "remove one `after` entry on the cycle",
    );
    plan_hint(
        |s| {
            s.replace(
                "name = \"label\"\nkind = \"clocks.label\"",
                "name = \"label\"\nkind = \"clocks.label\"\nafter = [\"sample\"]",
            )
        },
        "reads column `truth`",
        "put a stage that writes `truth` upstream of `label`",
    );
    plan_hint(
        |s| {
            s.replace(
                "[[stages]]\nname = \"label\"\nkind = \"clocks.label\"\n",
                "",
            )
        },
        "for dataset `clocks`",
        "`pixmo schema clocks` lists the columns the dataset needs",
    );
    plan_hint(
        |s| {
            s.replace(
                "row_group_rows = 64",
                "row_group_rows = 64\nrows_per_shards = 3",
            )
        },
        "[output]",
        "see the `[output]` table of the built-in specs",
    );
    plan_hint(
        |s| s.replace("examples_per_face = 5", "examples_per_face = 5\nfaces = 3"),
        "unknown field `faces`",
        "check the field names and types of `clocks.sample`",
    );
    plan_hint(
        |s| s.replace("image_size = 448", "image_size = 10"),
        "`image_size` is 10; it must be between 64 and 2048",
        "change `image_size` in this stage's `[stages.config]` table",
    );
}

#[test]
fn sql_refuses_writes_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let out = tmp.path().join("o");
    crate::common::ok(&build(&spec, &out, 3, &[]));
    let target = tmp.path().join("x.csv");
    let query = format!("COPY (SELECT 1) TO '{}' STORED AS CSV", target.display());
    let refused = pixmo().arg("sql").arg(&out).arg(&query).output().unwrap();
    fails_with(&refused, "pixmo sql is read-only: `COPY` is refused (DML)");
    fails_with(&refused, "hint: pixmo sql only reads");
    assert!(!target.exists(), "a refused COPY wrote a file");
    let refused = pixmo()
        .arg("sql")
        .arg(&out)
        .arg("SET datafusion.execution.batch_size = 1")
        .output()
        .unwrap();
    fails_with(&refused, "`SET` is refused (statement)");
}
