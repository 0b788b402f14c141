//! The static layer of a face as an SVG document: body (strap, lugs, case, crown, bezel) and
//! dial (texture, minute track, markers, numerals, sub-dials, date window, text).
//!
//! Coordinates are dial units on a 1000 x 1000 canvas with the dial centre at (500, 500).
//! Numbers are written with fixed precision so the same face always gives the same bytes.

mod bezel;
mod case;
mod dial;
mod strap;

use std::fmt::Write;

use crate::face::FaceSpec;
use crate::geometry::{HandFrame, Pt};
use crate::layout::{CANVAS, CENTER, Layout};
use crate::shape::Shape;

/// An SVG document under construction.
pub(crate) struct Svg {
    pub defs: String,
    pub body: String,
    next_id: usize,
}

impl Svg {
    fn new() -> Svg {
        Svg {
            defs: String::new(),
            body: String::new(),
            next_id: 0,
        }
    }

    /// A fresh element id with this prefix.
    pub fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    /// Appends a raw element.
    pub fn push(&mut self, element: impl AsRef<str>) {
        self.body.push_str(element.as_ref());
        self.body.push('\n');
    }

    /// Appends vector shapes (hands and the like).
    pub fn shapes(&mut self, shapes: &[Shape]) {
        for s in shapes {
            s.write_svg(&mut self.body);
        }
    }

    /// A linear gradient definition; returns `url(#id)`.
    pub fn linear(
        &mut self,
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        stops: &[(f64, String, f64)],
    ) -> String {
        let id = self.id("lg");
        let _ = write!(
            self.defs,
            r#"<linearGradient id="{id}" gradientUnits="userSpaceOnUse" x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}">"#
        );
        for (o, c, a) in stops {
            let _ = write!(
                self.defs,
                r#"<stop offset="{o:.3}" stop-color="{c}" stop-opacity="{a:.3}"/>"#
            );
        }
        self.defs.push_str("</linearGradient>\n");
        format!("url(#{id})")
    }

    /// A radial gradient definition centred at `(cx, cy)`; returns `url(#id)`.
    pub fn radial(&mut self, cx: f64, cy: f64, r: f64, stops: &[(f64, String, f64)]) -> String {
        let id = self.id("rg");
        let _ = write!(
            self.defs,
            r#"<radialGradient id="{id}" gradientUnits="userSpaceOnUse" cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}">"#
        );
        for (o, c, a) in stops {
            let _ = write!(
                self.defs,
                r#"<stop offset="{o:.3}" stop-color="{c}" stop-opacity="{a:.3}"/>"#
            );
        }
        self.defs.push_str("</radialGradient>\n");
        format!("url(#{id})")
    }

    /// A clip path from raw element markup; returns `url(#id)`.
    pub fn clip(&mut self, element: &str) -> String {
        let id = self.id("cp");
        let _ = writeln!(self.defs, r#"<clipPath id="{id}">{element}</clipPath>"#);
        format!("url(#{id})")
    }

    fn finish(self, size: u32) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {CANVAS} {CANVAS}\">\n<defs>\n{}</defs>\n{}</svg>\n",
            self.defs, self.body
        )
    }
}

/// `M..L..Z` path data for a polygon.
pub(crate) fn poly_d(points: &[Pt]) -> String {
    let mut d = String::new();
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            d,
            "{}{:.2} {:.2} ",
            if i == 0 { 'M' } else { 'L' },
            p.x,
            p.y
        );
    }
    d.push('Z');
    d
}

/// A polygon given in radial coordinates (`across`, `dist` from the centre) at angle `deg`.
pub(crate) fn radial_poly(deg: f64, pts: &[(f64, f64)]) -> String {
    radial_poly_at(CENTER, deg, pts)
}

/// As [`radial_poly`] around another centre.
pub(crate) fn radial_poly_at(center: Pt, deg: f64, pts: &[(f64, f64)]) -> String {
    let f = HandFrame::new(center, deg);
    let v: Vec<Pt> = pts.iter().map(|&(a, l)| f.map(a, l)).collect();
    poly_d(&v)
}

/// Escapes text for SVG content.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
}

/// The static layer: everything below the hands.
pub(crate) fn static_layer(face: &FaceSpec, layout: &Layout, size: u32) -> String {
    let mut svg = Svg::new();
    case::draw_body(&mut svg, face, layout);
    dial::draw_dial(&mut svg, face, layout);
    svg.finish(size)
}

/// The whole face at one time: static layer plus the given dynamic shapes.
pub(crate) fn full(face: &FaceSpec, layout: &Layout, dynamic: &[Shape], size: u32) -> String {
    let mut svg = Svg::new();
    case::draw_body(&mut svg, face, layout);
    dial::draw_dial(&mut svg, face, layout);
    svg.shapes(dynamic);
    svg.finish(size)
}
