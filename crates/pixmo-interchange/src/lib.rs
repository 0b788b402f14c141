//! Task files for outside annotation tools, and their exports read back.
//!
//! PixMo-Count's val/test sets were checked by people (issue 12 §2): candidates made by a
//! detector go to annotators, who accept them, correct the points or reject the image. Teams
//! that already run Label Studio or CVAT can do that there:
//!
//! - [`label_studio`]: tasks JSON with the candidate points as `predictions` of
//!   `keypointlabels` (x/y in percent of `original_width`/`original_height`), a matching
//!   labeling config, and the JSON export read back (`annotations[].result[]` with
//!   `keypointlabels` and a `choices` verdict, `was_cancelled`, `completed_by`).
//! - [`cvat`]: "CVAT for images 1.1" XML with one `<points>` shape per image (pixels) and
//!   tag labels for the verdict, and CVAT's XML export read back.
//!
//! - [`label_studio::import_points`], [`cvat::import_points`], [`coco::import_keypoints`]:
//!   existing point annotations from those tools (and COCO keypoints) as PixMo-Points rows
//!   ([`Import`]: rows per image and label in pixels, and rejects with a kind and reason).
//!
//! Both verification readers return one [`Verdict`] per annotation: the image, what was decided
//! ([`Decision`]), the final points in pixels with which candidates were kept, removed or
//! added, the annotator and the time. Malformed files are errors that name the task,
//! annotation, result or XML element at fault.

mod candidate;
pub mod coco;
pub mod cvat;
mod error;
mod import;
pub mod label_studio;
mod verdict;

pub use candidate::{Candidate, check_candidates};
pub use error::{Error, Result};
pub use import::{Import, ImportReject, ImportedPoints, RejectKind};
pub use pixmo_points::{ImageSize, Pixel};
pub use verdict::{Decision, Tool, Verdict, VerdictOptions};
