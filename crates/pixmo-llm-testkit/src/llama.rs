//! A real OpenAI-compatible server: llama.cpp's server from the PyPI `xllamacpp` package
//! (`xserve.py` beside this crate's manifest), serving the pinned SmolLM2 GGUF on 127.0.0.1.
//!
//! Needs `PIXMO_PYTHON` (a Python with `xllamacpp`) and the model in the models directory
//! (`crates/pixmo-llm/ci-setup.sh` installs both). Without them [`LlamaServer::start`] fails
//! under `CI` and returns `None` (test skipped) otherwise.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pixmo_llm::{SMOLLM2_135M_INSTRUCT_Q4_1, models_dir};

use crate::missing;

/// A running `xserve.py`; killed on drop.
pub struct LlamaServer {
    child: Child,
    port: u16,
}

impl LlamaServer {
    /// Starts the server with `threads` CPU threads, or reports (see [`missing`]) why it
    /// cannot and returns `None`.
    ///
    /// # Panics
    /// When the server starts but does not answer `/health` within three minutes.
    #[must_use]
    pub fn start(threads: u32) -> Option<Self> {
        let Some(python) = std::env::var_os("PIXMO_PYTHON") else {
            missing("`PIXMO_PYTHON` is not set (a Python with `xllamacpp`)");
            return None;
        };
        let has_package = Command::new(&python)
            .args(["-c", "import xllamacpp"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !has_package {
            missing(&format!(
                "`{}` cannot import `xllamacpp`",
                PathBuf::from(&python).display()
            ));
            return None;
        }
        let model = SMOLLM2_135M_INSTRUCT_Q4_1.path_in(&models_dir().ok()?);
        if !model.is_file() {
            missing(&format!("model `{}` is not fetched", model.display()));
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("xserve.py");
        let mut child = Command::new(&python)
            .arg(script)
            .arg(&model)
            .arg(port.to_string())
            .arg(threads.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start xserve.py");
        // Drain stdout so the server never blocks on a full pipe.
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("xserve: {line}");
            }
        });
        let server = Self { child, port };
        server.wait_ready(Duration::from_secs(180));
        Some(server)
    }

    /// `http://127.0.0.1:PORT` (the OpenAI API is under `/v1`).
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `GET /health` until it answers 200, or the deadline passes.
    fn wait_ready(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.healthy() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "xserve.py not ready after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn healthy(&self) -> bool {
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!(
            "GET /health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
