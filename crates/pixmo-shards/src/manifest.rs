//! The run (what a directory's shards belong to), its generations (each build that added
//! records), the shard list they imply, and the dataset manifest written by finalize.
//!
//! Every state file here is written **once** (created under its final name only if absent,
//! see [`create_once`]): concurrent workers that start the same run race to write the same
//! content, one wins, the others read it and check that they agree.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::{DatasetLayout, ShardId};
use crate::marker::{Check, ShardMarker};
use crate::writer::{atomic_write, create_once};

/// Identity of the run an output directory holds (`.pixmo/run.json`, written once). Every
/// worker of a sharded run has the same identity; a worker whose config or seed differs
/// refuses to mix its rows in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunIdentity {
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
    /// Records per shard.
    pub rows_per_shard: u64,
}

/// One build that added records (`.pixmo/generations/GGGGG.json`, written once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    /// 0, 1, 2...
    pub index: u32,
    /// Records per split after this generation (cumulative; never smaller than before).
    pub counts: BTreeMap<String, u64>,
    /// Build time stamped into the rows of this generation (µs since the epoch, UTC).
    pub as_of_us: i64,
}

/// A run as read from disk: its identity and every generation so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Identity.
    #[serde(flatten)]
    pub identity: RunIdentity,
    /// Build time of the first generation (µs since the epoch, UTC).
    pub as_of_us: i64,
    /// Records per split after the latest generation.
    pub counts: BTreeMap<String, u64>,
    /// Every generation, oldest first.
    pub generations: Vec<Generation>,
}

impl RunState {
    /// Reads the run identity and its generations; `Ok(None)` when the directory holds no
    /// run yet.
    ///
    /// # Errors
    /// When a file exists but cannot be read or parsed, or generations are not contiguous.
    pub fn load(layout: &DatasetLayout) -> Result<Option<RunState>> {
        let Some(identity) = read_json::<RunIdentity>(&layout.run_state_path())? else {
            return Ok(None);
        };
        let generations = load_generations(layout)?;
        Ok(Some(RunState::new(identity, generations)))
    }

    /// A run from its parts.
    #[must_use]
    pub fn new(identity: RunIdentity, generations: Vec<Generation>) -> RunState {
        RunState {
            as_of_us: generations.first().map_or(0, |g| g.as_of_us),
            counts: generations
                .last()
                .map(|g| g.counts.clone())
                .unwrap_or_default(),
            identity,
            generations,
        }
    }

    /// Every shard of the run in its fixed order: by generation, then split, then index.
    /// Worker `i` of `N` builds the shards at positions `i, i+N, ...` of this list.
    #[must_use]
    pub fn shards(&self) -> Vec<ShardId> {
        shard_list(self.identity.rows_per_shard, &self.generations)
    }

    /// The splits of the run.
    pub fn splits(&self) -> impl Iterator<Item = &str> {
        self.counts.keys().map(String::as_str)
    }
}

/// A run reads like its identity: `run.seed`, `run.config_hash`...
impl std::ops::Deref for RunState {
    type Target = RunIdentity;

    fn deref(&self) -> &RunIdentity {
        &self.identity
    }
}

/// The shards of a list of generations (see [`RunState::shards`]).
#[must_use]
pub fn shard_list(rows_per_shard: u64, generations: &[Generation]) -> Vec<ShardId> {
    let rows = rows_per_shard.max(1);
    let mut shards = Vec::new();
    let mut before: BTreeMap<&str, u64> = BTreeMap::new();
    for generation in generations {
        for (split, &count) in &generation.counts {
            let from = before.get(split.as_str()).copied().unwrap_or(0);
            let mut start = from;
            let mut index = 0u32;
            while start < count {
                let end = (start + rows).min(count);
                shards.push(ShardId {
                    split: split.clone(),
                    generation: generation.index,
                    index,
                    start,
                    end,
                });
                start = end;
                index += 1;
            }
            before.insert(split.as_str(), count.max(from));
        }
    }
    shards
}

/// Reads a JSON state file; `Ok(None)` when there is none.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
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

fn load_generations(layout: &DatasetLayout) -> Result<Vec<Generation>> {
    let mut generations = Vec::new();
    loop {
        let index = u32::try_from(generations.len()).unwrap_or(u32::MAX);
        let path = layout.generation_path(index);
        let Some(generation) = read_json::<Generation>(&path)? else {
            break;
        };
        if generation.index != index {
            return Err(Error::BadJson {
                path,
                message: format!("holds generation {}, expected {index}", generation.index),
            });
        }
        generations.push(generation);
    }
    Ok(generations)
}

/// The outcome of creating a write-once state file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created<T> {
    /// This process wrote it.
    Written,
    /// It existed already (written by another worker or an earlier build) with this content.
    Existing(T),
}

/// Writes the run identity unless one exists; returns the existing one otherwise.
///
/// # Errors
/// On I/O failure or an unreadable existing file.
pub fn create_identity(
    layout: &DatasetLayout,
    identity: &RunIdentity,
) -> Result<Created<RunIdentity>> {
    create_json_once(&layout.run_state_path(), identity)
}

/// Writes generation `generation.index` unless it exists; returns the existing one otherwise.
///
/// # Errors
/// On I/O failure or an unreadable existing file.
pub fn create_generation(
    layout: &DatasetLayout,
    generation: &Generation,
) -> Result<Created<Generation>> {
    create_json_once(&layout.generation_path(generation.index), generation)
}

fn create_json_once<T: Serialize + serde::de::DeserializeOwned>(
    path: &Path,
    value: &T,
) -> Result<Created<T>> {
    let json = serde_json::to_vec_pretty(value).unwrap_or_default();
    if create_once(path, &json)? {
        return Ok(Created::Written);
    }
    match read_json(path)? {
        Some(existing) => Ok(Created::Existing(existing)),
        None => Err(Error::Corrupt {
            path: path.to_path_buf(),
            message: "vanished right after another process created it".into(),
        }),
    }
}

/// One split in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitManifest {
    /// Rows over all shards.
    pub rows: u64,
    /// Rejected records over all shards.
    pub rejects: u64,
    /// Every shard's marker, in the run's order.
    pub shards: Vec<ShardMarker>,
}

/// The dataset manifest: every shard checked, with totals.
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

/// The state of one shard of a run, as its marker and files show it.
#[derive(Clone, Debug, PartialEq)]
pub enum ShardStatus {
    /// Committed and intact (to the depth of the check).
    Committed(Box<ShardMarker>),
    /// No marker: never committed.
    Missing,
    /// The marker is unreadable, or commits another shard, run or files than the shard's own.
    BadMarker(String),
    /// The marker is the shard's own but its files or counts do not match it.
    BadFiles(String),
}

/// Checks one shard: its marker (readable, this shard of this run, naming only the shard's
/// own files inside the root), its files against the marker (`check`), its counts.
/// Never moves or deletes.
#[must_use]
pub fn check_shard(
    layout: &DatasetLayout,
    run: &RunState,
    id: &ShardId,
    check: Check,
) -> ShardStatus {
    let marker = match ShardMarker::load(&layout.marker_path(id)) {
        Ok(Some(m)) => m,
        Ok(None) => return ShardStatus::Missing,
        Err(e) => return ShardStatus::BadMarker(format!("unreadable marker: {e}")),
    };
    if let Err(message) =
        marker.check_identity(layout, id, &run.identity.config_hash, run.identity.seed)
    {
        return ShardStatus::BadMarker(message);
    }
    if let Err(e) = marker.verify(layout, check) {
        return ShardStatus::BadFiles(pixmo_core::error_chain(&e));
    }
    if marker.rows + marker.rejects != id.records() {
        return ShardStatus::BadFiles(format!(
            "{} rows and {} rejects for {} records",
            marker.rows,
            marker.rejects,
            id.records()
        ));
    }
    ShardStatus::Committed(Box::new(marker))
}

/// What is wrong with one shard of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardProblem {
    /// The shard.
    pub shard: ShardId,
    /// Whether the shard was never committed (nothing to quarantine).
    pub missing: bool,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ShardProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.shard.label(), self.message)
    }
}

/// Checks every shard of the run ([`check_shard`]) and returns the markers of the good ones
/// with the problems of the others. Never moves or deletes.
///
/// # Errors
/// When the run state cannot be read.
pub fn check_run(
    layout: &DatasetLayout,
    run: &RunState,
    check: Check,
) -> Result<(Vec<ShardMarker>, Vec<ShardProblem>)> {
    let mut good = Vec::new();
    let mut problems = Vec::new();
    for id in run.shards() {
        let (missing, message) = match check_shard(layout, run, &id, check) {
            ShardStatus::Committed(marker) => {
                good.push(*marker);
                continue;
            }
            ShardStatus::Missing => (true, "not committed".to_string()),
            ShardStatus::BadMarker(m) | ShardStatus::BadFiles(m) => (false, m),
        };
        problems.push(ShardProblem {
            shard: id,
            missing,
            message,
        });
    }
    Ok((good, problems))
}

/// Moves a shard's marker, and unless `marker_only` its data and rejects files, to
/// quarantine: only the shard's own paths as the layout gives them, never a path a marker
/// names. Returns the root-relative paths moved.
///
/// # Errors
/// On I/O failure.
pub fn quarantine_shard(
    layout: &DatasetLayout,
    id: &ShardId,
    marker_only: bool,
) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    if !marker_only {
        paths.push(layout.data_path(id));
        paths.push(layout.rejects_path(id));
    }
    paths.push(layout.marker_path(id));
    let mut moved = Vec::new();
    for path in paths {
        if std::fs::symlink_metadata(&path).is_ok() {
            quarantine(layout, &path)?;
            moved.push(layout.relative(&path));
        }
    }
    Ok(moved)
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

    /// Checks every shard of the run by its marker (sizes; no re-reading of data) and, when
    /// all are committed and intact, writes `manifest.json` atomically. Returns the
    /// manifest, or the list of problems. Committed files are never touched.
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
        let (good, shard_problems) = check_run(layout, &run, Check::Quick)?;
        let mut problems: Vec<String> = shard_problems.iter().map(ToString::to_string).collect();
        let mut splits: BTreeMap<String, SplitManifest> = run
            .splits()
            .map(|s| {
                (
                    s.to_string(),
                    SplitManifest {
                        rows: 0,
                        rejects: 0,
                        shards: Vec::new(),
                    },
                )
            })
            .collect();
        for marker in good {
            if let Some(split) = splits.get_mut(&marker.split) {
                split.rows += marker.rows;
                split.rejects += marker.rejects;
                split.shards.push(marker);
            }
        }
        // Stray files would be read by Hugging Face loaders; report them.
        for (split, manifest) in &splits {
            let Ok(entries) = std::fs::read_dir(layout.split_dir(split)) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".parquet") && !n.starts_with('.'))
                .collect();
            names.sort();
            for name in names {
                let rel = format!("{split}/{name}");
                if !manifest.shards.iter().any(|m| m.file == rel) {
                    problems.push(format!("stray file `{rel}` is not part of the run"));
                }
            }
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
/// path. The name carries this process's token, so concurrent workers never collide.
///
/// # Errors
/// On I/O failure.
pub fn quarantine(layout: &DatasetLayout, path: &Path) -> Result<std::path::PathBuf> {
    let dir = layout.quarantine_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create folder", &dir, e))?;
    let name = layout.relative(path).replace('/', "__");
    let token = crate::lease::process_token();
    let mut target = dir.join(format!("{name}.{token}"));
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{name}.{token}.{n}"));
        n += 1;
    }
    std::fs::rename(path, &target).map_err(|e| Error::io("quarantine", path, e))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generation(index: u32, counts: &[(&str, u64)]) -> Generation {
        Generation {
            index,
            counts: counts.iter().map(|(s, n)| ((*s).to_string(), *n)).collect(),
            as_of_us: 0,
        }
    }

    #[test]
    fn growth_appends_shards_and_keeps_old_ones() {
        let g0 = generation(0, &[("train", 25), ("val", 3)]);
        let g1 = generation(1, &[("train", 41), ("val", 3)]);
        let before = shard_list(10, std::slice::from_ref(&g0));
        let after = shard_list(10, &[g0, g1]);
        assert_eq!(&after[..before.len()], &before[..], "old shards unchanged");
        let ranges: Vec<_> = after
            .iter()
            .map(|s| (s.split.as_str(), s.generation, s.index, s.start, s.end))
            .collect();
        assert_eq!(
            ranges,
            [
                ("train", 0, 0, 0, 10),
                ("train", 0, 1, 10, 20),
                ("train", 0, 2, 20, 25),
                ("val", 0, 0, 0, 3),
                ("train", 1, 0, 25, 35),
                ("train", 1, 1, 35, 41),
            ]
        );
    }

    #[test]
    fn state_files_are_written_once() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = DatasetLayout::new(tmp.path(), "clocks");
        let g = generation(0, &[("train", 10)]);
        assert_eq!(create_generation(&layout, &g).unwrap(), Created::Written);
        // A second writer, even with other content, never replaces the first.
        let other = generation(0, &[("train", 99)]);
        assert_eq!(
            create_generation(&layout, &other).unwrap(),
            Created::Existing(g.clone())
        );
        let leftovers: Vec<_> = std::fs::read_dir(layout.generations_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
        let from_threads: Vec<Created<Generation>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8u64)
                .map(|i| {
                    let layout = &layout;
                    scope.spawn(move || {
                        create_generation(layout, &generation(1, &[("train", 20 + i)])).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let written = from_threads
            .iter()
            .filter(|c| **c == Created::Written)
            .count();
        assert_eq!(written, 1, "exactly one writer wins");
    }
}
