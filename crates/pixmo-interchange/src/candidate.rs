//! What goes out: one image with its candidate points.

use std::collections::HashSet;

use pixmo_points::{ImageSize, Pixel};

use crate::error::{Error, Result};

/// One image to verify: a label and its candidate points in pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// pixmo's id of the image (unique in one export); comes back in every verdict.
    pub image_id: String,
    /// Where the tool finds the image: a URL or path for Label Studio's `data.image`, the
    /// image's file name in the CVAT task.
    pub image: String,
    /// Image size in pixels.
    pub size: ImageSize,
    /// What was counted ("cup").
    pub label: String,
    /// The candidate points, in pixels of the image.
    pub points: Vec<Pixel>,
}

impl Candidate {
    fn error(&self, message: impl Into<String>) -> Error {
        Error::Candidate {
            image_id: self.image_id.clone(),
            message: message.into(),
        }
    }

    /// Checks one candidate: non-empty id, image and label, points inside the image.
    ///
    /// # Errors
    /// [`Error::Candidate`] naming the problem.
    pub fn check(&self) -> Result<()> {
        if self.image_id.trim().is_empty() {
            return Err(self.error("the image id is empty"));
        }
        if self.image.trim().is_empty() {
            return Err(self.error("the image reference is empty"));
        }
        if self.label.trim().is_empty() {
            return Err(self.error("the label is empty"));
        }
        if self.label.contains(['\n', '\r', '\t']) {
            return Err(self.error(format!(
                "the label `{}` holds a control character",
                self.label
            )));
        }
        for (i, p) in self.points.iter().enumerate() {
            Pixel::new(p.x(), p.y(), self.size).map_err(|e| {
                self.error(format!(
                    "point {} ({}, {}) is outside the {}x{} image: {e}",
                    i + 1,
                    p.x(),
                    p.y(),
                    self.size.width(),
                    self.size.height()
                ))
            })?;
        }
        Ok(())
    }
}

/// Checks every candidate and that image ids and image references are unique.
///
/// # Errors
/// [`Error::Candidate`] for the first problem.
pub fn check_candidates(candidates: &[Candidate]) -> Result<()> {
    let mut ids = HashSet::new();
    let mut images = HashSet::new();
    for c in candidates {
        c.check()?;
        if !ids.insert(c.image_id.as_str()) {
            return Err(c.error("the image id appears twice"));
        }
        if !images.insert(c.image.as_str()) {
            return Err(c.error(format!("the image `{}` appears twice", c.image)));
        }
    }
    Ok(())
}
