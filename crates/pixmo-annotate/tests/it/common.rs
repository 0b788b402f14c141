//! Shared fixtures: databases, images, a logged-in HTTP client.

use std::path::{Path, PathBuf};

use pixmo_annotate::store::now_us;
use pixmo_annotate::{ImageSource, ImportOptions, Store, TaskKind, TaskMode};
use sqlx::Executor;

/// A database for one test: an SQLite file in a temporary folder, or a fresh PostgreSQL
/// database made on the server named by `PIXMO_TEST_POSTGRES_URL`.
pub struct TestDb {
    pub label: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = dir
        .path()
        .join("annotate.db")
        .to_string_lossy()
        .into_owned();
    TestDb {
        label: "sqlite",
        url,
        _dir: Some(dir),
    }
}

/// The PostgreSQL server for tests, or `None` with a message (a failure when `CI` is set).
pub fn postgres_url() -> Option<String> {
    match std::env::var("PIXMO_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but PIXMO_TEST_POSTGRES_URL is not: run crates/pixmo-annotate/ci-setup.sh"
            );
            eprintln!(
                "skipping the PostgreSQL run: set PIXMO_TEST_POSTGRES_URL (crates/pixmo-annotate/ci-setup.sh prints it)"
            );
            None
        }
    }
}

/// A fresh, empty PostgreSQL database on the test server.
pub async fn postgres() -> Option<TestDb> {
    let base = postgres_url()?;
    sqlx::any::install_default_drivers();
    let name = format!("pixmo_test_{}", &random_hex()[..16]);
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("connect to PIXMO_TEST_POSTGRES_URL");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("the test user may create databases");
    let (head, _) = base.rsplit_once('/').expect("a URL with a database name");
    let query = base
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Some(TestDb {
        label: "postgres",
        url: format!("{head}/{name}{query}"),
        _dir: None,
    })
}

/// SQLite, and PostgreSQL when configured.
pub async fn databases() -> Vec<TestDb> {
    let mut all = vec![sqlite()];
    all.extend(postgres().await);
    all
}

pub fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

/// Writes `n` small distinct PNGs (`img-000.png`...) of `width`x`height` into `dir`.
pub fn write_images(dir: &Path, n: usize, width: u32, height: u32) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let path = dir.join(format!("img-{i:03}.png"));
            let mut pixels = Vec::with_capacity((width * height * 3) as usize);
            for y in 0..height {
                for x in 0..width {
                    // A fixed pattern per image index (no randomness).
                    pixels.extend_from_slice(&[
                        (x * 255 / width) as u8,
                        (y * 255 / height) as u8,
                        (i * 37 % 256) as u8,
                    ]);
                }
            }
            let file = std::fs::File::create(&path).unwrap();
            let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&pixels).unwrap();
            writer.finish().unwrap();
            path
        })
        .collect()
}

/// Opens `url`, imports `n` images from a new folder under `images_dir` with one task per
/// image and kind.
pub async fn seeded_store(
    url: &str,
    images_dir: &Path,
    n: usize,
    kinds: &[(TaskKind, TaskMode)],
) -> Store {
    write_images(images_dir, n, 64, 48);
    let store = Store::open(url).await.unwrap();
    let report = pixmo_annotate::import::import_images(
        &store,
        &ImportOptions {
            source: ImageSource::Folder(images_dir.to_path_buf()),
            tasks: kinds.to_vec(),
        },
    )
    .await
    .unwrap();
    assert_eq!(report.images_added, n, "{report:?}");
    store
}

/// An HTTP client logged in as one annotator (cookie jar, CSRF token from a page).
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

impl Browser {
    pub async fn login(base: &str, token: &str) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "login");
        let page = client
            .get(format!("{base}/points"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = page
            .split("name=\"csrf-token\" content=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the page carries a CSRF token")
            .to_string();
        Browser {
            client,
            base: base.to_string(),
            csrf,
        }
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let json = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, json)
    }
}

/// Creates an invite directly in the store.
pub async fn invite(store: &Store, pseudonym: &str) -> pixmo_annotate::Invite {
    store.create_invite(pseudonym, now_us()).await.unwrap()
}
