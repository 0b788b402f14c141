//! CVAT: "CVAT for images 1.1" annotations with pre-filled points out, CVAT's XML back in.
//!
//! The format as CVAT documents it (site/content/en/docs/manual/advanced/xml_format.md,
//! "XML annotation format", version 1.1, annotation mode): `<annotations>` holds
//! `<version>1.1</version>`, a `<meta>` with the `<task>` (name, size, mode, labels with
//! attributes, owner, assignee) and `<dumped>` time, then one `<image id name width
//! height>` per image holding shapes; a points shape is `<points label="…" source="…"
//! occluded="0" points="x0,y0;x1,y1;…" z_order="0">` in pixels (CVAT writes two decimals),
//! an image-level label is `<tag label="…" source="manual">`, and both may hold
//! `<attribute name="…">value</attribute>` children.
//!
//! The file pixmo writes is uploaded as annotations to a CVAT task made from the same
//! images (matched by file name). The verdict is a tag whose label is a verdict word
//! (`correct`, `wrong`), or a `verdict` attribute on the tag or the points; the points the
//! annotator leaves are the final ones.

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use pixmo_points::Pixel;

use crate::candidate::{Candidate, check_candidates};
use crate::error::{Error, Result};
use crate::verdict::{Tool, Verdict, VerdictOptions, Word, decide};

/// Settings of the CVAT task file.
#[derive(Clone, Debug, PartialEq)]
pub struct CvatOptions {
    /// Task name written into `<meta>`.
    pub task_name: String,
    /// Name of the attribute that may carry the verdict on a tag or points shape.
    pub verdict_attribute: String,
    /// How verdicts are read.
    pub verdict: VerdictOptions,
}

impl Default for CvatOptions {
    fn default() -> Self {
        Self {
            task_name: "pixmo count verification".into(),
            verdict_attribute: "verdict".into(),
            verdict: VerdictOptions::default(),
        }
    }
}

const TOOL: &str = "CVAT";

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The annotations file: one `<image>` per candidate (ids in candidate order) with its
/// candidate points as one `<points>` shape, and the verdict words as tag labels.
///
/// # Errors
/// [`Error::Candidate`] for an invalid or repeated candidate.
pub fn write_annotations(candidates: &[Candidate], options: &CvatOptions) -> Result<String> {
    check_candidates(candidates)?;
    let mut labels: Vec<&str> = Vec::new();
    for c in candidates {
        if !labels.contains(&c.label.as_str()) {
            labels.push(&c.label);
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotations>\n");
    out.push_str("  <version>1.1</version>\n  <meta>\n    <task>\n");
    out.push_str(&format!(
        "      <name>{}</name>\n      <size>{}</size>\n      <mode>annotation</mode>\n      <overlap>0</overlap>\n      <flipped>False</flipped>\n      <labels>\n",
        escape(&options.task_name),
        candidates.len()
    ));
    for label in &labels {
        out.push_str(&format!(
            "        <label>\n          <name>{}</name>\n          <type>points</type>\n          <attributes>\n          </attributes>\n        </label>\n",
            escape(label)
        ));
    }
    for word in options.verdict.accept.iter().chain(&options.verdict.reject) {
        out.push_str(&format!(
            "        <label>\n          <name>{}</name>\n          <type>tag</type>\n          <attributes>\n          </attributes>\n        </label>\n",
            escape(word)
        ));
    }
    out.push_str("      </labels>\n    </task>\n  </meta>\n");
    for (id, c) in candidates.iter().enumerate() {
        out.push_str(&format!(
            "  <image id=\"{id}\" name=\"{}\" width=\"{}\" height=\"{}\">\n",
            escape(&c.image),
            c.size.width(),
            c.size.height()
        ));
        if !c.points.is_empty() {
            let points: Vec<String> = c
                .points
                .iter()
                .map(|p| format!("{:.2},{:.2}", p.x(), p.y()))
                .collect();
            out.push_str(&format!(
                "    <points label=\"{}\" source=\"auto\" occluded=\"0\" points=\"{}\" z_order=\"0\">\n    </points>\n",
                escape(&c.label),
                points.join(";")
            ));
        }
        out.push_str("  </image>\n");
    }
    out.push_str("</annotations>\n");
    Ok(out)
}

fn invalid(at: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid {
        tool: TOOL,
        at: at.into(),
        message: message.into(),
    }
}

/// A shape or tag being read.
struct Shape {
    at: String,
    kind: ShapeKind,
    label: String,
    points: Vec<Pixel>,
    attributes: Vec<(String, String)>,
}

#[derive(PartialEq)]
enum ShapeKind {
    Points,
    Tag,
}

/// An image being read.
struct Image<'c> {
    id: String,
    at: String,
    candidate: &'c Candidate,
    shapes: Vec<Shape>,
}

/// Reads CVAT's "CVAT for images 1.1" XML export: one verdict per `<image>` that
/// [`write_annotations`] wrote for `candidates`.
///
/// # Errors
/// [`Error::Xml`] when the file is not well-formed, [`Error::Invalid`] naming the element
/// for anything else.
pub fn read_export(
    xml: &str,
    candidates: &[Candidate],
    options: &CvatOptions,
) -> Result<Vec<Verdict>> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let (mut dumped, mut assignee, mut owner) = (None, None, None);
    let mut image: Option<Image> = None;
    let mut shape: Option<Shape> = None;
    let mut attribute: Option<String> = None;
    let mut version_seen = false;
    let mut verdicts = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| Error::Xml {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.name().as_ref().to_string();
                if stack.is_empty() && name != "annotations" {
                    return Err(invalid(
                        format!("<{name}>"),
                        "the root element is not <annotations>",
                    ));
                }
                text.clear();
                match name.as_str() {
                    "image" if stack.len() == 1 => {
                        image = Some(open_image(e, candidates)?);
                    }
                    "track" if stack.len() == 1 => {
                        return Err(invalid(
                            "<track>",
                            "tracks are the video (interpolation) format; export as `CVAT for images 1.1`",
                        ));
                    }
                    "points" | "tag" if image.is_some() && stack.len() == 2 => {
                        let img = image.as_ref().expect("checked");
                        shape = Some(open_shape(e, &name, img)?);
                    }
                    "attribute" if shape.is_some() => {
                        let value = attr(e, "name")?.unwrap_or_default();
                        attribute = Some(value);
                    }
                    other if image.is_some() && stack.len() == 2 => {
                        let img = image.as_ref().expect("checked");
                        return Err(invalid(
                            format!("{} <{other}>", img.at),
                            "unexpected shape (only points and tags are read)",
                        ));
                    }
                    _ => {}
                }
                if empty {
                    close(
                        &name,
                        &mut stack,
                        &mut text,
                        &mut image,
                        &mut shape,
                        &mut attribute,
                        &mut verdicts,
                        options,
                    )?;
                } else {
                    stack.push(name);
                }
            }
            Event::Text(t) => text.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::CData(t) => text.push_str(&t),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else if let Ok(s) = quick_xml::escape::unescape(&format!("&{};", &*r)) {
                    text.push_str(&s);
                }
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                let parent = stack.len().checked_sub(2).map(|i| stack[i].clone());
                match (name.as_str(), parent.as_deref()) {
                    ("version", Some("annotations")) => {
                        if text.trim() != "1.1" {
                            return Err(invalid(
                                "<version>",
                                format!("version `{}`, expected `1.1`", text.trim()),
                            ));
                        }
                        version_seen = true;
                    }
                    ("dumped", Some("meta")) => dumped = Some(text.trim().to_string()),
                    ("username", Some("assignee")) if !text.trim().is_empty() => {
                        assignee.get_or_insert_with(|| text.trim().to_string());
                    }
                    ("username", Some("owner")) if !text.trim().is_empty() => {
                        owner.get_or_insert_with(|| text.trim().to_string());
                    }
                    _ => {}
                }
                close(
                    &name,
                    &mut stack,
                    &mut text,
                    &mut image,
                    &mut shape,
                    &mut attribute,
                    &mut verdicts,
                    options,
                )?;
            }
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(Error::Xml {
                        position: reader.buffer_position(),
                        message: format!("the file ends inside <{}>", stack.join("> <")),
                    });
                }
                break;
            }
            _ => {}
        }
    }
    if !version_seen {
        return Err(invalid("<annotations>", "no <version>1.1</version>"));
    }
    let annotator = assignee.or(owner);
    for v in &mut verdicts {
        v.annotator.clone_from(&annotator);
        v.time.clone_from(&dumped);
    }
    Ok(verdicts)
}

/// Closes element `name`: finishes attributes, shapes and images.
#[allow(clippy::too_many_arguments)]
fn close(
    name: &str,
    stack: &mut Vec<String>,
    text: &mut String,
    image: &mut Option<Image>,
    shape: &mut Option<Shape>,
    attribute: &mut Option<String>,
    verdicts: &mut Vec<Verdict>,
    options: &CvatOptions,
) -> Result<()> {
    match name {
        "attribute" if shape.is_some() => {
            if let (Some(s), Some(key)) = (shape.as_mut(), attribute.take()) {
                s.attributes.push((key, text.trim().to_string()));
            }
        }
        "points" | "tag" if shape.is_some() && stack.len() <= 3 => {
            if let (Some(img), Some(s)) = (image.as_mut(), shape.take()) {
                img.shapes.push(s);
            }
        }
        "image" if image.is_some() && stack.len() <= 2 => {
            if let Some(img) = image.take() {
                verdicts.push(finish_image(img, options)?);
            }
        }
        _ => {}
    }
    if stack.last().is_some_and(|top| top == name) {
        stack.pop();
    }
    text.clear();
    Ok(())
}

fn attr(e: &BytesStart, key: &str) -> Result<Option<String>> {
    for a in e.attributes() {
        let a = a.map_err(|err| invalid(format!("<{}>", e.name().as_ref()), err.to_string()))?;
        if a.key.as_ref() == key {
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| invalid(format!("<{}>", e.name().as_ref()), err.to_string()))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn open_image<'c>(e: &BytesStart, candidates: &'c [Candidate]) -> Result<Image<'c>> {
    let id = attr(e, "id")?.unwrap_or_default();
    let name = attr(e, "name")?.unwrap_or_default();
    let at = format!("<image id=\"{id}\" name=\"{name}\">");
    if id.is_empty() || name.is_empty() {
        return Err(invalid(at, "`id` and `name` are required"));
    }
    let basename = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    let candidate = candidates
        .iter()
        .find(|c| c.image == name)
        .or_else(|| {
            let mut same: Vec<&Candidate> = candidates
                .iter()
                .filter(|c| basename(&c.image) == basename(&name))
                .collect();
            (same.len() == 1).then(|| same.remove(0))
        })
        .ok_or_else(|| invalid(&at, "the image is not among the candidates"))?;
    for (key, want) in [
        ("width", candidate.size.width()),
        ("height", candidate.size.height()),
    ] {
        let value = attr(e, key)?;
        if value.as_deref().map(str::parse::<u32>) != Some(Ok(want)) {
            return Err(invalid(
                &at,
                format!(
                    "`{key}` is {}, but the candidate image is {}x{}",
                    value.as_deref().unwrap_or("missing"),
                    candidate.size.width(),
                    candidate.size.height()
                ),
            ));
        }
    }
    Ok(Image {
        id,
        at,
        candidate,
        shapes: Vec::new(),
    })
}

fn open_shape(e: &BytesStart, name: &str, image: &Image) -> Result<Shape> {
    let label = attr(e, "label")?.unwrap_or_default();
    let at = format!("{} <{name} label=\"{label}\">", image.at);
    if label.trim().is_empty() {
        return Err(invalid(at, "the label is empty"));
    }
    let kind = if name == "points" {
        ShapeKind::Points
    } else {
        ShapeKind::Tag
    };
    let mut points = Vec::new();
    if kind == ShapeKind::Points {
        let raw = attr(e, "points")?.ok_or_else(|| invalid(&at, "`points` is missing"))?;
        let size = image.candidate.size;
        for (i, pair) in raw.split(';').enumerate() {
            let parsed = pair.split_once(',').and_then(|(x, y)| {
                Some((x.trim().parse::<f64>().ok()?, y.trim().parse::<f64>().ok()?))
            });
            let (x, y) = parsed
                .ok_or_else(|| invalid(&at, format!("point {} `{pair}` is not `x,y`", i + 1)))?;
            let p = Pixel::new(x, y, size).map_err(|err| {
                invalid(
                    &at,
                    format!(
                        "point {} ({x}, {y}) is outside the {}x{} image: {err}",
                        i + 1,
                        size.width(),
                        size.height()
                    ),
                )
            })?;
            points.push(p);
        }
    }
    Ok(Shape {
        at,
        kind,
        label,
        points,
        attributes: Vec::new(),
    })
}

fn finish_image(image: Image, options: &CvatOptions) -> Result<Verdict> {
    let candidate = image.candidate;
    let mut points = Vec::new();
    let mut word: Option<(Word, String)> = None;
    let mut note = |at: &str, text: &str| -> Result<()> {
        let meaning = options.verdict.word(text).ok_or_else(|| {
            invalid(
                at,
                format!("verdict `{text}` is none of {}", options.verdict.words()),
            )
        })?;
        if let Some((earlier, was)) = &word
            && *earlier != meaning
        {
            return Err(invalid(
                at,
                format!("verdict `{text}` contradicts the earlier `{was}`"),
            ));
        }
        word = Some((meaning, text.to_string()));
        Ok(())
    };
    for shape in &image.shapes {
        let verdict_attribute = shape
            .attributes
            .iter()
            .find(|(k, _)| *k == options.verdict_attribute)
            .map(|(_, v)| v.as_str());
        match shape.kind {
            ShapeKind::Points => {
                if shape.label.trim() != candidate.label.trim() {
                    return Err(invalid(
                        &shape.at,
                        format!(
                            "points of `{}`, but the image's label is `{}`",
                            shape.label, candidate.label
                        ),
                    ));
                }
                points.extend(shape.points.iter().copied());
                if let Some(v) = verdict_attribute {
                    note(&shape.at, v)?;
                }
            }
            ShapeKind::Tag => match verdict_attribute {
                Some(v) => note(&shape.at, v)?,
                None => note(&shape.at, &shape.label)?,
            },
        }
    }
    let outcome = decide(
        candidate,
        word.map(|(w, _)| w),
        false,
        points,
        &options.verdict,
    );
    Ok(Verdict {
        tool: Tool::Cvat,
        task: image.id,
        image_id: candidate.image_id.clone(),
        label: candidate.label.clone(),
        decision: outcome.decision,
        points: outcome.points,
        accepted: outcome.accepted,
        removed: outcome.removed,
        added: outcome.added,
        annotator: None,
        time: None,
        lead_time_s: None,
    })
}
