//! OCR behind a small trait. The app stores an image's result as JSON and gives its text to
//! the LLM; the engine (a non-VLM OCR model) lives in another crate.

use serde::{Deserialize, Serialize};

/// One recognized word.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OcrWord {
    /// The text.
    pub text: String,
    /// Box in image pixels: left, top, width, height.
    pub bbox: [f64; 4],
    /// Confidence in 0–1.
    pub confidence: f64,
}

/// An OCR engine's output for one image.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OcrResult {
    /// Words in reading order.
    pub words: Vec<OcrWord>,
    /// Engine name and version (recorded as the `ocr` model in provenance).
    pub engine: String,
    /// SHA-256 of the engine's model file(s), or of its identity.
    pub model_sha256: String,
}

impl OcrResult {
    /// The words joined by spaces: what the LLM sees.
    #[must_use]
    pub fn text(&self) -> String {
        self.words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A text recognizer that is not a vision-language model.
pub trait OcrEngine: Send + Sync {
    /// Recognizes the text of an encoded image (PNG or JPEG bytes).
    ///
    /// # Errors
    /// The engine's failure, boxed.
    fn ocr(
        &self,
        image_bytes: &[u8],
    ) -> Result<OcrResult, Box<dyn std::error::Error + Send + Sync>>;
}

/// Debian's tesseract through `pixmo-ocr` (a child process per image, with a deadline and
/// size limits): boxes in pixels, confidence scaled from tesseract's 0–100 to 0–1, engine
/// version and the SHA-256 of its language data recorded.
#[derive(Debug)]
pub struct TesseractOcr(pub pixmo_ocr::Tesseract);

impl OcrEngine for TesseractOcr {
    fn ocr(
        &self,
        image_bytes: &[u8],
    ) -> Result<OcrResult, Box<dyn std::error::Error + Send + Sync>> {
        use pixmo_ocr::OcrEngine as _;
        let result = self.0.ocr(image_bytes)?;
        let identity = self.0.identity();
        Ok(OcrResult {
            words: result
                .words
                .iter()
                .map(|w| OcrWord {
                    text: w.text.clone(),
                    bbox: [
                        f64::from(w.bbox.left),
                        f64::from(w.bbox.top),
                        f64::from(w.bbox.width),
                        f64::from(w.bbox.height),
                    ],
                    confidence: (f64::from(w.confidence) / 100.0).clamp(0.0, 1.0),
                })
                .collect(),
            engine: identity.name(),
            model_sha256: identity.data_sha256(),
        })
    }
}
