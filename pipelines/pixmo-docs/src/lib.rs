//! PixMo-Docs (procedural mode): charts and diagrams with exact QA, end to end.
//!
//! Stages: `docs.sample` (figure kind by the configured mix, figure seed) -> `docs.render`
//! (persona, topic, data, code and pixels from `pixmo-gen-docs`) -> `docs.qa` (checks every
//! QA pair and writes the PixMo-Docs `questions` and CoSyn `qa_pairs` forms with the
//! `metadata` struct), plus the generic `image.validate` (PixMo-Docs' render gates) and
//! `image.encode`. The default spec is [`DEFAULT_SPEC`] (`pipeline.toml`).

pub mod stages;

/// The default pipeline spec.
pub const DEFAULT_SPEC: &str = include_str!("../pipeline.toml");

/// Registers the docs stages.
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<stages::sample::SampleConfig>();
    registry.register::<stages::render::RenderConfig>();
    registry.register::<stages::qa::QaConfig>();
}
