//! The in-memory image passed between stages.

/// A straight (non-premultiplied) RGBA8 image, row-major, 4 bytes per pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbaImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub data: Vec<u8>,
}

impl RgbaImage {
    /// Wraps pixel data, checking its length.
    ///
    /// # Errors
    /// When `data.len() != width * height * 4`.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Result<RgbaImage, String> {
        let want = width as usize * height as usize * 4;
        if data.len() != want {
            return Err(format!(
                "Image data has {} bytes, expected {want} for {width}x{height}",
                data.len()
            ));
        }
        Ok(RgbaImage {
            width,
            height,
            data,
        })
    }

    /// Whether every pixel is fully opaque.
    #[must_use]
    pub fn is_opaque(&self) -> bool {
        self.data.chunks_exact(4).all(|p| p[3] == 255)
    }

    /// RGB bytes, compositing any transparency over white.
    #[must_use]
    pub fn to_rgb_over_white(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.width as usize * self.height as usize * 3);
        for p in self.data.chunks_exact(4) {
            let a = u32::from(p[3]);
            for &c in &p[..3] {
                let v = (u32::from(c) * a + 255 * (255 - a) + 127) / 255;
                out.push(u8::try_from(v).unwrap_or(255));
            }
        }
        out
    }
}
