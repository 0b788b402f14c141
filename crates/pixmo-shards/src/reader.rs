//! Reading shards back.

use std::fs::File;
use std::path::Path;

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Error, Result};

/// Reads every row of a Parquet file as batches of at most `batch_rows` rows.
///
/// # Errors
/// When the file cannot be opened or decoded.
pub fn read_batches(path: &Path, batch_rows: usize) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|source| Error::Parquet {
            path: path.to_path_buf(),
            source,
        })?
        .with_batch_size(batch_rows.max(1))
        .build()
        .map_err(|source| Error::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
    reader
        .map(|b| {
            b.map_err(|source| Error::Arrow {
                path: path.to_path_buf(),
                source,
            })
        })
        .collect()
}

/// Row count and key-value metadata from a Parquet footer, without reading rows.
///
/// # Errors
/// When the footer cannot be read.
pub fn read_rows_meta(path: &Path) -> Result<(u64, Vec<(String, String)>)> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| Error::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
    let meta = builder.metadata().file_metadata();
    let rows = u64::try_from(meta.num_rows()).unwrap_or(0);
    let kv = meta
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|e| (e.key.clone(), e.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    Ok((rows, kv))
}
