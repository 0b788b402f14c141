//! PixMo-Count and PixMo-Points' pointing data from code, end to end.
//!
//! Stages: `count.scene` (a `pixmo-gen-count` scene of N targets among clutter, rendered
//! with its scene graph) -> `count.label` (the category, or a referring expression, and the
//! exact point of every instance it names), plus the generic `image.validate` and
//! `image.encode`. Two datasets share them: [`info`] (`pixmo build count`, `pipeline.toml`)
//! and [`points_info`] (`pixmo build points`, `points.toml`). [`detections`] applies
//! PixMo-Count's rule to any detector's COCO-format results.

pub mod card;
pub mod detections;
pub mod stages;

use pixmo_pipeline::{About, PipelineInfo, Spec};

/// The default PixMo-Count spec.
pub const COUNT_SPEC: &str = include_str!("../pipeline.toml");
/// The default PixMo-Points spec.
pub const POINTS_SPEC: &str = include_str!("../points.toml");

/// PixMo-Count's shipped specs.
pub const COUNT_SPECS: &[Spec] = &[Spec::new("pipeline.toml", COUNT_SPEC)];
/// PixMo-Points' shipped specs.
pub const POINTS_SPECS: &[Spec] = &[Spec::new("points.toml", POINTS_SPEC)];

const HOW_MADE: &str = "Every image is a scene rendered from a seed by pixmo-gen-count (17 \
    object categories in 12 named colours, sizes, poses, clutter, occlusion, patterned \
    backgrounds and lighting), and every point is the generator's own, checked to lie on a \
    visible pixel of its instance";

const LIMITATIONS: &[&str] = &[
    "Scenes are flat synthetic drawings of simple objects, not photographs: they teach the \
     output format and counting by pointing, not open-world recognition.",
    "Every instance shows at least 60 % of its pixels (the generator's occlusion rule); \
     heavier occlusion does not occur.",
];

/// PixMo-Count's card prose.
pub const COUNT_ABOUT: About = About {
    how_made: HOW_MADE,
    limitations: LIMITATIONS,
    ..About::new(
        "PixMo-Count",
        "Counting data in PixMo-Count's layout (`count`, `points`, `label`) made from code: \
         each image shows 0-10 objects of one category among clutter, and the row names the \
         category, the count and the centre point of every instance (percent, one decimal). \
         Val and test hold every count from 2 to 10 equally often, as PixMo-Count's \
         human-verified sets do.",
    )
};

/// PixMo-Points' card prose.
pub const POINTS_ABOUT: About = About {
    how_made: HOW_MADE,
    limitations: LIMITATIONS,
    ..About::new(
        "PixMo-Points",
        "Pointing data in PixMo-Points' layout (`points`, `count`, `label`, \
         `collection_method`) made from code: a referring expression that follows from the \
         scene graph (`red stars`, `the largest mug`, or something that is not there) with \
         the point of every instance it names; up to 40 targets per image, 15 % \"not \
         present\" rows.",
    )
};

/// PixMo-Count from code.
#[must_use]
pub fn info() -> PipelineInfo {
    PipelineInfo {
        name: "count",
        about: COUNT_ABOUT,
        specs: COUNT_SPECS,
        // PixMo-Count released 36,916 train + 540 val + 540 test.
        released_size: Some(37_996),
        reference_count: 500,
        register,
        card: card::extension,
        source: None,
    }
}

/// PixMo-Points' pointing rows from code.
#[must_use]
pub fn points_info() -> PipelineInfo {
    PipelineInfo {
        name: "points",
        about: POINTS_ABOUT,
        specs: POINTS_SPECS,
        // PixMo-Points released 2,376,222 rows.
        released_size: Some(2_376_222),
        reference_count: 500,
        register,
        card: card::extension,
        source: None,
    }
}

/// Registers the stages (both datasets share them).
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<stages::scene::SceneConfig>();
    registry.register::<stages::label::LabelConfig>();
}
