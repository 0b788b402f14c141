//! Statistics for the card, gathered in one streaming pass over a few columns.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StructArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, UInt32Type};
use pixmo_annotation_schema::{ModelUse, StageUse};

use crate::error::Result;
use crate::extension::{CardExtension, column, strings, wrong};
use crate::read::{DatasetFiles, for_each_batch};

/// Distinct values counted per text column before the count is reported as a lower bound.
pub(crate) const DISTINCT_CAP: usize = 100_000;

/// One split's size.
#[derive(Clone, Debug, Default)]
pub(crate) struct SplitStats {
    /// Rows counted in the shards.
    pub rows: u64,
    /// Rejected records (markers).
    pub rejects: u64,
    /// Shard files.
    pub shards: usize,
    /// Bytes of the data files on disk.
    pub bytes: u64,
}

/// The lineage recorded in the first row's provenance.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lineage {
    /// Stages, in execution order.
    pub stages: Vec<StageUse>,
    /// Models.
    pub models: Vec<ModelUse>,
    /// Source kinds.
    pub source_kinds: Vec<String>,
}

/// What a generic column summary holds.
#[derive(Clone, Debug)]
pub(crate) enum Summary {
    /// Strings: distinct values (up to [`DISTINCT_CAP`]) and total length.
    Text {
        /// Distinct values seen.
        distinct: HashSet<String>,
        /// Whether more than [`DISTINCT_CAP`] values were seen.
        capped: bool,
        /// Sum of the value lengths, in characters.
        chars: u64,
    },
    /// Numbers: min, max, sum.
    Number {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
        /// Sum of the values.
        sum: f64,
    },
    /// Booleans: how many are true.
    Bool {
        /// True values.
        trues: u64,
    },
    /// Lists: total number of items.
    List {
        /// Items over all rows.
        items: u64,
    },
    /// Anything else: only nulls are counted.
    Other,
}

/// Generic statistics of one column.
#[derive(Clone, Debug)]
pub(crate) struct ColumnStats {
    /// Column name.
    pub name: String,
    /// Arrow type, as text.
    pub data_type: String,
    /// Null values.
    pub nulls: u64,
    /// Non-null values.
    pub values: u64,
    /// Type-specific summary.
    pub summary: Summary,
}

/// Everything the card reports.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stats {
    /// Per split.
    pub splits: BTreeMap<String, SplitStats>,
    /// Rejected records by (stage, kind).
    pub rejects_by: BTreeMap<(String, String), u64>,
    /// Rows per (width, height).
    pub sizes: BTreeMap<(u32, u32), u64>,
    /// Rows whose provenance claims `vlm_free`.
    pub vlm_free: u64,
    /// Lineage of the first row.
    pub lineage: Option<Lineage>,
    /// Generic column statistics (unless the extension turns them off).
    pub columns: Vec<ColumnStats>,
}

impl Stats {
    /// Rows over all splits.
    pub fn rows(&self) -> u64 {
        self.splits.values().map(|s| s.rows).sum()
    }

    /// Rejects over all splits.
    pub fn rejects(&self) -> u64 {
        self.splits.values().map(|s| s.rejects).sum()
    }

    /// Data bytes over all splits.
    pub fn bytes(&self) -> u64 {
        self.splits.values().map(|s| s.bytes).sum()
    }
}

/// Reads the statistics of a dataset: the shards' small columns (never the image bytes),
/// the rejects files' stage and kind, and the first row's provenance; the extension sees
/// every batch.
pub(crate) fn gather(files: &DatasetFiles, extension: &mut dyn CardExtension) -> Result<Stats> {
    let schema = files.dataset.schema().schema;
    let generic: Vec<String> = if extension.column_statistics() {
        schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !matches!(n.as_str(), "image" | "provenance" | "width" | "height"))
            .collect()
    } else {
        Vec::new()
    };
    let mut columns: Vec<&str> = vec!["width", "height", "provenance.vlm_free"];
    let extra = extension.columns();
    columns.extend(extra.iter().copied());
    columns.extend(generic.iter().map(String::as_str));
    let mut stats = Stats {
        columns: generic
            .iter()
            .map(|name| new_column_stats(name, &schema))
            .collect(),
        ..Stats::default()
    };
    for (split, shards) in &files.splits {
        extension.begin_split(split);
        let mut split_stats = SplitStats {
            shards: shards.len(),
            ..SplitStats::default()
        };
        for marker in shards {
            let path = files.path(&marker.file);
            split_stats.bytes += marker.bytes;
            split_stats.rejects += marker.rejects;
            for_each_batch(&path, &columns, None, |batch| {
                split_stats.rows += batch.num_rows() as u64;
                add_common(&mut stats, batch, &path)?;
                extension.add_batch(batch, &path)?;
                for column in &mut stats.columns {
                    add_generic(column, batch);
                }
                Ok(())
            })?;
            let rejects = files.path(&marker.rejects_file);
            if marker.rejects > 0 && rejects.is_file() {
                for_each_batch(&rejects, &["stage", "kind"], None, |batch| {
                    let stage = strings(batch, "stage", &rejects)?;
                    let kind = strings(batch, "kind", &rejects)?;
                    let (stage, kind) = (stage.as_string::<i32>(), kind.as_string::<i32>());
                    for i in 0..batch.num_rows() {
                        let key = (stage.value(i).to_string(), kind.value(i).to_string());
                        *stats.rejects_by.entry(key).or_default() += 1;
                    }
                    Ok(())
                })?;
            }
        }
        stats.splits.insert(split.clone(), split_stats);
    }
    let first = files.splits.values().flatten().find(|m| m.rows > 0);
    if let Some(marker) = first {
        let path = files.path(&marker.file);
        for_each_batch(&path, &["provenance"], Some(1), |batch| {
            if stats.lineage.is_none() && batch.num_rows() > 0 {
                stats.lineage = Some(lineage(batch, &path)?);
            }
            Ok(())
        })?;
    }
    Ok(stats)
}

/// A column cast to `UInt32`.
fn u32s(batch: &RecordBatch, name: &str, path: &Path) -> Result<ArrayRef> {
    cast(column(batch, name, path)?, &DataType::UInt32)
        .map_err(|_| wrong(path, name, "an unsigned integer"))
}

fn add_common(stats: &mut Stats, batch: &RecordBatch, path: &Path) -> Result<()> {
    let widths = u32s(batch, "width", path)?;
    let heights = u32s(batch, "height", path)?;
    let (widths, heights) = (
        widths.as_primitive::<UInt32Type>(),
        heights.as_primitive::<UInt32Type>(),
    );
    for i in 0..batch.num_rows() {
        *stats
            .sizes
            .entry((widths.value(i), heights.value(i)))
            .or_default() += 1;
    }
    let provenance = column(batch, "provenance", path)?
        .as_struct_opt()
        .ok_or_else(|| wrong(path, "provenance", "a struct"))?;
    let claims = provenance
        .column_by_name("vlm_free")
        .and_then(|c| c.as_boolean_opt())
        .ok_or_else(|| wrong(path, "provenance.vlm_free", "a boolean"))?;
    stats.vlm_free += claims.true_count() as u64;
    Ok(())
}

fn new_column_stats(name: &str, schema: &arrow::datatypes::Schema) -> ColumnStats {
    let data_type = schema
        .field_with_name(name)
        .map(|f| f.data_type().clone())
        .unwrap_or(DataType::Null);
    let summary = match &data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Summary::Text {
            distinct: HashSet::new(),
            capped: false,
            chars: 0,
        },
        t if t.is_numeric() => Summary::Number {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
        },
        DataType::Boolean => Summary::Bool { trues: 0 },
        DataType::List(_) | DataType::LargeList(_) => Summary::List { items: 0 },
        _ => Summary::Other,
    };
    ColumnStats {
        name: name.to_string(),
        data_type: data_type.to_string(),
        nulls: 0,
        values: 0,
        summary,
    }
}

fn add_generic(stats: &mut ColumnStats, batch: &RecordBatch) {
    let Some(array) = batch.column_by_name(&stats.name) else {
        return;
    };
    let nulls = array.null_count() as u64;
    stats.nulls += nulls;
    stats.values += array.len() as u64 - nulls;
    match &mut stats.summary {
        Summary::Text {
            distinct,
            capped,
            chars,
        } => {
            if let Ok(text) = cast(array, &DataType::Utf8) {
                for value in text.as_string::<i32>().iter().flatten() {
                    *chars += value.chars().count() as u64;
                    if distinct.len() < DISTINCT_CAP {
                        distinct.insert(value.to_string());
                    } else if !distinct.contains(value) {
                        *capped = true;
                    }
                }
            }
        }
        Summary::Number { min, max, sum } => {
            if let Ok(numbers) = cast(array, &DataType::Float64) {
                for value in numbers.as_primitive::<Float64Type>().iter().flatten() {
                    *min = min.min(value);
                    *max = max.max(value);
                    *sum += value;
                }
            }
        }
        Summary::Bool { trues } => {
            if let Some(b) = array.as_boolean_opt() {
                *trues += b.true_count() as u64;
            }
        }
        Summary::List { items } => {
            if let Some(list) = array.as_list_opt::<i32>() {
                let offsets = list.value_offsets();
                let first = offsets.first().copied().unwrap_or(0);
                let last = offsets.last().copied().unwrap_or(0);
                *items += u64::try_from(last - first).unwrap_or(0);
            }
        }
        Summary::Other => {}
    }
}

/// Stages, models and source kinds of the first row of `batch`.
fn lineage(batch: &RecordBatch, path: &Path) -> Result<Lineage> {
    let provenance = column(batch, "provenance", path)?
        .as_struct_opt()
        .ok_or_else(|| wrong(path, "provenance", "a struct"))?;
    let items = |name: &str| -> Result<StructArray> {
        let list = provenance
            .column_by_name(name)
            .and_then(|c| c.as_list_opt::<i32>())
            .ok_or_else(|| wrong(path, "provenance", "a struct of lists"))?;
        let values = list.value(0);
        values
            .as_struct_opt()
            .cloned()
            .ok_or_else(|| wrong(path, "provenance", "a struct of lists of structs"))
    };
    let text = |s: &StructArray, field: &str, i: usize| -> Option<String> {
        let column = s.column_by_name(field)?;
        let column = cast(column, &DataType::Utf8).ok()?;
        let column = column.as_string::<i32>();
        (!column.is_null(i)).then(|| column.value(i).to_string())
    };
    let stages = items("stages")?;
    let models = items("models")?;
    let sources = items("sources")?;
    let uses_vlm = stages
        .column_by_name("uses_vlm")
        .and_then(|c| c.as_boolean_opt().cloned());
    Ok(Lineage {
        stages: (0..stages.len())
            .map(|i| StageUse {
                name: text(&stages, "name", i).unwrap_or_default(),
                kind: text(&stages, "kind", i).unwrap_or_default(),
                version: text(&stages, "version", i).unwrap_or_default(),
                config_hash: text(&stages, "config_hash", i).unwrap_or_default(),
                uses_vlm: uses_vlm.as_ref().is_some_and(|b| b.value(i)),
            })
            .collect(),
        models: (0..models.len())
            .map(|i| ModelUse {
                stage: text(&models, "stage", i).unwrap_or_default(),
                kind: text(&models, "kind", i).unwrap_or_default(),
                name: text(&models, "name", i).unwrap_or_default(),
                file_sha256: text(&models, "file_sha256", i).unwrap_or_default(),
                prompt_template_id: text(&models, "prompt_template_id", i),
                prompt_template_sha256: text(&models, "prompt_template_sha256", i),
                parameters: text(&models, "parameters", i),
            })
            .collect(),
        source_kinds: {
            let mut kinds: Vec<String> = (0..sources.len())
                .filter_map(|i| text(&sources, "kind", i))
                .collect();
            kinds.sort();
            kinds.dedup();
            kinds
        },
    })
}
