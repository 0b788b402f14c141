//! The one place that lists every dataset pipeline and stage kind.

use pixmo_dag::StageRegistry;

/// Every registered stage kind.
pub fn stages() -> StageRegistry {
    let mut registry = StageRegistry::new();
    pixmo_stages::register(&mut registry);
    pixmo_clocks::register(&mut registry);
    pixmo_docs::register(&mut registry);
    registry
}

/// Datasets with a built-in pipeline, and their default specs.
pub const PIPELINES: &[(&str, &str)] = &[
    ("clocks", pixmo_clocks::DEFAULT_SPEC),
    ("docs", pixmo_docs::DEFAULT_SPEC),
];

/// The default spec of a dataset.
pub fn default_spec(dataset: &str) -> Option<&'static str> {
    PIPELINES
        .iter()
        .find(|(name, _)| *name == dataset)
        .map(|(_, spec)| *spec)
}

/// The datasets with a built-in pipeline, in registry order.
pub fn names() -> Vec<&'static str> {
    PIPELINES.iter().map(|(name, _)| *name).collect()
}
