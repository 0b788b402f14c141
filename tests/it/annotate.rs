//! `pixmo annotate` wiring: invite, import, status, serve (a real server process on
//! loopback, killed after it answers), export. The app's flows are tested in
//! crates/pixmo-annotate.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::common::{ok, pixmo};

#[test]
fn annotate_commands_drive_the_app() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("work.sqlite");
    let db = db.to_str().unwrap();
    let token = ok(&pixmo()
        .args(["annotate", "invite", "--db", db, "ann-1"])
        .output()
        .unwrap());
    assert!(token.trim().len() >= 20, "{token}");
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data_cards/clocks");
    let output = pixmo()
        .args(["annotate", "import", "--db", db, "--folder"])
        .arg(&images)
        .args(["--task", "points:counting", "--task", "ask_model_anything"])
        .output()
        .unwrap();
    ok(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("images added"), "{stderr}");
    let status = ok(&pixmo()
        .args(["annotate", "status", "--db", db])
        .output()
        .unwrap());
    let pngs = std::fs::read_dir(&images)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert!(
        status.contains(&format!("| points | {pngs} | 0 | 0 |")),
        "{pngs} images: {status}"
    );

    // The server answers on loopback; a wrong token is refused.
    let mut server = pixmo()
        .args([
            "annotate",
            "serve",
            "--db",
            db,
            "--bind",
            "127.0.0.1:0",
            "--no-llm",
            "--no-ocr",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the server exited").unwrap();
        if let Some(url) = line.strip_prefix("pixmo annotate: serving on ") {
            break url.trim().to_string();
        }
    };
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.1 303"),
        "{reply}"
    );

    let output = pixmo()
        .args(["annotate", "export", "--db", db, "--out"])
        .arg(tmp.path().join("export"))
        .args(["--as-of", "2026-12-01T00:00:00Z"])
        .output()
        .unwrap();
    ok(&output);
    assert!(String::from_utf8_lossy(&output.stderr).contains("exported 0 points rows"));
}
