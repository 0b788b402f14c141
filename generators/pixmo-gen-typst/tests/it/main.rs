//! Integration tests for `pixmo-gen-typst`, gathered in one binary.

mod answers;
mod determinism;
mod golden;
mod sandbox;
mod util;
