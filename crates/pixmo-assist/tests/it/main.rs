//! Every prompt flow against a real HTTP server on loopback answering with scripted replies
//! (`pixmo_llm_testkit::TestServer`) through the OpenAI-compatible client: what the model is
//! sent (question, OCR text, caption, the marked points; never an image) and what comes back.

mod llama;

use pixmo_assist::{
    OcrText, PointGroup, SendBackReason, Turn, draft, explain, prompts, revise, revise_explanation,
};
use pixmo_llm::{LlmClient, OpenAiClient, OpenAiConfig, RetryPolicy};
use pixmo_llm_testkit::{Recorded, Reply, TestServer};
use pixmo_points::Percent;

const QUESTION: &str = "What is the total on this receipt?";
const OCR: &str = "CAFE LISBOA\nEspresso 2.40\nPastel de nata 1.80\nTOTAL 4.20 EUR";
const CAPTION: &str = "A crumpled paper receipt on a wooden table next to a coffee cup.";

fn client(server: &TestServer) -> OpenAiClient {
    let mut config = OpenAiConfig::new(format!("{}/v1", server.url()), "scripted-model");
    config.timeout_s = 5.0;
    config.retry = RetryPolicy {
        max_retries: 0,
        initial_backoff_ms: 1,
        max_backoff_ms: 1,
        max_retry_after_ms: 1,
        jitter_seed: 0,
    };
    config.build().unwrap()
}

/// The messages of a recorded request as (role, content) pairs.
fn messages(r: &Recorded) -> Vec<(String, String)> {
    let body = r.json();
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            // Text only: a string content, never a list of parts (where images would go).
            let content = m["content"]
                .as_str()
                .expect("message content is plain text");
            (m["role"].as_str().unwrap().to_string(), content.to_string())
        })
        .collect()
}

/// The request carries no image in any form.
fn assert_no_image(r: &Recorded) {
    let body = String::from_utf8_lossy(&r.body).to_lowercase();
    for needle in ["image_url", "data:image", "\"type\":\"image", "base64"] {
        assert!(
            !body.contains(needle),
            "request mentions `{needle}`: {body}"
        );
    }
}

#[tokio::test]
async fn draft_sends_question_ocr_and_caption_only() {
    let server = TestServer::start(|_, _| {
        Reply::chat(
            "  The total is 4.20 EUR (espresso 2.40 + pastel de nata 1.80).\n",
            "stop",
        )
    })
    .await;
    let client = client(&server);
    let d = draft(&client, QUESTION, &OcrText::new(OCR), Some(CAPTION))
        .await
        .unwrap();
    assert_eq!(
        d.text,
        "The total is 4.20 EUR (espresso 2.40 + pastel de nata 1.80)."
    );
    assert_eq!(d.model, *client.identity());
    assert_eq!(d.prompt_template_id, "assist.ama.question.v1");
    assert_eq!(d.prompt_template_sha256, prompts().ama_question.sha256());
    assert_eq!(d.provenance.prompt_template_id, "assist.ama.question.v1");
    assert_eq!(d.provenance.name, "scripted-model");
    assert!(!d.cached && !d.truncated);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_no_image(&requests[0]);
    let sent = messages(&requests[0]);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].0, "system");
    assert!(sent[0].1.contains("cannot see"), "{}", sent[0].1);
    assert!(sent[0].1.contains("OCR model (not a vision model)"));
    assert_eq!(sent[1].0, "user");
    assert!(sent[1].1.contains(QUESTION));
    assert!(
        sent[1].1.contains(&format!("<ocr>\n{OCR}\n</ocr>")),
        "{}",
        sent[1].1
    );
    assert!(
        sent[1]
            .1
            .contains(&format!("<caption>\n{CAPTION}\n</caption>"))
    );
    // Greedy and seeded: the same question asks the same thing.
    let body = requests[0].json();
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["seed"], 0);
}

#[tokio::test]
async fn draft_without_caption_or_text_says_so() {
    let server = TestServer::start(|_, _| Reply::chat("It cannot be told.", "stop")).await;
    let client = client(&server);
    draft(&client, "What is written?", &OcrText::default(), None)
        .await
        .unwrap();
    let sent = messages(&server.requests()[0]);
    assert!(
        sent[1]
            .1
            .contains("(the OCR model found no text in the image)")
    );
    assert!(
        sent[1]
            .1
            .contains("(no caption is available for this image)")
    );
}

#[tokio::test]
async fn revise_sends_the_whole_trail_and_the_feedback() {
    let server =
        TestServer::start(|_, _| Reply::chat("The total is 4.20 EUR, paid in cash.", "stop")).await;
    let client = client(&server);
    let history = [
        Turn::Answer("About 4 euros.".into()),
        Turn::Feedback("Give the exact amount.".into()),
        Turn::Answer("4.20".into()),
    ];
    let d = revise(
        &client,
        QUESTION,
        &OcrText::new(OCR),
        Some(CAPTION),
        &history,
        "Say the currency and how it was paid.",
    )
    .await
    .unwrap();
    assert_eq!(d.text, "The total is 4.20 EUR, paid in cash.");
    assert_eq!(d.prompt_template_id, "assist.feedback.v1");

    let request = &server.requests()[0];
    assert_no_image(request);
    let sent = messages(request);
    let roles: Vec<&str> = sent.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "user", "assistant", "user"]
    );
    assert!(sent[1].1.contains(OCR) && sent[1].1.contains(CAPTION));
    assert_eq!(sent[2].1, "About 4 euros.");
    assert!(sent[3].1.contains("Give the exact amount."));
    assert_eq!(sent[4].1, "4.20");
    assert!(sent[5].1.contains("Say the currency and how it was paid."));
}

#[tokio::test]
async fn empty_replies_and_server_errors_are_errors() {
    let server = TestServer::start(|i, _| {
        if i == 0 {
            Reply::chat("   ", "stop")
        } else {
            Reply::new(500, "boom")
        }
    })
    .await;
    let client = client(&server);
    let ocr = OcrText::new(OCR);
    let empty = draft(&client, QUESTION, &ocr, None).await.unwrap_err();
    assert!(
        matches!(empty, pixmo_assist::Error::EmptyReply { .. }),
        "{empty:?}"
    );
    let failed = draft(&client, QUESTION, &ocr, None).await.unwrap_err();
    assert!(matches!(failed, pixmo_assist::Error::Llm(_)), "{failed:?}");
    let no_question = draft(&client, "  ", &ocr, None).await.unwrap_err();
    assert!(matches!(no_question, pixmo_assist::Error::EmptyQuestion));
    assert_eq!(server.request_count(), 2);
}

fn groups() -> Vec<PointGroup> {
    vec![
        PointGroup {
            label: "pastries".into(),
            points: vec![
                Percent::new(30.0, 60.0).unwrap(),
                Percent::new(42.5, 61.0).unwrap(),
            ],
        },
        PointGroup {
            label: "total line".into(),
            points: vec![Percent::new(70.0, 88.0).unwrap()],
        },
    ]
}

#[tokio::test]
async fn point_explanation_cites_the_marked_groups() {
    let server = TestServer::start(|_, _| {
        Reply::chat(
            "The receipt lists <point group=\"1\">two pastries</point>, and the <point group=\"2\">total</point> is 4.20 EUR.",
            "stop",
        )
    })
    .await;
    let client = client(&server);
    let out = explain(
        &client,
        "What did they buy?",
        &OcrText::new(OCR),
        Some(CAPTION),
        &groups(),
    )
    .await
    .unwrap();
    let e = out.result.unwrap();
    assert_eq!(
        e.parsed_response,
        "The receipt lists <|POINT|>, and the <|POINT|> is 4.20 EUR."
    );
    assert_eq!(e.inline_text, ["two pastries", "total"]);
    assert_eq!(e.alt_text, ["pastries", "total line"]);
    assert_eq!(e.points[0].len(), 2);
    assert_eq!(out.draft.prompt_template_id, "assist.explain.question.v1");

    let request = &server.requests()[0];
    assert_no_image(request);
    let sent = messages(request);
    assert!(sent[0].1.contains("<point group="), "{}", sent[0].1);
    assert!(sent[1].1.contains(OCR) && sent[1].1.contains(CAPTION));
    assert!(
        sent[1]
            .1
            .contains("[1] pastries: (30.0, 60.0), (42.5, 61.0)\n[2] total line: (70.0, 88.0)"),
        "{}",
        sent[1].1
    );
}

#[tokio::test]
async fn a_bad_point_explanation_is_sent_back_and_revised() {
    let server = TestServer::start(|i, _| match i {
        0 => Reply::chat("They bought two pastries for 4.20 EUR.", "stop"),
        1 => Reply::chat(
            "They bought <point group=\"3\">two pastries</point>.",
            "stop",
        ),
        _ => Reply::chat(
            "They bought <point group=\"1\">two pastries</point>.",
            "stop",
        ),
    })
    .await;
    let client = client(&server);
    let ocr = OcrText::new(OCR);
    let question = "What did they buy?";
    let first = explain(&client, question, &ocr, None, &groups())
        .await
        .unwrap();
    let back = first.result.unwrap_err();
    assert_eq!(back.reason, SendBackReason::NoPointCited);

    let mut history = vec![Turn::Answer(first.draft.text.clone())];
    let second = revise_explanation(
        &client,
        question,
        &ocr,
        None,
        &groups(),
        &history,
        &back.feedback(),
    )
    .await
    .unwrap();
    let back2 = second.result.unwrap_err();
    assert_eq!(
        back2.reason,
        SendBackReason::UnknownGroup {
            group: "3".into(),
            given: 2
        }
    );

    history.push(Turn::Feedback(back.feedback()));
    history.push(Turn::Answer(second.draft.text.clone()));
    let third = revise_explanation(
        &client,
        question,
        &ocr,
        None,
        &groups(),
        &history,
        &back2.feedback(),
    )
    .await
    .unwrap();
    let e = third.result.unwrap();
    assert_eq!(e.parsed_response, "They bought <|POINT|>.");
    assert_eq!(e.groups, [0]);

    let last = messages(&server.requests()[2]);
    let roles: Vec<&str> = last.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "user", "assistant", "user"]
    );
    assert!(last[3].1.contains("does not cite any of the marked places"));
    assert!(last[5].1.contains("only groups 1 to 2 were marked"));
    for r in server.requests() {
        assert_no_image(&r);
    }
}

/// The prompts as the model reads them, for review: changing a prompt changes its hash in
/// provenance, and this snapshot shows how.
#[tokio::test]
async fn rendered_prompts() {
    let server = TestServer::start(|_, _| {
        Reply::chat(
            "The receipt lists <point group=\"1\">two pastries</point>.",
            "stop",
        )
    })
    .await;
    let client = client(&server);
    let ocr = OcrText::new(OCR);
    draft(&client, QUESTION, &ocr, Some(CAPTION)).await.unwrap();
    let history = [Turn::Answer("About 4 euros.".into())];
    revise(
        &client,
        QUESTION,
        &ocr,
        None,
        &history,
        "Give the exact amount.",
    )
    .await
    .unwrap();
    explain(
        &client,
        "What did they buy?",
        &ocr,
        Some(CAPTION),
        &groups(),
    )
    .await
    .unwrap();
    let mut text = String::new();
    for (name, request) in ["draft", "revise", "explain"].iter().zip(server.requests()) {
        text.push_str(&format!("===== {name}\n"));
        for (role, content) in messages(&request) {
            text.push_str(&format!("--- {role}\n{content}\n"));
        }
    }
    insta::assert_snapshot!(text);
}
