//! Molmo trainer on burn.
//!
//! Reads the Parquet shards pixmo builds (through `pixmo-shards` and the
//! `pixmo-annotation-schema` types only), formats and packs them as Molmo does, and trains a
//! CLIP-style ViT, the Molmo connector and a Qwen2-style LLM with Molmo's optimiser recipe.
//! The library is generic over the burn backend; tests run on the ndarray CPU backend with
//! autodiff, the `pixmo-train` binary can pick CUDA (`--features cuda`).

pub mod augment;
pub mod batch;
pub mod bench;
pub mod box_cache;
pub mod config;
pub mod data;
pub mod error;
pub mod eval;
pub mod format;
pub mod gguf;
pub mod import;
pub mod mixture;
pub mod model;
pub mod optim;
pub mod parallel;
pub mod preprocess;
pub mod probe;
pub mod rng;
pub mod tokenizer;
pub mod train;

pub use error::{Error, Result};
