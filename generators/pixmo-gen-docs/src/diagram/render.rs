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
}
