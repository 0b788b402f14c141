//! What annotators save: the work of a task as JSON, checked on every save (points inside
//! the image, bounded text) and strictly on submit.
//!
//! The counting-question flag is `pixmo_assist::is_counting_question` (one rule for the
//! whole project).

use pixmo_annotation_schema::Point;
use pixmo_assist::PointGroup;
use pixmo_points::Percent;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::TaskMode;

/// Longest referring expression, question or feedback, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most points in one entry.
pub const MAX_POINTS: usize = 500;
/// Most entries (labels) in one Points task.
pub const MAX_ENTRIES: usize = 100;

/// A clicked point in image pixels (origin top-left, the image's natural size).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelPoint {
    /// From the left edge.
    pub x: f64,
    /// From the top edge.
    pub y: f64,
}

/// One referring expression and every instance of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PointsEntry {
    /// The referring expression.
    pub label: String,
    /// Every instance, in pixels.
    pub points: Vec<PixelPoint>,
    /// The thing is not in the image.
    pub not_present: bool,
    /// `pointing` or `counting`.
    pub collection_method: String,
}

/// The saved work of a Points task: accepted entries and the one being edited.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PointsWork {
    /// Accepted entries.
    pub entries: Vec<PointsEntry>,
    /// The entry being edited.
    pub current: PointsEntry,
}

/// The saved work of an AskModelAnything task (the trail lives in its own table).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmaWork {
    /// The question as typed so far.
    pub question: String,
}

pub(crate) fn check_text(what: &str, text: &str) -> Result<()> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::Invalid(format!(
            "The {what} is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(())
}

/// Every point inside a `width`x`height` image, at most [`MAX_POINTS`].
fn check_points(points: &[PixelPoint], width: u32, height: u32) -> Result<()> {
    if points.len() > MAX_POINTS {
        return Err(Error::Invalid(format!(
            "An entry has {} points; at most {MAX_POINTS} are allowed",
            points.len()
        )));
    }
    for p in points {
        let inside = p.x.is_finite()
            && p.y.is_finite()
            && (0.0..=f64::from(width)).contains(&p.x)
            && (0.0..=f64::from(height)).contains(&p.y);
        if !inside {
            return Err(Error::Invalid(format!(
                "Point ({}, {}) is outside the {width}x{height} image",
                p.x, p.y
            )));
        }
    }
    Ok(())
}

impl PointsEntry {
    fn check(&self, width: u32, height: u32, strict: bool) -> Result<()> {
        check_text("label", &self.label)?;
        check_points(&self.points, width, height)?;
        if !matches!(
            self.collection_method.as_str(),
            "" | "pointing" | "counting"
        ) {
            return Err(Error::Invalid(format!(
                "Unknown collection method `{}`; expected `pointing` or `counting`",
                self.collection_method
            )));
        }
        if strict {
            if self.label.trim().is_empty() {
                return Err(Error::Invalid(
                    "An entry has no referring expression".into(),
                ));
            }
            if self.not_present && !self.points.is_empty() {
                return Err(Error::Invalid(format!(
                    "`{}` is marked not present but has points",
                    self.label
                )));
            }
            if !self.not_present && self.points.is_empty() {
                return Err(Error::Invalid(format!(
                    "`{}` has no points; click every instance or mark it not present",
                    self.label
                )));
            }
        }
        Ok(())
    }

    /// The points in the schema's percent convention (0–100, one decimal).
    #[must_use]
    pub fn percent_points(&self, width: u32, height: u32) -> Vec<Point> {
        self.points
            .iter()
            .map(|p| Point::from_pixels(p.x, p.y, width, height))
            .collect()
    }

    /// The collection method, the task's mode when the entry does not say.
    #[must_use]
    pub fn method(&self, mode: TaskMode) -> &str {
        if self.collection_method.is_empty() {
            mode.as_str()
        } else {
            &self.collection_method
        }
    }
}

impl PointsWork {
    /// Parses and checks saved work: every point inside a `width`x`height` image, bounded
    /// sizes; with `strict` (submit), every entry complete.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the problem.
    pub fn parse(json: &str, width: u32, height: u32, strict: bool) -> Result<PointsWork> {
        let work: PointsWork = serde_json::from_str(json)
            .map_err(|e| Error::Invalid(format!("Points work is not valid: {e}")))?;
        if work.entries.len() > MAX_ENTRIES {
            return Err(Error::Invalid(format!(
                "At most {MAX_ENTRIES} labels per image"
            )));
        }
        for entry in &work.entries {
            entry.check(width, height, strict)?;
        }
        work.current.check(width, height, false)?;
        if strict {
            // What is exported: the accepted entries and a labelled current one.
            for entry in work.finished() {
                entry.check(width, height, true)?;
            }
        }
        Ok(work)
    }

    /// The finished entries: the accepted ones plus the current one when it has a label.
    #[must_use]
    pub fn finished(&self) -> Vec<PointsEntry> {
        let mut all = self.entries.clone();
        if !self.current.label.trim().is_empty() {
            all.push(self.current.clone());
        }
        all
    }
}

/// Places the annotator marked for a Point-Explanations question that mean one thing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExplanationGroup {
    /// What the points show ("the red mugs").
    pub label: String,
    /// The points, in pixels.
    pub points: Vec<PixelPoint>,
}

/// The saved work of a Point-Explanations task: the question and the marked places (the
/// trail lives in its own table).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExplanationWork {
    /// The question as typed so far.
    pub question: String,
    /// Accepted groups, numbered from 1 in the prompt.
    pub groups: Vec<ExplanationGroup>,
    /// The group being marked.
    pub current: ExplanationGroup,
}

impl ExplanationWork {
    /// Parses and checks saved work: bounded text, every point inside a `width`x`height`
    /// image; with `strict` (asking the model), a question and at least one group, each
    /// with a label and a point.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the problem.
    pub fn parse(json: &str, width: u32, height: u32, strict: bool) -> Result<ExplanationWork> {
        let work: ExplanationWork = serde_json::from_str(json)
            .map_err(|e| Error::Invalid(format!("Point-Explanations work is not valid: {e}")))?;
        check_text("question", &work.question)?;
        if work.groups.len() > MAX_ENTRIES {
            return Err(Error::Invalid(format!(
                "At most {MAX_ENTRIES} groups of points per question"
            )));
        }
        for group in work.groups.iter().chain([&work.current]) {
            check_text("label", &group.label)?;
            check_points(&group.points, width, height)?;
        }
        if strict {
            if work.question.trim().is_empty() {
                return Err(Error::Invalid("Write a question first".into()));
            }
            let groups = work.finished();
            if groups.is_empty() {
                return Err(Error::Invalid(
                    "Mark the places the answer must cite first: click them and name them".into(),
                ));
            }
            for (i, group) in groups.iter().enumerate() {
                if group.label.trim().is_empty() {
                    return Err(Error::Invalid(format!(
                        "Group {} has no label; say what its points show",
                        i + 1
                    )));
                }
                if group.points.is_empty() {
                    return Err(Error::Invalid(format!(
                        "`{}` has no points; click the places it names",
                        group.label.trim()
                    )));
                }
            }
        }
        Ok(work)
    }

    /// The finished groups: the accepted ones plus the current one when it has a label or
    /// points.
    #[must_use]
    pub fn finished(&self) -> Vec<ExplanationGroup> {
        let mut all = self.groups.clone();
        if !self.current.label.trim().is_empty() || !self.current.points.is_empty() {
            all.push(self.current.clone());
        }
        all
    }

    /// The work as it is asked about: trimmed question, finished groups, nothing current.
    #[must_use]
    pub fn settled(&self) -> ExplanationWork {
        ExplanationWork {
            question: self.question.trim().to_string(),
            groups: self
                .finished()
                .into_iter()
                .map(|g| ExplanationGroup {
                    label: g.label.trim().to_string(),
                    points: g.points,
                })
                .collect(),
            current: ExplanationGroup::default(),
        }
    }

    /// The finished groups as the LLM sees them: percent of a `width`x`height` image (one
    /// decimal, the schema's convention) with their labels.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a point outside the image.
    pub fn point_groups(&self, width: u32, height: u32) -> Result<Vec<PointGroup>> {
        self.finished()
            .iter()
            .map(|g| {
                let points = g
                    .points
                    .iter()
                    .map(|p| {
                        let q = Point::from_pixels(p.x, p.y, width, height);
                        Percent::new(q.x, q.y).map_err(|e| Error::Invalid(e.to_string()))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(PointGroup {
                    label: g.label.trim().to_string(),
                    points,
                })
            })
            .collect()
    }
}

impl AmaWork {
    /// Parses and checks saved AskModelAnything work.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the problem.
    pub fn parse(json: &str) -> Result<AmaWork> {
        let work: AmaWork = serde_json::from_str(json)
            .map_err(|e| Error::Invalid(format!("Question work is not valid: {e}")))?;
        check_text("question", &work.question)?;
        Ok(work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_outside_the_image_are_refused() {
        let ok = r#"{"entries":[],"current":{"label":"cup","points":[{"x":0,"y":10}]}}"#;
        assert!(PointsWork::parse(ok, 10, 10, false).is_ok());
        let bad = r#"{"current":{"points":[{"x":10.5,"y":1}]}}"#;
        let err = PointsWork::parse(bad, 10, 10, false).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        assert!(
            PointsWork::parse(r#"{"current":{"points":[{"x":-1,"y":1}]}}"#, 10, 10, false).is_err()
        );
        assert!(PointsWork::parse(r#"{"bogus":1}"#, 10, 10, false).is_err());
    }

    #[test]
    fn submit_needs_complete_entries() {
        let empty = r#"{"entries":[{"label":"cup"}]}"#;
        assert!(PointsWork::parse(empty, 10, 10, true).is_err());
        let absent = r#"{"entries":[{"label":"cup","not_present":true}]}"#;
        assert!(PointsWork::parse(absent, 10, 10, true).is_ok());
        let unfinished = r#"{"entries":[],"current":{"label":"cup"}}"#;
        assert!(PointsWork::parse(unfinished, 10, 10, true).is_err());
        assert!(PointsWork::parse(unfinished, 10, 10, false).is_ok());
    }

    #[test]
    fn explanation_work_needs_a_question_and_named_groups_to_ask() {
        let draft = r#"{"question":"","current":{"points":[{"x":1,"y":2}]}}"#;
        assert!(ExplanationWork::parse(draft, 10, 10, false).is_ok());
        let err = ExplanationWork::parse(draft, 10, 10, true).unwrap_err();
        assert!(err.to_string().contains("question"), "{err}");
        let unnamed = r#"{"question":"Why?","current":{"points":[{"x":1,"y":2}]}}"#;
        let err = ExplanationWork::parse(unnamed, 10, 10, true).unwrap_err();
        assert!(err.to_string().contains("no label"), "{err}");
        let pointless = r#"{"question":"Why?","groups":[{"label":"cup"}]}"#;
        let err = ExplanationWork::parse(pointless, 10, 10, true).unwrap_err();
        assert!(err.to_string().contains("no points"), "{err}");
        let none = r#"{"question":"Why?"}"#;
        let err = ExplanationWork::parse(none, 10, 10, true).unwrap_err();
        assert!(err.to_string().contains("Mark the places"), "{err}");
        let outside = r#"{"question":"Why?","groups":[{"label":"cup","points":[{"x":11,"y":2}]}]}"#;
        let err = ExplanationWork::parse(outside, 10, 10, false).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        let ok = r#"{"question":" Why? ","groups":[{"label":" cup ","points":[{"x":3.33,"y":10}]}],"current":{"label":"tag","points":[{"x":0,"y":0}]}}"#;
        let work = ExplanationWork::parse(ok, 10, 20, true).unwrap();
        let settled = work.settled();
        assert_eq!(settled.question, "Why?");
        assert_eq!(settled.groups.len(), 2);
        assert_eq!(settled.groups[0].label, "cup");
        let groups = settled.point_groups(10, 20).unwrap();
        assert_eq!(
            (groups[0].points[0].x(), groups[0].points[0].y()),
            (33.3, 50.0)
        );
        assert_eq!(groups[1].label, "tag");
    }

    #[test]
    fn percent_uses_the_schema_convention() {
        let entry = PointsEntry {
            points: vec![PixelPoint { x: 33.0, y: 0.0 }],
            ..PointsEntry::default()
        };
        assert_eq!(
            entry.percent_points(200, 100),
            vec![Point { x: 16.5, y: 0.0 }]
        );
    }
}
