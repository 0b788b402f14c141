//! Images known to the app (path, hash, size, caption, OCR) and the tasks made from them.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::Store;
use super::queue::{TaskKind, TaskMode};
use crate::error::{Error, Result};

/// An image to register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewImage {
    /// Lowercase hex SHA-256 of the file bytes (the image's id).
    pub sha256: String,
    /// Absolute path the server reads the bytes from; empty when the bytes are stored in
    /// the database (images imported from pixmo shards).
    pub path: String,
    /// Stable id for provenance: the path relative to the folder or as the manifest names it.
    pub source_id: String,
    /// `png` or `jpeg`.
    pub format: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Caption, when one is known (for example from a PixMo-Cap row).
    pub caption: Option<String>,
    /// Where the caption came from (`pixmo-cap`, `manifest`, `endpoint`) or `none`.
    pub caption_source: String,
}

/// An image as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRecord {
    /// The registered image.
    pub image: NewImage,
    /// OCR result as JSON ([`crate::OcrResult`]), once computed.
    pub ocr_json: Option<String>,
}

pub(crate) fn image_from_row(row: &AnyRow) -> Result<ImageRecord, sqlx::Error> {
    let size = |name: &str| -> Result<u32, sqlx::Error> {
        let v: i64 = row.try_get(name)?;
        u32::try_from(v).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    Ok(ImageRecord {
        image: NewImage {
            sha256: row.try_get("sha256")?,
            path: row.try_get("path")?,
            source_id: row.try_get("source_id")?,
            format: row.try_get("format")?,
            width: size("width")?,
            height: size("height")?,
            caption: row.try_get("caption")?,
            caption_source: row.try_get("caption_source")?,
        },
        ocr_json: row.try_get("ocr_json")?,
    })
}

pub(crate) const IMAGE_COLUMNS: &str =
    "sha256, path, source_id, format, width, height, caption, caption_source, ocr_json";

impl Store {
    /// Registers an image (a known hash is left as it is); returns whether it was new.
    ///
    /// # Errors
    /// On database failure.
    pub async fn add_image(&self, image: &NewImage, now_us: i64) -> Result<bool> {
        self.add_image_with_bytes(image, None, now_us).await
    }

    /// Registers an image whose bytes are kept in the database (`image.path` empty).
    ///
    /// # Errors
    /// On database failure.
    pub async fn add_image_with_bytes(
        &self,
        image: &NewImage,
        bytes: Option<&[u8]>,
        now_us: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO images (sha256, path, source_id, format, width, height, caption, \
             caption_source, created_at, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&image.sha256)
        .bind(&image.path)
        .bind(&image.source_id)
        .bind(&image.format)
        .bind(i64::from(image.width))
        .bind(i64::from(image.height))
        .bind(image.caption.clone())
        .bind(&image.caption_source)
        .bind(now_us)
        .bind(bytes.map(<[u8]>::to_vec))
        .execute(&self.pool)
        .await
        .map_err(Error::db("registering an image"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Adds an open task for `image_sha256`; returns its id.
    ///
    /// # Errors
    /// On database failure (an unknown image included).
    pub async fn add_task(
        &self,
        image_sha256: &str,
        kind: TaskKind,
        mode: TaskMode,
        now_us: i64,
    ) -> Result<i64> {
        sqlx::query(
            "INSERT INTO tasks (image_sha256, kind, mode, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(image_sha256)
        .bind(kind.as_str())
        .bind(mode.as_str())
        .bind(now_us)
        .fetch_one(&self.pool)
        .await
        .and_then(|row| row.try_get("id"))
        .map_err(Error::db("adding a task"))
    }

    /// The image with this hash.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown hash.
    pub async fn image(&self, sha256: &str) -> Result<ImageRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {IMAGE_COLUMNS} FROM images WHERE sha256 = $1"
        )))
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(Error::db("looking up an image"))?
        .ok_or_else(|| Error::NotFound(format!("No image `{sha256}`")))?;
        image_from_row(&row).map_err(Error::db("reading an image"))
    }

    /// The encoded bytes of an image: from its file, or from the database for images
    /// imported from shards. The file's SHA-256 is checked against the imported one.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the file is gone, [`Error::Conflict`] when it changed.
    pub async fn image_bytes(&self, image: &ImageRecord) -> Result<Vec<u8>> {
        let bytes = if image.image.path.is_empty() {
            let row = sqlx::query("SELECT bytes FROM images WHERE sha256 = $1")
                .bind(&image.image.sha256)
                .fetch_optional(&self.pool)
                .await
                .map_err(Error::db("reading image bytes"))?;
            let bytes: Option<Vec<u8>> = match row {
                Some(row) => row
                    .try_get("bytes")
                    .map_err(Error::db("reading image bytes"))?,
                None => None,
            };
            bytes.ok_or_else(|| {
                Error::NotFound(format!("No bytes for image `{}`", image.image.sha256))
            })?
        } else {
            tokio::fs::read(&image.image.path).await.map_err(|_| {
                Error::NotFound(format!(
                    "The file of image `{}` is gone",
                    image.image.source_id
                ))
            })?
        };
        if super::sha256_hex(&bytes) != image.image.sha256 {
            return Err(Error::Conflict(format!(
                "Image `{}` changed on disk since it was imported",
                image.image.source_id
            )));
        }
        Ok(bytes)
    }

    /// Stores an image's OCR result (JSON).
    ///
    /// # Errors
    /// On database failure.
    pub async fn set_ocr(&self, sha256: &str, ocr_json: &str) -> Result<()> {
        sqlx::query("UPDATE images SET ocr_json = $1 WHERE sha256 = $2")
            .bind(ocr_json)
            .bind(sha256)
            .execute(&self.pool)
            .await
            .map_err(Error::db("storing OCR"))?;
        Ok(())
    }
}
