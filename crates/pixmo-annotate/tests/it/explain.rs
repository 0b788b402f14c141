//! Point-Explanations end to end: the annotator marks and names places, asks; the first
//! answer (a real OpenAI-compatible server on loopback with scripted replies) cites a point
//! that was not marked and is sent back automatically; the revision cites the groups; the
//! annotator's feedback gets another revision, which is accepted and exported in the
//! released layout with its trail, and `pixmo audit` passes.

use std::sync::Arc;

use pixmo_annotate::{
    AppSettings, ImageSource, ImportOptions, LlmAssistant, ServeConfig, Store, TaskKind, TaskMode,
};
use pixmo_annotation_schema::Dataset;
use pixmo_llm::{OpenAiConfig, SamplingParams};
use pixmo_llm_testkit::{Reply, TestServer};
use serde_json::{Value, json};

use crate::common::{Browser, databases, invite, sqlite, write_images};
use crate::http::arrow_rows;

/// One 40x30 image with a caption and one Point-Explanations task.
async fn store_with_one_task(url: &str, dir: &std::path::Path) -> Store {
    write_images(&dir.join("imgs"), 1, 40, 30);
    let manifest = dir.join("manifest.jsonl");
    std::fs::write(
        &manifest,
        "{\"path\": \"imgs/img-000.png\", \"caption\": \"A red cup below an OPEN sign.\"}\n",
    )
    .unwrap();
    let store = Store::open(url).await.unwrap();
    let report = pixmo_annotate::import::import_images(
        &store,
        &ImportOptions {
            source: ImageSource::Manifest(manifest),
            tasks: vec![(TaskKind::PointExplanations, TaskMode::Pointing)],
        },
    )
    .await
    .unwrap();
    assert_eq!(report.tasks_added, 1, "{report:?}");
    store
}

async fn serve(
    store_url: &str,
    llm: &TestServer,
    settings: AppSettings,
) -> pixmo_annotate::RunningServer {
    let client = OpenAiConfig::new(format!("{}/v1", llm.url()), "scripted-model")
        .build()
        .unwrap();
    let mut config = ServeConfig::new(store_url.to_string(), "127.0.0.1:0".parse().unwrap());
    config.settings = settings;
    config.assistant = Some(Arc::new(
        LlmAssistant::new(Arc::new(client), SamplingParams::default()).unwrap(),
    ));
    pixmo_annotate::start(config).await.unwrap()
}

fn kinds(view: &Value) -> Vec<String> {
    view["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Two groups in pixels of the 40x30 image: (10, 15) is (25.0 %, 50.0 %).
fn work(question: &str) -> Value {
    json!({
        "question": question,
        "groups": [{"label": "red cup", "points": [{"x": 10, "y": 15}]}],
        "current": {"label": "sign", "points": [{"x": 30, "y": 6}, {"x": 35, "y": 6}]},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_citing_an_unmarked_point_is_sent_back_then_revised_accepted_and_exported() {
    for db in databases().await {
        let llm = TestServer::start(|index, _| {
            let answers = [
                // Cites coordinates nobody marked: sent back without the annotator.
                "The <point x=\"50.0\" y=\"50.0\">cup</point> is in the middle.",
                "The <point group=\"1\">red cup</point> stands below the <point group=\"2\">sign</point>.",
                "There is <point group=\"1\">one red cup</point> below the <point group=\"2\">OPEN sign</point>.",
            ];
            Reply::chat(answers[index.min(2)], "stop")
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_one_task(&db.url, dir.path()).await;
        let dana = invite(&store, "dana").await;
        let server = serve(&db.url, &llm, AppSettings::default()).await;
        let browser = Browser::login(&server.url(), &dana.token).await;

        // The page exists and the index lists the queue.
        let page = browser
            .client
            .get(format!("{}/explain", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("data-page=\"explain\""));
        let index = browser.client.get(server.url()).send().await.unwrap();
        assert!(index.text().await.unwrap().contains("href=\"/explain\""));

        let (status, claimed) = browser
            .post("/api/claim", json!({"kind": "point_explanations"}))
            .await;
        assert_eq!(status, 200, "{claimed}");
        let id = claimed["task"]["id"].as_i64().unwrap();
        assert_eq!(claimed["task"]["kind"], "point_explanations");

        // Autosave keeps unfinished work; bad work is refused with a reason.
        let (status, body) = browser
            .post(
                &format!("/api/tasks/{id}/work"),
                json!({"work": {"question": "Where", "current": {"points": [{"x": 3, "y": 4}]}}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let refusals = [
            (json!({"question": "Where is the cup?"}), "Mark the places"),
            (
                json!({"question": "Where?", "groups": [{"label": "cup", "points": [{"x": 41, "y": 1}]}]}),
                "outside",
            ),
            (
                json!({"question": "Where?", "groups": [{"label": "", "points": [{"x": 1, "y": 1}]}]}),
                "no label",
            ),
            (
                json!({"question": " ", "groups": [{"label": "cup", "points": [{"x": 1, "y": 1}]}]}),
                "question",
            ),
            (json!({"question": "Where?", "bogus": 1}), "not valid"),
        ];
        for (bad, why) in refusals {
            let (status, body) = browser
                .post(&format!("/api/tasks/{id}/explain"), json!({ "work": bad }))
                .await;
            assert_eq!(status, 422, "{body}");
            assert!(
                body["error"].as_str().unwrap().contains(why),
                "{why}: {body}"
            );
        }
        // No CSRF token, no call.
        let forged = browser
            .client
            .post(format!("{}/api/tasks/{id}/explain", server.url()))
            .json(&json!({"work": work("Where is the cup?")}))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        // Feedback before any answer is refused.
        let (status, _) = browser
            .post(
                &format!("/api/tasks/{id}/feedback"),
                json!({"feedback": "x"}),
            )
            .await;
        assert_eq!(status, 422);
        assert!(llm.requests().is_empty(), "nothing reached the model yet");

        let question = "Where is the red cup?";
        let (status, view) = browser
            .post(
                &format!("/api/tasks/{id}/explain"),
                json!({ "work": work(question) }),
            )
            .await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(kinds(&view), ["question", "draft", "send_back", "revision"]);
        let turns = view["turns"].as_array().unwrap();
        assert_eq!(
            turns[1]["detail"]["send_back"],
            json!({"kind": "point_not_given", "x": 50.0, "y": 50.0})
        );
        assert!(turns[1]["detail"]["explanation"].is_null());
        assert!(
            turns[2]["text"]
                .as_str()
                .unwrap()
                .contains("(50, 50) that was not marked"),
            "{}",
            turns[2]["text"]
        );
        assert_eq!(turns[3]["detail"]["explanation"]["groups"], json!([0, 1]));
        // The saved work is what was asked: the current group became group 2.
        assert_eq!(view["work"]["groups"].as_array().unwrap().len(), 2);
        assert_eq!(view["work"]["current"]["points"], json!([]));

        // The model saw the groups in percent with their labels, and then the send-back.
        let first = llm.requests()[0].json().to_string();
        assert!(
            first.contains("[1] red cup: (25.0, 50.0)")
                && first.contains("[2] sign: (75.0, 20.0), (87.5, 20.0)")
                && first.contains("Where is the red cup?")
                && first.contains("A red cup below an OPEN sign."),
            "{first}"
        );
        let second = llm.requests()[1].json().to_string();
        assert!(
            second.contains("was not marked") && second.contains("in the middle"),
            "{second}"
        );

        // The sent-back draft cannot be accepted.
        let draft_seq = turns[1]["seq"].as_i64().unwrap();
        let (status, body) = browser
            .post(
                &format!("/api/tasks/{id}/accept"),
                json!({"seq": draft_seq}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("sent back"),
            "{body}"
        );

        // The annotator's feedback gets a revision that sees the whole conversation.
        let (status, view) = browser
            .post(
                &format!("/api/tasks/{id}/feedback"),
                json!({"feedback": "Say that there is one cup."}),
            )
            .await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(
            kinds(&view),
            [
                "question",
                "draft",
                "send_back",
                "revision",
                "feedback",
                "revision"
            ]
        );
        let third = llm.requests()[2].json();
        let roles: Vec<&str> = third["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(
            roles,
            ["system", "user", "assistant", "user", "assistant", "user"]
        );
        assert!(third.to_string().contains("one cup"), "{third}");
        let seq = view["turns"][5]["seq"].as_i64().unwrap();
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
        assert_eq!(report.point_explanations_rows, 1, "{}", db.label);
        let batches = pixmo_shards::read_batches(
            &out.path()
                .join("point_explanations/train/part-00000-00000.parquet"),
            64,
        )
        .unwrap();
        // The schema is the released one, exactly.
        assert_eq!(
            batches[0].schema().fields(),
            Dataset::PointExplanations.schema().schema.fields()
        );
        let rows = arrow_rows(&batches[0]);
        let row = &rows[0];
        assert_eq!(row["id"], format!("pe-{id}"));
        assert_eq!(row["question"], question);
        assert_eq!(
            row["parsed_response"],
            "There is <|POINT|> below the <|POINT|>."
        );
        assert_eq!(row["alt_text"], json!(["red cup", "sign"]));
        assert_eq!(row["inline_text"], json!(["one red cup", "OPEN sign"]));
        assert_eq!(
            row["points"],
            json!([[{"x": 25.0, "y": 50.0}], [{"x": 75.0, "y": 20.0}, {"x": 87.5, "y": 20.0}]])
        );
        assert_eq!(row["provenance"]["vlm_free"], true);
        let prompts: Vec<&str> = row["provenance"]["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["prompt_template_id"].as_str().unwrap_or("-"))
            .collect();
        assert_eq!(
            prompts,
            ["assist.explain.question.v1", "assist.feedback.v1"],
            "the draft's and the revisions' prompts"
        );
        let sources: Vec<&str> = row["provenance"]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["kind"].as_str().unwrap())
            .collect();
        assert_eq!(sources, ["image", "annotator", "caption"]);

        let trail = arrow_rows(
            &pixmo_shards::read_batches(
                &out.path()
                    .join("point_explanations_trail/train/part-00000-00000.parquet"),
                64,
            )
            .unwrap()[0],
        );
        let trail_kinds: Vec<&str> = trail.iter().map(|t| t["kind"].as_str().unwrap()).collect();
        assert_eq!(
            trail_kinds,
            [
                "question",
                "draft",
                "send_back",
                "revision",
                "feedback",
                "revision",
                "accept"
            ]
        );
        assert!(
            trail
                .iter()
                .all(|t| t["row_id"] == row["id"] && t["annotator"] == "dana")
        );
        let groups: Value = serde_json::from_str(trail[0]["detail"].as_str().unwrap()).unwrap();
        assert_eq!(
            groups["percent"][1],
            json!([{"x": 75.0, "y": 20.0}, {"x": 87.5, "y": 20.0}])
        );
        assert!(trail[1]["duration_ms"].as_i64().unwrap() >= 0);
        let info = arrow_rows(
            &pixmo_shards::read_batches(
                &out.path()
                    .join("annotations/train/part-00000-00000.parquet"),
                64,
            )
            .unwrap()[0],
        );
        assert_eq!(info[0]["dataset"], "point_explanations");
        assert_eq!(info[0]["counting_question"], false);
        assert_eq!(info[0]["app_version"], pixmo_annotate::export::APP_VERSION);

        let audit = pixmo_audit::audit(&out.path().join("point_explanations"))
            .await
            .unwrap();
        assert!(audit.passed(), "{}", audit.render());
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_backs_stop_after_a_bound_and_count_against_the_rate_limit() {
    let db = sqlite();
    // A model that never cites anything.
    let llm = TestServer::start(|_, _| Reply::chat("It is somewhere.", "stop")).await;
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_one_task(&db.url, dir.path()).await;
    let erin = invite(&store, "erin").await;
    let settings = AppSettings {
        llm_calls_per_minute: 5,
        ..AppSettings::default()
    };
    let server = serve(&db.url, &llm, settings).await;
    let browser = Browser::login(&server.url(), &erin.token).await;
    let (_, claimed) = browser
        .post("/api/claim", json!({"kind": "point_explanations"}))
        .await;
    let id = claimed["task"]["id"].as_i64().unwrap();

    // The limit counts per clock minute: start early in one so the calls share it.
    let second = pixmo_annotate::store::now_us() / 1_000_000 % 60;
    if second > 45 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - second as u64)).await;
    }
    // An AskModelAnything call on this task is refused by kind (and counts as a call).
    let (status, body) = browser
        .post(
            &format!("/api/tasks/{id}/draft"),
            json!({"question": "Hi?"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not an AskModelAnything"),
        "{body}"
    );
    // One request: a draft and two automatic re-drafts, all sent back; then it stops.
    let (status, view) = browser
        .post(
            &format!("/api/tasks/{id}/explain"),
            json!({ "work": work("Where?") }),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        kinds(&view),
        [
            "question",
            "draft",
            "send_back",
            "revision",
            "send_back",
            "revision"
        ]
    );
    assert_eq!(llm.requests().len(), 3);
    let last = view["turns"][5]["seq"].as_i64().unwrap();
    assert_eq!(
        view["turns"][5]["detail"]["send_back"]["kind"],
        "no_point_cited"
    );
    let (status, _) = browser
        .post(&format!("/api/tasks/{id}/accept"), json!({"seq": last}))
        .await;
    assert_eq!(status, 422);

    // The re-drafts counted: the fifth call of the minute is allowed (its answer is sent
    // back), the sixth, its automatic re-draft, is not.
    let (status, body) = browser
        .post(
            &format!("/api/tasks/{id}/feedback"),
            json!({"feedback": "Cite the cup."}),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(llm.requests().len(), 4);
    // Nothing was lost: the feedback, the fourth answer and its send-back are in the trail.
    let turns = store
        .trail_turns(pixmo_annotate::store::Trail::PointExplanations, id)
        .await
        .unwrap();
    let kinds: Vec<&str> = turns.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "question",
            "draft",
            "send_back",
            "revision",
            "send_back",
            "revision",
            "feedback",
            "revision",
            "send_back"
        ]
    );
    server.shutdown().await.unwrap();
    store.close().await;
}
