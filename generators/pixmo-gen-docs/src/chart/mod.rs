//! Charts: spec, sampling, drawing (plotters) and QA.

mod cartesian;
pub mod qa;
pub mod render;
pub mod sample;
pub mod spec;

pub use cartesian::{nice_step, step_decimals};
