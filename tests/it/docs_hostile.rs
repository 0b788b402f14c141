//! PixMo-Docs in LLM mode with a model that is sometimes hostile: about a third of the code
//! replies are typst that exhausts memory or CPU or reads files, or chart specs with absurd
//! numbers; the rest are good. The build completes, the hostile records are rejections with
//! their reasons, `pixmo audit` passes, the build process stays small, a second build against
//! a fresh cache (every call and render made again) is byte-identical, and a build killed with
//! SIGKILL and resumed equals the uninterrupted one.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use pixmo_llm_testkit::{Recorded, Reply, TestServer};
use serde_json::json;

use crate::common::{AS_OF, markers, ok, pixmo, shard_hashes, summary};
use crate::docs_llm::{between, competent, details, llm_spec};

/// The build process's peak RSS must stay under this (a debug build, 2 cores); a memory bomb
/// rendered in-process would blow far past it or abort the build.
const PEAK_RSS_MIB: f64 = 600.0;

fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `competent`, except that three in four typst requests (a memory bomb, an endless loop or a
/// file read, by a hash of the persona) and a third of the chart requests get a hostile
/// reply; the other typst requests get a typst invoice of the data.
fn sometimes_hostile(i: usize, r: &Recorded) -> Reply {
    let body = r.json();
    let text = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let persona = text.lines().next().unwrap_or_default().to_owned();
    let h = hash(&persona);
    if text.contains("Write typst markup") {
        let reply = match h % 4 {
            0 => "#let s = \"x\" * 1000000000000\n#s.len()".to_owned(),
            1 => "#for i in range(100000) { for j in range(100000) { } }".to_owned(),
            2 => "#read(\"/etc/passwd\")".to_owned(),
            _ => {
                let data = between(&text, "Data:\n", "\nWrite typst");
                let names = data["categories"].as_array().unwrap();
                let values = data["series"][0]["values"].as_array().unwrap();
                let rows: Vec<String> = names
                    .iter()
                    .zip(values)
                    .map(|(n, v)| format!("[{}], [{v}],", n.as_str().unwrap()))
                    .collect();
                let total: u64 = values.iter().map(|v| v.as_u64().unwrap()).sum();
                format!(
                    "#table(columns: 2, [City], [Rain], {})\nTotal: {total}",
                    rows.join(" ")
                )
            }
        };
        let code = format!(
            "```typst\n#set page(width: 12cm, height: auto, margin: 1cm)\n#set text(font: \"Liberation Sans\")\n{reply}\n```"
        );
        return Reply::chat(&code, "stop");
    }
    if h.is_multiple_of(3) && text.contains("chart specification") {
        let values = if h.is_multiple_of(2) {
            json!([1e12, 5])
        } else {
            json!(["NaN", 1])
        };
        let spec = json!({"title": "Rain", "x_label": "City", "y_label": "mm",
            "chart": {"type": "bar", "orientation": "vertical", "mode": "grouped",
                      "categories": ["Oslo", "Bergen"], "series": [{"name": "Rain", "values": values}]}});
        return Reply::chat(&spec.to_string(), "stop");
    }
    competent(i, r)
}

fn spec(dir: &Path, url: &str) -> std::path::PathBuf {
    let path = llm_spec(
        dir,
        url,
        "scripted-model",
        "bar_chart = 1.0\ninvoice = 2.0",
        512,
    );
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "max_render_attempts = 2",
        "max_render_attempts = 1\nrender_cpu_seconds = 3\nrender_memory_mib = 1024",
        1,
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn start(spec: &Path, out: &Path, cache: &Path) -> Child {
    pixmo()
        .args(["build", "docs", "--spec"])
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args(["--count", "16", "--seed", "11", "--as-of", AS_OF])
        .args(["--progress", "quiet", "--jobs", "2", "--json"])
        .env("PIXMO_LLM_CACHE", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pixmo")
}

fn finish(child: Child) -> serde_json::Value {
    summary(&ok(&child.wait_with_output().unwrap()))
}

#[test]
fn a_build_with_hostile_replies_completes_audits_reproduces_and_resumes() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(TestServer::start(sometimes_hostile));
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(tmp.path(), &server.url());

    let out = tmp.path().join("a");
    let s = finish(start(&spec, &out, &tmp.path().join("cache-a")));
    let failures = &details(&s, "figure")["failures"];
    println!(
        "figure failures: {failures}; rows {}; peak RSS {} MiB",
        s["rows_written"], s["peak_rss_mib"]
    );

    assert!(s["rows_written"].as_u64().unwrap() >= 3, "{s:#}");
    assert!(
        failures["render_limit"].as_u64().unwrap_or(0) >= 1,
        "{failures}"
    );
    assert!(
        failures["render_error"].as_u64().unwrap_or(0) >= 1,
        "{failures}"
    );
    let peak = s["peak_rss_mib"].as_f64().expect("peak RSS reported");
    assert!(peak < PEAK_RSS_MIB, "build process peaked at {peak} MiB");
    ok(&pixmo().arg("audit").arg(&out).output().unwrap());
    let reference = shard_hashes(&out.join("docs"));
    assert!(
        reference.keys().any(|k| k.contains("rejects")),
        "{reference:?}"
    );

    // Every call and render made again (fresh cache): the same bytes.
    let again = tmp.path().join("b");
    finish(start(&spec, &again, &tmp.path().join("cache-b")));
    assert_eq!(shard_hashes(&again.join("docs")), reference);

    // Killed with SIGKILL after its first commit (renders in flight), then resumed.
    let resumed = tmp.path().join("c");
    let cache = tmp.path().join("cache-c");
    let mut child = start(&spec, &resumed, &cache);
    let deadline = Instant::now() + Duration::from_secs(600);
    while markers(&resumed.join("docs")).is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the build ended ({status}) before it could be killed");
        }
        assert!(Instant::now() < deadline, "no commit within 600 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let s = finish(start(&spec, &resumed, &cache));
    assert!(s["records_skipped"].as_u64().unwrap() >= 1, "{s:#}");
    assert_eq!(shard_hashes(&resumed.join("docs")), reference);
}
