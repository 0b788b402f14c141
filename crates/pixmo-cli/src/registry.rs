//! The one list of dataset pipelines. Everything else (the stage registry, default specs,
//! released sizes, data cards) derives from it.
//!
//! Adding a dataset: a pipeline crate under `pipelines/` exporting `pub fn info() ->
//! PipelineInfo`, a dependency on it in this crate's `Cargo.toml`, and one line here.

use pixmo_dag::StageRegistry;
use pixmo_pipeline::{PipelineInfo, Pipelines};

/// Every dataset pipeline built into `pixmo`.
pub const PIPELINES: Pipelines = Pipelines(&[
    pixmo_clocks::info,
    pixmo_docs::info,
    pixmo_count::info,
    pixmo_count::points_info,
    pixmo_count::detections_info,
    pixmo_cap::info,
    pixmo_cap::cap_qa_info,
]);

/// Every registered stage kind: the dataset-agnostic stages and each pipeline's.
pub fn stages() -> StageRegistry {
    let mut registry = StageRegistry::new();
    pixmo_stages::register(&mut registry);
    PIPELINES.register(&mut registry);
    registry
}

/// Starts what sandboxed jobs need before a worker's limits go on (see `pixmo-sandbox`).
pub fn sandbox_prepare() {
    pixmo_docs::sandbox::prepare();
}

/// Serves a sandboxed job in a worker process: the untrusted renders of the pipelines that
/// have them (today PixMo-Docs' LLM mode, jobs named `docs.*`).
///
/// # Errors
/// The job's refusal, or a message for an unknown job.
pub fn sandbox_job(job: &str, input: &[u8]) -> Result<Vec<u8>, String> {
    if job.starts_with("docs.") {
        pixmo_docs::sandbox::handle(job, input)
    } else {
        Err(format!("no pipeline serves the sandbox job `{job}`"))
    }
}

/// The pipeline of a dataset.
pub fn find(dataset: &str) -> Option<PipelineInfo> {
    PIPELINES.find(dataset)
}

/// The default spec of a dataset.
pub fn default_spec(dataset: &str) -> Option<&'static str> {
    find(dataset).map(|p| p.default_spec())
}

/// The size of the released dataset a pipeline rebuilds, if it has one.
pub fn released_size(dataset: &str) -> Option<u64> {
    find(dataset).and_then(|p| p.released_size)
}

/// The datasets with a built-in pipeline, in registry order.
pub fn names() -> Vec<&'static str> {
    PIPELINES.names()
}
