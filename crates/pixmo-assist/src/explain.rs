//! Point-Explanations: the annotator points first, the LLM answers citing those points.
//!
//! The LLM is shown numbered [`PointGroup`]s and asked to wrap the words that refer to a
//! group as `<point group="N">words</point>`. [`parse_explanation`] turns such a reply into
//! the released layout: `parsed_response` with one [`PLACEHOLDER`] per citation, and per
//! citation its `inline_text` (the wrapped words), `alt_text` (the group's label) and
//! `points` (the group's points, percent, one decimal). A reply in Molmo's own markup
//! (`<point x="…" y="…">`, `<points x1="…" …>`) is read with `pixmo-points`' parser and
//! accepted when every point is one the annotator gave.
//!
//! A reply that cites nothing, cites a group or point that was not given, or whose tags do
//! not close is not an error: it is a [`SendBack`], whose [`SendBack::feedback`] the app can
//! pass to [`revise_explanation`].

use pixmo_annotation_schema::common::Point;
use pixmo_llm::LlmClient;
use pixmo_points::{Percent, parse_tags, point_tag, sorted_for_text};
use serde::{Deserialize, Serialize};

use crate::ama::{Draft, Turn, ask, continue_with, opening};
use crate::context::OcrText;
use crate::error::{Error, Result};
use crate::prompts::prompts;

/// The placeholder the released `parsed_response` holds where a point tag goes.
pub const PLACEHOLDER: &str = "<|POINT|>";

/// How far (percent) a point written by the model may be from a given one and still count
/// as that point: half a printed decimal, plus rounding slack.
const SAME_POINT: f64 = 0.15;

/// Places the annotator marked that mean one thing.
#[derive(Clone, Debug, PartialEq)]
pub struct PointGroup {
    /// What the points show, as the annotator wrote it ("the red mugs").
    pub label: String,
    /// The points, in percent of the image.
    pub points: Vec<Percent>,
}

/// A reply in the released Point-Explanations layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointExplanation {
    /// The answer with one [`PLACEHOLDER`] per citation.
    pub parsed_response: String,
    /// Per citation: the `alt` text (the cited group's label).
    pub alt_text: Vec<String>,
    /// Per citation: the words of the answer that cite it.
    pub inline_text: Vec<String>,
    /// Per citation: its points, percent with one decimal.
    pub points: Vec<Vec<Point>>,
    /// Per citation: the index of the cited group in the request.
    pub groups: Vec<usize>,
}

impl PointExplanation {
    /// The answer as Molmo trains on it: each placeholder replaced, in order, by a
    /// `<point>`/`<points>` tag with `inline_text` as its body and `alt_text` as `alt`.
    #[must_use]
    pub fn to_molmo_text(&self) -> String {
        let mut out = String::with_capacity(self.parsed_response.len() * 2);
        let mut pieces = self.parsed_response.split(PLACEHOLDER);
        out.push_str(pieces.next().unwrap_or_default());
        for (i, piece) in pieces.enumerate() {
            let points: Vec<Percent> = self
                .points
                .get(i)
                .into_iter()
                .flatten()
                .filter_map(|p| Percent::new(p.x, p.y).ok())
                .collect();
            let inline = self.inline_text.get(i).map_or("", String::as_str);
            let alt = self.alt_text.get(i).map_or("", String::as_str);
            match point_tag(&points, inline, alt) {
                Some(tag) => out.push_str(&tag),
                None => out.push_str(inline),
            }
            out.push_str(piece);
        }
        out
    }
}

/// Why an answer goes back for a revision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SendBackReason {
    /// The answer is empty.
    #[error("the answer is empty")]
    Empty,
    /// The answer cites none of the marked places.
    #[error("the answer does not cite any of the marked places")]
    NoPointCited,
    /// A citation names a group that was not given.
    #[error("the answer cites group `{group}`, but only groups 1 to {given} were marked")]
    UnknownGroup {
        /// The group as written.
        group: String,
        /// How many groups were given.
        given: usize,
    },
    /// A citation has coordinates that are not among the marked points.
    #[error("the answer cites a point at ({x}, {y}) that was not marked")]
    PointNotGiven {
        /// x in percent.
        x: f64,
        /// y in percent.
        y: f64,
    },
    /// A tag is not well formed.
    #[error("the answer's point tags are malformed: {detail}")]
    Malformed {
        /// What is wrong.
        detail: String,
    },
}

/// An answer the app should send back for revision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("Answer sent back: {reason}")]
pub struct SendBack {
    /// Why.
    pub reason: SendBackReason,
}

impl SendBack {
    fn new(reason: SendBackReason) -> Self {
        Self { reason }
    }

    /// Feedback for [`revise_explanation`] that tells the model what to fix.
    #[must_use]
    pub fn feedback(&self) -> String {
        format!(
            "The answer must cite the marked places: {}. Wrap the words that refer to a marked group in <point group=\"N\">...</point> using only the listed group numbers, and write no coordinates.",
            self.reason
        )
    }
}

/// A Point-Explanations reply: the draft, and its reading or why it goes back.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    /// The model's reply with its provenance.
    pub draft: Draft,
    /// The reply in the released layout, or why it goes back.
    pub result: std::result::Result<PointExplanation, SendBack>,
}

/// Asks the model to answer `question` citing `groups`.
///
/// # Errors
/// [`Error::NoPoints`] when a group has no points or no label, and those of
/// [`crate::draft`]. A reply that breaks the citation rules is `Ok` with a [`SendBack`].
pub async fn explain(
    client: &dyn LlmClient,
    question: &str,
    ocr: &OcrText,
    caption: Option<&str>,
    groups: &[PointGroup],
) -> Result<Explained> {
    let p = prompts();
    let listing = describe_groups(groups)?;
    let messages = opening(
        &p.explain_system,
        &p.explain_question,
        question,
        ocr,
        caption,
        Some(&listing),
    )?;
    let draft = ask(client, &p.explain_question, messages).await?;
    let result = parse_explanation(&draft.text, groups);
    Ok(Explained { draft, result })
}

/// Revises the last answer of `history` following `feedback` (the annotator's, or a
/// [`SendBack::feedback`]); `history` as for [`crate::revise`].
///
/// # Errors
/// Those of [`explain`] and [`crate::revise`].
pub async fn revise_explanation(
    client: &dyn LlmClient,
    question: &str,
    ocr: &OcrText,
    caption: Option<&str>,
    groups: &[PointGroup],
    history: &[Turn],
    feedback: &str,
) -> Result<Explained> {
    let p = prompts();
    let listing = describe_groups(groups)?;
    let mut messages = opening(
        &p.explain_system,
        &p.explain_question,
        question,
        ocr,
        caption,
        Some(&listing),
    )?;
    continue_with(&mut messages, history, feedback)?;
    let draft = ask(client, &p.feedback, messages).await?;
    let result = parse_explanation(&draft.text, groups);
    Ok(Explained { draft, result })
}

/// The groups as the prompt lists them: `[1] label: (x, y), (x, y)`.
fn describe_groups(groups: &[PointGroup]) -> Result<String> {
    if groups.is_empty() {
        return Err(Error::NoPoints("none were given".into()));
    }
    let mut out = String::new();
    for (i, group) in groups.iter().enumerate() {
        let label = group.label.trim();
        if label.is_empty() || group.points.is_empty() {
            return Err(Error::NoPoints(format!(
                "group {} has {} points and label `{label}`",
                i + 1,
                group.points.len()
            )));
        }
        let points: Vec<String> = sorted_for_text(&group.points)
            .iter()
            .map(|p| format!("({:.1}, {:.1})", p.x(), p.y()))
            .collect();
        out.push_str(&format!("[{}] {label}: {}\n", i + 1, points.join(", ")));
    }
    Ok(out.trim_end().to_string())
}

fn to_schema(points: &[Percent]) -> Vec<Point> {
    sorted_for_text(points)
        .into_iter()
        .map(|p| Point { x: p.x(), y: p.y() })
        .collect()
}

/// Reads a reply citing `groups` into the released layout (see the module documentation).
///
/// # Errors
/// A [`SendBack`] naming the first rule the reply breaks.
pub fn parse_explanation(
    text: &str,
    groups: &[PointGroup],
) -> std::result::Result<PointExplanation, SendBack> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SendBack::new(SendBackReason::Empty));
    }
    let malformed = |detail: String| SendBack::new(SendBackReason::Malformed { detail });
    if text.contains(PLACEHOLDER) {
        return Err(malformed(format!(
            "it contains the reserved text `{PLACEHOLDER}`"
        )));
    }
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `text`.
    let lower = text.to_ascii_lowercase();
    let mut out = PointExplanation {
        parsed_response: String::with_capacity(text.len()),
        alt_text: Vec::new(),
        inline_text: Vec::new(),
        points: Vec::new(),
        groups: Vec::new(),
    };
    let mut pos = 0;
    while let Some(found) = lower[pos..].find("<point") {
        let start = pos + found;
        let mut name_end = start + "<point".len();
        if lower[name_end..].starts_with('s') {
            name_end += 1;
        }
        if !matches!(
            lower.as_bytes().get(name_end),
            None | Some(b' ' | b'>' | b'/' | b'\t' | b'\n')
        ) {
            // `<pointer`, `<pointy`: not a tag.
            out.parsed_response.push_str(&text[pos..name_end]);
            pos = name_end;
            continue;
        }
        let open_end = lower[name_end..]
            .find('>')
            .map(|i| name_end + i)
            .ok_or_else(|| malformed(format!("the tag at byte {start} never closes")))?;
        let attributes = &text[name_end..open_end];
        let body_start = open_end + 1;
        let close = lower[body_start..]
            .find("</point")
            .map(|i| body_start + i)
            .ok_or_else(|| {
                malformed(format!(
                    "`{}` has no closing `</point>`",
                    &text[start..=open_end]
                ))
            })?;
        let close_end = lower[close..]
            .find('>')
            .map(|i| close + i + 1)
            .ok_or_else(|| malformed(format!("the closing tag at byte {close} never ends")))?;
        let body = &text[body_start..close];
        if lower[body_start..close].contains("<point") {
            return Err(malformed("point tags are nested".into()));
        }
        let (group, points) = match group_attribute(attributes) {
            Some(written) => {
                let index = written
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=groups.len()).contains(n))
                    .ok_or_else(|| {
                        SendBack::new(SendBackReason::UnknownGroup {
                            group: written.clone(),
                            given: groups.len(),
                        })
                    })?
                    - 1;
                (index, groups[index].points.clone())
            }
            None => match_written_points(&text[start..close_end], groups)?,
        };
        let inline = body.trim();
        let label = groups[group].label.trim();
        out.parsed_response.push_str(&text[pos..start]);
        out.parsed_response.push_str(PLACEHOLDER);
        out.inline_text
            .push(if inline.is_empty() { label } else { inline }.to_string());
        out.alt_text.push(label.to_string());
        out.points.push(to_schema(&points));
        out.groups.push(group);
        pos = close_end;
    }
    out.parsed_response.push_str(&text[pos..]);
    if out.groups.is_empty() {
        return Err(SendBack::new(SendBackReason::NoPointCited));
    }
    if out.parsed_response.to_ascii_lowercase().contains("</point") {
        return Err(malformed("a closing `</point>` has no opening tag".into()));
    }
    Ok(out)
}

/// The value of a `group` attribute, quoted or not.
fn group_attribute(attributes: &str) -> Option<String> {
    let lower = attributes.to_ascii_lowercase();
    let mut search = 0;
    while let Some(found) = lower[search..].find("group") {
        let at = search + found;
        search = at + 5;
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[at + 5..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value = rest[1..].trim_start();
        let value = value.trim_start_matches(['"', '\'']);
        let end = value
            .find(|c: char| c == '"' || c == '\'' || c.is_whitespace() || c == '/')
            .unwrap_or(value.len());
        return Some(attributes[attributes.len() - value.len()..][..end].to_string());
    }
    None
}

/// A Molmo-markup tag written by the model: every point must be one the annotator gave,
/// all in one group.
fn match_written_points(
    tag: &str,
    groups: &[PointGroup],
) -> std::result::Result<(usize, Vec<Percent>), SendBack> {
    let parsed = parse_tags(tag);
    let written: Vec<Percent> = parsed.into_iter().flat_map(|t| t.points).collect();
    let Some(&first) = written.first() else {
        return Err(SendBack::new(SendBackReason::Malformed {
            detail: format!("`{tag}` names neither a group nor a point"),
        }));
    };
    let close = |a: Percent, b: Percent| {
        (a.x() - b.x()).abs() <= SAME_POINT && (a.y() - b.y()).abs() <= SAME_POINT
    };
    for (index, group) in groups.iter().enumerate() {
        let given: Vec<Percent> = group.points.iter().map(|p| p.rounded()).collect();
        let matched: Option<Vec<Percent>> = written
            .iter()
            .map(|w| {
                given
                    .iter()
                    .position(|g| close(*w, *g))
                    .map(|i| group.points[i])
            })
            .collect();
        if let Some(points) = matched {
            return Ok((index, points));
        }
    }
    let stray = written
        .iter()
        .find(|w| {
            !groups
                .iter()
                .flat_map(|g| &g.points)
                .any(|g| close(**w, g.rounded()))
        })
        .copied()
        .unwrap_or(first);
    Err(SendBack::new(SendBackReason::PointNotGiven {
        x: stray.x(),
        y: stray.y(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64, y: f64) -> Percent {
        Percent::new(x, y).unwrap()
    }

    fn groups() -> Vec<PointGroup> {
        vec![
            PointGroup {
                label: "red mugs".into(),
                points: vec![p(60.04, 20.0), p(10.0, 30.0)],
            },
            PointGroup {
                label: "price tag".into(),
                points: vec![p(80.0, 75.5)],
            },
        ]
    }

    #[test]
    fn group_citations_become_placeholders() {
        let text = "There are <point group=\"1\">two red mugs</point> on the shelf; the <POINT group='2'>price tag</POINT> says 4 EUR.";
        let e = parse_explanation(text, &groups()).unwrap();
        assert_eq!(
            e.parsed_response,
            "There are <|POINT|> on the shelf; the <|POINT|> says 4 EUR."
        );
        assert_eq!(e.inline_text, ["two red mugs", "price tag"]);
        assert_eq!(e.alt_text, ["red mugs", "price tag"]);
        assert_eq!(e.groups, [0, 1]);
        assert_eq!(
            e.points[0],
            [Point { x: 10.0, y: 30.0 }, Point { x: 60.0, y: 20.0 }]
        );
        assert_eq!(
            e.to_molmo_text(),
            "There are <points x1=\"10.0\" y1=\"30.0\" x2=\"60.0\" y2=\"20.0\" alt=\"red mugs\">two red mugs</points> on the shelf; the <point x=\"80.0\" y=\"75.5\" alt=\"price tag\">price tag</point> says 4 EUR."
        );
        // What Molmo reads back is what the annotator marked.
        let tags = pixmo_points::parse_tags(&e.to_molmo_text());
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].points.len(), 2);
        assert_eq!(tags[1].label, "price tag");
    }

    #[test]
    fn molmo_markup_with_given_points_is_accepted() {
        let text = "The <point x=\"80.0\" y=\"75.5\" alt=\"tag\">tag</point> is yellow and <points x1=\"10.0\" y1=\"30.0\" x2=\"60.0\" y2=\"20.0\">these</points> are mugs.";
        let e = parse_explanation(text, &groups()).unwrap();
        assert_eq!(e.groups, [1, 0]);
        assert_eq!(
            e.parsed_response,
            "The <|POINT|> is yellow and <|POINT|> are mugs."
        );
        assert_eq!(e.alt_text, ["price tag", "red mugs"]);
    }

    #[test]
    fn broken_answers_are_sent_back_with_a_reason() {
        let g = groups();
        let reason = |text: &str| parse_explanation(text, &g).unwrap_err().reason;
        assert_eq!(reason("  "), SendBackReason::Empty);
        assert_eq!(reason("Two mugs, one tag."), SendBackReason::NoPointCited);
        assert_eq!(
            reason("A <pointer> is not a tag."),
            SendBackReason::NoPointCited
        );
        assert_eq!(
            reason("See <point group=\"3\">this</point>."),
            SendBackReason::UnknownGroup {
                group: "3".into(),
                given: 2
            }
        );
        assert_eq!(
            reason("See <point group=\"0\">this</point>."),
            SendBackReason::UnknownGroup {
                group: "0".into(),
                given: 2
            }
        );
        assert_eq!(
            reason("See <point group=mugs>this</point>."),
            SendBackReason::UnknownGroup {
                group: "mugs".into(),
                given: 2
            }
        );
        assert_eq!(
            reason("A <point x=\"50.0\" y=\"50.0\">cat</point>."),
            SendBackReason::PointNotGiven { x: 50.0, y: 50.0 }
        );
        // Points of two different groups in one tag belong to no single group.
        assert_eq!(
            reason("<points x1=\"10.0\" y1=\"30.0\" x2=\"80.0\" y2=\"75.5\">both</points>"),
            SendBackReason::PointNotGiven { x: 10.0, y: 30.0 }
        );
        for broken in [
            "See <point group=\"1\">this",
            "See <point group=\"1\" this",
            "See <point>this</point>",
            "<point group=\"1\">a <point group=\"2\">b</point></point>",
            "the mugs</point> are red <point group=\"1\">x</point>",
            "<point group=\"1\">x</point> and <|POINT|>",
        ] {
            assert!(
                matches!(reason(broken), SendBackReason::Malformed { .. }),
                "{broken}: {:?}",
                reason(broken)
            );
        }
        let back = parse_explanation("no cite", &g).unwrap_err();
        assert!(
            back.feedback()
                .contains("does not cite any of the marked places")
        );
        assert!(back.feedback().contains("<point group=\"N\">"));
    }

    #[test]
    fn empty_inline_text_falls_back_to_the_label() {
        let e = parse_explanation("Here: <point group=\"2\"></point>.", &groups()).unwrap();
        assert_eq!(e.inline_text, ["price tag"]);
    }

    #[test]
    fn groups_are_listed_for_the_prompt() {
        assert_eq!(
            describe_groups(&groups()).unwrap(),
            "[1] red mugs: (10.0, 30.0), (60.0, 20.0)\n[2] price tag: (80.0, 75.5)"
        );
        assert!(describe_groups(&[]).is_err());
        let empty = PointGroup {
            label: "x".into(),
            points: vec![],
        };
        assert!(matches!(describe_groups(&[empty]), Err(Error::NoPoints(_))));
    }
}
