//! The evaluations end to end on JSON Lines files: figures, and errors that name the line.

use std::path::PathBuf;

use pixmo_eval::pointing::Tolerance;
use pixmo_eval::{evaluate_clocks, evaluate_count, evaluate_points};

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, lines: &[&str]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    }
}

#[test]
fn pointing_with_masks_distances_and_not_present() {
    let f = Files::new();
    // a: 2 instances with masks (4x4 image; columns 0-1 and columns 2-3, full height);
    // b: no masks, one point at the centre of a 200x100 image; c and d: not present.
    let gold = f.write(
        "gold.jsonl",
        &[
            r#"{"id": "a", "width": 4, "height": 4, "points": [{"x": 12.5, "y": 50}, {"x": 87.5, "y": 50}], "masks": [{"size": [4, 4], "counts": [0, 8, 8]}, {"size": [4, 4], "counts": "88"}]}"#,
            r#"{"id": "b", "width": 200, "height": 100, "unit": "pixels", "points": [[100, 50]]}"#,
            r#"{"id": "c", "width": 10, "height": 10, "points": []}"#,
            "",
            r#"{"id": 4, "width": 10, "height": 10, "points": []}"#,
        ],
    );
    let predictions = f.write(
        "pred.jsonl",
        &[
            // Both predictions in the left instance: one correct of two.
            r#"{"id": "a", "answer": "<points x1=\"10\" y1=\"10\" x2=\"40\" y2=\"90\" alt=\"x\">x</points>"}"#,
            // 2.8 px from the gold point: within 5 % of the 223.6 px diagonal (11.2 px).
            r#"{"id": "b", "answer": "<point x=\"51.0\" y=\"52.0\" alt=\"x\">x</point>"}"#,
            r#"{"id": "c", "answer": "There are none."}"#,
            r#"{"id": 4, "answer": "<point x=\"1\" y=\"1\">x</point> and <point x=\"3\""}"#,
        ],
    );
    let s = evaluate_points(&predictions, &gold, Tolerance::default()).unwrap();
    assert_eq!((s.examples, s.with_target, s.not_present), (4, 2, 2));
    assert_eq!(
        (s.predicted_points, s.gold_points, s.correct_points),
        (4, 3, 2)
    );
    // Per example precision: 0.5, 1, 1, 0 -> mean 0.625; recall 0.5, 1, 1, 0.
    assert!((s.precision - 0.625).abs() < 1e-12, "{s:?}");
    assert!((s.recall - 0.625).abs() < 1e-12);
    assert!((s.f1 - 0.625).abs() < 1e-12);
    assert!((s.f1_with_target - 0.75).abs() < 1e-12);
    assert_eq!(s.not_present_accuracy, Some(0.5));
    assert_eq!((s.dropped_coordinates, s.examples_with_masks), (1, 1));
    // A 2 px limit makes b wrong.
    let strict = evaluate_points(&predictions, &gold, Tolerance::Pixels(2.0)).unwrap();
    assert_eq!(strict.correct_points, 1);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["tolerance"], "5%");
}

#[test]
fn counting_exact_within_one_and_by_count() {
    let f = Files::new();
    let gold = f.write(
        "gold.jsonl",
        &[
            r#"{"id": "a", "count": 2}"#,
            r#"{"id": "b", "count": 2}"#,
            r#"{"id": "c", "count": 5}"#,
            r#"{"id": "d", "count": 0}"#,
        ],
    );
    let predictions = f.write(
        "pred.jsonl",
        &[
            r#"{"id": "d", "answer": "There are none."}"#,
            r#"{"id": "a", "answer": "Counting the <points x1=\"1\" y1=\"2\" x2=\"3\" y2=\"4\" alt=\"c\">c</points> shows a total of 2."}"#,
            r#"{"id": "b", "answer": "three"}"#,
            r#"{"id": "c", "answer": "I cannot tell"}"#,
        ],
    );
    let s = evaluate_count(&predictions, &gold).unwrap();
    assert_eq!(s.examples, 4);
    assert_eq!((s.exact, s.close, s.valid), (0.5, 0.75, 0.75));
    assert_eq!(s.by_count[&2].examples, 2);
    assert_eq!((s.by_count[&2].exact, s.by_count[&2].close), (0.5, 1.0));
    assert_eq!(s.by_count[&5].close, 0.0);
}

#[test]
fn clocks_from_molmo_metadata_and_pixmo_rows() {
    let f = Files::new();
    let gold = f.write(
        "gold.jsonl",
        &[
            r#"{"id": "a", "hour": 10, "minute": 8, "second": -1}"#,
            r#"{"id": "b", "hour": -1, "minute": -1, "second": -1}"#,
            r#"{"example_id": "c", "watch_time": "13:01:30", "hour_visible": 1, "minute_visible": 1, "second_visible": 0}"#,
            r#"{"example_id": "d", "watch_time": "04:20:00", "shows_seconds": true}"#,
        ],
    );
    let predictions = f.write(
        "pred.jsonl",
        &[
            r#"{"id": "a", "answer": "The watch shows 10:08."}"#,
            r#"{"id": "b", "answer": "The time cannot be read."}"#,
            r#"{"id": "c", "answer": "12:58"}"#,
            r#"{"id": "d", "answer": "4:20"}"#,
        ],
    );
    let s = evaluate_clocks(&predictions, &gold, 3).unwrap();
    assert_eq!((s.examples, s.answerable, s.unanswerable), (4, 3, 1));
    // a exact; c close only (3 minutes across 1 o'clock); d misses its shown seconds.
    assert!((s.exact - 1.0 / 3.0).abs() < 1e-12, "{s:?}");
    assert_eq!(s.close, 1.0);
    assert_eq!(s.correctly_declines, Some(1.0));
    assert_eq!(
        evaluate_clocks(&predictions, &gold, 2).unwrap().close,
        2.0 / 3.0
    );
}

#[test]
fn bad_input_names_the_file_and_line() {
    let f = Files::new();
    let gold = f.write(
        "gold.jsonl",
        &[r#"{"id": "a", "count": 1}"#, r#"{"id": "b", "count": 2}"#],
    );
    let err = |pred: &[&str], gold_lines: Option<&[&str]>| {
        let p = f.write("p.jsonl", pred);
        let g = gold_lines.map_or(gold.clone(), |l| f.write("g.jsonl", l));
        evaluate_count(&p, &g).unwrap_err().to_string()
    };
    let both = [
        r#"{"id": "a", "answer": "1"}"#,
        r#"{"id": "b", "answer": "2"}"#,
    ];
    let e = err(&[r#"{"id": "a", "answer": "1"}"#, "{not json"], None);
    assert!(e.contains("p.jsonl:2: not JSON"), "{e}");
    let e = err(
        &[
            r#"{"id": "a", "answer": "1"}"#,
            r#"{"id": "a", "answer": "2"}"#,
        ],
        None,
    );
    assert!(e.contains("p.jsonl:2: id `a` repeats line 1"), "{e}");
    let e = err(&[r#"{"id": "a", "answer": 3}"#], None);
    assert!(e.contains("p.jsonl:1: `answer` must be a string"), "{e}");
    let e = err(&[r#"{"id": "b", "answer": "1"}"#], None);
    assert!(
        e.contains("1 gold example(s) have no prediction, the first `a`"),
        "{e}"
    );
    assert!(e.contains("gold.jsonl:1"), "{e}");
    let e = err(&[both[0], both[1], r#"{"id": "z", "answer": "1"}"#], None);
    assert!(
        e.contains("p.jsonl:3: id `z` is not in the gold file"),
        "{e}"
    );
    let e = err(
        &both,
        Some(&[r#"{"id": "a", "count": -1}"#, r#"{"id": "b"}"#]),
    );
    assert!(
        e.contains("g.jsonl:1: `count` must be a non-negative integer"),
        "{e}"
    );
    let e = err(&both, Some(&["[1, 2]"]));
    assert!(e.contains("g.jsonl:1: expected a JSON object"), "{e}");
    let e = err(&both, Some(&["", "  "]));
    assert!(e.contains("has no examples"), "{e}");

    let points = |gold_line: &str| {
        let p = f.write("p.jsonl", &[r#"{"id": "a", "answer": ""}"#]);
        let g = f.write("g.jsonl", &[gold_line]);
        evaluate_points(&p, &g, Tolerance::default())
            .unwrap_err()
            .to_string()
    };
    let e = points(r#"{"id": "a", "width": 4, "height": 4, "points": [{"x": 120, "y": 5}]}"#);
    assert!(
        e.contains("g.jsonl:1: point 0: Coordinate x = 120 is outside 0–100 percent"),
        "{e}"
    );
    assert!(
        !e.contains("store pixels"),
        "120 is outside the 4 px image too: {e}"
    );
    // A PixMo-Count row (pixels) given without its unit is refused with a hint, not read as
    // percent.
    let e =
        points(r#"{"id": "a", "width": 448, "height": 448, "points": [{"x": 300.5, "y": 12}]}"#);
    assert!(
        e.contains("outside 0–100 percent (PixMo-Count rows store pixels: give the line \"unit\": \"pixels\")"),
        "{e}"
    );
    let e = points(r#"{"id": "a", "width": 4, "height": 4, "unit": "pixels", "points": [[5, 1]]}"#);
    assert!(e.contains("outside 0–4 pixels"), "{e}");
    let e = points(r#"{"id": "a", "width": 0, "height": 4, "points": []}"#);
    assert!(e.contains("has no pixels"), "{e}");
    let e = points(r#"{"id": "a", "width": 4, "height": 4, "points": [[1, 1]], "masks": []}"#);
    assert!(e.contains("0 masks for 1 points"), "{e}");
    let e = points(
        r#"{"id": "a", "width": 4, "height": 4, "points": [[1, 1]], "masks": [{"size": [2, 8], "counts": [16]}]}"#,
    );
    assert!(e.contains("mask 0 is 8x2, the image 4x4"), "{e}");
    let e = points(
        r#"{"id": "a", "width": 4, "height": 4, "points": [[1, 1]], "masks": [{"size": [4, 4], "counts": [3]}]}"#,
    );
    assert!(e.contains("mask 0: mask runs cover 3 pixels"), "{e}");
    let e = points(r#"{"id": "a", "width": 4, "height": 4, "points": [{"x": "1"}]}"#);
    assert!(e.contains("point 0 must be"), "{e}");

    let clocks = |gold_line: &str| {
        let p = f.write("p.jsonl", &[r#"{"id": "a", "answer": "1:00"}"#]);
        let g = f.write("g.jsonl", &[gold_line]);
        evaluate_clocks(&p, &g, 3).unwrap_err().to_string()
    };
    let e = clocks(r#"{"id": "a", "hour": 25, "minute": 0, "second": 0}"#);
    assert!(e.contains("`hour` must be -1 (not visible) or 0–23"), "{e}");
    let e = clocks(r#"{"id": "a", "watch_time": "1:00"}"#);
    assert!(e.contains("is not HH:MM:SS"), "{e}");
    let e = evaluate_count(&f.dir.path().join("nope.jsonl"), &gold).unwrap_err();
    assert!(e.to_string().contains("Cannot read"), "{e}");
}
