//! Charts: spec, sampling, drawing (plotters) and QA.

pub mod axis;
mod cartesian;
pub mod qa;
pub mod render;
pub mod sample;
pub mod spec;

pub use axis::ValueAxis;
pub use cartesian::{nice_step, step_decimals};
