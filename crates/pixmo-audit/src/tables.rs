//! The SQL tables over a dataset's shards, markers and rejects.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Builder, RecordBatch, StringBuilder, UInt32Builder, UInt64Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionConfig, SessionContext, lit};
use pixmo_shards::ShardMarker;

use crate::error::{AuditError, Result};
use crate::inputs::DatasetInputs;

/// Table names a split may not take, because the dataset-wide tables use them.
const RESERVED: [&str; 3] = ["rows", "rejects", "shards"];

/// A session with the tables of one dataset (no prefix) registered.
pub(crate) async fn dataset_session(inputs: &DatasetInputs) -> Result<SessionContext> {
    let ctx = new_context();
    register(&ctx, inputs, "")
        .await
        .map_err(AuditError::query(inputs.root()))?;
    Ok(ctx)
}

/// A session with `<dataset>_rows`, `<dataset>_rejects`, `<dataset>_shards` and
/// `<dataset>_<split>` for each dataset, `<dataset>` being the dataset's folder name (which
/// pixmo names after the dataset).
pub(crate) async fn multi_session(dir: &Path, roots: &[PathBuf]) -> Result<SessionContext> {
    let ctx = new_context();
    for root in roots {
        let inputs = DatasetInputs::load(root)?;
        let prefix = format!("{}_", crate::inputs::file_name(root));
        register(&ctx, &inputs, &prefix)
            .await
            .map_err(AuditError::query(dir))?;
    }
    Ok(ctx)
}

fn new_context() -> SessionContext {
    SessionContext::new_with_config(SessionConfig::new().with_information_schema(true))
}

/// Registers `rows`, `rejects`, `shards` and one table per split, each name prefixed.
async fn register(
    ctx: &SessionContext,
    inputs: &DatasetInputs,
    prefix: &str,
) -> Result<(), DataFusionError> {
    let schema = Arc::clone(&inputs.schema.schema);
    let shards = inputs.readable_shards();
    let mut rows: Option<DataFrame> = None;
    let mut rejects_files = Vec::new();
    for (split, list) in &shards {
        let files = inputs.data_files(list);
        rejects_files.extend(inputs.rejects_files(list));
        let frame = parquet_frame(ctx, &files, &schema).await?;
        if !RESERVED.contains(&split.as_str()) {
            ctx.register_table(format!("{prefix}{split}"), frame.clone().into_view())?;
        }
        let with_split = frame.with_column("split", lit(split.as_str()))?;
        rows = Some(match rows {
            None => with_split,
            Some(acc) => acc.union(with_split)?,
        });
    }
    let rows = match rows {
        Some(frame) => frame,
        None => {
            let mut fields: Vec<Field> =
                schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            fields.push(Field::new("split", DataType::Utf8, false));
            let empty = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
            ctx.read_table(Arc::new(MemTable::try_new(empty, vec![vec![]])?))?
        }
    };
    ctx.register_table(format!("{prefix}rows"), rows.into_view())?;
    let rejects = parquet_frame(ctx, &rejects_files, &pixmo_shards::rejects_schema()).await?;
    ctx.register_table(format!("{prefix}rejects"), rejects.into_view())?;
    let markers: Vec<&ShardMarker> = inputs.markers.values().flatten().collect();
    let table = MemTable::try_new(shards_schema(), vec![vec![shards_batch(&markers)?]])?;
    ctx.register_table(format!("{prefix}shards"), Arc::new(table))?;
    Ok(())
}

/// Reads Parquet files with a fixed schema; no files gives an empty table.
async fn parquet_frame(
    ctx: &SessionContext,
    files: &[PathBuf],
    schema: &SchemaRef,
) -> Result<DataFrame, DataFusionError> {
    if files.is_empty() {
        return ctx.read_table(Arc::new(MemTable::try_new(
            Arc::clone(schema),
            vec![vec![]],
        )?));
    }
    let paths: Vec<String> = files
        .iter()
        .map(|p| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let options = ParquetReadOptions {
        schema: Some(schema.as_ref()),
        ..ParquetReadOptions::default()
    };
    ctx.read_parquet(paths, options).await
}

/// Columns of the `shards` table.
fn shards_schema() -> SchemaRef {
    let utf8 = |name: &str| Field::new(name, DataType::Utf8, false);
    let u64f = |name: &str| Field::new(name, DataType::UInt64, false);
    let u32f = |name: &str| Field::new(name, DataType::UInt32, false);
    Arc::new(Schema::new(vec![
        utf8("split"),
        u32f("shard_index"),
        u32f("generation"),
        u64f("record_start"),
        u64f("record_end"),
        utf8("file"),
        u64f("rows"),
        u64f("bytes"),
        utf8("sha256"),
        utf8("rejects_file"),
        u64f("rejects"),
        utf8("rejects_sha256"),
        u64f("seed"),
        utf8("config_hash"),
        utf8("code_version"),
        utf8("schema_version"),
        utf8("run_id"),
        utf8("committed_at"),
        Field::new("seconds", DataType::Float64, false),
    ]))
}

/// One row per commit marker.
fn shards_batch(markers: &[&ShardMarker]) -> Result<RecordBatch, DataFusionError> {
    let strings = |get: fn(&ShardMarker) -> &str| -> ArrayRef {
        let mut b = StringBuilder::new();
        for m in markers {
            b.append_value(get(m));
        }
        Arc::new(b.finish())
    };
    let u64s = |get: fn(&ShardMarker) -> u64| -> ArrayRef {
        let mut b = UInt64Builder::new();
        for m in markers {
            b.append_value(get(m));
        }
        Arc::new(b.finish())
    };
    let u32s = |get: fn(&ShardMarker) -> u32| -> ArrayRef {
        let mut b = UInt32Builder::new();
        for m in markers {
            b.append_value(get(m));
        }
        Arc::new(b.finish())
    };
    let mut seconds = Float64Builder::new();
    for m in markers {
        seconds.append_value(m.seconds);
    }
    let columns = vec![
        strings(|m| &m.split),
        u32s(|m| m.shard_index),
        u32s(|m| m.generation),
        u64s(|m| m.start),
        u64s(|m| m.end),
        strings(|m| &m.file),
        u64s(|m| m.rows),
        u64s(|m| m.bytes),
        strings(|m| &m.sha256),
        strings(|m| &m.rejects_file),
        u64s(|m| m.rejects),
        strings(|m| &m.rejects_sha256),
        u64s(|m| m.seed),
        strings(|m| &m.config_hash),
        strings(|m| &m.code_version),
        strings(|m| &m.schema_version),
        strings(|m| &m.run_id),
        strings(|m| &m.committed_at),
        Arc::new(seconds.finish()),
    ];
    Ok(RecordBatch::try_new(shards_schema(), columns)?)
}
