//! `pixmo build count` and `pixmo build points`: small builds that audit clean and whose rows
//! keep PixMo-Count's rules (counts match points; val/test counts 2-10).

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
}
