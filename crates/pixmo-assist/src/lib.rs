//! The text-only LLM in the annotation loop of PixMo-AskModelAnything and
//! PixMo-Point-Explanations (PIXMO_DATA.md §7, §8).
//!
//! The LLM never sees the image: only the annotator's question, the text an OCR engine
//! (not a vision-language model) read from it, and a caption. The prompts say so.
//!
//! - [`draft`] and [`revise`]: AskModelAnything. The annotator writes a question, the LLM
//!   drafts an answer, the annotator accepts it or says what is wrong and the LLM revises,
//!   until the annotator is satisfied. Every [`Draft`] keeps its text, model, prompt
//!   template id and hash, provenance and time.
//! - [`explain`] and [`revise_explanation`]: Point-Explanations. The annotator points first
//!   ([`PointGroup`]s in percent with labels); the LLM must answer citing those groups.
//!   [`parse_explanation`] turns the reply into the released layout ([`PointExplanation`]:
//!   `parsed_response` with `<|POINT|>` placeholders, `alt_text`, `inline_text`, `points`),
//!   or a [`SendBack`] saying why the app should ask for a revision.
//! - [`is_counting_question`]: the flag for counting questions answered without points
//!   (they taught Molmo to stop pointing; the trainer adds a "no pointing" prefix).

mod ama;
mod context;
mod counting;
mod error;
mod explain;
mod prompts;

pub use ama::{Draft, Turn, draft, revise};
pub use context::{MAX_CAPTION_CHARS, MAX_OCR_CHARS, OcrText};
pub use counting::is_counting_question;
pub use error::{Error, Result};
pub use explain::{
    Explained, PLACEHOLDER, PointExplanation, PointGroup, SendBack, SendBackReason, explain,
    parse_explanation, revise_explanation,
};
pub use prompts::{Prompts, prompts};
