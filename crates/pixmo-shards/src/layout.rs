//! Where a dataset's files live.
//!
//! Names never change once a file is committed: a shard is named by its generation (one per
//! build that added records) and its index within that generation's slice of the split,
//! never by a total that growth would change.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One logical shard: records `start..end` of a split, added by generation `generation`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShardId {
    /// Split name.
    pub split: String,
    /// Generation that added the records.
    pub generation: u32,
    /// Index within the generation's records of the split.
    pub index: u32,
    /// First record index covered.
    pub start: u64,
    /// One past the last record index covered.
    pub end: u64,
}

impl ShardId {
    /// `part-GGGGG-SSSSS`: generation and index, the stem of every file of the shard.
    #[must_use]
    pub fn stem(&self) -> String {
        format!("part-{:05}-{:05}", self.generation, self.index)
    }

    /// `split/part-GGGGG-SSSSS`, for messages.
    #[must_use]
    pub fn label(&self) -> String {
        format!("{}/{}", self.split, self.stem())
    }

    /// Records covered.
    #[must_use]
    pub fn records(&self) -> u64 {
        self.end - self.start
    }
}

/// Paths of one dataset under an output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetLayout {
    /// `OUT/<dataset>`.
    pub root: PathBuf,
}

impl DatasetLayout {
    /// The layout of `dataset` under `out`.
    #[must_use]
    pub fn new(out: &Path, dataset: &str) -> DatasetLayout {
        DatasetLayout {
            root: out.join(dataset),
        }
    }

    /// Folder of one split's data shards.
    #[must_use]
    pub fn split_dir(&self, split: &str) -> PathBuf {
        self.root.join(split)
    }

    /// A data shard: `<split>/part-GGGGG-SSSSS.parquet`.
    #[must_use]
    pub fn data_path(&self, id: &ShardId) -> PathBuf {
        self.split_dir(&id.split)
            .join(format!("{}.parquet", id.stem()))
    }

    /// The rejects file of a shard.
    #[must_use]
    pub fn rejects_path(&self, id: &ShardId) -> PathBuf {
        self.state_dir()
            .join("rejects")
            .join(&id.split)
            .join(format!("{}.parquet", id.stem()))
    }

    /// The commit marker of a shard.
    #[must_use]
    pub fn marker_path(&self, id: &ShardId) -> PathBuf {
        self.marker_dir(&id.split)
            .join(format!("{}.json", id.stem()))
    }

    /// The hidden state folder.
    #[must_use]
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".pixmo")
    }

    /// The run identity file (written once).
    #[must_use]
    pub fn run_state_path(&self) -> PathBuf {
        self.state_dir().join("run.json")
    }

    /// Folder of the generation files (one per build that added records, each written once).
    #[must_use]
    pub fn generations_dir(&self) -> PathBuf {
        self.state_dir().join("generations")
    }

    /// One generation's file.
    #[must_use]
    pub fn generation_path(&self, generation: u32) -> PathBuf {
        self.generations_dir().join(format!("{generation:05}.json"))
    }

    /// Folder of the workers' leases.
    #[must_use]
    pub fn lease_dir(&self) -> PathBuf {
        self.state_dir().join("leases")
    }

    /// Folder of one split's commit markers.
    #[must_use]
    pub fn marker_dir(&self, split: &str) -> PathBuf {
        self.state_dir().join("commits").join(split)
    }

    /// Where corrupted files are moved.
    #[must_use]
    pub fn quarantine_dir(&self) -> PathBuf {
        self.state_dir().join("quarantine")
    }

    /// The dataset manifest written by finalize.
    #[must_use]
    pub fn manifest_path(&self) -> PathBuf {
        self.root.join("manifest.json")
    }

    /// Path relative to the dataset root, with `/` separators, for markers and manifests.
    #[must_use]
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Resolves a root-relative path written in a marker, refusing anything that could
    /// leave the root: absolute paths, `..`, `.`, empty parts, backslashes, and symbolic
    /// links anywhere between the root and the file (the file itself included).
    ///
    /// # Errors
    /// A message saying why the path is refused.
    pub fn confine(&self, relative: &str) -> Result<PathBuf, String> {
        if relative.is_empty() || relative.contains('\\') || relative.contains('\0') {
            return Err(format!("`{relative}` is not a plain relative path"));
        }
        let path = Path::new(relative);
        let parts: Vec<&str> = relative.split('/').collect();
        if path.is_absolute()
            || parts
                .iter()
                .any(|p| p.is_empty() || *p == "." || *p == "..")
            || path
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!("`{relative}` leaves the dataset root"));
        }
        let mut at = self.root.clone();
        for part in parts {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(format!(
                        "`{}` is a symbolic link; pixmo does not follow links out of the dataset root",
                        self.relative(&at)
                    ));
                }
                _ => {}
            }
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_generation_and_index_only() {
        let layout = DatasetLayout::new(Path::new("/out"), "clocks");
        let id = ShardId {
            split: "train".into(),
            generation: 2,
            index: 7,
            start: 700,
            end: 800,
        };
        assert_eq!(
            layout.relative(&layout.data_path(&id)),
            "train/part-00002-00007.parquet"
        );
        assert_eq!(
            layout.relative(&layout.marker_path(&id)),
            ".pixmo/commits/train/part-00002-00007.json"
        );
    }

    #[test]
    fn confine_refuses_escapes() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = DatasetLayout::new(tmp.path(), "clocks");
        std::fs::create_dir_all(layout.root.join("train")).unwrap();
        assert!(layout.confine("train/part-00000-00000.parquet").is_ok());
        for bad in [
            "/etc/passwd",
            "../x",
            "train/../../x",
            "./train/x",
            "train//x",
            "",
            "a\\b",
        ] {
            assert!(layout.confine(bad).is_err(), "{bad}");
        }
        std::os::unix::fs::symlink("/etc", layout.root.join("evil")).unwrap();
        let err = layout.confine("evil/passwd").unwrap_err();
        assert!(err.contains("symbolic link"), "{err}");
    }
}
