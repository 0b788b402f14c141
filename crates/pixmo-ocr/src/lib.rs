//! OCR that is not a vision-language model, for PixMo-AskModelAnything (PIXMO_DATA.md §7:
//! the answering LLM sees an OCR model's text and a caption, never the image).
//!
//! - [`OcrEngine`]: the interface the annotation app and pipelines use (`Send + Sync`, one
//!   call per image, an [`OcrIdentity`] for provenance).
//! - [`Tesseract`]: Debian's `tesseract` (packages `tesseract-ocr`, `tesseract-ocr-eng`) run
//!   as a child process per image. Images are untrusted: the input size is bounded, the
//!   child is killed at a wall-clock deadline, and its output is read up to a cap.
//! - [`OcrResult`]: words (text, box in pixels, confidence), lines and blocks read from
//!   tesseract's TSV output, and the full text rebuilt from them.
//! - [`character_error_rate`]: OCR quality against text known exactly. On PixMo-Docs typst
//!   pages (`pixmo-gen-typst`'s `ocr_cer` example) the median page is at 2.2 % CER at 108 dpi and
//!   1.7 % at 144 dpi, 20 % at 72 dpi; menus' dotted leaders are read as letters. Figures by
//!   size, kind and font, and the command, in `crates/pixmo-ocr/BENCH.md`.
//!
//! ```no_run
//! use pixmo_ocr::{OcrEngine, Tesseract, TesseractConfig};
//! # fn run(png: &[u8]) -> pixmo_ocr::Result<()> {
//! let engine = Tesseract::new(TesseractConfig::default())?;
//! let result = engine.ocr(png)?;
//! println!("{} ({} words)", result.text, result.words.len());
//! println!("{:?}", engine.identity().to_model_use("ama.ocr"));
//! # Ok(())
//! # }
//! ```

mod error;
mod header;
mod metrics;
mod process;
mod result;
mod tesseract;
mod tsv;

pub use error::{Error, Result};
pub use header::declared_size;
pub use metrics::character_error_rate;
pub use result::{Block, BoundingBox, Line, OcrResult, Word};
pub use tesseract::{LanguageData, OCR_KIND, OcrIdentity, Tesseract, TesseractConfig};
pub use tsv::parse_tsv;

/// An OCR engine: image bytes in, words with boxes out.
///
/// Implementations must not use a vision-language model: the text they return is what a
/// text-only LLM is allowed to see about an image.
pub trait OcrEngine: Send + Sync {
    /// Reads the text of one encoded image (PNG, JPEG, TIFF, ...).
    ///
    /// # Errors
    /// An unreadable or oversized image, a timeout, or an engine failure.
    fn ocr(&self, image: &[u8]) -> Result<OcrResult>;

    /// Which engine, version and model data produce the results (for provenance).
    fn identity(&self) -> &OcrIdentity;
}

impl<T: OcrEngine + ?Sized> OcrEngine for std::sync::Arc<T> {
    fn ocr(&self, image: &[u8]) -> Result<OcrResult> {
        (**self).ocr(image)
    }

    fn identity(&self) -> &OcrIdentity {
        (**self).identity()
    }
}

impl<T: OcrEngine + ?Sized> OcrEngine for Box<T> {
    fn ocr(&self, image: &[u8]) -> Result<OcrResult> {
        (**self).ocr(image)
    }

    fn identity(&self) -> &OcrIdentity {
        (**self).identity()
    }
}
