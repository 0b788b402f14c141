//! Integration tests of pixmo-audit: a real tiny Clocks dataset, clean and corrupted.

mod fixture;

use std::path::Path;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use pixmo_annotation_schema::Dataset;
use pixmo_audit::{AuditReport, audit, find_datasets, sql};
use serde_json::json;

fn check<'a>(report: &'a AuditReport, name: &str) -> &'a pixmo_audit::Check {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check `{name}` in\n{}", report.render()))
}

/// Asserts exactly the named checks fail, and each detail mentions `needle`.
fn assert_fails(report: &AuditReport, failing: &[&str], needle: &str) {
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(failed, failing, "\n{}", report.render());
    for name in failing {
        assert!(
            check(report, name).detail.contains(needle),
            "`{name}` detail lacks `{needle}`:\n{}",
            report.render()
        );
    }
    assert!(!report.passed());
}

async fn audited(root: &Path) -> AuditReport {
    audit(root).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn clean_dataset_passes_every_check() {
    let f = fixture::build();
    let report = audited(&f.root).await;
    eprintln!("{}", report.render());
    assert!(report.passed(), "{}", report.render());
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "manifest",
            "row_counts",
            "schema",
            "provenance_complete",
            "image_hashes",
            "unique_ids",
            "duplicate_images",
            "vlm_free",
            "rejects"
        ]
    );
    assert_eq!((report.rows, report.rejects), (12, 1));
    assert_eq!(report.dataset, "clocks");
    assert!(
        check(&report, "rejects").detail.contains("render/panic: 1"),
        "{}",
        report.render()
    );
    assert!(
        check(&report, "image_hashes")
            .detail
            .starts_with("12 images")
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["checks"][0]["name"], "manifest");
    assert_eq!(json["rows"], 12);
}

/// PixMo-Count stores pixels: points beyond 100 inside a 160 px image pass, a point beyond
/// its image fails `points` (and nothing else), naming the row.
#[tokio::test(flavor = "multi_thread")]
async fn count_points_must_lie_inside_their_image_in_pixels() {
    let f = fixture::build_dataset(Dataset::Count, 10, 3, 4, 160, |_, _, _| {});
    let report = audited(&f.root).await;
    assert!(report.passed(), "{}", report.render());
    assert_eq!(
        check(&report, "points").detail,
        "every point lies inside its image (pixels)"
    );
    assert!(!report.render().contains("unit="), "{}", report.render());

    let f = fixture::build_dataset(Dataset::Count, 10, 3, 4, 160, |split, record, row| {
        if split == "val" && record == 1 {
            let width = row["width"].as_f64().unwrap();
            row["points"][0]["x"] = json!(width + 3.0);
        }
    });
    let report = audited(&f.root).await;
    assert_fails(
        &report,
        &["points"],
        "1 row with a point outside the image's pixels (e.g. `count-val-000001`)",
    );
    // y is bounded by the height, not the width (the fixture's images are wider than tall).
    let f = fixture::build_dataset(Dataset::Count, 10, 3, 4, 160, |split, record, row| {
        if split == "val" && record == 2 {
            let height = row["height"].as_f64().unwrap();
            assert!(row["width"].as_f64().unwrap() > height + 1.0);
            row["points"][1]["y"] = json!(height + 1.0);
        }
    });
    let report = audited(&f.root).await;
    assert_fails(
        &report,
        &["points"],
        "1 row with a point outside the image's pixels (e.g. `count-val-000002`)",
    );
    // The clocks fixture has no points: no such check.
    let clocks = audited(&fixture::build().root).await;
    assert!(clocks.checks.iter().all(|c| c.name != "points"));
}

/// PixMo-Points stores percent: 99.5 % passes in a 40 px image (a pixel bound would fail
/// it), and 100.5 fails however large the image (a pixel bound would pass it).
#[tokio::test(flavor = "multi_thread")]
async fn points_must_lie_inside_their_image_in_percent() {
    let f = fixture::build_dataset(Dataset::Points, 10, 3, 4, 40, |_, _, row| {
        assert!(row["width"].as_f64().unwrap() < 99.5 && row["height"].as_f64().unwrap() < 99.5);
    });
    let report = audited(&f.root).await;
    assert!(report.passed(), "{}", report.render());
    assert_eq!(
        check(&report, "points").detail,
        "every point lies inside its image (percent)"
    );

    let f = fixture::build_dataset(Dataset::Points, 10, 3, 4, 160, |split, record, row| {
        if split == "train" && record == 3 {
            row["points"][1]["y"] = json!(100.5);
        }
    });
    let report = audited(&f.root).await;
    assert_fails(
        &report,
        &["points"],
        "1 row with a point outside 0-100 percent (e.g. `points-train-000003`)",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn clocks_have_no_points_check_either() {
    let clocks = audited(&fixture::build().root).await;
    assert!(clocks.checks.iter().all(|c| c.name != "points"));
}

#[tokio::test(flavor = "multi_thread")]
async fn flipped_byte_in_a_shard_fails_the_manifest() {
    let f = fixture::build();
    let path = f.root.join("train/part-00000-00001.parquet");
    let mut bytes = std::fs::read(&path).unwrap();
    // Inside the first page of image bytes (uncompressed), not the footer.
    bytes[200] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let report = audited(&f.root).await;
    let manifest = check(&report, "manifest");
    assert!(!manifest.passed, "{}", report.render());
    assert!(
        manifest
            .detail
            .contains("`train/part-00000-00001.parquet` has sha256"),
        "{}",
        report.render()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_image_hash_fails_image_hashes() {
    let f = fixture::build_with(|split, record, row| {
        if split == "val" && record == 1 {
            row["image_sha256"] = json!("0".repeat(64));
        }
    });
    let report = audited(&f.root).await;
    assert_fails(&report, &["image_hashes"], "`clocks-val-000001`");
}

#[tokio::test(flavor = "multi_thread")]
async fn image_size_must_match_its_header() {
    let f = fixture::build_with(|split, record, row| {
        if split == "train" && record == 2 {
            row["width"] = json!(640);
        }
    });
    let report = audited(&f.root).await;
    assert_fails(&report, &["image_hashes"], "header size differs");
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_id_across_splits_fails_unique_ids() {
    let f = fixture::build_with(|split, record, row| {
        if split == "val" && record == 0 {
            row["example_id"] = json!("clocks-train-000000");
        }
    });
    let report = audited(&f.root).await;
    assert_fails(&report, &["unique_ids"], "shared across splits");
    assert!(
        check(&report, "unique_ids")
            .detail
            .contains("`clocks-train-000000`")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_images_above_one_percent_fail() {
    let image = fixture::png(8, 6, 1);
    let sha = pixmo_core::sha256_hex(&image);
    let f = fixture::build_with(move |_, record, row| {
        if record < 2 {
            row["image"]["bytes"] = json!(hex::encode(&image));
            row["image_sha256"] = json!(sha);
            row["width"] = json!(8);
        }
    });
    let report = audited(&f.root).await;
    assert_fails(&report, &["duplicate_images"], "3 of 12 rows");
}

#[tokio::test(flavor = "multi_thread")]
async fn vlm_model_contradicts_the_vlm_free_claim() {
    let f = fixture::build_with(|split, record, row| {
        if split == "train" && record == 3 {
            let models = row["provenance"]["models"].as_array_mut().unwrap();
            models.push(json!({
                "stage": "caption", "kind": "vlm", "name": "some-vlm",
                "file_sha256": "b".repeat(64), "prompt_template_id": null,
                "prompt_template_sha256": null, "parameters": null,
            }));
        }
    });
    let report = audited(&f.root).await;
    assert_fails(&report, &["vlm_free"], "`clocks-train-000003`");
    assert!(
        check(&report, "vlm_free")
            .detail
            .contains("a model is a VLM")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stage_using_a_vlm_or_a_false_claim_fails_vlm_free() {
    let f = fixture::build_with(|split, record, row| {
        if split == "val" && record == 2 {
            row["provenance"]["stages"][0]["uses_vlm"] = json!(true);
        }
        if split == "val" && record == 0 {
            row["provenance"]["vlm_free"] = json!(false);
        }
    });
    let report = audited(&f.root).await;
    eprintln!("{}", report.render());
    assert_fails(&report, &["vlm_free"], "");
    let detail = &check(&report, "vlm_free").detail;
    assert!(
        detail.contains(
            "1 row claiming vlm_free although a stage used a VLM (e.g. `clocks-val-000002`)"
        ),
        "{detail}"
    );
    assert!(
        detail.contains("1 row whose provenance.vlm_free is not true (e.g. `clocks-val-000000`)"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_run_id_fails_provenance() {
    let f = fixture::build_with(|split, record, row| {
        if split == "train" && record == 7 {
            row["provenance"]["run_id"] = json!("");
        }
    });
    let report = audited(&f.root).await;
    assert_fails(&report, &["provenance_complete"], "`clocks-train-000007`");
    let detail = &check(&report, "provenance_complete").detail;
    assert!(
        detail.contains("with an empty provenance.run_id"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn llm_without_prompt_template_and_bad_source_hash_fail_provenance() {
    let f = fixture::build_with(|split, record, row| {
        if split == "train" && record == 0 {
            let models = row["provenance"]["models"].as_array_mut().unwrap();
            models.push(json!({
                "stage": "qa", "kind": "llm-text", "name": "SmolLM2",
                "file_sha256": "b".repeat(64), "prompt_template_id": "qa.v1",
                "prompt_template_sha256": null, "parameters": null,
            }));
            row["provenance"]["sources"][0]["sha256"] = json!("not-a-hash");
            row["provenance"]["seed"] = json!(8);
        }
    });
    let report = audited(&f.root).await;
    assert_fails(&report, &["provenance_complete"], "");
    let detail = &check(&report, "provenance_complete").detail;
    for needle in [
        "with an `llm-text` model lacking",
        "with a source lacking a hex sha256",
        "whose provenance.seed is not the run seed 7",
    ] {
        assert!(detail.contains(needle), "{needle}: {detail}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_marker_fails_the_manifest() {
    let f = fixture::build();
    let id = pixmo_shards::ShardId {
        split: "train".into(),
        generation: 0,
        index: 2,
        start: 8,
        end: 10,
    };
    std::fs::remove_file(f.layout().marker_path(&id)).unwrap();
    let report = audited(&f.root).await;
    assert_fails(
        &report,
        &["manifest"],
        "`train` shard part-00000-00002 is in manifest.json but has no commit marker",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stray_parquet_fails_the_manifest() {
    let f = fixture::build();
    std::fs::copy(
        f.root.join("val/part-00000-00000.parquet"),
        f.root.join("val/part-00001-00000.parquet"),
    )
    .unwrap();
    let report = audited(&f.root).await;
    assert_fails(
        &report,
        &["manifest"],
        "stray file `val/part-00001-00000.parquet`",
    );
    // Stray files are not read: counts stay those of the run.
    assert_eq!(report.rows, 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_manifest_fails_but_the_rest_still_runs() {
    let f = fixture::build();
    std::fs::remove_file(f.layout().manifest_path()).unwrap();
    let report = audited(&f.root).await;
    assert_fails(&report, &["manifest"], "run `pixmo finalize`");
    assert_eq!(report.rows, 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn not_a_dataset_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = audit(dir.path()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with('`') && text.contains("holds no pixmo dataset"),
        "{text}"
    );
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_groups_rows_by_split_and_sees_every_table() {
    let f = fixture::build();
    // `dir` may be OUT with one dataset: plain table names.
    assert_eq!(find_datasets(&f.out), vec![f.root.clone()]);
    let batches = sql(
        &f.out,
        "SELECT split, count(*) AS n, sum(shows_seconds::int) AS s FROM rows GROUP BY split ORDER BY split",
    )
    .await
    .unwrap();
    let table = pixmo_audit::pretty(&batches);
    let want = [
        "+-------+---+---+",
        "| split | n | s |",
        "+-------+---+---+",
        "| train | 9 | 5 |",
        "| val   | 3 | 2 |",
        "+-------+---+---+",
    ];
    assert_eq!(table, want.join("\n"), "\n{table}");

    let scalar = |batches: Vec<datafusion::arrow::array::RecordBatch>| -> i64 {
        let col = datafusion::arrow::compute::cast(
            batches[0].column(0),
            &datafusion::arrow::datatypes::DataType::Int64,
        )
        .unwrap();
        assert_eq!(col.len(), 1);
        col.as_primitive::<Int64Type>().value(0)
    };
    let q = |query: &'static str| sql(&f.root, query);
    assert_eq!(scalar(q("SELECT count(*) FROM shards").await.unwrap()), 4);
    assert_eq!(
        scalar(
            q("SELECT sum(rows) FROM shards WHERE split = 'train'")
                .await
                .unwrap()
        ),
        9
    );
    assert_eq!(
        scalar(
            q("SELECT count(*) FROM rejects WHERE stage = 'render'")
                .await
                .unwrap()
        ),
        1
    );
    assert_eq!(scalar(q("SELECT count(*) FROM val").await.unwrap()), 3);
    assert_eq!(
        scalar(
            q("SELECT count(DISTINCT provenance['run_id']) FROM rows")
                .await
                .unwrap()
        ),
        1
    );

    let err = sql(&f.root, "SELECT nope FROM rows").await.unwrap_err();
    assert!(err.to_string().starts_with("Query failed on `"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_prefixes_tables_when_a_folder_holds_several_datasets() {
    let f = fixture::build();
    copy_dir(&f.root, &f.out.join("clocks2"));
    assert_eq!(find_datasets(&f.out).len(), 2);
    let batches = sql(
        &f.out,
        "SELECT (SELECT count(*) FROM clocks_rows) + (SELECT count(*) FROM clocks2_train) AS n",
    )
    .await
    .unwrap();
    assert_eq!(pixmo_audit::pretty(&batches).lines().nth(3), Some("| 21 |"));
    assert!(sql(&f.out, "SELECT * FROM rows").await.is_err());
}

/// `pixmo sql` only reads: statements that write files, read arbitrary files through a new
/// table, or change the session are refused by name before anything runs.
#[tokio::test(flavor = "multi_thread")]
async fn sql_is_read_only() {
    let f = fixture::build();
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("x.csv");
    let refused = |query: String, statement: &'static str, kind: pixmo_audit::Refused| {
        let root = f.root.clone();
        async move {
            let err = sql(&root, &query).await.unwrap_err();
            match &err {
                pixmo_audit::AuditError::ReadOnly {
                    statement: s,
                    kind: k,
                } => assert_eq!((s.as_str(), *k), (statement, kind), "{err}"),
                other => panic!("`{query}` was not refused as read-only: {other:?}"),
            }
            let text = err.to_string();
            assert!(
                text.starts_with("pixmo sql is read-only:") && text.contains(statement),
                "{text}"
            );
            text
        }
    };
    let text = refused(
        format!("COPY (SELECT 1) TO '{}' STORED AS CSV", target.display()),
        "COPY",
        pixmo_audit::Refused::Dml,
    )
    .await;
    assert!(text.contains("(DML)"), "{text}");
    assert!(
        !target.exists(),
        "a refused COPY wrote `{}`",
        target.display()
    );
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    refused(
        "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'".into(),
        "CREATE EXTERNAL TABLE",
        pixmo_audit::Refused::Ddl,
    )
    .await;
    refused(
        "SET datafusion.execution.batch_size = 1".into(),
        "SET",
        pixmo_audit::Refused::Statement,
    )
    .await;
    refused(
        "CREATE VIEW v AS SELECT 1".into(),
        "CREATE VIEW",
        pixmo_audit::Refused::Ddl,
    )
    .await;
    // A refused statement inside EXPLAIN is named by DataFusion's plan name.
    let err = sql(
        &f.root,
        &format!(
            "EXPLAIN COPY (SELECT 1) TO '{}' STORED AS CSV",
            target.display()
        ),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, pixmo_audit::AuditError::ReadOnly { .. }),
        "{err:?}"
    );
    assert!(!target.exists());
    // Reading still works, including SHOW TABLES and DESCRIBE.
    let batches = sql(&f.root, "SELECT count(*) AS n FROM rows")
        .await
        .unwrap();
    assert_eq!(pixmo_audit::pretty(&batches).lines().nth(3), Some("| 12 |"));
    assert!(sql(&f.root, "SHOW TABLES").await.is_ok());
    assert!(sql(&f.root, "DESCRIBE rows").await.is_ok());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Scale check, not run by default: `PIXMO_AUDIT_SCALE_ROWS=20000 cargo test -p pixmo-audit
/// --test it -- --ignored --nocapture audit_at_scale`. With `PIXMO_AUDIT_SCALE_KEEP=1` the
/// dataset stays on disk (for measuring memory with `/usr/bin/time -v` in a fresh process).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "slow; a scale check run by hand"]
async fn audit_at_scale() {
    let rows: u64 = std::env::var("PIXMO_AUDIT_SCALE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let start = std::time::Instant::now();
    let f = fixture::build_sized(rows, rows / 32, 1000, 96, |_, _, _| {});
    eprintln!("built {rows} rows in {:?}", start.elapsed());
    let start = std::time::Instant::now();
    let report = audited(&f.root).await;
    eprintln!("{}audited in {:?}", report.render(), start.elapsed());
    assert!(report.passed());
    if std::env::var_os("PIXMO_AUDIT_SCALE_KEEP").is_some() {
        eprintln!("kept {}", f.keep().display());
    }
}
