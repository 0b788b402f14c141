//! Whitespace cropping of rendered pages, as PixMo-Docs did for LaTeX and Mermaid renders:
//! the bounding box of everything that differs from the page colour, plus a margin.

use pixmo_core::RgbaImage;

/// Largest per-channel difference from the page colour still counted as background
/// (anti-aliasing of the page edge, JPEG-like noise in fills).
const TOLERANCE: u8 = 8;

/// Crops `image` to the box of pixels that differ from its top-left pixel's colour, grown by
/// `margin` pixels on each side (clamped to the image). An image with no such pixel is
/// returned unchanged: the render gates reject it as one colour.
#[must_use]
pub fn crop_to_content(image: &RgbaImage, margin: u32) -> RgbaImage {
    let (w, h) = (image.width as usize, image.height as usize);
    if w == 0 || h == 0 {
        return image.clone();
    }
    let bg: [u8; 4] = [image.data[0], image.data[1], image.data[2], image.data[3]];
    let differs = |p: &[u8]| p.iter().zip(bg).any(|(&c, b)| c.abs_diff(b) > TOLERANCE);
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0usize, 0usize);
    for (y, row) in image.data.chunks_exact(w * 4).enumerate() {
        let mut first = None;
        let mut last = 0;
        for (x, p) in row.chunks_exact(4).enumerate() {
            if differs(p) {
                first.get_or_insert(x);
                last = x;
            }
        }
        if let Some(first) = first {
            x0 = x0.min(first);
            x1 = x1.max(last);
            y0 = y0.min(y);
            y1 = y;
        }
    }
    if x0 > x1 {
        return image.clone();
    }
    let m = margin as usize;
    let (x0, y0) = (x0.saturating_sub(m), y0.saturating_sub(m));
    let (x1, y1) = ((x1 + m).min(w - 1), (y1 + m).min(h - 1));
    let (cw, ch) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut data = Vec::with_capacity(cw * ch * 4);
    for y in y0..=y1 {
        let start = (y * w + x0) * 4;
        data.extend_from_slice(&image.data[start..start + cw * 4]);
    }
    #[allow(clippy::cast_possible_truncation)]
    RgbaImage {
        width: cw as u32,
        height: ch as u32,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(w: u32, h: u32, ink: &[(u32, u32)]) -> RgbaImage {
        let mut data = vec![250u8; (w * h * 4) as usize];
        for &(x, y) in ink {
            let i = ((y * w + x) * 4) as usize;
            data[i..i + 3].copy_from_slice(&[10, 20, 30]);
        }
        RgbaImage::new(w, h, data).unwrap()
    }

    #[test]
    fn crops_to_ink_plus_margin() {
        let img = page(100, 80, &[(30, 20), (60, 50)]);
        let c = crop_to_content(&img, 5);
        assert_eq!((c.width, c.height), (41, 41));
        // The ink keeps its position relative to the crop.
        let at = |x: u32, y: u32| c.data[((y * c.width + x) * 4) as usize];
        assert_eq!(at(5, 5), 10);
        assert_eq!(at(35, 35), 10);
        assert_eq!(at(0, 0), 250);
    }

    #[test]
    fn margins_clamp_and_blank_pages_stay() {
        let img = page(50, 40, &[(1, 1), (48, 38)]);
        let c = crop_to_content(&img, 20);
        assert_eq!((c.width, c.height), (50, 40));
        let blank = page(50, 40, &[]);
        assert_eq!(crop_to_content(&blank, 3), blank);
    }
}
