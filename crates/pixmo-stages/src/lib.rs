//! Dataset-agnostic stages and the shard sink: `image.encode`, `image.validate`, and turning
//! records into Arrow batches of a dataset schema with provenance; `snapshot` writes finished
//! records as a committed one-shard run (imports). The build loop that plans,
//! resumes, grows and commits shards lives in `pixmo-build`.

pub mod encode;
pub mod sink;
pub mod snapshot;
pub mod validate;

/// Registers the generic stages.
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<encode::EncodeConfig>();
    registry.register::<validate::ValidateConfig>();
}
