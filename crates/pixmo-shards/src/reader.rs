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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BinaryArray, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
    use parquet::file::properties::WriterProperties;

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("text", DataType::Utf8, false),
            Field::new("bytes", DataType::Binary, false),
        ]);
        let ids: Vec<i64> = (0..300).collect();
        let texts: Vec<String> = ids.iter().map(|i| format!("row {i} of a shard")).collect();
        let blobs: Vec<Vec<u8>> = ids
            .iter()
            .map(|&i| (0..64).map(|j| ((i * 31 + j) % 251) as u8).collect())
            .collect();
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(texts)),
                Arc::new(BinaryArray::from_iter_values(
                    blobs.iter().map(Vec::as_slice),
                )),
            ],
        )
        .unwrap()
    }

    /// Shards rewritten by other tools read back: pyarrow and Spark compress with Snappy by
    /// default, others with gzip, LZ4 or Brotli; pixmo itself writes zstd.
    #[test]
    fn shards_compressed_with_any_common_codec_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let expected = batch();
        for (name, codec) in [
            ("snappy", Compression::SNAPPY),
            ("gzip", Compression::GZIP(GzipLevel::default())),
            ("lz4_raw", Compression::LZ4_RAW),
            ("lz4", Compression::LZ4),
            ("brotli", Compression::BROTLI(BrotliLevel::default())),
            ("zstd", Compression::ZSTD(ZstdLevel::default())),
            ("none", Compression::UNCOMPRESSED),
        ] {
            let path = dir.path().join(format!("{name}.parquet"));
            let props = WriterProperties::builder().set_compression(codec).build();
            let file = File::create(&path).unwrap();
            let mut writer = ArrowWriter::try_new(file, expected.schema(), Some(props)).unwrap();
            writer.write(&expected).unwrap();
            writer.close().unwrap();
            let batches = read_batches(&path, 1024).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(batches, vec![expected.clone()], "{name}");
            assert_eq!(read_rows_meta(&path).unwrap().0, 300, "{name}");
        }
    }
}
