//! The response cache: a re-run pays for nothing twice, a changed request misses.

use pixmo_llm::{
    CacheCounts, CachedClient, ChatRequest, LlmClient, Message, OpenAiConfig, SamplingParams,
};

use pixmo_llm_testkit::{Reply, TestServer};

fn requests() -> Vec<ChatRequest> {
    ["a dog", "a cat", "a clock"]
        .into_iter()
        .map(|subject| ChatRequest::new(vec![Message::user(format!("Caption {subject}."))]))
        .collect()
}

#[tokio::test]
async fn a_second_run_makes_zero_network_calls() {
    let server = TestServer::start(|index, request| {
        let prompt = request.json()["messages"][0]["content"].clone();
        Reply::chat(&format!("reply {index} to {prompt}"), "stop")
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = OpenAiConfig::new(format!("{}/v1", server.url()), "test-model");

    let first_run = CachedClient::new(config.build().unwrap(), dir.path()).unwrap();
    let mut first = Vec::new();
    for request in requests() {
        let reply = first_run.chat(request).await.unwrap();
        assert!(!reply.cached);
        first.push(reply);
    }
    assert_eq!(server.request_count(), 3);
    assert_eq!(
        first_run.stats().snapshot(),
        CacheCounts {
            hits: 0,
            misses: 3,
            prompt_tokens: 33,
            completion_tokens: 21,
            saved_completion_tokens: 0,
        }
    );

    // A new client over the same directory: a re-run of the same calls.
    let second_run = CachedClient::new(config.build().unwrap(), dir.path()).unwrap();
    for (request, earlier) in requests().into_iter().zip(&first) {
        let reply = second_run.chat(request).await.unwrap();
        assert!(reply.cached);
        assert_eq!(reply.text, earlier.text);
        assert_eq!(reply.usage, earlier.usage);
    }
    assert_eq!(server.request_count(), 3, "the re-run reached the server");
    assert_eq!(second_run.inner().attempts(), 0);
    let counts = second_run.stats().snapshot();
    assert_eq!(
        (counts.hits, counts.misses, counts.completion_tokens),
        (3, 0, 0)
    );
    assert_eq!(counts.saved_completion_tokens, 21);

    // Anything in the key changing is a miss: parameters, then the model.
    let hotter = requests()[0].clone().with_params(SamplingParams {
        temperature: 0.7,
        ..SamplingParams::default()
    });
    assert!(!second_run.chat(hotter).await.unwrap().cached);
    let mut other_model = config.clone();
    other_model.model = "other-model".into();
    let other = CachedClient::new(other_model.build().unwrap(), dir.path()).unwrap();
    assert!(!other.chat(requests()[0].clone()).await.unwrap().cached);
    assert_eq!(server.request_count(), 5);

    // Entries were renamed into place: no temporary files are left behind.
    let mut files = Vec::new();
    for shard in std::fs::read_dir(dir.path()).unwrap() {
        for entry in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            files.push(entry.unwrap().file_name().into_string().unwrap());
        }
    }
    assert_eq!(files.len(), 5, "{files:?}");
    assert!(
        files
            .iter()
            .all(|name| name.len() == 64 + 5 && name.ends_with(".json"))
    );
}

#[tokio::test]
async fn a_corrupt_entry_is_a_miss_and_is_rewritten() {
    let server = TestServer::start(|_, _| Reply::chat("fresh", "stop")).await;
    let dir = tempfile::tempdir().unwrap();
    let client = OpenAiConfig::new(format!("{}/v1", server.url()), "m")
        .build()
        .unwrap();
    let cached = CachedClient::new(client, dir.path()).unwrap();
    let request = requests()[0].clone();
    let path = cached.entry_path(&cached.key(&request));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"{\"truncated").unwrap();
    assert_eq!(cached.chat(request.clone()).await.unwrap().text, "fresh");
    assert!(cached.chat(request).await.unwrap().cached);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn another_server_with_the_same_model_name_does_not_reuse_replies() {
    let first = TestServer::start(|_, _| Reply::chat("from the first server", "stop")).await;
    let second = TestServer::start(|_, _| Reply::chat("from the second server", "stop")).await;
    let dir = tempfile::tempdir().unwrap();
    let client = |server: &TestServer| {
        let config = OpenAiConfig::new(format!("{}/v1", server.url()), "same-model");
        CachedClient::new(config.build().unwrap(), dir.path()).unwrap()
    };
    let request = requests()[0].clone();
    let a = client(&first);
    assert_eq!(
        a.chat(request.clone()).await.unwrap().text,
        "from the first server"
    );
    let b = client(&second);
    assert_ne!(a.key(&request), b.key(&request));
    let reply = b.chat(request.clone()).await.unwrap();
    assert!(!reply.cached);
    assert_eq!(reply.text, "from the second server");
    assert_eq!((first.request_count(), second.request_count()), (1, 1));
    // Each server's replies stay reusable for that server.
    assert!(client(&first).chat(request.clone()).await.unwrap().cached);
    assert!(client(&second).chat(request).await.unwrap().cached);
    assert_eq!((first.request_count(), second.request_count()), (1, 1));
}
