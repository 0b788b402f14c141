//! Visible instance masks in COCO's uncompressed run-length encoding, the form
//! `pycocotools` and `pixmo eval points` read: `{"size": [height, width], "counts": [...]}`,
//! runs alternating background and foreground, starting with background, walking the image
//! **column by column**.
//!
//! A scene's mask of instance `i` is exactly the pixels its instance map assigns to `i`
//! (what is left of the object after everything drawn later covers it), so it is the
//! ground truth a point is checked against.

use serde::{Deserialize, Serialize};

/// A run-length encoded binary mask (COCO's uncompressed RLE).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rle {
    /// `[height, width]`, COCO's order.
    pub size: [u32; 2],
    /// Run lengths over the column-major pixel order; even runs are background.
    pub counts: Vec<u32>,
}

impl Rle {
    /// The mask of the pixels of a row-major `ids` map equal to `id`, looking only inside
    /// the half-open box `[x0, x1) x [y0, y1)` (every pixel of `id` must lie in it).
    ///
    /// # Panics
    /// When `ids` is not `width * height` long or the box leaves the image.
    #[must_use]
    pub fn from_ids(ids: &[u16], width: u32, height: u32, id: u16, bbox: [u32; 4]) -> Rle {
        assert_eq!(ids.len(), (width * height) as usize, "ids map size");
        let [x0, y0, x1, y1] = bbox;
        assert!(x1 <= width && y1 <= height, "box inside the image");
        let mut counts = Vec::new();
        // Column-major index where the last run (of either kind) ended, and whether the
        // run now open is foreground.
        let mut last_end = 0u32;
        let mut open_start: Option<u32> = None;
        for x in x0..x1 {
            for y in y0..y1 {
                let on = ids[(y * width + x) as usize] == id;
                let at = x * height + y;
                match (on, open_start) {
                    (true, None) => {
                        counts.push(at - last_end);
                        open_start = Some(at);
                    }
                    (false, Some(start)) => {
                        counts.push(at - start);
                        last_end = at;
                        open_start = None;
                    }
                    _ => {}
                }
            }
            // A run open at the bottom of the box continues only if the box spans the
            // whole column (otherwise background pixels outside the box come next).
            if let Some(start) = open_start
                && (y0 > 0 || y1 < height)
            {
                let end = x * height + y1;
                counts.push(end - start);
                last_end = end;
                open_start = None;
            }
        }
        if let Some(start) = open_start {
            let end = x1 * height;
            counts.push(end - start);
            last_end = end;
        }
        let total = width * height;
        // The trailing background run, unless the foreground reaches the last pixel.
        if last_end < total {
            counts.push(total - last_end);
        }
        Rle {
            size: [height, width],
            counts,
        }
    }

    /// Width in pixels.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.size[1]
    }

    /// Height in pixels.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.size[0]
    }

    /// Foreground pixels.
    #[must_use]
    pub fn area(&self) -> u32 {
        self.counts.iter().skip(1).step_by(2).sum()
    }

    /// Whether pixel `(x, y)` (column, row) is foreground; outside the image is not.
    #[must_use]
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width() || y >= self.height() {
            return false;
        }
        let index = u64::from(x) * u64::from(self.height()) + u64::from(y);
        let mut end = 0u64;
        for (run, &len) in self.counts.iter().enumerate() {
            end += u64::from(len);
            if index < end {
                return run % 2 == 1;
            }
        }
        false
    }

    /// Whether a point in pixels lies in a foreground pixel.
    #[must_use]
    pub fn contains(&self, point: [f64; 2]) -> bool {
        point[0] >= 0.0
            && point[1] >= 0.0
            && self.get(point[0].floor() as u32, point[1].floor() as u32)
    }

    /// The mask as a row-major bitmap.
    #[must_use]
    pub fn to_bitmap(&self) -> Vec<bool> {
        let (w, h) = (self.width() as usize, self.height() as usize);
        let mut out = vec![false; w * h];
        let mut at = 0usize;
        for (run, &len) in self.counts.iter().enumerate() {
            if run % 2 == 1 {
                for i in at..at + len as usize {
                    let (x, y) = (i / h, i % h);
                    out[y * w + x] = true;
                }
            }
            at += len as usize;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_walk_columns_from_background() {
        // 3 rows x 2 columns; id 1 at (x=0, y=2) and (x=1, y=0): runs 2, 2, 2.
        // Row-major: row 0 is (0, 0), (1, 0); row 2 is (0, 2), (1, 2).
        let ids = [0, 1, 0, 0, 1, 0];
        let rle = Rle::from_ids(&ids, 2, 3, 1, [0, 0, 2, 3]);
        assert_eq!(rle.counts, [2, 2, 2]);
        assert_eq!(rle.area(), 2);
        assert!(rle.get(0, 2) && rle.get(1, 0) && !rle.get(0, 0) && !rle.get(1, 2));
        let full = Rle::from_ids(&[1; 6], 2, 3, 1, [0, 0, 2, 3]);
        assert_eq!(full.counts, [0, 6], "a mask starting with foreground");
        let last = Rle::from_ids(&[0, 0, 0, 0, 0, 1], 2, 3, 1, [1, 2, 2, 3]);
        assert_eq!(
            last.counts,
            [5, 1],
            "no empty run after foreground at the end"
        );
    }

    #[test]
    fn a_box_gives_the_same_runs_as_the_whole_image() {
        let (w, h) = (7u32, 5u32);
        let ids: Vec<u16> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                u16::from((2..5).contains(&x) && (1..4).contains(&y) && (x + y) % 3 != 0)
            })
            .collect();
        let whole = Rle::from_ids(&ids, w, h, 1, [0, 0, w, h]);
        let boxed = Rle::from_ids(&ids, w, h, 1, [2, 1, 5, 4]);
        assert_eq!(whole, boxed);
        let bitmap = whole.to_bitmap();
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(bitmap[i], id == 1);
        }
        assert_eq!(
            whole.area() as usize,
            ids.iter().filter(|&&i| i == 1).count()
        );
        let empty = Rle::from_ids(&ids, w, h, 9, [0, 0, 0, 0]);
        assert_eq!((empty.counts.as_slice(), empty.area()), (&[35u32][..], 0));
    }
}
