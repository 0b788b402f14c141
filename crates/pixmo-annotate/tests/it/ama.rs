//! AskModelAnything end to end: question, draft from a real OpenAI-compatible server on
//! loopback (scripted replies), feedback, revision, acceptance; the export keeps the trail.

use std::sync::Arc;

use pixmo_annotate::{
    ImageSource, ImportOptions, LlmAssistant, OcrEngine, OcrResult, OcrWord, ServeConfig, Store,
    TaskKind, TaskMode,
};
use pixmo_llm::{OpenAiConfig, SamplingParams};
use pixmo_llm_testkit::{Reply, TestServer};
use serde_json::json;

use crate::common::{Browser, databases, invite, write_images};
use crate::http::arrow_rows;

/// A stand-in OCR engine with fixed words (the real one lives in another crate).
struct FixedOcr;

impl OcrEngine for FixedOcr {
    fn ocr(
        &self,
        image_bytes: &[u8],
    ) -> Result<OcrResult, Box<dyn std::error::Error + Send + Sync>> {
        assert_eq!(&image_bytes[..4], b"\x89PNG");
        Ok(OcrResult {
            words: vec![
                OcrWord {
                    text: "CAFE".into(),
                    bbox: [1.0, 2.0, 20.0, 8.0],
                    confidence: 0.97,
                },
                OcrWord {
                    text: "OPEN".into(),
                    bbox: [1.0, 12.0, 20.0, 8.0],
                    confidence: 0.91,
                },
            ],
            engine: "fixed-ocr 1".into(),
            model_sha256: "0".repeat(64),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_drafted_revised_accepted_and_exported_with_its_trail() {
    for db in databases().await {
        let llm = TestServer::start(|index, _request| {
            let answers = [
                "There are two cups.",
                "There are three cups: two white, one red.",
            ];
            Reply::chat(answers[index.min(1)], "stop")
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        write_images(&dir.path().join("imgs"), 1, 40, 30);
        let manifest = dir.path().join("manifest.jsonl");
        std::fs::write(
            &manifest,
            "# one image with a caption\n{\"path\": \"imgs/img-000.png\", \"caption\": \"A cafe table with cups.\"}\n",
        )
        .unwrap();
        let store = Store::open(&db.url).await.unwrap();
        let report = pixmo_annotate::import::import_images(
            &store,
            &ImportOptions {
                source: ImageSource::Manifest(manifest.clone()),
                tasks: vec![(TaskKind::AskModelAnything, TaskMode::Pointing)],
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (report.images_added, report.tasks_added),
            (1, 1),
            "{report:?}"
        );
        let carol = invite(&store, "carol").await;

        let client = OpenAiConfig::new(format!("{}/v1", llm.url()), "scripted-model")
            .build()
            .unwrap();
        let assistant = LlmAssistant::new(Arc::new(client), SamplingParams::default()).unwrap();
        let mut config = ServeConfig::new(db.url.clone(), "127.0.0.1:0".parse().unwrap());
        config.assistant = Some(Arc::new(assistant));
        config.ocr = Some(Arc::new(FixedOcr));
        let server = pixmo_annotate::start(config).await.unwrap();
        let browser = Browser::login(&server.url(), &carol.token).await;

        let (_, claimed) = browser
            .post("/api/claim", json!({"kind": "ask_model_anything"}))
            .await;
        let id = claimed["task"]["id"].as_i64().unwrap();
        let question = "How many cups are on the table?";
        let (status, _) = browser
            .post(
                &format!("/api/tasks/{id}/work"),
                json!({"work": {"question": "How many"}}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, drafted) = browser
            .post(
                &format!("/api/tasks/{id}/draft"),
                json!({"question": question}),
            )
            .await;
        assert_eq!(status, 200, "{drafted}");
        let turns = drafted["turns"].as_array().unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[1]["kind"], "draft");
        assert_eq!(turns[1]["text"], "There are two cups.");
        assert_eq!(turns[1]["model"], "scripted-model");
        // The LLM saw the question, OCR text and caption, as text only.
        let sent = llm.requests()[0].json().to_string();
        assert!(
            sent.contains("How many cups")
                && sent.contains("CAFE OPEN")
                && sent.contains("A cafe table"),
            "{sent}"
        );

        // Feedback without a reason is refused; with one, a revision comes back.
        let (status, _) = browser
            .post(
                &format!("/api/tasks/{id}/feedback"),
                json!({"feedback": "  "}),
            )
            .await;
        assert_eq!(status, 422);
        let (status, revised) = browser
            .post(
                &format!("/api/tasks/{id}/feedback"),
                json!({"feedback": "There is also a red cup."}),
            )
            .await;
        assert_eq!(status, 200, "{revised}");
        let turns = revised["turns"].as_array().unwrap();
        assert_eq!(
            turns
                .iter()
                .map(|t| t["kind"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["question", "draft", "feedback", "revision"]
        );
        let revision_request = llm.requests()[1].json().to_string();
        assert!(
            revision_request.contains("There are two cups.")
                && revision_request.contains("red cup"),
            "{revision_request}"
        );

        // Accepting a non-answer turn is refused; accepting the revision submits the task.
        let (status, _) = browser
            .post(&format!("/api/tasks/{id}/accept"), json!({"seq": 1}))
            .await;
        assert_eq!(status, 422);
        let seq = turns[3]["seq"].as_i64().unwrap();
        let (status, body) = browser
            .post(&format!("/api/tasks/{id}/accept"), json!({"seq": seq}))
            .await;
        assert_eq!(status, 200, "{body}");
        server.shutdown().await.unwrap();

        let out = tempfile::tempdir().unwrap();
        let report = pixmo_annotate::export::export(
            &store,
            &pixmo_annotate::ExportOptions {
                out: out.path().to_path_buf(),
                split: "train".into(),
                as_of_us: Some(0),
            },
        )
        .await
        .unwrap();
        assert_eq!(report.ask_model_anything_rows, 1);
        let rows = arrow_rows(
            &pixmo_shards::read_batches(
                &out.path()
                    .join("ask_model_anything/train/part-00000-00000.parquet"),
                64,
            )
            .unwrap()[0],
        );
        assert_eq!(rows[0]["question"], question);
        assert_eq!(
            rows[0]["answer"],
            "There are three cups: two white, one red."
        );
        let models = rows[0]["provenance"]["models"].as_array().unwrap();
        let kinds: Vec<&str> = models.iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["llm-text", "llm-text", "ocr"],
            "draft and revise prompts, then OCR: {models:?}"
        );
        assert_eq!(models[0]["prompt_template_id"], "annotate.ama.draft.v1");
        assert_eq!(rows[0]["provenance"]["vlm_free"], true);
        let trail = arrow_rows(
            &pixmo_shards::read_batches(
                &out.path()
                    .join("ask_model_anything_trail/train/part-00000-00000.parquet"),
                64,
            )
            .unwrap()[0],
        );
        let kinds: Vec<&str> = trail.iter().map(|t| t["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["question", "draft", "feedback", "revision", "accept"]
        );
        assert!(
            trail
                .iter()
                .all(|t| t["row_id"] == rows[0]["id"] && t["annotator"] == "carol")
        );
        let info = arrow_rows(
            &pixmo_shards::read_batches(
                &out.path()
                    .join("annotations/train/part-00000-00000.parquet"),
                64,
            )
            .unwrap()[0],
        );
        assert_eq!(info[0]["counting_question"], true);
        assert_eq!(info[0]["caption_source"], "manifest");
        assert_eq!(info[0]["ocr_engine"], "fixed-ocr 1");
        store.close().await;
    }
}
