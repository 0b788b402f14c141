//! Integration tests for `pixmo-gen-typst`, gathered in one binary.

mod answers;
mod determinism;
mod golden;
mod ocr;
mod sandbox;
mod util;
