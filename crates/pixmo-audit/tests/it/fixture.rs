//! A tiny, real Clocks (or Count) dataset written through pixmo-shards, without the
//! generators: small PNGs (so hashes and header sizes are real), rows decoded from JSON
//! against the dataset schema, rejects, commit markers, run state and a finalized manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use pixmo_annotation_schema::{Dataset, SCHEMA_VERSION};
use pixmo_shards::{
    DatasetLayout, DatasetManifest, Generation, RunIdentity, RunState, ShardMarker, ShardWriter,
    WriterSettings, rejects_schema,
};
use serde_json::{Value, json};

/// Record indices rejected in the train split (one per run, by stage `render`).
pub const REJECTED_TRAIN_INDEX: u64 = 5;

/// A built fixture; the folder is removed on drop.
pub struct Fixture {
    _dir: tempfile::TempDir,
    /// `OUT`.
    pub out: PathBuf,
    /// `OUT/clocks`.
    pub root: PathBuf,
}

impl Fixture {
    /// Keeps the folder on disk; returns the dataset root.
    #[allow(dead_code)]
    pub fn keep(self) -> PathBuf {
        let _ = self._dir.keep();
        self.root
    }

    /// The layout of the dataset.
    pub fn layout(&self) -> DatasetLayout {
        DatasetLayout {
            root: self.root.clone(),
        }
    }
}

/// Splits: train 10 records (one rejected), val 3; 4 records per shard.
pub fn build() -> Fixture {
    build_with(|_, _, _| {})
}

/// [`build`] with a hook that may change each row's JSON before it is written.
pub fn build_with(edit: impl Fn(&str, u64, &mut Value)) -> Fixture {
    build_sized(10, 3, 4, 8, edit)
}

/// A dataset of `train` and `val` records, `rows_per_shard` per shard, with images about
/// `side` pixels wide.
pub fn build_sized(
    train: u64,
    val: u64,
    rows_per_shard: u64,
    side: u32,
    edit: impl Fn(&str, u64, &mut Value),
) -> Fixture {
    build_dataset(Dataset::Clocks, train, val, rows_per_shard, side, edit)
}

/// [`build_sized`] for `dataset`: `Clocks`, `Count` (two points per row in pixels, one
/// near the right edge and one near the bottom) or `Points` (the same two points in percent).
pub fn build_dataset(
    dataset: Dataset,
    train: u64,
    val: u64,
    rows_per_shard: u64,
    side: u32,
    edit: impl Fn(&str, u64, &mut Value),
) -> Fixture {
    let name = dataset.name();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let layout = DatasetLayout::new(&out, name);
    let identity = RunIdentity {
        pipeline: name.into(),
        dataset: name.into(),
        config_hash: "c".repeat(64),
        seed: 7,
        code_version: "pixmo 0.1.0".into(),
        schema_version: SCHEMA_VERSION.into(),
        run_id: "a".repeat(64),
        rows_per_shard,
    };
    let generation = Generation {
        index: 0,
        counts: BTreeMap::from([("train".into(), train), ("val".into(), val)]),
        as_of_us: 1_700_000_000_000_000,
    };
    pixmo_shards::create_identity(&layout, &identity).unwrap();
    pixmo_shards::create_generation(&layout, &generation).unwrap();
    let run = RunState::new(identity, vec![generation]);
    let schema = dataset.schema().schema;
    for (split, _) in run.counts.clone() {
        for id in run.shards().into_iter().filter(|s| s.split == split) {
            let (index, start, end) = (id.index, id.start, id.end);
            let mut rows = Vec::new();
            let mut rejects = Vec::new();
            for record in start..end {
                if split == "train" && record == REJECTED_TRAIN_INDEX {
                    rejects.push(json!({
                        "record_id": format!("{name}-{split}-{record:06}"),
                        "split": split, "record_index": record,
                        "stage": "render", "kind": "panic", "message": "boom",
                    }));
                    continue;
                }
                let mut row = row(&run, &split, record, side);
                if dataset == Dataset::Count {
                    row = count_row(row, &split, record);
                }
                if dataset == Dataset::Points {
                    row = points_row(row, &split, record);
                }
                edit(&split, record, &mut row);
                rows.push(row);
            }
            let file = format!("{}.parquet", id.stem());
            let data = write(&layout.data_path(&id), &schema, &rows);
            let rejected = write(&layout.rejects_path(&id), &rejects_schema(), &rejects);
            ShardMarker {
                dataset: name.into(),
                split: split.clone(),
                shard_index: index,
                generation: 0,
                start,
                end,
                file: format!("{split}/{file}"),
                rows: data.rows,
                bytes: data.bytes,
                sha256: data.sha256,
                rejects_file: layout.relative(&rejected.path),
                rejects: rejected.rows,
                rejects_bytes: rejected.bytes,
                rejects_sha256: rejected.sha256,
                seed: run.seed,
                config_hash: run.config_hash.clone(),
                code_version: run.code_version.clone(),
                schema_version: SCHEMA_VERSION.into(),
                run_id: run.run_id.clone(),
                committed_at: "2023-11-14T22:13:20Z".into(),
                seconds: 0.25,
            }
            .store(&layout)
            .unwrap();
        }
    }
    DatasetManifest::finalize(&layout).unwrap().unwrap();
    Fixture {
        _dir: dir,
        root: layout.root.clone(),
        out,
    }
}

fn write(
    path: &Path,
    schema: &datafusion::arrow::datatypes::SchemaRef,
    rows: &[Value],
) -> pixmo_shards::writer::WrittenFile {
    let mut writer =
        ShardWriter::create(path, Arc::clone(schema), &WriterSettings::default()).unwrap();
    if !rows.is_empty() {
        writer.write(batch(schema, rows)).unwrap();
    }
    writer.finish().unwrap()
}

fn batch(schema: &datafusion::arrow::datatypes::SchemaRef, rows: &[Value]) -> RecordBatch {
    let mut decoder = arrow_json::ReaderBuilder::new(Arc::clone(schema))
        .with_batch_size(rows.len())
        .build_decoder()
        .unwrap();
    decoder.serialize(rows).unwrap();
    decoder.flush().unwrap().unwrap()
}

/// A small RGB PNG whose pixels depend on `seed`.
pub fn png(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    // xorshift noise: distinct, barely compressible images.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let pixels: Vec<u8> = (0..width * height * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    bytes
}

fn hex64(text: &str) -> String {
    pixmo_core::sha256_hex(text.as_bytes())
}

/// Watch face names by `record % 3`.
const FACES: [&str; 3] = ["Round steel dial", "Square gold dial", "Round roman dial"];

/// One valid row.
fn row(run: &RunState, split: &str, record: u64, side: u32) -> Value {
    let seed = record + if split == "val" { 1 << 32 } else { 0 };
    let (width, height) = (side + (record % 2) as u32, side * 3 / 4);
    let image = png(width, height, seed);
    let sha = pixmo_core::sha256_hex(&image);
    let (hour, minute, second) = ((record * 5) % 24, (record * 7) % 60, record % 60);
    let label = format!(
        "{}:{minute:02}:{second:02}",
        if hour % 12 == 0 { 12 } else { hour % 12 }
    );
    let stage = |name: &str, kind: &str| json!({ "name": name, "kind": kind, "version": "1", "config_hash": hex64(kind), "uses_vlm": false });
    json!({
        "example_id": format!("clocks-{split}-{record:06}"),
        "watchface_id": format!("face-{}", record % 3),
        "watchface_name": FACES[(record % 3) as usize],
        "watch_time": format!("{hour:02}:{minute:02}:{second:02}"),
        "time_format": "h:mm:ss",
        "shows_seconds": record.is_multiple_of(2),
        "hour_visible": 1,
        "minute_visible": 1,
        "second_visible": i32::from(record.is_multiple_of(2)),
        "text": label,
        "question": "What time does the watch show?",
        "answer": label,
        "image": { "bytes": hex::encode(&image), "path": format!("{sha}.png") },
        "image_sha256": sha,
        "width": width,
        "height": height,
        "provenance": {
            "schema_version": SCHEMA_VERSION,
            "code_version": run.code_version,
            "pipeline": run.pipeline,
            "run_id": run.run_id,
            "seed": run.seed,
            "record_seed": record * 1000 + 1,
            "record_index": record,
            "config_hash": run.config_hash,
            "stages": [stage("sample", "clocks.sample"), stage("render", "clocks.render")],
            "models": [{
                "stage": "render", "kind": "renderer", "name": "pixmo-gen-clock 1 (resvg)",
                "file_sha256": hex64("assets"), "prompt_template_id": null,
                "prompt_template_sha256": null, "parameters": null,
            }],
            "sources": [{ "kind": "procedural", "id": format!("face-{}", record % 3), "sha256": hex64("spec") }],
            "created_at": "2023-11-14T22:13:20Z",
            "vlm_free": true,
        },
    })
}

/// A clocks row turned into a PixMo-Count row: the clock columns replaced by `id`,
/// `image_url`, `count`, `points` (pixels of the row's image) and `label`.
fn count_row(clock: Value, split: &str, record: u64) -> Value {
    let (w, h) = (
        clock["width"].as_f64().unwrap(),
        clock["height"].as_f64().unwrap(),
    );
    let mut row = json!({
        "id": format!("count-{split}-{record:06}"),
        "image_url": null,
        "count": 2,
        "points": [{ "x": w - 0.5, "y": 2.0 }, { "x": 1.5, "y": h - 0.5 }],
        "label": "mugs",
    });
    for key in ["image", "image_sha256", "width", "height", "provenance"] {
        row[key] = clock[key].clone();
    }
    row
}

/// A clocks row turned into a PixMo-Points row: `points` in percent of the image (one near
/// the right edge, one near the bottom: far beyond a small image's pixels), `count`, `label`.
fn points_row(clock: Value, split: &str, record: u64) -> Value {
    let mut row = json!({
        "id": format!("points-{split}-{record:06}"),
        "image_url": null,
        "points": [{ "x": 99.5, "y": 2.0 }, { "x": 1.5, "y": 99.5 }],
        "count": 2,
        "label": "mugs",
        "collection_method": "pointing",
    });
    for key in ["image", "image_sha256", "width", "height", "provenance"] {
        row[key] = clock[key].clone();
    }
    row
}
