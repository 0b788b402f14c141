//! The stages: `count.scene` renders, `count.label` asks and answers; `count.detections`
//! and `count.image` make rows from a detector's output.

pub mod detections;
pub mod image;
pub mod label;
pub mod scene;
