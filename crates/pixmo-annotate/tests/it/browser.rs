//! A real browser (headless Chromium over the DevTools protocol) plays three annotators:
//! one points at things, marks a label not present and counts; one asks a question, gives
//! feedback on the draft and accepts the revision; one marks two groups of places, asks a
//! question whose first answer cites a group that was not marked (sent back automatically)
//! and accepts the revision. Screenshots of every screen (login, tasks, points, ask,
//! point_explanations), 1000 pixels wide, go to `PIXMO_SCREENSHOT_DIR` when set; the
//! committed ones in `crates/pixmo-annotate/screenshots/` are made so:
//! `PIXMO_SCREENSHOT_DIR=$PWD/crates/pixmo-annotate/screenshots cargo test -p pixmo-annotate --test it browser`.
//! Skipped with a message when `chromium` is not installed (Debian: `apt-get install
//! chromium`); a failure instead when `CI` is set.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use pixmo_annotate::store::TaskStatus;
use pixmo_annotate::{LlmAssistant, ServeConfig, Store, TaskKind, TaskMode};
use pixmo_llm::{OpenAiConfig, SamplingParams};
use pixmo_llm_testkit::{Reply, TestServer};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{invite, seeded_store, sqlite};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long one page condition may take before the test fails.
const WAIT: Duration = Duration::from_secs(30);

struct Chromium {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium_binary() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(str::to_string)
}

/// Starts headless Chromium and returns it with its DevTools WebSocket URL.
fn launch(binary: &str) -> (Chromium, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1000,720",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let ws = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_once("DevTools listening on ")
                .map(|(_, url)| url.trim().to_string())
        })
        .expect("Chromium prints its DevTools address");
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    (
        Chromium {
            child,
            _profile: profile,
        },
        ws,
    )
}

/// A DevTools protocol client attached to one page (flattened session).
struct Page {
    socket: Socket,
    session: String,
    next_id: u64,
}

impl Page {
    async fn open(ws_url: &str) -> Page {
        let (socket, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
        let mut page = Page {
            socket,
            session: String::new(),
            next_id: 0,
        };
        let target = page
            .call_browser("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = page
            .call_browser(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        page.session = attached["sessionId"].as_str().unwrap().to_string();
        page.call("Page.enable", json!({})).await;
        page
    }

    async fn send(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no reply to {method}"))
                .expect("the DevTools socket stays open")
                .unwrap();
            let Message::Text(text) = frame else { continue };
            let reply: Value = serde_json::from_str(text.as_str()).unwrap();
            if reply["id"] == json!(id) {
                return match reply.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(reply["result"].clone()),
                };
            }
        }
    }

    async fn call_browser(&mut self, method: &str, params: Value) -> Value {
        self.send(None, method, params).await.unwrap()
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(Some(&session), method, params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Evaluates `expression` in the page (awaiting a promise); errors while the page
    /// navigates are returned, not fatal.
    async fn eval(&mut self, expression: &str) -> Result<Value, Value> {
        let session = self.session.clone();
        let result = self
            .send(
                Some(&session),
                "Runtime.evaluate",
                json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
            )
            .await?;
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(exception.clone());
        }
        Ok(result["result"]["value"].clone())
    }

    /// Waits until `condition` (a JS expression) is true in the page, via a promise that
    /// checks it on every animation frame; retried across navigations.
    async fn wait_for(&mut self, condition: &str) {
        let script = format!(
            "new Promise((resolve) => {{ const check = () => {{ let ok = false; try {{ ok = !!({condition}); }} catch (_) {{}} \
             if (ok) resolve(true); else requestAnimationFrame(check); }}; check(); }})"
        );
        eprintln!("waiting for {condition}");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let attempt = tokio::time::timeout_at(deadline, self.eval(&script)).await;
            match attempt {
                Ok(Ok(Value::Bool(true))) => return,
                Ok(_) => {} // context destroyed by a navigation: evaluate again in the new page
                Err(_) => panic!("timed out waiting for `{condition}`"),
            }
        }
    }

    async fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
    }

    async fn click(&mut self, x: f64, y: f64) {
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .await;
        }
    }

    /// Presses one key (`modifiers`: 1 Alt, 2 Ctrl, 8 Shift).
    async fn key(&mut self, key: &str, code: &str, key_code: u32, text: &str, modifiers: u32) {
        let mut down = json!({"type": "keyDown", "key": key, "code": code,
            "windowsVirtualKeyCode": key_code, "modifiers": modifiers});
        if !text.is_empty() {
            down["text"] = json!(text);
        }
        self.call("Input.dispatchKeyEvent", down).await;
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": key_code, "modifiers": modifiers}),
        )
        .await;
    }

    async fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({"text": text})).await;
    }

    async fn screenshot(&mut self, name: &str) {
        // The page's content, not the viewport: the trail may run below the fold, and a
        // short page needs no empty space below it.
        let metrics = self.call("Page.getLayoutMetrics", json!({})).await;
        let width = metrics["cssContentSize"]["width"]
            .as_f64()
            .unwrap_or(1000.0);
        let body = self
            .eval("Math.ceil(document.body.getBoundingClientRect().height)")
            .await
            .unwrap_or(json!(720))
            .as_f64()
            .unwrap_or(720.0);
        let clip = json!({"x": 0, "y": 0, "scale": 1, "width": width,
            "height": (body + 16.0).max(240.0)});
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "clip": clip, "captureBeyondViewport": true}),
            )
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(&bytes[..4], b"\x89PNG");
        if let Some(dir) = std::env::var_os("PIXMO_SCREENSHOT_DIR") {
            std::fs::create_dir_all(&dir).unwrap();
            let path = std::path::Path::new(&dir).join(format!("{name}.png"));
            std::fs::write(&path, bytes).unwrap();
            eprintln!("screenshot: {}", path.display());
        }
    }

    async fn login(&mut self, base: &str, token: &str) {
        self.goto(&format!("{base}/login")).await;
        self.wait_for("document.querySelector('input[name=token]')")
            .await;
        self.eval(&format!(
            "document.querySelector('input[name=token]').value = '{token}'; document.querySelector('form').submit(); true"
        ))
        .await
        .unwrap();
        self.wait_for("location.pathname === '/' && document.querySelector('table')")
            .await;
    }

    /// The centre of the image plus (`fx`, `fy`) of its displayed size.
    async fn image_point(&mut self, fx: f64, fy: f64) -> (f64, f64) {
        let rect = self
            .eval("JSON.stringify(document.getElementById('image').getBoundingClientRect())")
            .await
            .unwrap();
        let rect: Value = serde_json::from_str(rect.as_str().unwrap()).unwrap();
        let f = |k: &str| rect[k].as_f64().unwrap();
        (f("left") + fx * f("width"), f("top") + fy * f("height"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_annotators_in_a_real_browser() {
    let Some(binary) = chromium_binary() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "no `chromium`: .ci/run installs it (Debian: apt-get install chromium)"
        );
        eprintln!("skipping the browser test: no `chromium` (Debian: apt-get install chromium)");
        return;
    };
    let db = sqlite();
    let images = tempfile::tempdir().unwrap();
    let store = seeded_store(
        &db.url,
        images.path(),
        1,
        &[
            (TaskKind::Points, TaskMode::Pointing),
            (TaskKind::AskModelAnything, TaskMode::Pointing),
            (TaskKind::PointExplanations, TaskMode::Pointing),
        ],
    )
    .await;
    let pointer = invite(&store, "pointer").await;
    let asker = invite(&store, "asker").await;
    let explainer = invite(&store, "explainer").await;
    let (ama_calls, pe_calls) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let llm = TestServer::start(move |_, request| {
        if request.json().to_string().contains("Places the person marked") {
            let answers = [
                // Group 3 was never marked: the app sends this back by itself.
                "The <point group=\"3\">top</point> is brightest.",
                "The <point group=\"1\">bright corner</point> is lighter than the <point group=\"2\">dark side</point>.",
            ];
            let i = pe_calls.fetch_add(1, Ordering::SeqCst);
            return Reply::chat(answers[i.min(1)], "stop");
        }
        let answers = [
            "The image is a colour gradient.",
            "The image is a smooth gradient from dark to light.",
        ];
        let i = ama_calls.fetch_add(1, Ordering::SeqCst);
        Reply::chat(answers[i.min(1)], "stop")
    })
    .await;
    let client = OpenAiConfig::new(format!("{}/v1", llm.url()), "scripted-model")
        .build()
        .unwrap();
    let mut config = ServeConfig::new(db.url.clone(), "127.0.0.1:0".parse().unwrap());
    config.assistant = Some(Arc::new(
        LlmAssistant::new(Arc::new(client), SamplingParams::default()).unwrap(),
    ));
    let server = pixmo_annotate::start(config).await.unwrap();
    let base = server.url();
    let (_chromium, ws) = launch(&binary);

    // Annotator 1: Points.
    let mut page = Page::open(&ws).await;
    page.login(&base, &pointer.token).await;
    page.screenshot("tasks").await;
    page.goto(&format!("{base}/points")).await;
    page.wait_for("document.body.dataset.ready && document.body.dataset.ready !== 'empty'")
        .await;
    let (x, y) = page.image_point(0.25, 0.5).await;
    page.click(x, y).await;
    let (x, y) = page.image_point(0.75, 0.25).await;
    page.click(x, y).await;
    page.eval("document.getElementById('label').focus(); true")
        .await
        .unwrap();
    page.type_text("bright corner").await;
    page.key("Enter", "Enter", 13, "\r", 0).await;
    page.wait_for("document.querySelectorAll('#entries li').length === 1")
        .await;
    // Not present, by keyboard.
    page.eval("document.getElementById('label').focus(); true")
        .await
        .unwrap();
    page.type_text("unicorn").await;
    page.eval("document.activeElement.blur(); true")
        .await
        .unwrap();
    page.key("n", "KeyN", 78, "n", 0).await;
    page.key("Enter", "Enter", 13, "\r", 0).await;
    page.wait_for("document.querySelectorAll('#entries li').length === 2")
        .await;
    // Counting: Esc leaves the text field, then three clicks, one undone.
    page.key("Escape", "Escape", 27, "", 0).await;
    page.key("c", "KeyC", 67, "c", 0).await;
    for fx in [0.1, 0.5, 0.9] {
        let (x, y) = page.image_point(fx, 0.6).await;
        page.click(x, y).await;
    }
    page.key("z", "KeyZ", 90, "z", 0).await;
    page.wait_for("document.getElementById('count').textContent === '2'")
        .await;
    page.eval("document.getElementById('label').focus(); true")
        .await
        .unwrap();
    page.type_text("dots in a row").await;
    page.wait_for("document.getElementById('status').textContent.includes('saved')")
        .await;
    page.screenshot("points").await;
    page.key("Enter", "Enter", 13, "\r", 8).await; // Shift+Enter: accept and submit
    page.wait_for("document.body.dataset.ready === 'empty'")
        .await;

    let done = store.done_tasks(TaskKind::Points).await.unwrap();
    assert_eq!(done.len(), 1);
    let work: Value = serde_json::from_str(&done[0].state).unwrap();
    let entries = work["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{work}");
    assert_eq!(entries[0]["label"], "bright corner");
    assert_eq!(entries[0]["points"].as_array().unwrap().len(), 2);
    // Clicks land in natural pixels of the 64x48 image.
    let p = &entries[0]["points"][0];
    assert!(
        (p["x"].as_f64().unwrap() - 16.0).abs() <= 1.0
            && (p["y"].as_f64().unwrap() - 24.0).abs() <= 1.0,
        "{p}"
    );
    assert_eq!(entries[1]["not_present"], true);
    assert_eq!(entries[2]["collection_method"], "counting");
    assert_eq!(entries[2]["points"].as_array().unwrap().len(), 2);
    assert!(
        done[0].saves >= 2,
        "autosaved before the submit: {} saves",
        done[0].saves
    );

    // Annotator 2: AskModelAnything, in a fresh page after logging out.
    page.eval("document.getElementById('logout').click(); true")
        .await
        .unwrap();
    page.wait_for("location.pathname === '/login'").await;
    page.login(&base, &asker.token).await;
    page.goto(&format!("{base}/ask")).await;
    page.wait_for("document.body.dataset.ready && document.body.dataset.ready !== 'empty'")
        .await;
    page.eval("document.getElementById('question').focus(); true")
        .await
        .unwrap();
    page.type_text("What does the image show? <b>bold?</b>")
        .await;
    page.key("Enter", "Enter", 13, "\r", 2).await; // Ctrl+Enter: ask
    page.wait_for("document.querySelectorAll('#turns li').length === 2")
        .await;
    page.eval("document.getElementById('feedback').focus(); true")
        .await
        .unwrap();
    page.type_text("Say which way it gets lighter.").await;
    page.eval("document.getElementById('revise').click(); true")
        .await
        .unwrap();
    page.wait_for("document.querySelectorAll('#turns li').length === 4")
        .await;
    // The question's markup is shown as text, not parsed as HTML.
    let rendered = page
        .eval("document.querySelector('#turns li span').textContent")
        .await
        .unwrap();
    assert_eq!(rendered, "What does the image show? <b>bold?</b>");
    assert_eq!(
        page.eval("document.querySelectorAll('#turns b').length")
            .await
            .unwrap(),
        0
    );
    page.screenshot("ask").await;
    page.eval("document.activeElement.blur(); true")
        .await
        .unwrap();
    page.key("a", "KeyA", 65, "", 1).await; // Alt+a: accept
    page.wait_for("document.body.dataset.ready === 'empty'")
        .await;
    let done = store.done_tasks(TaskKind::AskModelAnything).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].status, TaskStatus::Done);
    let turns = store.turns(done[0].id).await.unwrap();
    assert_eq!(
        turns.last().unwrap().text,
        "The image is a smooth gradient from dark to light."
    );

    // Annotator 3: Point explanations. Two named groups of clicks, then the question.
    page.eval("document.getElementById('logout').click(); true")
        .await
        .unwrap();
    page.wait_for("location.pathname === '/login'").await;
    page.login(&base, &explainer.token).await;
    page.goto(&format!("{base}/explain")).await;
    page.wait_for("document.body.dataset.ready && document.body.dataset.ready !== 'empty'")
        .await;
    let (x, y) = page.image_point(0.9, 0.85).await;
    page.click(x, y).await;
    page.eval("document.getElementById('label').focus(); true")
        .await
        .unwrap();
    page.type_text("bright <i>corner</i>").await;
    page.key("Enter", "Enter", 13, "\r", 0).await; // accept group 1
    page.wait_for("document.querySelectorAll('#groups li').length === 1")
        .await;
    page.key("Escape", "Escape", 27, "", 0).await;
    for fy in [0.2, 0.5, 0.8, 0.9] {
        let (x, y) = page.image_point(0.08, fy).await;
        page.click(x, y).await;
    }
    page.key("z", "KeyZ", 90, "z", 0).await; // undo the fourth click
    page.wait_for("document.getElementById('count').textContent === '3'")
        .await;
    page.eval("document.getElementById('label').focus(); true")
        .await
        .unwrap();
    page.type_text("dark side").await;
    page.key("Enter", "Enter", 13, "\r", 0).await; // accept group 2
    page.wait_for("document.querySelectorAll('#groups li').length === 2")
        .await;
    // Markup typed by the annotator is shown as text.
    assert_eq!(
        page.eval("document.querySelectorAll('#groups i').length")
            .await
            .unwrap(),
        0
    );
    page.eval("document.getElementById('question').focus(); true")
        .await
        .unwrap();
    page.type_text("Which part of the image is brightest?")
        .await;
    page.key("Enter", "Enter", 13, "\r", 2).await; // Ctrl+Enter: ask
    page.wait_for("document.querySelectorAll('#turns li').length === 4")
        .await;
    let kinds = page
        .eval("[...document.querySelectorAll('#turns li')].map((li) => li.className).join(' ')")
        .await
        .unwrap();
    assert_eq!(
        kinds, "turn question turn draft turn send_back turn revision",
        "the first answer cited group 3 and went back by itself"
    );
    page.eval("document.activeElement.blur(); window.scrollTo(0, 0); true")
        .await
        .unwrap();
    page.screenshot("point_explanations").await;
    page.key("a", "KeyA", 65, "", 1).await; // Alt+a: accept
    page.wait_for("document.body.dataset.ready === 'empty'")
        .await;
    let done = store.done_tasks(TaskKind::PointExplanations).await.unwrap();
    assert_eq!(done.len(), 1);
    let work: Value = serde_json::from_str(&done[0].state).unwrap();
    assert_eq!(work["question"], "Which part of the image is brightest?");
    assert_eq!(work["groups"][0]["label"], "bright <i>corner</i>");
    assert_eq!(work["groups"][1]["points"].as_array().unwrap().len(), 3);
    let turns = store
        .trail_turns(pixmo_annotate::store::Trail::PointExplanations, done[0].id)
        .await
        .unwrap();
    let kinds: Vec<&str> = turns.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["question", "draft", "send_back", "revision", "accept"]
    );
    assert!(
        turns[4]
            .text
            .contains("<point group=\"2\">dark side</point>")
    );

    page.eval("document.getElementById('logout').click(); true")
        .await
        .unwrap();
    page.wait_for("location.pathname === '/login'").await;
    page.wait_for("document.querySelector('input[name=token]')")
        .await;
    page.screenshot("login").await;
    server.shutdown().await.unwrap();
    let _: &Store = &store;
}
