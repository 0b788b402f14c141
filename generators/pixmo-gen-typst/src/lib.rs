//! Tables and documents for PixMo-Docs-style data, rendered with typst as a library:
//! `(kind, seed) -> (pixels, typst code, data, exact QA)`.
//!
//! Two layers:
//!
//! * [`render_typst`] renders a typst source in a sandbox world: no file or network access, a
//!   deadline, size caps, typed errors carrying typst's diagnostics, and the laid-out text of
//!   the page for checking what was drawn. Untrusted (LLM-written) sources go through
//!   [`render_typst_here`] inside a worker process with OS limits (`pixmo-sandbox`): typst
//!   itself cannot bound their memory or loops.
//! * [`generate`] samples a document of a [`DocKind`] from seeded banks (structured
//!   [`DocData`] + a random [`Style`]), writes its typst code, renders it and computes
//!   question-answer pairs ([`Qa`]) from the data, then checks that every drawn value and every
//!   extractive answer appears in the laid-out text.
//!
//! ```no_run
//! use pixmo_gen_typst::{DocKind, GenerateOptions, generate};
//!
//! let sample = generate(DocKind::Invoice, 7, &GenerateOptions::default()).unwrap();
//! println!("{} {}x{}", sample.topic, sample.image.width, sample.image.height);
//! for qa in &sample.qa {
//!     println!("{:?}: {} -> {}", qa.kind, qa.question, qa.answer);
//! }
//! ```
//!
//! Pure: no file or network I/O, no global RNG, no wall clock; fonts are compiled in.

mod banks;
mod error;
mod fonts;
mod generate;
mod model;
mod qa;
mod render;
mod style;
mod table;
mod templates;
mod typ;
mod world;

pub use error::{Error, Result};
pub use fonts::{FONT_FILES, FontFamily};
pub use generate::{DocKind, DocSample, GenerateOptions, generate, kind_names};
pub use model::{Cell, Column, DocData, Field, ListData, TableData};
pub use qa::{Qa, QaKind, QaProgram, REFUSAL};
pub use render::{
    HiddenText, RenderOptions, RenderedDoc, TextRun, render_typst, render_typst_here,
};
pub use style::{HeaderStyle, PageSize, Palette, Style, TableStyle};
pub use typ::{NumFormat, lit};

/// Generator version recorded next to outputs; bump when pixels or QA change for a seed.
pub const GENERATOR_VERSION: &str = "pixmo-gen-typst/2";
