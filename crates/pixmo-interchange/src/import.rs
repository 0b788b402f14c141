//! Existing point annotations from other tools, as rows for PixMo-Points (issue 11 §3).
//!
//! Each reader ([`crate::label_studio::import_points`], [`crate::cvat::import_points`],
//! [`crate::coco::import_keypoints`]) turns a file into one [`ImportedPoints`] per image and
//! label (the points of every instance, in pixels), checked the same way here: a label must
//! not be empty, every point must lie inside the image, and no point may repeat. What fails
//! a check is an [`ImportReject`] with a kind and a reason, never silently dropped; only a
//! file that cannot be read at all is an error.

use pixmo_points::{ImageSize, Pixel};

/// Two points closer than this (pixels) are the same click twice.
const DUPLICATE_PX: f64 = 0.5;

/// One image's points for one label.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedPoints {
    /// Where in the file it came from (task and annotation, or element).
    pub at: String,
    /// The image as the file names it (Label Studio `data.image`, CVAT image name, COCO
    /// `file_name`).
    pub image: String,
    /// Image size in pixels.
    pub size: ImageSize,
    /// The label (referring expression).
    pub label: String,
    /// The points, in pixels, in file order.
    pub points: Vec<Pixel>,
    /// Who annotated, when the file says.
    pub annotator: Option<String>,
}

/// Why part of a file was not imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectKind {
    /// The image's size is missing or not a pixel count.
    BadImageSize,
    /// A point is outside the image or not a number.
    PointOutsideImage,
    /// The label is empty.
    EmptyLabel,
    /// The same point twice in one label's points.
    DuplicatePoint,
    /// A shape or result that is not a point (boxes, polygons...).
    UnsupportedShape,
    /// The annotation was skipped in the tool.
    Cancelled,
    /// A record lacks a field the format requires, or refers to one that does not exist.
    Malformed,
}

impl RejectKind {
    /// The kind as a snake_case name (for rejects tables).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RejectKind::BadImageSize => "bad_image_size",
            RejectKind::PointOutsideImage => "point_outside_image",
            RejectKind::EmptyLabel => "empty_label",
            RejectKind::DuplicatePoint => "duplicate_point",
            RejectKind::UnsupportedShape => "unsupported_shape",
            RejectKind::Cancelled => "cancelled",
            RejectKind::Malformed => "malformed",
        }
    }
}

/// Part of a file that was not imported.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportReject {
    /// Where in the file.
    pub at: String,
    /// The image, when known.
    pub image: String,
    /// What kind of problem.
    pub kind: RejectKind,
    /// What exactly.
    pub reason: String,
}

/// What a file gave: rows and rejects, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Import {
    /// Rows that passed the checks.
    pub rows: Vec<ImportedPoints>,
    /// Everything that did not.
    pub rejects: Vec<ImportReject>,
}

/// A row before the checks: points as read.
pub(crate) struct RowDraft {
    pub at: String,
    pub image: String,
    pub size: ImageSize,
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub annotator: Option<String>,
}

impl Import {
    pub(crate) fn reject(
        &mut self,
        at: &str,
        image: &str,
        kind: RejectKind,
        reason: impl Into<String>,
    ) {
        self.rejects.push(ImportReject {
            at: at.to_string(),
            image: image.to_string(),
            kind,
            reason: reason.into(),
        });
    }

    /// Checks a row and keeps it, or records why not.
    pub(crate) fn add(&mut self, row: RowDraft) {
        let label = row.label.trim();
        if label.is_empty() {
            self.reject(
                &row.at,
                &row.image,
                RejectKind::EmptyLabel,
                "the label is empty",
            );
            return;
        }
        let mut points: Vec<Pixel> = Vec::with_capacity(row.points.len());
        for (i, &(x, y)) in row.points.iter().enumerate() {
            let point = match Pixel::new(x, y, row.size) {
                Ok(point) => point,
                Err(e) => {
                    let reason = format!(
                        "point {} ({x}, {y}) is outside the {}x{} image: {e}",
                        i + 1,
                        row.size.width(),
                        row.size.height()
                    );
                    self.reject(&row.at, &row.image, RejectKind::PointOutsideImage, reason);
                    return;
                }
            };
            if let Some(j) = points.iter().position(|p| p.distance(point) < DUPLICATE_PX) {
                let reason = format!("point {} repeats point {} ({x}, {y})", i + 1, j + 1);
                self.reject(&row.at, &row.image, RejectKind::DuplicatePoint, reason);
                return;
            }
            points.push(point);
        }
        self.rows.push(ImportedPoints {
            at: row.at,
            image: row.image,
            size: row.size,
            label: label.to_string(),
            points,
            annotator: row.annotator,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(label: &str, points: Vec<(f64, f64)>) -> RowDraft {
        RowDraft {
            at: "here".into(),
            image: "a.png".into(),
            size: ImageSize::new(100, 50).unwrap(),
            label: label.into(),
            points,
            annotator: None,
        }
    }

    #[test]
    fn rows_are_checked() {
        let mut import = Import::default();
        import.add(draft(" cup ", vec![(1.0, 2.0), (99.0, 49.0)]));
        import.add(draft("  ", vec![(1.0, 2.0)]));
        import.add(draft("cup", vec![(1.0, 2.0), (101.0, 2.0)]));
        import.add(draft("cup", vec![(1.0, 2.0), (1.2, 2.1)]));
        import.add(draft("cup", vec![(f64::NAN, 2.0)]));
        assert_eq!(import.rows.len(), 1);
        assert_eq!(import.rows[0].label, "cup");
        let kinds: Vec<&str> = import.rejects.iter().map(|r| r.kind.name()).collect();
        assert_eq!(
            kinds,
            [
                "empty_label",
                "point_outside_image",
                "duplicate_point",
                "point_outside_image"
            ]
        );
        assert_eq!(
            import.rejects[2].reason,
            "point 2 repeats point 1 (1.2, 2.1)"
        );
    }
}
