//! The database: SQLite (a file, the default) or PostgreSQL (a URL), one code path.
//!
//! Queries are plain runtime SQL through sqlx's `Any` driver with `$N` placeholders, which
//! both backends read. Where the two differ (claiming with `FOR UPDATE SKIP LOCKED`, identity
//! columns in migrations) the [`Backend`] picks the text. Times are microseconds since the
//! Unix epoch (`BIGINT`); JSON is stored as text.

mod accounts;
mod ama;
mod images;
mod migrate;
mod queue;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use accounts::{Annotator, Invite, Session};
pub use ama::{Trail, Turn, TurnKind};
pub use images::{ImageRecord, NewImage};
pub use migrate::{MIGRATIONS, Migration, MigrationReport};
pub use queue::{Task, TaskKind, TaskMode, TaskStatus};

use crate::error::{Error, Result};

/// Which database engine a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in WAL mode with `synchronous=FULL`.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A connection pool with the app's schema applied.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Percent-encodes a file path for a `sqlite://` URL (sqlx decodes it again).
fn encode_path(path: &Path) -> String {
    let mut out = String::new();
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Store {
    /// Connects to `database` and applies pending migrations.
    ///
    /// `database` is a PostgreSQL URL (`postgres://user:pass@host:port/db`), a
    /// `sqlite://PATH` URL, or a plain file path (an SQLite file, created if missing).
    ///
    /// # Errors
    /// [`Error::DatabaseUrl`] for an unknown scheme, [`Error::Database`] when connecting
    /// fails, [`Error::Migration`] or [`Error::NewerSchema`] from [`Store::migrate`].
    pub async fn open(database: &str) -> Result<Store> {
        let store = Store::connect(database).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    ///
    /// # Errors
    /// As [`Store::open`], without the migration errors.
    pub async fn connect(database: &str) -> Result<Store> {
        install_default_drivers();
        let (backend, url) =
            if database.starts_with("postgres://") || database.starts_with("postgresql://") {
                (Backend::Postgres, database.to_string())
            } else if let Some(rest) = database.strip_prefix("sqlite://") {
                // Create the file when missing, as for a plain path, unless a mode is given.
                let mode = if rest.contains("mode=") {
                    ""
                } else if rest.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                };
                (Backend::Sqlite, format!("sqlite://{rest}{mode}"))
            } else if database.contains("://") {
                return Err(Error::DatabaseUrl(database.to_string()));
            } else {
                let path = std::path::absolute(database)
                    .map_err(Error::io("resolve the database path", database))?;
                (
                    Backend::Sqlite,
                    format!("sqlite://{}?mode=rwc", encode_path(&path)),
                )
            };
        let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            // Every connection: wait for writers instead of failing, and make each commit
            // durable before it is acknowledged (nothing an annotator typed is lost on kill).
            options = options.max_connections(8).after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA busy_timeout = 30000").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            });
        } else {
            options = options.max_connections(16);
        }
        let pool = options
            .connect(&url)
            .await
            .map_err(Error::db("connecting to the database"))?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set once, it stays.
            pool.execute("PRAGMA journal_mode = WAL")
                .await
                .map_err(Error::db("switching SQLite to WAL mode"))?;
        }
        Ok(Store { pool, backend })
    }

    /// The engine behind this store.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for tests and tools that inspect the tables.
    #[must_use]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection (waits for checked-out ones).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Microseconds since the Unix epoch, now.
#[must_use]
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A random 256-bit token as lowercase hex.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator only fails when the OS cannot provide randomness at all.
    getrandom::fill(&mut bytes).expect("the OS random number generator works");
    hex::encode(bytes)
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
