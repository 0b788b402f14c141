//! What OCR returns: words with boxes and confidences, grouped into lines and blocks.

use serde::{Deserialize, Serialize};

/// An axis-aligned box in image pixels, origin top-left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BoundingBox {
    /// Left edge.
    pub left: u32,
    /// Top edge.
    pub top: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl BoundingBox {
    /// One past the right edge.
    #[must_use]
    pub fn right(self) -> u32 {
        self.left.saturating_add(self.width)
    }

    /// One past the bottom edge.
    #[must_use]
    pub fn bottom(self) -> u32 {
        self.top.saturating_add(self.height)
    }

    /// Area in pixels.
    #[must_use]
    pub fn area(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Intersection over union with `other` (0 when either box is empty).
    #[must_use]
    pub fn iou(self, other: BoundingBox) -> f64 {
        let w = self
            .right()
            .min(other.right())
            .saturating_sub(self.left.max(other.left));
        let h = self
            .bottom()
            .min(other.bottom())
            .saturating_sub(self.top.max(other.top));
        let inter = u64::from(w) * u64::from(h);
        let union = self.area() + other.area() - inter;
        if union == 0 {
            0.0
        } else {
            inter as f64 / union as f64
        }
    }

    /// The smallest box holding both.
    #[must_use]
    pub fn union(self, other: BoundingBox) -> BoundingBox {
        let left = self.left.min(other.left);
        let top = self.top.min(other.top);
        BoundingBox {
            left,
            top,
            width: self.right().max(other.right()) - left,
            height: self.bottom().max(other.bottom()) - top,
        }
    }
}

/// One recognised word.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word as recognised.
    pub text: String,
    /// Where it is, in pixels.
    pub bbox: BoundingBox,
    /// The engine's confidence, 0–100.
    pub confidence: f32,
    /// Index of its block in [`OcrResult::blocks`].
    pub block: usize,
    /// Index of its line in [`OcrResult::lines`].
    pub line: usize,
}

/// A line of words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The words joined by single spaces.
    pub text: String,
    /// Where it is, in pixels.
    pub bbox: BoundingBox,
    /// Mean confidence of its words.
    pub confidence: f32,
    /// Index of its block in [`OcrResult::blocks`].
    pub block: usize,
    /// Indices of its words in [`OcrResult::words`], left to right.
    pub words: Vec<usize>,
}

/// A block of text (a column, a caption, a table cell...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// Its lines joined by newlines, paragraphs by blank lines.
    pub text: String,
    /// Where it is, in pixels.
    pub bbox: BoundingBox,
    /// Indices of its lines in [`OcrResult::lines`].
    pub lines: Vec<usize>,
}

/// The text of one image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OcrResult {
    /// Image width in pixels, as the engine read it.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// The full text: lines joined by newlines, paragraphs and blocks by blank lines.
    pub text: String,
    /// Every recognised word, in reading order.
    pub words: Vec<Word>,
    /// Lines with at least one word.
    pub lines: Vec<Line>,
    /// Blocks with at least one line.
    pub blocks: Vec<Block>,
    /// Wall-clock time of the engine call, in milliseconds.
    pub elapsed_ms: u64,
}

impl OcrResult {
    /// The text rebuilt from the words whose confidence is at least `min_confidence`
    /// (lines left empty are dropped), in the layout of [`OcrResult::text`].
    #[must_use]
    pub fn text_above(&self, min_confidence: f32) -> String {
        let mut out = String::new();
        let mut last_block = None;
        for line in &self.lines {
            let words: Vec<&str> = line
                .words
                .iter()
                .map(|&i| &self.words[i])
                .filter(|w| w.confidence >= min_confidence)
                .map(|w| w.text.as_str())
                .collect();
            if words.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push_str(if last_block == Some(line.block) {
                    "\n"
                } else {
                    "\n\n"
                });
            }
            out.push_str(&words.join(" "));
            last_block = Some(line.block);
        }
        out
    }

    /// Mean word confidence (0 with no words).
    #[must_use]
    pub fn mean_confidence(&self) -> f32 {
        if self.words.is_empty() {
            return 0.0;
        }
        self.words.iter().map(|w| w.confidence).sum::<f32>() / self.words.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_and_union() {
        let a = BoundingBox {
            left: 0,
            top: 0,
            width: 10,
            height: 10,
        };
        let b = BoundingBox {
            left: 5,
            top: 0,
            width: 10,
            height: 10,
        };
        assert!((a.iou(b) - 50.0 / 150.0).abs() < 1e-9);
        assert_eq!(a.iou(a), 1.0);
        assert_eq!(
            a.union(b),
            BoundingBox {
                left: 0,
                top: 0,
                width: 15,
                height: 10
            }
        );
        let far = BoundingBox {
            left: 100,
            top: 100,
            width: 1,
            height: 1,
        };
        assert_eq!(a.iou(far), 0.0);
    }
}
