//! Instance masks in COCO's run-length encoding, the form SAM and `pycocotools` write.
//!
//! A mask is `{"size": [height, width], "counts": …}` where `counts` is either a list of
//! run lengths or COCO's compressed string; runs alternate background and foreground,
//! start with background, and walk the image **column by column** (Fortran order), as
//! `pycocotools.mask.encode` does. Masks stay run-length encoded: a point lookup is a
//! binary search over the runs.

use serde::Deserialize;

/// A mask as it appears in JSON.
#[derive(Clone, Debug, Deserialize)]
pub struct RleJson {
    /// `[height, width]`.
    pub size: [u64; 2],
    /// Run lengths, or COCO's compressed string.
    pub counts: Counts,
}

/// The two forms of `counts`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Counts {
    /// Run lengths.
    Runs(Vec<u64>),
    /// COCO's compressed string.
    Compressed(String),
}

/// A decoded mask: cumulative run ends over the column-major pixel order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    /// `ends[i]` is the pixel index just after run `i`; odd runs are foreground.
    ends: Vec<u64>,
}

impl Mask {
    /// Checks and decodes a mask.
    ///
    /// # Errors
    /// A message when the size is zero or too large, the string is not COCO's encoding, or
    /// the runs do not cover the image exactly.
    pub fn from_json(rle: &RleJson) -> Result<Mask, String> {
        let [height, width] = rle.size;
        let (Ok(h), Ok(w)) = (u32::try_from(height), u32::try_from(width)) else {
            return Err(format!("mask size {height}x{width} is too large"));
        };
        if h == 0 || w == 0 {
            return Err(format!("mask size [{height}, {width}] has no pixels"));
        }
        let runs = match &rle.counts {
            Counts::Runs(runs) => runs.clone(),
            Counts::Compressed(s) => decode_compressed(s)?,
        };
        let total = height * width;
        let mut ends = Vec::with_capacity(runs.len());
        let mut at = 0u64;
        for run in runs {
            at = at
                .checked_add(run)
                .filter(|&a| a <= total)
                .ok_or_else(|| format!("mask runs cover more than its {total} pixels"))?;
            ends.push(at);
        }
        if at != total {
            return Err(format!(
                "mask runs cover {at} pixels, its size [{height}, {width}] has {total}"
            ));
        }
        Ok(Mask {
            width: w,
            height: h,
            ends,
        })
    }

    /// A mask from a row-major bitmap (for tests and generators).
    #[must_use]
    pub fn from_bitmap(width: u32, height: u32, on: impl Fn(u32, u32) -> bool) -> Mask {
        let mut ends = Vec::new();
        let mut current = false;
        let mut at = 0u64;
        for x in 0..width {
            for y in 0..height {
                if on(x, y) != current {
                    ends.push(at);
                    current = !current;
                }
                at += 1;
            }
        }
        ends.push(at);
        Mask {
            width,
            height,
            ends,
        }
    }

    /// The runs in COCO's order (background first), for writing JSON.
    #[must_use]
    pub fn runs(&self) -> Vec<u64> {
        let mut last = 0;
        self.ends
            .iter()
            .map(|&e| {
                let run = e - last;
                last = e;
                run
            })
            .collect()
    }

    /// Width in pixels.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Whether pixel `(x, y)` (column, row) is foreground; outside the mask is not.
    #[must_use]
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let index = u64::from(x) * u64::from(self.height) + u64::from(y);
        let run = self.ends.partition_point(|&end| end <= index);
        run % 2 == 1
    }

    /// Whether a point in pixels falls on a foreground pixel (the pixel it lies in; the
    /// right and bottom edges belong to the last column and row).
    #[must_use]
    pub fn contains(&self, point: pixmo_points::Pixel) -> bool {
        // Pixel coordinates are finite and non-negative by construction.
        let x = (point.x().floor() as u64).min(u64::from(self.width) - 1);
        let y = (point.y().floor() as u64).min(u64::from(self.height) - 1);
        self.get(x as u32, y as u32)
    }
}

/// COCO's compressed counts (`pycocotools` `rleFrString`): per run, 5-bit groups offset by
/// 48 with a continuation bit, sign-extended, and after the second run a delta from the run
/// two places back.
fn decode_compressed(s: &str) -> Result<Vec<u64>, String> {
    let bytes = s.as_bytes();
    let mut runs: Vec<i64> = Vec::new();
    let mut p = 0;
    while p < bytes.len() {
        let mut x: i64 = 0;
        let mut k = 0u32;
        loop {
            let Some(&b) = bytes.get(p) else {
                return Err("compressed mask counts end inside a run".to_string());
            };
            let c = i64::from(b)
                .checked_sub(48)
                .filter(|c| (0..64).contains(c))
                .ok_or_else(|| format!("byte {b} at {p} is not COCO's mask encoding"))?;
            if k > 11 {
                return Err("compressed mask run is too long".to_string());
            }
            x |= (c & 0x1f) << (5 * k);
            p += 1;
            k += 1;
            if c & 0x20 == 0 {
                if c & 0x10 != 0 {
                    x |= -1i64 << (5 * k);
                }
                break;
            }
        }
        if runs.len() > 2 {
            x = x
                .checked_add(runs[runs.len() - 2])
                .ok_or("compressed mask run overflows")?;
        }
        runs.push(x);
    }
    runs.into_iter()
        .map(|r| u64::try_from(r).map_err(|_| format!("negative run {r} in compressed mask")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rle(size: [u64; 2], counts: Counts) -> RleJson {
        RleJson { size, counts }
    }

    #[test]
    fn runs_walk_columns_first() {
        // 3 rows x 2 columns; foreground at (x=0, y=2) and (x=1, y=0).
        let m = Mask::from_json(&rle([3, 2], Counts::Runs(vec![2, 2, 2]))).unwrap();
        assert!(m.get(0, 2) && m.get(1, 0));
        assert!(!m.get(0, 0) && !m.get(0, 1) && !m.get(1, 1) && !m.get(1, 2));
        assert!(!m.get(2, 0), "outside the mask");
        let b = Mask::from_bitmap(2, 3, |x, y| (x, y) == (0, 2) || (x, y) == (1, 0));
        assert_eq!(b, m);
        assert_eq!(b.runs(), [2, 2, 2]);
    }

    #[test]
    fn compressed_counts_decode_like_pycocotools() {
        // What pycocotools' `rleToString` writes: one character per small run, and from
        // the fourth run on the difference to the run two places back ("M" is -3).
        assert_eq!(decode_compressed("222").unwrap(), [2, 2, 2]);
        assert_eq!(decode_compressed("2223").unwrap(), [2, 2, 2, 5]);
        assert_eq!(decode_compressed("151M").unwrap(), [1, 5, 1, 2]);
        // A run of 100: 100 = 0b11_00100 -> groups 4 (with continuation) then 3.
        assert_eq!(decode_compressed("T3").unwrap(), [100]);
        assert!(decode_compressed("2\u{7f}").is_err());
        assert!(decode_compressed("T").is_err(), "ends inside a run");
        let m = Mask::from_json(&rle([3, 2], Counts::Compressed("222".into()))).unwrap();
        assert!(m.get(0, 2));
    }

    #[test]
    fn runs_must_cover_the_image_exactly() {
        assert!(Mask::from_json(&rle([3, 2], Counts::Runs(vec![2, 2]))).is_err());
        assert!(Mask::from_json(&rle([3, 2], Counts::Runs(vec![2, 2, 3]))).is_err());
        assert!(Mask::from_json(&rle([0, 2], Counts::Runs(vec![]))).is_err());
        assert!(Mask::from_json(&rle([3, 2], Counts::Runs(vec![u64::MAX, 1]))).is_err());
    }
}
