//! PixMo-CapQA's records: the rows of a finished PixMo-Cap dataset, read from its shards.
//!
//! CapQA record `i` of a split is Cap row `i` of that split in the Cap run's shard order
//! (generation by generation, as `manifest.json` lists them). Cap only ever appends shards, so
//! a CapQA build that ran before Cap grew stays valid: the next CapQA build computes the
//! dialogues of the new Cap rows only. Each revision of a Cap row gets its own dialogue.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use pixmo_shards::{DatasetLayout, DatasetManifest};
use serde::{Deserialize, Serialize};

/// One Cap row as a CapQA record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapRowRef {
    /// The Cap row id.
    pub cap_id: String,
    /// Its caption.
    pub caption: String,
    /// Its image URL, if any.
    pub image_url: Option<String>,
    /// SHA-256 of its image.
    pub image_sha256: String,
    /// The shard holding it.
    pub shard: PathBuf,
    /// Its row in the shard.
    pub row: usize,
}

/// A finished Cap dataset as a record source.
#[derive(Debug)]
pub struct CapSource {
    name: String,
    records: BTreeMap<String, Vec<CapRowRef>>,
}

/// The Cap dataset folder: `path` itself or `path/cap`.
fn cap_root(path: &Path) -> PathBuf {
    if path.join("manifest.json").is_file() {
        path.to_path_buf()
    } else {
        path.join("cap")
    }
}

impl CapSource {
    /// Reads the finished Cap dataset at `path` (its folder, or an output folder holding
    /// `cap/`), without the image bytes.
    ///
    /// # Errors
    /// A message when there is no finished Cap dataset or a shard cannot be read.
    pub fn open(path: &Path) -> Result<CapSource, String> {
        let root = cap_root(path);
        let parent = root.parent().unwrap_or_else(|| Path::new("."));
        let layout = DatasetLayout::new(parent, "cap");
        let manifest = DatasetManifest::load(&layout).map_err(|e| {
            format!(
                "No finished PixMo-Cap dataset at `{}` ({e}); build it with `pixmo build cap --inbox DIR` (or run `pixmo finalize` after its workers)",
                root.display()
            )
        })?;
        if manifest.run.identity.dataset != "cap" {
            return Err(format!(
                "`{}` holds `{}`, not PixMo-Cap",
                root.display(),
                manifest.run.identity.dataset
            ));
        }
        let mut records = BTreeMap::new();
        for (split, shards) in &manifest.splits {
            let mut list = Vec::new();
            for marker in &shards.shards {
                let shard = root.join(&marker.file);
                read_rows(&shard, &mut list)?;
            }
            records.insert(split.clone(), list);
        }
        Ok(CapSource {
            name: format!("PixMo-Cap at `{}`", root.display()),
            records,
        })
    }

    /// Records per split.
    #[must_use]
    pub fn records(&self) -> &BTreeMap<String, Vec<CapRowRef>> {
        &self.records
    }
}

fn read_rows(shard: &Path, out: &mut Vec<CapRowRef>) -> Result<(), String> {
    let err = |e: String| format!("Cannot read Cap shard `{}`: {e}", shard.display());
    let file = std::fs::File::open(shard).map_err(|e| err(e.to_string()))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| err(e.to_string()))?;
    let wanted = ["id", "caption", "image_url", "image_sha256"];
    let schema = builder.parquet_schema();
    let indices: Vec<usize> = (0..schema.num_columns())
        .filter(|&i| wanted.contains(&schema.column(i).path().string().as_str()))
        .collect();
    let mask = parquet::arrow::ProjectionMask::leaves(schema, indices);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut row = 0;
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_string_opt::<i32>().cloned())
                .ok_or_else(|| err(format!("no text column `{name}`")))
        };
        let (ids, captions, urls, shas) = (
            text("id")?,
            text("caption")?,
            text("image_url")?,
            text("image_sha256")?,
        );
        for i in 0..batch.num_rows() {
            out.push(CapRowRef {
                cap_id: ids.value(i).to_string(),
                caption: captions.value(i).to_string(),
                image_url: (!urls.is_null(i)).then(|| urls.value(i).to_string()),
                image_sha256: shas.value(i).to_string(),
                shard: shard.to_path_buf(),
                row,
            });
            row += 1;
        }
    }
    Ok(())
}

impl pixmo_dag::RecordSource for CapSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn counts(&self) -> BTreeMap<String, u64> {
        self.records
            .iter()
            .map(|(s, r)| (s.clone(), r.len() as u64))
            .collect()
    }

    fn describe(&self, split: &str, index: u64) -> Option<serde_json::Value> {
        let r = self.records.get(split)?.get(usize::try_from(index).ok()?)?;
        serde_json::to_value(r).ok()
    }
}

/// The image bytes of row `row` of `shard`.
///
/// # Errors
/// A message when the shard or the row cannot be read.
pub fn read_image(shard: &Path, row: usize) -> Result<(Vec<u8>, u32, u32), String> {
    let err = |e: String| {
        format!(
            "Cannot read the image of row {row} of `{}`: {e}",
            shard.display()
        )
    };
    let file = std::fs::File::open(shard).map_err(|e| err(e.to_string()))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| err(e.to_string()))?;
    let schema = builder.parquet_schema();
    let indices: Vec<usize> = (0..schema.num_columns())
        .filter(|&i| {
            let p = schema.column(i).path().string();
            p == "image.bytes" || p == "width" || p == "height"
        })
        .collect();
    let mask = parquet::arrow::ProjectionMask::leaves(schema, indices);
    let selection = parquet::arrow::arrow_reader::RowSelection::from(vec![
        parquet::arrow::arrow_reader::RowSelector::skip(row),
        parquet::arrow::arrow_reader::RowSelector::select(1),
    ]);
    let mut reader = builder
        .with_projection(mask)
        .with_row_selection(selection)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let batch = reader
        .next()
        .ok_or_else(|| err("no such row".into()))?
        .map_err(|e| err(e.to_string()))?;
    let image = batch
        .column_by_name("image")
        .and_then(|c| c.as_struct_opt().cloned())
        .ok_or_else(|| err("no `image` column".into()))?;
    let bytes = image
        .column_by_name("bytes")
        .and_then(|c| c.as_binary_opt::<i32>().cloned())
        .ok_or_else(|| err("no `image.bytes`".into()))?;
    let dim = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| {
                c.as_primitive_opt::<arrow::datatypes::UInt32Type>()
                    .cloned()
            })
            .map(|a| a.value(0))
            .ok_or_else(|| err(format!("no `{name}`")))
    };
    Ok((bytes.value(0).to_vec(), dim("width")?, dim("height")?))
}
