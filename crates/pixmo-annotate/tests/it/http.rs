//! The app over HTTP: login, claim, autosave, submit, export, and every refusal.

use std::net::SocketAddr;

use pixmo_annotate::{ServeConfig, TaskKind, TaskMode};
use serde_json::json;

use crate::common::{Browser, databases, invite, seeded_store, sqlite};

const LOOPBACK: &str = "127.0.0.1:0";

fn loopback() -> SocketAddr {
    LOOPBACK.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_are_claimed_autosaved_resumed_submitted_and_exported() {
    for db in databases().await {
        let images = tempfile::tempdir().unwrap();
        let store = seeded_store(
            &db.url,
            images.path(),
            2,
            &[(TaskKind::Points, TaskMode::Pointing)],
        )
        .await;
        let alice = invite(&store, "alice").await;
        let server = pixmo_annotate::start(ServeConfig::new(db.url.clone(), loopback()))
            .await
            .unwrap();
        let browser = Browser::login(&server.url(), &alice.token).await;

        let (status, claimed) = browser.post("/api/claim", json!({"kind": "points"})).await;
        assert_eq!(status, 200, "{claimed}");
        let task = &claimed["task"];
        let id = task["id"].as_i64().unwrap();
        assert_eq!(task["image"]["width"], 64);
        assert_eq!(task["image"]["height"], 48);

        // The image is served by hash to the logged-in annotator.
        let image = browser
            .client
            .get(format!(
                "{}{}",
                server.url(),
                task["image"]["url"].as_str().unwrap()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(image.status(), 200);
        assert_eq!(image.headers()["content-type"], "image/png");
        assert_eq!(&image.bytes().await.unwrap()[..4], b"\x89PNG");

        // Autosave of a half-done entry, then "reopening" gives it back.
        let work = json!({
            "entries": [{"label": "top left", "points": [{"x": 0.0, "y": 0.0}, {"x": 32.0, "y": 12.0}],
                         "not_present": false, "collection_method": "counting"}],
            "current": {"label": "unicorn", "points": [], "not_present": true, "collection_method": "pointing"}
        });
        let (status, saved) = browser
            .post(&format!("/api/tasks/{id}/work"), json!({"work": work}))
            .await;
        assert_eq!(status, 200, "{saved}");
        assert_eq!(saved["saves"], 1);
        let (_, again) = browser.post("/api/claim", json!({"kind": "points"})).await;
        assert_eq!(
            again["task"]["id"].as_i64(),
            Some(id),
            "{}: resumed",
            db.label
        );
        assert_eq!(again["task"]["work"]["entries"][0]["label"], "top left");
        assert_eq!(again["task"]["work"]["current"]["label"], "unicorn");

        let (status, submitted) = browser
            .post(&format!("/api/tasks/{id}/submit"), json!({"work": work}))
            .await;
        assert_eq!(status, 200, "{submitted}");
        // Saving a submitted task is refused.
        let (status, _) = browser
            .post(&format!("/api/tasks/{id}/work"), json!({"work": work}))
            .await;
        assert_eq!(status, 409);

        server.shutdown().await.unwrap();
        let out = tempfile::tempdir().unwrap();
        let report = pixmo_annotate::export::export(
            &store,
            &pixmo_annotate::ExportOptions {
                out: out.path().to_path_buf(),
                split: "train".into(),
                as_of_us: Some(1_700_000_000_000_000),
            },
        )
        .await
        .unwrap();
        assert_eq!(report.points_rows, 2, "{report:?}");
        // An export is a committed run (manifest, markers), written once.
        assert!(out.path().join("points/manifest.json").is_file());
        let again = pixmo_annotate::export::export(
            &store,
            &pixmo_annotate::ExportOptions {
                out: out.path().to_path_buf(),
                split: "train".into(),
                as_of_us: None,
            },
        )
        .await
        .unwrap_err();
        assert!(
            again.to_string().contains("export into a new folder"),
            "{again}"
        );
        let path = out.path().join("points/train/part-00000-00000.parquet");
        let batches = pixmo_shards::read_batches(&path, 64).unwrap();
        let batch = &batches[0];
        let expected = pixmo_annotation_schema::Dataset::Points.schema().schema;
        assert_eq!(batch.schema().fields(), expected.fields());
        let rows = arrow_rows(batch);
        assert_eq!(rows[0]["label"], "top left");
        assert_eq!(rows[0]["count"], 2);
        // 32 px of 64 = 50.0 %, 12 px of 48 = 25.0 %.
        assert_eq!(
            rows[0]["points"],
            json!([{"x": 0.0, "y": 0.0}, {"x": 50.0, "y": 25.0}])
        );
        assert_eq!(rows[0]["collection_method"], "counting");
        assert_eq!(rows[1]["label"], "unicorn");
        assert_eq!(rows[1]["count"], 0);
        assert_eq!(rows[1]["points"], json!([]));
        let provenance = &rows[0]["provenance"];
        assert_eq!(provenance["vlm_free"], true);
        assert_eq!(provenance["pipeline"], "annotate");
        let sources = provenance["sources"].to_string();
        assert!(
            sources.contains("\"annotator\"") && sources.contains("alice"),
            "{sources}"
        );
        assert!(
            !sources.contains(&alice.token),
            "the token never leaves the database"
        );
        let annotations = pixmo_shards::read_batches(
            &out.path()
                .join("annotations/train/part-00000-00000.parquet"),
            64,
        )
        .unwrap();
        let info = arrow_rows(&annotations[0]);
        assert_eq!(
            info[0]["row_id"],
            "points-".to_string() + &id.to_string() + "-0"
        );
        assert_eq!(info[0]["annotator"], "alice");
        assert_eq!(info[0]["saves"], 2);
        store.close().await;
    }
}

/// Rows of a batch as JSON objects.
pub fn arrow_rows(batch: &arrow::array::RecordBatch) -> Vec<serde_json::Value> {
    let mut writer = arrow_json::ArrayWriter::new(Vec::new());
    writer.write(batch).unwrap();
    writer.finish().unwrap();
    serde_json::from_slice(&writer.into_inner()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_refusals() {
    let db = sqlite();
    let images = tempfile::tempdir().unwrap();
    let store = seeded_store(
        &db.url,
        images.path(),
        2,
        &[(TaskKind::Points, TaskMode::Pointing)],
    )
    .await;
    let alice = invite(&store, "alice").await;
    let bob = invite(&store, "bob").await;
    let server = pixmo_annotate::start(ServeConfig::new(db.url.clone(), loopback()))
        .await
        .unwrap();
    let url = server.url();
    let a = Browser::login(&url, &alice.token).await;
    let b = Browser::login(&url, &bob.token).await;
    let (_, claimed) = a.post("/api/claim", json!({"kind": "points"})).await;
    let id = claimed["task"]["id"].as_i64().unwrap();

    // A wrong token does not log in.
    let anonymous = reqwest::Client::new();
    let response = anonymous
        .post(format!("{url}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A cross-site form cannot log a victim into the attacker's account.
    let response = anonymous
        .post(format!("{url}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .body(format!("token={}", alice.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // Not logged in: the API says 401, pages redirect to the login.
    let response = anonymous
        .post(format!("{url}/api/claim"))
        .json(&json!({"kind": "points"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirect
        .get(format!("{url}/points"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");

    // CSRF: a state-changing request without the header is refused.
    let response = a
        .client
        .post(format!("{url}/api/tasks/{id}/work"))
        .json(&json!({"work": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("CSRF"));
    let response = a
        .client
        .post(format!("{url}/api/tasks/{id}/work"))
        .header("x-csrf-token", &b.csrf)
        .json(&json!({"work": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        403,
        "another session's token does not pass"
    );

    // Bad JSON, unknown fields, unknown tasks, points outside the image.
    let response = a
        .client
        .post(format!("{url}/api/tasks/{id}/work"))
        .header("x-csrf-token", &a.csrf)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let message = response.json::<serde_json::Value>().await.unwrap();
    assert!(
        message["error"]
            .as_str()
            .unwrap()
            .starts_with("Bad JSON body"),
        "{message}"
    );
    let (status, body) = a
        .post(
            &format!("/api/tasks/{id}/work"),
            json!({"work": {"bogus": 1}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = a.post("/api/tasks/999999/work", json!({"work": {}})).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = a.post("/api/tasks/abc/work", json!({"work": {}})).await;
    assert_eq!(status, 404);
    let (status, body) = a.post("/api/claim", json!({"kind": "cats"})).await;
    assert_eq!(status, 422, "{body}");
    let outside = json!({"work": {"current": {"label": "x", "points": [{"x": 64.5, "y": 3.0}]}}});
    let (status, body) = a.post(&format!("/api/tasks/{id}/work"), outside).await;
    assert_eq!(status, 422);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("outside the 64x48 image"),
        "{body}"
    );
    // Submitting incomplete work is refused.
    let (status, body) = a
        .post(
            &format!("/api/tasks/{id}/submit"),
            json!({"work": {"entries": [{"label": "cup"}]}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    // Bob cannot write to Alice's task.
    let (status, body) = b
        .post(&format!("/api/tasks/{id}/work"), json!({"work": {}}))
        .await;
    assert_eq!(status, 409, "{body}");

    // Oversized bodies stop at the limit.
    let big = "x".repeat(pixmo_annotate::MAX_BODY_BYTES + 1);
    let (status, _) = a
        .post(
            &format!("/api/tasks/{id}/work"),
            json!({"work": {"current": {"label": big}}}),
        )
        .await;
    assert_eq!(status, 413);

    // Images are addressed by hash: paths never reach the file system.
    for path in [
        "/images/..%2F..%2F..%2Fetc%2Fpasswd",
        "/images/../../etc/passwd",
        "/images/%2e%2e%2fannotate.db",
    ] {
        let response = a.client.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }

    // Annotator text is data: stored as typed, returned as JSON, never written into HTML.
    let xss = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    let (status, _) = a
        .post(
            &format!("/api/tasks/{id}/work"),
            json!({"work": {"current": {"label": xss}}}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, back) = a.post("/api/claim", json!({"kind": "points"})).await;
    assert_eq!(back["task"]["work"]["current"]["label"], xss);
    let page = a.client.get(format!("{url}/points")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!page.text().await.unwrap().contains("<script>alert"));

    server.shutdown().await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_rate_limited() {
    let db = sqlite();
    let images = tempfile::tempdir().unwrap();
    let store = seeded_store(
        &db.url,
        images.path(),
        1,
        &[(TaskKind::Points, TaskMode::Pointing)],
    )
    .await;
    let alice = invite(&store, "alice").await;
    let mut config = ServeConfig::new(db.url.clone(), loopback());
    config.settings.requests_per_minute = 5;
    let server = pixmo_annotate::start(config).await.unwrap();
    let a = Browser::login(&server.url(), &alice.token).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(a.post("/api/claim", json!({"kind": "points"})).await.0);
    }
    // A minute boundary may reset the window once: at most 2 x 5 pass.
    assert!(statuses.contains(&429), "{statuses:?}");
    server.shutdown().await.unwrap();
}
