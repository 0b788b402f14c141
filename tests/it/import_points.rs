//! `pixmo import-points`: Label Studio, CVAT and COCO exports (`tests/fixtures/import_points/`,
//! written in each tool's export format) and real PNGs become a committed PixMo-Points dataset
//! whose rows and rejects are read back with `pixmo sql` (DataFusion) and, when installed,
//! pyarrow, and which `pixmo audit` passes.

use std::path::{Path, PathBuf};

use crate::common::{AS_OF, ok, pixmo, shard_hashes, sql};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/import_points"
);

/// Images the exports name: committed card plots (real PNGs of known sizes), two files with
/// one name in different folders, and a file that is not an image.
fn images(dir: &Path) -> PathBuf {
    let cards = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data_cards");
    let images = dir.join("images");
    for (from, to) in [
        ("clocks/hours.png", "shelf/hours.png"), // 800x420
        ("points/counts.png", "counts.png"),     // 800x1022
        ("docs/kinds.png", "kinds.png"),         // 800x736
        ("clocks/minutes.png", "a/dup.png"),
        ("clocks/minutes.png", "b/dup.png"),
    ] {
        let to = images.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(cards.join(from), to).unwrap();
    }
    std::fs::write(images.join("broken.png"), "not an image").unwrap();
    images
}

fn import(tool: &str, file: &str, images: &Path, out: &Path) -> std::process::Output {
    pixmo()
        .args(["import-points", "--from", tool])
        .arg(Path::new(FIXTURES).join(file))
        .arg("--images")
        .arg(images)
        .arg("--out")
        .arg(out)
        .args(["--as-of", AS_OF])
        .output()
        .unwrap()
}

/// The rows of a `pixmo sql` table, cells trimmed, header and borders dropped.
fn table(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with('|'))
        .skip(1)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

fn rows(root: &Path) -> Vec<Vec<String>> {
    table(&sql(
        root,
        "SELECT id, label, count, points[1]['x'] AS x1, points[1]['y'] AS y1, \
         points[2]['x'] AS x2, points[2]['y'] AS y2, collection_method, width, height \
         FROM rows ORDER BY id",
    ))
}

fn rejects(root: &Path) -> Vec<(String, String)> {
    table(&sql(
        root,
        "SELECT kind, message FROM rejects ORDER BY record_index",
    ))
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect()
}

fn strings(row: &[&str]) -> Vec<String> {
    row.iter().map(|s| s.to_string()).collect()
}

#[test]
fn label_studio_export_becomes_points_rows_with_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    let images = images(tmp.path());
    let out = tmp.path().join("out");
    let run = import("label-studio", "label_studio.json", &images, &out);
    ok(&run);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("3 rows, 9 rejected"), "{stderr}");
    let root = out.join("points");
    ok(&pixmo().arg("audit").arg(&root).output().unwrap());

    // Percent of the image, one decimal; the upload prefix `1a2b3c4d-` is dropped to find
    // `counts.png`.
    assert_eq!(
        rows(&root),
        [
            strings(&[
                "points-label_studio-00000",
                "hour hand",
                "2",
                "25.0",
                "50.0",
                "75.0",
                "50.0",
                "pointing",
                "800",
                "420"
            ]),
            strings(&[
                "points-label_studio-00001",
                "title",
                "1",
                "50.0",
                "5.0",
                "",
                "",
                "pointing",
                "800",
                "420"
            ]),
            strings(&[
                "points-label_studio-00002",
                "bar",
                "1",
                "10.5",
                "90.0",
                "",
                "",
                "pointing",
                "800",
                "1022"
            ]),
        ]
    );
    // Provenance names the image, the export entry and the annotator (Label Studio user id).
    let sources = sql(
        &root,
        "SELECT s['kind'] AS kind, s['id'] AS id FROM \
         (SELECT unnest(provenance['sources']) AS s FROM rows WHERE id = 'points-label_studio-00002')",
    );
    assert!(sources.contains("| image "), "{sources}");
    assert!(sources.contains("counts.png"), "{sources}");
    assert!(
        sources.contains("label_studio.json: task 2, annotation 12, label `bar`"),
        "{sources}"
    );
    assert!(sources.contains("| annotator "), "{sources}");

    let rejects = rejects(&root);
    let kinds: Vec<&str> = rejects.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "cancelled",
            "point_outside_image",
            "unsupported_shape",
            "empty_label",
            "image_missing",
            "image_size_mismatch",
            "duplicate_label",
            "image_ambiguous",
            "image_unreadable"
        ]
    );
    let reason = |kind: &str| {
        rejects
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, m)| m.clone())
            .unwrap()
    };
    assert!(
        reason("point_outside_image").starts_with("task 7, annotation 17, label `legend`"),
        "{rejects:?}"
    );
    assert!(
        reason("image_size_mismatch").ends_with("the export says 640x480, `kinds.png` is 800x736"),
        "{rejects:?}"
    );
    assert!(
        reason("duplicate_label").contains("was imported already from task 1, annotation 11"),
        "{rejects:?}"
    );
    assert!(reason("image_ambiguous").contains("matches 2 files"));
    assert!(reason("image_unreadable").contains("`broken.png` is not a PNG or JPEG image"));
    assert!(reason("image_missing").contains("shelf/missing.png"));

    // Same inputs and time: the same shard bytes.
    let again = tmp.path().join("again");
    ok(&import(
        "label-studio",
        "label_studio.json",
        &images,
        &again,
    ));
    let (first, second) = (shard_hashes(&root), shard_hashes(&again.join("points")));
    assert!(!first.is_empty());
    assert_eq!(first, second);

    // A snapshot is never overwritten; a file of another format is an error, not rows.
    let twice = import("label-studio", "label_studio.json", &images, &out);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("exists; write into a new folder"),
        "{}",
        String::from_utf8_lossy(&twice.stderr)
    );
    let wrong = import(
        "label-studio",
        "cvat_for_images_1_1.xml",
        &images,
        &tmp.path().join("wrong"),
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("is not a readable label_studio export"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(!tmp.path().join("wrong/points").exists());

    independent_reader(&root, 3, 9);
}

#[test]
fn cvat_and_coco_exports_become_points_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let images = images(tmp.path());

    let out = tmp.path().join("cvat");
    ok(&import("cvat", "cvat_for_images_1_1.xml", &images, &out));
    let root = out.join("points");
    ok(&pixmo().arg("audit").arg(&root).output().unwrap());
    let got = rows(&root);
    assert_eq!(got.len(), 2, "{got:?}");
    // Pixels to percent: (200, 210) and (600, 210) of 800x420.
    assert_eq!(
        got[0][1..7],
        strings(&["hour hand", "2", "25.0", "50.0", "75.0", "50.0"])
    );
    // Two <points> shapes of one label on one image merge: (84, 919.8) of 800x1022.
    assert_eq!(
        got[1][1..7],
        strings(&["bar", "2", "10.5", "90.0", "20.0", "88.1"])
    );
    let kinds: Vec<String> = rejects(&root).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        ["unsupported_shape", "duplicate_point", "image_missing"]
    );
    let annotators = sql(
        &root,
        "SELECT DISTINCT s['id'] AS id FROM (SELECT unnest(provenance['sources']) AS s FROM rows) \
         WHERE s['kind'] = 'annotator'",
    );
    assert!(annotators.contains("annotator-2"), "{annotators}");

    // Images not there: every annotation is a reject, and the run still commits and audits.
    let empty = tmp.path().join("no-images");
    std::fs::create_dir_all(&empty).unwrap();
    let out = tmp.path().join("cvat-no-images");
    ok(&import("cvat", "cvat_for_images_1_1.xml", &empty, &out));
    let root = out.join("points");
    ok(&pixmo().arg("audit").arg(&root).output().unwrap());
    assert!(rows(&root).is_empty());
    let kinds: Vec<String> = rejects(&root).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        [
            "unsupported_shape",
            "duplicate_point",
            "image_missing",
            "image_missing",
            "image_missing"
        ]
    );

    let out = tmp.path().join("coco");
    let run = pixmo()
        .args(["import-points", "--from", "coco"])
        .arg(Path::new(FIXTURES).join("coco_keypoints.json"))
        .arg("--images")
        .arg(&images)
        .arg("--out")
        .arg(&out)
        .args([
            "--as-of",
            AS_OF,
            "--split",
            "val",
            "--collection-method",
            "counting",
        ])
        .output()
        .unwrap();
    ok(&run);
    let root = out.join("points");
    ok(&pixmo().arg("audit").arg(&root).output().unwrap());
    let got = rows(&root);
    let labels: Vec<(&str, &str, &str, &str)> = got
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str(), r[3].as_str(), r[7].as_str()))
        .collect();
    // One-keypoint categories give the category; others one label per keypoint name.
    assert_eq!(
        labels,
        [
            ("clock", "1", "50.0", "counting"),
            ("marker tip", "1", "12.5", "counting"),
            ("marker left end", "1", "13.8", "counting"),
        ]
    );
    let splits = sql(&root, "SELECT DISTINCT split FROM rows");
    assert!(splits.contains("| val "), "{splits}");
    assert_eq!(
        rejects(&root),
        [(
            "malformed".to_string(),
            "annotation 3: `image_id` 9 names no image".to_string()
        )]
    );
}

/// pyarrow reads the data and rejects shards (skipped without it, except in CI).
fn independent_reader(root: &Path, rows: usize, rejects: usize) {
    let Some(python) = crate::common::python_with("pyarrow") else {
        return;
    };
    let script = r#"
import sys, pyarrow.parquet as pq
from pathlib import Path
root = Path(sys.argv[1])
data = pq.read_table(next((root / "train").glob("*.parquet"))).to_pylist()
rejects = pq.read_table(next((root / ".pixmo" / "rejects" / "train").glob("*.parquet"))).to_pylist()
for row in data:
    assert row["count"] == len(row["points"]), row["id"]
    assert all(0 <= p["x"] <= 100 and 0 <= p["y"] <= 100 for p in row["points"]), row["id"]
    assert row["image"]["bytes"][:8] == b"\x89PNG\r\n\x1a\n", row["id"]
assert all(r["message"] and r["kind"] for r in rejects)
print(len(data), len(rejects))
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .arg(root)
        .output()
        .unwrap();
    assert_eq!(ok(&out).trim(), format!("{rows} {rejects}"));
}
