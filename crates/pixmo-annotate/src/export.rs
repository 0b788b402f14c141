//! Finished work as Parquet: the dataset rows through the shared sink (dataset schema,
//! embedded image, provenance) and companion tables joinable by row id: `annotations` (who
//! and when, per row) and the trails `ask_model_anything_trail` and
//! `point_explanations_trail` (every question, draft, automatic send-back, feedback,
//! revision and acceptance, with a `detail` JSON column: a question's point groups, an
//! answer's reading or why it was sent back).
//!
//! Layout under `out`: `<dataset>/<split>/part-00000-00000.parquet` for `points`,
//! `ask_model_anything` and `point_explanations`, `annotations/<split>/...` and
//! `<trail>/<split>/part-00000-00000.parquet`. Point-Explanations rows follow the released
//! layout: `parsed_response` with one `<|POINT|>` per citation and, per citation,
//! `alt_text`, `inline_text` and `points` (percent 0–100, one decimal). Files are written by
//! `pixmo-shards`' `ShardWriter` (temporary file, fsync, rename). Each dataset folder is a
//! committed run like `pixmo build`'s (identity, generation 0, marker, `manifest.json`), so
//! `pixmo verify` and `pixmo audit` read it; the companion tables are plain Parquet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use pixmo_annotation_schema::{Dataset, ModelUse, SCHEMA_VERSION, SourceRef, StageUse};
use pixmo_core::SeedKey;
use pixmo_dag::{Record, Value};
use pixmo_shards::{
    DatasetLayout, DatasetManifest, Generation, RunIdentity, ShardMarker, ShardWriter,
    WriterSettings, create_generation, create_identity, shard_list,
};

use crate::error::{Error, Result};
use crate::ocr::OcrResult;
use crate::store::{ImageRecord, Store, Task, TaskKind, Trail, Turn, TurnKind, now_us, sha256_hex};
use crate::work::{AmaWork, ExplanationWork, PointsWork};

/// Version of the annotation app's output (bumped when rows change meaning).
pub const APP_VERSION: &str = "1";

/// What to export and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// Output directory.
    pub out: PathBuf,
    /// Split name of every row (`train`).
    pub split: String,
    /// Build time stamped into provenance (µs since the epoch); `None` is now.
    pub as_of_us: Option<i64>,
}

/// One file written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedFile {
    /// Path.
    pub path: PathBuf,
    /// Rows.
    pub rows: u64,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// What [`export`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Points rows.
    pub points_rows: u64,
    /// AskModelAnything rows.
    pub ask_model_anything_rows: u64,
    /// Point-Explanations rows.
    pub point_explanations_rows: u64,
    /// Files written (none for a dataset without rows).
    pub files: Vec<ExportedFile>,
}

/// Per-row facts for the `annotations` table.
struct RowInfo {
    row_id: String,
    dataset: &'static str,
    task_id: i64,
    annotator: String,
    claimed_at: Option<i64>,
    submitted_at: Option<i64>,
    saves: i64,
    counting_question: Option<bool>,
    caption_source: String,
    ocr_engine: Option<String>,
}

fn run_identity(dataset: &str, rows: u64) -> RunIdentity {
    let config_hash =
        sha256_hex(format!("pixmo-annotate export v{APP_VERSION} {dataset}").as_bytes());
    let code_version = pixmo_core::code_version();
    RunIdentity {
        pipeline: "annotate".to_string(),
        dataset: dataset.to_string(),
        run_id: sha256_hex(format!("{config_hash}:0:{code_version}").as_bytes()),
        config_hash,
        seed: 0,
        code_version,
        schema_version: SCHEMA_VERSION.to_string(),
        rows_per_shard: rows.max(1),
    }
}

fn base_record(
    dataset: Dataset,
    split: &str,
    index: u64,
    run: &RunIdentity,
    image: &ImageRecord,
    bytes: &Arc<Vec<u8>>,
    pseudonym: &str,
) -> Record {
    let mut record = Record::new(SeedKey {
        run_seed: 0,
        dataset: dataset.name().to_string(),
        split: split.to_string(),
        record_index: index,
    });
    record.set("image_bytes", Value::Bytes(Arc::clone(bytes)));
    record.set("image_format", Value::Str(image.image.format.clone()));
    record.set("image_sha256", Value::Str(image.image.sha256.clone()));
    record.set("width", Value::U32(image.image.width));
    record.set("height", Value::U32(image.image.height));
    record.stages.push(StageUse {
        name: "annotate".to_string(),
        kind: format!("annotate.{}", dataset.name()),
        version: APP_VERSION.to_string(),
        config_hash: run.config_hash.clone(),
        uses_vlm: false,
    });
    record.sources.push(SourceRef {
        kind: "image".to_string(),
        id: image.image.source_id.clone(),
        sha256: image.image.sha256.clone(),
    });
    record.sources.push(SourceRef {
        kind: "annotator".to_string(),
        id: pseudonym.to_string(),
        sha256: sha256_hex(pseudonym.as_bytes()),
    });
    record
}

/// Writes `records` as a committed single-shard run of `dataset` under `out`: the run
/// identity and generation 0 (written once), the data shard and an empty rejects file
/// through `ShardWriter`, the commit marker, then `manifest.json` (what `pixmo audit` and
/// `pixmo verify` read). An export is a snapshot: an existing `out/<dataset>` is refused.
fn write_rows(
    out: &Path,
    dataset: Dataset,
    split: &str,
    records: &[Record],
    run: &RunIdentity,
    as_of_us: i64,
) -> Result<Option<ExportedFile>> {
    if records.is_empty() {
        return Ok(None);
    }
    let shard_error = |e: pixmo_shards::Error| Error::Export(e.to_string());
    let layout = DatasetLayout::new(out, dataset.name());
    if layout.root.exists() {
        return Err(Error::Export(format!(
            "`{}` exists; export into a new folder (an export is a snapshot)",
            layout.root.display()
        )));
    }
    let schema = dataset.schema();
    let batch = pixmo_stages::sink::records_to_batch(&schema, records, run, as_of_us)
        .map_err(Error::Export)?;
    create_identity(&layout, run).map_err(shard_error)?;
    let generation = Generation {
        index: 0,
        counts: BTreeMap::from([(split.to_string(), records.len() as u64)]),
        as_of_us,
    };
    create_generation(&layout, &generation).map_err(shard_error)?;
    let started = std::time::Instant::now();
    let mut written = None;
    for id in shard_list(run.rows_per_shard, std::slice::from_ref(&generation)) {
        let start = usize::try_from(id.start).unwrap_or(usize::MAX);
        let rows = usize::try_from(id.records()).unwrap_or(0);
        let data = write_batch(
            &layout.data_path(&id),
            Arc::clone(&schema.schema),
            batch.slice(start, rows),
        )?;
        let rejects_schema = pixmo_shards::rejects_schema();
        let rejects = write_batch(
            &layout.rejects_path(&id),
            Arc::clone(&rejects_schema),
            RecordBatch::new_empty(rejects_schema),
        )?;
        let file_size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let marker = ShardMarker {
            dataset: dataset.name().to_string(),
            split: id.split.clone(),
            generation: id.generation,
            shard_index: id.index,
            start: id.start,
            end: id.end,
            file: layout.relative(&data.path),
            rows: data.rows,
            bytes: file_size(&data.path),
            sha256: data.sha256.clone(),
            rejects_file: layout.relative(&rejects.path),
            rejects: 0,
            rejects_bytes: file_size(&rejects.path),
            rejects_sha256: rejects.sha256.clone(),
            seed: run.seed,
            config_hash: run.config_hash.clone(),
            code_version: run.code_version.clone(),
            schema_version: run.schema_version.clone(),
            run_id: run.run_id.clone(),
            committed_at: pixmo_stages::sink::rfc3339_micros(now_us()),
            seconds: started.elapsed().as_secs_f64(),
        };
        marker.store(&layout).map_err(shard_error)?;
        written = Some(data);
    }
    match DatasetManifest::finalize(&layout).map_err(shard_error)? {
        Ok(_) => Ok(written),
        Err(problems) => Err(Error::Export(format!(
            "the exported run does not check: {}",
            problems.join("; ")
        ))),
    }
}

fn write_batch(path: &Path, schema: SchemaRef, batch: RecordBatch) -> Result<ExportedFile> {
    let shard_error = |e: pixmo_shards::Error| Error::Export(e.to_string());
    let mut writer =
        ShardWriter::create(path, schema, &WriterSettings::default()).map_err(shard_error)?;
    writer.write(batch).map_err(shard_error)?;
    let written = writer.finish().map_err(shard_error)?;
    Ok(ExportedFile {
        path: written.path,
        rows: written.rows,
        sha256: written.sha256,
    })
}

struct Pseudonyms<'a> {
    store: &'a Store,
    known: BTreeMap<String, String>,
}

impl Pseudonyms<'_> {
    async fn of(&mut self, task: &Task) -> Result<String> {
        let id = task.annotator_id.clone().unwrap_or_default();
        if let Some(p) = self.known.get(&id) {
            return Ok(p.clone());
        }
        let p = self.store.pseudonym(&id).await?;
        self.known.insert(id, p.clone());
        Ok(p)
    }
}

/// Writes every submitted task as rows (see the module docs for the layout).
///
/// # Errors
/// On database or file failure, or when an image file changed since it was imported.
pub async fn export(store: &Store, options: &ExportOptions) -> Result<ExportReport> {
    let as_of = options.as_of_us.unwrap_or_else(now_us);
    let split = options.split.as_str();
    let mut report = ExportReport::default();
    let mut infos = Vec::new();
    let mut names = Pseudonyms {
        store,
        known: BTreeMap::new(),
    };

    // Points: one row per accepted label.
    let tasks = store.done_tasks(TaskKind::Points).await?;
    let mut count = 0u64;
    for task in &tasks {
        let image = store.image(&task.image_sha256).await?;
        let work = PointsWork::parse(&task.state, image.image.width, image.image.height, true)?;
        count += work.finished().len() as u64;
    }
    let run = run_identity(Dataset::Points.name(), count);
    let mut records = Vec::new();
    for task in &tasks {
        let image = store.image(&task.image_sha256).await?;
        let bytes = Arc::new(store.image_bytes(&image).await?);
        let pseudonym = names.of(task).await?;
        let work = PointsWork::parse(&task.state, image.image.width, image.image.height, true)?;
        for (i, entry) in work.finished().iter().enumerate() {
            let index = records.len() as u64;
            let mut record = base_record(
                Dataset::Points,
                split,
                index,
                &run,
                &image,
                &bytes,
                &pseudonym,
            );
            let row_id = format!("points-{}-{i}", task.id);
            let points = entry.percent_points(image.image.width, image.image.height);
            record.set("id", Value::Str(row_id.clone()));
            record.set(
                "points",
                Value::Json(serde_json::to_value(&points).unwrap_or_default()),
            );
            record.set(
                "count",
                Value::I32(i32::try_from(points.len()).unwrap_or(i32::MAX)),
            );
            record.set("label", Value::Str(entry.label.trim().to_string()));
            record.set(
                "collection_method",
                Value::Str(entry.method(task.mode).to_string()),
            );
            infos.push(RowInfo {
                row_id,
                dataset: "points",
                task_id: task.id,
                annotator: pseudonym.clone(),
                claimed_at: task.claimed_at,
                submitted_at: task.submitted_at,
                saves: task.saves,
                counting_question: None,
                caption_source: image.image.caption_source.clone(),
                ocr_engine: None,
            });
            records.push(record);
        }
    }
    report.points_rows = records.len() as u64;
    if let Some(file) = write_rows(&options.out, Dataset::Points, split, &records, &run, as_of)? {
        report.files.push(file);
    }

    // AskModelAnything: one row per accepted answer, and the trail.
    let tasks = store.done_tasks(TaskKind::AskModelAnything).await?;
    let run = run_identity(Dataset::AskModelAnything.name(), tasks.len() as u64);
    let mut records = Vec::new();
    let mut trail: Vec<(String, i64, String, Turn)> = Vec::new();
    for task in &tasks {
        let turns = store.turns(task.id).await?;
        let Some(accepted) = turns.iter().rev().find(|t| t.kind == TurnKind::Accept) else {
            continue;
        };
        let image = store.image(&task.image_sha256).await?;
        let bytes = Arc::new(store.image_bytes(&image).await?);
        let pseudonym = names.of(task).await?;
        let question = AmaWork::parse(&task.state)?.question;
        let row_id = format!("ama-{}", task.id);
        let index = records.len() as u64;
        let mut record = base_record(
            Dataset::AskModelAnything,
            split,
            index,
            &run,
            &image,
            &bytes,
            &pseudonym,
        );
        record.set("id", Value::Str(row_id.clone()));
        record.set("question", Value::Str(question.clone()));
        record.set("answer", Value::Str(accepted.text.clone()));
        let (models, ocr) = models_of(&turns, &image);
        record.models = models;
        add_caption_source(&mut record, &image);
        infos.push(RowInfo {
            row_id: row_id.clone(),
            dataset: "ask_model_anything",
            task_id: task.id,
            annotator: pseudonym.clone(),
            claimed_at: task.claimed_at,
            submitted_at: task.submitted_at,
            saves: task.saves,
            counting_question: Some(pixmo_assist::is_counting_question(&question)),
            caption_source: image.image.caption_source.clone(),
            ocr_engine: ocr.map(|o| o.engine),
        });
        for turn in turns {
            let who = if turn.annotator_id == task.annotator_id.clone().unwrap_or_default() {
                pseudonym.clone()
            } else {
                store.pseudonym(&turn.annotator_id).await?
            };
            trail.push((row_id.clone(), task.id, who, turn));
        }
        records.push(record);
    }
    report.ask_model_anything_rows = records.len() as u64;
    if let Some(file) = write_rows(
        &options.out,
        Dataset::AskModelAnything,
        split,
        &records,
        &run,
        as_of,
    )? {
        report.files.push(file);
    }
    write_trail(options, "ask_model_anything_trail", &trail, &mut report)?;

    export_explanations(store, options, as_of, &mut names, &mut infos, &mut report).await?;

    if !infos.is_empty() {
        let path = options
            .out
            .join("annotations")
            .join(split)
            .join("part-00000-00000.parquet");
        let (schema, batch) = annotations_batch(&infos)?;
        report.files.push(write_batch(&path, schema, batch)?);
    }
    Ok(report)
}

/// The LLM calls of a trail (one entry per model, prompt and parameters) and the image's
/// OCR engine, as provenance.
fn models_of(turns: &[Turn], image: &ImageRecord) -> (Vec<ModelUse>, Option<OcrResult>) {
    let mut seen = Vec::new();
    for turn in turns.iter().filter(|t| t.model_name.is_some()) {
        let model = ModelUse {
            stage: "annotate".to_string(),
            kind: pixmo_llm::LLM_TEXT_KIND.to_string(),
            name: turn.model_name.clone().unwrap_or_default(),
            file_sha256: turn.model_sha256.clone().unwrap_or_default(),
            prompt_template_id: turn.prompt_id.clone(),
            prompt_template_sha256: turn.prompt_sha256.clone(),
            parameters: turn.parameters.clone(),
        };
        if !seen.contains(&model) {
            seen.push(model);
        }
    }
    let ocr = image
        .ocr_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<OcrResult>(j).ok());
    if let Some(ocr) = &ocr {
        seen.push(ModelUse {
            stage: "annotate".to_string(),
            kind: "ocr".to_string(),
            name: ocr.engine.clone(),
            file_sha256: ocr.model_sha256.clone(),
            prompt_template_id: None,
            prompt_template_sha256: None,
            parameters: None,
        });
    }
    (seen, ocr)
}

fn add_caption_source(record: &mut Record, image: &ImageRecord) {
    if let Some(caption) = &image.image.caption {
        record.sources.push(SourceRef {
            kind: "caption".to_string(),
            id: image.image.caption_source.clone(),
            sha256: sha256_hex(caption.as_bytes()),
        });
    }
}

/// Writes a trail table (`<name>/<split>/part-00000-00000.parquet`) unless it is empty.
fn write_trail(
    options: &ExportOptions,
    name: &str,
    trail: &[(String, i64, String, Turn)],
    report: &mut ExportReport,
) -> Result<()> {
    if trail.is_empty() {
        return Ok(());
    }
    let path = options
        .out
        .join(name)
        .join(&options.split)
        .join("part-00000-00000.parquet");
    let (schema, batch) = trail_batch(trail)?;
    report.files.push(write_batch(&path, schema, batch)?);
    Ok(())
}

/// Point-Explanations: one row per accepted answer in the released layout (the accepted
/// text read again against the groups its question marked), and the trail.
async fn export_explanations(
    store: &Store,
    options: &ExportOptions,
    as_of: i64,
    names: &mut Pseudonyms<'_>,
    infos: &mut Vec<RowInfo>,
    report: &mut ExportReport,
) -> Result<()> {
    let split = options.split.as_str();
    let tasks = store.done_tasks(TaskKind::PointExplanations).await?;
    let run = run_identity(Dataset::PointExplanations.name(), tasks.len() as u64);
    let mut records = Vec::new();
    let mut trail: Vec<(String, i64, String, Turn)> = Vec::new();
    for task in &tasks {
        let turns = store.trail_turns(Trail::PointExplanations, task.id).await?;
        let Some(accepted) = turns.iter().rev().find(|t| t.kind == TurnKind::Accept) else {
            continue;
        };
        let image = store.image(&task.image_sha256).await?;
        let (width, height) = (image.image.width, image.image.height);
        let work = ExplanationWork::parse(&task.state, width, height, true)?;
        let groups = work.point_groups(width, height)?;
        let layout = pixmo_assist::parse_explanation(&accepted.text, &groups).map_err(|back| {
            Error::Export(format!(
                "task {}: the accepted answer no longer reads: {back}",
                task.id
            ))
        })?;
        let bytes = Arc::new(store.image_bytes(&image).await?);
        let pseudonym = names.of(task).await?;
        let row_id = format!("pe-{}", task.id);
        let index = records.len() as u64;
        let mut record = base_record(
            Dataset::PointExplanations,
            split,
            index,
            &run,
            &image,
            &bytes,
            &pseudonym,
        );
        record.set("id", Value::Str(row_id.clone()));
        record.set("question", Value::Str(work.question.trim().to_string()));
        record.set("parsed_response", Value::Str(layout.parsed_response));
        record.set("alt_text", Value::StrList(layout.alt_text));
        record.set("inline_text", Value::StrList(layout.inline_text));
        record.set(
            "points",
            Value::Json(serde_json::to_value(&layout.points).unwrap_or_default()),
        );
        let (models, ocr) = models_of(&turns, &image);
        record.models = models;
        add_caption_source(&mut record, &image);
        infos.push(RowInfo {
            row_id: row_id.clone(),
            dataset: "point_explanations",
            task_id: task.id,
            annotator: pseudonym.clone(),
            claimed_at: task.claimed_at,
            submitted_at: task.submitted_at,
            saves: task.saves,
            counting_question: Some(pixmo_assist::is_counting_question(&work.question)),
            caption_source: image.image.caption_source.clone(),
            ocr_engine: ocr.map(|o| o.engine),
        });
        for turn in turns {
            let who = if Some(&turn.annotator_id) == task.annotator_id.as_ref() {
                pseudonym.clone()
            } else {
                store.pseudonym(&turn.annotator_id).await?
            };
            trail.push((row_id.clone(), task.id, who, turn));
        }
        records.push(record);
    }
    report.point_explanations_rows = records.len() as u64;
    if let Some(file) = write_rows(
        &options.out,
        Dataset::PointExplanations,
        split,
        &records,
        &run,
        as_of,
    )? {
        report.files.push(file);
    }
    write_trail(options, "point_explanations_trail", &trail, report)
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    let mut b = StringBuilder::new();
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn times(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    let mut b = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn ints(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    let mut b = Int64Builder::new();
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

/// A trail table (`ask_model_anything_trail`, `point_explanations_trail`): one row per
/// turn.
fn trail_batch(trail: &[(String, i64, String, Turn)]) -> Result<(SchemaRef, RecordBatch)> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("row_id", DataType::Utf8, false),
        Field::new("task_id", DataType::Int64, false),
        Field::new("seq", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("annotator", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, true),
        Field::new("model_name", DataType::Utf8, true),
        Field::new("model_sha256", DataType::Utf8, true),
        Field::new("prompt_template_id", DataType::Utf8, true),
        Field::new("prompt_template_sha256", DataType::Utf8, true),
        Field::new("parameters", DataType::Utf8, true),
        Field::new("started_at", timestamp_type(), false),
        Field::new("finished_at", timestamp_type(), false),
        Field::new("duration_ms", DataType::Int64, false),
    ]));
    let t = |f: fn(&Turn) -> Option<&str>| strings(trail.iter().map(|(_, _, _, turn)| f(turn)));
    let columns: Vec<ArrayRef> = vec![
        strings(trail.iter().map(|(row, ..)| Some(row.as_str()))),
        ints(trail.iter().map(|(_, task, ..)| Some(*task))),
        ints(trail.iter().map(|(.., turn)| Some(turn.seq))),
        t(|turn| Some(turn.kind.as_str())),
        strings(trail.iter().map(|(_, _, who, _)| Some(who.as_str()))),
        t(|turn| Some(turn.text.as_str())),
        t(|turn| turn.detail.as_deref()),
        t(|turn| turn.model_name.as_deref()),
        t(|turn| turn.model_sha256.as_deref()),
        t(|turn| turn.prompt_id.as_deref()),
        t(|turn| turn.prompt_sha256.as_deref()),
        t(|turn| turn.parameters.as_deref()),
        times(trail.iter().map(|(.., turn)| Some(turn.started_at))),
        times(trail.iter().map(|(.., turn)| Some(turn.finished_at))),
        ints(
            trail
                .iter()
                .map(|(.., turn)| Some((turn.finished_at - turn.started_at) / 1000)),
        ),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)
        .map_err(|e| Error::Export(e.to_string()))?;
    Ok((schema, batch))
}

/// The `annotations` table: who made each row and when.
fn annotations_batch(infos: &[RowInfo]) -> Result<(SchemaRef, RecordBatch)> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("row_id", DataType::Utf8, false),
        Field::new("dataset", DataType::Utf8, false),
        Field::new("task_id", DataType::Int64, false),
        Field::new("annotator", DataType::Utf8, false),
        Field::new("claimed_at", timestamp_type(), true),
        Field::new("submitted_at", timestamp_type(), true),
        Field::new("saves", DataType::Int64, false),
        Field::new("app_version", DataType::Utf8, false),
        Field::new("code_version", DataType::Utf8, false),
        Field::new("counting_question", DataType::Boolean, true),
        Field::new("caption_source", DataType::Utf8, false),
        Field::new("ocr_engine", DataType::Utf8, true),
    ]));
    let code_version = pixmo_core::code_version();
    let mut counting = BooleanBuilder::new();
    for info in infos {
        counting.append_option(info.counting_question);
    }
    let columns: Vec<ArrayRef> = vec![
        strings(infos.iter().map(|i| Some(i.row_id.as_str()))),
        strings(infos.iter().map(|i| Some(i.dataset))),
        ints(infos.iter().map(|i| Some(i.task_id))),
        strings(infos.iter().map(|i| Some(i.annotator.as_str()))),
        times(infos.iter().map(|i| i.claimed_at)),
        times(infos.iter().map(|i| i.submitted_at)),
        ints(infos.iter().map(|i| Some(i.saves))),
        strings(infos.iter().map(|_| Some(APP_VERSION))),
        strings(infos.iter().map(|_| Some(code_version.as_str()))),
        Arc::new(counting.finish()),
        strings(infos.iter().map(|i| Some(i.caption_source.as_str()))),
        strings(infos.iter().map(|i| i.ocr_engine.as_deref())),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)
        .map_err(|e| Error::Export(e.to_string()))?;
    Ok((schema, batch))
}
