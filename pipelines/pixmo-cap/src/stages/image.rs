//! `cap.image`: the image of a record, read from the inbox or fetched, checked and kept as is.
//!
//! - What it does: reads a local image from the inbox, or fetches a URL through the
//!   content-addressed cache ([`pixmo_fetch::pinned`]); checks the SHA-256 the manifest declared (or
//!   that sealing read); decodes it fully (PNG or JPEG) to prove it is whole and to learn its
//!   size. The original bytes are kept: a photograph is not re-encoded.
//! - Inputs: `inbox_root` (str), `inbox_record` (json).
//! - Outputs: `image_bytes` (bytes), `image_format` (str), `image_sha256` (str), `width`,
//!   `height` (u32).
//! - Failure modes: `image_missing`, `image_sha256_mismatch`, `image_http` (with the status:
//!   404, or 429 after the retries), `image_network`, `image_too_large`, `image_format`,
//!   `image_corrupt`.
//! - Cost: a file read and a decode; a fetch once per image and cache.

use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use serde::{Deserialize, Serialize};

use pixmo_fetch::pinned::{FetchSettings, PinnedClient, fetch};

/// Config of `cap.image`.
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
    /// Longest wait between attempts (a longer `Retry-After` is cut to it), milliseconds.
    #[serde(default = "default_max_wait_ms")]
    pub max_wait_ms: u64,
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
fn default_max_wait_ms() -> u64 {
    60_000
}

impl StageConfig for ImageConfig {
    const KIND: &'static str = "cap.image";
    const SUMMARY: &'static str =
        "Read or fetch (cached, SHA-256 checked, 429/Retry-After honoured) and validate the image";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if self.max_bytes == 0 || self.max_side == 0 {
            return Err("`max_bytes` and `max_side` must be above 0".into());
        }
        let cache_dir = match &self.cache_dir {
            Some(dir) => dir.clone(),
            None => default_cache_dir().map_err(ConfigError::setup)?,
        };
        let client = PinnedClient::new().map_err(ConfigError::setup)?;
        Ok(Arc::new(Image {
            settings: FetchSettings {
                cache_dir,
                max_bytes: self.max_bytes,
                timeout: Duration::from_millis(self.timeout_ms),
                retries: self.retries,
                max_wait: Duration::from_millis(self.max_wait_ms),
            },
            max_side: self.max_side,
            client,
        }))
    }
}

/// `PIXMO_IMAGE_CACHE`, else `~/.cache/pixmo/images`.
///
/// # Errors
/// When no home folder is known.
pub fn default_cache_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("PIXMO_IMAGE_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .ok_or("no cache folder: set PIXMO_IMAGE_CACHE or HOME")?;
    Ok(base.join("pixmo").join("images"))
}

/// The runtime stage.
#[derive(Debug)]
pub struct Image {
    settings: FetchSettings,
    max_side: u32,
    client: PinnedClient,
}

impl Image {
    fn read_local(&self, path: &std::path::Path) -> Result<Vec<u8>, Reject> {
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
}

/// Format name, width and height of a whole PNG or JPEG image.
///
/// # Errors
/// `image_format` for anything else, `image_corrupt` when it does not decode.
pub fn check_image(bytes: &[u8], max_side: u32) -> Result<(&'static str, u32, u32), Reject> {
    let format = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => "png",
        Ok(image::ImageFormat::Jpeg) => "jpeg",
        Ok(other) => {
            return Err(Reject::new(
                "image_format",
                format!("{other:?} images are not accepted (PNG or JPEG)"),
            ));
        }
        Err(_) => return Err(Reject::new("image_format", "not an image (PNG or JPEG)")),
    };
    let size = imagesize::blob_size(bytes)
        .map_err(|e| Reject::new("image_corrupt", format!("unreadable header: {e}")))?;
    let (w, h) = (
        u32::try_from(size.width).unwrap_or(u32::MAX),
        u32::try_from(size.height).unwrap_or(u32::MAX),
    );
    if w == 0 || h == 0 || w > max_side || h > max_side {
        return Err(Reject::new(
            "image_too_large",
            format!("{w}x{h} pixels; sides must be 1..={max_side}"),
        ));
    }
    let decoded = image::load_from_memory(bytes)
        .map_err(|e| Reject::new("image_corrupt", format!("does not decode: {e}")))?;
    Ok((format, decoded.width(), decoded.height()))
}

impl Stage for Image {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("inbox_root", ColumnType::Str),
            ColumnDef::new("inbox_record", ColumnType::Json),
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
        let inbox = super::inbox_record(record)?;
        let root = super::inbox_root(record)?;
        let bytes = match (&inbox.image_url, &inbox.image) {
            (Some(url), _) => {
                let sha = inbox.image_sha256.as_deref().unwrap_or_default();
                pixmo_llm_stage::block_on(fetch(&self.client, url, sha, &self.settings))
                    .map_err(|e| Reject::new(e.kind, e.message))?
            }
            (None, Some(path)) => self.read_local(&root.join(path))?,
            (None, None) => return Err(Reject::new("image_missing", "the record names no image")),
        };
        let sha = pixmo_core::sha256_hex(&bytes);
        match &inbox.image_sha256 {
            Some(expected) if *expected != sha => {
                return Err(Reject::new(
                    "image_sha256_mismatch",
                    format!(
                        "`{}` has SHA-256 {sha}, expected {expected} (changed since it was recorded)",
                        inbox
                            .image
                            .as_deref()
                            .or(inbox.image_url.as_deref())
                            .unwrap_or_default()
                    ),
                ));
            }
            Some(_) => {}
            None => {
                return Err(Reject::new(
                    "image_missing",
                    format!(
                        "`{}` could not be read when the inbox was sealed",
                        inbox.image.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        let (format, width, height) = check_image(&bytes, self.max_side)?;
        record.set("image_bytes", Value::Bytes(Arc::new(bytes)));
        record.set("image_format", Value::Str(format.into()));
        record.set("image_sha256", Value::Str(sha));
        record.set("width", Value::U32(width));
        record.set("height", Value::U32(height));
        Ok(())
    }
}
