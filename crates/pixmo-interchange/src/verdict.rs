//! What comes back: one verdict per annotation, decided the same way for both tools.
//!
//! A verdict word (a Label Studio choice, a CVAT tag) from [`VerdictOptions::reject`]
//! rejects the image. Otherwise the annotator's final points are matched to the candidates
//! (pairs closest first, each point used once, within [`VerdictOptions::tolerance_px`]):
//! all matched both ways is [`Decision::Accepted`], anything moved, removed or added is
//! [`Decision::Corrected`]. A skipped task is [`Decision::Skipped`].

use pixmo_points::Pixel;

use crate::candidate::Candidate;

/// The tool a verdict came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    /// Label Studio.
    LabelStudio,
    /// CVAT.
    Cvat,
}

impl Tool {
    /// The tool's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Tool::LabelStudio => "Label Studio",
            Tool::Cvat => "CVAT",
        }
    }
}

/// What the annotator decided about an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The candidate points are right as they are.
    Accepted,
    /// The annotator moved, removed or added points; [`Verdict::points`] are the right ones.
    Corrected,
    /// The image is wrong for the task (wrong label, unusable); no points.
    Rejected,
    /// The annotator skipped the task.
    Skipped,
}

/// How verdicts are read.
#[derive(Clone, Debug, PartialEq)]
pub struct VerdictOptions {
    /// Verdict words that accept (compared case-insensitively).
    pub accept: Vec<String>,
    /// Verdict words that reject.
    pub reject: Vec<String>,
    /// Largest distance, in pixels, at which a final point still is the candidate it
    /// matches.
    pub tolerance_px: f64,
}

impl Default for VerdictOptions {
    fn default() -> Self {
        Self {
            accept: vec!["correct".into()],
            reject: vec!["wrong".into()],
            tolerance_px: 2.0,
        }
    }
}

/// Whether a verdict word accepts or rejects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Word {
    Accept,
    Reject,
}

impl VerdictOptions {
    /// The meaning of `word`, `None` when it is neither.
    pub(crate) fn word(&self, word: &str) -> Option<Word> {
        let word = word.trim();
        let is = |list: &[String]| list.iter().any(|w| w.eq_ignore_ascii_case(word));
        if is(&self.reject) {
            Some(Word::Reject)
        } else if is(&self.accept) {
            Some(Word::Accept)
        } else {
            None
        }
    }

    /// Every verdict word, for messages.
    pub(crate) fn words(&self) -> String {
        self.accept
            .iter()
            .chain(&self.reject)
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One annotation of one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The tool.
    pub tool: Tool,
    /// The tool's id of the task (Label Studio task id, CVAT image id).
    pub task: String,
    /// pixmo's image id.
    pub image_id: String,
    /// The label that was verified.
    pub label: String,
    /// What was decided.
    pub decision: Decision,
    /// The final points in pixels (empty when rejected or skipped).
    pub points: Vec<Pixel>,
    /// Candidate points the annotator kept (candidate positions).
    pub accepted: Vec<Pixel>,
    /// Candidate points the annotator removed or moved beyond the tolerance.
    pub removed: Vec<Pixel>,
    /// Points the annotator added (final positions).
    pub added: Vec<Pixel>,
    /// Who annotated (Label Studio `completed_by` user id, its e-mail only when the id is
    /// missing; CVAT assignee or owner user name), when the export says.
    pub annotator: Option<String>,
    /// When, as the tool wrote it (Label Studio `updated_at`/`created_at`, CVAT `dumped`).
    pub time: Option<String>,
    /// Seconds spent (Label Studio `lead_time`).
    pub lead_time_s: Option<f64>,
}

/// The decision and point sets for an annotation.
pub(crate) struct Outcome {
    pub decision: Decision,
    pub points: Vec<Pixel>,
    pub accepted: Vec<Pixel>,
    pub removed: Vec<Pixel>,
    pub added: Vec<Pixel>,
}

pub(crate) fn decide(
    candidate: &Candidate,
    word: Option<Word>,
    cancelled: bool,
    points: Vec<Pixel>,
    options: &VerdictOptions,
) -> Outcome {
    if cancelled || word == Some(Word::Reject) {
        return Outcome {
            decision: if cancelled {
                Decision::Skipped
            } else {
                Decision::Rejected
            },
            points: Vec::new(),
            accepted: Vec::new(),
            removed: Vec::new(),
            added: Vec::new(),
        };
    }
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, c) in candidate.points.iter().enumerate() {
        for (j, p) in points.iter().enumerate() {
            let d = c.distance(*p);
            if d <= options.tolerance_px {
                pairs.push((d, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_candidate = vec![false; candidate.points.len()];
    let mut used_final = vec![false; points.len()];
    for (_, i, j) in pairs {
        if !used_candidate[i] && !used_final[j] {
            used_candidate[i] = true;
            used_final[j] = true;
        }
    }
    let pick = |list: &[Pixel], used: &[bool], want: bool| -> Vec<Pixel> {
        list.iter()
            .zip(used)
            .filter(|(_, u)| **u == want)
            .map(|(p, _)| *p)
            .collect()
    };
    let accepted = pick(&candidate.points, &used_candidate, true);
    let removed = pick(&candidate.points, &used_candidate, false);
    let added = pick(&points, &used_final, false);
    let decision = if removed.is_empty() && added.is_empty() {
        Decision::Accepted
    } else {
        Decision::Corrected
    };
    Outcome {
        decision,
        points,
        accepted,
        removed,
        added,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixmo_points::ImageSize;

    fn candidate() -> Candidate {
        let size = ImageSize::new(100, 100).unwrap();
        Candidate {
            image_id: "a".into(),
            image: "a.png".into(),
            size,
            label: "cup".into(),
            points: vec![
                Pixel::new(10.0, 10.0, size).unwrap(),
                Pixel::new(50.0, 50.0, size).unwrap(),
            ],
        }
    }

    fn px(x: f64, y: f64) -> Pixel {
        Pixel::new(x, y, ImageSize::new(100, 100).unwrap()).unwrap()
    }

    #[test]
    fn decisions() {
        let o = VerdictOptions::default();
        let c = candidate();
        let same = decide(&c, None, false, vec![px(50.5, 50.0), px(10.0, 11.0)], &o);
        assert_eq!(same.decision, Decision::Accepted);
        assert_eq!(same.accepted.len(), 2);

        let moved = decide(
            &c,
            Some(Word::Accept),
            false,
            vec![px(10.0, 10.0), px(70.0, 50.0)],
            &o,
        );
        assert_eq!(moved.decision, Decision::Corrected);
        assert_eq!(moved.removed, [px(50.0, 50.0)]);
        assert_eq!(moved.added, [px(70.0, 50.0)]);

        let fewer = decide(&c, None, false, vec![px(10.0, 10.0)], &o);
        assert_eq!(fewer.decision, Decision::Corrected);
        assert_eq!(fewer.removed.len(), 1);

        let wrong = decide(&c, Some(Word::Reject), false, c.points.clone(), &o);
        assert_eq!(wrong.decision, Decision::Rejected);
        assert!(wrong.points.is_empty());
        assert_eq!(
            decide(&c, None, true, vec![], &o).decision,
            Decision::Skipped
        );

        assert_eq!(o.word(" Correct "), Some(Word::Accept));
        assert_eq!(o.word("WRONG"), Some(Word::Reject));
        assert_eq!(o.word("maybe"), None);
    }
}
