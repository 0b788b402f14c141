//! Integration tests of `pixmo-llm`, in one binary.

mod cache;
mod embedded;
mod fetch;
mod openai;
mod server;
