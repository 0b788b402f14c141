//! An on-disk response cache around any [`LlmClient`].
//!
//! The key is the SHA-256 of (endpoint, model identity, messages, sampling parameters,
//! schema), so a re-run pays for no call it already made, and a changed prompt, parameter,
//! model file or server misses (two servers may serve different models under one name). Entries are JSON files under `dir/<first two hex digits>/<key>.json`, written to
//! a temporary file and renamed into place: a crash never leaves a torn entry. The raw reply
//! is stored (not the parsed JSON), so a cached reply is parsed exactly like a fresh one.
//!
//! Two identical requests in flight at once both miss and both pay; stages issue each
//! distinct request once, so this is not worth a lock.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::client::{BoxFuture, ChatRequest, ChatResponse, LlmClient, ModelIdentity};
use crate::error::{Error, Result};

/// Counters of a cache, shared by every clone of its [`Arc`]. For the run summary.
#[derive(Debug, Default)]
pub struct CacheStats {
    hits: AtomicU64,
    misses: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    saved_completion_tokens: AtomicU64,
}

/// A snapshot of [`CacheStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheCounts {
    /// Calls answered from the cache.
    pub hits: u64,
    /// Calls passed to the model.
    pub misses: u64,
    /// Prompt tokens of the calls passed to the model (paid).
    pub prompt_tokens: u64,
    /// Generated tokens of the calls passed to the model (paid).
    pub completion_tokens: u64,
    /// Generated tokens the cache hits did not pay for again.
    pub saved_completion_tokens: u64,
}

impl CacheStats {
    /// The current counts.
    #[must_use]
    pub fn snapshot(&self) -> CacheCounts {
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            prompt_tokens: self.prompt_tokens.load(Ordering::Relaxed),
            completion_tokens: self.completion_tokens.load(Ordering::Relaxed),
            saved_completion_tokens: self.saved_completion_tokens.load(Ordering::Relaxed),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    endpoint: String,
    model: ModelIdentity,
    request: ChatRequest,
    response: ChatResponse,
}

/// A response cache in front of `C`.
#[derive(Debug)]
pub struct CachedClient<C> {
    inner: C,
    dir: PathBuf,
    stats: Arc<CacheStats>,
}

impl<C: LlmClient> CachedClient<C> {
    /// Caches `inner`'s replies under `dir` (created if missing).
    ///
    /// # Errors
    /// [`Error::Io`] when `dir` cannot be created.
    pub fn new(inner: C, dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
        Ok(Self {
            inner,
            dir,
            stats: Arc::default(),
        })
    }

    /// The counters (hits, misses, tokens).
    #[must_use]
    pub fn stats(&self) -> Arc<CacheStats> {
        Arc::clone(&self.stats)
    }

    /// The wrapped client.
    #[must_use]
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The cache key of `request` for the wrapped client's model and endpoint.
    #[must_use]
    pub fn key(&self, request: &ChatRequest) -> String {
        request.cache_key(self.inner.identity(), self.inner.endpoint())
    }

    /// Where the entry for `key` lives.
    #[must_use]
    pub fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.json"))
    }

    async fn cached_chat(&self, request: ChatRequest) -> Result<ChatResponse> {
        let model = self.inner.identity().clone();
        let key = self.key(&request);
        let path = self.entry_path(&key);
        if let Some(entry) = read_entry(&path, &key).await? {
            self.stats.hits.fetch_add(1, Ordering::Relaxed);
            self.stats
                .saved_completion_tokens
                .fetch_add(entry.response.usage.completion_tokens, Ordering::Relaxed);
            return Ok(ChatResponse {
                cached: true,
                ..entry.response
            });
        }
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        let response = self.inner.chat(request.clone()).await?;
        self.stats
            .prompt_tokens
            .fetch_add(response.usage.prompt_tokens, Ordering::Relaxed);
        self.stats
            .completion_tokens
            .fetch_add(response.usage.completion_tokens, Ordering::Relaxed);
        let entry = Entry {
            key,
            endpoint: self.inner.endpoint().to_owned(),
            model,
            request,
            response: response.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&entry).expect("cache entry serializes");
        tokio::task::spawn_blocking(move || write_atomic(&path, &bytes))
            .await
            .map_err(|error| Error::Task(error.to_string()))??;
        Ok(response)
    }
}

impl<C: LlmClient> LlmClient for CachedClient<C> {
    fn identity(&self) -> &ModelIdentity {
        self.inner.identity()
    }

    fn endpoint(&self) -> &str {
        self.inner.endpoint()
    }

    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse>> {
        Box::pin(self.cached_chat(request))
    }
}

/// Reads an entry; a missing, unreadable-as-JSON or mismatched file is a miss (and gets
/// overwritten), a file-system error is an error.
async fn read_entry(path: &Path, key: &str) -> Result<Option<Entry>> {
    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Error::io("read", path, error)),
    };
    Ok(serde_json::from_slice::<Entry>(&bytes)
        .ok()
        .filter(|entry| entry.key == key))
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("entry paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let mut file =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io("create a file in", dir, e))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| Error::io("write", file.path().to_path_buf(), e))?;
    file.persist(path)
        .map_err(|e| Error::io("rename into", path, e.error))?;
    Ok(())
}
