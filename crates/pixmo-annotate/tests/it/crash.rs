//! Killing the server (SIGKILL) right after an acknowledged autosave loses nothing.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use pixmo_annotate::{ServeConfig, TaskKind, TaskMode};
use serde_json::json;

use crate::common::{Browser, databases, invite, seeded_store};

/// Not a test on its own: the server process of `killed_server_keeps_acknowledged_work`
/// (does nothing without `PIXMO_CHILD_SERVE_DB`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_server() {
    let Ok(db) = std::env::var("PIXMO_CHILD_SERVE_DB") else {
        return;
    };
    let server = pixmo_annotate::start(ServeConfig::new(db, "127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    println!("LISTENING {}", server.url());
    server.wait().await.unwrap();
}

/// Starts a server process on `db` and returns it with its URL.
fn start_server(db: &str) -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::child_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PIXMO_CHILD_SERVE_DB", db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        // libtest prints `test NAME ... ` before the test's own output, on the same line.
        .find_map(|l| {
            l.split_once("LISTENING ")
                .map(|(_, url)| url.trim().to_string())
        })
        .expect("the server prints its address");
    // Keep draining its output so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_keeps_acknowledged_work() {
    for db in databases().await {
        let images = tempfile::tempdir().unwrap();
        let store = seeded_store(
            &db.url,
            images.path(),
            3,
            &[(TaskKind::Points, TaskMode::Pointing)],
        )
        .await;
        let alice = invite(&store, "alice").await;
        store.close().await;

        let (mut server, url) = start_server(&db.url);
        let browser = Browser::login(&url, &alice.token).await;
        let (_, claimed) = browser.post("/api/claim", json!({"kind": "points"})).await;
        let id = claimed["task"]["id"].as_i64().unwrap();
        // Rapid autosaves, as clicks arrive; the last acknowledged one must survive.
        let mut points = Vec::new();
        for i in 0..25 {
            points.push(json!({"x": f64::from(i) * 2.0, "y": 7.5}));
            let work = json!({"current": {"label": "dots", "points": points}});
            let (status, _) = browser
                .post(&format!("/api/tasks/{id}/work"), json!({"work": work}))
                .await;
            assert_eq!(status, 200);
        }
        server.kill().unwrap(); // SIGKILL: no shutdown, no flush.
        server.wait().unwrap();

        let (mut restarted, url) = start_server(&db.url);
        let browser = Browser::login(&url, &alice.token).await;
        let (status, resumed) = browser.post("/api/claim", json!({"kind": "points"})).await;
        assert_eq!(status, 200);
        assert_eq!(resumed["task"]["id"].as_i64(), Some(id), "{}", db.label);
        assert_eq!(resumed["task"]["saves"], 25);
        assert_eq!(
            resumed["task"]["work"]["current"]["points"],
            json!(points),
            "{}",
            db.label
        );
        restarted.kill().unwrap();
        restarted.wait().unwrap();
    }
}
