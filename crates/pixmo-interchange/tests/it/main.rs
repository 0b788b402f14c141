//! Round trips: candidates -> the tool's task file -> a tool export (hand-written fixtures
//! in the tools' documented formats, see tests/fixtures/README.md) -> verdicts; and
//! malformed exports, whose errors name the task or element at fault.

mod import;

use pixmo_interchange::cvat::{self, CvatOptions};
use pixmo_interchange::label_studio::{self, LabelStudioOptions};
use pixmo_interchange::{Candidate, Decision, Error, ImageSize, Pixel, Tool, Verdict};
use serde_json::Value;

const LS_EXPORT: &str = include_str!("../fixtures/label_studio_export.json");
const CVAT_EXPORT: &str = include_str!("../fixtures/cvat_for_images_1_1.xml");

fn candidate(id: &str, label: &str, w: u32, h: u32, points: &[(f64, f64)]) -> Candidate {
    let size = ImageSize::new(w, h).unwrap();
    Candidate {
        image_id: id.into(),
        image: format!("{id}.jpg"),
        size,
        label: label.into(),
        points: points
            .iter()
            .map(|&(x, y)| Pixel::new(x, y, size).unwrap())
            .collect(),
    }
}

/// PixMo-Count candidates as a detector proposed them.
fn candidates() -> Vec<Candidate> {
    vec![
        candidate(
            "count-000017",
            "cup",
            640,
            480,
            &[(64.0, 48.0), (320.0, 240.0), (480.0, 360.0)],
        ),
        candidate(
            "count-000042",
            "bird",
            800,
            600,
            &[(200.0, 150.0), (600.0, 450.0)],
        ),
        candidate(
            "count-000108",
            "sheep",
            1000,
            500,
            &[
                (100.0, 100.0),
                (500.0, 250.0),
                (900.0, 400.0),
                (250.0, 450.0),
            ],
        ),
        candidate(
            "count-000230",
            "bottle",
            512,
            512,
            &[(128.0, 128.0), (384.0, 384.0)],
        ),
    ]
}

/// Label Studio's tasks point at its local-files storage.
fn ls_candidates() -> Vec<Candidate> {
    candidates()
        .into_iter()
        .map(|mut c| {
            c.image = format!("/data/local-files/?d=count/{}.jpg", c.image_id);
            c
        })
        .collect()
}

fn px(c: &Candidate, x: f64, y: f64) -> Pixel {
    Pixel::new(x, y, c.size).unwrap()
}

fn by_task<'v>(verdicts: &'v [Verdict], task: &str) -> &'v Verdict {
    verdicts.iter().find(|v| v.task == task).unwrap()
}

#[test]
fn label_studio_round_trip() {
    let cands = ls_candidates();
    let options = LabelStudioOptions::default();
    let tasks: Value =
        serde_json::from_str(&label_studio::write_tasks(&cands, &options).unwrap()).unwrap();
    let export: Value = serde_json::from_str(LS_EXPORT).unwrap();
    // The fixture is the export of exactly these tasks: same data, and the accepted task's
    // results are the predictions we wrote.
    for (written, exported) in tasks
        .as_array()
        .unwrap()
        .iter()
        .zip(export.as_array().unwrap())
    {
        assert_eq!(written["data"], exported["data"]);
    }
    let predicted = &tasks[0]["predictions"][0]["result"];
    let kept = &export[0]["annotations"][0]["result"];
    for i in 0..3 {
        assert_eq!(predicted[i]["value"], kept[i]["value"]);
        assert_eq!(predicted[i]["original_width"], kept[i]["original_width"]);
        assert_eq!(predicted[i]["from_name"], kept[i]["from_name"]);
        assert_eq!(predicted[i]["type"], "keypointlabels");
    }

    let verdicts = label_studio::read_export(LS_EXPORT.as_bytes(), &cands, &options).unwrap();
    assert_eq!(verdicts.len(), 4, "one per annotation; task 104 has none");
    assert!(verdicts.iter().all(|v| v.tool == Tool::LabelStudio));

    let cups = by_task(&verdicts, "101");
    assert_eq!(cups.image_id, "count-000017");
    assert_eq!(cups.decision, Decision::Accepted);
    assert_eq!(cups.points, cands[0].points);
    assert_eq!(cups.accepted.len(), 3);
    assert_eq!(cups.annotator.as_deref(), Some("7"));
    assert_eq!(cups.time.as_deref(), Some("2026-12-02T10:15:42.118230Z"));
    assert_eq!(cups.lead_time_s, Some(6.412));

    let birds: Vec<&Verdict> = verdicts.iter().filter(|v| v.task == "102").collect();
    assert_eq!(birds.len(), 2);
    let c = &cands[1];
    assert_eq!(birds[0].decision, Decision::Corrected);
    assert_eq!(
        birds[0].annotator.as_deref(),
        Some("9"),
        "the id, not the e-mail"
    );
    assert_eq!(birds[0].accepted, [px(c, 200.0, 150.0)]);
    assert_eq!(birds[0].removed, [px(c, 600.0, 450.0)]);
    assert_eq!(birds[0].added, [px(c, 320.0, 360.0)]);
    assert_eq!(birds[0].points, [px(c, 200.0, 150.0), px(c, 320.0, 360.0)]);
    assert_eq!(birds[1].decision, Decision::Skipped);
    assert!(birds[1].points.is_empty());

    let sheep = by_task(&verdicts, "103");
    assert_eq!(sheep.decision, Decision::Rejected);
    assert_eq!(sheep.label, "sheep");
    assert!(sheep.points.is_empty());
}

#[test]
fn label_studio_labeling_config_names_the_controls_the_tasks_use() {
    let options = LabelStudioOptions::default();
    let config = label_studio::labeling_config(&["cup", "bird"], &options);
    assert!(config.contains("<Image name=\"image\" value=\"$image\""));
    assert!(config.contains("<KeyPointLabels name=\"points\" toName=\"image\">"));
    assert!(config.contains("<Choices name=\"verdict\" toName=\"image\""));
}

/// Runs the Label Studio reader on the fixture with `from` replaced by `to`.
fn ls_error(from: &str, to: &str) -> String {
    assert!(LS_EXPORT.contains(from), "fixture lacks {from}");
    let text = LS_EXPORT.replacen(from, to, 1);
    label_studio::read_export(
        text.as_bytes(),
        &ls_candidates(),
        &LabelStudioOptions::default(),
    )
    .unwrap_err()
    .to_string()
}

#[test]
fn malformed_label_studio_exports_name_the_task() {
    let not_json = label_studio::read_export(b"[{\"id\": 1,", &[], &LabelStudioOptions::default())
        .unwrap_err();
    assert!(matches!(not_json, Error::Json { .. }), "{not_json:?}");
    assert_eq!(
        ls_error("\"pixmo_image_id\": \"count-000042\",", ""),
        "Label Studio export, task 102: `data.pixmo_image_id` is missing (not a task pixmo exported)"
    );
    assert_eq!(
        ls_error(
            "\"count-000108\",\n      \"pixmo_label\"",
            "\"count-999\",\n      \"pixmo_label\""
        ),
        "Label Studio export, task 103: image id `count-999` is not among the candidates"
    );
    assert_eq!(
        ls_error("\"x\": 50.0, \"y\": 50.0", "\"x\": 150.0, \"y\": 50.0"),
        "Label Studio export, task 101, annotation 201, result `pixmo-2`: `value.x` is 150.0, not a percentage in 0-100"
    );
    assert_eq!(
        ls_error(
            "\"keypointlabels\": [\"cup\"]}",
            "\"keypointlabels\": [\"dog\"]}"
        ),
        "Label Studio export, task 101, annotation 201, result `pixmo-1`: keypoint label `dog` is not the task's label `cup`"
    );
    assert_eq!(
        ls_error("{\"choices\": [\"wrong\"]}", "{\"choices\": [\"maybe\"]}"),
        "Label Studio export, task 103, annotation 204, result `m2Xb7PzR0e`: verdict `maybe` is none of `correct`, `wrong`"
    );
    assert_eq!(
        ls_error("\"original_width\": 800", "\"original_width\": 400"),
        "Label Studio export, task 102, annotation 202, result `pixmo-1`: `original_width` is 400, but the image is 800x600"
    );
    assert_eq!(
        ls_error(
            "\"type\": \"keypointlabels\",\n            \"origin\": \"prediction-changed\"",
            "\"type\": \"rectanglelabels\",\n            \"origin\": \"prediction-changed\""
        ),
        "Label Studio export, task 102, annotation 202, result `pixmo-2`: unexpected result type `rectanglelabels` (only keypointlabels and choices)"
    );
    assert!(
        ls_error("\"was_cancelled\": false", "\"was_cancelled\": \"no\"")
            .starts_with("Label Studio export, task 101, annotation 201: `was_cancelled` is")
    );
    assert_eq!(
        label_studio::read_export(b"{}", &[], &LabelStudioOptions::default())
            .unwrap_err()
            .to_string(),
        "Label Studio export, top level: expected an array of tasks"
    );
}

#[test]
fn cvat_round_trip() {
    let cands = candidates();
    let options = CvatOptions::default();
    let written = cvat::write_annotations(&cands, &options).unwrap();
    // What we wrote holds the same images and candidate points as the fixture's input.
    for needle in [
        "<version>1.1</version>",
        "<mode>annotation</mode>",
        "<image id=\"0\" name=\"count-000017.jpg\" width=\"640\" height=\"480\">",
        "<points label=\"cup\" source=\"auto\" occluded=\"0\" points=\"64.00,48.00;320.00,240.00;480.00,360.00\" z_order=\"0\">",
        "<image id=\"2\" name=\"count-000108.jpg\" width=\"1000\" height=\"500\">",
        "<name>correct</name>\n          <type>tag</type>",
    ] {
        assert!(written.contains(needle), "missing {needle} in\n{written}");
        let in_fixture = needle.replace(
            "          <type>",
            "          <color>#b83df5</color>\n          <type>",
        );
        assert!(
            CVAT_EXPORT.contains(needle) || CVAT_EXPORT.contains(&in_fixture),
            "fixture lacks {needle}"
        );
    }
    // Reading back what we wrote, untouched: every image accepted as proposed.
    let untouched = cvat::read_export(&written, &cands, &options).unwrap();
    assert_eq!(untouched.len(), 4);
    assert!(untouched.iter().all(|v| v.decision == Decision::Accepted));
    assert!(untouched.iter().all(|v| v.annotator.is_none()));

    let verdicts = cvat::read_export(CVAT_EXPORT, &cands, &options).unwrap();
    assert_eq!(verdicts.len(), 4);
    assert!(verdicts.iter().all(|v| v.tool == Tool::Cvat));
    assert!(
        verdicts
            .iter()
            .all(|v| v.annotator.as_deref() == Some("annotator-3")
                && v.time.as_deref() == Some("2026-12-02 16:41:10.902113+00:00"))
    );
    let cups = by_task(&verdicts, "0");
    assert_eq!(
        (cups.image_id.as_str(), cups.decision),
        ("count-000017", Decision::Accepted)
    );
    assert_eq!(cups.points, cands[0].points);

    let birds = by_task(&verdicts, "1");
    let c = &cands[1];
    assert_eq!(birds.decision, Decision::Corrected);
    assert_eq!(birds.removed, [px(c, 600.0, 450.0)]);
    assert_eq!(birds.added, [px(c, 320.0, 360.0)]);

    assert_eq!(by_task(&verdicts, "2").decision, Decision::Rejected);

    let bottles = by_task(&verdicts, "3");
    assert_eq!(bottles.decision, Decision::Corrected);
    assert_eq!(bottles.points.len(), 3);
    assert_eq!(bottles.added, [px(&cands[3], 256.0, 300.5)]);
}

fn cvat_error(from: &str, to: &str) -> Error {
    assert!(CVAT_EXPORT.contains(from), "fixture lacks {from}");
    let text = CVAT_EXPORT.replacen(from, to, 1);
    cvat::read_export(&text, &candidates(), &CvatOptions::default()).unwrap_err()
}

#[test]
fn malformed_cvat_exports_name_the_element() {
    let cut = cvat::read_export(
        &CVAT_EXPORT[..CVAT_EXPORT.len() - 40],
        &candidates(),
        &CvatOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(cut, Error::Xml { .. }), "{cut:?}");
    let mismatched = cvat_error(
        "</points>\n    <tag label=\"correct\"",
        "</point>\n    <tag label=\"correct\"",
    );
    assert!(matches!(mismatched, Error::Xml { .. }), "{mismatched:?}");

    assert_eq!(
        cvat_error("200.00,150.00;320.00,360.00", "200.00,150.00;320.00,660.00").to_string(),
        "CVAT export, <image id=\"1\" name=\"count-000042.jpg\"> <points label=\"bird\">: point 2 (320, 660) is outside the 800x600 image: Coordinate y = 660 is outside 0–600 pixels"
    );
    assert_eq!(
        cvat_error("200.00,150.00;320.00,360.00", "200.00;320.00,360.00").to_string(),
        "CVAT export, <image id=\"1\" name=\"count-000042.jpg\"> <points label=\"bird\">: point 1 `200.00` is not `x,y`"
    );
    assert_eq!(
        cvat_error("name=\"count-000108.jpg\"", "name=\"elsewhere.jpg\"").to_string(),
        "CVAT export, <image id=\"2\" name=\"elsewhere.jpg\">: the image is not among the candidates"
    );
    assert_eq!(
        cvat_error(
            "width=\"800\" height=\"600\"",
            "width=\"800\" height=\"601\""
        )
        .to_string(),
        "CVAT export, <image id=\"1\" name=\"count-000042.jpg\">: `height` is 601, but the candidate image is 800x600"
    );
    assert_eq!(
        cvat_error(
            "<tag label=\"wrong\" source=\"manual\">",
            "<tag label=\"unsure\" source=\"manual\">"
        )
        .to_string(),
        "CVAT export, <image id=\"2\" name=\"count-000108.jpg\"> <tag label=\"unsure\">: verdict `unsure` is none of `correct`, `wrong`"
    );
    assert_eq!(
        cvat_error("<points label=\"sheep\"", "<points label=\"goat\"").to_string(),
        "CVAT export, <image id=\"2\" name=\"count-000108.jpg\"> <points label=\"goat\">: points of `goat`, but the image's label is `sheep`"
    );
    assert_eq!(
        cvat_error(
            "<tag label=\"correct\" source=\"manual\">\n    </tag>\n  </image>\n  <image id=\"2\"",
            "<box label=\"bird\" source=\"manual\" occluded=\"0\" xtl=\"1\" ytl=\"1\" xbr=\"9\" ybr=\"9\" z_order=\"0\">\n    </box>\n  </image>\n  <image id=\"2\""
        )
        .to_string(),
        "CVAT export, <image id=\"1\" name=\"count-000042.jpg\"> <box>: unexpected shape (only points and tags are read)"
    );
    assert_eq!(
        cvat_error("<version>1.1</version>", "<version>1.0</version>").to_string(),
        "CVAT export, <version>: version `1.0`, expected `1.1`"
    );
    // Correct and wrong on one image contradict each other.
    assert!(
        cvat_error(
            "<tag label=\"wrong\" source=\"manual\">\n    </tag>",
            "<tag label=\"wrong\" source=\"manual\">\n    </tag>\n    <tag label=\"correct\" source=\"manual\"/>"
        )
        .to_string()
        .contains("verdict `correct` contradicts the earlier `wrong`")
    );
}

#[test]
fn bad_candidates_are_refused_before_writing() {
    let mut outside = candidates();
    outside[0].size = ImageSize::new(100, 100).unwrap();
    let e = cvat::write_annotations(&outside, &CvatOptions::default()).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "Candidate `count-000017`: point 2 (320, 240) is outside the 100x100 image"
        ),
        "{e}"
    );
    let mut twice = candidates();
    twice[1].image_id = "count-000017".into();
    let e = label_studio::write_tasks(&twice, &LabelStudioOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Candidate `count-000017`: the image id appears twice"
    );
    let mut unlabeled = candidates();
    unlabeled[2].label = " ".into();
    assert!(cvat::write_annotations(&unlabeled, &CvatOptions::default()).is_err());
    // Labels with markup characters are escaped and read back.
    let mut odd = candidates();
    odd[0].label = "R&D \"mugs\" <big>".into();
    let written = cvat::write_annotations(&odd, &CvatOptions::default()).unwrap();
    assert!(written.contains("label=\"R&amp;D &quot;mugs&quot; &lt;big&gt;\""));
    let back = cvat::read_export(&written, &odd, &CvatOptions::default()).unwrap();
    assert_eq!(back[0].label, "R&D \"mugs\" <big>");
    assert_eq!(back[0].decision, Decision::Accepted);
}
