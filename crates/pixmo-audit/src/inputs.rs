//! What an audit or a query starts from: the run, the manifest, the commit markers and the
//! shard files they name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pixmo_annotation_schema::{Dataset, DatasetSchema};
use pixmo_shards::{DatasetLayout, DatasetManifest, RunState, ShardMarker};

use crate::error::{AuditError, Result};

/// One dataset's state files, read once.
#[derive(Debug)]
pub(crate) struct DatasetInputs {
    /// Paths under the dataset root.
    pub layout: DatasetLayout,
    /// `.pixmo/run.json`.
    pub run: RunState,
    /// The dataset's schema, when the run names a known dataset.
    pub schema: DatasetSchema,
    /// `manifest.json`, or why it could not be read.
    pub manifest: std::result::Result<DatasetManifest, String>,
    /// Commit markers found on disk, by split, sorted by shard index.
    pub markers: BTreeMap<String, Vec<ShardMarker>>,
    /// Marker files that could not be parsed.
    pub bad_markers: Vec<String>,
    /// Split names from the run, the manifest and the marker folders.
    pub splits: Vec<String>,
}

impl DatasetInputs {
    /// Reads the state of the dataset at `root`.
    pub fn load(root: &Path) -> Result<DatasetInputs> {
        let layout = DatasetLayout {
            root: root.to_path_buf(),
        };
        let run = RunState::load(&layout)
            .map_err(|source| AuditError::State {
                path: root.to_path_buf(),
                source,
            })?
            .ok_or_else(|| AuditError::NotADataset {
                path: root.to_path_buf(),
            })?;
        let dataset = Dataset::from_name(&run.identity.dataset).ok_or_else(|| {
            AuditError::UnknownDataset {
                path: root.to_path_buf(),
                name: run.identity.dataset.clone(),
            }
        })?;
        let manifest = if layout.manifest_path().is_file() {
            DatasetManifest::load(&layout).map_err(|e| crate::error::chain(&e))
        } else {
            Err(format!(
                "`{}` is missing; run `pixmo finalize`",
                layout.manifest_path().display()
            ))
        };
        let (markers, bad_markers) = load_markers(&layout)?;
        let mut splits: Vec<String> = run.counts.keys().cloned().collect();
        if let Ok(m) = &manifest {
            splits.extend(m.splits.keys().cloned());
        }
        splits.extend(markers.keys().cloned());
        splits.sort();
        splits.dedup();
        Ok(DatasetInputs {
            layout,
            run,
            schema: dataset.schema(),
            manifest,
            markers,
            bad_markers,
            splits,
        })
    }

    /// The dataset root.
    pub fn root(&self) -> &Path {
        &self.layout.root
    }

    /// Every shard the run knows of, by split: the on-disk markers plus manifest entries
    /// whose marker is gone, deduplicated by (generation, shard index) (the on-disk marker wins).
    pub fn all_shards(&self) -> BTreeMap<String, Vec<ShardMarker>> {
        let mut by_split: BTreeMap<String, BTreeMap<(u32, u32), ShardMarker>> = BTreeMap::new();
        if let Ok(manifest) = &self.manifest {
            for (split, m) in &manifest.splits {
                for shard in &m.shards {
                    by_split
                        .entry(split.clone())
                        .or_default()
                        .insert((shard.generation, shard.shard_index), shard.clone());
                }
            }
        }
        for (split, markers) in &self.markers {
            for marker in markers {
                by_split
                    .entry(split.clone())
                    .or_default()
                    .insert((marker.generation, marker.shard_index), marker.clone());
            }
        }
        self.splits
            .iter()
            .map(|split| {
                let shards = by_split.remove(split).unwrap_or_default();
                (split.clone(), shards.into_values().collect())
            })
            .collect()
    }

    /// [`DatasetInputs::all_shards`] whose data file exists: what the tables read.
    pub fn readable_shards(&self) -> BTreeMap<String, Vec<ShardMarker>> {
        let mut shards = self.all_shards();
        for list in shards.values_mut() {
            list.retain(|m| self.layout.root.join(&m.file).is_file());
        }
        shards
    }

    /// Absolute paths of the data files of one split.
    pub fn data_files(&self, shards: &[ShardMarker]) -> Vec<PathBuf> {
        shards
            .iter()
            .map(|m| self.layout.root.join(&m.file))
            .collect()
    }

    /// Absolute paths of the rejects files of one split that exist.
    pub fn rejects_files(&self, shards: &[ShardMarker]) -> Vec<PathBuf> {
        shards
            .iter()
            .map(|m| self.layout.root.join(&m.rejects_file))
            .filter(|p| p.is_file())
            .collect()
    }
}

/// Commit markers by split, and the problems of those that could not be parsed.
type Markers = (BTreeMap<String, Vec<ShardMarker>>, Vec<String>);

/// Reads `.pixmo/commits/<split>/part-*.json`.
fn load_markers(layout: &DatasetLayout) -> Result<Markers> {
    let commits = layout.state_dir().join("commits");
    let mut markers = BTreeMap::new();
    let mut bad = Vec::new();
    for split_dir in sorted_entries(&commits)? {
        if !split_dir.is_dir() {
            continue;
        }
        let split = file_name(&split_dir);
        let mut list: Vec<ShardMarker> = Vec::new();
        for path in sorted_entries(&split_dir)? {
            let name = file_name(&path);
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            match ShardMarker::load(&path) {
                Ok(Some(marker)) => list.push(marker),
                Ok(None) => {}
                Err(e) => bad.push(crate::error::chain(&e)),
            }
        }
        list.sort_by_key(|m| (m.generation, m.shard_index));
        markers.insert(split, list);
    }
    Ok((markers, bad))
}

/// Entries of a folder, sorted; an absent folder is empty.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(AuditError::Io {
                action: "list",
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    Ok(paths)
}

/// The last component of a path as a string.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
