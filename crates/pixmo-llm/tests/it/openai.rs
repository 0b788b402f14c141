//! The OpenAI-compatible client against a scripted loopback server: retries, backoff,
//! `Retry-After`, timeouts, the concurrency limit and malformed replies.

use std::time::{Duration, Instant};

use pixmo_llm::{
    ChatRequest, Error, JsonFailure, JsonSchema, LlmClient, Message, OpenAiConfig, RetryPolicy,
    SamplingParams,
};
use serde_json::json;

use pixmo_llm_testkit::{Reply, TestServer};

fn config(server: &TestServer) -> OpenAiConfig {
    let mut config = OpenAiConfig::new(format!("{}/v1", server.url()), "test-model");
    config.retry = RetryPolicy {
        max_retries: 4,
        initial_backoff_ms: 5,
        max_backoff_ms: 50,
        ..RetryPolicy::default()
    };
    config.timeout_s = 10.0;
    config
}

fn hello() -> ChatRequest {
    ChatRequest::new(vec![Message::user("Say hello.")])
}

#[tokio::test]
async fn retries_429_and_5xx_then_succeeds() {
    let server = TestServer::start(|index, _| match index {
        0 => Reply::new(429, "slow down"),
        1 => Reply::new(503, "overloaded"),
        2 => Reply::new(500, "oops"),
        _ => Reply::chat("hello", "stop"),
    })
    .await;
    let client = config(&server).build().unwrap();
    let reply = client.chat(hello()).await.unwrap();
    assert_eq!(reply.text, "hello");
    assert_eq!(reply.usage.completion_tokens, 7);
    assert_eq!(server.request_count(), 4);
    assert_eq!(client.attempts(), 4);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.method == "POST" && r.path == "/v1/chat/completions")
    );
}

#[tokio::test]
async fn retry_after_seconds_are_honoured() {
    let server = TestServer::start(|index, _| match index {
        0 => Reply::new(429, "").header("retry-after", "1"),
        _ => Reply::chat("ok", "stop"),
    })
    .await;
    let client = config(&server).build().unwrap();
    client.chat(hello()).await.unwrap();
    let requests = server.requests();
    let gap = requests[1].at - requests[0].at;
    // The policy alone would wait at most 50 ms.
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
}

#[tokio::test]
async fn gives_up_after_max_retries_with_the_last_error() {
    let server = TestServer::start(|_, _| Reply::new(502, "bad gateway")).await;
    let mut config = config(&server);
    config.retry.max_retries = 2;
    let client = config.build().unwrap();
    let error = client.chat(hello()).await.unwrap_err();
    match &error {
        Error::RetriesExhausted { attempts: 3, last } => {
            assert!(
                matches!(**last, Error::Status { status: 502, .. }),
                "{last:?}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn a_hung_attempt_hits_the_hard_timeout_and_is_retried() {
    let server = TestServer::start(|index, _| match index {
        0 => Reply::chat("late", "stop").delayed(Duration::from_secs(30)),
        _ => Reply::chat("on time", "stop"),
    })
    .await;
    let mut config = config(&server);
    config.timeout_s = 0.3;
    let client = config.build().unwrap();
    let start = Instant::now();
    let reply = client.chat(hello()).await.unwrap();
    assert_eq!(reply.text, "on time");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.request_count(), 2);

    config.retry.max_retries = 0;
    let server_always_late =
        TestServer::start(|_, _| Reply::chat("late", "stop").delayed(Duration::from_secs(30)))
            .await;
    let mut late = config.clone();
    late.base_url = format!("{}/v1", server_always_late.url());
    let error = late.build().unwrap().chat(hello()).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn client_errors_and_malformed_bodies_are_not_retried() {
    let server = TestServer::start(|_, _| Reply::new(400, "bad request: unknown field")).await;
    let error = config(&server)
        .build()
        .unwrap()
        .chat(hello())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Status { status: 400, body, .. } if body.contains("unknown field")),
        "{error:?}"
    );
    assert_eq!(server.request_count(), 1);

    let server = TestServer::start(|_, _| Reply::new(200, "<html>not json</html>")).await;
    let error = config(&server)
        .build()
        .unwrap()
        .chat(hello())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Protocol { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("Malformed chat-completions response")
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn malformed_model_json_gets_a_typed_reason() {
    let replies = [
        ("```json\n{\"caption\": \"a dog\",}\n```", "stop"),
        ("{\"caption\": \"a dog sitting on a", "length"),
        ("I cannot help with that.", "stop"),
        ("{'caption': 'single quotes'}", "stop"),
    ];
    let server = TestServer::start(move |index, _| {
        let (content, finish) = replies[index];
        Reply::chat(content, finish)
    })
    .await;
    let client = config(&server).build().unwrap();
    let first = client.chat(hello()).await.unwrap();
    assert_eq!(first.json().unwrap(), json!({"caption": "a dog"}));
    for expected in [JsonFailure::Truncated, JsonFailure::NoJson] {
        let reply = client.chat(hello()).await.unwrap();
        match reply.json() {
            Err(Error::Json { failure, text }) => {
                assert_eq!(failure, expected);
                assert_eq!(text, reply.text);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let reply = client.chat(hello()).await.unwrap();
    assert!(matches!(
        reply.json(),
        Err(Error::Json {
            failure: JsonFailure::Invalid(_),
            ..
        })
    ));
}

#[tokio::test]
async fn request_carries_parameters_schema_and_api_key() {
    let server = TestServer::start(|_, _| Reply::chat("{\"n\": 1}", "stop")).await;
    let mut config = config(&server);
    // Cargo sets `CARGO_PKG_NAME` for the test process; it stands in for a key variable.
    config.api_key_env = Some("CARGO_PKG_NAME".into());
    let client = config.build().unwrap();
    let schema =
        json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
    let request = ChatRequest::new(vec![Message::system("Count."), Message::user("One.")])
        .with_params(SamplingParams {
            max_tokens: 32,
            seed: Some(7),
            temperature: 0.5,
            top_p: Some(0.9),
            ..SamplingParams::default()
        })
        .with_schema(JsonSchema::new("count", schema.clone()));
    #[derive(serde::Deserialize)]
    struct Count {
        n: u32,
    }
    let count: Count = pixmo_llm::chat_json(&client, request).await.unwrap();
    assert_eq!(count.n, 1);
    let sent = &server.requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer pixmo-llm"));
    let body = sent.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "Count."})
    );
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["top_p"], 0.9);
    assert_eq!(body["max_tokens"], 32);
    assert_eq!(body["seed"], 7);
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["name"], "count");
    assert_eq!(body["response_format"]["json_schema"]["schema"], schema);

    let mut missing = OpenAiConfig::new("http://127.0.0.1:9/v1", "m");
    missing.api_key_env = Some("PIXMO_LLM_TEST_SURELY_UNSET_KEY".into());
    let error = missing.build().unwrap_err();
    assert_eq!(
        error.to_string(),
        "Environment variable `PIXMO_LLM_TEST_SURELY_UNSET_KEY` (the API key) is not set"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_limited_by_the_semaphore() {
    let server =
        TestServer::start(|_, _| Reply::chat("ok", "stop").delayed(Duration::from_millis(150)))
            .await;
    let mut config = config(&server);
    config.max_concurrency = 2;
    let client = std::sync::Arc::new(config.build().unwrap());
    let calls = (0..6).map(|i| {
        let client = std::sync::Arc::clone(&client);
        tokio::spawn(async move {
            client
                .chat(ChatRequest::new(vec![Message::user(format!("call {i}"))]))
                .await
        })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(server.request_count(), 6);
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn refused_connections_are_retried_then_reported() {
    // Bind and drop a listener: nothing listens on the port afterwards.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = OpenAiConfig::new(format!("http://127.0.0.1:{port}/v1"), "m");
    config.retry = RetryPolicy {
        max_retries: 2,
        initial_backoff_ms: 1,
        max_backoff_ms: 5,
        ..RetryPolicy::default()
    };
    let client = config.build().unwrap();
    let error = client.chat(hello()).await.unwrap_err();
    assert!(
        matches!(&error, Error::RetriesExhausted { attempts: 3, last } if matches!(**last, Error::Http { .. })),
        "{error:?}"
    );
    assert_eq!(client.attempts(), 3);
}

#[test]
fn structured_output_modes_shape_the_request() {
    let request = hello().with_schema(JsonSchema::new("x", json!({"type": "object"})));
    let mut config = OpenAiConfig::new("http://127.0.0.1:9/v1/", "m");
    assert_eq!(
        config.build().unwrap().url(),
        "http://127.0.0.1:9/v1/chat/completions"
    );
    config.structured_output = pixmo_llm::StructuredOutput::JsonObject;
    let body = config.build().unwrap().request_body(&request);
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
    config.structured_output = pixmo_llm::StructuredOutput::None;
    let body = config.build().unwrap().request_body(&request);
    assert!(body.get("response_format").is_none());
    assert!(body.get("top_p").is_none(), "unset `top_p` is not sent");
    for absent in ["frequency_penalty", "presence_penalty", "stop"] {
        assert!(body.get(absent).is_none(), "unset `{absent}` is sent");
    }
    let tuned = request.clone().with_params(
        SamplingParams {
            stop: vec!["\n\n".into()],
            ..SamplingParams::default()
        }
        .with_penalties(Some(0.5), Some(-0.25)),
    );
    let body = config.build().unwrap().request_body(&tuned);
    assert_eq!(body["frequency_penalty"], json!(0.5));
    assert_eq!(body["presence_penalty"], json!(-0.25));
    assert_eq!(body["stop"], json!(["\n\n"]));

    for (bad, message) in [
        (
            OpenAiConfig::new("127.0.0.1:9", "m"),
            "`base_url` must start with",
        ),
        (
            OpenAiConfig::new("http://127.0.0.1:9", ""),
            "`model` is empty",
        ),
    ] {
        let error = bad.build().unwrap_err();
        assert!(error.to_string().contains(message), "{error}");
    }
    let config: Result<OpenAiConfig, _> = serde_json::from_value(
        json!({"base_url": "http://127.0.0.1:9", "model": "m", "temprature": 1}),
    );
    assert!(
        config
            .unwrap_err()
            .to_string()
            .contains("unknown field `temprature`")
    );
}

#[tokio::test]
async fn a_reply_over_the_size_cap_fails_once_without_reading_it() {
    let body = vec![b' '; 2 << 20];
    let server = TestServer::start(move |_, _| Reply::new(200, body.clone())).await;
    let mut config = config(&server);
    config.max_response_bytes = 1 << 20;
    let client = config.build().unwrap();
    let error = client.chat(hello()).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::TooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "Response from `{}/v1/chat/completions` (Content-Length 2097152) is larger than the \
             limit of 1048576 bytes (`max_response_bytes`)",
            server.url()
        )
    );
    assert!(!error.is_retryable());
    assert_eq!(
        server.request_count(),
        1,
        "a too-large reply is not retried"
    );

    // Through the cache: nothing is stored, so the next run asks again.
    let dir = tempfile::tempdir().unwrap();
    let cached = pixmo_llm::CachedClient::new(config.build().unwrap(), dir.path()).unwrap();
    assert!(matches!(
        cached.chat(hello()).await,
        Err(Error::TooLarge { .. })
    ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(cached.chat(hello()).await.is_err());
    assert_eq!(server.request_count(), 3);
}

/// A loopback server that answers every request with an endless chunked body; returns its
/// URL and the number of connections it accepted.
pub(crate) async fn endless_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut head = [0u8; 8192];
                let _ = stream.read(&mut head).await;
                let start = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                             transfer-encoding: chunked\r\n\r\n";
                if stream.write_all(start.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
                // Until the client hangs up.
                while stream.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    (url, connections)
}

#[tokio::test]
async fn an_endless_streamed_reply_stops_at_the_size_cap() {
    let (url, connections) = endless_server().await;
    let mut config = OpenAiConfig::new(format!("{url}/v1"), "m");
    config.max_response_bytes = 256 << 10;
    config.timeout_s = 60.0;
    let client = config.build().unwrap();
    let error = client.chat(hello()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Response from `{url}/v1/chat/completions` is larger than the limit of 262144 bytes \
             (`max_response_bytes`)"
        )
    );
    assert_eq!(client.attempts(), 1);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn debug_output_never_shows_the_api_key() {
    let mut config = OpenAiConfig::new("https://api.example.invalid/v1", "m");
    // Cargo sets `CARGO_PKG_DESCRIPTION` for the test process: it stands in for a key.
    config.api_key_env = Some("CARGO_PKG_DESCRIPTION".into());
    let key = std::env::var("CARGO_PKG_DESCRIPTION").unwrap();
    assert!(key.len() > 20);
    let client = config.build().unwrap();
    for shown in [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{config:?}"),
    ] {
        assert!(!shown.contains(&key), "{shown}");
    }
    assert!(format!("{client:?}").contains("api_key: Some(\"<redacted>\")"));
}

#[test]
fn an_api_key_goes_over_plain_http_only_to_loopback() {
    let with_key = |url: &str| {
        let mut config = OpenAiConfig::new(url, "m");
        config.api_key_env = Some("CARGO_PKG_NAME".into());
        config.build()
    };
    for url in [
        "http://127.0.0.1:9/v1",
        "http://127.8.9.10/v1",
        "http://[::1]:8000/v1",
        "http://[::ffff:127.0.0.1]:8000/v1",
        "http://localhost:8000/v1",
        "http://LocalHost/v1",
        "https://api.example.invalid/v1",
    ] {
        assert!(with_key(url).is_ok(), "{url}");
    }
    for url in [
        "http://api.example.invalid/v1",
        "http://10.0.0.7:8000/v1",
        "http://[2001:db8::1]/v1",
        "http://127.0.0.1.example.invalid/v1",
        "http://localhost.example.invalid/v1",
        "http://0.0.0.0:8000/v1",
    ] {
        let error = with_key(url).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "Invalid LLM configuration: `base_url` `{url}` is plain HTTP: an API key is only \
                 sent over `https://` or to a loopback host (127.0.0.0/8, ::1, localhost)"
            )
        );
    }
    // Without a key, plain HTTP anywhere is the user's choice.
    assert!(
        OpenAiConfig::new("http://api.example.invalid/v1", "m")
            .build()
            .is_ok()
    );
}
