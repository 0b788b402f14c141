//! Counting and pointing scenes from code: N objects of many categories (shapes and simple
//! things: mugs, trees, houses, flowers, balloons, apples …) in named colours, sizes and
//! poses, with clutter, occlusion, patterned backgrounds and lighting, rendered from a seed
//! with the instance map, one checked point per instance, and referring expressions from
//! the scene graph.
//!
//! - [`shapes`]: categories as primitives in a unit frame;
//! - [`palette`]: named colours and backgrounds;
//! - [`scene`]: placement under the occlusion rule, the point rule, pixels ([`generate`]);
//! - [`queries`]: referring expressions and "not present" questions.
//!
//! Pure: no I/O; trig through `libm`; the same seed and config give the same bytes.

pub mod palette;
pub mod queries;
pub mod scene;
pub mod shapes;

pub use palette::{Background, Color};
pub use queries::{Query, QueryKind, absent_queries, present_queries};
pub use scene::{ConfigError, Instance, Scene, SceneConfig, generate};
pub use shapes::Category;

/// Version of the generator; bumped whenever the pixels or labels for a seed change.
pub const GENERATOR_VERSION: &str = "pixmo-gen-count 1";
