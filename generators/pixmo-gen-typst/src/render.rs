//! Sandboxed, time- and size-bounded typst rendering: source text in, first page's pixels and
//! laid-out text out.
//!
//! # Bounds
//!
//! * **Files and network**: none; see [`crate::world`]. Any file or package access is an error.
//! * **Source size**: [`RenderOptions::max_source_bytes`], checked before parsing.
//! * **Time**: [`render_typst`] runs compilation, layout and rasterisation on a worker thread
//!   and waits at most [`RenderOptions::timeout`]; a worker that misses its deadline is
//!   abandoned (typst has no cancellation) and keeps running until typst returns. That is
//!   enough for trusted sources (the procedural templates). [`render_typst_here`] runs on the
//!   caller's thread with no deadline: for untrusted sources, call it inside a process whose
//!   CPU time, memory and lifetime the operating system bounds (`pixmo-sandbox`), because
//!   typst's `for` loops, string and array repetition, and WebAssembly plugins are unbounded,
//!   and a failed allocation aborts the process.
//! * **Output size**: the first page's pixel size is checked against
//!   [`RenderOptions::max_pixels`] and [`RenderOptions::max_side`] *before* rasterising, and
//!   documents with more than one page are rejected unless [`RenderOptions::allow_multiple_pages`].
//! * **Visible text** ([`RenderOptions::check_visibility`]): a text run counts as drawn only if
//!   removing the page's text changes enough pixels inside its glyph box; text in the
//!   background's colour, transparent, covered by a shape or outside the page is moved to
//!   [`RenderedDoc::hidden`].

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::Duration;

use pixmo_core::RgbaImage;
use typst::WorldExt;
use typst::diag::{Severity, SourceDiagnostic};
use typst::layout::{Abs, Frame, FrameItem, Point, Transform};
use typst::utils::Scalar;
use typst_layout::PagedDocument;

use crate::error::{Error, Result};
use crate::world::SandboxWorld;

/// How to render a typst source.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderOptions {
    /// Pixels per typographic point (2.0 = 144 dpi).
    pub pixel_per_pt: f32,
    /// Wall-clock limit for compile + layout + rasterise.
    pub timeout: Duration,
    /// Largest accepted source, in bytes.
    pub max_source_bytes: usize,
    /// Largest accepted page, in pixels (width x height).
    pub max_pixels: u64,
    /// Largest accepted page side, in pixels.
    pub max_side: u32,
    /// Accept documents with several pages (only the first is rendered).
    pub allow_multiple_pages: bool,
    /// Fail with [`Error::Clipped`] when laid-out text extends beyond the page or a clipping box.
    pub reject_clipped_text: bool,
    /// Find out which text runs are really visible (a second rasterisation without text):
    /// hidden runs move from [`RenderedDoc::text`] to [`RenderedDoc::hidden`].
    pub check_visibility: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            pixel_per_pt: 2.0,
            timeout: Duration::from_secs(20),
            max_source_bytes: 256 * 1024,
            max_pixels: 4096 * 4096,
            max_side: 6000,
            allow_multiple_pages: false,
            reject_clipped_text: true,
            check_visibility: false,
        }
    }
}

/// One run of laid-out text, in points from the page's top-left corner.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TextRun {
    /// The run's characters.
    pub text: String,
    /// Left edge of the run's origin.
    pub x: f64,
    /// Baseline.
    pub y: f64,
    /// Advance width.
    pub width: f64,
    /// Font size.
    pub size: f64,
}

/// The first page of a rendered document.
#[derive(Clone, Debug)]
pub struct RenderedDoc {
    /// Straight RGBA pixels of the first page.
    pub image: RgbaImage,
    /// Page width in points.
    pub page_width_pt: f64,
    /// Page height in points.
    pub page_height_pt: f64,
    /// Number of pages typst produced.
    pub page_count: usize,
    /// Every text run on the first page, in layout order.
    pub text: Vec<TextRun>,
    /// typst's warnings, formatted like errors.
    pub warnings: Vec<String>,
    /// Text runs laid out but not visible, with the reason (only with
    /// [`RenderOptions::check_visibility`]).
    pub hidden: Vec<HiddenText>,
}

/// A text run that was laid out but cannot be seen.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HiddenText {
    /// The run's characters.
    pub text: String,
    /// Why it does not count as drawn.
    pub reason: String,
}

impl RenderedDoc {
    /// The page's text as lines: runs whose baselines agree within a third of their size are
    /// joined left to right with single spaces; lines top to bottom.
    #[must_use]
    pub fn text_lines(&self) -> Vec<String> {
        let mut runs: Vec<&TextRun> = self.text.iter().collect();
        runs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
        let mut lines: Vec<(f64, Vec<&TextRun>)> = Vec::new();
        for run in runs {
            match lines.last_mut() {
                Some((y, line)) if (run.y - *y).abs() < run.size / 3.0 => line.push(run),
                _ => lines.push((run.y, vec![run])),
            }
        }
        lines
            .into_iter()
            .map(|(_, mut line)| {
                line.sort_by(|a, b| a.x.total_cmp(&b.x));
                let joined: Vec<&str> = line.iter().map(|r| r.text.as_str()).collect();
                collapse_spaces(&joined.join(" "))
            })
            .collect()
    }

    /// Whether `needle` (spaces collapsed) appears in the laid-out text: within one line,
    /// wrapped across consecutive lines, or across consecutive runs in layout order (a value
    /// wrapped inside a table cell, with other cells between its lines on the page).
    /// Hyphenation is off in every template, so a wrapped value reads back with a space at each
    /// break.
    #[must_use]
    pub fn shows(&self, needle: &str) -> bool {
        let needle = collapse_spaces(needle);
        let lines = self.text_lines();
        lines.iter().any(|line| line.contains(&needle))
            || join_wrapped(lines.iter().map(String::as_str)).contains(&needle)
            || self.layout_text().contains(&needle)
    }

    /// All runs in layout order, joined with single spaces (none after a run that ends in a
    /// hyphen, where typst broke a line).
    #[must_use]
    pub fn layout_text(&self) -> String {
        collapse_spaces(&join_wrapped(self.text.iter().map(|r| r.text.as_str())))
    }
}

/// Joins pieces of text with spaces, except after a piece ending in a word-internal `-` (a line
/// broken after the hyphen of `Free-range` reads back as one word).
pub(crate) fn join_wrapped<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for part in parts {
        let part = part.trim();
        let glued = out.ends_with('-') && !out.ends_with(" -");
        if !out.is_empty() && !glued {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// Collapses runs of whitespace into single spaces and trims.
pub(crate) fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders the first page of a typst document in the sandbox world, on a worker thread with a
/// deadline (for trusted sources; see the module's notes).
///
/// # Errors
/// [`Error::Compile`] with typst's diagnostics, [`Error::Timeout`], [`Error::TooLarge`],
/// [`Error::MultiplePages`], [`Error::Empty`], [`Error::Clipped`]; [`Error::Internal`] if
/// typst panicked.
pub fn render_typst(source: &str, options: &RenderOptions) -> Result<RenderedDoc> {
    check_inputs(source, options)?;
    let (tx, rx) = mpsc::sync_channel(1);
    let text = source.to_owned();
    let opts = options.clone();
    std::thread::Builder::new()
        .name("pixmo-typst".into())
        .stack_size(32 * 1024 * 1024)
        .spawn(move || {
            // The receiver is gone when the caller gave up; nothing to do then.
            let _ = tx.send(catch_panics(|| render_now(text, &opts)));
        })
        .map_err(|e| Error::Internal(format!("cannot spawn typst worker: {e}")))?;
    match rx.recv_timeout(options.timeout) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout {
            millis: u64::try_from(options.timeout.as_millis()).unwrap_or(u64::MAX),
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(Error::Internal("typst worker vanished".into()))
        }
    }
}

/// Renders like [`render_typst`] but on the calling thread, with no deadline
/// ([`RenderOptions::timeout`] is ignored): for a process whose limits the operating system
/// enforces. The thread needs a large stack (typst recurses; 32 MiB is plenty).
///
/// # Errors
/// As [`render_typst`], without [`Error::Timeout`].
pub fn render_typst_here(source: &str, options: &RenderOptions) -> Result<RenderedDoc> {
    check_inputs(source, options)?;
    catch_panics(|| render_now(source.to_owned(), options))
}

fn check_inputs(source: &str, options: &RenderOptions) -> Result<()> {
    if source.len() > options.max_source_bytes {
        return Err(Error::TooLarge {
            what: "source bytes",
            actual: source.len() as u64,
            limit: options.max_source_bytes as u64,
        });
    }
    if !(options.pixel_per_pt.is_finite() && options.pixel_per_pt > 0.0) {
        return Err(Error::Internal(format!(
            "`pixel_per_pt` must be positive, got {}",
            options.pixel_per_pt
        )));
    }
    Ok(())
}

fn catch_panics(f: impl FnOnce() -> Result<RenderedDoc>) -> Result<RenderedDoc> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::Internal(format!("typst panicked: {msg}")))
    })
}

/// Compile, check and rasterise on the current thread.
fn render_now(text: String, options: &RenderOptions) -> Result<RenderedDoc> {
    let world = SandboxWorld::new(text);
    let warned = typst::compile::<PagedDocument>(&world);
    // Memoised results of old compilations are dropped after a few renders.
    typst::comemo::evict(16);
    let warnings = format_diagnostics(&world, &warned.warnings);
    let document = warned.output.map_err(|errors| Error::Compile {
        diagnostics: format_diagnostics(&world, &errors).join("\n"),
    })?;
    let pages = document.pages();
    let page = pages.first().ok_or(Error::Empty)?;
    if pages.len() > 1 && !options.allow_multiple_pages {
        return Err(Error::MultiplePages { pages: pages.len() });
    }
    let size = page.frame.size();
    let (wpt, hpt) = (size.x.to_pt(), size.y.to_pt());
    let ppt = f64::from(options.pixel_per_pt);
    let (wpx, hpx) = ((wpt * ppt).round().max(1.0), (hpt * ppt).round().max(1.0));
    let side = wpx.max(hpx);
    if !side.is_finite() || side > f64::from(options.max_side) {
        return Err(Error::TooLarge {
            what: "page side pixels",
            actual: if side.is_finite() {
                side as u64
            } else {
                u64::MAX
            },
            limit: u64::from(options.max_side),
        });
    }
    let pixels = (wpx * hpx) as u64;
    if pixels > options.max_pixels {
        return Err(Error::TooLarge {
            what: "page pixels",
            actual: pixels,
            limit: options.max_pixels,
        });
    }
    let mut text_runs = Vec::new();
    let mut glyph_boxes = Vec::new();
    let mut clipped = Vec::new();
    let page_box = BoxPt {
        x0: 0.0,
        y0: 0.0,
        x1: wpt,
        y1: hpt,
    };
    walk(
        &page.frame,
        Transform::identity(),
        page_box,
        &mut text_runs,
        &mut glyph_boxes,
        &mut clipped,
    );
    if options.reject_clipped_text && !clipped.is_empty() {
        return Err(Error::Clipped {
            details: clipped.join("; "),
        });
    }
    let render_options = typst_render::RenderOptions {
        pixel_per_pt: Scalar::new(ppt),
        render_bleed: false,
    };
    let pixmap = typst_render::render(page, &render_options);
    let mut data = Vec::with_capacity(pixmap.data().len());
    for px in pixmap.pixels() {
        let c = px.demultiply();
        data.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    let hidden = if options.check_visibility {
        let without_text = typst_layout::Page {
            frame: strip_text(&page.frame),
            ..page.clone()
        };
        let behind = typst_render::render(&without_text, &render_options);
        let hidden = hidden_runs(
            &text_runs,
            &glyph_boxes,
            (pixmap.width(), pixmap.height()),
            pixmap.data(),
            behind.data(),
            ppt,
        );
        let mut keep = vec![true; text_runs.len()];
        for (i, _) in &hidden {
            keep[*i] = false;
        }
        let mut kept = keep.iter();
        let hidden = hidden
            .into_iter()
            .map(|(i, reason)| HiddenText {
                text: text_runs[i].text.clone(),
                reason,
            })
            .collect();
        text_runs.retain(|_| *kept.next().unwrap_or(&true));
        hidden
    } else {
        Vec::new()
    };
    let image = RgbaImage::new(pixmap.width(), pixmap.height(), data).map_err(Error::Internal)?;
    Ok(RenderedDoc {
        image,
        page_width_pt: wpt,
        page_height_pt: hpt,
        page_count: pages.len(),
        text: text_runs,
        warnings,
        hidden,
    })
}

/// The frame with every text item removed (shapes, images and groups kept).
fn strip_text(frame: &Frame) -> Frame {
    let mut out = Frame::new(frame.size(), frame.kind());
    for (pos, item) in frame.items() {
        match item {
            FrameItem::Text(_) => {}
            FrameItem::Group(group) => {
                let mut group = group.clone();
                group.frame = strip_text(&group.frame);
                out.push(*pos, FrameItem::Group(group));
            }
            other => out.push(*pos, other.clone()),
        }
    }
    out
}

/// A pixel counts as changed by text when a channel differs by at least this much.
const INK_DELTA: u8 = 48;

/// The runs whose glyph boxes show (almost) no pixel that the text changed, with the reason.
fn hidden_runs(
    runs: &[TextRun],
    boxes: &[Option<BoxPt>],
    (w, h): (u32, u32),
    a: &[u8],
    b: &[u8],
    ppt: f64,
) -> Vec<(usize, String)> {
    let mut hidden = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        if run.text.trim().is_empty() {
            continue;
        }
        let Some(bx) = boxes.get(i).copied().flatten() else {
            hidden.push((i, "has no visible glyphs".to_owned()));
            continue;
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let clamp = |v: f64, max: u32| (v * ppt).clamp(0.0, f64::from(max)) as u32;
        let (x0, x1) = (clamp(bx.x0.floor(), w), clamp(bx.x1.ceil(), w));
        let (y0, y1) = (clamp(bx.y0.floor(), h), clamp(bx.y1.ceil(), h));
        let area = u64::from(x1.saturating_sub(x0)) * u64::from(y1.saturating_sub(y0));
        if area == 0 {
            hidden.push((i, "lies outside the page or its clipping box".to_owned()));
            continue;
        }
        let mut changed = 0u64;
        for y in y0..y1 {
            let row = (y as usize * w as usize) * 4;
            for x in x0..x1 {
                let p = row + x as usize * 4;
                if (0..4).any(|c| a[p + c].abs_diff(b[p + c]) >= INK_DELTA) {
                    changed += 1;
                }
            }
        }
        if changed < (area / 50).max(3) {
            hidden.push((
                i,
                format!(
                    "is not visible: {changed} of {area} pixels in its box differ from what is \
                     behind it (drawn in the background's colour, transparent, covered, or too small)"
                ),
            ));
        }
    }
    hidden
}

/// An axis-aligned box in page points.
#[derive(Clone, Copy, Debug)]
struct BoxPt {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl BoxPt {
    fn intersect(self, other: BoxPt) -> BoxPt {
        BoxPt {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        }
    }

    /// The bounding box of the rectangle `(x0, y0)-(x1, y1)` after `ts`.
    fn transformed(x0: Abs, y0: Abs, x1: Abs, y1: Abs, ts: Transform) -> BoxPt {
        let corners = [
            Point::new(x0, y0),
            Point::new(x1, y0),
            Point::new(x0, y1),
            Point::new(x1, y1),
        ]
        .map(|p| p.transform(ts));
        let xs = corners.map(|p| p.x.to_pt());
        let ys = corners.map(|p| p.y.to_pt());
        BoxPt {
            x0: xs.iter().copied().fold(f64::INFINITY, f64::min),
            y0: ys.iter().copied().fold(f64::INFINITY, f64::min),
            x1: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            y1: ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// Overflow tolerance in points (anti-aliasing, italic overhang).
const CLIP_TOLERANCE_PT: f64 = 0.75;

/// Collects text runs and reports those whose glyph boxes leave `visible`.
fn walk(
    frame: &Frame,
    ts: Transform,
    visible: BoxPt,
    runs: &mut Vec<TextRun>,
    boxes: &mut Vec<Option<BoxPt>>,
    clipped: &mut Vec<String>,
) {
    for (pos, item) in frame.items() {
        match item {
            FrameItem::Group(group) => {
                let inner = ts
                    .pre_concat(Transform::translate(pos.x, pos.y))
                    .pre_concat(group.transform);
                let visible = match &group.clip {
                    Some(curve) => {
                        let rect = curve.bbox(None);
                        visible.intersect(BoxPt::transformed(
                            rect.min.x, rect.min.y, rect.max.x, rect.max.y, inner,
                        ))
                    }
                    None => visible,
                };
                walk(&group.frame, inner, visible, runs, boxes, clipped);
            }
            FrameItem::Text(text) => {
                let origin = pos.transform(ts);
                let width = text.width();
                runs.push(TextRun {
                    text: text.text.to_string(),
                    x: origin.x.to_pt(),
                    y: origin.y.to_pt(),
                    width: width.to_pt(),
                    size: text.size.to_pt(),
                });
                let bbox = text.bbox();
                if !bbox.min.x.to_pt().is_finite() || text.text.trim().is_empty() {
                    boxes.push(None);
                    continue; // no visible glyphs
                }
                // `bbox` is relative to the run's origin on the baseline, y down.
                let glyphs = BoxPt::transformed(
                    pos.x + bbox.min.x,
                    pos.y + bbox.min.y,
                    pos.x + bbox.max.x,
                    pos.y + bbox.max.y,
                    ts,
                );
                boxes.push(Some(glyphs.intersect(visible)));
                let over = [
                    visible.x0 - glyphs.x0,
                    glyphs.x1 - visible.x1,
                    visible.y0 - glyphs.y0,
                    glyphs.y1 - visible.y1,
                ]
                .into_iter()
                .fold(0.0, f64::max);
                if over > CLIP_TOLERANCE_PT {
                    clipped.push(format!(
                        "{:?} at ({:.1}, {:.1}) pt overflows its visible area by {over:.1} pt",
                        text.text.as_str(),
                        origin.x.to_pt(),
                        origin.y.to_pt()
                    ));
                }
            }
            FrameItem::Shape(..)
            | FrameItem::Image(..)
            | FrameItem::Link(..)
            | FrameItem::Tag(_) => {}
        }
    }
}

/// Formats diagnostics as `error: message`, the location, the source line and hints.
fn format_diagnostics(world: &SandboxWorld, diags: &[SourceDiagnostic]) -> Vec<String> {
    diags
        .iter()
        .map(|diag| {
            let level = match diag.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let mut out = format!("{level}: {}", diag.message);
            let source = world.source_ref();
            if let Some(range) = world.range(diag.span) {
                let lines = source.lines();
                if let Some((line, col)) = lines.byte_to_line_column(range.start) {
                    out.push_str(&format!("\n  --> main.typ:{}:{}", line + 1, col + 1));
                    if let Some(r) = lines.line_to_range(line) {
                        let text = source.text()[r].trim_end();
                        let text: String = text.chars().take(160).collect();
                        out.push_str(&format!("\n   | {text}"));
                    }
                }
            }
            for hint in &diag.hints {
                out.push_str(&format!("\n  hint: {}", hint.v));
            }
            out
        })
        .collect()
}
