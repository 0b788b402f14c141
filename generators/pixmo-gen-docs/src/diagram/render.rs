//! SVG to pixels with resvg, treating the SVG as untrusted input.
//!
//! usvg gets the bundled fonts only (no system fonts), no resource directory, and an image
//! resolver that refuses every `href` (data URLs included), so an SVG cannot make the renderer
//! read a file or embed a picture. Document size and canvas size are bounded before any
//! pixel is allocated.

use resvg::{tiny_skia, usvg};

use crate::error::{Error, Result, invalid};
use crate::fonts;

/// Bounds on SVG input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SvgLimits {
    /// Longest SVG document, in bytes.
    pub max_bytes: usize,
    /// Largest canvas side, in pixels.
    pub max_side: u32,
    /// Smallest canvas side, in pixels.
    pub min_side: u32,
}

impl Default for SvgLimits {
    fn default() -> SvgLimits {
        SvgLimits {
            max_bytes: 1 << 20,
            max_side: crate::chart::spec::MAX_SIDE,
            min_side: crate::chart::spec::MIN_SIDE,
        }
    }
}

/// An untrusted SVG, drawn, with the text a reader can see.
#[derive(Clone, Debug)]
pub struct SvgRender {
    /// The pixels (transparent areas white).
    pub image: pixmo_core::RgbaImage,
    /// The text of every `<text>` element that changed pixels, in drawing order (spaces
    /// collapsed).
    pub visible_text: Vec<String>,
    /// Text that usvg drew but a reader cannot see, with the reason.
    pub hidden_text: Vec<(String, String)>,
}

/// Renders an untrusted SVG: checks it against `policy` ([`crate::SvgPolicy`]) and `limits`,
/// draws it, draws it again without its `<text>` elements, and keeps as visible only the text
/// whose box (inside the canvas) shows pixels that the text changed. Text in `<defs>` or under
/// `display="none"` is never drawn; text with zero opacity, in the background's colour,
/// covered by later shapes or outside the canvas is listed as hidden.
///
/// Time and memory are not bounded here: run it in a process with OS limits.
///
/// # Errors
/// As [`render_svg`], plus the policy's refusals.
pub fn render_svg_checked(
    svg: &str,
    limits: &SvgLimits,
    policy: &crate::SvgPolicy,
) -> Result<SvgRender> {
    if svg.len() > limits.max_bytes {
        return Err(invalid(format!(
            "SVG is {} bytes; the limit is {}",
            svg.len(),
            limits.max_bytes
        )));
    }
    let text_ranges = super::policy::check_svg(svg, policy)?;
    let tree = parse(svg, limits)?;
    let mut without = String::with_capacity(svg.len());
    let mut at = 0;
    for r in &text_ranges {
        without.push_str(&svg[at..r.start]);
        at = r.end;
    }
    without.push_str(&svg[at..]);
    let behind = parse(&without, limits)?;
    let (w, h) = (
        tree.size().to_int_size().width(),
        tree.size().to_int_size().height(),
    );
    let front = draw(&tree, w, h)?;
    let back = draw(&behind, w, h)?;
    let mut texts = Vec::new();
    collect_texts(tree.root(), &mut texts);
    let mut visible_text = Vec::new();
    let mut hidden_text = Vec::new();
    for (text, bbox) in texts {
        match visibility(bbox, (w, h), front.data(), back.data()) {
            Ok(()) => visible_text.push(text),
            Err(reason) => hidden_text.push((text, reason)),
        }
    }
    Ok(SvgRender {
        image: to_image(&front)?,
        visible_text,
        hidden_text,
    })
}

fn parse(svg: &str, limits: &SvgLimits) -> Result<usvg::Tree> {
    let tree = usvg::Tree::from_str(svg, fonts::svg_options()).map_err(|e| Error::Svg {
        message: e.to_string(),
    })?;
    let size = tree.size().to_int_size();
    let (w, h) = (size.width(), size.height());
    for side in [w, h] {
        if !(limits.min_side..=limits.max_side).contains(&side) {
            return Err(invalid(format!(
                "SVG canvas is {w}x{h}; sides must be in {}..={}",
                limits.min_side, limits.max_side
            )));
        }
    }
    Ok(tree)
}

fn draw(tree: &usvg::Tree, w: u32, h: u32) -> Result<tiny_skia::Pixmap> {
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| invalid("Empty SVG canvas"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    Ok(pixmap)
}

fn to_image(pixmap: &tiny_skia::Pixmap) -> Result<pixmo_core::RgbaImage> {
    let mut data = Vec::with_capacity(pixmap.data().len());
    for p in pixmap.pixels() {
        let c = p.demultiply();
        data.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    pixmo_core::RgbaImage::new(pixmap.width(), pixmap.height(), data)
        .map_err(|message| Error::Draw { message })
}

/// Every text node usvg will draw, with its box in canvas pixels.
fn collect_texts(group: &usvg::Group, out: &mut Vec<(String, usvg::Rect)>) {
    for node in group.children() {
        match node {
            usvg::Node::Group(g) => collect_texts(g, out),
            usvg::Node::Text(t) => {
                let joined: Vec<&str> = t.chunks().iter().map(usvg::TextChunk::text).collect();
                let text = joined
                    .join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                if !text.is_empty() {
                    out.push((text, t.abs_bounding_box()));
                }
            }
            usvg::Node::Path(_) | usvg::Node::Image(_) => {}
        }
    }
}

/// A pixel counts as changed by text when a channel differs by at least this much.
const INK_DELTA: u8 = 48;

/// Whether a text box shows ink: mostly inside the canvas, with enough pixels that differ
/// from the drawing without text.
fn visibility(
    bbox: usvg::Rect,
    (w, h): (u32, u32),
    front: &[u8],
    back: &[u8],
) -> std::result::Result<(), String> {
    let (fw, fh) = (f64::from(w), f64::from(h));
    let (l, t, r, b) = (
        f64::from(bbox.left()),
        f64::from(bbox.top()),
        f64::from(bbox.right()),
        f64::from(bbox.bottom()),
    );
    let full = (r - l).max(0.0) * (b - t).max(0.0);
    let (cl, ct, cr, cb) = (l.max(0.0), t.max(0.0), r.min(fw), b.min(fh));
    let inside = (cr - cl).max(0.0) * (cb - ct).max(0.0);
    if inside <= 0.0 {
        return Err("lies outside the canvas".into());
    }
    if inside < 0.9 * full {
        return Err(format!(
            "is cut off by the canvas edge ({:.0} % of its box is inside)",
            100.0 * inside / full
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (x0, x1, y0, y1) = (
        cl.floor() as u32,
        (cr.ceil() as u32).min(w),
        ct.floor() as u32,
        (cb.ceil() as u32).min(h),
    );
    let area = u64::from(x1 - x0) * u64::from(y1 - y0);
    let mut changed = 0u64;
    for y in y0..y1 {
        let row = y as usize * w as usize * 4;
        for x in x0..x1 {
            let p = row + x as usize * 4;
            if (0..4).any(|c| front[p + c].abs_diff(back[p + c]) >= INK_DELTA) {
                changed += 1;
            }
        }
    }
    if changed < (area / 50).max(3) {
        return Err(format!(
            "is not visible: {changed} of {area} pixels in its box differ from what is behind \
             it (drawn in the background's colour, transparent, covered, or too small)"
        ));
    }
    Ok(())
}

/// Rasterises an SVG document at its own size; transparent areas become white.
///
/// # Errors
/// [`Error::InvalidSpec`] when a bound is broken, [`Error::Svg`] when usvg rejects it.
pub fn render_svg(svg: &str, limits: &SvgLimits) -> Result<pixmo_core::RgbaImage> {
    if svg.len() > limits.max_bytes {
        return Err(invalid(format!(
            "SVG is {} bytes; the limit is {}",
            svg.len(),
            limits.max_bytes
        )));
    }
    let tree = usvg::Tree::from_str(svg, fonts::svg_options()).map_err(|e| Error::Svg {
        message: e.to_string(),
    })?;
    let size = tree.size().to_int_size();
    let (w, h) = (size.width(), size.height());
    for side in [w, h] {
        if !(limits.min_side..=limits.max_side).contains(&side) {
            return Err(invalid(format!(
                "SVG canvas is {w}x{h}; sides must be in {}..={}",
                limits.min_side, limits.max_side
            )));
        }
    }
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| invalid("Empty SVG canvas"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let mut data = Vec::with_capacity(w as usize * h as usize * 4);
    for p in pixmap.pixels() {
        let c = p.demultiply();
        data.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    pixmo_core::RgbaImage::new(w, h, data).map_err(|message| Error::Draw { message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_images_and_files_are_not_loaded() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="200">
            <image href="/etc/passwd" width="100" height="100"/>
            <image xlink:href="file:///tmp/x.png" width="100" height="100"/>
            <image href="data:image/png;base64,iVBORw0KGgo=" width="100" height="100"/>
        </svg>"#;
        let image = render_svg(svg, &SvgLimits::default()).unwrap();
        assert!(
            image
                .data
                .chunks_exact(4)
                .all(|p| p == [255, 255, 255, 255])
        );
    }

    #[test]
    fn oversized_inputs_are_refused() {
        let big = r#"<svg xmlns="http://www.w3.org/2000/svg" width="5000" height="200"></svg>"#;
        assert!(matches!(
            render_svg(big, &SvgLimits::default()),
            Err(Error::InvalidSpec { .. })
        ));
        let limits = SvgLimits {
            max_bytes: 10,
            ..SvgLimits::default()
        };
        assert!(matches!(
            render_svg(big, &limits),
            Err(Error::InvalidSpec { .. })
        ));
        assert!(matches!(
            render_svg("<svg", &SvgLimits::default()),
            Err(Error::Svg { .. })
        ));
    }

    #[test]
    fn only_text_a_reader_can_see_counts_as_drawn() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 200 150">
            <rect width="200" height="150" fill="#ffffff"/>
            <defs><text id="d" x="10" y="10">Indefs</text></defs>
            <text x="10" y="20" font-family="Roboto" font-size="12">Shown label</text>
            <text x="10" y="40" font-size="12" display="none">Nodisplay</text>
            <text x="10" y="60" font-size="12" opacity="0">Zeroopacity</text>
            <text x="10" y="80" font-size="12" fill="#ffffff">Whiteonwhite</text>
            <text x="10" y="100" font-size="12">Covered</text>
            <rect x="5" y="88" width="80" height="16" fill="#336699"/>
            <text x="500" y="100" font-size="12">Offcanvas</text>
            <text x="10" y="130" font-size="12" fill="#ffffff">On <tspan fill="#000">dark</tspan></text>
            <g opacity="0.0"><text x="100" y="20" font-size="12">Groupfaded</text></g>
        </svg>"##;
        let r =
            render_svg_checked(svg, &SvgLimits::default(), &crate::SvgPolicy::default()).unwrap();
        assert_eq!(r.image.width, 400, "rendered at its own size");
        assert_eq!(r.visible_text, vec!["Shown label", "On dark"]);
        let hidden: Vec<&str> = r.hidden_text.iter().map(|(t, _)| t.as_str()).collect();
        for word in ["Zeroopacity", "Whiteonwhite", "Covered", "Offcanvas"] {
            assert!(hidden.contains(&word), "{word}: {hidden:?}");
        }
        for word in ["Indefs", "Nodisplay"] {
            assert!(!r.visible_text.iter().any(|t| t.contains(word)));
        }
        let off = &r
            .hidden_text
            .iter()
            .find(|(t, _)| t == "Offcanvas")
            .unwrap()
            .1;
        assert!(off.contains("outside the canvas"), "{off}");
    }
}
