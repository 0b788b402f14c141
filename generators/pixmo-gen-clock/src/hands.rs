//! Hand geometry: exact angles from the time, one outline per [`HandStyle`], drawn per time.

use crate::color::Color;
use crate::face::{FaceSpec, HandStyle, SecondStyle};
use crate::geometry::{HandFrame, Pt, dial_dir};
use crate::layout::{CENTER, Layout};
use crate::shape::{Fill, Seg, Shape, push_circle};
use crate::time::ClockTime;

/// Which hands to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct HandMask {
    pub hour: bool,
    pub minute: bool,
    pub second: bool,
}

impl HandMask {
    pub const ALL: HandMask = HandMask {
        hour: true,
        minute: true,
        second: true,
    };
    pub const NONE: HandMask = HandMask {
        hour: false,
        minute: false,
        second: false,
    };
}

/// Pivot, angle and length of one hand, in dial units.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HandGeom {
    pub pivot: Pt,
    pub angle_deg: f64,
    pub length: f64,
}

impl HandGeom {
    pub fn tip(&self) -> Pt {
        self.pivot.add(dial_dir(self.angle_deg).scale(self.length))
    }
}

/// Geometry of all hands of a face at a time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HandSet {
    pub hour: HandGeom,
    pub minute: HandGeom,
    pub second: Option<HandGeom>,
}

impl HandSet {
    pub fn new(face: &FaceSpec, layout: &Layout, time: ClockTime) -> HandSet {
        let r = layout.r;
        let hour = HandGeom {
            pivot: CENTER,
            angle_deg: time.hour_angle_deg(),
            length: f64::from(face.hands.hour_length) * r,
        };
        let minute = HandGeom {
            pivot: CENTER,
            angle_deg: time.minute_angle_deg(),
            length: f64::from(face.hands.minute_length) * r,
        };
        let second = face
            .hands
            .second
            .as_ref()
            .map(|s| match layout.seconds_subdial() {
                Some((pivot, sub_r)) if s.in_subdial => HandGeom {
                    pivot,
                    angle_deg: time.second_angle_deg(),
                    length: 0.86 * sub_r,
                },
                _ => HandGeom {
                    pivot: CENTER,
                    angle_deg: time.second_angle_deg(),
                    length: 0.92 * r,
                },
            });
        HandSet {
            hour,
            minute,
            second,
        }
    }
}

/// Builds segments in hand-local coordinates (`across`, `along`).
struct Local {
    frame: HandFrame,
    segs: Vec<Seg>,
}

impl Local {
    fn new(g: &HandGeom) -> Local {
        Local {
            frame: HandFrame::new(g.pivot, g.angle_deg),
            segs: Vec::new(),
        }
    }
    fn poly(&mut self, pts: &[(f64, f64)]) -> &mut Local {
        for (i, &(a, l)) in pts.iter().enumerate() {
            let p = self.frame.map(a, l);
            self.segs
                .push(if i == 0 { Seg::Move(p) } else { Seg::Line(p) });
        }
        self.segs.push(Seg::Close);
        self
    }
    fn circle(&mut self, along: f64, radius: f64) -> &mut Local {
        push_circle(&mut self.segs, self.frame.map(0.0, along), radius);
        self
    }
    fn quad(&mut self, ctrl: (f64, f64), to: (f64, f64)) -> &mut Local {
        let c = self.frame.map(ctrl.0, ctrl.1);
        let p = self.frame.map(to.0, to.1);
        self.segs.push(Seg::Quad(c, p));
        self
    }
    fn cubic(&mut self, c1: (f64, f64), c2: (f64, f64), to: (f64, f64)) -> &mut Local {
        let c1 = self.frame.map(c1.0, c1.1);
        let c2 = self.frame.map(c2.0, c2.1);
        let p = self.frame.map(to.0, to.1);
        self.segs.push(Seg::Cubic(c1, c2, p));
        self
    }
    fn move_to(&mut self, p: (f64, f64)) -> &mut Local {
        self.segs.push(Seg::Move(self.frame.map(p.0, p.1)));
        self
    }
    fn close(&mut self) -> &mut Local {
        self.segs.push(Seg::Close);
        self
    }
    fn take(&mut self) -> Vec<Seg> {
        std::mem::take(&mut self.segs)
    }
}

const SHADOW_OFFSET: Pt = Pt::new(2.4, 3.6);
const SHADOW_ALPHA: f32 = 0.3;

fn solid(c: Color) -> Fill {
    Fill::Solid(c, 1.0)
}

/// The outline (and inlays) of an hour or minute hand.
fn main_hand(
    style: HandStyle,
    g: &HandGeom,
    w: f64,
    color: Color,
    lume: Option<Color>,
) -> Vec<Shape> {
    let l = g.length;
    let t = 0.16 * l;
    let mut h = Local::new(g);
    let mut out = Vec::new();
    let mut lume_poly: Option<Vec<(f64, f64)>> = None;
    match style {
        HandStyle::Baton => {
            let w = 0.9 * w;
            h.poly(&[(-w / 2.0, -t), (w / 2.0, -t), (w / 2.0, l), (-w / 2.0, l)]);
            out.push(Shape::new(h.take(), solid(color)));
            lume_poly = Some(vec![
                (-w / 4.0, 0.3 * l),
                (w / 4.0, 0.3 * l),
                (w / 4.0, l - w / 2.0),
                (-w / 4.0, l - w / 2.0),
            ]);
        }
        HandStyle::Pencil => {
            h.poly(&[
                (-w / 2.0, -t),
                (w / 2.0, -t),
                (w / 2.0, l - 1.4 * w),
                (0.0, l),
                (-w / 2.0, l - 1.4 * w),
            ]);
            out.push(Shape::new(h.take(), solid(color)));
            lume_poly = Some(vec![
                (-w / 4.0, 0.3 * l),
                (w / 4.0, 0.3 * l),
                (w / 4.0, l - 1.6 * w),
                (-w / 4.0, l - 1.6 * w),
            ]);
        }
        HandStyle::Dauphine => {
            let hw = 0.75 * w;
            h.poly(&[(0.0, -0.6 * t), (-hw, 0.12 * l), (0.0, l)]);
            out.push(Shape::new(h.take(), solid(color.lighten(0.25))));
            h.poly(&[(0.0, -0.6 * t), (0.0, l), (hw, 0.12 * l)]);
            out.push(Shape::new(h.take(), solid(color.darken(0.15))));
        }
        HandStyle::Leaf => {
            let c = 1.25 * w;
            h.move_to((0.0, -0.5 * t))
                .quad((-c, 0.42 * l), (0.0, l))
                .quad((c, 0.42 * l), (0.0, -0.5 * t))
                .close();
            out.push(Shape::new(h.take(), solid(color)));
        }
        HandStyle::Sword => {
            h.poly(&[
                (-0.3 * w, -t),
                (0.3 * w, -t),
                (0.62 * w, 0.72 * l),
                (0.0, l),
                (-0.62 * w, 0.72 * l),
            ]);
            out.push(Shape::new(h.take(), solid(color)));
            lume_poly = Some(vec![
                (-0.13 * w, 0.16 * l),
                (0.13 * w, 0.16 * l),
                (0.4 * w, 0.71 * l),
                (0.0, 0.9 * l),
                (-0.4 * w, 0.71 * l),
            ]);
        }
        HandStyle::Skeleton => {
            h.poly(&[
                (-0.36 * w, -t),
                (0.36 * w, -t),
                (0.62 * w, 0.75 * l),
                (0.0, l),
                (-0.62 * w, 0.75 * l),
            ]);
            h.poly(&[
                (-0.14 * w, 0.14 * l),
                (0.14 * w, 0.14 * l),
                (0.36 * w, 0.73 * l),
                (0.0, 0.9 * l),
                (-0.36 * w, 0.73 * l),
            ]);
            let mut s = Shape::new(h.take(), solid(color));
            s.even_odd = true;
            out.push(s);
        }
        HandStyle::Breguet => {
            let ring = 0.72 * l;
            let (r1, r2) = (0.78 * w, 0.45 * w);
            h.poly(&[
                (-0.2 * w, -t),
                (0.2 * w, -t),
                (0.2 * w, ring - r1 + 2.0),
                (-0.2 * w, ring - r1 + 2.0),
            ]);
            h.poly(&[
                (-0.24 * w, ring + r1 - 2.0),
                (0.24 * w, ring + r1 - 2.0),
                (0.0, l),
            ]);
            out.push(Shape::new(h.take(), solid(color)));
            h.circle(ring, r1).circle(ring, r2);
            let mut s = Shape::new(h.take(), solid(color));
            s.even_odd = true;
            out.push(s);
        }
        HandStyle::Arrow => {
            h.poly(&[
                (-0.22 * w, -t),
                (0.22 * w, -t),
                (0.22 * w, 0.74 * l),
                (-0.22 * w, 0.74 * l),
            ]);
            h.poly(&[(-0.85 * w, 0.7 * l), (0.0, l), (0.85 * w, 0.7 * l)]);
            out.push(Shape::new(h.take(), solid(color)));
            lume_poly = Some(vec![
                (-0.45 * w, 0.74 * l),
                (0.0, 0.93 * l),
                (0.45 * w, 0.74 * l),
            ]);
        }
        HandStyle::Alpha => {
            h.poly(&[
                (0.0, -0.5 * t),
                (-0.62 * w, 0.06 * l),
                (-0.12 * w, 0.96 * l),
                (0.0, l),
                (0.12 * w, 0.96 * l),
                (0.62 * w, 0.06 * l),
            ]);
            out.push(Shape::new(h.take(), solid(color)));
        }
        HandStyle::Spade => {
            h.poly(&[
                (-0.2 * w, -t),
                (0.2 * w, -t),
                (0.2 * w, 0.62 * l),
                (-0.2 * w, 0.62 * l),
            ]);
            h.move_to((0.0, 0.56 * l))
                .cubic((-1.3 * w, 0.6 * l), (-0.7 * w, 0.84 * l), (0.0, l))
                .cubic((0.7 * w, 0.84 * l), (1.3 * w, 0.6 * l), (0.0, 0.56 * l))
                .close();
            out.push(Shape::new(h.take(), solid(color)));
        }
    }
    if let (Some(lume), Some(poly)) = (lume, lume_poly) {
        h.poly(&poly);
        out.push(Shape::new(h.take(), solid(lume)));
    }
    out
}

fn second_hand(style: SecondStyle, g: &HandGeom, ws: f64, color: Color) -> Vec<Shape> {
    let l = g.length;
    let t = 0.22 * l;
    let mut h = Local::new(g);
    let tip_end = if style == SecondStyle::Arrow {
        0.9 * l
    } else {
        l
    };
    h.poly(&[
        (-ws / 2.0, -t),
        (ws / 2.0, -t),
        (ws * 0.3, tip_end),
        (-ws * 0.3, tip_end),
    ]);
    match style {
        SecondStyle::Needle => {}
        SecondStyle::Lollipop => {
            h.circle(0.78 * l, 2.6 * ws);
        }
        SecondStyle::Arrow => {
            h.poly(&[(-2.0 * ws, 0.86 * l), (0.0, l), (2.0 * ws, 0.86 * l)]);
        }
        SecondStyle::Counterweight => {
            h.circle(-0.16 * l, 3.0 * ws);
        }
    }
    h.circle(0.0, 2.2 * ws);
    vec![Shape::new(h.take(), solid(color))]
}

/// Relative width factor of each style (so that their visual weight is similar).
fn style_width(style: HandStyle) -> f64 {
    match style {
        HandStyle::Dauphine | HandStyle::Alpha => 1.45,
        HandStyle::Leaf => 1.2,
        HandStyle::Sword | HandStyle::Skeleton => 1.35,
        HandStyle::Breguet | HandStyle::Spade => 1.0,
        HandStyle::Arrow => 1.15,
        HandStyle::Baton | HandStyle::Pencil => 1.0,
    }
}

fn with_shadows(shapes: Vec<Shape>, out: &mut Vec<Shape>) {
    for s in &shapes {
        out.push(s.shifted(SHADOW_OFFSET, Fill::Solid(Color::BLACK, SHADOW_ALPHA)));
    }
    out.extend(shapes);
}

/// Everything drawn above the static layer for this time: hands, caps and the crystal glare.
pub(crate) fn dynamic_shapes(
    face: &FaceSpec,
    layout: &Layout,
    set: &HandSet,
    mask: HandMask,
) -> Vec<Shape> {
    let r = layout.r;
    let hs = &face.hands;
    let w = 0.06 * r * f64::from(hs.width) * style_width(hs.style);
    let mut out = Vec::new();
    if mask.hour {
        let shapes = main_hand(hs.style, &set.hour, 1.2 * w, hs.color, hs.lume);
        with_shadows(shapes, &mut out);
    }
    if mask.minute {
        let shapes = main_hand(hs.style, &set.minute, 0.9 * w, hs.color, hs.lume);
        with_shadows(shapes, &mut out);
    }
    if mask.hour || mask.minute {
        let cap = (0.035 * r).max(0.45 * w);
        out.push(Shape::circle(CENTER, cap, solid(hs.color)));
    }
    if let (Some(spec), Some(g)) = (&hs.second, &set.second)
        && mask.second
    {
        let sub = spec.in_subdial && g.pivot != CENTER;
        let ws = if sub { 0.012 * r } else { 0.014 * r };
        let style = if sub { SecondStyle::Needle } else { spec.style };
        with_shadows(second_hand(style, g, ws, spec.color), &mut out);
    }
    if mask.hour || mask.minute || mask.second {
        out.push(Shape::circle(
            CENTER,
            0.012 * r,
            solid(hs.color.darken(0.4)),
        ));
    }
    if face.crystal_glare {
        out.push(glare(layout));
    }
    out
}

/// A faint crescent reflection over the upper-left of the dial.
fn glare(layout: &Layout) -> Shape {
    let mut pts = Vec::with_capacity(40);
    let (from, to) = (225.0, 405.0);
    let steps = 18;
    for i in 0..=steps {
        let a = from + (to - from) * f64::from(i) / f64::from(steps);
        pts.push(layout.at(a, 4.0));
    }
    for i in (0..=steps).rev() {
        let f = f64::from(i) / f64::from(steps);
        let a = from + (to - from) * f;
        let bulge = libm::sin(std::f64::consts::PI * f);
        let d = (layout.edge(a) - 4.0) * (1.0 - 0.3 * bulge);
        pts.push(Layout::polar(a, d));
    }
    Shape::polygon(&pts, Fill::Solid(Color::WHITE, 0.09))
}

/// A small static hand for a decorative chronograph sub-dial (part of the static layer).
pub(crate) fn decorative_hand(
    pivot: Pt,
    angle_deg: f64,
    length: f64,
    w: f64,
    color: Color,
) -> Vec<Shape> {
    let g = HandGeom {
        pivot,
        angle_deg,
        length,
    };
    let mut shapes = second_hand(SecondStyle::Needle, &g, w, color);
    let mut h = Local::new(&g);
    h.circle(0.0, 1.6 * w);
    shapes.push(Shape::new(h.take(), solid(color.darken(0.3))));
    shapes
}
