//! `pixmo eval`: the summary on stdout, and bad input as a clear error naming the line.

use crate::common::{ok, pixmo};

#[test]
fn eval_count_prints_a_json_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let gold = tmp.path().join("gold.jsonl");
    let pred = tmp.path().join("pred.jsonl");
    std::fs::write(
        &gold,
        "{\"id\": 1, \"count\": 3}\n{\"id\": 2, \"count\": 0}\n",
    )
    .unwrap();
    std::fs::write(
        &pred,
        "{\"id\": 2, \"answer\": \"There are none.\"}\n{\"id\": 1, \"answer\": \"a total of 4.\"}\n",
    )
    .unwrap();
    let out = pixmo()
        .args(["eval", "count"])
        .args([&pred, &gold])
        .output()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(summary["examples"], 2);
    assert_eq!(summary["exact"], 0.5);
    assert_eq!(summary["close"], 1.0);
    assert_eq!(summary["by_count"]["3"]["exact"], 0.0);
}

#[test]
fn eval_bad_input_is_an_error_with_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let gold = tmp.path().join("gold.jsonl");
    let pred = tmp.path().join("pred.jsonl");
    std::fs::write(
        &gold,
        "{\"id\": \"a\", \"width\": 8, \"height\": 8, \"points\": []}\n\
         {\"id\": \"b\", \"width\": 8, \"height\": 8, \"points\": [{\"x\": 50, \"y\": NaN}]}\n",
    )
    .unwrap();
    std::fs::write(
        &pred,
        "{\"id\": \"a\", \"answer\": \"\"}\n{\"id\": \"b\", \"answer\": \"\"}\n",
    )
    .unwrap();
    let out = pixmo()
        .args(["eval", "points"])
        .args([&pred, &gold])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("gold.jsonl:2: not JSON"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let out = pixmo()
        .args(["eval", "points", "--max-distance", "12"])
        .args([&pred, &gold])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("needs a unit"), "{stderr}");
}
