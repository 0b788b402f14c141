//! The LLM-mode stages against a real HTTP server on loopback that answers with recorded
//! replies (`pixmo_llm_testkit::TestServer`): the prompt flow (topics -> data -> code ->
//! render, a failed render sent back with the error -> QA), every kind of bad reply, and the
//! checks on LLM-written QA. Each test has its own reply cache.

use std::sync::Arc;

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

/// The last user message of a chat-completions request, and the number of messages.
fn prompt(r: &Recorded) -> (String, usize) {
    let body = r.json();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    (last, messages.len())
}

fn llm(server: &TestServer) -> LlmConfig {
    let mut c = OpenAiConfig::new(format!("{}/v1", server.url()), "scripted-model");
    c.timeout_s = 1.0;
    c.max_concurrency = 2;
    c.retry = RetryPolicy {
        max_retries: 2,
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
        render_timeout_ms: 10_000,
        render_cpu_seconds: 2,
        render_memory_mib: 1024,
        llm: llm(server),
        preset: Preset::PixmoDocs,
        cache_dir: Some(cache.path().to_path_buf()),
        topics: 5,
        max_render_attempts: 3,
        temperature: 1.0,
        max_tokens: 512,
    }
    .build()
    .unwrap()
}

fn qa_stage(server: &TestServer, cache: &tempfile::TempDir, preset: Preset) -> Arc<dyn Stage> {
    LlmQaConfig {
        llm: llm(server),
        preset,
        cache_dir: Some(cache.path().to_path_buf()),
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

/// Runs a stage on a blocking thread, as the executor does.
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

const TOPICS: &str =
    r#"{"topics": ["annual rainfall in Norwegian cities", "ferry passengers per route"]}"#;
const RAIN: &str = r#"{"categories": ["Oslo", "Bergen", "Tromsø"], "series": [{"name": "Rain", "values": [760, 2250, 1030]}]}"#;
const GOOD_SPEC: &str = r#"```json
{"title": "Annual rainfall", "x_label": "City", "y_label": "mm",
 "chart": {"type": "bar", "orientation": "vertical", "mode": "grouped",
           "categories": ["Oslo", "Bergen", "Tromsø"], "series": [{"name": "Rain", "values": [760, 2250, 1030]}]}}
```"#;
const BAD_SPEC: &str =
    r#"{"title": "Annual rainfall", "chart": {"type": "bars", "categories": []}}"#;

/// Topics, data, then code replies in turn, by what each prompt asks for.
fn scripted_figure(code: &'static [&'static str]) -> impl Fn(usize, &Recorded) -> Reply {
    move |_, r| {
        let (text, n) = prompt(r);
        if text.contains("different topics") {
            Reply::chat(TOPICS, "stop")
        } else if text.contains("Write the data") {
            Reply::chat(RAIN, "stop")
        } else {
            // First code request has 1 message; each correction adds two.
            Reply::chat(code[(n / 2).min(code.len() - 1)], "stop")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_render_goes_back_with_its_error_and_qa_is_checked() {
    let server = TestServer::start(scripted_figure(&[BAD_SPEC, GOOD_SPEC])).await;
    let cache = tempfile::tempdir().unwrap();
    let stage = figure_stage(&server, &cache);
    let (r, result) = run(Arc::clone(&stage), record("bar_chart", 3)).await;
    result.unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 4, "topics, data, code, corrected code");
    let (fix, n) = prompt(&requests[3]);
    assert_eq!(n, 3, "the failed code and the error go back to the model");
    assert!(fix.contains("failed to render"), "{fix}");
    assert!(
        fix.contains("bars"),
        "the renderer's error names the bad type: {fix}"
    );
    let (data_prompt, _) = prompt(&requests[1]);
    assert!(data_prompt.contains("Persona: \""), "{data_prompt}");
    // Structured output was asked for on the JSON steps.
    assert_eq!(requests[0].json()["response_format"]["type"], "json_schema");

    let figure = r.json("figure").unwrap();
    assert_eq!(figure["render_attempts"], 2);
    assert_eq!(figure["generator"], "llm/chart_spec");
    assert_eq!(figure["category"], "charts");
    assert!(
        [
            "annual rainfall in Norwegian cities",
            "ferry passengers per route"
        ]
        .contains(&figure["topic"].as_str().unwrap())
    );
    let image = r.image("image").unwrap();
    assert!(image.width >= 400 && image.height >= 400);
    let code: serde_json::Value = serde_json::from_str(r.str("code").unwrap()).unwrap();
    assert!(code["style"].is_object(), "style filled in from the seed");
    let drawn = r.json("figure_visible").unwrap()["drawn_text"].clone();
    assert!(drawn.as_array().unwrap().iter().any(|t| t == "Bergen"));
    let summary = stage.summary().unwrap();
    assert_eq!(summary["llm_calls"], 4);
    assert_eq!(summary["cache_hits"], 0);

    // QA from data and code: wrong arithmetic and an undrawn answer are dropped.
    let qa_server = TestServer::start(|_, r| {
        let (text, _) = prompt(r);
        assert!(text.contains("<data>") && text.contains("Bergen") && text.contains("<code>"));
        assert!(!text.contains("image_bytes"));
        Reply::chat(
            &json!({"qa_pairs": [
                {"question": "Which city gets the most rain?", "explanation": "Bergen's bar is tallest.", "answer": "Bergen", "type": "comparison"},
                {"question": "What is the total rainfall?", "explanation": "760 + 2250 + 1030 = 4000.", "answer": "4,000", "type": "compositional"},
                {"question": "What is the combined rainfall of all cities?", "explanation": "760 + 2250 + 1030 = 4040.", "answer": "4040", "type": "compositional"},
                {"question": "How much rain falls in Oslo?", "explanation": "Oslo's bar reads 760.", "answer": "760", "type": "retrieval"},
                {"question": "Which city is driest in July?", "explanation": "Months are not shown.", "answer": "Cannot be determined", "type": "unanswerable"},
                {"question": "Which city is north of Bergen?", "explanation": "Trondheim.", "answer": "Trondheim", "type": "retrieval"}
            ]})
            .to_string(),
            "stop",
        )
    })
    .await;
    let qa = qa_stage(&qa_server, &cache, Preset::PixmoDocs);
    let (mut r, result) = run(Arc::clone(&qa), r).await;
    result.unwrap();
    let kept = r.json("figure_qa").unwrap()["qa"].clone();
    let answers: Vec<&str> = kept
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["answer"].as_str().unwrap())
        .collect();
    assert_eq!(
        answers,
        ["Bergen", "4040", "760", pixmo_gen_docs::REFUSAL],
        "{kept}"
    );
    let dropped = &qa.summary().unwrap()["qa_pairs_dropped"];
    assert_eq!(dropped["numeric_not_in_data"], 1, "{dropped}");
    assert_eq!(dropped["qa_not_grounded"], 1, "{dropped}");
    // Provenance names every prompt template with its hash.
    let models = qa.models();
    assert_eq!(
        models[0].prompt_template_id.as_deref(),
        Some("docs.pixmo_docs.qa.v1")
    );
    assert_eq!(models[0].name, "scripted-model");
    let ids: Vec<String> = stage
        .models()
        .iter()
        .filter_map(|m| m.prompt_template_id.clone())
        .collect();
    assert!(
        ids.contains(&"docs.pixmo_docs.topics.v1".to_owned()),
        "{ids:?}"
    );

    // The checked QA passes `docs.qa`, which writes both released forms.
    let check = QaConfig { min_qa: 3 }.build().unwrap();
    let cx = StageContext {
        stage: "qa".into(),
        seed: 0,
    };
    check.process(&mut r, &cx).unwrap();
    assert_eq!(r.json("questions").unwrap().as_array().unwrap().len(), 4);
    assert_eq!(r.json("metadata").unwrap()["style"], "pixmo_docs_charts");

    // A second stage over the same cache makes no call.
    let again = figure_stage(&server, &cache);
    let (r2, result) = run(Arc::clone(&again), record("bar_chart", 3)).await;
    result.unwrap();
    assert_eq!(server.request_count(), 4);
    assert_eq!(again.summary().unwrap()["llm_calls"], 0);
    assert_eq!(again.summary().unwrap()["cache_hits"], 4);
    assert_eq!(r2.str("code").unwrap(), r.str("code").unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_and_diagrams_render_from_typst_and_svg() {
    const TYPST: &str = "```typst\n#set page(width: 12cm, height: auto, margin: 1cm)\n#set text(font: \"Liberation Sans\")\n= Invoice 1042\n#table(columns: 2, [Item], [Price], [Bread], [3.50], [Milk], [1.20])\nTotal: 4.70\n```";
    const SVG: &str = "```svg\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"400\"><rect width=\"500\" height=\"400\" fill=\"#f8f8f0\"/><rect x=\"40\" y=\"40\" width=\"120\" height=\"50\" fill=\"#9cf\"/><text x=\"50\" y=\"70\" font-family=\"sans-serif\" font-size=\"16\">Order</text><line x1=\"160\" y1=\"65\" x2=\"300\" y2=\"65\" stroke=\"black\"/><text x=\"310\" y=\"70\" font-family=\"sans-serif\" font-size=\"16\">Ship &amp; bill</text></svg>\n```";
    // Typst that never finishes meets the render deadline, and the deadline goes back to
    // the model like any other render error.
    const LOOP: &str = "```typst\n#set page(width: 10cm, height: auto)\n#for i in range(100000) { for j in range(100000) { } }\n```";
    let server = TestServer::start(scripted_figure(&[LOOP, TYPST])).await;
    let cache = tempfile::tempdir().unwrap();
    let (r, result) = run(figure_stage(&server, &cache), record("receipt", 2)).await;
    result.unwrap();
    assert_eq!(r.json("figure").unwrap()["render_attempts"], 2);
    let (fix, _) = prompt(&server.requests()[3]);
    assert!(
        fix.to_lowercase().contains("time") || fix.contains("deadline"),
        "{fix}"
    );

    for (kind, code, visible_key) in [
        ("invoice", TYPST, "layout_text"),
        ("flowchart", SVG, "drawn_text"),
    ] {
        let codes: &'static [&'static str] = if kind == "invoice" { &[TYPST] } else { &[SVG] };
        let server = TestServer::start(scripted_figure(codes)).await;
        let cache = tempfile::tempdir().unwrap();
        let (r, result) = run(figure_stage(&server, &cache), record(kind, 11)).await;
        result.unwrap_or_else(|e| panic!("{kind}: {e:?}"));
        let visible = r.json("figure_visible").unwrap();
        assert!(!visible[visible_key].is_null(), "{kind}: {visible}");
        let text = visible.to_string();
        assert!(
            text.contains("Invoice 1042") || text.contains("Ship & bill"),
            "{kind}: {text}"
        );
        assert!(code.contains(r.str("code").unwrap().lines().next().unwrap()));
        assert_eq!(server.request_count(), 3, "{kind}");
    }
}

/// A figure stage fed `reply` for its first request (topics); what does it reject?
async fn reject_of(
    handler: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
) -> (Reject, usize) {
    let server = TestServer::start(handler).await;
    let cache = tempfile::tempdir().unwrap();
    let (_, result) = run(figure_stage(&server, &cache), record("line_chart", 5)).await;
    (result.unwrap_err(), server.request_count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_replies_are_retried_or_rejected_with_a_reason() {
    let (r, _) = reject_of(|_, _| Reply::chat("Here are topics: rain, snow, wind.", "stop")).await;
    assert_eq!(r.kind, "llm_bad_json", "{r:?}");

    let (r, _) = reject_of(|_, _| Reply::chat(r#"{"topics": ["rain in Ber"#, "length")).await;
    assert_eq!(r.kind, "llm_truncated", "{r:?}");

    let (r, _) =
        reject_of(|_, _| Reply::chat("I'm sorry, but I can't help with that request.", "stop"))
            .await;
    assert_eq!(r.kind, "llm_refusal", "{r:?}");

    let (r, _) = reject_of(|_, _| Reply::chat(r#"{"topics": []}"#, "stop")).await;
    assert_eq!(r.kind, "llm_bad_reply", "{r:?}");

    // Server errors are retried by the client, then reported.
    let (r, calls) = reject_of(|_, _| Reply::new(500, "overloaded")).await;
    assert_eq!((r.kind.as_str(), calls), ("llm_error", 3), "{r:?}");
    assert!(r.message.contains("500"), "{r:?}");

    // A reply slower than the per-call timeout.
    let (r, _) =
        reject_of(|_, _| Reply::chat(TOPICS, "stop").delayed(std::time::Duration::from_secs(5)))
            .await;
    assert_eq!(r.kind, "llm_error", "{r:?}");
    assert!(r.message.contains("timeout"), "{r:?}");

    // Code that never renders: bounded attempts, the last error kept.
    let (r, calls) = reject_of(scripted_figure(&[BAD_SPEC])).await;
    assert_eq!((r.kind.as_str(), calls), ("render_error", 5), "{r:?}");
    assert!(r.message.contains("3 attempts"), "{r:?}");

    // A 429 with Retry-After is waited out and the flow completes.
    let server = TestServer::start(|i, r| {
        if i == 0 {
            Reply::new(429, "slow down").header("retry-after", "0")
        } else {
            scripted_figure(&[GOOD_SPEC])(i, r)
        }
    })
    .await;
    let cache = tempfile::tempdir().unwrap();
    let (_, result) = run(figure_stage(&server, &cache), record("bar_chart", 5)).await;
    result.unwrap();
    assert_eq!(server.request_count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosyn_preset_asks_for_its_question_mix_and_no_survivor_rejects() {
    let server = TestServer::start(|_, r| {
        let (text, _) = prompt(r);
        assert!(text.contains("at least 1 question that the image cannot answer"), "{text}");
        assert!(text.contains(pixmo_gen_docs::REFUSAL), "{text}");
        Reply::chat(
            r#"{"qa_pairs": [{"question": "Total?", "explanation": "Sum.", "answer": "12345", "type": "compositional"}]}"#,
            "stop",
        )
    })
    .await;
    let cache = tempfile::tempdir().unwrap();
    let mut r = record("bar_chart", 1);
    r.set(
        "figure",
        Value::Json(json!({"figure_type": "bar chart", "topic": "rain", "category": "charts"})),
    );
    r.set("data", Value::Str(RAIN.into()));
    r.set("code", Value::Str(GOOD_SPEC.into()));
    r.set(
        "figure_visible",
        Value::Json(json!({"drawn_text": ["Oslo"]})),
    );
    let (_, result) = run(qa_stage(&server, &cache, Preset::Cosyn), r).await;
    let e = result.unwrap_err();
    assert_eq!(e.kind, "no_valid_qa", "{e:?}");
    assert!(e.message.contains("numeric_not_in_data"), "{e:?}");
}
