//! The stages: `count.scene` renders, `count.label` asks and answers.

pub mod label;
pub mod scene;
