//! Dataset-agnostic stages and the shard sink: `image.encode`, `image.validate`, turning records into Arrow
//! batches of a dataset schema with provenance, and the build loop that plans shards,
//! resumes, grows and commits them.

pub mod build;
pub mod encode;
pub mod sink;
pub mod validate;

pub use build::{BuildError, BuildRequest, BuildSummary, OutputConfig, build};

/// Registers the generic stages.
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<encode::EncodeConfig>();
    registry.register::<validate::ValidateConfig>();
}
