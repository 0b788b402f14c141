//! End-to-end tests: the real `pixmo` binary building real PixMo-Clocks shards.
//!
//! One test binary for all cross-crate tests (less linking, one place to look).

mod common;

mod annotate;
mod audit;
mod cap;
mod cards;
mod cli_errors;
mod count;
mod count_detections;
mod depcheck;
mod determinism;
mod docs;
mod docs_hostile;
mod docs_llm;
mod eval;
mod failures;
mod import_points;
mod launch;
mod python;
mod slurm;
mod transcribe;
mod workers;
