//! Any file by URL whose SHA-256 is known (PixMo-Cap's images): fetched once into a
//! content-addressed cache and checked.
//!
//! - The cache holds `<dir>/<sha[0..2]>/<sha>`: a file is trusted only after its bytes hash to
//!   its name, so a cache shared by many builds (or a half-written file) is never wrong.
//! - A fetch is retried on connection errors, 5xx and 429, honouring `Retry-After` (seconds
//!   or an HTTP date) up to `max_wait`, else backing off exponentially; 4xx other than 429 is
//!   final. Every failure is a [`FetchError`] with the HTTP status when there is one.
//! - A body is read only up to `max_bytes`; no redirect is followed to a non-http(s) URL.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An HTTP client for pinned downloads.
#[derive(Clone, Debug)]
pub struct PinnedClient {
    http: reqwest::Client,
}

impl PinnedClient {
    /// A client that names pixmo in its user agent.
    ///
    /// # Errors
    /// When the TLS backend cannot start.
    pub fn new() -> Result<PinnedClient, String> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("pixmo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(PinnedClient { http })
    }
}

/// Fetch settings.
#[derive(Clone, Debug)]
pub struct FetchSettings {
    /// Cache folder.
    pub cache_dir: PathBuf,
    /// Largest body read.
    pub max_bytes: u64,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts after the first.
    pub retries: u32,
    /// Longest wait honoured from `Retry-After`, and the backoff cap.
    pub max_wait: Duration,
}

/// Why an image could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    /// `image_http` (with a status), `image_network`, `image_too_large` or
    /// `image_sha256_mismatch`.
    pub kind: &'static str,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// What happened.
    pub message: String,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The cache path of `sha256`.
#[must_use]
pub fn cache_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(sha256.get(..2).unwrap_or("00")).join(sha256)
}

/// The bytes of the image with `sha256`, from the cache or from `url`.
///
/// # Errors
/// A [`FetchError`] saying why.
pub async fn fetch(
    client: &PinnedClient,
    url: &str,
    sha256: &str,
    settings: &FetchSettings,
) -> Result<Vec<u8>, FetchError> {
    let path = cache_path(&settings.cache_dir, sha256);
    if let Ok(bytes) = std::fs::read(&path)
        && sha256_hex(&bytes) == sha256
    {
        return Ok(bytes);
    }
    let bytes = download(&client.http, url, settings).await?;
    let got = sha256_hex(&bytes);
    if got != sha256 {
        return Err(FetchError {
            kind: "image_sha256_mismatch",
            status: None,
            message: format!("`{url}` has SHA-256 {got}, the manifest says {sha256}"),
        });
    }
    // A cache that cannot be written only costs a re-fetch next time.
    let _ = store(&path, &bytes);
    Ok(bytes)
}

fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The wait a `Retry-After` value asks for.
#[must_use]
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

async fn download(
    client: &reqwest::Client,
    url: &str,
    settings: &FetchSettings,
) -> Result<Vec<u8>, FetchError> {
    let mut attempt = 0u32;
    loop {
        let (error, wait) = match client.get(url).timeout(settings.timeout).send().await {
            Ok(mut response) => {
                let status = response.status();
                if status.is_success() {
                    if response
                        .content_length()
                        .is_some_and(|n| n > settings.max_bytes)
                    {
                        return Err(too_large(url, settings.max_bytes));
                    }
                    let mut body = Vec::new();
                    loop {
                        match response.chunk().await {
                            Ok(Some(chunk)) => {
                                if (body.len() + chunk.len()) as u64 > settings.max_bytes {
                                    return Err(too_large(url, settings.max_bytes));
                                }
                                body.extend_from_slice(&chunk);
                            }
                            Ok(None) => return Ok(body),
                            Err(e) => {
                                break (
                                    FetchError {
                                        kind: "image_network",
                                        status: None,
                                        message: format!("reading `{url}` failed: {e}"),
                                    },
                                    None,
                                );
                            }
                        }
                    }
                } else {
                    let code = status.as_u16();
                    let error = FetchError {
                        kind: "image_http",
                        status: Some(code),
                        message: format!("`{url}` answered HTTP {status}"),
                    };
                    let retryable = code == 429 || status.is_server_error();
                    if !retryable {
                        return Err(error);
                    }
                    let wait = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(retry_after);
                    (error, wait)
                }
            }
            Err(e) => (
                FetchError {
                    kind: "image_network",
                    status: None,
                    message: format!("fetching `{url}` failed: {}", error_chain(&e)),
                },
                None,
            ),
        };
        if attempt >= settings.retries {
            let mut error = error;
            error.message = format!("{} (after {} attempts)", error.message, attempt + 1);
            return Err(error);
        }
        let backoff = Duration::from_millis(250u64 << attempt.min(8));
        let wait = wait.unwrap_or(backoff).min(settings.max_wait);
        if wait > Duration::ZERO {
            tokio::time::sleep(wait).await;
        }
        attempt += 1;
    }
}

fn too_large(url: &str, max: u64) -> FetchError {
    FetchError {
        kind: "image_too_large",
        status: None,
        message: format!("`{url}` is larger than {max} bytes"),
    }
}
