//! PixMo-Docs: charts, diagrams, tables and documents with checked QA, end to end, in two
//! modes: procedural (the default, no LLM) and LLM-written (`pipeline-llm.toml`).
//!
//! Stages: `docs.sample` (kind by the configured mix, figure seed) -> `docs.render`
//! (persona, topic, data, code and pixels from `pixmo-gen-docs` for charts and diagrams or
//! `pixmo-gen-typst` for tables and documents; see [`kind`]) -> `docs.qa` (checks every
//! QA pair and writes the PixMo-Docs `questions` and CoSyn `qa_pairs` forms with the
//! `metadata` struct), plus the generic `image.validate` (PixMo-Docs' render gates) and
//! `image.encode`. The default spec is [`DEFAULT_SPEC`] (`pipeline.toml`).
//!
//! LLM mode replaces `docs.render` by `docs.llm_figure` (persona -> topics -> data -> code ->
//! sandboxed render, failed renders sent back with the error) and adds `docs.llm_qa` (QA
//! written from data and code, numeric answers recomputed with [`verify`]) before the same
//! `docs.qa` checks; prompts are in [`llm::prompts`]. Its spec is [`LLM_SPEC`].
//!
//! [`info`] declares the pipeline to pixmo (the one line in `crates/pixmo-cli/src/registry.rs`);
//! the card's prose is in [`card`].

pub mod card;
pub mod crop;
pub mod kind;
pub mod llm;
pub mod sandbox;
pub mod stages;
pub mod verify;

use pixmo_pipeline::{PipelineInfo, Spec};

/// The default pipeline spec.
pub const DEFAULT_SPEC: &str = include_str!("../pipeline.toml");

/// The LLM-mode spec (`pixmo build docs --spec pipelines/pixmo-docs/pipeline-llm.toml`).
pub const LLM_SPEC: &str = include_str!("../pipeline-llm.toml");

/// The specs shipped with the crate: procedural (the default), then LLM mode.
pub const SPECS: &[Spec] = &[
    Spec::new("pipeline.toml", DEFAULT_SPEC),
    Spec::new("pipeline-llm.toml", LLM_SPEC),
];

/// Everything pixmo knows about PixMo-Docs: specs, released size, stages and card.
#[must_use]
pub fn info() -> PipelineInfo {
    PipelineInfo {
        name: "docs",
        about: card::ABOUT,
        specs: SPECS,
        // PixMo-Docs released 255k images.
        released_size: Some(255_000),
        // The card in `data_cards/` comes from a build of this size (`pixmo card --reference`).
        reference_count: 500,
        register,
        card: card::extension,
        source: None,
    }
}

/// Registers the docs stages.
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<stages::sample::SampleConfig>();
    registry.register::<stages::render::RenderConfig>();
    registry.register::<stages::qa::QaConfig>();
    registry.register::<stages::llm_figure::LlmFigureConfig>();
    registry.register::<stages::llm_qa::LlmQaConfig>();
}
