//! Coordinate conventions, converted only here.
//!
//! Molmo's point text is in percent of the image (0–100, origin top-left), Molmo2's on a
//! 0–1000 integer grid, PixMo-Points stores percent and PixMo-Count pixels (PIXMO_DATA.md
//! §3.5). Each convention is its own type; a value changes convention only through the
//! conversions below, which need the image size where pixels are involved, so the two can
//! never be mixed by accident.

/// Why a coordinate was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CoordError {
    /// NaN or infinite.
    #[error("Coordinate {axis} is not a finite number ({value})")]
    NotFinite {
        /// `x` or `y`.
        axis: &'static str,
        /// The value given.
        value: f64,
    },
    /// Outside the range of its convention.
    #[error("Coordinate {axis} = {value} is outside 0–{max} {unit}")]
    OutOfRange {
        /// `x` or `y`.
        axis: &'static str,
        /// The value given.
        value: f64,
        /// The largest value allowed.
        max: f64,
        /// `percent`, `pixels` or `grid units`.
        unit: &'static str,
    },
    /// An image with no pixels.
    #[error("Image size {width}x{height} has no pixels")]
    EmptyImage {
        /// Width given.
        width: u32,
        /// Height given.
        height: u32,
    },
}

/// Width and height of an image in pixels, both at least 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageSize {
    width: u32,
    height: u32,
}

impl ImageSize {
    /// An image size.
    ///
    /// # Errors
    /// [`CoordError::EmptyImage`] when either side is 0.
    pub fn new(width: u32, height: u32) -> Result<ImageSize, CoordError> {
        if width == 0 || height == 0 {
            return Err(CoordError::EmptyImage { width, height });
        }
        Ok(ImageSize { width, height })
    }

    /// Width in pixels.
    #[must_use]
    pub fn width(self) -> u32 {
        self.width
    }

    /// Height in pixels.
    #[must_use]
    pub fn height(self) -> u32 {
        self.height
    }

    /// Length of the diagonal in pixels.
    #[must_use]
    pub fn diagonal(self) -> f64 {
        f64::from(self.width).hypot(f64::from(self.height))
    }
}

fn checked(
    axis: &'static str,
    value: f64,
    max: f64,
    unit: &'static str,
) -> Result<f64, CoordError> {
    if !value.is_finite() {
        return Err(CoordError::NotFinite { axis, value });
    }
    if !(0.0..=max).contains(&value) {
        return Err(CoordError::OutOfRange {
            axis,
            value,
            max,
            unit,
        });
    }
    Ok(value)
}

/// A point in percent of the image (Molmo v1, PixMo-Points): `x` from the left edge, `y`
/// from the top edge, both in 0–100.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percent {
    x: f64,
    y: f64,
}

impl Percent {
    /// A point in percent.
    ///
    /// # Errors
    /// A coordinate that is not finite or outside 0–100.
    pub fn new(x: f64, y: f64) -> Result<Percent, CoordError> {
        Ok(Percent {
            x: checked("x", x, 100.0, "percent")?,
            y: checked("y", y, 100.0, "percent")?,
        })
    }

    /// Percent of the width from the left edge.
    #[must_use]
    pub fn x(self) -> f64 {
        self.x
    }

    /// Percent of the height from the top edge.
    #[must_use]
    pub fn y(self) -> f64 {
        self.y
    }

    /// Both coordinates in tenths of a percent (what one decimal can show).
    #[must_use]
    pub fn tenths(self) -> (u16, u16) {
        // In range by construction: 0..=1000 fits u16.
        let t = |v: f64| (v * 10.0).round().clamp(0.0, 1000.0) as u16;
        (t(self.x), t(self.y))
    }

    /// The point as Molmo writes it: rounded to one decimal.
    #[must_use]
    pub fn rounded(self) -> Percent {
        let (x, y) = self.tenths();
        Percent {
            x: f64::from(x) / 10.0,
            y: f64::from(y) / 10.0,
        }
    }

    /// The point in pixels of an image of `size`.
    #[must_use]
    pub fn to_pixels(self, size: ImageSize) -> Pixel {
        Pixel {
            x: self.x * f64::from(size.width) / 100.0,
            y: self.y * f64::from(size.height) / 100.0,
        }
    }

    /// The point on Molmo2's 0–1000 grid (nearest grid unit).
    #[must_use]
    pub fn to_grid(self) -> Grid1000 {
        let (x, y) = self.tenths();
        Grid1000 { x, y }
    }
}

/// A point in pixels of a particular image (PixMo-Count), origin top-left; `x` in
/// 0–width and `y` in 0–height, fractions allowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pixel {
    x: f64,
    y: f64,
}

impl Pixel {
    /// A point in pixels, which must lie inside an image of `size` (edges included).
    ///
    /// # Errors
    /// A coordinate that is not finite or lies outside the image.
    pub fn new(x: f64, y: f64, size: ImageSize) -> Result<Pixel, CoordError> {
        Ok(Pixel {
            x: checked("x", x, f64::from(size.width), "pixels")?,
            y: checked("y", y, f64::from(size.height), "pixels")?,
        })
    }

    /// Pixels from the left edge.
    #[must_use]
    pub fn x(self) -> f64 {
        self.x
    }

    /// Pixels from the top edge.
    #[must_use]
    pub fn y(self) -> f64 {
        self.y
    }

    /// The point in percent of an image of `size` (the image it was made for).
    #[must_use]
    pub fn to_percent(self, size: ImageSize) -> Percent {
        Percent {
            x: (self.x / f64::from(size.width) * 100.0).clamp(0.0, 100.0),
            y: (self.y / f64::from(size.height) * 100.0).clamp(0.0, 100.0),
        }
    }

    /// Euclidean distance to another point, in pixels.
    #[must_use]
    pub fn distance(self, other: Pixel) -> f64 {
        (self.x - other.x).hypot(self.y - other.y)
    }
}

/// A point on Molmo2's integer grid: 0–1000 across the width and down the height.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Grid1000 {
    x: u16,
    y: u16,
}

impl Grid1000 {
    /// A grid point.
    ///
    /// # Errors
    /// A coordinate above 1000.
    pub fn new(x: u16, y: u16) -> Result<Grid1000, CoordError> {
        for (axis, v) in [("x", x), ("y", y)] {
            if v > 1000 {
                return Err(CoordError::OutOfRange {
                    axis,
                    value: f64::from(v),
                    max: 1000.0,
                    unit: "grid units",
                });
            }
        }
        Ok(Grid1000 { x, y })
    }

    /// Grid units from the left edge.
    #[must_use]
    pub fn x(self) -> u16 {
        self.x
    }

    /// Grid units from the top edge.
    #[must_use]
    pub fn y(self) -> u16 {
        self.y
    }

    /// The point in percent (exact: one grid unit is a tenth of a percent).
    #[must_use]
    pub fn to_percent(self) -> Percent {
        Percent {
            x: f64::from(self.x) / 10.0,
            y: f64::from(self.y) / 10.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions_convert_only_through_the_image_size() {
        let size = ImageSize::new(640, 480).unwrap();
        let px = Pixel::new(320.0, 120.0, size).unwrap();
        let pc = px.to_percent(size);
        assert_eq!((pc.x(), pc.y()), (50.0, 25.0));
        assert_eq!(pc.to_pixels(size), px);
        assert_eq!(pc.to_grid(), Grid1000::new(500, 250).unwrap());
        assert_eq!(pc.to_grid().to_percent(), pc);
        assert_eq!(
            Percent::new(12.34, 0.05).unwrap().rounded().tenths(),
            (123, 1)
        );
    }

    #[test]
    fn out_of_range_and_non_finite_values_are_refused() {
        let size = ImageSize::new(10, 10).unwrap();
        assert!(matches!(
            Percent::new(100.5, 1.0),
            Err(CoordError::OutOfRange { axis: "x", .. })
        ));
        assert!(matches!(
            Percent::new(1.0, f64::NAN),
            Err(CoordError::NotFinite { axis: "y", .. })
        ));
        assert!(Pixel::new(10.5, 0.0, size).is_err());
        assert!(Pixel::new(-0.1, 0.0, size).is_err());
        assert!(Grid1000::new(1001, 0).is_err());
        assert!(ImageSize::new(0, 5).is_err());
        let msg = Percent::new(120.0, 1.0).unwrap_err().to_string();
        assert_eq!(msg, "Coordinate x = 120 is outside 0–100 percent");
    }
}
