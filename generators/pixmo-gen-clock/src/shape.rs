//! Vector shapes drawn per time (hands, centre cap, crystal glare).
//!
//! They are built once per render in dial units (the 1000 x 1000 face canvas) and drawn
//! either straight onto a `tiny_skia` pixmap (the fast path) or written as SVG elements (for
//! [`crate::ClockRenderer::svg`]).

use std::fmt::Write;

use resvg::tiny_skia::{self, FillRule, Paint, PathBuilder, Pixmap, Transform};

use crate::color::Color;
use crate::geometry::Pt;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Seg {
    Move(Pt),
    Line(Pt),
    Quad(Pt, Pt),
    Cubic(Pt, Pt, Pt),
    Close,
}

#[derive(Clone, Debug)]
pub(crate) enum Fill {
    Solid(Color, f32),
}

#[derive(Clone, Debug)]
pub(crate) struct Shape {
    pub segs: Vec<Seg>,
    pub fill: Fill,
    pub even_odd: bool,
}

impl Shape {
    pub fn new(segs: Vec<Seg>, fill: Fill) -> Shape {
        Shape {
            segs,
            fill,
            even_odd: false,
        }
    }

    pub fn polygon(points: &[Pt], fill: Fill) -> Shape {
        let mut segs = Vec::with_capacity(points.len() + 1);
        for (i, p) in points.iter().enumerate() {
            segs.push(if i == 0 { Seg::Move(*p) } else { Seg::Line(*p) });
        }
        segs.push(Seg::Close);
        Shape::new(segs, fill)
    }

    pub fn circle(c: Pt, r: f64, fill: Fill) -> Shape {
        let mut segs = Vec::new();
        push_circle(&mut segs, c, r);
        Shape::new(segs, fill)
    }

    /// The same outline moved by `d`, filled with `fill` (drop shadows).
    pub fn shifted(&self, d: Pt, fill: Fill) -> Shape {
        let m = |p: Pt| p.add(d);
        let segs = self
            .segs
            .iter()
            .map(|s| match *s {
                Seg::Move(p) => Seg::Move(m(p)),
                Seg::Line(p) => Seg::Line(m(p)),
                Seg::Quad(a, p) => Seg::Quad(m(a), m(p)),
                Seg::Cubic(a, b, p) => Seg::Cubic(m(a), m(b), m(p)),
                Seg::Close => Seg::Close,
            })
            .collect();
        Shape {
            segs,
            fill,
            even_odd: self.even_odd,
        }
    }

    /// Writes the shape as an SVG `<path>` element.
    pub fn write_svg(&self, out: &mut String) {
        let mut d = String::new();
        for s in &self.segs {
            let _ = match *s {
                Seg::Move(p) => write!(d, "M{:.3} {:.3}", p.x, p.y),
                Seg::Line(p) => write!(d, "L{:.3} {:.3}", p.x, p.y),
                Seg::Quad(a, p) => write!(d, "Q{:.3} {:.3} {:.3} {:.3}", a.x, a.y, p.x, p.y),
                Seg::Cubic(a, b, p) => write!(
                    d,
                    "C{:.3} {:.3} {:.3} {:.3} {:.3} {:.3}",
                    a.x, a.y, b.x, b.y, p.x, p.y
                ),
                Seg::Close => write!(d, "Z"),
            };
        }
        let rule = if self.even_odd { "evenodd" } else { "nonzero" };
        let Fill::Solid(c, a) = &self.fill;
        let _ = writeln!(
            out,
            r#"<path d="{d}" fill="{}" fill-opacity="{a}" fill-rule="{rule}"/>"#,
            c.hex()
        );
    }

    /// Fills the shape onto `pixmap`; `ts` maps dial units to pixels.
    pub fn draw(&self, pixmap: &mut Pixmap, ts: Transform) {
        let mut pb = PathBuilder::new();
        for s in &self.segs {
            match *s {
                Seg::Move(p) => pb.move_to(p.x as f32, p.y as f32),
                Seg::Line(p) => pb.line_to(p.x as f32, p.y as f32),
                Seg::Quad(a, p) => pb.quad_to(a.x as f32, a.y as f32, p.x as f32, p.y as f32),
                Seg::Cubic(a, b, p) => pb.cubic_to(
                    a.x as f32, a.y as f32, b.x as f32, b.y as f32, p.x as f32, p.y as f32,
                ),
                Seg::Close => pb.close(),
            }
        }
        let Some(path) = pb.finish() else {
            return;
        };
        let Fill::Solid(c, a) = &self.fill;
        let mut paint = Paint {
            anti_alias: true,
            ..Paint::default()
        };
        paint.set_color(tiny_skia::Color::from_rgba8(
            c.r,
            c.g,
            c.b,
            (a.clamp(0.0, 1.0) * 255.0).round() as u8,
        ));
        let rule = if self.even_odd {
            FillRule::EvenOdd
        } else {
            FillRule::Winding
        };
        pixmap.fill_path(&path, &paint, rule, ts, None);
    }
}

/// Appends a full circle (four cubic arcs) to `segs`.
pub(crate) fn push_circle(segs: &mut Vec<Seg>, c: Pt, r: f64) {
    const K: f64 = 0.552_284_749_8;
    let k = K * r;
    segs.push(Seg::Move(Pt::new(c.x + r, c.y)));
    segs.push(Seg::Cubic(
        Pt::new(c.x + r, c.y + k),
        Pt::new(c.x + k, c.y + r),
        Pt::new(c.x, c.y + r),
    ));
    segs.push(Seg::Cubic(
        Pt::new(c.x - k, c.y + r),
        Pt::new(c.x - r, c.y + k),
        Pt::new(c.x - r, c.y),
    ));
    segs.push(Seg::Cubic(
        Pt::new(c.x - r, c.y - k),
        Pt::new(c.x - k, c.y - r),
        Pt::new(c.x, c.y - r),
    ));
    segs.push(Seg::Cubic(
        Pt::new(c.x + k, c.y - r),
        Pt::new(c.x + r, c.y - k),
        Pt::new(c.x + r, c.y),
    ));
    segs.push(Seg::Close);
}
