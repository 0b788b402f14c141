//! The annotation app behind `pixmo annotate`: PixMo-Points, PixMo-AskModelAnything and
//! PixMo-Point-Explanations made by people, with the whole trail kept.
//!
//! - [`store`]: the database (SQLite file by default, PostgreSQL by URL), versioned
//!   migrations, invite logins, the leased task queue, the AskModelAnything and
//!   Point-Explanations trails.
//! - [`import`]: images from a folder or manifest (SHA-256, size) and their tasks.
//! - `web`: the axum server, server-rendered pages and `static/app.js` (autosave, keyboard
//!   shortcuts), sessions with CSRF tokens, rate limits, security headers.
//! - [`assistant`] and [`ocr`]: the text-only LLM and the OCR engine behind small traits.
//! - [`mod@export`]: finished work as Parquet with provenance, plus companion tables.
//!
//! The CLI calls [`serve`], [`create_invite`], [`import_images`], [`queue_status`] and
//! [`fn@export`]; each takes the database as a file path (SQLite, the default) or a
//! `postgres://` URL and migrates it on open.
//!
//! A session, as a team lead runs it:
//!
//! 1. [`import_images`] from a folder, a manifest or pixmo shards, with the task kinds
//!    wanted (one task per image and kind);
//! 2. [`create_invite`] per annotator: the token is printed once, only its SHA-256 is kept;
//! 3. [`serve`]: annotators log in with the token; `/points`, `/ask` and `/explain` claim a
//!    task each (a lease, renewed by every autosave; reopening gives the same task and its
//!    work back). On `/explain` the annotator marks and names the places first, then asks;
//!    an answer that cites no marked place, or one that was not marked, is sent back to the
//!    model automatically (recorded as a `send_back` turn) before the annotator sees it;
//! 4. [`fn@export`]: submitted work as Parquet with provenance and the companion tables.
//!
//! Safety: pages escape every value and run no inline script (CSP `script-src 'self'`);
//! every state-changing request needs the session's CSRF token (`x-csrf-token`) and the
//! login refuses foreign origins; images are addressed by SHA-256 only; bodies are capped
//! at [`MAX_BODY_BYTES`]; requests and LLM calls are rate-limited per account; the LLM is
//! called by the server only, so no key reaches the browser.
//!
//! Tests (`tests/it/`): SQLite always; PostgreSQL when `PIXMO_TEST_POSTGRES_URL` is set
//! (`eval "$(crates/pixmo-annotate/ci-setup.sh)"`; required when `CI` is set); headless
//! Chromium when installed (screenshots to `PIXMO_SCREENSHOT_DIR`); SmolLM2 on llama.cpp
//! and Hugging Face `datasets` with `PIXMO_PYTHON` (as `.ci/run` prepares).

pub mod assistant;
pub mod error;
pub mod export;
pub mod import;
pub mod ocr;
pub mod store;
mod web;
pub mod work;

use std::net::SocketAddr;
use std::sync::Arc;

pub use assistant::{Assistant, DraftContext, ExplainRequest, LlmAssistant, Reply};
pub use error::{Error, Result};
pub use export::{ExportOptions, ExportReport, ExportedFile};
pub use import::{ImageSource, ImportOptions, ImportReport};
pub use ocr::{OcrEngine, OcrResult, OcrWord, TesseractOcr};
pub use store::{Backend, Invite, Store, TaskKind, TaskMode};
pub use web::{AppSettings, MAX_BODY_BYTES, RunningServer, SESSION_COOKIE};

/// Everything [`serve`] needs.
#[derive(Clone)]
pub struct ServeConfig {
    /// A database file path (SQLite, created if missing), `sqlite://PATH` or a PostgreSQL
    /// URL (`postgres://user:password@host:port/db`).
    pub database: String,
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free one).
    pub bind: SocketAddr,
    /// Leases, sessions and rate limits.
    pub settings: AppSettings,
    /// The LLM for AskModelAnything and Point-Explanations; without one the pages cannot
    /// draft answers.
    pub assistant: Option<Arc<dyn Assistant>>,
    /// OCR for AskModelAnything; without one the LLM sees no OCR text.
    pub ocr: Option<Arc<dyn OcrEngine>>,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("bind", &self.bind)
            .field("settings", &self.settings)
            .field("assistant", &self.assistant.is_some())
            .field("ocr", &self.ocr.is_some())
            .finish_non_exhaustive()
    }
}

impl ServeConfig {
    /// A configuration with default settings and no assistant or OCR.
    #[must_use]
    pub fn new(database: impl Into<String>, bind: SocketAddr) -> ServeConfig {
        ServeConfig {
            database: database.into(),
            bind,
            settings: AppSettings::default(),
            assistant: None,
            ocr: None,
        }
    }
}

/// Opens the database (migrating it), binds and starts serving in the background; the
/// returned handle gives the address and stops the server.
///
/// # Errors
/// Database, migration or bind failures.
pub async fn start(config: ServeConfig) -> Result<RunningServer> {
    let store = Store::open(&config.database).await?;
    web::start_app(
        config.bind,
        store,
        config.settings,
        config.assistant,
        config.ocr,
    )
    .await
}

/// Serves until Ctrl-C (or SIGTERM), then finishes requests in flight and returns.
///
/// # Errors
/// As [`start`], or when the server fails.
pub async fn serve(config: ServeConfig) -> Result<()> {
    let server = start(config).await?;
    eprintln!("pixmo annotate: serving on {}", server.url());
    let stop = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .map_err(Error::Server)?;
            tokio::select! {
                r = ctrl_c => r.map_err(Error::Server),
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            ctrl_c.await.map_err(Error::Server)
        }
    };
    stop.await?;
    server.shutdown().await
}

/// Creates an annotator with `pseudonym` and returns the invite (its token is shown once;
/// the database keeps only its SHA-256).
///
/// # Errors
/// Database failures, a bad or taken pseudonym.
pub async fn create_invite(database: &str, pseudonym: &str) -> Result<Invite> {
    let store = Store::open(database).await?;
    let invite = store.create_invite(pseudonym, store::now_us()).await;
    store.close().await;
    invite
}

/// Registers images and makes their tasks (see [`import::import_images`]).
///
/// # Errors
/// Database failures, an unreadable folder or manifest.
pub async fn import_images(database: &str, options: &ImportOptions) -> Result<ImportReport> {
    let store = Store::open(database).await?;
    let report = import::import_images(&store, options).await;
    store.close().await;
    report
}

/// Tasks per kind and status: `(kind, open, claimed, done)` for every kind.
///
/// # Errors
/// Database failures.
pub async fn queue_status(database: &str) -> Result<Vec<(TaskKind, i64, i64, i64)>> {
    let store = Store::open(database).await?;
    let mut rows = Vec::new();
    for kind in TaskKind::ALL {
        let (open, claimed, done) = store.queue_counts(kind).await?;
        rows.push((kind, open, claimed, done));
    }
    store.close().await;
    Ok(rows)
}

/// Writes the submitted work as Parquet (see [`export::export`]).
///
/// # Errors
/// Database or file failures.
pub async fn export(database: &str, options: &ExportOptions) -> Result<ExportReport> {
    let store = Store::open(database).await?;
    let report = export::export(&store, options).await;
    store.close().await;
    report
}
