//! Writing shards: temporary file, fsync, rename, fsync the folder.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::lease::tmp_path;

/// Parquet settings of the shards. Fixed values make reruns byte-identical.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriterSettings {
    /// Rows per row group (and per write batch, aligned to the shard start).
    pub row_group_rows: usize,
    /// zstd level for non-image columns.
    pub zstd_level: i32,
}

impl Default for WriterSettings {
    fn default() -> WriterSettings {
        WriterSettings {
            row_group_rows: 64,
            zstd_level: 3,
        }
    }
}

/// The Arrow schema of the rejects table.
#[must_use]
pub fn rejects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("record_id", DataType::Utf8, false),
        Field::new("split", DataType::Utf8, false),
        Field::new("record_index", DataType::UInt64, false),
        Field::new("stage", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("message", DataType::Utf8, false),
    ]))
}

/// A file writer that hashes and counts what it writes.
struct HashingFile {
    file: File,
    hasher: Sha256,
    bytes: u64,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// What a finished file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenFile {
    /// Final path.
    pub path: PathBuf,
    /// Rows written.
    pub rows: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// SHA-256 of the bytes.
    pub sha256: String,
}

/// Streams record batches into one Parquet file, committed by [`ShardWriter::finish`].
/// Dropping an unfinished writer removes its temporary file.
pub struct ShardWriter {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<ArrowWriter<HashingFile>>,
    schema: SchemaRef,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    batch_rows: usize,
    rows: u64,
}

impl std::fmt::Debug for ShardWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl ShardWriter {
    /// Starts writing `path` (through a temporary file next to it).
    ///
    /// # Errors
    /// When the folder or file cannot be created.
    pub fn create(
        path: &Path,
        schema: SchemaRef,
        settings: &WriterSettings,
    ) -> Result<ShardWriter> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
        }
        let tmp = tmp_path(path);
        let file = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        let sink = HashingFile {
            file,
            hasher: Sha256::new(),
            bytes: 0,
        };
        let level = ZstdLevel::try_new(settings.zstd_level).unwrap_or_default();
        let mut props = WriterProperties::builder()
            .set_created_by(format!("{} (parquet-rs)", pixmo_core::code_version()))
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(settings.row_group_rows.max(1)))
            .set_write_batch_size(settings.row_group_rows.max(1));
        if schema.field_with_name("image").is_ok() {
            let bytes = ColumnPath::from(vec!["image".to_string(), "bytes".to_string()]);
            props = props
                .set_column_compression(bytes.clone(), Compression::UNCOMPRESSED)
                .set_column_dictionary_enabled(bytes.clone(), false)
                .set_column_statistics_enabled(bytes, EnabledStatistics::None);
        }
        if let Some(features) = schema.metadata().get("huggingface") {
            props = props.set_key_value_metadata(Some(vec![KeyValue::new(
                "huggingface".to_string(),
                features.clone(),
            )]));
        }
        let writer = ArrowWriter::try_new(sink, Arc::clone(&schema), Some(props.build())).map_err(
            |source| Error::Parquet {
                path: tmp.clone(),
                source,
            },
        )?;
        Ok(ShardWriter {
            path: path.to_path_buf(),
            tmp,
            writer: Some(writer),
            schema,
            pending: Vec::new(),
            pending_rows: 0,
            batch_rows: settings.row_group_rows.max(1),
            rows: 0,
        })
    }

    /// Adds rows. Batches are re-cut so that every call into Parquet starts at a multiple of
    /// the row-group size from the shard start: the file's bytes do not depend on how the
    /// caller batched the rows (the property incremental runs rely on).
    ///
    /// # Errors
    /// On a schema mismatch or I/O failure.
    pub fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        while self.pending_rows >= self.batch_rows {
            self.flush_rows(self.batch_rows)?;
        }
        Ok(())
    }

    fn flush_rows(&mut self, n: usize) -> Result<()> {
        let all =
            arrow::compute::concat_batches(&self.schema, &self.pending).map_err(|source| {
                Error::Arrow {
                    path: self.tmp.clone(),
                    source,
                }
            })?;
        let head = all.slice(0, n);
        let rest = all.slice(n, all.num_rows() - n);
        self.pending_rows = rest.num_rows();
        self.pending = if rest.num_rows() > 0 {
            vec![rest]
        } else {
            Vec::new()
        };
        let path = self.tmp.clone();
        if let Some(writer) = self.writer.as_mut() {
            writer
                .write(&head)
                .map_err(|source| parquet_or_io(&path, source))?;
            // Hand each row group to the OS as it completes, keeping memory bounded.
            if writer.in_progress_rows() >= self.batch_rows {
                writer
                    .flush()
                    .map_err(|source| parquet_or_io(&path, source))?;
            }
        }
        self.rows += n as u64;
        Ok(())
    }

    /// Rows written so far (including buffered ones).
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.rows + self.pending_rows as u64
    }

    /// Closes the file, fsyncs it and renames it into place.
    ///
    /// # Errors
    /// On I/O failure; the temporary file is removed and nothing is renamed.
    pub fn finish(mut self) -> Result<WrittenFile> {
        if self.pending_rows > 0 {
            self.flush_rows(self.pending_rows)?;
        }
        let writer = self.writer.take().ok_or_else(|| Error::Corrupt {
            path: self.tmp.clone(),
            message: "writer already finished (likely a bug)".into(),
        })?;
        let sink = writer
            .into_inner()
            .map_err(|source| parquet_or_io(&self.tmp, source))?;
        sink.file
            .sync_all()
            .map_err(|e| Error::io("fsync", &self.tmp, e))?;
        let sha256 = hex::encode(sink.hasher.finalize());
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io("rename", &self.tmp, e))?;
        sync_dir(&self.path)?;
        Ok(WrittenFile {
            path: self.path.clone(),
            rows: self.rows,
            bytes: sink.bytes,
            sha256,
        })
    }
}

impl Drop for ShardWriter {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn parquet_or_io(path: &Path, source: parquet::errors::ParquetError) -> Error {
    if let parquet::errors::ParquetError::External(inner) = &source
        && let Some(io) = inner.downcast_ref::<std::io::Error>()
    {
        return Error::io(
            "write",
            path,
            std::io::Error::new(io.kind(), io.to_string()),
        );
    }
    if source.to_string().contains("No space left") {
        return Error::DiskFull {
            path: path.to_path_buf(),
        };
    }
    Error::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn sync_dir(path: &Path) -> Result<()> {
    let dir = folder_of(path);
    let handle = File::open(dir).map_err(|e| Error::io("open folder", dir, e))?;
    handle
        .sync_all()
        .map_err(|e| Error::io("fsync folder", dir, e))
}

/// The folder that holds `path`: its parent, or `.` for a bare relative name such as
/// `preds.jsonl` (whose parent is the empty path, which cannot be opened).
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Writes `bytes` under a fresh temporary name beside `path` and fsyncs it, then hands the
/// temporary path to `place`; the temporary file is removed afterwards if it is still there.
fn write_then<T>(path: &Path, bytes: &[u8], place: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let dir = folder_of(path);
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    let tmp = tmp_path(path);
    let result = (|| {
        let mut file = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        file.write_all(bytes)
            .map_err(|e| Error::io("write", &tmp, e))?;
        file.sync_all().map_err(|e| Error::io("fsync", &tmp, e))?;
        place(&tmp)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Writes a small file atomically: temporary name, fsync, rename, fsync the folder.
///
/// # Errors
/// On I/O failure; the temporary file is removed.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.is_dir() {
        // Found before writing: the rename would fail naming only the temporary file.
        let folder = std::io::Error::new(std::io::ErrorKind::IsADirectory, "a folder is there");
        return Err(Error::io("write", path, folder));
    }
    write_then(path, bytes, |tmp| {
        std::fs::rename(tmp, path).map_err(|e| Error::io("rename", tmp, e))?;
        sync_dir(path)
    })
}

/// Creates `path` with `bytes` only if it does not exist yet, atomically: the content is
/// written and fsynced under this process's temporary name, then hard-linked to the final
/// name, which fails when another process created it first. Returns whether this process
/// wrote it. Readers never see a partial file.
///
/// # Errors
/// On I/O failure; the temporary file is removed.
pub fn create_once(path: &Path, bytes: &[u8]) -> Result<bool> {
    write_then(path, bytes, |tmp| match std::fs::hard_link(tmp, path) {
        Ok(()) => sync_dir(path).map(|()| true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("link", path, e)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bare file name (a path relative to the working folder) lives in `.`: its parent is
    /// the empty path, which `File::open` cannot open for the folder fsync.
    #[test]
    fn a_small_file_onto_a_folder_is_refused_naming_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let err = atomic_write(dir.path(), b"x").unwrap_err();
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
        assert!(
            matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::IsADirectory),
            "{err:?}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_bare_name_lives_in_the_working_folder() {
        assert_eq!(folder_of(Path::new("preds.jsonl")), Path::new("."));
        assert_eq!(folder_of(Path::new("out/preds.jsonl")), Path::new("out"));
        assert_eq!(folder_of(Path::new("/tmp/x")), Path::new("/tmp"));
        assert!(File::open(folder_of(Path::new("preds.jsonl"))).is_ok());
    }
}
