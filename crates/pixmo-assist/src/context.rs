//! What the LLM may know about an image: OCR text and a caption, bounded in length.

use pixmo_ocr::OcrResult;
use serde::{Deserialize, Serialize};

/// Most characters of OCR text put into a prompt; the rest is cut with a note.
pub const MAX_OCR_CHARS: usize = 6000;

/// Most characters of caption put into a prompt.
pub const MAX_CAPTION_CHARS: usize = 6000;

/// The OCR text of an image, as the LLM sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcrText {
    /// The text, lines separated by newlines.
    pub text: String,
}

impl OcrText {
    /// OCR text given directly.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }

    /// The text of an OCR result, keeping words of at least `min_confidence` (0–100).
    #[must_use]
    pub fn from_result(result: &OcrResult, min_confidence: f32) -> Self {
        Self {
            text: result.text_above(min_confidence),
        }
    }

    /// What goes into the prompt: the text cut to [`MAX_OCR_CHARS`], or a sentence saying
    /// that no text was found.
    #[must_use]
    pub fn for_prompt(&self) -> String {
        let text = self.text.trim();
        if text.is_empty() {
            return "(the OCR model found no text in the image)".into();
        }
        cut(text, MAX_OCR_CHARS)
    }
}

impl From<&OcrResult> for OcrText {
    fn from(result: &OcrResult) -> Self {
        Self {
            text: result.text.clone(),
        }
    }
}

/// The caption as it goes into the prompt.
pub(crate) fn caption_for_prompt(caption: Option<&str>) -> String {
    match caption.map(str::trim) {
        Some(c) if !c.is_empty() => cut(c, MAX_CAPTION_CHARS),
        _ => "(no caption is available for this image)".into(),
    }
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{} [... cut after {max} characters]", &text[..end]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_long_texts_are_stated() {
        assert!(OcrText::new("  ").for_prompt().contains("no text"));
        let long = OcrText::new("é".repeat(MAX_OCR_CHARS + 5)).for_prompt();
        assert!(long.ends_with(&format!("[... cut after {MAX_OCR_CHARS} characters]")));
        assert_eq!(long.chars().filter(|&c| c == 'é').count(), MAX_OCR_CHARS);
        assert!(caption_for_prompt(None).contains("no caption"));
        assert_eq!(caption_for_prompt(Some(" A dog. ")), "A dog.");
    }
}
