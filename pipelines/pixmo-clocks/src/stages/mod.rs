//! One stage per file.

pub mod label;
pub mod render;
pub mod sample;
