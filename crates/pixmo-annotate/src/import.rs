//! Registering images from a folder or a manifest, with one task per image and kind.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::store::{NewImage, Store, TaskKind, TaskMode, now_us, sha256_hex};

/// Largest image file accepted, in bytes.
pub const MAX_IMAGE_BYTES: u64 = 64 << 20;

/// Where images come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageSource {
    /// Every `.png`, `.jpg` and `.jpeg` under a folder (recursively, sorted by path).
    Folder(PathBuf),
    /// A file listing images, one a line: a path (relative to the manifest's folder or
    /// absolute), or a JSON object `{"path": ..., "caption": ...}`. Blank lines and lines
    /// starting with `#` are skipped.
    Manifest(PathBuf),
    /// Every row of the pixmo shards (`*.parquet`) under a folder, such as `OUT/cap`: the
    /// embedded image bytes are stored in the database; a `caption` column (PixMo-Cap)
    /// becomes the image's caption.
    Dataset(PathBuf),
}

/// What to import and which tasks to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The images.
    pub source: ImageSource,
    /// One task per image for each (kind, mode).
    pub tasks: Vec<(TaskKind, TaskMode)>,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Images new to the database.
    pub images_added: usize,
    /// Images already known (left alone, no new tasks).
    pub images_known: usize,
    /// Tasks created.
    pub tasks_added: usize,
    /// Files refused, with the reason.
    pub rejected: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestLine {
    path: String,
    #[serde(default)]
    caption: Option<String>,
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(Error::io("read folder", dir))?;
    for entry in entries {
        let entry = entry.map_err(Error::io("read folder", dir))?;
        let kind = entry.file_type().map_err(Error::io("read folder", dir))?;
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() && is_image(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// (path, source id, caption) of every image the source names.
fn list(source: &ImageSource) -> Result<Vec<(PathBuf, String, Option<String>)>> {
    match source {
        ImageSource::Folder(dir) => {
            let mut files = Vec::new();
            walk(dir, &mut files)?;
            files.sort();
            Ok(files
                .into_iter()
                .map(|p| {
                    let id = p
                        .strip_prefix(dir)
                        .unwrap_or(&p)
                        .to_string_lossy()
                        .into_owned();
                    (p, id, None)
                })
                .collect())
        }
        ImageSource::Dataset(_) => Ok(Vec::new()),
        ImageSource::Manifest(file) => {
            let text = std::fs::read_to_string(file).map_err(Error::io("read manifest", file))?;
            let base = file.parent().unwrap_or(Path::new("."));
            let mut out = Vec::new();
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (path, caption) = if line.starts_with('{') {
                    let entry: ManifestLine = serde_json::from_str(line).map_err(|e| {
                        Error::Invalid(format!("{}:{}: {e}", file.display(), n + 1))
                    })?;
                    (entry.path, entry.caption)
                } else {
                    (line.to_string(), None)
                };
                out.push((base.join(&path), path, caption));
            }
            Ok(out)
        }
    }
}

fn read_image(path: &Path) -> std::result::Result<(Vec<u8>, String, u32, u32), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_IMAGE_BYTES {
        return Err(format!("larger than {MAX_IMAGE_BYTES} bytes"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let (format, w, h) = image_facts(&bytes)?;
    Ok((bytes, format, w, h))
}

/// An image found in shards: bytes, source id, caption.
type ShardImage = (Vec<u8>, String, Option<String>);

fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(Error::io("read folder", dir))?;
    for entry in entries {
        let entry = entry.map_err(Error::io("read folder", dir))?;
        let kind = entry.file_type().map_err(Error::io("read folder", dir))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if kind.is_dir() && !hidden {
            parquet_files(&path, out)?;
        } else if kind.is_file() && !hidden && path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    Ok(())
}

/// The images of every shard under `dir`, in file then row order.
fn shard_images(dir: &Path) -> Result<Vec<ShardImage>> {
    use arrow::array::{Array, BinaryArray, StringArray, StructArray};
    let mut files = Vec::new();
    parquet_files(dir, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let batches = pixmo_shards::read_batches(&file, 256)
            .map_err(|e| Error::Invalid(format!("Cannot read shard `{}`: {e}", file.display())))?;
        for batch in batches {
            let schema = batch.schema();
            // The dataset's name from the schema, else from the folder (`OUT/cap`).
            let dataset = schema
                .metadata()
                .get("pixmo.dataset")
                .cloned()
                .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "dataset".to_string());
            let bytes = batch
                .column_by_name("image")
                .and_then(|c| c.as_any().downcast_ref::<StructArray>())
                .and_then(|s| s.column_by_name("bytes"))
                .and_then(|c| c.as_any().downcast_ref::<BinaryArray>())
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "Shard `{}` has no `image.bytes` column",
                        file.display()
                    ))
                })?;
            let text = |name: &str| {
                batch
                    .column_by_name(name)
                    .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                    .cloned()
            };
            let ids = text("id").or_else(|| text("image_id"));
            let captions = text("caption");
            for row in 0..batch.num_rows() {
                if bytes.is_null(row) {
                    continue;
                }
                let id = match &ids {
                    Some(ids) if !ids.is_null(row) => ids.value(row).to_string(),
                    _ => format!("row-{}", out.len()),
                };
                let caption = captions
                    .as_ref()
                    .filter(|c| !c.is_null(row))
                    .map(|c| c.value(row).to_string());
                out.push((
                    bytes.value(row).to_vec(),
                    format!("{dataset}/{id}"),
                    caption,
                ));
            }
        }
    }
    Ok(out)
}

fn image_facts(bytes: &[u8]) -> std::result::Result<(String, u32, u32), String> {
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err(format!("larger than {MAX_IMAGE_BYTES} bytes"));
    }
    let format = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Png) => "png",
        Ok(imagesize::ImageType::Jpeg) => "jpeg",
        _ => return Err("not a PNG or JPEG image".into()),
    };
    let size = imagesize::blob_size(bytes).map_err(|e| format!("unreadable header: {e}"))?;
    match (u32::try_from(size.width), u32::try_from(size.height)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => Ok((format.to_string(), w, h)),
        _ => Err("zero or huge image size".into()),
    }
}

async fn import_from_shards(
    store: &Store,
    dir: &Path,
    tasks: &[(TaskKind, TaskMode)],
) -> Result<ImportReport> {
    let dir = dir.to_path_buf();
    let images = tokio::task::spawn_blocking(move || shard_images(&dir))
        .await
        .map_err(|e| Error::Invalid(format!("Reading shards panicked: {e}")))??;
    let mut report = ImportReport::default();
    for (bytes, source_id, caption) in images {
        let (format, width, height) = match image_facts(&bytes) {
            Ok(facts) => facts,
            Err(reason) => {
                report.rejected.push((source_id, reason));
                continue;
            }
        };
        let caption_source = if caption.is_some() {
            "pixmo-cap"
        } else {
            "none"
        };
        let image = NewImage {
            sha256: sha256_hex(&bytes),
            path: String::new(),
            source_id,
            format,
            width,
            height,
            caption,
            caption_source: caption_source.to_string(),
        };
        let now = now_us();
        if store
            .add_image_with_bytes(&image, Some(&bytes), now)
            .await?
        {
            report.images_added += 1;
            for (kind, mode) in tasks {
                store.add_task(&image.sha256, *kind, *mode, now).await?;
                report.tasks_added += 1;
            }
        } else {
            report.images_known += 1;
        }
    }
    Ok(report)
}

/// Registers the images of `options.source` and makes their tasks. Known images (same
/// SHA-256) are left alone, so running an import twice adds nothing.
///
/// # Errors
/// When the folder or manifest cannot be read, or the database fails. A bad image file is
/// not an error: it is listed in [`ImportReport::rejected`].
pub async fn import_images(store: &Store, options: &ImportOptions) -> Result<ImportReport> {
    if let ImageSource::Dataset(dir) = &options.source {
        return import_from_shards(store, dir, &options.tasks).await;
    }
    let mut report = ImportReport::default();
    for (path, source_id, caption) in list(&options.source)? {
        let read = {
            let owned = path.clone();
            tokio::task::spawn_blocking(move || read_image(&owned))
                .await
                .map_err(|e| {
                    Error::Invalid(format!("Reading `{}` panicked: {e}", path.display()))
                })?
        };
        let (bytes, format, width, height) = match read {
            Ok(v) => v,
            Err(reason) => {
                report.rejected.push((source_id, reason));
                continue;
            }
        };
        let absolute = std::path::absolute(&path).map_err(Error::io("resolve", &path))?;
        let caption_source = if caption.is_some() {
            "manifest"
        } else {
            "none"
        };
        let image = NewImage {
            sha256: sha256_hex(&bytes),
            path: absolute.to_string_lossy().into_owned(),
            source_id,
            format,
            width,
            height,
            caption,
            caption_source: caption_source.to_string(),
        };
        let now = now_us();
        if store.add_image(&image, now).await? {
            report.images_added += 1;
            for (kind, mode) in &options.tasks {
                store.add_task(&image.sha256, *kind, *mode, now).await?;
                report.tasks_added += 1;
            }
        } else {
            report.images_known += 1;
        }
    }
    Ok(report)
}
