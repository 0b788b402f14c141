//! Runs the embedded model once and prints the reply with its speed.
//!
//! `cargo run --release -p pixmo-llm --example generate -- [--q8] "Describe a red couch."`

use std::time::Instant;

use pixmo_llm::{ChatRequest, EmbeddedConfig, LlmClient, Message, SamplingParams};

fn main() -> pixmo_llm::Result<()> {
    let mut args = std::env::args().skip(1).collect::<Vec<_>>();
    let requantize_q8_0 = args.first().is_some_and(|arg| arg == "--q8");
    if requantize_q8_0 {
        args.remove(0);
    }
    let prompt = args
        .first()
        .cloned()
        .unwrap_or_else(|| "Describe in one sentence: a brown dog on a red couch.".into());
    let loaded = Instant::now();
    let client = EmbeddedConfig {
        requantize_q8_0,
        ..EmbeddedConfig::default()
    }
    .build()?;
    println!(
        "loaded {} in {:.2?}",
        client.identity().name,
        loaded.elapsed()
    );
    let request = ChatRequest::new(vec![Message::user(prompt)]).with_params(SamplingParams {
        max_tokens: 64,
        ..SamplingParams::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    let reply = runtime.block_on(client.chat(request))?;
    let elapsed = started.elapsed().as_secs_f64();
    println!("{}", reply.text);
    println!(
        "{} prompt + {} generated tokens in {elapsed:.2} s",
        reply.usage.prompt_tokens, reply.usage.completion_tokens
    );
    Ok(())
}
