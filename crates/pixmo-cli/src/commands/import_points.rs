//! `pixmo import-points`: an annotation tool's export of point annotations (Label Studio JSON
//! keypoints, CVAT for images 1.1 points, COCO keypoints) and the images it names, as a
//! PixMo-Points dataset: `OUT/points` with the rows, a rejects table and a manifest, like
//! every build (`pixmo verify`, `pixmo audit` and `pixmo sql` read it).
//!
//! `pixmo-interchange` reads the file and checks each (image, label) row: empty labels,
//! points outside the image, repeated points, skipped annotations, other shapes. Then each
//! row's image is found under `--images` (by the path the tool recorded, trying shorter
//! suffixes down to the file name; Label Studio's upload prefix `1a2b3c4d-` is dropped), read
//! and checked against the size the export states, and (image, label) pairs that come twice
//! are refused. Every refusal is a row of the rejects table with its kind and reason, never a
//! silent drop; only an unreadable file or folder fails the command.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use pixmo_annotation_schema::{Dataset, Point, SCHEMA_VERSION, SourceRef, StageUse};
use pixmo_core::{SeedKey, sha256_hex};
use pixmo_dag::{Record, Rejection, Value};
use pixmo_interchange::{Import, ImportedPoints, coco, cvat, label_studio};
use pixmo_shards::RunIdentity;

use crate::args::{ImportPointsArgs, PointsTool};

/// Version of the import's row rules (bump when rows change meaning).
const IMPORT_VERSION: &str = "1";
/// Largest export file read, in bytes.
const MAX_EXPORT_BYTES: u64 = 512 << 20;
/// Largest image file read, in bytes (as `pixmo annotate import`).
const MAX_IMAGE_BYTES: u64 = 64 << 20;

impl PointsTool {
    fn name(self) -> &'static str {
        match self {
            PointsTool::LabelStudio => "label_studio",
            PointsTool::Cvat => "cvat",
            PointsTool::Coco => "coco",
        }
    }

    fn read(self, bytes: &[u8]) -> pixmo_interchange::Result<Import> {
        match self {
            PointsTool::LabelStudio => label_studio::import_points(bytes),
            PointsTool::Cvat => cvat::import_points(&String::from_utf8_lossy(bytes)),
            PointsTool::Coco => coco::import_keypoints(bytes),
        }
    }
}

/// An image file read once, shared by every row that names it.
struct ImageFile {
    relative: String,
    bytes: Arc<Vec<u8>>,
    format: &'static str,
    sha256: String,
    width: u32,
    height: u32,
}

/// Runs `pixmo import-points`.
pub fn run(args: &ImportPointsArgs) -> anyhow::Result<ExitCode> {
    let tool = args.from;
    let export = read_bounded(&args.export, MAX_EXPORT_BYTES)
        .with_context(|| format!("Could not read the export `{}`", args.export.display()))?;
    let export_sha256 = sha256_hex(&export);
    let export_name = args.export.file_name().map_or_else(
        || "export".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let import = tool.read(&export).with_context(|| {
        format!(
            "`{}` is not a readable {} export",
            args.export.display(),
            tool.name()
        )
    })?;
    let images = ImageIndex::new(&args.images)?;
    let as_of_us = match &args.as_of {
        Some(text) => pixmo_core::parse_as_of(text).map_err(anyhow::Error::msg)?,
        None => now_us(),
    };

    let config = serde_json::json!({
        "tool": tool.name(),
        "export_sha256": export_sha256,
        "collection_method": args.collection_method,
        "split": args.split,
        "version": IMPORT_VERSION,
    });
    let config_hash = sha256_hex(pixmo_core::canonical_json(&config).as_bytes());
    let code_version = pixmo_core::code_version();
    let mut run = RunIdentity {
        pipeline: "import-points".to_string(),
        dataset: Dataset::Points.name().to_string(),
        run_id: sha256_hex(format!("{config_hash}:0:{code_version}").as_bytes()),
        config_hash: config_hash.clone(),
        seed: 0,
        code_version,
        schema_version: SCHEMA_VERSION.to_string(),
        rows_per_shard: 1,
    };
    let stage = StageUse {
        name: "import".to_string(),
        kind: format!("import.{}", tool.name()),
        version: IMPORT_VERSION.to_string(),
        config_hash,
        uses_vlm: false,
    };

    // (kind, message) of every refusal, in file order: the reader's first, then ours.
    let mut refused: Vec<(String, String)> = import
        .rejects
        .iter()
        .map(|r| {
            let image = if r.image.is_empty() {
                String::new()
            } else {
                format!(" (image `{}`)", r.image)
            };
            (
                r.kind.name().to_string(),
                format!("{}{image}: {}", r.at, r.reason),
            )
        })
        .collect();
    let mut accepted: Vec<(&ImportedPoints, Arc<ImageFile>)> = Vec::new();
    let mut cache: HashMap<PathBuf, Result<Arc<ImageFile>, String>> = HashMap::new();
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    for row in &import.rows {
        let refuse = |kind: &str, why: String| (kind.to_string(), format!("{}: {why}", row.at));
        let path = match images.resolve(&row.image) {
            Ok(path) => path,
            Err((kind, why)) => {
                refused.push(refuse(kind, why));
                continue;
            }
        };
        let file = cache
            .entry(path.clone())
            .or_insert_with(|| read_image(&images.root, &path).map(Arc::new));
        let file = match file {
            Ok(file) => Arc::clone(file),
            Err(why) => {
                refused.push(refuse("image_unreadable", why.clone()));
                continue;
            }
        };
        let (width, height) = (row.size.width(), row.size.height());
        if (file.width, file.height) != (width, height) {
            refused.push(refuse(
                "image_size_mismatch",
                format!(
                    "the export says {width}x{height}, `{}` is {}x{}",
                    file.relative, file.width, file.height
                ),
            ));
            continue;
        }
        let key = (file.sha256.clone(), row.label.to_lowercase());
        if let Some(first) = seen.get(&key) {
            refused.push(refuse(
                "duplicate_label",
                format!(
                    "label `{}` on `{}` was imported already from {first}",
                    row.label, file.relative
                ),
            ));
            continue;
        }
        seen.insert(key, row.at.clone());
        accepted.push((row, file));
    }

    let total = (accepted.len() + refused.len()) as u64;
    run.rows_per_shard = total.max(1);
    let id = |index: usize| format!("points-{}-{index:05}", tool.name());
    let mut records = Vec::with_capacity(accepted.len());
    for (index, (row, file)) in accepted.iter().enumerate() {
        let mut record = Record::new(SeedKey {
            run_seed: 0,
            dataset: Dataset::Points.name().to_string(),
            split: args.split.clone(),
            record_index: index as u64,
        });
        let points: Vec<Point> = row
            .points
            .iter()
            .map(|p| Point::from_pixels(p.x(), p.y(), file.width, file.height))
            .collect();
        record.set("id", Value::Str(id(index)));
        record.set("image_bytes", Value::Bytes(Arc::clone(&file.bytes)));
        record.set("image_format", Value::Str(file.format.to_string()));
        record.set("image_sha256", Value::Str(file.sha256.clone()));
        record.set("width", Value::U32(file.width));
        record.set("height", Value::U32(file.height));
        record.set("points", Value::Json(serde_json::to_value(&points)?));
        record.set(
            "count",
            Value::I32(i32::try_from(points.len()).unwrap_or(i32::MAX)),
        );
        record.set("label", Value::Str(row.label.clone()));
        record.set(
            "collection_method",
            Value::Str(args.collection_method.clone()),
        );
        record.stages.push(stage.clone());
        record.sources.push(SourceRef {
            kind: "image".to_string(),
            id: file.relative.clone(),
            sha256: file.sha256.clone(),
        });
        record.sources.push(SourceRef {
            kind: format!("{}_export", tool.name()),
            id: format!("{export_name}: {}", row.at),
            sha256: export_sha256.clone(),
        });
        if let Some(annotator) = &row.annotator {
            record.sources.push(SourceRef {
                kind: "annotator".to_string(),
                id: annotator.clone(),
                sha256: sha256_hex(annotator.as_bytes()),
            });
        }
        records.push(record);
    }
    let rejections: Vec<Rejection> = refused
        .iter()
        .enumerate()
        .map(|(i, (kind, message))| Rejection {
            record_id: id(records.len() + i),
            split: args.split.clone(),
            record_index: (records.len() + i) as u64,
            stage: "import".to_string(),
            kind: kind.clone(),
            message: message.clone(),
        })
        .collect();
    let snapshot = pixmo_stages::snapshot::write_snapshot(
        &args.out,
        Dataset::Points,
        &args.split,
        &records,
        &rejections,
        &run,
        as_of_us,
    )?;

    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rejections {
        *kinds.entry(r.kind.as_str()).or_default() += 1;
    }
    let tally: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    eprintln!(
        "{}: {} rows, {} rejected{}",
        snapshot.root.display(),
        records.len(),
        rejections.len(),
        if tally.is_empty() {
            String::new()
        } else {
            format!(" ({})", tally.join(", "))
        }
    );
    for r in &rejections {
        eprintln!("  rejected {} [{}] {}", r.record_id, r.kind, r.message);
    }
    Ok(ExitCode::SUCCESS)
}

/// The image files under a folder, by relative path (`/`-separated).
struct ImageIndex {
    root: PathBuf,
    files: BTreeMap<String, PathBuf>,
}

impl ImageIndex {
    fn new(root: &Path) -> anyhow::Result<ImageIndex> {
        let mut files = BTreeMap::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let entries = std::fs::read_dir(&dir)
                .with_context(|| format!("Could not read the images folder `{}`", dir.display()))?;
            for entry in entries {
                let entry = entry.with_context(|| {
                    format!("Could not read the images folder `{}`", dir.display())
                })?;
                let path = entry.path();
                // Real folders only (a linked folder could loop); linked files are read.
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    pending.push(path);
                } else if path.is_file() {
                    let relative = path
                        .strip_prefix(root)
                        .unwrap_or(&path)
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    files.insert(relative, path);
                }
            }
        }
        Ok(ImageIndex {
            root: root.to_path_buf(),
            files,
        })
    }

    /// The file an export's image reference names, or (reject kind, reason). The name is only
    /// looked up among the indexed files, never joined to a path.
    fn resolve(&self, reference: &str) -> Result<PathBuf, (&'static str, String)> {
        let parts = reference_parts(reference);
        if parts.is_empty() {
            return Err(("image_missing", "the image reference is empty".to_string()));
        }
        let mut wanted: Vec<Vec<String>> = (0..parts.len()).map(|i| parts[i..].to_vec()).collect();
        // Label Studio stores uploads as `/data/upload/<project>/<8 hex>-<original name>`.
        if let Some((prefix, rest)) = parts[parts.len() - 1].split_once('-')
            && prefix.len() == 8
            && prefix.bytes().all(|b| b.is_ascii_hexdigit())
            && !rest.is_empty()
        {
            wanted.push(vec![rest.to_string()]);
        }
        for suffix in &wanted {
            let joined = suffix.join("/");
            let matches: Vec<&PathBuf> = self
                .files
                .iter()
                .filter(|(relative, _)| {
                    *relative == &joined || relative.ends_with(&format!("/{joined}"))
                })
                .map(|(_, path)| path)
                .collect();
            match matches.as_slice() {
                [] => {}
                [one] => return Ok((*one).clone()),
                many => {
                    return Err((
                        "image_ambiguous",
                        format!(
                            "`{reference}` matches {} files under `{}` (`{joined}`)",
                            many.len(),
                            self.root.display()
                        ),
                    ));
                }
            }
        }
        Err((
            "image_missing",
            format!(
                "no file under `{}` matches `{reference}`",
                self.root.display()
            ),
        ))
    }
}

/// The path segments of an image reference: a URL's path (or Label Studio's `?d=` local-file
/// parameter), percent-decoded, without empty, `.` and `..` segments.
fn reference_parts(reference: &str) -> Vec<String> {
    let mut text = reference.trim();
    if let Some((_, local)) = text.split_once("?d=") {
        text = local;
    } else {
        if let Some((_, rest)) = text.split_once("://") {
            text = rest.split_once('/').map_or("", |(_, path)| path);
        }
        text = text.split(['?', '#']).next().unwrap_or("");
    }
    let decoded = percent_decode(text);
    decoded
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .map(str::to_string)
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let size = std::fs::metadata(path)?.len();
    if size > limit {
        return Err(std::io::Error::other(format!(
            "{size} bytes, more than the {limit} accepted"
        )));
    }
    std::fs::read(path)
}

/// Reads a PNG or JPEG and its header size.
fn read_image(root: &Path, path: &Path) -> Result<ImageFile, String> {
    let relative = path
        .strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    let bytes = read_bounded(path, MAX_IMAGE_BYTES).map_err(|e| format!("`{relative}`: {e}"))?;
    let format = match imagesize::image_type(&bytes) {
        Ok(imagesize::ImageType::Png) => "png",
        Ok(imagesize::ImageType::Jpeg) => "jpeg",
        _ => return Err(format!("`{relative}` is not a PNG or JPEG image")),
    };
    let size = imagesize::blob_size(&bytes)
        .map_err(|e| format!("`{relative}` has an unreadable header: {e}"))?;
    let (Ok(width), Ok(height)) = (u32::try_from(size.width), u32::try_from(size.height)) else {
        return Err(format!("`{relative}` has a size out of range"));
    };
    if width == 0 || height == 0 {
        return Err(format!("`{relative}` is empty ({width}x{height})"));
    }
    Ok(ImageFile {
        relative,
        sha256: sha256_hex(&bytes),
        bytes: Arc::new(bytes),
        format,
        width,
        height,
    })
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_path_segments() {
        assert_eq!(
            reference_parts("/data/local-files/?d=count/count-000017.jpg"),
            ["count", "count-000017.jpg"]
        );
        assert_eq!(
            reference_parts("/data/upload/3/1a2b3c4d-shelf%20one.jpg"),
            ["data", "upload", "3", "1a2b3c4d-shelf one.jpg"]
        );
        assert_eq!(
            reference_parts("s3://bucket/imgs/a.png?X-Amz=1"),
            ["imgs", "a.png"]
        );
        assert_eq!(reference_parts("../../etc/passwd"), ["etc", "passwd"]);
        assert_eq!(reference_parts("sub\\b.jpg"), ["sub", "b.jpg"]);
        assert!(reference_parts(" ").is_empty());
    }

    #[test]
    fn images_resolve_by_suffix_and_never_outside_the_index() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a/x.png", "b/x.png", "b/y.png", "shelf one.jpg"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"not read here").unwrap();
        }
        let index = ImageIndex::new(dir.path()).unwrap();
        assert_eq!(
            index.resolve("/data/local-files/?d=b/y.png").unwrap(),
            dir.path().join("b/y.png")
        );
        assert_eq!(
            index.resolve("http://host/static/a/x.png").unwrap(),
            dir.path().join("a/x.png")
        );
        assert_eq!(
            index
                .resolve("/data/upload/3/1a2b3c4d-shelf%20one.jpg")
                .unwrap(),
            dir.path().join("shelf one.jpg")
        );
        assert_eq!(index.resolve("x.png").unwrap_err().0, "image_ambiguous");
        assert_eq!(index.resolve("c/z.png").unwrap_err().0, "image_missing");
        assert_eq!(
            index.resolve("../../etc/passwd").unwrap_err().0,
            "image_missing"
        );
    }
}
