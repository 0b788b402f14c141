//! Molmo's point formats, in one place for the pipelines, the evaluations and the trainer.
//!
//! - [`coords`]: the coordinate conventions (percent, pixels, Molmo2's 0–1000 grid) as
//!   distinct types, converted only through the image size.
//! - [`write`]: Molmo v1 `<point>`/`<points>` markup (percent, one decimal, sorted left to
//!   right then top to bottom), Molmo2 `coords` markup, and the pointing and counting
//!   answers (`Counting the … shows a total of N.`, `There are none.`).
//! - [`parse`]: reads both markups back from any text, including a model's broken output,
//!   without failing or panicking.
//! - [`words`]: the number words (`zero` … `twenty`) that count answers are read with.
//!
//! ```
//! use pixmo_points::{Percent, counting_answer, extract_points};
//! let cups = [Percent::new(50.0, 10.0).unwrap(), Percent::new(10.5, 90.0).unwrap()];
//! let text = counting_answer(&cups, "cups");
//! assert_eq!(
//!     text,
//!     "Counting the <points x1=\"10.5\" y1=\"90.0\" x2=\"50.0\" y2=\"10.0\" alt=\"cups\">cups</points> shows a total of 2."
//! );
//! assert_eq!(extract_points(&text).len(), 2);
//! ```

pub mod coords;
pub mod parse;
pub mod words;
pub mod write;

pub use coords::{CoordError, Grid1000, ImageSize, Percent, Pixel};
pub use parse::{Format, PointTag, extract_points, parse_tags};
pub use words::{NUMBER_WORDS, number_word_value};
pub use write::{
    NONE_SENTENCE, coords_tag, counting_answer, point_tag, pointing_answer, sorted_for_text,
};
