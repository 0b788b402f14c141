//! `count.image`: the image a detector saw, read or fetched, checked and kept as is.
//!
//! - What it does: reads `file_name` under the input folder, or fetches `url` through the
//!   content-addressed cache ([`pixmo_fetch::pinned`]); checks the pinned SHA-256 when the
//!   image list gives one; decodes the image fully (PNG or JPEG) and checks that it has the
//!   size the image list declared, since the detector's boxes are in those pixels. The
//!   original bytes are kept: a photograph is not re-encoded.
//! - Inputs: `image_ref` (json), `input_root` (str).
//! - Outputs: `image_bytes` (bytes), `image_format` (str), `image_sha256` (str), `width`,
//!   `height` (u32).
//! - Failure modes: `image_missing`, `image_sha256_mismatch`, `image_http` (with the status),
//!   `image_network`, `image_too_large`, `image_format`, `image_corrupt` (does not decode),
//!   `image_size_mismatch`.
//! - Cost: a file read and a decode; a fetch once per image and cache.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pixmo_annotation_schema::SourceRef;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_fetch::pinned::{FetchSettings, PinnedClient, fetch};
use serde::{Deserialize, Serialize};

use crate::inputs::ImageRef;

/// Config of `count.image`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageConfig {
    /// Cache of fetched images (default: `PIXMO_IMAGE_CACHE`, else the user cache folder's
    /// `pixmo/images`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
    /// Largest image accepted, bytes.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Largest side accepted, pixels.
    #[serde(default = "default_max_side")]
    pub max_side: u32,
    /// Per-request timeout, milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Retries after a failed fetch (429, 5xx, network).
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_max_bytes() -> u64 {
    50 << 20
}
fn default_max_side() -> u32 {
    12_000
}
fn default_timeout_ms() -> u64 {
    30_000
}
fn default_retries() -> u32 {
    4
}

impl StageConfig for ImageConfig {
    const KIND: &'static str = "count.image";
    const SUMMARY: &'static str = "Read or fetch (cached, SHA-256 checked) the detector's image, decode it and check its size";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        Ok(Arc::new(self.loader().map_err(ConfigError::from)?))
    }
}

impl ImageConfig {
    /// The image loader these settings describe.
    ///
    /// # Errors
    /// A message for a zero limit, no cache folder or no HTTP client.
    pub fn loader(&self) -> Result<ImageLoader, String> {
        if self.max_bytes == 0 || self.max_side == 0 {
            return Err("`max_bytes` and `max_side` must be above 0".into());
        }
        let cache_dir = match &self.cache_dir {
            Some(dir) => dir.clone(),
            None => default_cache_dir()?,
        };
        Ok(ImageLoader {
            settings: FetchSettings {
                cache_dir,
                max_bytes: self.max_bytes,
                timeout: Duration::from_millis(self.timeout_ms),
                retries: self.retries,
                max_wait: Duration::from_secs(60),
            },
            max_side: self.max_side,
            client: PinnedClient::new()?,
        })
    }
}

impl Default for ImageConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            max_bytes: default_max_bytes(),
            max_side: default_max_side(),
            timeout_ms: default_timeout_ms(),
            retries: default_retries(),
        }
    }
}

/// `PIXMO_IMAGE_CACHE`, else `~/.cache/pixmo/images`.
fn default_cache_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("PIXMO_IMAGE_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .ok_or("no cache folder: set PIXMO_IMAGE_CACHE or HOME")?;
    Ok(base.join("pixmo").join("images"))
}

/// Reads, fetches and checks images (the stage, and `pixmo count-tasks`).
#[derive(Debug)]
pub struct ImageLoader {
    settings: FetchSettings,
    max_side: u32,
    client: PinnedClient,
}

/// An image read and checked.
#[derive(Debug)]
pub struct LoadedImage {
    /// The original bytes.
    pub bytes: Vec<u8>,
    /// `png` or `jpeg`.
    pub format: &'static str,
    /// SHA-256 of the bytes.
    pub sha256: String,
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(future),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(future),
    }
}

impl ImageLoader {
    fn read_local(&self, path: &Path) -> Result<Vec<u8>, Reject> {
        let missing = |e: std::io::Error| {
            Reject::new(
                "image_missing",
                format!("cannot read `{}`: {e}", path.display()),
            )
        };
        let file = std::fs::File::open(path).map_err(missing)?;
        let mut bytes = Vec::new();
        file.take(self.settings.max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(missing)?;
        if bytes.len() as u64 > self.settings.max_bytes {
            return Err(Reject::new(
                "image_too_large",
                format!(
                    "`{}` is larger than {} bytes",
                    path.display(),
                    self.settings.max_bytes
                ),
            ));
        }
        Ok(bytes)
    }

    /// Reads (under `root`) or fetches the image, checks its SHA-256, decodes it and checks
    /// its declared size.
    ///
    /// # Errors
    /// A [`Reject`] with the kinds listed in the module documentation.
    pub fn load(&self, image: &ImageRef, root: &Path) -> Result<LoadedImage, Reject> {
        let bytes = match (&image.url, &image.file_name) {
            (Some(url), _) => {
                let sha = image.sha256.as_deref().unwrap_or_default();
                block_on(fetch(&self.client, url, sha, &self.settings)).map_err(|e| {
                    Reject::new(e.kind, format!("image {}: {}", image.id, e.message))
                })?
            }
            (None, Some(name)) => self.read_local(&root.join(name))?,
            (None, None) => {
                return Err(Reject::new("image_missing", "the image list names no file"));
            }
        };
        let sha256 = pixmo_core::sha256_hex(&bytes);
        if let Some(expected) = &image.sha256
            && *expected != sha256
        {
            return Err(Reject::new(
                "image_sha256_mismatch",
                format!(
                    "image {} has SHA-256 {sha256}, the image list pins {expected}",
                    image.id
                ),
            ));
        }
        let format = match image::guess_format(&bytes) {
            Ok(image::ImageFormat::Png) => "png",
            Ok(image::ImageFormat::Jpeg) => "jpeg",
            Ok(other) => {
                return Err(Reject::new(
                    "image_format",
                    format!(
                        "image {}: {other:?} images are not accepted (PNG or JPEG)",
                        image.id
                    ),
                ));
            }
            Err(_) => {
                return Err(Reject::new(
                    "image_format",
                    format!("image {} is not an image (PNG or JPEG)", image.id),
                ));
            }
        };
        let mut reader = image::ImageReader::with_format(
            std::io::Cursor::new(&bytes),
            match format {
                "png" => image::ImageFormat::Png,
                _ => image::ImageFormat::Jpeg,
            },
        );
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_side);
        limits.max_image_height = Some(self.max_side);
        reader.limits(limits);
        let decoded = reader.decode().map_err(|e| {
            Reject::new(
                "image_corrupt",
                format!("image {} does not decode: {e}", image.id),
            )
        })?;
        if (decoded.width(), decoded.height()) != (image.width, image.height) {
            return Err(Reject::new(
                "image_size_mismatch",
                format!(
                    "image {} is {}x{} pixels, the image list (and so the boxes) say {}x{}",
                    image.id,
                    decoded.width(),
                    decoded.height(),
                    image.width,
                    image.height
                ),
            ));
        }
        Ok(LoadedImage {
            bytes,
            format,
            sha256,
        })
    }
}

impl Stage for ImageLoader {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("image_ref", ColumnType::Json),
            ColumnDef::new("input_root", ColumnType::Str),
        ]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("image_bytes", ColumnType::Bytes),
            ColumnDef::new("image_format", ColumnType::Str),
            ColumnDef::new("image_sha256", ColumnType::Str),
            ColumnDef::new("width", ColumnType::U32),
            ColumnDef::new("height", ColumnType::U32),
        ]
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let value = record
            .json("image_ref")
            .map_err(|m| Reject::new("image_missing", m))?;
        let image: ImageRef = serde_json::from_value(value.clone())
            .map_err(|e| Reject::new("image_missing", format!("Column `image_ref`: {e}")))?;
        let root = match record.get("input_root") {
            Some(Value::Str(root)) => PathBuf::from(root),
            _ => return Err(Reject::new("image_missing", "no `input_root`")),
        };
        let loaded = self.load(&image, &root)?;
        record.sources.push(SourceRef {
            kind: if image.url.is_some() { "url" } else { "image" }.into(),
            id: image
                .url
                .clone()
                .or_else(|| image.file_name.clone())
                .unwrap_or_default(),
            sha256: loaded.sha256.clone(),
        });
        record.set("width", Value::U32(image.width));
        record.set("height", Value::U32(image.height));
        record.set("image_bytes", Value::Bytes(Arc::new(loaded.bytes)));
        record.set("image_format", Value::Str(loaded.format.into()));
        record.set("image_sha256", Value::Str(loaded.sha256));
        Ok(())
    }
}
