//! Commit markers: the proof that a shard is complete.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::DatasetLayout;
use crate::writer::atomic_write;

/// Written after a shard's files are in place; a shard without one is not committed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardMarker {
    /// Dataset name.
    pub dataset: String,
    /// Split name.
    pub split: String,
    /// Shard index within the split.
    pub shard_index: u32,
    /// Number of shards of the split when committed.
    pub num_shards: u32,
    /// First record index covered.
    pub start: u64,
    /// One past the last record index covered.
    pub end: u64,
    /// Data file, relative to the dataset root.
    pub file: String,
    /// Rows in the data file.
    pub rows: u64,
    /// Size of the data file in bytes.
    pub bytes: u64,
    /// SHA-256 of the data file.
    pub sha256: String,
    /// Rejects file, relative to the dataset root.
    pub rejects_file: String,
    /// Rows in the rejects file.
    pub rejects: u64,
    /// SHA-256 of the rejects file.
    pub rejects_sha256: String,
    /// Run seed.
    pub seed: u64,
    /// Config hash of the run.
    pub config_hash: String,
    /// Code version that wrote the shard.
    pub code_version: String,
    /// Schema version of the rows.
    pub schema_version: String,
    /// Run id.
    pub run_id: String,
    /// When the shard was committed (RFC 3339, UTC). Kept out of the rows so reruns are
    /// byte-identical.
    pub committed_at: String,
    /// Seconds spent producing the shard.
    pub seconds: f64,
}

impl ShardMarker {
    /// Reads a marker; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Option<ShardMarker>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::BadJson {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// Writes the marker atomically. This is the commit point of a shard.
    ///
    /// # Errors
    /// On I/O failure.
    pub fn store(&self, layout: &DatasetLayout) -> Result<()> {
        let path = layout.marker_path(&self.split, self.shard_index);
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        atomic_write(&path, &json)
    }

    /// Checks the data and rejects files against the marker (size and SHA-256).
    ///
    /// # Errors
    /// [`Error::Corrupt`] naming the mismatch, or an I/O error.
    pub fn verify(&self, layout: &DatasetLayout) -> Result<()> {
        check_file(
            &layout.root.join(&self.file),
            Some(self.bytes),
            &self.sha256,
        )?;
        check_file(
            &layout.root.join(&self.rejects_file),
            None,
            &self.rejects_sha256,
        )
    }
}

fn check_file(path: &Path, bytes: Option<u64>, sha256: &str) -> Result<()> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                message: "the file is missing".into(),
            });
        }
        Err(e) => return Err(Error::io("read", path, e)),
    };
    if let Some(want) = bytes
        && data.len() as u64 != want
    {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            message: format!("{} bytes, the marker says {want}", data.len()),
        });
    }
    let have = pixmo_core::sha256_hex(&data);
    if have != sha256 {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            message: format!("sha256 {have}, the marker says {sha256}"),
        });
    }
    Ok(())
}
