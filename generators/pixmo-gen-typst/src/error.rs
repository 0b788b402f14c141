//! The crate's error type.

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a render or a generated sample failed.
///
/// Variants that describe the typst source (`Compile`, `TooLarge`, `MultiplePages`, `Clipped`,
/// `Timeout`) are the source's fault and carry text meant to be sent back to whoever wrote it
/// (for example an LLM repair loop); `Internal` is a bug in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// typst reported errors; `diagnostics` is the formatted list (message, `main.typ:line:col`,
    /// the offending source line and hints), one block per error.
    #[error("Typst compilation failed:\n{diagnostics}")]
    Compile {
        /// Formatted diagnostics, ready to show to a person or a model.
        diagnostics: String,
    },
    /// Compilation did not finish within the deadline.
    #[error("Typst compilation timed out after {millis} ms")]
    Timeout {
        /// The deadline that was exceeded.
        millis: u64,
    },
    /// The source or its output exceeds a configured bound.
    #[error("{what} is too large: {actual} > limit {limit}")]
    TooLarge {
        /// What was measured (`source bytes`, `page pixels`, ...).
        what: &'static str,
        /// The measured value.
        actual: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The document laid out to more than one page while one was required.
    #[error("The document has {pages} pages but must fit on one page")]
    MultiplePages {
        /// Number of pages typst produced.
        pages: usize,
    },
    /// The document laid out to zero pages.
    #[error("The document has no pages")]
    Empty,
    /// Text extends beyond the page (or a clipping box) and is not fully visible.
    #[error("Text is clipped: {details}")]
    Clipped {
        /// The clipped text runs and by how much they overflow.
        details: String,
    },
    /// A generated sample failed its own checks (for example an answer that does not appear in
    /// the laid-out text); likely a bug in a template.
    #[error("Generated sample failed validation (likely a bug): {0}")]
    Validation(String),
    /// Something that should not happen; likely a bug.
    #[error("Internal error (likely a bug): {0}")]
    Internal(String),
}
