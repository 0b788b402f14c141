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
