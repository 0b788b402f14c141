//! The run state (what a directory's shards belong to) and the dataset manifest written by
//! finalize after every shard is verified.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::DatasetLayout;
use crate::marker::ShardMarker;
use crate::writer::atomic_write;

/// Identity of the run an output directory holds. Every worker of a sharded run writes the
/// same content; a worker whose config or seed differs refuses to mix its rows in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Pipeline name.
    pub pipeline: String,
    /// Dataset name.
    pub dataset: String,
    /// Config hash (excludes `count`).
    pub config_hash: String,
    /// Run seed.
    pub seed: u64,
    /// Code version.
    pub code_version: String,
    /// Schema version.
    pub schema_version: String,
    /// Run id (hash of config hash, seed and code version).
    pub run_id: String,
    /// Build time written into every row (microseconds since the epoch, UTC).
    pub as_of_us: i64,
    /// Records per shard.
    pub rows_per_shard: u64,
    /// Records per split requested by the latest run.
    pub counts: BTreeMap<String, u64>,
}

impl RunState {
    /// Reads the run state; `Ok(None)` when the directory holds no run yet.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load(layout: &DatasetLayout) -> Result<Option<RunState>> {
        let path = layout.run_state_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::BadJson {
                    path,
                    message: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// Writes the run state atomically.
    ///
    /// # Errors
    /// On I/O failure.
    pub fn store(&self, layout: &DatasetLayout) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        atomic_write(&layout.run_state_path(), &json)
    }

    /// Shards of a split.
    #[must_use]
    pub fn num_shards(&self, split: &str) -> u32 {
        let count = self.counts.get(split).copied().unwrap_or(0);
        u32::try_from(count.div_ceil(self.rows_per_shard.max(1))).unwrap_or(u32::MAX)
    }
}

/// One split in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitManifest {
    /// Rows over all shards.
    pub rows: u64,
    /// Rejected records over all shards.
    pub rejects: u64,
    /// Every shard's marker.
    pub shards: Vec<ShardMarker>,
}

/// The dataset manifest: every shard verified, with totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetManifest {
    /// The run.
    pub run: RunState,
    /// Splits by name.
    pub splits: BTreeMap<String, SplitManifest>,
    /// Rows over all splits.
    pub total_rows: u64,
    /// Rejects over all splits.
    pub total_rejects: u64,
}

impl DatasetManifest {
    /// Reads the manifest of a dataset.
    ///
    /// # Errors
    /// When the file cannot be read or parsed.
    pub fn load(layout: &DatasetLayout) -> Result<DatasetManifest> {
        let path = layout.manifest_path();
        let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::BadJson {
            path,
            message: e.to_string(),
        })
    }

    /// Checks every shard of the run and, when all are committed and intact, writes
    /// `manifest.json`. Returns the manifest, or the list of problems.
    ///
    /// # Errors
    /// I/O errors; problems with shards come back as `Ok(Err(problems))`.
    pub fn finalize(
        layout: &DatasetLayout,
    ) -> Result<std::result::Result<DatasetManifest, Vec<String>>> {
        let Some(run) = RunState::load(layout)? else {
            return Ok(Err(vec![format!(
                "`{}` holds no pixmo run (no .pixmo/run.json)",
                layout.root.display()
            )]));
        };
        let mut problems = Vec::new();
        let mut splits = BTreeMap::new();
        for (split, count) in &run.counts {
            let n = run.num_shards(split);
            let mut manifest = SplitManifest {
                rows: 0,
                rejects: 0,
                shards: Vec::new(),
            };
            let mut expected_files = Vec::new();
            for index in 0..n {
                let start = u64::from(index) * run.rows_per_shard;
                let end = (start + run.rows_per_shard).min(*count);
                let marker_path = layout.marker_path(split, index);
                let Some(marker) = ShardMarker::load(&marker_path)? else {
                    problems.push(format!("{split} shard {index} of {n} is not committed"));
                    continue;
                };
                if marker.num_shards != n || marker.start != start || marker.end != end {
                    problems.push(format!(
                        "{split} shard {index} covers records {}..{} of {} shards, the run needs {start}..{end} of {n}",
                        marker.start, marker.end, marker.num_shards
                    ));
                    continue;
                }
                if marker.config_hash != run.config_hash || marker.seed != run.seed {
                    problems.push(format!("{split} shard {index} belongs to another run"));
                    continue;
                }
                if let Err(e) = marker.verify(layout) {
                    problems.push(e.to_string());
                    continue;
                }
                if marker.rows + marker.rejects != end - start {
                    problems.push(format!(
                        "{split} shard {index} has {} rows and {} rejects for {} records",
                        marker.rows,
                        marker.rejects,
                        end - start
                    ));
                }
                expected_files.push(marker.file.clone());
                manifest.rows += marker.rows;
                manifest.rejects += marker.rejects;
                manifest.shards.push(marker);
            }
            // Stray shard files (for example from an older, larger layout) would be read by
            // Hugging Face loaders; report them.
            if let Ok(entries) = std::fs::read_dir(layout.split_dir(split)) {
                let mut names: Vec<String> = entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".parquet"))
                    .collect();
                names.sort();
                for name in names {
                    let rel = format!("{split}/{name}");
                    if !expected_files.contains(&rel) {
                        problems.push(format!("stray file `{rel}` is not part of the run"));
                    }
                }
            }
            splits.insert(split.clone(), manifest);
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let total_rows = splits.values().map(|s| s.rows).sum();
        let total_rejects = splits.values().map(|s| s.rejects).sum();
        let manifest = DatasetManifest {
            run,
            splits,
            total_rows,
            total_rejects,
        };
        let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        atomic_write(&layout.manifest_path(), &json)?;
        Ok(Ok(manifest))
    }
}

/// Moves a file into the quarantine folder (never deletes committed data). Returns the new
/// path.
///
/// # Errors
/// On I/O failure.
pub fn quarantine(layout: &DatasetLayout, path: &Path) -> Result<std::path::PathBuf> {
    let dir = layout.quarantine_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create folder", &dir, e))?;
    let name = layout.relative(path).replace('/', "__");
    let mut target = dir.join(&name);
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    std::fs::rename(path, &target).map_err(|e| Error::io("quarantine", path, e))?;
    Ok(target)
}
