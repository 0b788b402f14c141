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
        // One pass for the common, opaque case: copy RGB while folding the alpha bytes
        // together; only an image with some transparency pays for a second, blending pass.
        let mut out = vec![0u8; self.width as usize * self.height as usize * 3];
        let mut all_alpha = 255u8;
        for (o, p) in out.chunks_exact_mut(3).zip(self.data.chunks_exact(4)) {
            o.copy_from_slice(&p[..3]);
            all_alpha &= p[3];
        }
        if all_alpha == 255 {
            // Over white an opaque pixel is itself: no arithmetic.
            return out;
        }
        for (o, p) in out.chunks_exact_mut(3).zip(self.data.chunks_exact(4)) {
            let a = u32::from(p[3]);
            for (o, &c) in o.iter_mut().zip(&p[..3]) {
                let v = (u32::from(c) * a + 255 * (255 - a) + 127) / 255;
                *o = u8::try_from(v).unwrap_or(255);
            }
        }
        out
    }
}

/// Side of the difference-hash grid: the hash has `DHASH_SIDE * DHASH_SIDE` bits.
pub const DHASH_SIDE: usize = 32;

/// Difference hash of an image for near-duplicate detection (1024 bits as 128 bytes): the
/// image is averaged to 33 x 32 grey cells (over white, box filter) and each bit says whether
/// a cell is brighter than its right neighbour. Re-encoded or slightly changed images differ
/// in few bits, different renders of one template in many (see [`hamming`]).
#[must_use]
pub fn dhash(image: &RgbaImage) -> Vec<u8> {
    const W: usize = DHASH_SIDE + 1;
    const H: usize = DHASH_SIDE;
    let (w, h) = (image.width as usize, image.height as usize);
    let mut out = vec![0u8; DHASH_SIDE * DHASH_SIDE / 8];
    if w == 0 || h == 0 {
        return out;
    }
    let mut sum = vec![0u64; W * H];
    let mut count = vec![0u64; W * H];
    for y in 0..h {
        let cy = y * H / h;
        let row = &image.data[y * w * 4..(y + 1) * w * 4];
        for (x, p) in row.chunks_exact(4).enumerate() {
            let cell = cy * W + x * W / w;
            let a = u64::from(p[3]);
            // Rec. 601 luma over white, in units of 1/1000.
            let luma = 299 * u64::from(p[0]) + 587 * u64::from(p[1]) + 114 * u64::from(p[2]);
            sum[cell] += (luma * a + 255_000 * (255 - a)) / 255;
            count[cell] += 1;
        }
    }
    let mut bit = 0;
    for y in 0..H {
        for x in 0..W - 1 {
            let (l, r) = (y * W + x, y * W + x + 1);
            // Compare means without division: a/na > b/nb  <=>  a*nb > b*na.
            let left = u128::from(sum[l]) * u128::from(count[r].max(1));
            let right = u128::from(sum[r]) * u128::from(count[l].max(1));
            if left > right {
                out[bit / 8] |= 1 << (bit % 8);
            }
            bit += 1;
        }
    }
    out
}

/// Number of differing bits of two hashes (extra bytes of the longer one count as set).
#[must_use]
pub fn hamming(a: &[u8], b: &[u8]) -> u32 {
    let common: u32 = a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum();
    let extra = if a.len() > b.len() {
        &a[b.len()..]
    } else {
        &b[a.len()..]
    };
    common + extra.iter().map(|x| x.count_ones()).sum::<u32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32, shift: u8) -> RgbaImage {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let v = u8::try_from((x * 7 + y * 3) % 256)
                    .unwrap()
                    .wrapping_add(shift);
                let v = if (x / 9 + y / 5) % 3 == 0 { 255 - v } else { v };
                data.extend_from_slice(&[v, v / 2, 255 - v, 255]);
            }
        }
        RgbaImage::new(w, h, data).unwrap()
    }

    #[test]
    fn dhash_is_stable_under_small_changes_and_tells_images_apart() {
        let a = gradient(120, 90, 0);
        let mut b = a.clone();
        // A few changed pixels: same hash or nearly.
        for p in b.data.chunks_exact_mut(4).step_by(97) {
            p[0] = p[0].wrapping_add(3);
        }
        assert!(hamming(&dhash(&a), &dhash(&b)) <= 8);
        let mut c = a.clone();
        for p in c.data.chunks_exact_mut(4).take(120 * 45) {
            p.copy_from_slice(&[0, 0, 0, 255]);
        }
        assert!(hamming(&dhash(&a), &dhash(&c)) > 100);
        assert_eq!(dhash(&a).len(), 128);
        assert_eq!(
            dhash(&RgbaImage::new(0, 0, Vec::new()).unwrap()),
            vec![0; 128]
        );
        assert_eq!(hamming(&[0xff], &[0x0f, 0x01]), 5);
    }

    #[test]
    fn rgb_over_white_drops_alpha_when_opaque_and_blends_otherwise() {
        let opaque = RgbaImage::new(2, 1, vec![10, 20, 30, 255, 200, 100, 0, 255]).unwrap();
        assert_eq!(opaque.to_rgb_over_white(), vec![10, 20, 30, 200, 100, 0]);
        // Only the last pixel is translucent: the whole image takes the blending path, and
        // the opaque pixels come out as they are.
        let translucent =
            RgbaImage::new(3, 1, vec![10, 20, 30, 255, 0, 0, 0, 0, 0, 100, 200, 128]).unwrap();
        // 0 over white at alpha 128: (0 * 128 + 255 * 127 + 127) / 255 = 127.
        assert_eq!(
            translucent.to_rgb_over_white(),
            vec![10, 20, 30, 255, 255, 255, 127, 177, 227]
        );
    }
}
