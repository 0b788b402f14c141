//! `pixmo build count-detections --from DIR`: PixMo-Count rows from a real detector's output
//! (the committed OpenCV Haar cascade detections over scikit-image's photographs, fetched
//! from the wheel on PyPI with pinned hashes), human verdicts from Label Studio and CVAT
//! read back, and bad input recorded as rejections with reasons.

use std::path::{Path, PathBuf};

use pixmo_llm_testkit::{Reply, TestServer};

use crate::common::{AS_OF, ok, pixmo, shard_hashes};

const HAAR_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../pipelines/pixmo-count/testdata/haar.toml"
);
const DETECTOR: &str = "opencv-haar-cascades (opencv-python-headless 4.14.0)";

/// `pixmo sample-detections --out DIR`: the committed detections and the photographs.
fn sample(dir: &Path) -> PathBuf {
    let from = dir.join("in");
    ok(&pixmo()
        .arg("sample-detections")
        .arg("--out")
        .arg(&from)
        .output()
        .unwrap());
    from
}

fn build(spec: &Path, from: &Path, out: &Path) -> std::process::Output {
    pixmo()
        .env("PIXMO_IMAGE_CACHE", out.with_extension("cache"))
        .args(["build", "count-detections", "--spec"])
        .arg(spec)
        .arg("--from")
        .arg(from)
        .arg("--out")
        .arg(out)
        .args(["--as-of", AS_OF, "--progress", "quiet", "--jobs", "2"])
        .output()
        .unwrap()
}

/// `pixmo audit` passes (its report is on stdout).
fn audit(root: &Path) {
    let output = pixmo().arg("audit").arg(root).output().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("PASSED"), "{report}");
}

fn sql(root: &Path, query: &str) -> String {
    ok(&pixmo().arg("sql").arg(root).arg(query).output().unwrap())
}

#[test]
fn real_detections_build_audit_load_in_python_and_rebuild_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let from = sample(tmp.path());
    let out = tmp.path().join("out");
    let stderr =
        String::from_utf8_lossy(&ok_output(build(Path::new(HAAR_SPEC), &from, &out))).into_owned();
    assert!(stderr.contains("14 images, 7 candidates"), "{stderr}");
    let root = out.join("count");
    audit(&root);

    // Per image the class with most detections scoring >= 0.5, points at box centres: the
    // astronaut's two eyes and the seven "faces" the frontal-face cascade finds on the
    // coins, one image per count in val; the other candidates (count 1) in train.
    let val = sql(
        &root,
        "SELECT id, label, count, points FROM rows WHERE split = 'val' ORDER BY count",
    );
    assert!(val.contains("| count-1 | eye   | 2     |"), "{val}");
    assert!(val.contains("| count-5 | face  | 7     |"), "{val}");
    let astronaut = sql(&root, "SELECT points FROM rows WHERE id = 'count-1'");
    // Box centres (202, 100) and (246, 104) of the 512 px photograph, in pixels as
    // PixMo-Count stores them.
    assert!(
        astronaut.contains("{x: 202.0, y: 100.0}, {x: 246.0, y: 104.0}"),
        "{astronaut}"
    );
    // The build summary gives the rows per count of every split, and says val and test are
    // not balanced (one image per count was asked for; the photographs have two counts).
    assert!(
        stderr.contains("rows per count (count:rows): test none; train 1:5; val 2:1 7:1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Unbalanced: `val` is short of 1 row per count at (count:rows) 3:0 4:0 5:0 6:0 8:0 9:0 10:0; `test` is empty."),
        "{stderr}"
    );
    let train = sql(
        &root,
        "SELECT count(*) AS n, min(count) AS lo, max(count) AS hi FROM rows WHERE split = 'train'",
    );
    assert!(train.contains("| 5 | 1  | 1  |"), "{train}");
    // The detector is named in every row's provenance, with the rule's thresholds.
    let named = sql(
        &root,
        &format!(
            "SELECT count(*) AS n FROM rows WHERE provenance['models'][1]['kind'] = 'detector' \
             AND provenance['models'][1]['name'] = '{DETECTOR}' \
             AND provenance['models'][1]['parameters'] LIKE '%\"score_threshold\":0.5%'"
        ),
    );
    assert!(named.contains("| 7 "), "{named}");
    let rejects = sql(
        &root,
        "SELECT kind, count(*) AS n FROM rejects GROUP BY kind",
    );
    assert!(rejects.contains("| no_detections | 7 "), "{rejects}");

    // Same inputs and spec: the same bytes.
    let again = tmp.path().join("again");
    ok_output(build(Path::new(HAAR_SPEC), &from, &again));
    assert_eq!(shard_hashes(&root), shard_hashes(&again.join("count")));

    // A second, independent reader: pyarrow + Pillow, and Hugging Face `datasets`.
    let Some(python) = crate::common::python_with("pyarrow, PIL") else {
        return;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/python/check_count.py"
    );
    let result = std::process::Command::new(&python)
        .arg(script)
        .arg(&root)
        .output()
        .unwrap();
    let stdout = ok(&result);
    assert!(stdout.contains("checked 7 rows"), "{stdout}");
    assert!(stdout.contains(DETECTOR), "{stdout}");
}

fn ok_output(output: std::process::Output) -> Vec<u8> {
    ok(&output);
    output.stderr
}

#[test]
fn verdicts_from_label_studio_and_cvat_come_back_into_the_build() {
    let tmp = tempfile::tempdir().unwrap();
    let from = sample(tmp.path());
    let tasks = tmp.path().join("tasks");
    ok(&pixmo()
        .args(["count-tasks", "--spec", HAAR_SPEC, "--from"])
        .arg(&from)
        .arg("--out")
        .arg(&tasks)
        .output()
        .unwrap());
    for file in [
        "images/1.png",
        "images/5.png",
        "label-studio/config.xml",
        "candidates.json",
    ] {
        assert!(tasks.join(file).is_file(), "{file}");
    }

    // Label Studio: the verifier rejects the coins (they are not faces).
    let text = std::fs::read_to_string(tasks.join("label-studio/tasks.json")).unwrap();
    let mut exported: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (i, task) in exported.as_array_mut().unwrap().iter_mut().enumerate() {
        task["id"] = serde_json::json!(100 + i);
        if task["data"]["pixmo_image_id"] == "5" {
            task["annotations"] = serde_json::json!([{
                "id": 1,
                "completed_by": {"id": 7, "email": "v@example.org"},
                "updated_at": "2026-12-02T10:00:00Z",
                "was_cancelled": false,
                "result": [{
                    "id": "v1", "type": "choices", "from_name": "verdict", "to_name": "image",
                    "value": {"choices": ["wrong"]}
                }]
            }]);
        }
    }
    let verdicts = from.join("verdicts");
    std::fs::create_dir_all(&verdicts).unwrap();
    std::fs::write(
        verdicts.join("label-studio.json"),
        serde_json::to_string(&exported).unwrap(),
    )
    .unwrap();
    // CVAT: the astronaut's eyes are accepted as they are.
    let xml = std::fs::read_to_string(tasks.join("cvat/annotations.xml")).unwrap();
    let xml = xml
        .replace(
            "</meta>",
            "<dumped>2026-12-02 11:00:00.000000+00:00</dumped></meta>",
        )
        .replacen(
            "</points>",
            "</points>\n    <tag label=\"correct\" source=\"manual\"></tag>",
            1,
        );
    assert!(xml.find("images/1.png") < xml.find("<tag label"), "{xml}");
    let only_first = {
        let start = xml.find("<image id=\"1\"").unwrap();
        let end = xml.find("</annotations>").unwrap();
        format!("{}{}", &xml[..start], &xml[end..])
    };
    std::fs::write(verdicts.join("cvat.xml"), only_first).unwrap();

    let out = tmp.path().join("verified");
    let stderr =
        String::from_utf8_lossy(&ok_output(build(Path::new(HAAR_SPEC), &from, &out))).into_owned();
    assert!(stderr.contains("2 verdicts from 2 files"), "{stderr}");
    // The rejected coins leave val without its count 7, which the summary says.
    assert!(stderr.contains("val 2:1\n"), "{stderr}");
    assert!(
        stderr.contains("`val` is short of 1 row per count at (count:rows) 3:0 4:0 5:0 6:0 7:0"),
        "{stderr}"
    );
    let root = out.join("count");
    audit(&root);
    // So does the card, from the shards: rows per count in each split, and the gap.
    let cards = tmp.path().join("cards");
    ok(&pixmo()
        .arg("card")
        .arg(&root)
        .arg("--cards-dir")
        .arg(&cards)
        .output()
        .unwrap());
    let card = std::fs::read_to_string(cards.join("count.md")).unwrap();
    assert!(card.contains("Rows per count in each split:"), "{card}");
    assert!(card.contains("Unbalanced: `test` is empty."), "{card}");
    assert!(card.contains("stored in pixels of each image"), "{card}");
    assert!(cards.join("count/points_heatmap.png").is_file());
    let rejected = sql(
        &root,
        "SELECT split, message FROM rejects WHERE kind = 'verifier_rejected'",
    );
    assert!(rejected.contains("| val   | image 5: 7 `face` rejected by the verifier (Label Studio task 101 in `verdicts/label-studio.json` by 7 at 2026-12-02T10:00:00Z) |"), "{rejected}");
    let verified = sql(
        &root,
        "SELECT id, provenance['sources'][3]['kind'] AS kind, provenance['sources'][3]['id'] AS who FROM rows WHERE split = 'val'",
    );
    assert!(
        verified.contains("| count-1 | verification |"),
        "{verified}"
    );
    assert!(
        verified.contains("accepted: CVAT task 0 in `verdicts/cvat.xml`"),
        "{verified}"
    );
    assert!(!verified.contains("count-5"), "{verified}");
    let unverified = sql(
        &root,
        "SELECT count(*) AS n FROM rows WHERE split = 'train' AND array_length(provenance['sources']) = 3",
    );
    assert!(unverified.contains("| 5 "), "{unverified}");

    // The records of a dataset folder never change under it: new verdicts need a new --out.
    std::fs::remove_file(verdicts.join("cvat.xml")).unwrap();
    let refused = build(Path::new(HAAR_SPEC), &from, &out);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("changed since") && message.contains("verdicts/cvat.xml"),
        "{message}"
    );
}

#[test]
fn bad_detection_inputs_become_rejections_with_reasons() {
    let tmp = tempfile::tempdir().unwrap();
    let from = sample(tmp.path());
    let coins = std::fs::read(from.join("images/coins.png")).unwrap();
    std::fs::write(from.join("images/garbage.png"), b"not an image at all").unwrap();
    std::fs::write(from.join("images/truncated.png"), &coins[..coins.len() / 3]).unwrap();
    let coins_sha = pixmo_core::sha256_hex(&coins);
    // Web images: one served on loopback, one gone.
    let chelsea = std::fs::read(from.join("images/chelsea.png")).unwrap();
    let chelsea_sha = pixmo_core::sha256_hex(&chelsea);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(TestServer::start(move |_, r| match r.path.as_str() {
        "/chelsea.png" => Reply::new(200, chelsea.clone()),
        _ => Reply::new(404, "not found"),
    }));
    let web = server.url();
    let images = serde_json::json!({
        "detector": {"name": "hand-made", "version": "1"},
        "categories": [
            {"id": 1, "name": "face"}, {"id": 2, "name": "eye"},
            {"id": 3, "name": "x"}, {"id": 3, "name": "y"}
        ],
        "images": [
            {"id": 1, "file_name": "images/astronaut.png", "width": 512, "height": 512},
            {"id": 2, "file_name": "images/coins.png", "width": 384, "height": 303, "sha256": coins_sha},
            {"id": 4, "file_name": "images/camera.png", "width": 512, "height": 512},
            {"id": 4, "file_name": "images/camera.png", "width": 512, "height": 512},
            {"id": 5, "file_name": "images/garbage.png", "width": 20, "height": 20},
            {"id": 6, "file_name": "images/truncated.png", "width": 384, "height": 303},
            {"id": 7, "url": "http://127.0.0.1:9/nothing.png", "sha256": coins_sha, "width": 384, "height": 303},
            {"id": 8, "file_name": "../outside.png", "width": 10, "height": 10},
            {"id": 9, "file_name": "images/coins.png", "width": 100, "height": 100},
            {"id": 10, "file_name": "images/coins.png", "width": 384, "height": 303, "sha256": "0".repeat(64)},
            {"id": 11, "file_name": "images/missing.png", "width": 10, "height": 10},
            {"id": 12, "url": format!("{web}/chelsea.png"), "sha256": chelsea_sha, "width": 451, "height": 300},
            {"id": 13, "url": format!("{web}/gone.png"), "sha256": "ab".repeat(32), "width": 451, "height": 300}
        ]
    });
    let det = |image: u64, category: u64, bbox: [f64; 4]| {
        format!(
            r#"{{"image_id": {image}, "category_id": {category}, "bbox": {bbox:?}, "score": 0.9}}"#
        )
    };
    let mut detections = vec![
        det(1, 1, [10.0, 10.0, 20.0, 20.0]),
        det(1, 1, [100.0, 10.0, 20.0, 20.0]),
        det(1, 1, [200.0, 10.0, 20.0, 20.0]),
        det(2, 2, [10.0, 10.0, 10.0, 10.0]),
        det(2, 2, [50.0, 10.0, 10.0, 10.0]),
        // Boxes outside the image, or with no area.
        det(2, 2, [380.0, 10.0, 20.0, 10.0]),
        det(2, 2, [-5.0, 10.0, 20.0, 10.0]),
        det(2, 2, [50.0, 10.0, 0.0, 10.0]),
        // Unknown category and image; a duplicated category id.
        det(2, 99, [10.0, 10.0, 10.0, 10.0]),
        det(42, 1, [10.0, 10.0, 10.0, 10.0]),
        det(2, 3, [10.0, 10.0, 10.0, 10.0]),
        // Candidates whose images cannot be used.
        det(4, 1, [10.0, 10.0, 10.0, 10.0]),
        det(5, 1, [1.0, 1.0, 5.0, 5.0]),
        det(6, 1, [10.0, 10.0, 10.0, 10.0]),
        det(7, 1, [10.0, 10.0, 10.0, 10.0]),
        det(9, 1, [10.0, 10.0, 10.0, 10.0]),
        det(10, 1, [10.0, 10.0, 10.0, 10.0]),
        det(11, 1, [1.0, 1.0, 5.0, 5.0]),
        det(12, 2, [10.0, 10.0, 10.0, 10.0]),
        det(12, 2, [40.0, 10.0, 10.0, 10.0]),
        // The same box again: counted once.
        det(12, 2, [40.0, 10.0, 10.0, 10.0]),
        det(13, 2, [10.0, 10.0, 10.0, 10.0]),
    ];
    // Scores Python's json writes for NaN and infinity, a bbox of three numbers.
    detections
        .push(r#"{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": NaN}"#.into());
    detections.push(
        r#"{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": Infinity}"#.into(),
    );
    detections.push(r#"{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5], "score": 0.9}"#.into());
    std::fs::write(from.join("images.json"), images.to_string()).unwrap();
    std::fs::write(
        from.join("detections.json"),
        format!("[{}]", detections.join(",\n")),
    )
    .unwrap();
    let spec = tmp.path().join("spec.toml");
    std::fs::write(
        &spec,
        std::fs::read_to_string(HAAR_SPEC).unwrap().replace(
            "kind = \"count.image\"",
            "kind = \"count.image\"\n[stages.config]\nretries = 0\ntimeout_ms = 2000",
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    ok_output(build(&spec, &from, &out));
    let root = out.join("count");
    audit(&root);
    let rows = sql(
        &root,
        "SELECT concat(id, '/', label, '/', count) AS row FROM rows ORDER BY id",
    );
    for row in ["count-1/face/3", "count-2/eye/2", "count-12/eye/2"] {
        assert!(rows.contains(&format!("| {row} ")), "{row}: {rows}");
    }
    assert_eq!(rows.matches("| count-").count(), 3, "{rows}");
    let fetched = sql(
        &root,
        "SELECT count, image_url, provenance['sources'][3]['kind'] AS kind FROM rows WHERE id = 'count-12'",
    );
    assert!(
        fetched.contains("| 2     |") && fetched.contains("/chelsea.png | url "),
        "{fetched}"
    );
    assert_eq!(server.request_count(), 2, "the gone image is not retried");
    let rejects = sql(
        &root,
        "SELECT stage, kind, message FROM rejects ORDER BY stage, kind, message",
    );
    for (stage, kind, needle) in [
        (
            "detections",
            "box_outside",
            "detection 5: box [380.0, 10.0, 20.0, 10.0] leaves the 384x303 image",
        ),
        (
            "detections",
            "box_outside",
            "detection 6: box [-5.0, 10.0, 20.0, 10.0]",
        ),
        (
            "detections",
            "bad_detection",
            "detection 7: box [50.0, 10.0, 0.0, 10.0] has no area",
        ),
        (
            "detections",
            "unknown_category",
            "detection 8 has category 99",
        ),
        (
            "detections",
            "unknown_image",
            "detection 9 refers to image 42",
        ),
        (
            "detections",
            "unknown_category",
            "detection 10 has category 3",
        ),
        (
            "detections",
            "duplicate_category",
            "category id 3 is listed more than once",
        ),
        (
            "detections",
            "duplicate_image",
            "image id 4 is listed twice",
        ),
        ("detections", "bad_detection", "detection 22 needs"),
        ("detections", "bad_detection", "detection 23 needs"),
        (
            "detections",
            "bad_detection",
            "detection 24: `bbox` has 3 numbers",
        ),
        (
            "detections",
            "bad_image",
            "`file_name` `../outside.png` must be a relative path",
        ),
        ("image", "image_format", "image 5 is not an image"),
        ("image", "image_corrupt", "image 6 does not decode"),
        ("image", "image_network", "image 7"),
        ("image", "image_size_mismatch", "image 9 is 384x303 pixels"),
        ("image", "image_sha256_mismatch", "image 10 has SHA-256"),
        ("image", "image_missing", "missing.png"),
        ("image", "image_http", "404"),
        (
            "detections",
            "duplicate_detection",
            "detection 20 repeats detection 19",
        ),
    ] {
        let line = rejects
            .lines()
            .find(|l| l.contains(&format!("| {kind} ")) && l.contains(needle));
        assert!(
            line.is_some_and(|l| l.contains(&format!("| {stage} "))),
            "no `{stage}`/`{kind}` rejection containing `{needle}`:\n{rejects}"
        );
    }
    assert!(
        rejects.contains("NaN and infinities are not scores"),
        "{rejects}"
    );
}
