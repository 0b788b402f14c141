//! Points, dial directions and 3x3 projective transforms.
//!
//! All trig goes through `libm` so that coordinates, and therefore pixels, are bit-identical
//! on every machine.

/// A point or vector in some pixel/unit space (y grows downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pt {
    pub x: f64,
    pub y: f64,
}

impl Pt {
    pub const fn new(x: f64, y: f64) -> Pt {
        Pt { x, y }
    }

    pub fn add(self, o: Pt) -> Pt {
        Pt::new(self.x + o.x, self.y + o.y)
    }

    pub fn sub(self, o: Pt) -> Pt {
        Pt::new(self.x - o.x, self.y - o.y)
    }

    pub fn scale(self, k: f64) -> Pt {
        Pt::new(self.x * k, self.y * k)
    }
}

/// Sine and cosine of an angle in degrees, via `libm`.
pub fn sin_cos_deg(deg: f64) -> (f64, f64) {
    let r = deg.to_radians();
    (libm::sin(r), libm::cos(r))
}

/// The unit vector pointing at `deg` degrees clockwise from 12 o'clock (screen coordinates).
pub fn dial_dir(deg: f64) -> Pt {
    let (s, c) = sin_cos_deg(deg);
    Pt::new(s, -c)
}

/// The dial angle (degrees clockwise from 12, in `[0, 360)`) of the vector `v` in screen
/// coordinates.
pub fn dial_angle_of(v: Pt) -> f64 {
    let a = libm::atan2(v.x, -v.y).to_degrees();
    if a < 0.0 { a + 360.0 } else { a }
}

/// Maps hand-local coordinates to the dial: `along` runs from the pivot towards the tip,
/// `across` to the right of a hand pointing at 12.
#[derive(Clone, Copy, Debug)]
pub struct HandFrame {
    pivot: Pt,
    dir: Pt,
    normal: Pt,
}

impl HandFrame {
    pub fn new(pivot: Pt, angle_deg: f64) -> HandFrame {
        let (s, c) = sin_cos_deg(angle_deg);
        HandFrame {
            pivot,
            dir: Pt::new(s, -c),
            normal: Pt::new(c, s),
        }
    }

    pub fn map(&self, across: f64, along: f64) -> Pt {
        Pt::new(
            self.pivot.x + along * self.dir.x + across * self.normal.x,
            self.pivot.y + along * self.dir.y + across * self.normal.y,
        )
    }
}

/// A 3x3 projective transform acting on column vectors `(x, y, 1)`, row-major.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mat3(pub [f64; 9]);

impl Mat3 {
    pub fn translate(dx: f64, dy: f64) -> Mat3 {
        Mat3([1.0, 0.0, dx, 0.0, 1.0, dy, 0.0, 0.0, 1.0])
    }

    pub fn scale(k: f64) -> Mat3 {
        Mat3([k, 0.0, 0.0, 0.0, k, 0.0, 0.0, 0.0, 1.0])
    }

    /// Rotation by `deg` clockwise on screen (y down) about the origin.
    pub fn rotate_deg(deg: f64) -> Mat3 {
        let (s, c) = sin_cos_deg(deg);
        Mat3([c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0])
    }

    /// The image of the plane `z = 0` turned by `tilt_x_deg` about the x axis then
    /// `tilt_y_deg` about the y axis, seen by a pinhole camera `focal` units away that looks at
    /// the origin. The origin stays fixed.
    pub fn tilt(tilt_x_deg: f64, tilt_y_deg: f64, focal: f64) -> Mat3 {
        let (sx, cx) = sin_cos_deg(tilt_x_deg);
        let (sy, cy) = sin_cos_deg(tilt_y_deg);
        // R = Ry * Rx; only the first two columns matter for points with z = 0.
        let r00 = cy;
        let r01 = sy * sx;
        let r10 = 0.0;
        let r11 = cx;
        let r20 = -sy;
        let r21 = cy * sx;
        Mat3([
            focal * r00,
            focal * r01,
            0.0,
            focal * r10,
            focal * r11,
            0.0,
            r20,
            r21,
            focal,
        ])
    }

    /// `self * other`: apply `other` first.
    pub fn then_after(self, other: Mat3) -> Mat3 {
        let a = self.0;
        let b = other.0;
        let mut m = [0.0; 9];
        for r in 0..3 {
            for c in 0..3 {
                m[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
            }
        }
        Mat3(m)
    }

    /// `other` applied after `self`.
    pub fn then(self, other: Mat3) -> Mat3 {
        other.then_after(self)
    }

    pub fn apply(&self, p: Pt) -> Pt {
        let m = &self.0;
        let w = m[6] * p.x + m[7] * p.y + m[8];
        Pt::new(
            (m[0] * p.x + m[1] * p.y + m[2]) / w,
            (m[3] * p.x + m[4] * p.y + m[5]) / w,
        )
    }

    pub fn inverse(&self) -> Option<Mat3> {
        let m = &self.0;
        let c00 = m[4] * m[8] - m[5] * m[7];
        let c01 = m[5] * m[6] - m[3] * m[8];
        let c02 = m[3] * m[7] - m[4] * m[6];
        let det = m[0] * c00 + m[1] * c01 + m[2] * c02;
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let d = 1.0 / det;
        Some(Mat3([
            c00 * d,
            (m[2] * m[7] - m[1] * m[8]) * d,
            (m[1] * m[5] - m[2] * m[4]) * d,
            c01 * d,
            (m[0] * m[8] - m[2] * m[6]) * d,
            (m[2] * m[3] - m[0] * m[5]) * d,
            c02 * d,
            (m[1] * m[6] - m[0] * m[7]) * d,
            (m[0] * m[4] - m[1] * m[3]) * d,
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Pt, b: Pt) -> bool {
        (a.x - b.x).abs() < 1e-9 && (a.y - b.y).abs() < 1e-9
    }

    #[test]
    fn dial_directions() {
        assert!(close(dial_dir(0.0), Pt::new(0.0, -1.0)));
        assert!(close(dial_dir(90.0), Pt::new(1.0, 0.0)));
        assert!((dial_angle_of(Pt::new(-1.0, 0.0)) - 270.0).abs() < 1e-9);
        assert!((dial_angle_of(Pt::new(0.0, 1.0)) - 180.0).abs() < 1e-9);
    }

    #[test]
    fn rotation_is_clockwise_on_screen() {
        let p = Mat3::rotate_deg(90.0).apply(Pt::new(0.0, -1.0));
        assert!(close(p, Pt::new(1.0, 0.0)));
    }

    #[test]
    fn inverse_round_trips() {
        let m = Mat3::translate(3.0, -2.0)
            .then(Mat3::rotate_deg(31.0))
            .then(Mat3::tilt(20.0, -15.0, 800.0));
        let inv = m.inverse().unwrap();
        let p = Pt::new(12.5, -40.25);
        assert!(close(inv.apply(m.apply(p)), p));
    }
}
