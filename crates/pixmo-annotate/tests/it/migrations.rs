//! Migrations apply once, are recorded, and re-running them changes nothing.

use pixmo_annotate::store::MIGRATIONS;
use pixmo_annotate::{Backend, Store};
use sqlx::Row;

use crate::common::databases;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_once_and_are_idempotent() {
    for db in databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let first = store.migrate().await.unwrap();
        let latest = MIGRATIONS.last().unwrap().version;
        assert_eq!(
            first.applied,
            (1..=latest).collect::<Vec<_>>(),
            "{}",
            db.label
        );
        assert_eq!(first.version, latest);
        store
            .create_invite("kept", pixmo_annotate::store::now_us())
            .await
            .unwrap();
        let second = store.migrate().await.unwrap();
        assert!(second.applied.is_empty(), "{}: {second:?}", db.label);
        assert_eq!(second.version, latest);
        store.close().await;

        // Re-opening (which migrates) keeps the data and the single record per version.
        let store = Store::open(&db.url).await.unwrap();
        assert_eq!(store.applied_migrations().await.unwrap(), vec![1, 2, 3]);
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM annotators")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(n, 1);
        if store.backend() == Backend::Sqlite {
            let mode: String = sqlx::query("PRAGMA journal_mode")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            assert_eq!(mode, "wal");
            let sync: i64 = sqlx::query("PRAGMA synchronous")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            assert_eq!(sync, 2, "synchronous = FULL");
        }
        store.close().await;
    }
}

#[tokio::test]
async fn a_newer_database_is_refused() {
    let db = crate::common::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let err = store.migrate().await.unwrap_err();
    assert!(
        matches!(err, pixmo_annotate::Error::NewerSchema { found: 999, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn database_names_are_paths_sqlite_urls_or_postgres_urls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("with space #1.db");
    let store = Store::open(&format!("sqlite://{}", dir.path().join("url.db").display()))
        .await
        .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.close().await;
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    store.close().await;
    assert!(
        path.is_file(),
        "a plain path names the file, odd characters included"
    );
    let err = Store::open("mysql://localhost/db").await.unwrap_err();
    assert!(
        matches!(err, pixmo_annotate::Error::DatabaseUrl(_)),
        "{err}"
    );
}
