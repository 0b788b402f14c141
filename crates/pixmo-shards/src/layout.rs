//! Where a dataset's files live.

use std::path::{Path, PathBuf};

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

    /// File name of a data shard: `part-SSSSS-of-NNNNN.parquet`.
    #[must_use]
    pub fn shard_name(index: u32, total: u32) -> String {
        format!("part-{index:05}-of-{total:05}.parquet")
    }

    /// Folder of one split's data shards.
    #[must_use]
    pub fn split_dir(&self, split: &str) -> PathBuf {
        self.root.join(split)
    }

    /// A data shard.
    #[must_use]
    pub fn shard_path(&self, split: &str, index: u32, total: u32) -> PathBuf {
        self.split_dir(split).join(Self::shard_name(index, total))
    }

    /// The hidden state folder.
    #[must_use]
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".pixmo")
    }

    /// The run state file.
    #[must_use]
    pub fn run_state_path(&self) -> PathBuf {
        self.state_dir().join("run.json")
    }

    /// Folder of one split's commit markers.
    #[must_use]
    pub fn marker_dir(&self, split: &str) -> PathBuf {
        self.state_dir().join("commits").join(split)
    }

    /// The commit marker of a shard (independent of the total, so a grown run finds it).
    #[must_use]
    pub fn marker_path(&self, split: &str, index: u32) -> PathBuf {
        self.marker_dir(split).join(format!("part-{index:05}.json"))
    }

    /// The rejects file of a shard.
    #[must_use]
    pub fn rejects_path(&self, split: &str, index: u32, total: u32) -> PathBuf {
        self.state_dir()
            .join("rejects")
            .join(split)
            .join(Self::shard_name(index, total))
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
}
