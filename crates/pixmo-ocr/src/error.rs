//! The crate's error type.

use std::path::PathBuf;
use std::time::Duration;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong reading an image's text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tesseract program is not installed (or not on `PATH`).
    #[error(
        "OCR program `{program}` was not found; install Debian's `tesseract-ocr` and `tesseract-ocr-eng` (crates/pixmo-ocr/ci-setup.sh does)"
    )]
    NotInstalled {
        /// The program that was run.
        program: PathBuf,
    },
    /// The program could not be started for another reason.
    #[error("Could not start OCR program `{program}`")]
    Spawn {
        /// The program that was run.
        program: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A configured language has no data file.
    #[error(
        "Tesseract has no data for language `{language}` in `{dir}` (available: {available}); install `tesseract-ocr-{language}`"
    )]
    LanguageMissing {
        /// The missing language.
        language: String,
        /// The tessdata folder tesseract reported.
        dir: PathBuf,
        /// The languages it has, comma-separated.
        available: String,
    },
    /// The configuration is unusable.
    #[error("Invalid OCR configuration: {0}")]
    Config(String),
    /// `tesseract --version` or `--list-langs` printed something unexpected.
    #[error("Could not read tesseract's {what} from its output: {output}")]
    Probe {
        /// What was being read.
        what: &'static str,
        /// The start of the output.
        output: String,
    },
    /// The image is empty.
    #[error("The image is empty (0 bytes)")]
    EmptyImage,
    /// The image is larger than the configured limit.
    #[error("The image has {size} bytes, more than the limit of {limit}")]
    ImageTooLarge {
        /// Bytes given.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The image declares more pixels than the configured limit (a possible decompression
    /// bomb).
    #[error("The image declares {width}x{height} pixels, more than the limit of {limit}")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit in pixels.
        limit: u64,
    },
    /// The child ran past its deadline and was killed.
    #[error("OCR took longer than {timeout:?} and was stopped")]
    Timeout {
        /// The configured timeout.
        timeout: Duration,
    },
    /// The child printed more than the output cap and was killed.
    #[error("OCR output exceeded {limit} bytes and was stopped")]
    OutputTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// Tesseract could not decode the image.
    #[error("Tesseract could not read the image: {stderr}")]
    UnreadableImage {
        /// What tesseract printed.
        stderr: String,
    },
    /// Tesseract failed for another reason.
    #[error("Tesseract failed ({status}): {stderr}")]
    Failed {
        /// Exit status.
        status: String,
        /// What tesseract printed.
        stderr: String,
    },
    /// The TSV output is malformed.
    #[error("Tesseract TSV line {line}: {reason}")]
    Tsv {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A local I/O step failed.
    #[error("OCR I/O failed while {what}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}
