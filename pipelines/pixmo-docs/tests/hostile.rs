//! A corpus of hostile LLM replies fed through the real `docs.llm_figure` stage from a real
//! HTTP server on loopback: typst that exhausts memory or CPU or tries files and packages,
//! SVG with entity bombs, `<use>` bombs and unbounded filters, chart specs with absurd
//! numbers, and raw replies that are huge, endless, nested, binary or not UTF-8. Every case
//! ends as a rejection of its record, with a reason that names what went wrong, and the test
//! process (the build's stand-in) lives on: untrusted renders run in worker processes
//! (`pixmo-docs-sandbox`) with a 512 MiB address space and 1 s of CPU.
//!
//! A second test shows that text a reader cannot see (white on white, transparent, covered,
//! off the canvas, in `<defs>`) cannot ground an extractive answer.

use std::sync::Arc;
use std::time::Duration;

use pixmo_core::SeedKey;
use pixmo_dag::registry::StageConfig;
use pixmo_dag::{Record, Reject, Stage, StageContext, Value};
use pixmo_docs::llm::Preset;
use pixmo_docs::stages::llm_figure::LlmFigureConfig;
use pixmo_docs::stages::llm_qa::LlmQaConfig;
use pixmo_docs::stages::qa::QaConfig;
use pixmo_llm::{LlmConfig, OpenAiConfig, RetryPolicy};
use pixmo_llm_testkit::{Recorded, Reply, TestServer};
use serde_json::json;

fn last_prompt(r: &Recorded) -> String {
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

fn llm(server: &TestServer) -> LlmConfig {
    let mut c = OpenAiConfig::new(format!("{}/v1", server.url()), "scripted-model");
    c.timeout_s = 1.0;
    c.max_concurrency = 2;
    c.retry = RetryPolicy {
        max_retries: 1,
        initial_backoff_ms: 1,
        max_backoff_ms: 5,
        max_retry_after_ms: 50,
        jitter_seed: 0,
    };
    LlmConfig::OpenAi(c)
}

fn figure_stage(server: &TestServer, cache: &tempfile::TempDir) -> Arc<dyn Stage> {
    pixmo_sandbox::set_worker_program(env!("CARGO_BIN_EXE_pixmo-docs-sandbox"));
    LlmFigureConfig {
        render_timeout_ms: 20_000,
        render_cpu_seconds: 1,
        render_memory_mib: 512,
        llm: llm(server),
        preset: Preset::PixmoDocs,
        cache_dir: Some(cache.path().to_path_buf()),
        topics: 2,
        max_render_attempts: 1,
        temperature: 1.0,
        max_tokens: 512,
    }
    .build()
    .unwrap()
}

fn record(kind: &str, seed: u64) -> Record {
    let mut r = Record::new(SeedKey {
        run_seed: 0,
        dataset: "docs".into(),
        split: "train".into(),
        record_index: seed,
    });
    r.set("figure_kind", Value::Str(kind.into()));
    r.set("figure_seed", Value::U64(seed));
    r.set(
        "figure_options",
        Value::Json(json!({"min_side": 400, "max_side": 800, "doc_pixel_per_pt": 1.0})),
    );
    r
}

async fn run(stage: Arc<dyn Stage>, mut r: Record) -> (Record, Result<(), Reject>) {
    tokio::task::spawn_blocking(move || {
        let cx = StageContext {
            stage: "test".into(),
            seed: 7,
        };
        let result = stage.process(&mut r, &cx);
        (r, result)
    })
    .await
    .unwrap()
}

const TOPICS: &str = r#"{"topics": ["rainfall in Norwegian cities", "ferry routes"]}"#;
const DATA: &str =
    r#"{"categories": ["Oslo", "Bergen"], "series": [{"name": "Rain", "values": [760, 2250]}]}"#;

/// What the server sends for the code request (or, for `Raw`, for every request).
enum Hostile {
    /// The reply text of the code step.
    Code(String),
    /// The whole HTTP reply to the first (topics) request and all after it.
    Raw(Reply),
}

struct Case {
    name: &'static str,
    kind: &'static str,
    reply: Hostile,
    /// Acceptable rejection kinds.
    kinds: &'static [&'static str],
    /// Words the rejection message must contain (lower case).
    says: &'static str,
}

fn code(
    name: &'static str,
    kind: &'static str,
    text: impl Into<String>,
    kinds: &'static [&'static str],
    says: &'static str,
) -> Case {
    Case {
        name,
        kind,
        reply: Hostile::Code(text.into()),
        kinds,
        says,
    }
}

fn raw(
    name: &'static str,
    reply: Reply,
    kinds: &'static [&'static str],
    says: &'static str,
) -> Case {
    Case {
        name,
        kind: "bar_chart",
        reply: Hostile::Raw(reply),
        kinds,
        says,
    }
}

fn typst(body: &str) -> String {
    format!(
        "```typst\n#set page(width: 10cm, height: auto)\n#set text(font: \"Liberation Sans\")\n{body}\n```"
    )
}

fn svg(body: &str) -> String {
    format!(
        "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"600\" height=\"500\">{body}<text x=\"10\" y=\"30\" font-family=\"sans-serif\" font-size=\"16\">Label</text></svg>\n```"
    )
}

fn chart(chart: &serde_json::Value) -> String {
    json!({"title": "Rain", "x_label": "City", "y_label": "mm", "chart": chart}).to_string()
}

/// A WebAssembly module whose exported `f` loops forever: `plugin()` runs it with no fuel
/// limit.
fn wasm_loop() -> String {
    let bytes: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type: () -> i32
        0x03, 0x02, 0x01, 0x00, // one function of type 0
        0x05, 0x03, 0x01, 0x00, 0x01, // memory: 1 page
        0x07, 0x0e, 0x02, 0x01, b'f', 0x00, 0x00, 0x06, b'm', b'e', b'm', b'o', b'r', b'y', 0x02,
        0x00, // exports f, memory
        0x0a, 0x0a, 0x01, 0x08, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x00,
        0x0b,
        // code: loop { br 0 }; unreachable; end
    ];
    let list: Vec<String> = bytes.iter().map(u8::to_string).collect();
    typst(&format!(
        "#let p = plugin(bytes(({})))\n#str(p.f())",
        list.join(", ")
    ))
}

fn corpus() -> Vec<Case> {
    const LIMIT: &[&str] = &["render_limit"];
    const ERROR: &[&str] = &["render_error"];
    const LIMIT_OR_ERROR: &[&str] = &["render_limit", "render_error"];
    const ANY_RENDER: &[&str] = &["render_error", "render_limit", "render_crash"];
    const LLM: &[&str] = &[
        "llm_error",
        "llm_bad_json",
        "llm_truncated",
        "llm_bad_reply",
    ];
    let nested = format!("{}1{}", "[".repeat(200_000), "]".repeat(200_000));
    let mut cases = vec![
        // typst: memory.
        code("typst string repeat", "invoice", typst("#let s = \"x\" * 1000000000000\n#s.len()"), LIMIT_OR_ERROR, ""),
        code("typst array repeat", "invoice", typst("#let a = (0,) * 100000000000\n#a.len()"), LIMIT_OR_ERROR, ""),
        code("typst huge range", "invoice", typst("#let r = range(100000000000)\n#r.len()"), LIMIT_OR_ERROR, ""),
        code("typst doubling string", "invoice", typst("#let s = \"xxxxxxxxxxxxxxxx\"\n#for i in range(40) { s = s + s }\n#s.len()"), LIMIT, ""),
        code("typst doubling array", "invoice", typst("#let a = (1, 2, 3, 4)\n#for i in range(40) { a = a + a }\n#a.len()"), LIMIT, ""),
        // typst: CPU.
        code("typst nested for", "invoice", typst("#for i in range(100000) { for j in range(100000) { } }"), LIMIT, "cpu"),
        code("typst nested for with work", "receipt", typst("#let n = 0\n#for i in range(100000) { for j in range(100000) { n += i * j } }\n#n"), LIMIT, "cpu"),
        code("typst wasm plugin loop", "invoice", wasm_loop(), LIMIT, "cpu"),
        code("typst many layout boxes", "report", typst("#for i in range(100000) { for j in range(1000) { box[#j] } }"), LIMIT, ""),
        // typst: engine limits and the sandbox world.
        code("typst endless recursion", "invoice", typst("#let f(n) = f(n + 1)\n#f(0)"), ERROR, "typst compilation failed"),
        code("typst while true", "invoice", typst("#while true { }"), ERROR, "typst compilation failed"),
        code("typst file read", "invoice", typst("#read(\"/etc/passwd\")"), ERROR, "typst compilation failed"),
        code("typst image", "invoice", typst("#image(\"/etc/hostname\")"), ERROR, "typst compilation failed"),
        code("typst package", "invoice", typst("#import \"@preview/cetz:0.3.0\": canvas"), ERROR, "typst compilation failed"),
        code("typst huge page", "invoice", typst("#set page(width: 100000pt, height: 100pt)\nWide"), ERROR, "too large"),
        code("typst many pages", "invoice", typst("#for i in range(50) { pagebreak() }\nEnd"), ERROR, "pages"),
        code("typst deep nesting", "invoice", typst(&format!("#{}1{}", "(".repeat(50_000), ")".repeat(50_000))), ANY_RENDER, ""),
        code("typst huge source", "invoice", typst(&"A".repeat(400_000)), ERROR, "too large"),
        // SVG.
        code("svg entity bomb", "flowchart", "```svg\n<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"500\"><text x=\"10\" y=\"20\">&c;</text></svg>\n```", ERROR, "svg"),
        code("svg turbulence octaves", "flowchart", svg("<filter id=\"f\"><feTurbulence baseFrequency=\"0.05\" numOctaves=\"2000000000\"/></filter><rect width=\"600\" height=\"500\" filter=\"url(#f)\"/>"), ERROR, "numoctaves"),
        code("svg morphology radius", "flowchart", svg("<filter id=\"f\"><feMorphology operator=\"dilate\" radius=\"1024\"/></filter><rect width=\"600\" height=\"500\" filter=\"url(#f)\"/>"), ERROR, "radius"),
        code("svg blur deviation", "org_chart", svg("<filter id=\"f\"><feGaussianBlur stdDeviation=\"1e9\"/></filter><rect width=\"600\" height=\"500\" filter=\"url(#f)\"/>"), ERROR, "stddeviation"),
        code("svg convolve order", "org_chart", svg("<filter id=\"f\"><feConvolveMatrix order=\"999\" kernelMatrix=\"1\"/></filter><rect width=\"600\" height=\"500\" filter=\"url(#f)\"/>"), ERROR, "order"),
        code("svg many primitives", "timeline", svg(&format!("<filter id=\"f\">{}</filter>", "<feOffset dx=\"1\"/>".repeat(100))), ERROR, "filter primitives"),
        code("svg use bomb", "timeline", svg("<defs><g id=\"a\"><rect width=\"1\" height=\"1\"/></g><g id=\"b\"><use href=\"#a\"/><use href=\"#a\"/><use href=\"#a\"/></g><g id=\"c\"><use href=\"#b\"/><use href=\"#b\"/><use href=\"#b\"/></g></defs><use href=\"#c\"/>"), ERROR, "<use"),
        code("svg self use", "timeline", svg("<g id=\"a\"><use xlink:href=\"#a\"/></g>"), ERROR, "<use"),
        code("svg deep nesting", "network_graph", svg(&format!("{}{}", "<g>".repeat(5000), "</g>".repeat(5000))), ERROR, "nested"),
        code("svg many elements", "network_graph", svg(&"<rect width=\"1\" height=\"1\"/>".repeat(20_000)), ERROR, ""),
        code("svg script", "flowchart", svg("<script>while(true){}</script>"), ERROR, "script"),
        code("svg foreign object", "flowchart", svg("<foreignObject width=\"100\" height=\"100\"><div>x</div></foreignObject>"), ERROR, "foreignobject"),
        code("svg huge canvas", "flowchart", "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100000\" height=\"100000\"><text x=\"5\" y=\"20\">Big</text></svg>\n```", ERROR, "canvas"),
        code("svg text only in defs", "flowchart", "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"400\"><defs><text id=\"t\" x=\"5\" y=\"20\">Hidden</text></defs><rect width=\"500\" height=\"400\" fill=\"#eee\"/></svg>\n```", ERROR, "no visible"),
        code("svg white text", "flowchart", "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"400\"><rect width=\"500\" height=\"400\" fill=\"#ffffff\"/><text x=\"5\" y=\"20\" fill=\"#ffffff\" font-size=\"16\">Ghost</text></svg>\n```", ERROR, "no visible"),
        code("svg no document", "flowchart", "Here is a diagram of the process, described in words.", ERROR, "no <svg>"),
        // Chart specs.
        code("chart huge values", "bar_chart", chart(&json!({"type": "bar", "orientation": "vertical", "mode": "grouped", "categories": ["a", "b"], "series": [{"name": "s", "values": [1e12, 2e15]}]})), ERROR, ""),
        code("chart NaN strings", "bar_chart", chart(&json!({"type": "bar", "orientation": "vertical", "mode": "grouped", "categories": ["a", "b"], "series": [{"name": "s", "values": ["NaN", "inf"]}]})), ERROR, ""),
        code("chart many points", "line_chart", chart(&json!({"type": "line", "categories": (0..100_000).map(|i| i.to_string()).collect::<Vec<_>>(), "series": [{"name": "s", "values": vec![1; 100_000]}]})), ERROR, ""),
        code("chart unknown type", "bar_chart", chart(&json!({"type": "hologram", "categories": ["a"], "series": []})), ERROR, ""),
        code("chart not json", "bar_chart", "{\"title\": \"Rain\", \"chart\": {\"type\": \"bar\", ", ERROR, "json"),
        code("chart nested brackets", "bar_chart", nested.clone(), ERROR, ""),
        code("chart huge canvas", "bar_chart", json!({"title": "Rain", "width": 1000000000, "height": 5, "chart": {"type": "bar", "orientation": "vertical", "mode": "grouped", "categories": ["a"], "series": [{"name": "s", "values": [1]}]}}).to_string(), ERROR, ""),
        // Raw replies.
        raw("raw huge body", Reply::chat(&"x".repeat(40 << 20), "stop"), &["llm_error"], "larger than"),
        raw("raw endless", Reply::chat(TOPICS, "stop").delayed(Duration::from_secs(5)), LLM, ""),
        raw("raw nested json", Reply::chat(&nested, "stop"), LLM, ""),
        raw("raw binary body", Reply::new(200, (0..=255u8).cycle().take(100_000).collect::<Vec<u8>>()).header("content-type", "application/json"), LLM, ""),
        raw("raw invalid utf-8", Reply::new(200, b"{\"choices\": [{\"message\": {\"content\": \"\xff\xfe\xfd\"}}]}".to_vec()).header("content-type", "application/json"), LLM, ""),
        raw("raw not json", Reply::new(200, "<html>Bad gateway</html>").header("content-type", "text/html"), LLM, ""),
        raw("raw server error", Reply::new(500, "{\"error\": \"overloaded\"}"), LLM, "500"),
        raw("raw no choices", Reply::new(200, "{\"choices\": []}").header("content-type", "application/json"), LLM, ""),
        raw("raw refusal", Reply::chat("I'm sorry, but I can't help with that.", "stop"), &["llm_refusal"], "declined"),
        raw("raw truncated", Reply::chat("{\"topics\": [\"rain", "length"), &["llm_truncated"], ""),
    ];
    cases.retain(|c| !c.name.is_empty());
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_reply_ends_as_a_rejection_with_its_reason() {
    let cases = corpus();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (i, case) in cases.into_iter().enumerate() {
        let reply = Arc::new(case.reply);
        let handler_reply = Arc::clone(&reply);
        let server = TestServer::start(move |_, r| match &*handler_reply {
            Hostile::Raw(raw) => raw.clone(),
            Hostile::Code(code) => {
                let text = last_prompt(r);
                if text.contains("different topics") {
                    Reply::chat(TOPICS, "stop")
                } else if text.contains("Write the data") {
                    Reply::chat(DATA, "stop")
                } else {
                    Reply::chat(code, "stop")
                }
            }
        })
        .await;
        let cache = tempfile::tempdir().unwrap();
        let stage = figure_stage(&server, &cache);
        let (_, result) = run(stage, record(case.kind, 100 + i as u64)).await;
        match result {
            Ok(()) => failures.push(format!("{}: accepted", case.name)),
            Err(reject) => {
                let message = reject.message.to_lowercase();
                let ok = case.kinds.contains(&reject.kind.as_str())
                    && message.contains(case.says)
                    && !message.trim().is_empty();
                println!(
                    "{:<28} {:<14} {}",
                    case.name,
                    reject.kind,
                    pixmo_docs::llm::clip(&reject.message)
                );
                if !ok {
                    failures.push(format!(
                        "{}: {} `{}` (wanted one of {:?}, saying `{}`)",
                        case.name, reject.kind, reject.message, case.kinds, case.says
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// QA about `word` (extractive: it must be drawn) plus an unanswerable pair.
fn qa_about(word: &str) -> String {
    json!({"qa_pairs": [
        {"question": "Which label is shown?", "explanation": "Read the label.", "answer": word, "type": "retrieval"},
        {"question": "What year is it?", "explanation": "Not shown.", "answer": "Cannot be determined", "type": "unanswerable"}
    ]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invisible_text_cannot_ground_an_answer() {
    let cases: Vec<(&str, &str, String, &str)> = vec![
        ("flowchart", "white on white", "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"400\"><rect width=\"500\" height=\"400\" fill=\"#fff\"/><text x=\"10\" y=\"30\" font-size=\"18\">Start</text><text x=\"10\" y=\"80\" font-size=\"18\" fill=\"#fff\">Secretword</text></svg>\n```".into(), "Secretword"),
        ("flowchart", "zero opacity", "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"400\"><text x=\"10\" y=\"30\" font-size=\"18\">Start</text><text x=\"10\" y=\"80\" font-size=\"18\" opacity=\"0\">Secretword</text></svg>\n```".into(), "Secretword"),
        ("flowchart", "in defs", "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"400\"><defs><text id=\"x\">Secretword</text></defs><text x=\"10\" y=\"30\" font-size=\"18\">Start</text></svg>\n```".into(), "Secretword"),
        ("flowchart", "off canvas", "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"400\"><text x=\"10\" y=\"30\" font-size=\"18\">Start</text><text x=\"900\" y=\"80\" font-size=\"18\">Secretword</text></svg>\n```".into(), "Secretword"),
        ("flowchart", "covered", "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"400\"><text x=\"10\" y=\"30\" font-size=\"18\">Start</text><text x=\"10\" y=\"80\" font-size=\"18\">Secretword</text><rect x=\"0\" y=\"55\" width=\"300\" height=\"40\" fill=\"#468\"/></svg>\n```".into(), "Secretword"),
        ("invoice", "typst white text", typst("Start\n\n#text(fill: white)[Secretword]"), "Secretword"),
        ("invoice", "typst covered text", typst("Start\n\n#box[Secretword #place(top + left, dy: -4pt, rect(width: 150pt, height: 20pt, fill: black))]"), "Secretword"),
    ];
    for (i, (kind, name, code, word)) in cases.into_iter().enumerate() {
        let word_owned = word.to_owned();
        let server = TestServer::start(move |_, r| {
            let text = last_prompt(r);
            if text.contains("different topics") {
                Reply::chat(TOPICS, "stop")
            } else if text.contains("Write the data") {
                Reply::chat(DATA, "stop")
            } else if text.contains("<data>") {
                Reply::chat(&qa_about(&word_owned), "stop")
            } else {
                Reply::chat(&code, "stop")
            }
        })
        .await;
        let cache = tempfile::tempdir().unwrap();
        let (r, result) = run(figure_stage(&server, &cache), record(kind, 200 + i as u64)).await;
        result.unwrap_or_else(|e| panic!("{name}: the figure itself renders: {e:?}"));
        let visible = r.json("figure_visible").unwrap().to_string();
        let qa = LlmQaConfig {
            llm: llm(&server),
            preset: Preset::PixmoDocs,
            cache_dir: Some(cache.path().to_path_buf()),
            temperature: 1.0,
            max_tokens: 512,
        }
        .build()
        .unwrap();
        let (r, result) = run(qa, r).await;
        result.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let kept = r.json("figure_qa").unwrap()["qa"].to_string();
        assert!(
            !kept.contains(word),
            "{name}: `{word}` grounded an answer: {kept} (visible: {visible})"
        );
        let check = QaConfig { min_qa: 2 }.build().unwrap();
        let (_, result) = run(check, r).await;
        assert!(
            result.is_err(),
            "{name}: the record keeps too few pairs to pass docs.qa"
        );
    }
}
