//! The queue never gives one task to two annotators: many tokio tasks, and separate
//! processes (this test binary re-executed), claim at once; leases expire; work resumes.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;

use pixmo_annotate::store::{TaskStatus, now_us};
use pixmo_annotate::{Store, TaskKind, TaskMode};

use crate::common::{databases, invite, seeded_store};

const HOUR_US: i64 = 3_600_000_000;

/// Claims and submits until the queue is empty; returns the task ids this claimer got.
async fn drain(store: &Store, annotator_id: &str) -> Vec<i64> {
    let mut got = Vec::new();
    while let Some(task) = store
        .claim(annotator_id, TaskKind::Points, now_us(), HOUR_US)
        .await
        .unwrap()
    {
        got.push(task.id);
        store
            .submit(task.id, annotator_id, "{}", now_us())
            .await
            .unwrap();
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_a_task() {
    for db in databases().await {
        let images = tempfile::tempdir().unwrap();
        let store = seeded_store(
            &db.url,
            images.path(),
            60,
            &[(TaskKind::Points, TaskMode::Pointing)],
        )
        .await;
        let mut annotators = Vec::new();
        for i in 0..12 {
            annotators.push(invite(&store, &format!("worker-{i}")).await.annotator.id);
        }
        let store = Arc::new(store);
        let handles: Vec<_> = annotators
            .into_iter()
            .map(|id| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { drain(&store, &id).await })
            })
            .collect();
        let mut all = Vec::new();
        for handle in handles {
            all.extend(handle.await.unwrap());
        }
        let unique: BTreeSet<i64> = all.iter().copied().collect();
        assert_eq!(
            all.len(),
            60,
            "{}: every task claimed once: {all:?}",
            db.label
        );
        assert_eq!(unique.len(), 60, "{}: no task claimed twice", db.label);
        store.close().await;
    }
}

/// Re-executes this binary to run only `queue::child_claimer` with `env`.
fn spawn_child(test: &str, env: &[(&str, &str)]) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().unwrap()
}

/// Not a test on its own: the body of a claimer process in
/// `claimer_processes_never_share_a_task` (does nothing without `PIXMO_CHILD_DB`).
#[tokio::test]
async fn child_claimer() {
    let (Ok(db), Ok(annotator)) = (
        std::env::var("PIXMO_CHILD_DB"),
        std::env::var("PIXMO_CHILD_ANNOTATOR"),
    ) else {
        return;
    };
    // Every process migrates on open: concurrent opens must agree.
    let store = Store::open(&db).await.unwrap();
    for id in drain(&store, &annotator).await {
        println!("CLAIMED {id}");
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claimer_processes_never_share_a_task() {
    for db in databases().await {
        let images = tempfile::tempdir().unwrap();
        let store = seeded_store(
            &db.url,
            images.path(),
            40,
            &[(TaskKind::Points, TaskMode::Pointing)],
        )
        .await;
        let mut annotators = Vec::new();
        for i in 0..4 {
            annotators.push(invite(&store, &format!("process-{i}")).await.annotator.id);
        }
        let children: Vec<_> = annotators
            .iter()
            .map(|id| {
                spawn_child(
                    "queue::child_claimer",
                    &[
                        ("PIXMO_CHILD_DB", db.url.as_str()),
                        ("PIXMO_CHILD_ANNOTATOR", id.as_str()),
                    ],
                )
            })
            .collect();
        let mut all = Vec::new();
        let mut per_process = Vec::new();
        for mut child in children {
            let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
            let ids: Vec<i64> = stdout
                .lines()
                .map_while(Result::ok)
                // libtest prints `test NAME ... ` before the test's own output, on the same line.
                .filter_map(|l| {
                    l.split_once("CLAIMED ")
                        .and_then(|(_, n)| n.trim().parse().ok())
                })
                .collect();
            assert!(child.wait().unwrap().success());
            per_process.push(ids.len());
            all.extend(ids);
        }
        let unique: BTreeSet<i64> = all.iter().copied().collect();
        assert_eq!(all.len(), 40, "{}: {per_process:?}", db.label);
        assert_eq!(
            unique.len(),
            40,
            "{}: a task went to two processes",
            db.label
        );
        assert_eq!(store.applied_migrations().await.unwrap(), vec![1, 2, 3]);
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_expire_and_work_comes_back_to_its_holder() {
    for db in databases().await {
        let images = tempfile::tempdir().unwrap();
        let store = seeded_store(
            &db.url,
            images.path(),
            1,
            &[(TaskKind::Points, TaskMode::Pointing)],
        )
        .await;
        let alice = invite(&store, "alice").await.annotator.id;
        let bob = invite(&store, "bob").await.annotator.id;
        let t0 = 1_000_000_000_000_000;
        let lease = 60_000_000;
        let task = store
            .claim(&alice, TaskKind::Points, t0, lease)
            .await
            .unwrap()
            .unwrap();
        store
            .save_state(
                task.id,
                &alice,
                r#"{"current":{"label":"cup"}}"#,
                t0 + 1,
                lease,
            )
            .await
            .unwrap();
        // Within the lease nobody else gets it; Alice gets her work back.
        assert!(
            store
                .claim(&bob, TaskKind::Points, t0 + 2, lease)
                .await
                .unwrap()
                .is_none()
        );
        let again = store
            .claim(&alice, TaskKind::Points, t0 + 3, lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (again.id, again.state.as_str()),
            (task.id, r#"{"current":{"label":"cup"}}"#)
        );
        // A save renews the lease: still Alice's just after the first lease would have ended.
        store
            .save_state(
                task.id,
                &alice,
                r#"{"current":{"label":"cups"}}"#,
                t0 + lease,
                lease,
            )
            .await
            .unwrap();
        assert!(
            store
                .claim(&bob, TaskKind::Points, t0 + lease + 1, lease)
                .await
                .unwrap()
                .is_none()
        );
        // Expired: Bob takes it over, with the saved work; Alice can no longer write.
        let late = t0 + 3 * lease;
        let taken = store
            .claim(&bob, TaskKind::Points, late, lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(taken.id, task.id);
        assert_eq!(taken.state, r#"{"current":{"label":"cups"}}"#);
        let refused = store
            .save_state(task.id, &alice, "{}", late + 1, lease)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, pixmo_annotate::Error::Conflict(_)),
            "{refused}"
        );
        store.submit(task.id, &bob, "{}", late + 2).await.unwrap();
        let done = store.task(task.id).await.unwrap();
        assert_eq!(done.status, TaskStatus::Done);
        assert_eq!(done.annotator_id.as_deref(), Some(bob.as_str()));
        assert!(
            store
                .claim(&alice, TaskKind::Points, late + 10 * lease, lease)
                .await
                .unwrap()
                .is_none()
        );
        store.close().await;
    }
}
