//! Versioned migrations: numbered SQL files per backend, each applied once in a transaction
//! and recorded in `schema_migrations`.

use sqlx::{Executor, Row};

use super::{Backend, Store};
use crate::error::{Error, Result};

/// One migration: its number, name and SQL for each backend.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// Version number (1, 2, ...), applied in order.
    pub version: i64,
    /// Short name.
    pub name: &'static str,
    /// SQL for SQLite.
    pub sqlite: &'static str,
    /// SQL for PostgreSQL.
    pub postgres: &'static str,
}

/// Every migration this build knows, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "image_bytes",
        sqlite: include_str!("../../migrations/sqlite/0002_image_bytes.sql"),
        postgres: include_str!("../../migrations/postgres/0002_image_bytes.sql"),
    },
    Migration {
        version: 3,
        name: "explanation_turns",
        sqlite: include_str!("../../migrations/sqlite/0003_explanation_turns.sql"),
        postgres: include_str!("../../migrations/postgres/0003_explanation_turns.sql"),
    },
];

/// What [`Store::migrate`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions applied by this call.
    pub applied: Vec<i64>,
    /// Schema version after the call.
    pub version: i64,
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

impl Store {
    /// Applies the migrations not yet recorded, each in its own transaction that also
    /// records it. Concurrent callers (several servers starting at once) are serialized:
    /// SQLite by `BEGIN IMMEDIATE`, PostgreSQL by an advisory transaction lock.
    ///
    /// # Errors
    /// [`Error::Migration`] when a migration fails (it is rolled back),
    /// [`Error::NewerSchema`] when the database has versions this build does not know.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(Error::db("acquiring a connection to migrate"))?;
        conn.execute(CREATE_TABLE)
            .await
            .map_err(Error::db("creating `schema_migrations`"))?;
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        let mut report = MigrationReport::default();
        for migration in MIGRATIONS {
            let begin = match self.backend {
                Backend::Sqlite => "BEGIN IMMEDIATE",
                Backend::Postgres => "BEGIN",
            };
            conn.execute(begin)
                .await
                .map_err(Error::db("starting a migration transaction"))?;
            let outcome = apply(&mut conn, self.backend, migration).await;
            match outcome {
                Ok(applied) => {
                    conn.execute("COMMIT")
                        .await
                        .map_err(Error::db("committing a migration"))?;
                    if applied {
                        report.applied.push(migration.version);
                    }
                }
                Err(source) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(Error::Migration {
                        version: migration.version,
                        name: migration.name.to_string(),
                        source,
                    });
                }
            }
        }
        let found: i64 = conn
            .fetch_one("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            .await
            .and_then(|row| row.try_get("v"))
            .map_err(Error::db("reading the schema version"))?;
        if found > known {
            return Err(Error::NewerSchema { found, known });
        }
        report.version = found;
        Ok(report)
    }

    /// Applied migration versions, oldest first.
    ///
    /// # Errors
    /// When the table cannot be read.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .map_err(Error::db("reading `schema_migrations`"))?;
        rows.iter()
            .map(|row| row.try_get::<i64, _>("version"))
            .collect::<Result<_, _>>()
            .map_err(Error::db("reading `schema_migrations`"))
    }
}

/// Applies `migration` inside the caller's transaction unless it is recorded already.
async fn apply(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    migration: &Migration,
) -> Result<bool, sqlx::Error> {
    if backend == Backend::Postgres {
        // One migrating server at a time; released at COMMIT/ROLLBACK.
        conn.execute("SELECT pg_advisory_xact_lock(7355608)")
            .await?;
    }
    let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
        .bind(migration.version)
        .fetch_optional(&mut *conn)
        .await?;
    if done.is_some() {
        return Ok(false);
    }
    let sql = match backend {
        Backend::Sqlite => migration.sqlite,
        Backend::Postgres => migration.postgres,
    };
    sqlx::raw_sql(sql).execute(&mut *conn).await?;
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
        .bind(migration.version)
        .bind(migration.name)
        .bind(super::now_us())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}
