//! A draft and a revision from a real model: llama.cpp's server (`xllamacpp`) serving the
//! pinned SmolLM2-135M on loopback (`pixmo_llm_testkit::LlamaServer`; skipped without
//! `PIXMO_PYTHON` and the fetched model unless `CI` is set). A 135M model's answers are not
//! judged; the flow, provenance and greedy reproducibility are.

use pixmo_assist::{OcrText, Turn, draft, revise};
use pixmo_llm::{OpenAiConfig, SMOLLM2_135M_INSTRUCT_Q4_1};
use pixmo_llm_testkit::LlamaServer;

#[test]
fn smollm2_drafts_and_revises_from_ocr_text() {
    let Some(server) = LlamaServer::start(1) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut config = OpenAiConfig::new(format!("{}/v1", server.base_url()), "smollm2");
        config.model_sha256 = Some(SMOLLM2_135M_INSTRUCT_Q4_1.sha256.into());
        config.max_concurrency = 1;
        config.timeout_s = 300.0;
        let client = config.build().unwrap();
        let ocr = OcrText::new("CAFE LISBOA\nEspresso 2.40\nPastel de nata 1.80\nTOTAL 4.20 EUR");
        let caption = Some("A paper receipt on a wooden table.");
        let question = "What is the total on this receipt?";

        let first = draft(&client, question, &ocr, caption).await.unwrap();
        eprintln!("draft in {} ms: {:?}", first.elapsed_ms, first.text);
        assert!(!first.text.is_empty());
        assert_eq!(first.model.file_sha256, SMOLLM2_135M_INSTRUCT_Q4_1.sha256);
        assert_eq!(
            first.provenance.file_sha256,
            SMOLLM2_135M_INSTRUCT_Q4_1.sha256
        );
        let again = draft(&client, question, &ocr, caption).await.unwrap();
        assert_eq!(
            first.text, again.text,
            "greedy decoding is not reproducible"
        );

        let history = [Turn::Answer(first.text.clone())];
        let second = revise(
            &client,
            question,
            &ocr,
            caption,
            &history,
            "Give only the amount and the currency.",
        )
        .await
        .unwrap();
        eprintln!("revision in {} ms: {:?}", second.elapsed_ms, second.text);
        assert!(!second.text.is_empty());
        assert_eq!(second.prompt_template_id, "assist.feedback.v1");
    });
}
