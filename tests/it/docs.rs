//! PixMo-Docs end to end: `pixmo build docs` on small figures and documents, audited, with the rows'
//! QA forms, metadata and determinism checked through `pixmo sql`.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{AS_OF, card, ok, pixmo, shard_hashes, sql};

/// The default docs spec with small canvases and shards, so debug builds stay fast.
fn docs_spec(dir: &Path) -> PathBuf {
    let spec = include_str!("../../pipelines/pixmo-docs/pipeline.toml")
        .replace("min_side = 400", "min_side = 200")
        .replace("max_side = 1000", "max_side = 320")
        .replace("doc_pixel_per_pt = 1.5", "doc_pixel_per_pt = 1.0")
        .replace("rows_per_shard = 1000", "rows_per_shard = 8")
        .replace("row_group_rows = 64", "row_group_rows = 4");
    let path = dir.join("docs-small.toml");
    std::fs::write(&path, spec).expect("write spec");
    path
}

fn build_docs(spec: &Path, out: &Path, count: u64, extra: &[&str]) -> Output {
    pixmo()
        .args(["build", "docs", "--spec"])
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args([
            "--count",
            &count.to_string(),
            "--seed",
            "3",
            "--as-of",
            AS_OF,
        ])
        .args(["--progress", "quiet", "--jobs", "2"])
        .args(extra)
        .output()
        .expect("run pixmo")
}

/// The single value of a one-row, one-column query.
pub(crate) fn scalar(out: &Path, query: &str) -> String {
    let table = sql(&out.join("docs"), query);
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 2, "expected a header and one row:\n{table}");
    rows[1].trim_matches('|').trim().to_owned()
}

#[test]
fn docs_build_audits_and_rows_carry_both_qa_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = docs_spec(tmp.path());
    let out = tmp.path().join("out");
    ok(&build_docs(&spec, &out, 40, &[]));
    let report = ok(&pixmo().arg("audit").arg(&out).output().unwrap());
    assert!(
        report.contains("PASS") && !report.contains("FAIL"),
        "{report}"
    );

    let rows: u64 = scalar(&out, "SELECT count(*) AS n FROM rows")
        .parse()
        .unwrap();
    let rejects: u64 = scalar(&out, "SELECT count(*) AS n FROM rejects")
        .parse()
        .unwrap();
    assert_eq!(
        rows + rejects,
        40,
        "every record is a row or a recorded reject"
    );
    assert!(rows >= 36, "{rows} rows, {rejects} rejects");
    assert_eq!(
        scalar(
            &out,
            "SELECT count(*) AS n FROM rows WHERE metadata['style'] <> concat('pixmo_docs_', metadata['category'])"
        ),
        "0"
    );
    assert_eq!(
        scalar(
            &out,
            "SELECT count(*) AS n FROM rows WHERE metadata['category'] NOT IN ('charts', 'diagrams', 'tables', 'other') OR metadata['persona'] = '' OR metadata['topic'] = '' OR metadata['figure_type'] = ''"
        ),
        "0"
    );
    // All four PixMo-Docs categories, from both generators (plotters/resvg and typst).
    assert_eq!(
        scalar(
            &out,
            "SELECT count(DISTINCT metadata['category']) AS n FROM rows"
        ),
        "4"
    );
    assert_eq!(
        scalar(
            &out,
            "SELECT count(*) AS n FROM rows WHERE metadata['category'] IN ('tables', 'other') AND (code NOT LIKE '%#set page%' OR metadata['style'] NOT IN ('pixmo_docs_tables', 'pixmo_docs_other'))"
        ),
        "0"
    );
    assert_eq!(
        scalar(
            &out,
            "SELECT count(*) AS n FROM rows WHERE cardinality(questions) <> cardinality(qa_pairs) OR cardinality(qa_pairs) < 3"
        ),
        "0"
    );
    // Both forms hold the same questions and answers, in order.
    assert_eq!(
        scalar(
            &out,
            "SELECT count(*) AS n FROM (SELECT unnest(questions) AS q, unnest(qa_pairs) AS p FROM rows) WHERE q['question'] <> p['question'] OR q['answer'] <> p['answer']"
        ),
        "0"
    );
    // At least one refusal per figure or document, in its generator's wording, and only for
    // unanswerable questions.
    let refusals = scalar(
        &out,
        "SELECT count(DISTINCT image_id) AS n FROM (SELECT image_id, metadata, unnest(qa_pairs) AS p FROM rows) WHERE p['type'] = 'unanswerable' AND p['answer'] = CASE WHEN metadata['category'] IN ('charts', 'diagrams') THEN 'Cannot be determined from the figure.' ELSE 'Cannot be determined from the document.' END",
    );
    assert_eq!(refusals.parse::<u64>().unwrap(), rows);
    assert_eq!(
        scalar(
            &out,
            "SELECT count(*) AS n FROM (SELECT unnest(qa_pairs) AS p FROM rows) WHERE (p['type'] = 'unanswerable') <> (p['answer'] IN ('Cannot be determined from the figure.', 'Cannot be determined from the document.'))"
        ),
        "0"
    );
    // Balanced yes/no answers.
    let yes: f64 = scalar(&out, "SELECT count(*) AS n FROM (SELECT unnest(qa_pairs) AS p FROM rows) WHERE p['type'] = 'yes_no' AND p['answer'] = 'Yes'").parse().unwrap();
    let no: f64 = scalar(&out, "SELECT count(*) AS n FROM (SELECT unnest(qa_pairs) AS p FROM rows) WHERE p['type'] = 'yes_no' AND p['answer'] = 'No'").parse().unwrap();
    assert!(
        yes + no >= 20.0 && (0.25..0.75).contains(&(yes / (yes + no))),
        "{yes} yes, {no} no"
    );
    // Images respect PixMo-Docs' gates and rows name their renderer.
    assert_eq!(
        scalar(
            &out,
            "SELECT count(*) AS n FROM rows WHERE least(width, height) < 128 OR greatest(width, height) > 5 * least(width, height)"
        ),
        "0"
    );
    assert_eq!(
        scalar(
            &out,
            "SELECT count(*) AS n FROM rows WHERE NOT provenance['vlm_free'] OR array_length(provenance['models']) < 1"
        ),
        "0"
    );
    let kinds: u64 = scalar(
        &out,
        "SELECT count(DISTINCT metadata['figure_type']) AS n FROM rows",
    )
    .parse()
    .unwrap();
    assert!(kinds >= 8, "only {kinds} figure types in {rows} rows");
    // The data card says how this copy was made, from the rows' recorded models.
    let card = card(&out, &tmp.path().join("cards"), "docs");
    assert!(
        card.contains("procedural mode: no LLM was used")
            && !card.contains("Text written by text-only LLMs")
            && card.contains("pixmo-gen-typst/2 (typst 0.15.1)"),
        "{card}"
    );
}

#[test]
fn docs_builds_are_byte_identical_and_independent_of_worker_split() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = docs_spec(tmp.path());
    let (a, b, split) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("split"),
    );
    ok(&build_docs(&spec, &a, 20, &[]));
    ok(&build_docs(&spec, &b, 20, &[]));
    let ha = shard_hashes(&a.join("docs"));
    assert!(ha.len() >= 3, "{ha:?}");
    assert_eq!(ha, shard_hashes(&b.join("docs")));
    for i in 0..2 {
        ok(&build_docs(
            &spec,
            &split,
            20,
            &["--num-shards", "2", "--shard-index", &i.to_string()],
        ));
    }
    ok(&pixmo()
        .arg("finalize")
        .arg(split.join("docs"))
        .output()
        .unwrap());
    assert_eq!(ha, shard_hashes(&split.join("docs")));
}

#[test]
fn near_duplicates_are_recorded_rejects_and_growth_is_append_only() {
    let tmp = tempfile::tempdir().unwrap();
    // A loose limit (256 of 1024 bits) so that similar-looking figures count as repeats.
    let spec = docs_spec(tmp.path());
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("near_duplicate_bits = 12", "near_duplicate_bits = 256")
        .replace("rows_per_shard = 8", "rows_per_shard = 40");
    std::fs::write(&spec, text).unwrap();
    let (grown, fresh) = (tmp.path().join("grown"), tmp.path().join("fresh"));
    ok(&build_docs(&spec, &grown, 14, &[]));
    ok(&build_docs(&spec, &grown, 30, &[]));
    ok(&build_docs(&spec, &fresh, 30, &[]));
    let dups: u64 = scalar(
        &fresh,
        "SELECT count(*) AS n FROM rejects WHERE stage = 'dedup' AND kind = 'near_duplicate' AND message LIKE 'Image nearly repeats %'",
    )
    .parse()
    .unwrap();
    let rows: u64 = scalar(&fresh, "SELECT count(*) AS n FROM rows")
        .parse()
        .unwrap();
    assert!(
        dups >= 3 && rows >= 3,
        "{dups} near duplicates, {rows} rows"
    );
    // Asking for near-duplicate checks without the hashes is a config error, before any work.
    let no_hash = tmp.path().join("no-hash.toml");
    std::fs::write(
        &no_hash,
        std::fs::read_to_string(&spec)
            .unwrap()
            .replace("dhash = true", "dhash = false"),
    )
    .unwrap();
    let failed = build_docs(&no_hash, &tmp.path().join("none"), 4, &[]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success() && stderr.contains("set `dhash = true`"),
        "{stderr}"
    );
    // Growth appends a generation: the first run's files are kept byte for byte, and the
    // same growth elsewhere gives the same files (near duplicates are judged per shard, so
    // a grown directory is not the same as one built at once).
    let again = tmp.path().join("again");
    ok(&build_docs(&spec, &again, 14, &[]));
    let first = shard_hashes(&again.join("docs"));
    ok(&build_docs(&spec, &again, 30, &[]));
    let grown_hashes = shard_hashes(&grown.join("docs"));
    for (file, hash) in &first {
        assert_eq!(grown_hashes.get(file), Some(hash), "{file}");
    }
    assert_eq!(grown_hashes, shard_hashes(&again.join("docs")));
}
