//! One stage per file.

pub mod llm_figure;
pub mod llm_qa;
pub mod qa;
pub mod render;
pub mod sample;
