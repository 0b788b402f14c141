//! Integration tests for `pixmo-gen-count`, gathered in one binary.

mod golden;
mod relations;
mod scenes;

use pixmo_gen_count::SceneConfig;

/// The scene configuration most tests use: 256 px, up to 10 clutter objects, 60 % visible.
pub fn config(target_count: u32) -> SceneConfig {
    SceneConfig {
        size: 256,
        target_count,
        max_clutter: 10,
        min_visible: 0.6,
    }
}
