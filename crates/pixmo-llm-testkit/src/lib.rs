//! Test servers for code that talks to LLMs (a dev-dependency only):
//! - [`TestServer`]: a real HTTP/1.1 server on loopback answering with scripted replies
//!   (status codes, `Retry-After`, delays, malformed bodies), recording every request;
//! - [`LlamaServer`]: llama.cpp's OpenAI-compatible server (`xllamacpp`) serving the pinned
//!   SmolLM2 GGUF on loopback.

mod llama;
mod scripted;

pub use llama::LlamaServer;
pub use scripted::{Recorded, Reply, TestServer};

/// Reports a missing asset: panics under `CI`, otherwise prints why the test is skipped.
///
/// # Panics
/// When `CI` is set.
pub fn missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} (required when `CI` is set)");
    }
    eprintln!("skipping: {what}");
}
