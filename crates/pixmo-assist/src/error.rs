//! The crate's error type.

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong asking the LLM.
///
/// A reply that is usable text but breaks the Point-Explanations rules is not an error: it
/// comes back as a [`crate::SendBack`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The question is empty.
    #[error("The question is empty")]
    EmptyQuestion,
    /// The revision feedback is empty.
    #[error("The feedback is empty: say what is wrong with the answer")]
    EmptyFeedback,
    /// The conversation history is not a valid alternation of answers and feedback.
    #[error("Invalid conversation history: {0}")]
    History(String),
    /// A point-explanation request without any point.
    #[error("Point-Explanations needs at least one point group with points; {0}")]
    NoPoints(String),
    /// The LLM answered with nothing.
    #[error("The LLM `{model}` returned an empty reply")]
    EmptyReply {
        /// Model name.
        model: String,
    },
    /// The LLM layer failed (transport, timeout, template).
    #[error(transparent)]
    Llm(#[from] pixmo_llm::Error),
}
