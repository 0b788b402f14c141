//! `schema`: every shard's Arrow schema is the dataset schema of this pixmo version.

use std::fs::File;
use std::path::Path;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pixmo_annotation_schema::SCHEMA_VERSION;
use pixmo_shards::ShardMarker;

use super::{parallel_map, threads};
use crate::inputs::DatasetInputs;
use crate::report::Check;

/// Schema metadata key holding the schema version.
const VERSION_KEY: &str = "pixmo.schema_version";

/// Compares each data file's schema (field names, order, types, nullability, point units)
/// and metadata with the dataset schema, and each rejects file with the rejects schema.
pub(crate) fn schema(inputs: &DatasetInputs) -> Check {
    let shards: Vec<ShardMarker> = inputs.readable_shards().into_values().flatten().collect();
    let root = inputs.root();
    let want = &inputs.schema.schema;
    let rejects_want = pixmo_shards::rejects_schema();
    let dataset = inputs.run.dataset.as_str();
    let results = parallel_map(&shards, threads(), |m| {
        let mut problems = match read_schema(&root.join(&m.file)) {
            Ok((have, kv)) => {
                let mut p = compare(&have, want);
                match have.metadata().get(VERSION_KEY) {
                    Some(v) if v == SCHEMA_VERSION => {}
                    Some(v) => p.push(format!(
                        "`{VERSION_KEY}` is `{v}`, this pixmo writes `{SCHEMA_VERSION}`"
                    )),
                    None => p.push(format!("no `{VERSION_KEY}` metadata")),
                }
                if have.metadata().get("pixmo.dataset").map(String::as_str) != Some(dataset) {
                    p.push(format!("`pixmo.dataset` metadata is not `{dataset}`"));
                }
                if !kv.iter().any(|k| k == "huggingface") {
                    p.push("no `huggingface` features metadata".into());
                }
                p
            }
            Err(e) => vec![e],
        };
        let rejects_path = root.join(&m.rejects_file);
        if rejects_path.is_file() {
            match read_schema(&rejects_path) {
                Ok((have, _)) => problems.extend(
                    compare(&have, &rejects_want)
                        .into_iter()
                        .map(|p| format!("`{}`: {p}", m.rejects_file)),
                ),
                Err(e) => problems.push(e),
            }
        }
        problems
            .into_iter()
            .map(|p| {
                if p.starts_with('`') {
                    p
                } else {
                    format!("`{}`: {p}", m.file)
                }
            })
            .collect::<Vec<_>>()
    });
    let problems: Vec<String> = results.into_iter().flatten().collect();
    Check::from_problems(
        "schema",
        format!(
            "{} shards have the `{dataset}` schema {SCHEMA_VERSION} ({} columns)",
            shards.len(),
            want.fields().len()
        ),
        &problems,
    )
}

/// The Arrow schema of a Parquet file and its key-value metadata keys.
fn read_schema(path: &Path) -> Result<(SchemaRef, Vec<String>), String> {
    let file = File::open(path).map_err(|e| format!("could not open `{}`: {e}", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| format!("could not read the footer of `{}`: {e}", path.display()))?;
    let keys = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| kv.iter().map(|e| e.key.clone()).collect())
        .unwrap_or_default();
    Ok((builder.schema().clone(), keys))
}

/// Differences between a file schema and the expected one.
fn compare(have: &Schema, want: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    for field in want.fields() {
        match have.field_with_name(field.name()) {
            Ok(h) => problems.extend(compare_field(h, field)),
            Err(_) => problems.push(format!("column `{}` is missing", field.name())),
        }
    }
    for field in have.fields() {
        if want.field_with_name(field.name()).is_err() {
            problems.push(format!("unexpected column `{}`", field.name()));
        }
    }
    if problems.is_empty() {
        let order_have: Vec<&String> = have.fields().iter().map(|f| f.name()).collect();
        let order_want: Vec<&String> = want.fields().iter().map(|f| f.name()).collect();
        if order_have != order_want {
            problems.push("columns are in another order".into());
        }
    }
    problems
}

fn compare_field(have: &Field, want: &Field) -> Vec<String> {
    let mut problems = Vec::new();
    let name = want.name();
    if have.data_type() != want.data_type() {
        problems.push(format!(
            "column `{name}` is {}, expected {}",
            have.data_type(),
            want.data_type()
        ));
    }
    if have.is_nullable() != want.is_nullable() {
        let null = |n: bool| if n { "nullable" } else { "not nullable" };
        problems.push(format!(
            "column `{name}` is {}, expected {}",
            null(have.is_nullable()),
            null(want.is_nullable())
        ));
    }
    if let Some(unit) = want.metadata().get("unit")
        && have.metadata().get("unit") != Some(unit)
    {
        problems.push(format!("column `{name}` lacks field metadata unit={unit}"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::DataType;
    use pixmo_annotation_schema::Dataset;

    use super::*;

    #[test]
    fn schema_differences_are_named() {
        let want = Dataset::Points.schema().schema;
        assert!(compare(&want, &want).is_empty());
        let fields: Vec<Field> = want
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                "width" => Field::new("width", DataType::Int64, false),
                "points" => f.as_ref().clone().with_metadata(Default::default()),
                _ => f.as_ref().clone(),
            })
            .filter(|f| f.name() != "label")
            .collect();
        let have = Arc::new(Schema::new(fields));
        let problems = compare(&have, &want);
        assert_eq!(
            problems,
            vec![
                "column `points` lacks field metadata unit=percent".to_string(),
                "column `label` is missing".to_string(),
                "column `width` is Int64, expected UInt32".to_string(),
            ]
        );
    }
}
