//! One stage per file.

pub mod qa;
pub mod render;
pub mod sample;
