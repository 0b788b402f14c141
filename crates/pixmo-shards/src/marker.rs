//! Commit markers: the proof that a shard is complete.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::{DatasetLayout, ShardId};
use crate::writer::atomic_write;

/// Written after a shard's files are in place; a shard without one is not committed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardMarker {
    /// Dataset name.
    pub dataset: String,
    /// Split name.
    pub split: String,
    /// Generation that added the shard's records.
    pub generation: u32,
    /// Shard index within the generation's records of the split.
    pub shard_index: u32,
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
    /// SHA-256 of the data file, computed once while writing it.
    pub sha256: String,
    /// Rejects file, relative to the dataset root.
    pub rejects_file: String,
    /// Rows in the rejects file.
    pub rejects: u64,
    /// Size of the rejects file in bytes.
    pub rejects_bytes: u64,
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

/// How thoroughly to check a committed shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Both files exist as regular files inside the root with the marker's sizes: what a
    /// resume or finalize does, without reading the data.
    Quick,
    /// Also re-hash every byte (`pixmo verify`).
    Full,
}

impl ShardMarker {
    /// Reads a marker; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Option<ShardMarker>> {
        crate::manifest::read_json(path)
    }

    /// The logical shard this marker commits.
    #[must_use]
    pub fn id(&self) -> ShardId {
        ShardId {
            split: self.split.clone(),
            generation: self.generation,
            index: self.shard_index,
            start: self.start,
            end: self.end,
        }
    }

    /// Writes the marker atomically. This is the commit point of a shard.
    ///
    /// # Errors
    /// On I/O failure.
    pub fn store(&self, layout: &DatasetLayout) -> Result<()> {
        let path = layout.marker_path(&self.id());
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        atomic_write(&path, &json)
    }

    /// Checks that the marker commits exactly `id` of the run `(config_hash, seed)` and
    /// names the files where that shard must live. A marker that names any other file (an
    /// absolute path, `..`, another shard's file) is refused without touching that file.
    ///
    /// # Errors
    /// A message saying what does not match.
    pub fn check_identity(
        &self,
        layout: &DatasetLayout,
        id: &ShardId,
        config_hash: &str,
        seed: u64,
    ) -> std::result::Result<(), String> {
        if &self.id() != id {
            return Err(format!(
                "marker of {} describes {} (records {}..{})",
                id.label(),
                self.id().label(),
                self.start,
                self.end
            ));
        }
        let want_data = layout.relative(&layout.data_path(id));
        let want_rejects = layout.relative(&layout.rejects_path(id));
        if self.file != want_data || self.rejects_file != want_rejects {
            return Err(format!(
                "marker of {} names `{}` and `{}`, not `{want_data}` and `{want_rejects}`",
                id.label(),
                self.file,
                self.rejects_file
            ));
        }
        if self.config_hash != config_hash || self.seed != seed {
            return Err(format!("marker of {} belongs to another run", id.label()));
        }
        Ok(())
    }

    /// Checks the data and rejects files against the marker. Paths are confined to the
    /// root (no links followed).
    ///
    /// # Errors
    /// [`Error::Corrupt`] naming the mismatch, or an I/O error.
    pub fn verify(&self, layout: &DatasetLayout, check: Check) -> Result<()> {
        check_file(layout, &self.file, self.bytes, &self.sha256, check)?;
        check_file(
            layout,
            &self.rejects_file,
            self.rejects_bytes,
            &self.rejects_sha256,
            check,
        )
    }
}

fn check_file(
    layout: &DatasetLayout,
    relative: &str,
    bytes: u64,
    sha256: &str,
    check: Check,
) -> Result<()> {
    let path = layout.confine(relative).map_err(|message| Error::Corrupt {
        path: layout.root.join("<refused>"),
        message,
    })?;
    let corrupt = |message: String| Error::Corrupt {
        path: path.clone(),
        message,
    };
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(corrupt("the file is missing".into()));
        }
        Err(e) => return Err(Error::io("stat", &path, e)),
    };
    if !meta.is_file() {
        return Err(corrupt("not a regular file".into()));
    }
    if meta.len() != bytes {
        return Err(corrupt(format!(
            "{} bytes, the marker says {bytes}",
            meta.len()
        )));
    }
    if check == Check::Full {
        let have = crate::hash_file(&path)?;
        if have != sha256 {
            return Err(corrupt(format!("sha256 {have}, the marker says {sha256}")));
        }
    }
    Ok(())
}
