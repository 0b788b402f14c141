//! Runs the embedded model once and prints the reply with its speed.
//!
//! `cargo run --release -p pixmo-llm --example generate -- [--q8] [--max-tokens N]
//! [--temperature T] [--seed S] [--frequency-penalty F] [--presence-penalty P] [--stop S]
//! [--schema-file SCHEMA.json] [--prompt-file FILE | "Describe a red couch."]`

use std::time::Instant;

use pixmo_llm::{ChatRequest, EmbeddedConfig, JsonSchema, LlmClient, Message, SamplingParams};

fn main() -> pixmo_llm::Result<()> {
    let mut requantize_q8_0 = false;
    let mut params = SamplingParams {
        max_tokens: 64,
        ..SamplingParams::default()
    };
    let mut schema = None;
    let mut prompt = "Describe in one sentence: a brown dog on a red couch.".to_string();
    let mut args = std::env::args().skip(1);
    let bad = |flag: &str| pixmo_llm::Error::Config(format!("`{flag}` wants a number"));
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> pixmo_llm::Result<f64> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad(flag))
        };
        match arg.as_str() {
            "--q8" => requantize_q8_0 = true,
            "--max-tokens" => params.max_tokens = number(&arg)? as u32,
            "--temperature" => params.temperature = number(&arg)?,
            "--seed" => params.seed = Some(number(&arg)? as u64),
            "--frequency-penalty" => params.frequency_penalty = Some(number(&arg)?),
            "--presence-penalty" => params.presence_penalty = Some(number(&arg)?),
            "--stop" => params
                .stop
                .push(args.next().ok_or_else(|| bad(&arg))?.replace("\\n", "\n")),
            "--schema-file" => {
                let path = args.next().ok_or_else(|| bad(&arg))?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| pixmo_llm::Error::Config(format!("{path}: {e}")))?;
                let value = serde_json::from_str(&text)
                    .map_err(|e| pixmo_llm::Error::Config(format!("{path}: {e}")))?;
                schema = Some(JsonSchema::new("reply", value));
            }
            "--prompt-file" => {
                let path = args.next().ok_or_else(|| bad(&arg))?;
                prompt = std::fs::read_to_string(&path)
                    .map_err(|e| pixmo_llm::Error::Config(format!("{path}: {e}")))?;
            }
            _ => prompt = arg,
        }
    }
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
    let mut request = ChatRequest::new(vec![Message::user(prompt)]).with_params(params);
    if let Some(schema) = schema {
        request = request.with_schema(schema);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    let reply = runtime.block_on(client.chat(request))?;
    let elapsed = started.elapsed().as_secs_f64();
    println!("{}", reply.text);
    println!(
        "{} prompt + {} generated tokens in {elapsed:.2} s ({:?})",
        reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.finish_reason
    );
    Ok(())
}
