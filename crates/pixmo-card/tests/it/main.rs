//! Integration tests of pixmo-card on a real tiny dataset (the fixture writes rows of the
//! Clocks schema; the card knows nothing of it but what a test extension adds).

mod fixture;

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{AsArray, RecordBatch};
use pixmo_annotation_schema::Dataset;
use pixmo_card::{
    About, BarChart, CardContext, CardError, CardExtension, NoExtension, Plot, pct, strings,
    write_card,
};
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

/// The prose a test pipeline writes for its card.
const ABOUT: About = About {
    how_made: "Every image is a test pattern",
    limitations: &["Test patterns are not photographs."],
    license_notes: &["The test font is vendored under the SIL Open Font License."],
    ..About::new("PixMo-Test", "PixMo-Test is a fixture for the card.")
};

/// A card extension as a pipeline crate writes one: it streams a column the card does not
/// know, and adds a paragraph, a statistics section, a plot and a limitation.
#[derive(Default)]
struct FormatCard {
    formats: BTreeMap<String, u64>,
    batches: usize,
}

impl CardExtension for FormatCard {
    fn columns(&self) -> Vec<&'static str> {
        vec!["time_format"]
    }

    fn column_statistics(&self) -> bool {
        false
    }

    fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> pixmo_card::Result<()> {
        self.batches += 1;
        let formats = strings(batch, "time_format", path)?;
        for value in formats.as_string::<i32>().iter().flatten() {
            *self.formats.entry(value.to_string()).or_default() += 1;
        }
        Ok(())
    }

    fn summary_notes(&self, card: &CardContext<'_>) -> Vec<String> {
        vec![format!("A note on `{}` from its pipeline.", card.dataset)]
    }

    fn statistics(&self, card: &CardContext<'_>) -> String {
        let mut out = String::from("### Formats\n\n");
        for (format, n) in &self.formats {
            out.push_str(&format!("- `{format}`: {n} ({})\n", pct(*n, card.rows)));
        }
        out + "\n"
    }

    fn plots(&self) -> Vec<Plot> {
        vec![Plot {
            file: "formats.png".into(),
            caption: "Rows per format".into(),
            chart: BarChart {
                title: "Rows per format".into(),
                x_label: "format".into(),
                y_label: "rows".into(),
                labels: self.formats.keys().cloned().collect(),
                values: self.formats.values().copied().collect(),
                label_every: 1,
            },
        }]
    }

    fn limitations(&self, card: &CardContext<'_>) -> Vec<String> {
        vec![format!("LLM used: {:?}.", card.llm_used)]
    }
}

#[test]
fn card_has_front_matter_counts_and_plots() {
    let f = fixture::build();
    let cards = f.out.join("cards");
    // A plot left by an older card is removed.
    std::fs::create_dir_all(cards.join("clocks")).unwrap();
    std::fs::write(cards.join("clocks/stale.png"), b"old").unwrap();
    let mut extension = FormatCard::default();
    let path = write_card(&f.root, &cards, &ABOUT, &mut extension).unwrap();
    assert_eq!(path, cards.join("clocks.md"));
    assert!(extension.batches >= 4, "every shard is streamed");
    let card = std::fs::read_to_string(&path).unwrap();
    assert!(card.starts_with("---\nlicense: apache-2.0\n"), "{card}");
    for needle in [
        "task_categories:\n- visual-question-answering\n- image-to-text\n",
        "language:\n- en\n",
        "size_categories:\n- n<1K\n",
        "pretty_name: PixMo-Test (pixmo rebuild)\n",
        "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: train/part-*.parquet\n  - split: val\n    path: val/part-*.parquet\n",
        "  - name: image\n    dtype: image\n",
        "  - name: train\n    num_bytes: ",
        "    num_examples: 9\n",
        "    num_examples: 3\n",
        "## Dataset summary",
        "PixMo-Test is a fixture for the card.\n\nA note on `clocks` from its pipeline.\n",
        "Every image is a test pattern, and **no vision-language model saw any image**",
        "load_dataset(\"parquet\", data_dir=\"OUT/clocks\")",
        "## How it was built",
        "| Run seed | 7 |",
        "| Build time (UTC) | 2023-11-14T22:13:20Z |",
        "| render | `clocks.render` | 1 |",
        "## Statistics",
        "| **total** | 12 | 1 | 4 |",
        "| render | panic | 1 |",
        "| 9 x 6 |",
        "### Formats\n\n- `h:mm:ss`: 12 (100.0%)\n",
        "12 of 12 rows claim it",
        "## Provenance and audit",
        "pixmo audit OUT/clocks",
        "## Limitations",
        "- Test patterns are not photographs.\n- This is a rebuild",
        "- LLM used: Some(false).",
        "## Licence\n\n- The test font is vendored",
        "released under `apache-2.0`.",
        "## Columns\n\n| column | type | description |",
        "| `image` | image | Embedded image (Hugging Face `Image` layout). |",
        "| `provenance` | struct |",
        "## Rebuild",
        " --seed 7 --as-of ",
        "pixmo verify OUT/clocks\npixmo card OUT/clocks --cards-dir CARDS",
        "## Citation",
        "arXiv:2409.17146",
    ] {
        assert!(card.contains(needle), "missing {needle:?} in\n{card}");
    }
    assert!(
        !card.contains("### Columns"),
        "the extension turned them off"
    );
    for plot in ["rows_per_split", "image_sizes", "rejects", "formats"] {
        assert!(card.contains(&format!("(clocks/{plot}.png)")), "{plot}");
        assert_eq!(
            assert_png(&cards.join(format!("clocks/{plot}.png"))),
            (800, 420)
        );
    }
    assert!(!cards.join("clocks/stale.png").exists());
    // The same shards give the same card and plots, byte for byte.
    let plot = std::fs::read(cards.join("clocks/formats.png")).unwrap();
    write_card(&f.root, &cards, &ABOUT, &mut FormatCard::default()).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), card);
    assert_eq!(
        std::fs::read(cards.join("clocks/formats.png")).unwrap(),
        plot
    );
    // Without the extension the card is the generic one, and its plot is gone.
    let generic =
        std::fs::read_to_string(write_card(&f.root, &cards, &ABOUT, &mut NoExtension).unwrap())
            .unwrap();
    assert!(generic.contains("### Columns") && !generic.contains("### Formats"));
    assert!(!cards.join("clocks/formats.png").exists());
    assert!(generic.contains("pixmo build clocks --count 13 --seed 7 --as-of "));
}

#[test]
fn a_collected_dataset_is_rebuilt_from_its_source_not_a_count() {
    struct Inbox;
    impl CardExtension for Inbox {
        fn records_from(&self) -> Option<(&'static str, &'static str)> {
            Some(("--inbox", "INBOX"))
        }
    }
    let f = fixture::build();
    let card = std::fs::read_to_string(
        write_card(&f.root, &f.out.join("cards"), &ABOUT, &mut Inbox).unwrap(),
    )
    .unwrap();
    assert!(
        card.contains(
            "pixmo build clocks --inbox INBOX --seed 7 --as-of 2023-11-14T22:13:20Z --out OUT"
        ),
        "{card}"
    );
    assert!(card.contains("The records come from `INBOX`"), "{card}");
    assert!(!card.contains("--count"), "{card}");
}

#[test]
fn an_extension_error_names_the_file_and_column() {
    struct Wants;
    impl CardExtension for Wants {
        fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> pixmo_card::Result<()> {
            strings(batch, "no_such_column", path).map(|_| ())
        }
    }
    let f = fixture::build();
    let err = write_card(&f.root, &f.out.join("cards"), &ABOUT, &mut Wants).unwrap_err();
    assert!(matches!(err, CardError::Column { .. }), "{err}");
    assert!(err.to_string().contains("no_such_column"), "{err}");
}

#[test]
fn unfinalized_run_uses_the_commit_markers() {
    let f = fixture::build();
    std::fs::remove_file(f.layout().manifest_path()).unwrap();
    let cards = f.out.join("cards");
    let card =
        std::fs::read_to_string(write_card(&f.root, &cards, &ABOUT, &mut NoExtension).unwrap())
            .unwrap();
    assert!(card.contains("not finalized"), "{card}");
    assert!(card.contains("| **total** | 12 | 1 | 4 |"), "{card}");
}

#[test]
fn missing_dataset_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_card(
        dir.path(),
        &dir.path().join("cards"),
        &ABOUT,
        &mut NoExtension,
    )
    .unwrap_err();
    assert!(matches!(err, CardError::NotADataset { .. }), "{err}");
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[test]
fn missing_shard_is_an_error_naming_the_file() {
    let f = fixture::build();
    std::fs::remove_file(f.root.join("val/part-00000-00000.parquet")).unwrap();
    let err = write_card(&f.root, &f.out.join("cards"), &ABOUT, &mut NoExtension).unwrap_err();
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
    let about = About::new("PixMo-Count", "Counts.");
    let path = write_card(
        &f.root.parent().unwrap().join("count"),
        &cards,
        &about,
        &mut NoExtension,
    )
    .unwrap();
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
    assert!(
        !card.contains("| `width` | UInt32 |"),
        "covered by the image sizes"
    );
    assert!(card.contains("| `width` | uint32 | Image width in pixels. |"));
    assert!(!cards.join("count/hours.png").exists());
    assert_png(&cards.join("count/rows_per_split.png"));
}
