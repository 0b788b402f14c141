//! PixMo-Clocks: rendered analog watch faces with exact times, end to end.
//!
//! Stages: `clocks.sample` (face, time and scene from seeds) -> `clocks.render` (SVG ->
//! resvg -> augmentation, with ground-truth hand geometry) -> `clocks.label` (time text and
//! QA in Molmo's clock convention), plus the generic `image.encode`. The default spec is
//! [`DEFAULT_SPEC`] (`pipeline.toml`).

pub mod stages;

/// The default pipeline spec.
pub const DEFAULT_SPEC: &str = include_str!("../pipeline.toml");

/// Registers the clocks stages.
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<stages::sample::SampleConfig>();
    registry.register::<stages::render::RenderConfig>();
    registry.register::<stages::label::LabelConfig>();
}
