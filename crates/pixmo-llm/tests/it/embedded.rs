//! The embedded SmolLM2 model: real weights, greedy decoding, reproducible text.
//!
//! Needs the model in the models directory (`pixmo models fetch`); fails under `CI` and is
//! skipped otherwise when it is missing.

use std::time::Instant;

use pixmo_llm::{
    ChatRequest, EmbeddedConfig, Error, FinishReason, JsonSchema, LlmClient, Message,
    SMOLLM2_135M_INSTRUCT_Q4_1, SamplingParams, models_dir,
};

#[tokio::test]
async fn embedded_smollm2_generates_deterministic_text() {
    let path = SMOLLM2_135M_INSTRUCT_Q4_1.path_in(&models_dir().unwrap());
    if !path.is_file() {
        pixmo_llm_testkit::missing(&format!("model `{}` is not fetched", path.display()));
        return;
    }
    let loaded = Instant::now();
    let client = EmbeddedConfig::default().build().unwrap();
    eprintln!(
        "embedded model loaded and verified in {:.2?}",
        loaded.elapsed()
    );
    assert_eq!(client.identity().name, SMOLLM2_135M_INSTRUCT_Q4_1.name);
    assert_eq!(
        client.identity().file_sha256,
        SMOLLM2_135M_INSTRUCT_Q4_1.sha256
    );
    assert_eq!(client.context_length(), 8192);

    let request = ChatRequest::new(vec![
        Message::system("You write short image captions."),
        Message::user("Describe in one sentence: a brown dog on a red couch."),
    ])
    .with_params(SamplingParams {
        max_tokens: 24,
        seed: Some(0),
        temperature: 0.0,
        top_p: None,
        ..SamplingParams::default()
    });
    let started = Instant::now();
    let first = client.chat(request.clone()).await.unwrap();
    let elapsed = started.elapsed();
    let tokens = first.usage.prompt_tokens + first.usage.completion_tokens;
    eprintln!(
        "embedded: {} prompt + {} generated tokens in {elapsed:.2?} ({:.1} tokens/s overall): {:?}",
        first.usage.prompt_tokens,
        first.usage.completion_tokens,
        tokens as f64 / elapsed.as_secs_f64(),
        first.text
    );
    assert!(!first.text.trim().is_empty());
    assert!(first.usage.completion_tokens > 0 && first.usage.completion_tokens <= 24);
    assert!(
        first.text.to_lowercase().contains("dog"),
        "{:?}",
        first.text
    );
    let second = client.chat(request.clone()).await.unwrap();
    assert_eq!(first, second, "greedy decoding is not reproducible");

    // A prompt that cannot fit the context is a clear error, not a panic.
    let huge = ChatRequest::new(vec![Message::user("dog ".repeat(9000))]);
    let error = client.chat(huge).await.unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
}

#[tokio::test]
async fn requantized_q8_0_model_is_labelled_and_bounded_by_max_tokens() {
    let path = SMOLLM2_135M_INSTRUCT_Q4_1.path_in(&models_dir().unwrap());
    if !path.is_file() {
        pixmo_llm_testkit::missing(&format!("model `{}` is not fetched", path.display()));
        return;
    }
    let client = EmbeddedConfig {
        requantize_q8_0: true,
        ..EmbeddedConfig::default()
    }
    .build()
    .unwrap();
    assert_eq!(client.identity().name, "SmolLM2-135M-Instruct.Q4_1+q8_0");
    assert_eq!(
        client.identity().file_sha256,
        SMOLLM2_135M_INSTRUCT_Q4_1.sha256
    );
    let request =
        ChatRequest::new(vec![Message::user("Name one animal.")]).with_params(SamplingParams {
            max_tokens: 16,
            ..SamplingParams::default()
        });
    let started = Instant::now();
    let full = client.chat(request.clone()).await.unwrap();
    eprintln!(
        "embedded q8_0: {} prompt + {} generated tokens in {:.2?}: {:?}",
        full.usage.prompt_tokens,
        full.usage.completion_tokens,
        started.elapsed(),
        full.text
    );
    assert!(!full.text.trim().is_empty());
    // The default system prompt from the GGUF's chat template is applied.
    assert!(full.usage.prompt_tokens > 25, "{:?}", full.usage);

    // `max_tokens` bounds generation and is reported as `length`.
    let short = client
        .chat(request.clone().with_params(SamplingParams {
            max_tokens: 2,
            ..request.params.clone()
        }))
        .await
        .unwrap();
    assert_eq!(short.usage.completion_tokens, 2);
    assert_eq!(short.finish_reason, FinishReason::Length);
    assert!(
        full.text.starts_with(short.text.trim_end()),
        "{short:?} vs {full:?}"
    );
}

#[test]
fn a_missing_or_wrong_model_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let missing = EmbeddedConfig {
        model_path: Some(dir.path().join("absent.gguf")),
        ..EmbeddedConfig::default()
    };
    let error = missing.build().unwrap_err();
    assert!(
        error.to_string().contains("run `pixmo models fetch`"),
        "{error}"
    );

    let wrong = dir.path().join("wrong.gguf");
    std::fs::write(&wrong, b"not a model").unwrap();
    let pinned = EmbeddedConfig {
        model_path: Some(wrong.clone()),
        sha256: Some(SMOLLM2_135M_INSTRUCT_Q4_1.sha256.into()),
        ..EmbeddedConfig::default()
    };
    assert!(matches!(
        pinned.build().unwrap_err(),
        Error::ChecksumMismatch { .. }
    ));
    let unpinned = EmbeddedConfig {
        model_path: Some(wrong),
        ..EmbeddedConfig::default()
    };
    assert!(matches!(unpinned.build().unwrap_err(), Error::Model { .. }));
}

fn embedded_or_skip() -> Option<pixmo_llm::EmbeddedClient> {
    let path = SMOLLM2_135M_INSTRUCT_Q4_1.path_in(&models_dir().unwrap());
    if !path.is_file() {
        pixmo_llm_testkit::missing(&format!("model `{}` is not fetched", path.display()));
        return None;
    }
    Some(EmbeddedConfig::default().build().unwrap())
}

/// Unconstrained, SmolLM2-135M answers this prompt with prose ("Question 1: ...") that is not
/// JSON; under the schema its reply must parse and follow it, bounds included.
#[tokio::test]
async fn schema_requests_decode_valid_json_of_the_schema() {
    let Some(client) = embedded_or_skip() else {
        return;
    };
    let schema = serde_json::json!({
        "type": "object",
        "properties": {"dialogue": {"type": "array", "minItems": 1, "maxItems": 2, "items": {
            "type": "object",
            "properties": {
                "question": {"type": "string", "maxLength": 80},
                "answer": {"type": "string", "maxLength": 80}
            },
            "required": ["question", "answer"]
        }}},
        "required": ["dialogue"]
    });
    let caption = "A red cup of coffee sits on a red saucer on a wooden table. A small silver spoon lies on the saucer next to the cup.";
    let request = ChatRequest::new(vec![Message::user(format!(
        "Here is a description of an image:\n\n{caption}\n\nWrite 4 questions a person might ask about this image, each with its answer. Reply with JSON: {{\"dialogue\": [{{\"question\": \"...\", \"answer\": \"...\"}}]}}"
    ))])
    .with_params(SamplingParams {
        max_tokens: 300,
        ..SamplingParams::default()
    });
    let plain = client.chat(request.clone()).await.unwrap();
    let reply = client
        .chat(request.with_schema(JsonSchema::new("dialogue", schema)))
        .await
        .unwrap();
    eprintln!(
        "unconstrained: {:?}\nconstrained: {:?}",
        plain.text, reply.text
    );
    assert_eq!(reply.finish_reason, FinishReason::Stop, "{reply:?}");
    let value = reply.json().unwrap();
    let pairs = value["dialogue"].as_array().unwrap();
    assert!((1..=2).contains(&pairs.len()), "{value}");
    for pair in pairs {
        let object = pair.as_object().unwrap();
        assert_eq!(object.len(), 2, "{pair}");
        for key in ["question", "answer"] {
            let text = object[key].as_str().unwrap();
            assert!(text.chars().count() <= 80, "{key}: {text:?}");
        }
    }
    // The reply ends with the value: nothing after the closing brace.
    assert!(reply.text.trim_end().ends_with('}'), "{:?}", reply.text);
}

#[tokio::test]
async fn stop_sequences_end_the_reply_before_them() {
    let Some(client) = embedded_or_skip() else {
        return;
    };
    let request = ChatRequest::new(vec![Message::user(
        "Write three short paragraphs about cats, separated by blank lines.",
    )])
    .with_params(SamplingParams {
        max_tokens: 120,
        ..SamplingParams::default()
    });
    let full = client.chat(request.clone()).await.unwrap();
    let stops = vec!["\n".to_string(), ". ".to_string()];
    let cut = stops
        .iter()
        .filter_map(|s| full.text.find(s.as_str()))
        .min()
        .expect("the model writes more than one sentence");
    let stopped = client
        .chat(request.with_params(SamplingParams {
            max_tokens: 120,
            stop: stops,
            ..SamplingParams::default()
        }))
        .await
        .unwrap();
    assert_eq!(stopped.finish_reason, FinishReason::Stop);
    assert_eq!(stopped.text, full.text[..cut], "greedy: the same text, cut");
    assert!(stopped.usage.completion_tokens < full.usage.completion_tokens);
}

#[test]
fn token_bytes_agree_with_the_tokenizer() {
    let path = SMOLLM2_135M_INSTRUCT_Q4_1.path_in(&models_dir().unwrap());
    if !path.is_file() {
        pixmo_llm_testkit::missing(&format!("model `{}` is not fetched", path.display()));
        return;
    }
    let tokenizer = pixmo_llm::GgufTokenizer::from_file(&path).unwrap();
    let mut checked = 0;
    for id in 0..tokenizer.vocab_size() as u32 {
        let Some(bytes) = tokenizer.token_bytes(id) else {
            continue;
        };
        if let Ok(text) = std::str::from_utf8(bytes) {
            assert_eq!(tokenizer.decode(&[id]).unwrap(), text, "token {id}");
            checked += 1;
        }
    }
    assert!(checked > 40_000, "{checked}");
    let ids = tokenizer.encode("{\"a\": [1, 2]}\n").unwrap();
    let joined: Vec<u8> = ids
        .iter()
        .flat_map(|&id| tokenizer.token_bytes(id).unwrap().to_vec())
        .collect();
    assert_eq!(joined, b"{\"a\": [1, 2]}\n");
}
