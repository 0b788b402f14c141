//! The inbox: an append-only folder of recordings, sealed into batches, read as records.
//!
//! An inbox is a folder with manifests (`*.jsonl`, `*.csv`, `*.parquet`, see [`manifest`])
//! and the images and recordings they name, or one manifest file. People (or the recording
//! tool) append rows to a manifest or add a manifest; nobody edits a row once written.
//!
//! **Sealing** ([`seal`]) is how a build takes what has arrived: the rows not yet taken become
//! one **batch**, written once to `<dataset>/.pixmo/inbox/BBBBB.json` with, per manifest, the
//! rows and bytes taken so far and the SHA-256 of those bytes (a later seal that finds those
//! bytes changed stops with an error: sealed rows are never re-read differently). A batch
//! keeps each row it took (with the image's and the recording's SHA-256, read at sealing)
//! and each row it skipped with the reason (`duplicate_recording`).
//!
//! **Records** ([`InboxSource`]) follow from the sealed batches alone: batch by batch, the
//! images of the batch in order of first appearance, each one record in the split its image
//! id hashes to. An image that appears again in a later batch (a late recording) gets a new
//! record, **revision** 2, 3, ...: it carries every recording of the image sealed so far, so
//! its caption uses them all; the earlier revision's row stays as committed. Readers that want
//! one row per image keep the highest revision (`pixmo-cap`'s card counts both).

pub mod manifest;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use manifest::{Format, ManifestRow};

/// Why an inbox cannot be sealed or read.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// A manifest row is malformed.
    #[error("Manifest `{file}` row {row}{}: {message}", column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default())]
    Manifest {
        /// Manifest file, relative to the inbox.
        file: String,
        /// 1-based data row (0: the file as a whole).
        row: usize,
        /// The column at fault.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A file or folder cannot be read.
    #[error("Cannot read `{path}`: {message}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        message: String,
    },
    /// Sealed bytes of a manifest changed.
    #[error(
        "Manifest `{file}` changed after its first {rows} rows were sealed (batch {batch}): the inbox is append-only; add rows at the end or a new manifest, never edit, reorder or remove sealed rows"
    )]
    Changed {
        /// Manifest file.
        file: String,
        /// Rows sealed.
        rows: usize,
        /// Batch that sealed them last.
        batch: u32,
    },
    /// A sealed manifest is gone.
    #[error("Manifest `{file}` was sealed (batch {batch}) and is no longer in the inbox")]
    Missing {
        /// Manifest file.
        file: String,
        /// Batch that sealed it last.
        batch: u32,
    },
    /// The ledger is unreadable, or another process sealed at the same time.
    #[error("Inbox ledger `{path}`: {message}")]
    Ledger {
        /// Ledger file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No manifest.
    #[error("`{path}` holds no manifest (`*.jsonl`, `*.csv` or `*.parquet`)")]
    Empty {
        /// The inbox.
        path: PathBuf,
    },
}

type Result<T, E = InboxError> = std::result::Result<T, E>;

/// Largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 1 << 30;
/// Largest image or recording hashed at sealing (a larger one is rejected by its stage).
const MAX_HASHED_BYTES: u64 = 256 << 20;

/// How much of a manifest the sealed batches have taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumed {
    /// Manifest file, relative to the inbox.
    pub name: String,
    /// Data rows taken.
    pub rows: usize,
    /// Bytes taken.
    pub bytes: u64,
    /// SHA-256 of those bytes.
    pub sha256: String,
}

/// One recording a batch took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    /// Manifest file.
    pub file: String,
    /// 1-based data row.
    pub row: usize,
    /// The image's identity: its SHA-256 (declared, or read at sealing), or `path:<image>`
    /// when the file could not be read (its stage then rejects the record).
    pub image_key: String,
    /// SHA-256 of the recording's bytes at sealing, when it could be read.
    pub audio_sha256: Option<String>,
    /// The manifest row.
    #[serde(flatten)]
    pub manifest: ManifestRow,
}

/// A row a batch did not take as a recording, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Manifest file.
    pub file: String,
    /// 1-based data row.
    pub row: usize,
    /// `duplicate_recording`.
    pub kind: String,
    /// Why.
    pub message: String,
}

/// One sealed batch (`.pixmo/inbox/BBBBB.json`, written once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Position in the ledger, from 0.
    pub index: u32,
    /// When it was sealed (µs since the epoch).
    pub sealed_at_us: i64,
    /// Every manifest's taken prefix after this batch.
    pub files: Vec<Consumed>,
    /// Recordings taken.
    pub recordings: Vec<Recording>,
    /// Rows skipped.
    pub skipped: Vec<Skipped>,
}

/// What [`seal`] did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SealReport {
    /// The batch written now, if anything new had arrived.
    pub sealed: Option<u32>,
    /// Recordings it took.
    pub recordings: usize,
    /// Rows it skipped, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Batches in the ledger.
    pub batches: usize,
}

/// The ledger folder of a dataset.
#[must_use]
pub fn ledger_dir(dataset_root: &Path) -> PathBuf {
    dataset_root.join(".pixmo").join("inbox")
}

fn io(path: &Path, e: impl std::fmt::Display) -> InboxError {
    InboxError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The sealed batches, in order.
///
/// # Errors
/// [`InboxError::Ledger`] for an unreadable or out-of-order ledger.
pub fn load_ledger(dir: &Path) -> Result<Vec<Batch>> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir, e)),
    };
    names.sort();
    let mut batches = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let path = dir.join(name);
        let ledger = |message: String| InboxError::Ledger {
            path: path.clone(),
            message,
        };
        let text = std::fs::read(&path).map_err(|e| io(&path, e))?;
        let batch: Batch =
            serde_json::from_slice(&text).map_err(|e| ledger(format!("not a batch: {e}")))?;
        if batch.index as usize != i || *name != batch_name(batch.index) {
            return Err(ledger(format!(
                "expected batch {i} here (a batch file is missing or renamed)"
            )));
        }
        batches.push(batch);
    }
    Ok(batches)
}

fn batch_name(index: u32) -> String {
    format!("{index:05}.json")
}

/// The inbox's root folder and its manifests (relative names, sorted).
///
/// # Errors
/// [`InboxError::Io`], [`InboxError::Empty`].
pub fn manifests(inbox: &Path) -> Result<(PathBuf, Vec<String>)> {
    let meta = std::fs::metadata(inbox).map_err(|e| io(inbox, e))?;
    if meta.is_file() {
        let root = inbox
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let name = inbox
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| io(inbox, "not a file name"))?
            .to_string();
        if Format::of(inbox).is_none() {
            return Err(InboxError::Empty {
                path: inbox.to_path_buf(),
            });
        }
        return Ok((root, vec![name]));
    }
    let mut names: Vec<String> = std::fs::read_dir(inbox)
        .map_err(|e| io(inbox, e))?
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let is_file = e.file_type().ok()?.is_file();
            (is_file && !name.starts_with('.') && Format::of(Path::new(&name)).is_some())
                .then_some(name)
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(InboxError::Empty {
            path: inbox.to_path_buf(),
        });
    }
    Ok((inbox.to_path_buf(), names))
}

fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

fn hash_file(path: &Path) -> Option<String> {
    read_bounded(path, MAX_HASHED_BYTES)
        .ok()
        .flatten()
        .map(|b| pixmo_core::sha256_hex(&b))
}

/// Seals what arrived in `inbox` since the last batch into a new batch in `ledger`.
///
/// # Errors
/// A malformed manifest row (nothing is sealed), a changed or missing sealed manifest, an
/// unreadable inbox, or a concurrent seal of the same batch with other content.
pub fn seal(inbox: &Path, ledger: &Path, now_us: i64) -> Result<SealReport> {
    let batches = load_ledger(ledger)?;
    let (root, names) = manifests(inbox)?;
    let before: BTreeMap<String, (Consumed, u32)> = batches
        .iter()
        .flat_map(|b| {
            b.files
                .iter()
                .map(move |f| (f.name.clone(), (f.clone(), b.index)))
        })
        .collect();
    for (name, (_, batch)) in &before {
        if !names.contains(name) {
            return Err(InboxError::Missing {
                file: name.clone(),
                batch: *batch,
            });
        }
    }
    let mut seen_audio: HashMap<String, (String, usize)> = HashMap::new();
    for batch in &batches {
        for r in &batch.recordings {
            if let Some(sha) = &r.audio_sha256 {
                seen_audio.insert(sha.clone(), (r.file.clone(), r.row));
            }
        }
    }
    let mut files = Vec::new();
    let mut recordings = Vec::new();
    let mut skipped = Vec::new();
    let mut image_keys: HashMap<String, String> = HashMap::new();
    for name in &names {
        let path = root.join(name);
        let format = Format::of(&path).ok_or_else(|| io(&path, "unknown manifest format"))?;
        let bytes = read_bounded(&path, MAX_MANIFEST_BYTES)
            .map_err(|e| io(&path, e))?
            .ok_or_else(|| io(&path, format!("larger than {MAX_MANIFEST_BYTES} bytes")))?;
        let previous = before.get(name);
        if let Some((done, batch)) = previous {
            let same = bytes.len() as u64 >= done.bytes
                && pixmo_core::sha256_hex(&bytes[..usize::try_from(done.bytes).unwrap_or(0)])
                    == done.sha256;
            if !same || (!format.appendable() && bytes.len() as u64 != done.bytes) {
                return Err(InboxError::Changed {
                    file: name.clone(),
                    rows: done.rows,
                    batch: *batch,
                });
            }
        }
        let skip = previous.map_or(0, |(d, _)| d.rows);
        let parsed = manifest::parse(name, format, &bytes, skip)?;
        let taken = &bytes[..usize::try_from(parsed.bytes).unwrap_or(bytes.len())];
        files.push(Consumed {
            name: name.clone(),
            rows: skip + parsed.rows.len(),
            bytes: parsed.bytes,
            sha256: pixmo_core::sha256_hex(taken),
        });
        for (i, row) in parsed.rows.into_iter().enumerate() {
            let number = skip + i + 1;
            let image_key = match (&row.image_sha256, &row.image) {
                (Some(sha), _) => sha.clone(),
                (None, Some(image)) => image_keys
                    .entry(image.clone())
                    .or_insert_with(|| {
                        hash_file(&root.join(image)).unwrap_or_else(|| format!("path:{image}"))
                    })
                    .clone(),
                (None, None) => format!("url:{}", row.image_url.as_deref().unwrap_or_default()),
            };
            let audio_sha256 = hash_file(&root.join(&row.audio));
            if let Some(sha) = &audio_sha256 {
                if let Some((file, at)) = seen_audio.get(sha) {
                    skipped.push(Skipped {
                        file: name.clone(),
                        row: number,
                        kind: "duplicate_recording".into(),
                        message: format!(
                            "`{}` has the same bytes as the recording of `{file}` row {at}",
                            row.audio
                        ),
                    });
                    continue;
                }
                seen_audio.insert(sha.clone(), (name.clone(), number));
            }
            recordings.push(Recording {
                file: name.clone(),
                row: number,
                image_key,
                audio_sha256,
                manifest: row,
            });
        }
    }
    let mut report = SealReport {
        batches: batches.len(),
        ..SealReport::default()
    };
    if recordings.is_empty() && skipped.is_empty() {
        return Ok(report);
    }
    let index = u32::try_from(batches.len()).unwrap_or(u32::MAX);
    let batch = Batch {
        index,
        sealed_at_us: now_us,
        files,
        recordings,
        skipped,
    };
    std::fs::create_dir_all(ledger).map_err(|e| io(ledger, e))?;
    let path = ledger.join(batch_name(index));
    let text = serde_json::to_vec_pretty(&batch).map_err(|e| io(&path, e))?;
    let written = pixmo_shards::create_once(&path, &text).map_err(|e| io(&path, e))?;
    if !written {
        let theirs: Batch = serde_json::from_slice(
            &std::fs::read(&path).map_err(|e| io(&path, e))?,
        )
        .map_err(|e| InboxError::Ledger {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let same = Batch {
            sealed_at_us: theirs.sealed_at_us,
            ..batch.clone()
        } == theirs;
        if !same {
            return Err(InboxError::Ledger {
                path,
                message:
                    "another process sealed this batch at the same time with other rows; run again"
                        .into(),
            });
        }
    }
    report.sealed = Some(index);
    report.recordings = batch.recordings.len();
    for s in &batch.skipped {
        *report.skipped.entry(s.kind.clone()).or_default() += 1;
    }
    report.batches += 1;
    Ok(report)
}

/// The split an image belongs to: a hash of its id against the spec's fractions, so an image
/// never changes split when data is added.
#[must_use]
pub fn split_of(image_key: &str, splits: &BTreeMap<String, f64>) -> String {
    let digest = pixmo_core::sha256_hex(format!("pixmo-cap split|{image_key}").as_bytes());
    let bits = u64::from_str_radix(&digest[..16], 16).unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let u = bits as f64 / (u64::MAX as f64 + 1.0);
    let total: f64 = splits.values().filter(|f| **f > 0.0).sum();
    let mut acc = 0.0;
    let mut last = None;
    for (name, fraction) in splits {
        if *fraction <= 0.0 {
            continue;
        }
        acc += fraction / total;
        last = Some(name);
        if u < acc {
            return name.clone();
        }
    }
    last.cloned().unwrap_or_else(|| "train".into())
}

/// One record: an image with every recording of it sealed up to its batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxRecord {
    /// The image's identity (see [`Recording::image_key`]).
    pub image_key: String,
    /// 1 for an image's first record, then one more per later batch that brought recordings.
    pub revision: u32,
    /// The batch that made this record.
    pub batch: u32,
    /// The image's file (relative to the inbox) or URL, and its expected SHA-256.
    pub image: Option<String>,
    /// Image URL.
    pub image_url: Option<String>,
    /// The SHA-256 the image must have (declared, or read at sealing).
    pub image_sha256: Option<String>,
    /// Every recording of the image sealed so far, oldest batch first.
    pub recordings: Vec<Recording>,
}

impl InboxRecord {
    /// The row id: `cap-<first 16 hex of the image id>`, `-r<revision>` from revision 2.
    #[must_use]
    pub fn row_id(&self, prefix: &str) -> String {
        let hex = if self.image_key.starts_with("path:") {
            pixmo_core::sha256_hex(self.image_key.as_bytes())
        } else {
            self.image_key.clone()
        };
        let short = hex.get(..16).unwrap_or(&hex);
        if self.revision > 1 {
            format!("{prefix}-{short}-r{}", self.revision)
        } else {
            format!("{prefix}-{short}")
        }
    }
}

/// The records of the sealed batches, per split in record order.
#[must_use]
pub fn records(
    batches: &[Batch],
    splits: &BTreeMap<String, f64>,
) -> BTreeMap<String, Vec<InboxRecord>> {
    let mut out: BTreeMap<String, Vec<InboxRecord>> =
        splits.keys().map(|s| (s.clone(), Vec::new())).collect();
    let mut so_far: HashMap<String, (u32, Vec<Recording>)> = HashMap::new();
    for batch in batches {
        let mut order: Vec<String> = Vec::new();
        for r in &batch.recordings {
            if !order.contains(&r.image_key) {
                order.push(r.image_key.clone());
            }
        }
        for key in order {
            let new: Vec<Recording> = batch
                .recordings
                .iter()
                .filter(|r| r.image_key == key)
                .cloned()
                .collect();
            let entry = so_far.entry(key.clone()).or_insert((0, Vec::new()));
            entry.0 += 1;
            entry.1.extend(new);
            let first = &entry.1[0].manifest;
            let record = InboxRecord {
                image_key: key.clone(),
                revision: entry.0,
                batch: batch.index,
                image: first.image.clone(),
                image_url: first.image_url.clone(),
                image_sha256: (!key.starts_with("path:")).then(|| key.clone()),
                recordings: entry.1.clone(),
            };
            out.entry(split_of(&key, splits)).or_default().push(record);
        }
    }
    out
}

/// The sealed inbox as the build's record source.
#[derive(Debug)]
pub struct InboxSource {
    name: String,
    root: PathBuf,
    records: BTreeMap<String, Vec<InboxRecord>>,
}

impl InboxSource {
    /// The records of `batches`, reading files under `root`.
    #[must_use]
    pub fn new(root: &Path, batches: &[Batch], splits: &BTreeMap<String, f64>) -> InboxSource {
        InboxSource {
            name: format!("inbox `{}`", root.display()),
            root: root.to_path_buf(),
            records: records(batches, splits),
        }
    }

    /// Records per split.
    #[must_use]
    pub fn records(&self) -> &BTreeMap<String, Vec<InboxRecord>> {
        &self.records
    }
}

impl pixmo_dag::RecordSource for InboxSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn counts(&self) -> BTreeMap<String, u64> {
        self.records
            .iter()
            .map(|(s, r)| (s.clone(), r.len() as u64))
            .collect()
    }

    fn describe(&self, split: &str, index: u64) -> Option<serde_json::Value> {
        let record = self.records.get(split)?.get(usize::try_from(index).ok()?)?;
        let mut value = serde_json::to_value(record).ok()?;
        value["root"] = self.root.display().to_string().into();
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(image: &str, audio: &str) -> String {
        format!(
            r#"{{"image": "{image}", "audio": "{audio}", "annotator": "a1", "recorded_at": "2026-11-30T21:00:00Z", "license": "CC0-1.0"}}"#
        ) + "\n"
    }

    fn splits() -> BTreeMap<String, f64> {
        BTreeMap::from([("train".into(), 0.9), ("val".into(), 0.1)])
    }

    #[test]
    fn late_recordings_make_a_new_revision_and_sealed_rows_are_immutable() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        let ledger = dir.path().join("ledger");
        std::fs::create_dir_all(&inbox).unwrap();
        for (name, bytes) in [
            ("a.png", &b"image a"[..]),
            ("b.png", b"image b"),
            ("1.wav", b"one"),
            ("2.wav", b"two"),
            ("3.wav", b"three"),
        ] {
            std::fs::write(inbox.join(name), bytes).unwrap();
        }
        let manifest = inbox.join("m.jsonl");
        std::fs::write(&manifest, row("a.png", "1.wav") + &row("b.png", "2.wav")).unwrap();
        let first = seal(&inbox, &ledger, 1).unwrap();
        assert_eq!((first.sealed, first.recordings), (Some(0), 2));
        assert_eq!(seal(&inbox, &ledger, 2).unwrap().sealed, None);

        // A late recording of `a`, a duplicate of `2.wav`, and half a line being written.
        let mut text = std::fs::read_to_string(&manifest).unwrap();
        text += &row("a.png", "3.wav");
        text += &row("b.png", "2.wav");
        text += "{\"image\": \"b.p";
        std::fs::write(&manifest, &text).unwrap();
        let second = seal(&inbox, &ledger, 3).unwrap();
        assert_eq!(second.sealed, Some(1));
        assert_eq!(second.recordings, 1);
        assert_eq!(second.skipped.get("duplicate_recording"), Some(&1));

        let batches = load_ledger(&ledger).unwrap();
        let all: Vec<InboxRecord> = records(&batches, &splits())
            .into_values()
            .flatten()
            .collect();
        assert_eq!(all.len(), 3);
        let a_key = pixmo_core::sha256_hex(b"image a");
        let revisions: Vec<(u32, usize)> = all
            .iter()
            .filter(|r| r.image_key == a_key)
            .map(|r| (r.revision, r.recordings.len()))
            .collect();
        assert_eq!(revisions, vec![(1, 1), (2, 2)]);
        // Records of the first batch are the same whatever came later.
        let early = records(&batches[..1], &splits());
        for (split, list) in &early {
            let later = &records(&batches, &splits())[split];
            assert_eq!(&later[..list.len()], &list[..]);
        }

        // Editing a sealed row is refused.
        std::fs::write(&manifest, text.replacen("a1", "a2", 1)).unwrap();
        let err = seal(&inbox, &ledger, 4).unwrap_err().to_string();
        assert!(
            err.contains("append-only") && err.contains("m.jsonl"),
            "{err}"
        );
    }

    #[test]
    fn splits_follow_the_fractions_and_never_move() {
        let s = splits();
        let val = (0..2000)
            .filter(|i| split_of(&format!("{i:064x}"), &s) == "val")
            .count();
        assert!((150..250).contains(&val), "{val} of 2000 in val");
        assert_eq!(split_of("abc", &s), split_of("abc", &s));
    }
}
