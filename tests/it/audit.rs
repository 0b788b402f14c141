//! `pixmo audit`, `pixmo sql` and `pixmo card` on a real build.

use crate::common::{build, card, ok, pixmo, small_spec, sql};

#[test]
fn audit_passes_on_a_build_and_fails_on_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let out = tmp.path().join("out");
    ok(&build(&spec, &out, 25, &[]));
    let report = ok(&pixmo().arg("audit").arg(&out).output().unwrap());
    assert!(
        report.contains("PASS") && !report.contains("FAIL"),
        "{report}"
    );
    let json = ok(&pixmo()
        .arg("audit")
        .arg(&out)
        .arg("--json")
        .output()
        .unwrap());
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(parsed.as_array().is_some_and(|a| a.len() == 1), "{json}");

    let table = sql(
        &out.join("clocks"),
        "SELECT split, count(*) AS n, count(DISTINCT example_id) AS ids FROM rows GROUP BY split ORDER BY split",
    );
    assert!(
        table.contains("train") && table.contains("24") && table.contains("val"),
        "{table}"
    );
    // String functions an auditor reaches for (`substr`, `strpos`) are available.
    let table = sql(
        &out.join("clocks"),
        "SELECT count(*) AS n, sum(CASE WHEN substr(image_sha256, 1, 2) = left(image_sha256, 2) AND strpos(answer, ':') > 0 THEN 1 ELSE 0 END) AS m FROM rows",
    );
    let row = table
        .lines()
        .filter(|l| l.starts_with('|'))
        .nth(1)
        .unwrap_or_default();
    let cells: Vec<&str> = row
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert!(
        cells.len() == 2 && cells[0] == cells[1] && cells[0] != "0",
        "{table}"
    );

    // The card: generic sections plus what pixmo-clocks declares (prose, dial statistics,
    // plots) through its PipelineInfo.
    let cards = tmp.path().join("cards");
    let card = card(&out, &cards, "clocks");
    assert!(
        card.starts_with("---\n") && card.contains("size_categories"),
        "{card}"
    );
    for needle in [
        "pretty_name: PixMo-Clocks (pixmo rebuild)",
        "Every image is procedurally rendered, and **no vision-language model",
        "### Clocks\n\n| | rows | share |",
        "| Face shows seconds |",
        "distinct watch faces (",
        "(clocks/hours.png)",
        "(clocks/minutes.png)",
        "- Watch face designs come from a finite set of procedural styles",
    ] {
        assert!(card.contains(needle), "missing {needle:?} in\n{card}");
    }
    assert!(!card.contains("### Columns") && !card.contains("Text written by text-only LLMs"));
    assert!(cards.join("clocks/hours.png").is_file());

    // Tamper with a committed shard: the audit must fail with exit code 1.
    let victim = out.join("clocks/train/part-00000-00000.parquet");
    let mut bytes = std::fs::read(&victim).unwrap();
    let n = bytes.len();
    bytes[n / 3] ^= 0x55;
    std::fs::write(&victim, bytes).unwrap();
    let failed = pixmo().arg("audit").arg(&out).output().unwrap();
    assert_eq!(
        failed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&failed.stdout)
    );
    assert!(String::from_utf8_lossy(&failed.stdout).contains("FAIL"));
}
