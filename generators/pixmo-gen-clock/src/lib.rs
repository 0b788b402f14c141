//! Procedural analog watch faces for PixMo-Clocks-style data: `(spec, seed) -> (pixels, truth)`.
//!
//! The official PixMo-Clocks images were rendered from facer.io watch faces and never
//! released. This crate is a pure, self-contained replacement: it draws watches and clocks as
//! SVG (case, bezel, strap, dial, numerals, sub-dials, text), rasterises the static part once
//! per face with `resvg`, draws the hands per time with `tiny-skia`, places the watch on a
//! procedural background and degrades the image like a photo. No file or network I/O, no
//! global RNG, no wall clock.
//!
//! # Use
//!
//! ```
//! use pixmo_gen_clock::{ClockRenderer, ClockTime, FaceSpec, SceneSpec};
//!
//! let face = FaceSpec::sample(7);
//! let time = ClockTime::sample(7);
//! let scene = SceneSpec::sample(7, 128);
//! let mut renderer = ClockRenderer::new();
//! let image = renderer.render(&face, time, &scene).unwrap();
//! assert_eq!(image.rgba.len(), (image.width * image.height * 4) as usize);
//! println!("{} at {time}: {:?}", face.name(), image.truth.center);
//! ```
//!
//! # What a face is made of
//!
//! * A **body** from the catalogue ([`bodies`], [`BODY_COUNT`] = 60 entries): round, cushion,
//!   tonneau, square, rectangular, octagonal and oval wristwatches with plain, diver's,
//!   tachymeter, GMT, knurled, fluted, gem-set or screwed bezels; straight, horn, integrated
//!   or wire lugs; standard, onion or guarded crowns, chronograph pushers; leather, link
//!   bracelet, jubilee, mesh, NATO and rubber straps; pocket watches (bow, chain), wall clocks,
//!   twin-bell alarm clocks and desk clocks. The case [`Material`] is picked per face.
//! * A **dial** ([`DialKind`]: Arabic, Roman, indices, sparse numerals, blank, railway,
//!   small seconds, chronograph, diver, pilot) with its texture, minute track, markers,
//!   numerals in one of the bundled fonts, sub-dials, date window and made-up brand text.
//! * **Hands** ([`HandStyle`], ten shapes) with an optional second hand ([`SecondStyle`]),
//!   central or in a small-seconds sub-dial, in a colour [`Theme`].
//!
//! # Hand angles
//!
//! Degrees clockwise from 12 on the dial, for `h` in `0..=23`:
//!
//! * hour = `30 * (h % 12) + 0.5 * m + s / 120`
//! * minute = `6 * m + 0.1 * s`
//! * second = `6 * s`
//!
//! Hands are drawn at exactly these angles; [`ClockTruth`] also gives the centre and hand
//! tips in final-image pixels, after rotation, perspective and crop.
//!
//! # Determinism
//!
//! * Every random choice comes from [`Rng`] (SplitMix64) seeded by the caller's seed and a
//!   domain tag; the same `(face, time, scene)` gives byte-identical pixels whether or not the
//!   renderer's cache was warm.
//! * Trig and other transcendental functions that decide pixels go through `libm` (the crate's
//!   `clippy.toml` bans `f64::sin` & co.), so coordinates are bit-identical across machines.
//! * Fonts are bundled (`include_bytes!`) and loaded into one font database per process;
//!   system fonts are never used.
//! * `tiny-skia` picks SIMD code paths at compile time; builds for the same target with the
//!   same target features produce identical pixels. Building with e.g. `-C target-cpu=native`
//!   may change anti-aliasing in the last bit and break golden hashes.
//! * Bump [`GENERATOR_VERSION`] whenever the pixels for an existing spec change.
//!
//! # Hiding hands
//!
//! [`ClockRenderer::render_masked`] and [`ClockRenderer::render_face_masked`] draw only the
//! hands in a [`HandMask`]; [`ClockTruth::visibility`] reports what was drawn and is inside
//! the image (PixMo-Clocks' `hour_visible` / `minute_visible` / `second_visible`).
//!
//! # Cost
//!
//! The static layer of a face (everything below the hands, text already turned into paths by
//! `usvg`) is rasterised once per face and layer size and kept in a small LRU cache keyed by
//! [`FaceSpec::face_id`], a [`LayerCache`] that the renderers of several threads may share
//! ([`ClockRenderer::with_layer_cache`]; the pipeline's workers do). A scene uses the layer size of its scene size ([`layer_size`]), so
//! every image of a face at one output size shares one layer whatever its placement; smaller
//! watches are drawn from a 2x box-filtered mip level. Per image the renderer copies the
//! cached layer, fills the hands (and crystal glare) with `tiny-skia`, paints the background
//! (at half resolution, upsampled), and runs one inverse-mapping pass (scale, rotation,
//! perspective, crop, bilinear sampling in fixed point, drop shadow), an optional separable
//! box blur and one tone/vignette/noise pass. JPEG artefacts are left to the encoder
//! ([`SceneSpec::jpeg_quality`] is advisory). `examples/bench.rs` prints the cost per phase;
//! `BENCH.md` has the measurements.
//! The passes are integer code written for the compiler to vectorise or pack (several
//! channels per machine word in 16-bit lanes: bilinear taps, box sums, 2x upsampling,
//! mip levels), they reuse the renderer's buffers from image to image, and their output is
//! bit-identical to the straightforward per-channel arithmetic they replace.

mod augment;
mod background;
mod body;
mod color;
mod error;
mod face;
mod fonts;
mod geometry;
mod hands;
mod layout;
mod palette;
mod render;
mod rng;
mod scene;
mod shape;
mod svg;
mod time;

pub use body::{
    BODY_COUNT, BezelStyle, BodyFamily, BodySpec, CaseShape, CrownStyle, LugStyle, Material,
    StrapKind, bodies, body,
};
pub use color::Color;
pub use error::RenderError;
pub use face::{
    DIAL_KINDS, DatePosition, DateWindow, DialKind, DialSpec, DialTexture, FaceNameParts, FaceSpec,
    FontChoice, HAND_STYLES, HandStyle, HandsSpec, MarkerStyle, MinuteTrack, Numerals, Orientation,
    SecondHandSpec, SecondStyle, SubDials, Theme,
};
pub use fonts::FONT_FILES;
pub use hands::HandMask;
pub use render::{
    ClockRenderer, ClockTruth, LayerCache, MAX_SIZE, MIN_SIZE, RenderStats, RenderedClock,
    Visibility, image_angle_deg, layer_size,
};
pub use rng::Rng;
pub use scene::{Background, Blur, Crop, Lighting, Noise, SceneSpec, Shadow};
pub use time::ClockTime;

/// Generator version recorded next to outputs; bump when pixels change for the same spec.
pub const GENERATOR_VERSION: &str = "pixmo-gen-clock/1";
