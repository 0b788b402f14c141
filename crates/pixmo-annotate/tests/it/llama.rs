//! A draft and a revision through the app from a real model: llama.cpp's server serving the
//! pinned SmolLM2-135M on loopback (`pixmo_llm_testkit::LlamaServer`; skipped without
//! `PIXMO_PYTHON` and the fetched model unless `CI` is set). The answers of a 135M model
//! are not judged; the flow and the recorded model are.

use std::sync::Arc;

use pixmo_annotate::{LlmAssistant, ServeConfig, TaskKind, TaskMode};
use pixmo_llm::{OpenAiConfig, SMOLLM2_135M_INSTRUCT_Q4_1, SamplingParams};
use pixmo_llm_testkit::LlamaServer;
use serde_json::json;

use crate::common::{Browser, invite, seeded_store, sqlite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smollm2_drafts_and_revises_through_the_app() {
    let Some(llama) = LlamaServer::start(1) else {
        return;
    };
    let db = sqlite();
    let images = tempfile::tempdir().unwrap();
    let store = seeded_store(
        &db.url,
        images.path(),
        1,
        &[(TaskKind::AskModelAnything, TaskMode::Pointing)],
    )
    .await;
    let dana = invite(&store, "dana").await;
    let mut llm = OpenAiConfig::new(format!("{}/v1", llama.base_url()), "smollm2");
    llm.model_sha256 = Some(SMOLLM2_135M_INSTRUCT_Q4_1.sha256.into());
    llm.max_concurrency = 1;
    llm.timeout_s = 300.0;
    let params = SamplingParams {
        max_tokens: 64,
        ..SamplingParams::default()
    };
    let mut config = ServeConfig::new(db.url.clone(), "127.0.0.1:0".parse().unwrap());
    config.assistant = Some(Arc::new(
        LlmAssistant::new(Arc::new(llm.build().unwrap()), params).unwrap(),
    ));
    let server = pixmo_annotate::start(config).await.unwrap();
    let browser = Browser::login(&server.url(), &dana.token).await;
    let (_, claimed) = browser
        .post("/api/claim", json!({"kind": "ask_model_anything"}))
        .await;
    let id = claimed["task"]["id"].as_i64().unwrap();

    let (status, drafted) = browser
        .post(
            &format!("/api/tasks/{id}/draft"),
            json!({"question": "What colours does the image have?"}),
        )
        .await;
    assert_eq!(status, 200, "{drafted}");
    let draft = &drafted["turns"][1];
    eprintln!("draft in {} ms: {}", draft["ms"], draft["text"]);
    assert_eq!(draft["kind"], "draft");
    assert!(!draft["text"].as_str().unwrap().is_empty());
    let (status, revised) = browser
        .post(
            &format!("/api/tasks/{id}/feedback"),
            json!({"feedback": "Answer in one short sentence."}),
        )
        .await;
    assert_eq!(status, 200, "{revised}");
    let revision = &revised["turns"][3];
    eprintln!("revision in {} ms: {}", revision["ms"], revision["text"]);
    assert_eq!(revision["kind"], "revision");
    let turns = store.turns(id).await.unwrap();
    assert_eq!(
        turns[1].model_sha256.as_deref(),
        Some(SMOLLM2_135M_INSTRUCT_Q4_1.sha256)
    );
    assert_eq!(
        turns[3].prompt_id.as_deref(),
        Some("annotate.ama.revise.v1")
    );
    server.shutdown().await.unwrap();
}
