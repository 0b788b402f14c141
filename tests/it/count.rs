//! `pixmo build count` and `pixmo build points`: small builds that audit clean, whose rows
//! keep PixMo-Count's rules (counts match points; val/test counts 2-10) and each dataset's
//! point unit (count in pixels, points in percent), and that pyarrow and Hugging Face
//! `datasets` load (`tests/python/check_count.py`, with `PIXMO_PYTHON`).

use crate::common::{AS_OF, ok, pixmo};

fn build(dataset: &str, spec_text: &str, out: &std::path::Path, count: u64) {
    let spec = out.with_extension("toml");
    std::fs::write(
        &spec,
        spec_text.replace("image_size = 448", "image_size = 160"),
    )
    .unwrap();
    ok(&pixmo()
        .args(["build", dataset, "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(out)
        .args(["--count", &count.to_string(), "--as-of", AS_OF])
        .args(["--progress", "quiet", "--jobs", "2"])
        .output()
        .unwrap());
    ok(&pixmo().arg("audit").arg(out).output().unwrap());
}

/// `tests/python/check_count.py` on a built dataset: its stdout, or `None` when the Python
/// lacks pyarrow and Pillow (never on CI).
fn python_check(root: &std::path::Path) -> Option<String> {
    let python = crate::common::python_with("pyarrow, PIL")?;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/python/check_count.py"
    );
    let output = std::process::Command::new(&python)
        .arg(script)
        .arg(root)
        .output()
        .unwrap();
    Some(ok(&output))
}

/// The number after `label` on a line of the checker's output.
fn reported(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{label}` in {stdout}"))
}

fn sql(root: &std::path::Path, query: &str) -> String {
    ok(&pixmo().arg("sql").arg(root).arg(query).output().unwrap())
}

#[test]
fn count_and_points_build_audit_and_keep_their_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("count-out");
    build(
        "count",
        include_str!("../../pipelines/pixmo-count/pipeline.toml"),
        &out,
        400,
    );
    let root = out.join("count");
    let bad = sql(
        &root,
        "SELECT count(*) AS bad FROM rows WHERE count <> coalesce(array_length(points, 1), 0)",
    );
    assert!(bad.contains("| 0 "), "{bad}");
    // Val and test cycle through the counts 2-10 from their first record.
    let eval_counts = sql(
        &root,
        "SELECT count(*) AS bad FROM rows WHERE split <> 'train' AND (count < 2 OR count > 10)",
    );
    assert!(eval_counts.contains("| 0 "), "{eval_counts}");
    let twos = sql(
        &root,
        "SELECT count(*) AS n FROM rows WHERE split = 'val' AND count = 2",
    );
    assert!(twos.contains("| 1 "), "{twos}");
    // Pixels of each 160 px image: never beyond the image, and some beyond 100 (which a
    // percent column cannot hold).
    let outside = sql(
        &root,
        "SELECT count(*) AS bad FROM (SELECT unnest(points) AS p, width, height FROM rows) \
         WHERE p['x'] > width OR p['y'] > height OR p['x'] < 0 OR p['y'] < 0",
    );
    assert!(outside.contains("| 0 "), "{outside}");
    if let Some(stdout) = python_check(&root) {
        assert!(stdout.contains("dataset: count unit: pixels"), "{stdout}");
        assert!(reported(&stdout, "points above 100:") > 0, "{stdout}");
        // Every row of the manifest (the 160 px test images lose some records to
        // `image.validate`'s size floor), read by pyarrow and by `datasets`.
        assert!(stdout.contains("checked "), "{stdout}");
        assert!(
            stdout.contains("datasets: splits test, train, validation"),
            "{stdout}"
        );
    }

    let out = tmp.path().join("points-out");
    build(
        "points",
        include_str!("../../pipelines/pixmo-count/points.toml"),
        &out,
        60,
    );
    let methods = sql(
        &out.join("points"),
        "SELECT count(*) AS n FROM rows WHERE collection_method NOT IN ('pointing', 'counting') \
         OR count <> coalesce(array_length(points, 1), 0)",
    );
    assert!(methods.contains("| 0 "), "{methods}");
    if let Some(stdout) = python_check(&out.join("points")) {
        assert!(stdout.contains("dataset: points unit: percent"), "{stdout}");
        assert!(stdout.contains("checked "), "{stdout}");
        assert!(
            stdout.contains("datasets: splits train, validation"),
            "{stdout}"
        );
    }
}
