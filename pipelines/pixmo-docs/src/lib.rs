//! PixMo-Docs (procedural mode): charts, diagrams, tables and documents with exact QA, end
//! to end.
//!
//! Stages: `docs.sample` (kind by the configured mix, figure seed) -> `docs.render`
//! (persona, topic, data, code and pixels from `pixmo-gen-docs` for charts and diagrams or
//! `pixmo-gen-typst` for tables and documents; see [`kind`]) -> `docs.qa` (checks every
//! QA pair and writes the PixMo-Docs `questions` and CoSyn `qa_pairs` forms with the
//! `metadata` struct), plus the generic `image.validate` (PixMo-Docs' render gates) and
//! `image.encode`. The default spec is [`DEFAULT_SPEC`] (`pipeline.toml`).

pub mod crop;
pub mod kind;
pub mod stages;

/// The default pipeline spec.
pub const DEFAULT_SPEC: &str = include_str!("../pipeline.toml");

/// Registers the docs stages.
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<stages::sample::SampleConfig>();
    registry.register::<stages::render::RenderConfig>();
    registry.register::<stages::qa::QaConfig>();
}
