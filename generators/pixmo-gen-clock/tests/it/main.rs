//! Integration tests for `pixmo-gen-clock`, gathered in one binary.

mod catalogue;
mod determinism;
mod errors;
mod golden;
mod labels;
mod sampled;
mod util;
