//! Where things sit on the face canvas: a 1000 x 1000 unit square with the dial centre at
//! (500, 500). Shared by the static SVG layer and the per-time hands, so both agree exactly.

use crate::body::{BezelStyle, CaseShape};
use crate::face::{FaceSpec, SubDials};
use crate::geometry::{Pt, dial_dir};

/// Side of the face canvas in dial units.
pub(crate) const CANVAS: f64 = 1000.0;
/// The dial centre in dial units.
pub(crate) const CENTER: Pt = Pt::new(500.0, 500.0);

/// The dial outline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Outline {
    Ellipse,
    RoundRect { corner: f64 },
}

#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Dial half-width and half-height.
    pub a: f64,
    pub b: f64,
    pub outline: Outline,
    /// `min(a, b)`: hand lengths and marker sizes scale with it.
    pub r: f64,
    /// Sub-dial centres and radii, in the order of [`SubDials::angles`].
    pub subdials: Vec<(Pt, f64)>,
    /// Index of the running-seconds sub-dial (see [`Layout::seconds_subdial_index`]).
    pub seconds_sub: Option<usize>,
}

/// How much of the case radius the bezel takes.
pub(crate) fn bezel_width(case: CaseShape, bezel: BezelStyle) -> f64 {
    let wall = matches!(case, CaseShape::Wall | CaseShape::WallSquare);
    match (bezel, wall) {
        (BezelStyle::Thin, false) => 18.0,
        (BezelStyle::Thin, true) => 20.0,
        (BezelStyle::Polished, false) => 36.0,
        (BezelStyle::Polished, true) => 50.0,
        (BezelStyle::Diver | BezelStyle::Tachymeter | BezelStyle::Gmt, _) => 66.0,
        (BezelStyle::Knurled, _) => 40.0,
        (BezelStyle::Fluted, false) => 42.0,
        (BezelStyle::Fluted, true) => 62.0,
        (BezelStyle::Gems, _) => 46.0,
        (BezelStyle::Screws, false) => 52.0,
        (BezelStyle::Screws, true) => 70.0,
    }
}

/// Outer case half-width/half-height for each case shape.
pub(crate) fn case_size(case: CaseShape) -> (f64, f64) {
    match case {
        CaseShape::Round | CaseShape::Octagon => (330.0, 330.0),
        CaseShape::Cushion => (322.0, 322.0),
        CaseShape::Tonneau => (272.0, 340.0),
        CaseShape::Square => (305.0, 305.0),
        CaseShape::Rectangle => (232.0, 335.0),
        CaseShape::Oval => (268.0, 335.0),
        CaseShape::Pocket => (330.0, 330.0),
        CaseShape::Wall | CaseShape::WallSquare => (485.0, 485.0),
        CaseShape::AlarmBells => (300.0, 300.0),
        CaseShape::Desk => (330.0, 330.0),
    }
}

impl Layout {
    pub fn new(face: &FaceSpec) -> Layout {
        let body = face.body_spec();
        let (ca, cb) = case_size(body.case);
        let bw = bezel_width(body.case, body.bezel);
        let (a, b, outline) = match body.case {
            CaseShape::Round
            | CaseShape::Pocket
            | CaseShape::Wall
            | CaseShape::AlarmBells
            | CaseShape::Desk => (ca - bw - 6.0, cb - bw - 6.0, Outline::Ellipse),
            CaseShape::Cushion => (ca - bw - 14.0, cb - bw - 14.0, Outline::Ellipse),
            CaseShape::Octagon => (ca - bw - 16.0, cb - bw - 16.0, Outline::Ellipse),
            CaseShape::Oval => (ca - bw - 6.0, cb - bw - 6.0, Outline::Ellipse),
            CaseShape::Tonneau => (
                ca - bw - 22.0,
                cb - bw - 26.0,
                Outline::RoundRect { corner: 70.0 },
            ),
            CaseShape::Square | CaseShape::Rectangle => (
                ca - bw - 10.0,
                cb - bw - 10.0,
                Outline::RoundRect { corner: 34.0 },
            ),
            CaseShape::WallSquare => (
                ca - bw - 6.0,
                cb - bw - 6.0,
                Outline::RoundRect { corner: 26.0 },
            ),
        };
        let mut layout = Layout {
            a,
            b,
            outline,
            r: a.min(b),
            subdials: Vec::new(),
            seconds_sub: None,
        };
        let angles = face.dial.subdials.angles();
        let sub_r = match face.dial.subdials {
            SubDials::None => 0.0,
            SubDials::At6 | SubDials::At9 => 0.26 * layout.r,
            SubDials::At3And9 => 0.25 * layout.r,
            _ => 0.22 * layout.r,
        };
        layout.subdials = angles
            .iter()
            .map(|&deg| {
                let dist = 0.5 * layout.edge(deg).min(1.25 * layout.r);
                (CENTER.add(dial_dir(deg).scale(dist)), sub_r)
            })
            .collect();
        layout.seconds_sub = layout.seconds_subdial_index(face);
        layout
    }

    /// Distance from the centre to the dial edge in direction `deg` (clockwise from 12).
    pub fn edge(&self, deg: f64) -> f64 {
        let d = dial_dir(deg);
        let (dx, dy) = (d.x.abs(), d.y.abs());
        match self.outline {
            Outline::Ellipse => {
                let (ex, ey) = (dx / self.a, dy / self.b);
                1.0 / libm::sqrt(ex * ex + ey * ey)
            }
            Outline::RoundRect { corner } => {
                let t_rect = if dx < 1e-12 {
                    self.b / dy
                } else if dy < 1e-12 {
                    self.a / dx
                } else {
                    (self.a / dx).min(self.b / dy)
                };
                let (px, py) = (t_rect * dx, t_rect * dy);
                let (cx, cy) = (self.a - corner, self.b - corner);
                if px > cx && py > cy {
                    let dc = dx * cx + dy * cy;
                    let disc = dc * dc - (cx * cx + cy * cy) + corner * corner;
                    dc + libm::sqrt(disc.max(0.0))
                } else {
                    t_rect
                }
            }
        }
    }

    /// Index into `subdials` of the running-seconds sub-dial: the one at 9 o'clock if there is
    /// one (the chronograph convention), else the first.
    pub fn seconds_subdial_index(&self, face: &FaceSpec) -> Option<usize> {
        let angles = face.dial.subdials.angles();
        if angles.is_empty() {
            return None;
        }
        Some(angles.iter().position(|&a| a == 270.0).unwrap_or(0))
    }

    /// Centre and radius of the running-seconds sub-dial, if the face has sub-dials.
    pub fn seconds_subdial(&self) -> Option<(Pt, f64)> {
        self.seconds_sub.map(|i| self.subdials[i])
    }

    /// The point `inset` units inside the dial edge in direction `deg`.
    pub fn at(&self, deg: f64, inset: f64) -> Pt {
        CENTER.add(dial_dir(deg).scale(self.edge(deg) - inset))
    }

    /// The point at `dist` units from the centre in direction `deg`.
    pub fn polar(deg: f64, dist: f64) -> Pt {
        CENTER.add(dial_dir(deg).scale(dist))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounded_rect_edges() {
        let l = Layout {
            a: 200.0,
            b: 300.0,
            outline: Outline::RoundRect { corner: 50.0 },
            r: 200.0,
            subdials: vec![],
            seconds_sub: None,
        };
        assert!((l.edge(0.0) - 300.0).abs() < 1e-9);
        assert!((l.edge(90.0) - 200.0).abs() < 1e-9);
        assert!((l.edge(180.0) - 300.0).abs() < 1e-9);
        // The corner is rounded: shorter than the sharp corner distance.
        let diag = crate::geometry::dial_angle_of(Pt::new(200.0, -300.0));
        let sharp = libm::sqrt(200.0f64 * 200.0 + 300.0 * 300.0);
        assert!(l.edge(diag) < sharp - 10.0);
    }
}
