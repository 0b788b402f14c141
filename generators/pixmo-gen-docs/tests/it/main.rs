//! Integration tests for `pixmo-gen-docs`, gathered in one binary.

mod answers;
mod golden;
mod specs;
mod util;
