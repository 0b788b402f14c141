//! Integration tests of pixmo-card on a real tiny Clocks dataset.

mod fixture;

use std::path::Path;

use pixmo_annotation_schema::Dataset;
use pixmo_card::{CardError, write_card};
use serde_json::{Value, json};

/// A valid PNG file: the magic, an IHDR, and more than a header's worth of bytes.
fn assert_png(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{}",
        path.display()
    );
    assert!(
        bytes.len() > 1000,
        "{} is {} bytes",
        path.display(),
        bytes.len()
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().unwrap();
    (reader.info().width, reader.info().height)
}

#[test]
fn card_has_front_matter_counts_and_plots() {
    let f = fixture::build();
    let cards = f.out.join("cards");
    let path = write_card(&f.root, &cards).unwrap();
    assert_eq!(path, cards.join("clocks.md"));
    let card = std::fs::read_to_string(&path).unwrap();
    assert!(card.starts_with("---\nlicense: apache-2.0\n"), "{card}");
    for needle in [
        "task_categories:\n- visual-question-answering\n- image-to-text\n",
        "language:\n- en\n",
        "size_categories:\n- n<1K\n",
        "pretty_name: PixMo-Clocks (pixmo rebuild)\n",
        "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: train/part-*.parquet\n  - split: val\n    path: val/part-*.parquet\n",
        "  - name: image\n    dtype: image\n",
        "  - name: train\n    num_bytes: ",
        "    num_examples: 9\n",
        "    num_examples: 3\n",
        "## Dataset summary",
        "load_dataset(\"parquet\", data_dir=\"OUT/clocks\")",
        "## How it was built",
        "| Run seed | 7 |",
        "| Build time (UTC) | 2023-11-14T22:13:20Z |",
        "| render | `clocks.render` | 1 |",
        "## Statistics",
        "| **total** | 12 | 1 | 4 |",
        "| render | panic | 1 |",
        "| 9 x 6 |",
        "| Face shows seconds | 7 | 58.3% |",
        "3 distinct watch faces (4.0 rows per face).",
        "| dial | 3 |",
        "12 of 12 rows claim it",
        "## Provenance and audit",
        "pixmo audit OUT/clocks",
        "## Limitations",
        "## Citation",
        "arXiv:2409.17146",
    ] {
        assert!(card.contains(needle), "missing {needle:?} in\n{card}");
    }
    for plot in [
        "rows_per_split",
        "image_sizes",
        "rejects",
        "hours",
        "minutes",
    ] {
        assert!(card.contains(&format!("(clocks/{plot}.png)")), "{plot}");
        assert_eq!(
            assert_png(&cards.join(format!("clocks/{plot}.png"))),
            (800, 420)
        );
    }
    // The same shards give the same card and plots, byte for byte.
    let plot = std::fs::read(cards.join("clocks/hours.png")).unwrap();
    write_card(&f.root, &cards).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), card);
    assert_eq!(std::fs::read(cards.join("clocks/hours.png")).unwrap(), plot);
    if let Some(dir) = std::env::var_os("PIXMO_CARD_KEEP") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir.join("clocks")).unwrap();
        std::fs::copy(&path, dir.join("clocks.md")).unwrap();
        for entry in std::fs::read_dir(cards.join("clocks")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join("clocks").join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn unfinalized_run_uses_the_commit_markers() {
    let f = fixture::build();
    std::fs::remove_file(f.layout().manifest_path()).unwrap();
    let cards = f.out.join("cards");
    let card = std::fs::read_to_string(write_card(&f.root, &cards).unwrap()).unwrap();
    assert!(card.contains("not finalized"), "{card}");
    assert!(card.contains("| **total** | 12 | 1 | 4 |"), "{card}");
}

#[test]
fn missing_dataset_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_card(dir.path(), &dir.path().join("cards")).unwrap_err();
    assert!(matches!(err, CardError::NotADataset { .. }), "{err}");
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[test]
fn missing_shard_is_an_error_naming_the_file() {
    let f = fixture::build();
    std::fs::remove_file(f.root.join("val/part-00000-00000.parquet")).unwrap();
    let err = write_card(&f.root, &f.out.join("cards")).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("Could not open `"), "{text}");
    assert!(text.contains("part-00000-00000.parquet"), "{text}");
}

#[test]
fn other_datasets_get_generic_column_statistics() {
    let f = fixture::build_dataset(Dataset::Count, |_, record, row: &mut Value| {
        let obj = row.as_object_mut().unwrap();
        let clock_columns = [
            "example_id",
            "watchface_id",
            "watchface_name",
            "watch_time",
            "time_format",
            "shows_seconds",
            "hour_visible",
            "minute_visible",
            "second_visible",
            "text",
            "question",
            "answer",
        ];
        let id = obj["example_id"].clone();
        for column in clock_columns {
            obj.remove(column);
        }
        obj.insert("id".into(), id);
        obj.insert("image_url".into(), Value::Null);
        obj.insert("count".into(), json!(record % 4));
        obj.insert(
            "points".into(),
            json!(vec![json!({"x": 10.0, "y": 20.5}); (record % 4) as usize]),
        );
        obj.insert("label".into(), json!(["cat", "dog"][(record % 2) as usize]));
    });
    let cards = f.out.join("cards");
    let path = write_card(&f.root.parent().unwrap().join("count"), &cards).unwrap();
    assert_eq!(path, cards.join("count.md"));
    let card = std::fs::read_to_string(&path).unwrap();
    for needle in [
        "pretty_name: PixMo-Count (pixmo rebuild)",
        "  - name: points\n    list:\n    - name: x\n      dtype: float64\n",
        "### Columns",
        "| `id` | Utf8 | 0 | 12 distinct, 18.5 characters on average |",
        "| `image_url` | Utf8 | 12 | all null |",
        "| `count` | Int32 | 0 | min 0, mean 1.250, max 3 |",
        "1.25 items on average",
        "| `image_sha256` | Utf8 | 0 | 12 distinct",
        "| `label` | Utf8 | 0 | 2 distinct, 3.0 characters on average |",
    ] {
        assert!(card.contains(needle), "missing {needle:?} in\n{card}");
    }
    assert!(!card.contains("### Clocks"));
    assert!(!card.contains("| `width` |"), "covered by the image sizes");
    assert!(!cards.join("count/hours.png").exists());
    assert_png(&cards.join("count/rows_per_split.png"));
}
