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

use pixmo_points::{ImageSize, Pixel};

use crate::candidate::{Candidate, check_candidates};
use crate::error::{Error, Result};
use crate::import::{Import, RejectKind, RowDraft};
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

/// A shape or tag as written in the file.
struct RawShape {
    element: String,
    label: String,
    points: Option<String>,
    attributes: Vec<(String, String)>,
}

/// An `<image>` as written in the file.
struct RawImage {
    id: String,
    name: String,
    width: Option<String>,
    height: Option<String>,
    shapes: Vec<RawShape>,
}

impl RawImage {
    fn at(&self) -> String {
        format!("<image id=\"{}\" name=\"{}\">", self.id, self.name)
    }

    fn shape_at(&self, shape: &RawShape) -> String {
        format!(
            "{} <{} label=\"{}\">",
            self.at(),
            shape.element,
            shape.label
        )
    }

    /// The declared size, or why it is unusable.
    fn size(&self) -> std::result::Result<ImageSize, String> {
        let parse = |v: &Option<String>| v.as_deref().and_then(|v| v.trim().parse::<u32>().ok());
        match (parse(&self.width), parse(&self.height)) {
            (Some(w), Some(h)) => ImageSize::new(w, h).map_err(|e| e.to_string()),
            _ => Err(format!(
                "`width` and `height` are {} and {}, not pixel counts",
                self.width.as_deref().unwrap_or("missing"),
                self.height.as_deref().unwrap_or("missing")
            )),
        }
    }
}

/// The parts of an export the readers use.
struct RawDocument {
    dumped: Option<String>,
    /// The task or job assignee, else the owner.
    annotator: Option<String>,
    images: Vec<RawImage>,
}

/// Parses the XML: well-formedness, the root, `<version>1.1</version>`, images and their
/// shapes with attributes; meaning is left to the callers.
fn parse(xml: &str) -> Result<RawDocument> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let (mut dumped, mut assignee, mut owner) = (None, None, None);
    let mut images: Vec<RawImage> = Vec::new();
    let mut in_image = false;
    let mut shape: Option<RawShape> = None;
    let mut attribute: Option<String> = None;
    let mut version_seen = false;
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
                        images.push(RawImage {
                            id: attr(e, "id")?.unwrap_or_default(),
                            name: attr(e, "name")?.unwrap_or_default(),
                            width: attr(e, "width")?,
                            height: attr(e, "height")?,
                            shapes: Vec::new(),
                        });
                        in_image = true;
                    }
                    "track" if stack.len() == 1 => {
                        return Err(invalid(
                            "<track>",
                            "tracks are the video (interpolation) format; export as `CVAT for images 1.1`",
                        ));
                    }
                    _ if in_image && stack.len() == 2 => {
                        shape = Some(RawShape {
                            element: name.clone(),
                            label: attr(e, "label")?.unwrap_or_default(),
                            points: attr(e, "points")?,
                            attributes: Vec::new(),
                        });
                    }
                    "attribute" if shape.is_some() && stack.len() == 3 => {
                        attribute = Some(attr(e, "name")?.unwrap_or_default());
                    }
                    _ => {}
                }
                if !empty {
                    stack.push(name.clone());
                    continue;
                }
                // An empty element closes at once.
                finish(
                    &name,
                    stack.len() + 1,
                    &text,
                    &mut in_image,
                    &mut images,
                    &mut shape,
                    &mut attribute,
                );
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
                let parent = stack.len().checked_sub(2).map(|i| stack[i].as_str());
                match (name.as_str(), parent) {
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
                finish(
                    &name,
                    stack.len(),
                    &text,
                    &mut in_image,
                    &mut images,
                    &mut shape,
                    &mut attribute,
                );
                stack.pop();
                text.clear();
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
    Ok(RawDocument {
        dumped,
        annotator: assignee.or(owner),
        images,
    })
}

/// Closes element `name` at `depth` (1 for the root).
fn finish(
    name: &str,
    depth: usize,
    text: &str,
    in_image: &mut bool,
    images: &mut [RawImage],
    shape: &mut Option<RawShape>,
    attribute: &mut Option<String>,
) {
    match depth {
        4 if name == "attribute" => {
            if let (Some(s), Some(key)) = (shape.as_mut(), attribute.take()) {
                s.attributes.push((key, text.trim().to_string()));
            }
        }
        3 => {
            if let (Some(image), Some(s)) = (images.last_mut(), shape.take()) {
                image.shapes.push(s);
            }
        }
        2 if name == "image" => *in_image = false,
        _ => {}
    }
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

/// Parses `x0,y0;x1,y1;...` inside an image of `size`.
fn parse_points(raw: &str, size: ImageSize) -> std::result::Result<Vec<(f64, f64)>, String> {
    let mut points = Vec::new();
    for (i, pair) in raw.split(';').enumerate() {
        let parsed = pair.split_once(',').and_then(|(x, y)| {
            Some((x.trim().parse::<f64>().ok()?, y.trim().parse::<f64>().ok()?))
        });
        let (x, y) = parsed.ok_or_else(|| format!("point {} `{pair}` is not `x,y`", i + 1))?;
        Pixel::new(x, y, size).map_err(|err| {
            format!(
                "point {} ({x}, {y}) is outside the {}x{} image: {err}",
                i + 1,
                size.width(),
                size.height()
            )
        })?;
        points.push((x, y));
    }
    Ok(points)
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
    let document = parse(xml)?;
    let mut verdicts = Vec::with_capacity(document.images.len());
    for image in &document.images {
        let candidate = match_candidate(image, candidates)?;
        let mut verdict = image_verdict(image, candidate, options)?;
        verdict.annotator.clone_from(&document.annotator);
        verdict.time.clone_from(&document.dumped);
        verdicts.push(verdict);
    }
    Ok(verdicts)
}

fn match_candidate<'c>(image: &RawImage, candidates: &'c [Candidate]) -> Result<&'c Candidate> {
    let at = image.at();
    if image.id.is_empty() || image.name.is_empty() {
        return Err(invalid(at, "`id` and `name` are required"));
    }
    let basename = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    let candidate = candidates
        .iter()
        .find(|c| c.image == image.name)
        .or_else(|| {
            let mut same: Vec<&Candidate> = candidates
                .iter()
                .filter(|c| basename(&c.image) == basename(&image.name))
                .collect();
            (same.len() == 1).then(|| same.remove(0))
        })
        .ok_or_else(|| invalid(&at, "the image is not among the candidates"))?;
    for (key, value, want) in [
        ("width", &image.width, candidate.size.width()),
        ("height", &image.height, candidate.size.height()),
    ] {
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
    Ok(candidate)
}

fn image_verdict(
    image: &RawImage,
    candidate: &Candidate,
    options: &CvatOptions,
) -> Result<Verdict> {
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
        let at = image.shape_at(shape);
        if shape.label.trim().is_empty() {
            return Err(invalid(at, "the label is empty"));
        }
        let verdict_attribute = shape
            .attributes
            .iter()
            .find(|(k, _)| *k == options.verdict_attribute)
            .map(|(_, v)| v.as_str());
        match shape.element.as_str() {
            "points" => {
                if shape.label.trim() != candidate.label.trim() {
                    return Err(invalid(
                        &at,
                        format!(
                            "points of `{}`, but the image's label is `{}`",
                            shape.label, candidate.label
                        ),
                    ));
                }
                let raw = shape
                    .points
                    .as_deref()
                    .ok_or_else(|| invalid(&at, "`points` is missing"))?;
                let parsed = parse_points(raw, candidate.size).map_err(|m| invalid(&at, m))?;
                for (x, y) in parsed {
                    points.push(
                        Pixel::new(x, y, candidate.size)
                            .map_err(|e| invalid(&at, e.to_string()))?,
                    );
                }
                if let Some(v) = verdict_attribute {
                    note(&at, v)?;
                }
            }
            "tag" => match verdict_attribute {
                Some(v) => note(&at, v)?,
                None => note(&at, &shape.label)?,
            },
            other => {
                return Err(invalid(
                    format!("{} <{other}>", image.at()),
                    "unexpected shape (only points and tags are read)",
                ));
            }
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
        task: image.id.clone(),
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

/// Reads any "CVAT for images 1.1" export's points into rows: one per image and points
/// label, in pixels, with the annotator (assignee, else owner). Problems of one image or
/// shape (bad size, points outside the image, empty label, duplicate points, shapes other
/// than points) become rejects; tags are ignored.
///
/// # Errors
/// [`Error::Xml`] or [`Error::Invalid`] when the file as a whole cannot be read.
pub fn import_points(xml: &str) -> Result<Import> {
    let document = parse(xml)?;
    let mut import = Import::default();
    for image in &document.images {
        let at = image.at();
        let size = match image.size() {
            Ok(size) => size,
            Err(message) => {
                import.reject(&at, &image.name, RejectKind::BadImageSize, message);
                continue;
            }
        };
        let mut groups: Vec<RowDraft> = Vec::new();
        for shape in &image.shapes {
            let shape_at = image.shape_at(shape);
            match shape.element.as_str() {
                "points" => {
                    let parsed = shape
                        .points
                        .as_deref()
                        .ok_or_else(|| "`points` is missing".to_string())
                        .and_then(|raw| parse_points(raw, size));
                    match parsed {
                        Ok(points) => match groups.iter_mut().find(|g| g.label == shape.label) {
                            Some(group) => group.points.extend(points),
                            None => groups.push(RowDraft {
                                at: shape_at,
                                image: image.name.clone(),
                                size,
                                label: shape.label.clone(),
                                points,
                                annotator: document.annotator.clone(),
                            }),
                        },
                        Err(message) => {
                            import.reject(
                                &shape_at,
                                &image.name,
                                RejectKind::PointOutsideImage,
                                message,
                            );
                        }
                    }
                }
                "tag" => {}
                other => import.reject(
                    &shape_at,
                    &image.name,
                    RejectKind::UnsupportedShape,
                    format!("<{other}> is not a points shape"),
                ),
            }
        }
        for group in groups {
            import.add(group);
        }
    }
    Ok(import)
}
