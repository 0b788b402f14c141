//! Image fetching against a real HTTP server on loopback: 429 with `Retry-After` honoured,
//! 404 final and reported with its status, SHA-256 checked, the cache used on the next call.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pixmo_fetch::pinned::{FetchSettings, PinnedClient, fetch};

/// When each request came, and its request line.
type Log = Arc<Mutex<Vec<(Instant, String)>>>;

/// Serves `replies` in order, one per connection, and records when each request came.
fn serve(replies: Vec<Vec<u8>>) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    std::thread::spawn(move || {
        for reply in replies {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            seen.lock()
                .unwrap()
                .push((Instant::now(), first.trim().to_string()));
            stream.write_all(&reply).unwrap();
        }
    });
    (url, log)
}

fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn settings(dir: &std::path::Path) -> FetchSettings {
    FetchSettings {
        cache_dir: dir.to_path_buf(),
        max_bytes: 1 << 20,
        timeout: Duration::from_secs(10),
        retries: 3,
        max_wait: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn retry_after_is_honoured_and_the_cache_answers_next_time() {
    let body = b"pretend this is a PNG".to_vec();
    let sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&body))
    };
    let (url, log) = serve(vec![
        response("429 Too Many Requests", "Retry-After: 1\r\n", b"slow down"),
        response("200 OK", "", &body),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let client = PinnedClient::new().unwrap();
    let got = fetch(
        &client,
        &format!("{url}/a.png"),
        &sha,
        &settings(cache.path()),
    )
    .await
    .unwrap();
    assert_eq!(got, body);
    let times: Vec<Instant> = log.lock().unwrap().iter().map(|(t, _)| *t).collect();
    assert_eq!(times.len(), 2);
    assert!(
        times[1] - times[0] >= Duration::from_millis(950),
        "Retry-After ignored"
    );
    // The server is gone; the cache answers.
    let again = fetch(
        &client,
        &format!("{url}/a.png"),
        &sha,
        &settings(cache.path()),
    )
    .await
    .unwrap();
    assert_eq!(again, body);
}

#[tokio::test]
async fn not_found_is_final_and_a_wrong_hash_is_refused() {
    let (url, log) = serve(vec![
        response("404 Not Found", "", b"gone"),
        response("200 OK", "", b"other bytes"),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let client = PinnedClient::new().unwrap();
    let sha = "0".repeat(64);
    let err = fetch(
        &client,
        &format!("{url}/x.png"),
        &sha,
        &settings(cache.path()),
    )
    .await
    .unwrap_err();
    assert_eq!((err.kind, err.status), ("image_http", Some(404)));
    assert_eq!(log.lock().unwrap().len(), 1, "a 404 is not retried");
    let err = fetch(
        &client,
        &format!("{url}/y.png"),
        &sha,
        &settings(cache.path()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, "image_sha256_mismatch");
    assert!(!pixmo_fetch::pinned::cache_path(cache.path(), &sha).exists());
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    assert_eq!(
        pixmo_fetch::pinned::retry_after("7"),
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        pixmo_fetch::pinned::retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    assert_eq!(pixmo_fetch::pinned::retry_after("soon"), None);
}
