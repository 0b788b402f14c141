//! Counting and pointing scenes from code: N objects of many categories (shapes and simple
//! things: mugs, trees, houses, flowers, balloons, apples …) in named colours, sizes and
//! poses, with clutter, occlusion, patterned backgrounds and lighting, rendered from a seed
//! with the instance map, one checked point per instance, and referring expressions from
//! the scene graph.
//!
//! - [`shapes`]: categories as primitives in a unit frame;
//! - [`palette`]: named colours and backgrounds;
//! - [`scene`]: placement under the occlusion rule, the point rule, pixels ([`generate`]);
//! - [`mask`]: every instance's visible mask, COCO run-length encoded;
//! - [`queries`]: referring expressions (categories, colours, superlatives, spatial
//!   relations to a unique reference object) and "not present" questions.
//!
//! Pure: no I/O; trig through `libm`; the same seed and config give the same bytes.

pub mod mask;
pub mod palette;
pub mod queries;
pub mod scene;
pub mod shapes;

pub use mask::Rle;
pub use palette::{Background, Color};
pub use queries::{Query, QueryKind, Relation, absent_queries, present_queries, references};
pub use scene::{ConfigError, Instance, Scene, SceneConfig, generate};
pub use shapes::Category;

/// Version of the generator; bumped whenever the pixels or labels for a seed change
/// (2: visible masks and boxes in the scene graph, spatial expressions; pixels unchanged).
pub const GENERATOR_VERSION: &str = "pixmo-gen-count 2";
