//! PixMo-Clocks: rendered analog watch faces with exact times, end to end.
//!
//! Stages: `clocks.sample` (face, time and scene from seeds) -> `clocks.render` (SVG ->
//! resvg -> augmentation, with ground-truth hand geometry) -> `clocks.label` (time text and
//! QA in Molmo's clock convention), plus the generic `image.encode`. The default spec is
//! [`DEFAULT_SPEC`] (`pipeline.toml`). [`info`] declares the pipeline to pixmo (the one line
//! in `crates/pixmo-cli/src/registry.rs`); the card's prose and dial statistics are in
//! [`card`].

pub mod card;
pub mod stages;

use pixmo_pipeline::{PipelineInfo, Spec};

/// The default pipeline spec.
pub const DEFAULT_SPEC: &str = include_str!("../pipeline.toml");

/// The specs shipped with the crate; the first is the default.
pub const SPECS: &[Spec] = &[Spec::new("pipeline.toml", DEFAULT_SPEC)];

/// Everything pixmo knows about PixMo-Clocks: specs, released size, stages and card.
#[must_use]
pub fn info() -> PipelineInfo {
    PipelineInfo {
        name: "clocks",
        about: card::ABOUT,
        specs: SPECS,
        // PixMo-Clocks released 826k examples (800,269 train + 25,600 val).
        released_size: Some(826_000),
        // The card in `data_cards/` comes from a build of this size (`pixmo card --reference`).
        reference_count: 2_000,
        register,
        card: card::extension,
        source: None,
    }
}

/// Registers the clocks stages.
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<stages::sample::SampleConfig>();
    registry.register::<stages::render::RenderConfig>();
    registry.register::<stages::label::LabelConfig>();
}
