//! `cap.caption` against a real HTTP server on loopback answering with recorded replies: a
//! faithful caption passes; one that states a colour, a number, a name or a quote that no
//! transcript contains is rejected naming those words; and the check can be turned off.

use std::sync::Arc;

use pixmo_cap::stages::caption::CaptionConfig;
use pixmo_core::SeedKey;
use pixmo_dag::registry::StageConfig;
use pixmo_dag::{Record, Reject, Stage, StageContext, Value};
use pixmo_llm::{LlmConfig, OpenAiConfig, RetryPolicy};
use pixmo_llm_testkit::{Reply, TestServer};

const TRANSCRIPTS: [&str; 2] = [
    "um so this is a a kitchen table with three white mugs and uh a teapot",
    "there's a teapot, it's kind of greyish, and a note that says back at noon",
];

fn stage(server: &TestServer, cache: &tempfile::TempDir, reject_invented: bool) -> Arc<dyn Stage> {
    let mut llm = OpenAiConfig::new(format!("{}/v1", server.url()), "scripted-model");
    llm.timeout_s = 2.0;
    llm.retry = RetryPolicy {
        max_retries: 0,
        initial_backoff_ms: 1,
        max_backoff_ms: 1,
        max_retry_after_ms: 1,
        jitter_seed: 0,
    };
    CaptionConfig {
        llm: LlmConfig::OpenAi(llm),
        cache_dir: Some(cache.path().to_path_buf()),
        target_words: 40,
        min_words: 5,
        max_words: 100,
        min_support: 0.5,
        reject_invented,
        temperature: 0.0,
        max_tokens: 200,
        frequency_penalty: None,
        presence_penalty: None,
    }
    .build()
    .unwrap()
}

async fn caption(stage: Arc<dyn Stage>) -> (Record, Result<(), Reject>) {
    tokio::task::spawn_blocking(move || {
        let mut record = Record::new(SeedKey {
            run_seed: 0,
            dataset: "cap".into(),
            split: "train".into(),
            record_index: 0,
        });
        record.set(
            "transcripts",
            Value::StrList(TRANSCRIPTS.iter().map(|t| (*t).to_string()).collect()),
        );
        let cx = StageContext {
            stage: "caption".into(),
            seed: 1,
        };
        let result = stage.process(&mut record, &cx);
        (record, result)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faithful_caption_is_kept() {
    let server = TestServer::start(|_, _| {
        Reply::chat(
            "Three white mugs stand on a kitchen table next to a grey teapot and a note that \
             says \"back at noon\".",
            "stop",
        )
    })
    .await;
    let cache = tempfile::tempdir().unwrap();
    let (record, result) = caption(stage(&server, &cache, true)).await;
    result.unwrap();
    assert!(matches!(record.get("caption"), Some(Value::Str(c)) if c.starts_with("Three white")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_colours_numbers_names_and_quotes_are_rejected_by_name() {
    let invented = "Four white mugs stand on a kitchen table next to a blue Wedgwood teapot \
                    and a note that says \"back at five\".";
    let server = TestServer::start(move |_, _| Reply::chat(invented, "stop")).await;
    let cache = tempfile::tempdir().unwrap();
    let (record, result) = caption(stage(&server, &cache, true)).await;
    let reject = result.unwrap_err();
    assert_eq!(reject.kind, "caption_invented", "{reject:?}");
    for named in [
        "quote \"back at five\"",
        "number \"Four\"",
        "colour \"blue\"",
        "name \"Wedgwood\"",
    ] {
        assert!(
            reject.message.contains(named),
            "{named} in {}",
            reject.message
        );
    }
    assert!(
        !reject.message.contains("\"white\""),
        "white was said: {}",
        reject.message
    );
    assert!(record.get("caption").is_none());

    // The same reply with the check off (and a fresh cache) is kept.
    let cache = tempfile::tempdir().unwrap();
    let (record, result) = caption(stage(&server, &cache, false)).await;
    result.unwrap();
    assert!(record.get("caption").is_some());
}
