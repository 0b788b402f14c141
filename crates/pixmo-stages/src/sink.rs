//! Turning finished records into Arrow batches of a dataset's schema, with provenance.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, RecordBatch, StringBuilder, StructArray, UInt32Builder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema};
use pixmo_annotation_schema::{DatasetSchema, Provenance, SCHEMA_VERSION};
use pixmo_dag::{ColumnType, Plan, Record, Value};
use pixmo_shards::RunIdentity;

/// The column type a stage must write for a dataset field.
fn expected_type(data_type: &DataType) -> ColumnType {
    match data_type {
        DataType::Utf8 => ColumnType::Str,
        DataType::Boolean => ColumnType::Bool,
        DataType::Int32 => ColumnType::I32,
        DataType::Int64 => ColumnType::I64,
        DataType::UInt32 => ColumnType::U32,
        DataType::UInt64 => ColumnType::U64,
        DataType::Float64 => ColumnType::F64,
        DataType::Binary => ColumnType::Bytes,
        DataType::List(item) if item.data_type() == &DataType::Utf8 => ColumnType::StrList,
        _ => ColumnType::Json,
    }
}

/// Checks, before any work, that the plan writes every column the dataset schema needs with
/// the right type. `image` needs `image_bytes` (bytes) and `image_format` (str); `provenance`
/// is built by the sink.
///
/// # Errors
/// A message naming each missing or mistyped column.
pub fn check_plan(plan: &Plan, schema: &DatasetSchema) -> Result<(), String> {
    let columns = plan.output_columns();
    let mut problems = Vec::new();
    let mut need = |name: &str, ty: ColumnType, nullable: bool| match columns.get(name) {
        Some(have) if *have == ty => {}
        Some(have) => problems.push(format!(
            "column `{name}` must be {ty} for dataset `{}`, but the pipeline writes {have}",
            schema.dataset
        )),
        None if nullable => {}
        None => problems.push(format!(
            "dataset `{}` needs column `{name}` ({ty}), which no stage writes",
            schema.dataset
        )),
    };
    for field in schema.schema.fields() {
        match field.name().as_str() {
            "provenance" => {}
            "image" => {
                need("image_bytes", ColumnType::Bytes, false);
                need("image_format", ColumnType::Str, false);
            }
            name => need(name, expected_type(field.data_type()), field.is_nullable()),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The provenance of a finished record.
#[must_use]
pub fn provenance(record: &Record, run: &RunIdentity, as_of_us: i64) -> Provenance {
    let vlm_free =
        !record.stages.iter().any(|s| s.uses_vlm) && !record.models.iter().any(|m| m.kind == "vlm");
    Provenance {
        schema_version: SCHEMA_VERSION.to_string(),
        code_version: run.code_version.clone(),
        pipeline: run.pipeline.clone(),
        run_id: run.run_id.clone(),
        seed: run.seed,
        record_seed: record.key.record_seed(),
        record_index: record.key.record_index,
        config_hash: run.config_hash.clone(),
        stages: record.stages.clone(),
        models: record.models.clone(),
        sources: record.sources.clone(),
        created_at: as_of_us,
        vlm_free,
    }
}

/// Decodes JSON values into one Arrow column of `field`'s type.
fn json_column(field: &Field, values: &[serde_json::Value]) -> Result<ArrayRef, String> {
    let schema = Arc::new(Schema::new(vec![field.clone().with_name("c")]));
    let mut decoder = arrow_json::ReaderBuilder::new(schema)
        .with_batch_size(values.len().max(1))
        .build_decoder()
        .map_err(|e| format!("column `{}`: {e}", field.name()))?;
    let rows: Vec<serde_json::Value> = values
        .iter()
        .map(|v| serde_json::json!({ "c": v }))
        .collect();
    decoder
        .serialize(&rows)
        .map_err(|e| format!("column `{}`: {e}", field.name()))?;
    let batch = decoder
        .flush()
        .map_err(|e| format!("column `{}`: {e}", field.name()))?
        .ok_or_else(|| format!("column `{}`: no rows decoded", field.name()))?;
    Ok(Arc::clone(batch.column(0)))
}

fn missing(name: &str, record: &Record) -> String {
    format!("record `{}` has no column `{name}`", record.id)
}

macro_rules! scalar_column {
    ($builder:ty, $variant:ident, $field:expr, $records:expr) => {{
        let mut b = <$builder>::new();
        for r in $records {
            match r.get($field.name()) {
                Some(Value::$variant(v)) => b.append_value(v.clone()),
                None if $field.is_nullable() => b.append_null(),
                Some(other) => {
                    return Err(format!(
                        "record `{}` column `{}` is {}",
                        r.id,
                        $field.name(),
                        other.ty()
                    ));
                }
                None => return Err(missing($field.name(), r)),
            }
        }
        Arc::new(b.finish()) as ArrayRef
    }};
}

/// Builds a record batch of the dataset schema from finished records.
///
/// # Errors
/// When a record lacks a column or holds the wrong type (a bug the plan check should have
/// caught), or JSON data does not fit the schema.
pub fn records_to_batch(
    schema: &DatasetSchema,
    records: &[Record],
    run: &RunIdentity,
    as_of_us: i64,
) -> Result<RecordBatch, String> {
    let mut columns: Vec<ArrayRef> = Vec::new();
    for field in schema.schema.fields() {
        let column: ArrayRef = match field.name().as_str() {
            "image" => {
                let mut bytes = BinaryBuilder::new();
                let mut paths = StringBuilder::new();
                for r in records {
                    let Some(Value::Bytes(b)) = r.get("image_bytes") else {
                        return Err(missing("image_bytes", r));
                    };
                    let ext = match r.get("image_format") {
                        Some(Value::Str(f)) if f == "jpeg" => "jpg",
                        _ => "png",
                    };
                    let sha = match r.get("image_sha256") {
                        Some(Value::Str(s)) => s.as_str(),
                        _ => "image",
                    };
                    bytes.append_value(b.as_slice());
                    paths.append_value(format!("{sha}.{ext}"));
                }
                let DataType::Struct(fields) = field.data_type() else {
                    return Err("`image` is not a struct (likely a bug)".into());
                };
                Arc::new(StructArray::new(
                    fields.clone(),
                    vec![Arc::new(bytes.finish()), Arc::new(paths.finish())],
                    None,
                ))
            }
            "provenance" => {
                let values: Vec<serde_json::Value> = records
                    .iter()
                    .map(|r| {
                        let mut v = serde_json::to_value(provenance(r, run, as_of_us))
                            .unwrap_or(serde_json::Value::Null);
                        // arrow-json reads timestamps from RFC 3339 strings.
                        if let Some(obj) = v.as_object_mut() {
                            obj.insert("created_at".into(), rfc3339_micros(as_of_us).into());
                        }
                        v
                    })
                    .collect();
                json_column(field, &values)?
            }
            _ => match expected_type(field.data_type()) {
                ColumnType::Str => scalar_column!(StringBuilder, Str, field, records),
                ColumnType::Bool => scalar_column!(BooleanBuilder, Bool, field, records),
                ColumnType::I32 => scalar_column!(Int32Builder, I32, field, records),
                ColumnType::I64 => scalar_column!(Int64Builder, I64, field, records),
                ColumnType::U32 => scalar_column!(UInt32Builder, U32, field, records),
                ColumnType::U64 => scalar_column!(UInt64Builder, U64, field, records),
                ColumnType::F64 => scalar_column!(Float64Builder, F64, field, records),
                ColumnType::Bytes => {
                    let mut b = BinaryBuilder::new();
                    for r in records {
                        match r.get(field.name()) {
                            Some(Value::Bytes(v)) => b.append_value(v.as_slice()),
                            None if field.is_nullable() => b.append_null(),
                            _ => return Err(missing(field.name(), r)),
                        }
                    }
                    Arc::new(b.finish())
                }
                ColumnType::StrList => {
                    let mut b = ListBuilder::new(StringBuilder::new());
                    for r in records {
                        match r.get(field.name()) {
                            Some(Value::StrList(items)) => {
                                for item in items {
                                    b.values().append_value(item);
                                }
                                b.append(true);
                            }
                            None if field.is_nullable() => b.append(false),
                            _ => return Err(missing(field.name(), r)),
                        }
                    }
                    let array = b.finish();
                    // Match the schema's item field exactly (name and nullability).
                    let DataType::List(item) = field.data_type() else {
                        return Err("list field is not a list (likely a bug)".into());
                    };
                    let (_, offsets, values, nulls) = array.into_parts();
                    Arc::new(
                        arrow::array::ListArray::try_new(Arc::clone(item), offsets, values, nulls)
                            .map_err(|e| format!("column `{}`: {e}", field.name()))?,
                    )
                }
                ColumnType::Json | ColumnType::Image => {
                    let mut values = Vec::with_capacity(records.len());
                    for r in records {
                        match r.get(field.name()) {
                            Some(Value::Json(v)) => values.push(v.clone()),
                            None if field.is_nullable() => values.push(serde_json::Value::Null),
                            _ => return Err(missing(field.name(), r)),
                        }
                    }
                    json_column(field, &values)?
                }
            },
        };
        columns.push(column);
    }
    RecordBatch::try_new(Arc::clone(&schema.schema), columns).map_err(|e| e.to_string())
}

/// Rejections as a batch of the rejects schema.
///
/// # Errors
/// Never in practice; Arrow errors are passed on.
pub fn rejections_to_batch(rejections: &[pixmo_dag::Rejection]) -> Result<RecordBatch, String> {
    let mut cols: BTreeMap<&str, StringBuilder> = BTreeMap::new();
    for name in ["record_id", "split", "stage", "kind", "message"] {
        cols.insert(name, StringBuilder::new());
    }
    let mut index = UInt64Builder::new();
    for r in rejections {
        for (name, value) in [
            ("record_id", &r.record_id),
            ("split", &r.split),
            ("stage", &r.stage),
            ("kind", &r.kind),
            ("message", &r.message),
        ] {
            if let Some(b) = cols.get_mut(name) {
                b.append_value(value);
            }
        }
        index.append_value(r.record_index);
    }
    let mut take = |name: &str| -> ArrayRef {
        Arc::new(
            cols.get_mut(name)
                .map_or_else(|| StringBuilder::new().finish(), StringBuilder::finish),
        )
    };
    let columns: Vec<ArrayRef> = vec![
        take("record_id"),
        take("split"),
        Arc::new(index.finish()),
        take("stage"),
        take("kind"),
        take("message"),
    ];
    RecordBatch::try_new(pixmo_shards::rejects_schema(), columns).map_err(|e| e.to_string())
}

/// RFC 3339 with microseconds, UTC, from microseconds since the epoch.
#[must_use]
pub fn rfc3339_micros(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339_micros(1_795_305_600_000_001),
            "2026-11-22T00:00:00.000001Z"
        );
        assert_eq!(
            rfc3339_micros(951_782_400_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}
