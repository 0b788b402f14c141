//! A detector's output as the records of a PixMo-Count build (`--from DIR`).
//!
//! `DIR` holds:
//! - `images.json`: COCO-style `{"detector": {"name", "version", "parameters"}, "images":
//!   [{"id", "width", "height", "file_name" | "url", "sha256", "license"}], "categories":
//!   [{"id", "name"}]}`. `file_name` is relative to `DIR`; a `url` needs its `sha256`.
//! - `detections.json`: the detector's results, `[{"image_id", "category_id", "bbox": [x, y,
//!   w, h], "score"}]` in pixels (a bare `NaN` or `Infinity`, as Python writes them, is read
//!   as a missing score and rejected with its detection).
//! - `verdicts/` (optional): Label Studio JSON exports (`*.json`) and CVAT for images 1.1
//!   exports (`*.xml`) of the tasks `pixmo count-tasks` wrote.
//!
//! [`open`] applies the rule with the `count.detections` stage's thresholds, draws the
//! balanced splits, applies the verdicts and lists one record per candidate image and one per
//! rejection (so every rejection lands in the rejects table with its reason). The inputs'
//! digests are written to `<dataset>/.pixmo/inputs/detections.json` on the first build and
//! checked on every later one: the records of a dataset folder never change under it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pixmo_annotation_schema::PixelPoint;
use pixmo_dag::spec::StageSpec;
use pixmo_interchange::{Candidate, Decision, ImageSize, Pixel, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::detections::{CountCandidate, ImageInfo, Rejection, apply_rule, parse_lenient_json};
use crate::stages::detections::DetectionsConfig;

/// The detector, as `images.json` names it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Detector {
    /// Name and version (`opencv-haar-cascades (opencv-python-headless 4.14.0)`).
    pub name: String,
    /// SHA-256 of the canonical JSON of the detector's entry.
    pub sha256: String,
    /// Its settings, canonical JSON.
    pub parameters: String,
}

/// Where an image is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// COCO image id.
    pub id: u64,
    /// Path relative to the input folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Web address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Pinned SHA-256 (required with `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Declared width, pixels (the detections' coordinates).
    pub width: u32,
    /// Declared height, pixels.
    pub height: u32,
}

/// One input of a row, for provenance.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InputRef {
    /// `detections`, `images`, `verification`.
    pub kind: String,
    /// What it is.
    pub id: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

/// A counting example, as the record source describes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Example {
    /// COCO image id.
    pub image_id: u64,
    /// The image.
    pub image: ImageRef,
    /// The counted category's name.
    pub label: String,
    /// Points in pixels of the image, one decimal (PixMo-Count's unit, the row's): box
    /// centres as the detector put them, or the verifier's corrected points; sorted left
    /// to right, then top to bottom.
    pub points: Vec<[f64; 2]>,
    /// The input folder.
    pub root: String,
    /// The detector.
    pub detector: Detector,
    /// Inputs the row comes from (detections, image list, verdicts).
    pub inputs: Vec<InputRef>,
    /// `accepted` or `corrected` when a person verified it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<String>,
}

/// One record of the source.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum RecordDescription {
    /// A counting example.
    Example(Box<Example>),
    /// Something that did not become a row, and why.
    Rejected {
        /// A short stable kind.
        kind: String,
        /// What was wrong.
        message: String,
    },
}

/// What went wrong opening the inputs (run-level: the build stops).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A file could not be read.
    #[error("Cannot read `{path}`: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A file is not what it should be.
    #[error("`{path}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The spec does not fit the inputs.
    #[error("{0}")]
    Spec(String),
    /// The inputs changed since the dataset folder was first built.
    #[error(
        "The inputs in `{from}` changed since `{dataset}` was first built from them ({what}); build into a new --out"
    )]
    Changed {
        /// Input folder.
        from: PathBuf,
        /// Dataset folder.
        dataset: PathBuf,
        /// Which file.
        what: String,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|e| InputError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn invalid(path: &Path, message: impl Into<String>) -> InputError {
    InputError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The `count.detections` stage's config in a spec.
///
/// # Errors
/// [`InputError::Spec`] when the spec has no such stage or its config is invalid.
pub fn stage_config(stages: &[StageSpec]) -> Result<DetectionsConfig, InputError> {
    let kind = <DetectionsConfig as pixmo_dag::registry::StageConfig>::KIND;
    let stage = stages
        .iter()
        .find(|s| s.kind == kind)
        .ok_or_else(|| InputError::Spec(format!("the spec has no `{kind}` stage")))?;
    let config: DetectionsConfig = stage
        .config
        .clone()
        .try_into()
        .map_err(|e| InputError::Spec(format!("stage `{}`: {e}", stage.name)))?;
    config.check().map_err(InputError::Spec)?;
    Ok(config)
}

/// Everything read from the input folder.
#[derive(Debug)]
pub struct Inputs {
    /// The input folder.
    pub root: PathBuf,
    /// The detector.
    pub detector: Detector,
    /// Image entries by id (the first of duplicates; the rule rejects duplicates).
    pub images: BTreeMap<u64, ImageRef>,
    /// Category names.
    pub categories: BTreeMap<u64, String>,
    /// What the rule kept.
    pub candidates: Vec<CountCandidate>,
    /// What the rule and the lists rejected.
    pub rejections: Vec<Rejection>,
    /// Digests of the files read, by name relative to the folder.
    pub digests: BTreeMap<String, String>,
}

/// Reads `images.json` and `detections.json` and applies the rule.
///
/// # Errors
/// [`InputError`] for a missing or malformed file.
pub fn read_inputs(root: &Path, config: &DetectionsConfig) -> Result<Inputs, InputError> {
    let mut digests = BTreeMap::new();
    let images_path = root.join("images.json");
    let bytes = read(&images_path)?;
    digests.insert("images.json".into(), pixmo_core::sha256_hex(&bytes));
    let meta: Value =
        parse_lenient_json(&bytes).map_err(|e| invalid(&images_path, e.to_string()))?;
    let detections_path = root.join("detections.json");
    let det_bytes = read(&detections_path)?;
    let detections_sha = pixmo_core::sha256_hex(&det_bytes);
    digests.insert("detections.json".into(), detections_sha.clone());
    let detections = match parse_lenient_json(&det_bytes) {
        Ok(Value::Array(list)) => list,
        Ok(_) => {
            return Err(invalid(
                &detections_path,
                "expected a JSON array of detections",
            ));
        }
        Err(e) => return Err(invalid(&detections_path, e.to_string())),
    };
    let detector_entry = meta.get("detector").cloned().unwrap_or(Value::Null);
    let name = detector_entry
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            invalid(
                &images_path,
                "`detector.name` is missing: name the detector that made `detections.json`",
            )
        })?;
    let name = match detector_entry.get("version").and_then(Value::as_str) {
        Some(version) => format!("{name} ({version})"),
        None => name.to_string(),
    };
    let detector = Detector {
        name,
        sha256: pixmo_core::sha256_hex(pixmo_core::canonical_json(&detector_entry).as_bytes()),
        parameters: pixmo_core::canonical_json(&serde_json::json!({
            "detector": detector_entry.get("parameters").cloned().unwrap_or(Value::Null),
            "rule": {
                "score_threshold": config.score_threshold,
                "min_count": config.min_count,
                "max_count": config.max_count,
            },
        })),
    };
    let mut rejections = Vec::new();
    let mut categories = BTreeMap::new();
    let mut duplicate_categories = BTreeSet::new();
    let listed = meta.get("categories").and_then(Value::as_array);
    for (i, entry) in listed.into_iter().flatten().enumerate() {
        let id = entry.get("id").and_then(Value::as_u64);
        let name = entry.get("name").and_then(Value::as_str);
        let (Some(id), Some(name)) = (id, name) else {
            rejections.push(rejection(
                None,
                "bad_category",
                format!("category {i} needs an integer `id` and a `name`: {entry}"),
            ));
            continue;
        };
        if categories.insert(id, name.to_string()).is_some() {
            duplicate_categories.insert(id);
        }
    }
    for id in &duplicate_categories {
        categories.remove(id);
        rejections.push(rejection(
            None,
            "duplicate_category",
            format!("category id {id} is listed more than once; its detections count as unknown"),
        ));
    }
    let mut infos = Vec::new();
    let mut images = BTreeMap::new();
    let listed = meta.get("images").and_then(Value::as_array);
    for (i, entry) in listed.into_iter().flatten().enumerate() {
        match image_ref(entry) {
            Ok(image) => {
                infos.push(ImageInfo {
                    id: image.id,
                    width: image.width,
                    height: image.height,
                });
                images.entry(image.id).or_insert(image);
            }
            Err(message) => rejections.push(rejection(
                entry.get("id").and_then(Value::as_u64),
                "bad_image",
                format!("`images[{i}]`: {message}"),
            )),
        }
    }
    let (candidates, rule_rejections) = apply_rule(&infos, &categories, &detections, config.rule());
    rejections.extend(rule_rejections);
    Ok(Inputs {
        root: root.to_path_buf(),
        detector,
        images,
        categories,
        candidates,
        rejections,
        digests,
    })
}

fn rejection(image_id: Option<u64>, kind: &'static str, message: String) -> Rejection {
    Rejection {
        image_id,
        detection: None,
        kind,
        message,
    }
}

/// An `images.json` entry: id, size, and a local file or a URL with its SHA-256.
fn image_ref(entry: &Value) -> Result<ImageRef, String> {
    let id = entry
        .get("id")
        .and_then(Value::as_u64)
        .ok_or("needs an integer `id`")?;
    let side = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| format!("image {id} needs an integer `{name}` in pixels"))
    };
    let text = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_string);
    let image = ImageRef {
        id,
        file_name: text("file_name"),
        url: text("url").or_else(|| text("coco_url")),
        sha256: text("sha256").map(|s| s.to_ascii_lowercase()),
        width: side("width")?,
        height: side("height")?,
    };
    if let Some(sha) = &image.sha256
        && !(sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(format!("image {id}: `sha256` is not 64 hex digits"));
    }
    match (&image.file_name, &image.url) {
        (None, None) => Err(format!("image {id} names no `file_name` or `url`")),
        (_, Some(_)) if image.sha256.is_none() => Err(format!(
            "image {id}: a `url` needs the image's `sha256` (a web image must be pinned)"
        )),
        (Some(name), None) if !is_relative_inside(name) => Err(format!(
            "image {id}: `file_name` `{name}` must be a relative path inside the input folder"
        )),
        _ => Ok(image),
    }
}

/// A relative path with no `..`, root or prefix.
fn is_relative_inside(name: &str) -> bool {
    let path = Path::new(name);
    !name.is_empty()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The candidates of the balanced splits as annotation-tool tasks: the image id is the COCO
/// id, the image `<id>.<extension>` (as `pixmo count-tasks` writes it), points in pixels.
#[must_use]
pub fn task_candidates(inputs: &Inputs, chosen: &[&CountCandidate]) -> Vec<Candidate> {
    chosen
        .iter()
        .filter_map(|c| {
            let image = inputs.images.get(&c.image_id)?;
            let size = ImageSize::new(image.width, image.height).ok()?;
            Some(Candidate {
                image_id: c.image_id.to_string(),
                image: task_image_name(image),
                size,
                label: c.label.clone(),
                points: c.centres.clone(),
            })
        })
        .collect()
}

/// The file name of an image in a task folder: `<id>.<extension of the source>`.
#[must_use]
pub fn task_image_name(image: &ImageRef) -> String {
    let source = image
        .file_name
        .as_deref()
        .or(image.url.as_deref())
        .unwrap_or_default();
    let ext = source
        .rsplit('/')
        .next()
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.len() <= 5 && e.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "img".into());
    format!("{}.{ext}", image.id)
}

/// Which split each candidate goes to: for every count of the balanced range, the
/// candidates of that count ordered by a seeded hash of their image id fill `per_count`
/// places in each balanced split in turn; everything else goes to `rest`.
#[must_use]
pub fn assign_splits(
    candidates: &[CountCandidate],
    config: &DetectionsConfig,
    rest: &str,
) -> Vec<String> {
    let mut split = vec![rest.to_string(); candidates.len()];
    let key = |image_id: u64| {
        pixmo_core::Rng::new(config.sample_seed ^ image_id.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .next_u64()
    };
    for count in config.balanced_min_count..=config.balanced_max_count {
        let mut these: Vec<usize> = (0..candidates.len())
            .filter(|&i| candidates[i].points.len() == count as usize)
            .collect();
        these.sort_by_key(|&i| (key(candidates[i].image_id), candidates[i].image_id));
        let per = config.per_count as usize;
        for (s, name) in config.balanced_splits.iter().enumerate() {
            for &i in these.iter().skip(s * per).take(per) {
                split[i] = name.clone();
            }
        }
    }
    split
}

/// The one split of the spec that is not balanced.
///
/// # Errors
/// [`InputError::Spec`] when there is not exactly one, or a balanced split is not a split.
pub fn rest_split(
    splits: &BTreeMap<String, f64>,
    config: &DetectionsConfig,
) -> Result<String, InputError> {
    if let Some(missing) = config
        .balanced_splits
        .iter()
        .find(|s| !splits.contains_key(*s))
    {
        return Err(InputError::Spec(format!(
            "`balanced_splits` names `{missing}`, which is not a split of the spec"
        )));
    }
    let rest: Vec<&String> = splits
        .keys()
        .filter(|s| !config.balanced_splits.contains(s))
        .collect();
    match rest[..] {
        [one] => Ok(one.clone()),
        _ => Err(InputError::Spec(format!(
            "the spec needs exactly one split besides the balanced ones ({}) for the other images; it has {}",
            config.balanced_splits.join(", "),
            rest.len()
        ))),
    }
}

/// One verdict file read.
#[derive(Debug)]
pub struct VerdictFile {
    /// Name relative to the input folder.
    pub name: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Its verdicts.
    pub verdicts: Vec<Verdict>,
}

/// Reads `verdicts/*.json` (Label Studio) and `verdicts/*.xml` (CVAT) in name order.
///
/// # Errors
/// [`InputError`] for an unreadable or malformed export (naming the task or element).
pub fn read_verdicts(
    root: &Path,
    candidates: &[Candidate],
    config: &DetectionsConfig,
    detector: &str,
) -> Result<Vec<VerdictFile>, InputError> {
    let dir = root.join("verdicts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let verdict = pixmo_interchange::VerdictOptions {
        accept: config.verdict_accept.clone(),
        reject: config.verdict_reject.clone(),
        tolerance_px: config.verdict_tolerance_px,
    };
    let mut files = Vec::new();
    for path in paths {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        let bytes = match ext {
            "json" | "xml" => read(&path)?,
            _ => continue,
        };
        let verdicts = if ext == "json" {
            let options = pixmo_interchange::label_studio::LabelStudioOptions {
                model_version: detector.to_string(),
                verdict: verdict.clone(),
                ..Default::default()
            };
            pixmo_interchange::label_studio::read_export(&bytes, candidates, &options)
        } else {
            let text =
                String::from_utf8(bytes.clone()).map_err(|_| invalid(&path, "not UTF-8 text"))?;
            let options = pixmo_interchange::cvat::CvatOptions {
                verdict: verdict.clone(),
                ..Default::default()
            };
            pixmo_interchange::cvat::read_export(&text, candidates, &options)
        }
        .map_err(|e| invalid(&path, e.to_string()))?;
        files.push(VerdictFile {
            name: format!(
                "verdicts/{}",
                path.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
            ),
            sha256: pixmo_core::sha256_hex(&bytes),
            verdicts,
        });
    }
    Ok(files)
}

/// The verdict that decides an image: a rejection wins; otherwise the last accepted or
/// corrected one (files in name order); skipped tasks decide nothing.
fn deciding<'a>(
    files: &'a [VerdictFile],
    image_id: &str,
) -> Option<(&'a VerdictFile, &'a Verdict)> {
    let mut found = None;
    for file in files {
        for v in file.verdicts.iter().filter(|v| v.image_id == image_id) {
            match v.decision {
                Decision::Rejected => return Some((file, v)),
                Decision::Accepted | Decision::Corrected => found = Some((file, v)),
                Decision::Skipped => {}
            }
        }
    }
    found
}

fn describe_verdict(file: &VerdictFile, v: &Verdict) -> String {
    let mut text = format!("{} task {} in `{}`", v.tool.name(), v.task, file.name);
    if let Some(who) = &v.annotator {
        text.push_str(&format!(" by {who}"));
    }
    if let Some(time) = &v.time {
        text.push_str(&format!(" at {time}"));
    }
    text
}

/// The records of every split, in order.
#[derive(Debug)]
pub struct Assignment {
    /// Records per split.
    pub records: BTreeMap<String, Vec<RecordDescription>>,
}

impl Assignment {
    /// Rows per count in each split: the examples only (a rejected candidate is no row).
    #[must_use]
    pub fn counts_by_split(&self) -> BTreeMap<String, BTreeMap<i32, u64>> {
        self.records
            .iter()
            .map(|(split, list)| {
                let mut per: BTreeMap<i32, u64> = BTreeMap::new();
                for record in list {
                    if let RecordDescription::Example(e) = record {
                        let count = i32::try_from(e.points.len()).unwrap_or(i32::MAX);
                        *per.entry(count).or_default() += 1;
                    }
                }
                (split.clone(), per)
            })
            .collect()
    }
}

/// Everything [`open`] needs from the build.
#[derive(Debug)]
pub struct OpenRequest<'a> {
    /// The input folder.
    pub from: &'a Path,
    /// The spec's splits.
    pub splits: &'a BTreeMap<String, f64>,
    /// The spec's stages.
    pub stages: &'a [StageSpec],
}

/// Reads the inputs and lays out the records of every split.
///
/// # Errors
/// [`InputError`].
pub fn assign(
    request: &OpenRequest<'_>,
) -> Result<(Inputs, Assignment, Vec<VerdictFile>), InputError> {
    let config = stage_config(request.stages)?;
    let rest = rest_split(request.splits, &config)?;
    let inputs = read_inputs(request.from, &config)?;
    let splits = assign_splits(&inputs.candidates, &config, &rest);
    let balanced: Vec<&CountCandidate> = inputs
        .candidates
        .iter()
        .zip(&splits)
        .filter(|(_, s)| **s != rest)
        .map(|(c, _)| c)
        .collect();
    let tasks = task_candidates(&inputs, &balanced);
    let verdicts = read_verdicts(request.from, &tasks, &config, &inputs.detector.name)?;
    let root = request.from.display().to_string();
    let mut records: BTreeMap<String, Vec<RecordDescription>> = request
        .splits
        .keys()
        .map(|s| (s.clone(), Vec::new()))
        .collect();
    let base_inputs: Vec<InputRef> = inputs
        .digests
        .iter()
        .map(|(name, sha)| InputRef {
            kind: if name == "detections.json" {
                "detections".into()
            } else {
                "image_list".into()
            },
            id: format!("{} ({name})", inputs.detector.name),
            sha256: sha.clone(),
        })
        .collect();
    for (candidate, split) in inputs.candidates.iter().zip(&splits) {
        let image = inputs.images[&candidate.image_id].clone();
        let size = ImageSize::new(image.width, image.height)
            .map_err(|e| InputError::Spec(e.to_string()))?;
        let mut pixels: Vec<Pixel> = candidate.centres.clone();
        let mut example_inputs = base_inputs.clone();
        let mut verified = None;
        if *split != rest
            && let Some((file, v)) = deciding(&verdicts, &candidate.image_id.to_string())
        {
            let who = describe_verdict(file, v);
            if v.decision == Decision::Rejected {
                records
                    .entry(split.clone())
                    .or_default()
                    .push(RecordDescription::Rejected {
                        kind: "verifier_rejected".into(),
                        message: format!(
                            "image {}: {} `{}` rejected by the verifier ({who})",
                            candidate.image_id,
                            candidate.points.len(),
                            candidate.label
                        ),
                    });
                continue;
            }
            if v.decision == Decision::Corrected {
                pixels.clone_from(&v.points);
            }
            let word = if v.decision == Decision::Corrected {
                "corrected"
            } else {
                "accepted"
            };
            verified = Some(word.to_string());
            example_inputs.push(InputRef {
                kind: "verification".into(),
                id: format!("{word}: {who}"),
                sha256: file.sha256.clone(),
            });
        }
        if pixels.is_empty() {
            records
                .entry(split.clone())
                .or_default()
                .push(RecordDescription::Rejected {
                    kind: "verifier_rejected".into(),
                    message: format!(
                        "image {}: the verifier removed every point",
                        candidate.image_id
                    ),
                });
            continue;
        }
        let mut points: Vec<[f64; 2]> = pixels
            .iter()
            .map(|p| {
                let q = PixelPoint::rounded(p.x(), p.y(), size.width(), size.height());
                [q.x, q.y]
            })
            .collect();
        // Molmo's order: left to right, then top to bottom.
        points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        records
            .entry(split.clone())
            .or_default()
            .push(RecordDescription::Example(Box::new(Example {
                image_id: candidate.image_id,
                image,
                label: candidate.label.clone(),
                points,
                root: root.clone(),
                detector: inputs.detector.clone(),
                inputs: example_inputs,
                verified,
            })));
    }
    let rest_records = records.entry(rest).or_default();
    for r in &inputs.rejections {
        rest_records.push(RecordDescription::Rejected {
            kind: r.kind.to_string(),
            message: r.message.clone(),
        });
    }
    Ok((inputs, Assignment { records }, verdicts))
}

/// The digests the dataset folder was first built from.
fn ledger_path(dataset_root: &Path) -> PathBuf {
    dataset_root
        .join(".pixmo")
        .join("inputs")
        .join("detections.json")
}

/// Records the input digests on the first build and checks them on every later one.
///
/// # Errors
/// [`InputError::Changed`] when they differ, or the ledger cannot be read or written.
pub fn check_ledger(
    from: &Path,
    dataset_root: &Path,
    digests: &BTreeMap<String, String>,
    take_new: bool,
) -> Result<(), InputError> {
    let path = ledger_path(dataset_root);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let stored: BTreeMap<String, String> =
                serde_json::from_slice(&bytes).map_err(|e| invalid(&path, e.to_string()))?;
            let changed = stored
                .keys()
                .chain(digests.keys())
                .find(|k| stored.get(*k) != digests.get(*k));
            match changed {
                Some(what) => Err(InputError::Changed {
                    from: from.to_path_buf(),
                    dataset: dataset_root.to_path_buf(),
                    what: what.clone(),
                }),
                None => Ok(()),
            }
        }
        Err(_) if take_new => {
            let dir = path.parent().unwrap_or(dataset_root);
            let write = |e: std::io::Error| InputError::Read {
                path: path.clone(),
                message: e.to_string(),
            };
            std::fs::create_dir_all(dir).map_err(write)?;
            let tmp = dir.join(format!(".detections.json.tmp-{}", std::process::id()));
            let text = serde_json::to_string_pretty(digests).unwrap_or_default();
            std::fs::write(&tmp, text).map_err(write)?;
            std::fs::rename(&tmp, &path).map_err(write)
        }
        Err(e) => Err(InputError::Read {
            path,
            message: format!("{e} (run the build once without --num-shards first)"),
        }),
    }
}

/// The build's record source: the records [`assign`] laid out.
#[derive(Debug)]
pub struct DetectionsSource {
    name: String,
    records: BTreeMap<String, Vec<Value>>,
}

impl DetectionsSource {
    /// A source over laid-out records.
    #[must_use]
    pub fn new(name: String, assignment: &Assignment) -> DetectionsSource {
        let records = assignment
            .records
            .iter()
            .map(|(split, list)| {
                (
                    split.clone(),
                    list.iter()
                        .map(|r| serde_json::to_value(r).unwrap_or_default())
                        .collect(),
                )
            })
            .collect();
        DetectionsSource { name, records }
    }
}

impl pixmo_dag::RecordSource for DetectionsSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn counts(&self) -> BTreeMap<String, u64> {
        self.records
            .iter()
            .map(|(s, l)| (s.clone(), l.len() as u64))
            .collect()
    }

    fn describe(&self, split: &str, index: u64) -> Option<Value> {
        self.records
            .get(split)?
            .get(usize::try_from(index).ok()?)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixmo_points::Percent;

    fn config(per_count: u32, seed: u64) -> DetectionsConfig {
        let mut c: DetectionsConfig = toml::from_str("score_threshold = 0.5").unwrap();
        c.per_count = per_count;
        c.sample_seed = seed;
        c
    }

    fn candidates() -> Vec<CountCandidate> {
        (0..60u64)
            .map(|i| CountCandidate {
                image_id: i,
                category_id: 1,
                label: "cup".into(),
                points: vec![Percent::new(1.0, 1.0).unwrap(); 1 + (i % 6) as usize],
                centres: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn balanced_splits_hold_per_count_images_of_every_count_and_do_not_overlap() {
        let c = candidates();
        let splits = assign_splits(&c, &config(3, 1), "train");
        for split in ["val", "test"] {
            for count in 2..=6 {
                let n = (0..c.len())
                    .filter(|&i| splits[i] == split && c[i].points.len() == count)
                    .count();
                assert_eq!(n, 3, "{split} count {count}");
            }
            let ones = (0..c.len())
                .filter(|&i| splits[i] == split && c[i].points.len() == 1)
                .count();
            assert_eq!(ones, 0, "count 1 is below the balanced range");
        }
        assert_eq!(splits.iter().filter(|s| *s == "train").count(), 60 - 30);
        assert_eq!(splits, assign_splits(&c, &config(3, 1), "train"));
        assert_ne!(splits, assign_splits(&c, &config(3, 2), "train"));
    }

    #[test]
    fn the_spec_needs_one_split_besides_the_balanced_ones() {
        let splits = |names: &[&str]| -> BTreeMap<String, f64> {
            names.iter().map(|n| ((*n).to_string(), 0.1)).collect()
        };
        let c = config(1, 0);
        assert_eq!(
            rest_split(&splits(&["train", "val", "test"]), &c).unwrap(),
            "train"
        );
        let err = rest_split(&splits(&["train", "val"]), &c).unwrap_err();
        assert!(err.to_string().contains("`test`"), "{err}");
        let err = rest_split(&splits(&["train", "extra", "val", "test"]), &c).unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
    }

    #[test]
    fn image_entries_need_a_size_and_a_pinned_or_local_image() {
        let ok = image_ref(
            &serde_json::json!({"id": 1, "width": 4, "height": 3, "file_name": "a/b.png"}),
        );
        assert_eq!(ok.unwrap().file_name.as_deref(), Some("a/b.png"));
        for (entry, needle) in [
            (
                serde_json::json!({"width": 4, "height": 3, "file_name": "a.png"}),
                "`id`",
            ),
            (
                serde_json::json!({"id": 1, "height": 3, "file_name": "a.png"}),
                "`width`",
            ),
            (
                serde_json::json!({"id": 1, "width": 4, "height": 3}),
                "no `file_name` or `url`",
            ),
            (
                serde_json::json!({"id": 1, "width": 4, "height": 3, "url": "http://x/a.png"}),
                "needs the image's `sha256`",
            ),
            (
                serde_json::json!({"id": 1, "width": 4, "height": 3, "file_name": "/etc/a.png"}),
                "relative path",
            ),
            (
                serde_json::json!({"id": 1, "width": 4, "height": 3, "file_name": "a.png", "sha256": "beef"}),
                "64 hex",
            ),
        ] {
            let err = image_ref(&entry).unwrap_err();
            assert!(err.contains(needle), "{entry}: {err}");
        }
    }

    #[test]
    fn the_ledger_is_written_once_and_refuses_changed_inputs() {
        let tmp = tempfile::tempdir().unwrap();
        let digests = BTreeMap::from([("detections.json".to_string(), "a".repeat(64))]);
        let from = tmp.path().join("in");
        // An array worker may not be the first to see the inputs.
        assert!(check_ledger(&from, tmp.path(), &digests, false).is_err());
        check_ledger(&from, tmp.path(), &digests, true).unwrap();
        check_ledger(&from, tmp.path(), &digests, false).unwrap();
        let mut more = digests.clone();
        more.insert("verdicts/cvat.xml".into(), "b".repeat(64));
        let err = check_ledger(&from, tmp.path(), &more, true).unwrap_err();
        assert!(err.to_string().contains("verdicts/cvat.xml"), "{err}");
    }
}
