//! Body drawing: the case, crown and pushers, and the stands, bells and bows of clocks and
//! pocket watches; straps (`strap.rs`) and bezels (`bezel.rs`) are drawn from here.

use super::{Svg, bezel, poly_d, radial_poly, strap};
use crate::body::{BodyFamily, CaseShape, CrownStyle, StrapKind};
use crate::color::Color;
use crate::face::FaceSpec;
use crate::geometry::{Pt, dial_dir};
use crate::layout::{CENTER, Layout, Outline, bezel_width, case_size};

/// Metal (or plastic) colours of the case as SVG strings plus ready-made gradients.
pub(super) struct Metal {
    pub base: Color,
    pub hi: Color,
    pub lo: Color,
    /// Light top-left to dark bottom-right.
    pub grad: String,
    /// The reverse, for rings that sit inside the case.
    pub grad_rev: String,
}

impl Metal {
    fn new(svg: &mut Svg, face: &FaceSpec, half: f64) -> Metal {
        let (base, hi, lo) = face.material.colors();
        let (x0, y0, x1, y1) = (500.0 - half, 500.0 - half, 500.0 + half, 500.0 + half);
        let grad = svg.linear(
            x0,
            y0,
            x1,
            y1,
            &[
                (0.0, hi.hex(), 1.0),
                (0.45, base.hex(), 1.0),
                (1.0, lo.hex(), 1.0),
            ],
        );
        let grad_rev = svg.linear(
            x0,
            y0,
            x1,
            y1,
            &[
                (0.0, lo.hex(), 1.0),
                (0.5, base.hex(), 1.0),
                (1.0, hi.hex(), 1.0),
            ],
        );
        Metal {
            base,
            hi,
            lo,
            grad,
            grad_rev,
        }
    }

    pub fn edge(&self) -> String {
        self.lo.darken(0.35).hex()
    }
}

pub(super) fn ellipse_d(c: Pt, a: f64, b: f64) -> String {
    format!(
        "M{:.2} {:.2} A{a:.2} {b:.2} 0 1 0 {:.2} {:.2} A{a:.2} {b:.2} 0 1 0 {:.2} {:.2} Z",
        c.x - a,
        c.y,
        c.x + a,
        c.y,
        c.x - a,
        c.y
    )
}

pub(super) fn rrect_d(c: Pt, a: f64, b: f64, rc: f64) -> String {
    let rc = rc.min(a).min(b);
    let (x0, y0, x1, y1) = (c.x - a, c.y - b, c.x + a, c.y + b);
    format!(
        "M{:.2} {y0:.2} H{:.2} A{rc:.2} {rc:.2} 0 0 1 {x1:.2} {:.2} V{:.2} A{rc:.2} {rc:.2} 0 0 1 {:.2} {y1:.2} H{:.2} A{rc:.2} {rc:.2} 0 0 1 {x0:.2} {:.2} V{:.2} A{rc:.2} {rc:.2} 0 0 1 {:.2} {y0:.2} Z",
        x0 + rc,
        x1 - rc,
        y0 + rc,
        y1 - rc,
        x1 - rc,
        x0 + rc,
        y1 - rc,
        y0 + rc,
        x0 + rc
    )
}

fn tonneau_d(a: f64, b: f64) -> String {
    let (c, k) = (500.0, 0.86);
    format!(
        "M{:.1} {:.1} Q{c:.1} {:.1} {:.1} {:.1} Q{:.1} {c:.1} {:.1} {:.1} Q{c:.1} {:.1} {:.1} {:.1} Q{:.1} {c:.1} {:.1} {:.1} Z",
        c - k * a,
        c - b,
        c - b - 24.0,
        c + k * a,
        c - b,
        c + 1.14 * a,
        c + k * a,
        c + b,
        c + b + 24.0,
        c - k * a,
        c + b,
        c - 1.14 * a,
        c - k * a,
        c - b
    )
}

pub(super) fn octagon_pts(r: f64) -> Vec<Pt> {
    (0..8)
        .map(|i| CENTER.add(dial_dir(22.5 + 45.0 * f64::from(i)).scale(r)))
        .collect()
}

/// Path data of the case outline.
fn case_d(case: CaseShape, a: f64, b: f64) -> String {
    match case {
        CaseShape::Cushion => rrect_d(CENTER, a, b, 150.0),
        CaseShape::Tonneau => tonneau_d(a, b),
        CaseShape::Square => rrect_d(CENTER, a, b, 52.0),
        CaseShape::Rectangle => rrect_d(CENTER, a, b, 42.0),
        CaseShape::WallSquare => rrect_d(CENTER, a, b, 44.0),
        CaseShape::Octagon => {
            let circum = a / libm::cos(22.5f64.to_radians());
            poly_d(&octagon_pts(circum))
        }
        _ => ellipse_d(CENTER, a, b),
    }
}

/// Distance from the centre to the case edge in direction `deg` (approximate for tonneaux).
fn case_edge(case: CaseShape, deg: f64) -> f64 {
    let (a, b) = case_size(case);
    let outline = match case {
        CaseShape::Square | CaseShape::Rectangle | CaseShape::WallSquare => {
            Outline::RoundRect { corner: 45.0 }
        }
        CaseShape::Cushion => Outline::RoundRect { corner: 150.0 },
        _ => Outline::Ellipse,
    };
    let a = if case == CaseShape::Tonneau {
        0.985 * a
    } else {
        a
    };
    Layout {
        a,
        b,
        outline,
        r: a.min(b),
        subdials: Vec::new(),
        seconds_sub: None,
    }
    .edge(deg)
}

pub(super) fn draw_body(svg: &mut Svg, face: &FaceSpec, layout: &Layout) {
    let body = face.body_spec();
    let (ca, cb) = case_size(body.case);
    let metal = Metal::new(svg, face, ca.max(cb));
    match body.family() {
        BodyFamily::Wrist => {
            let sw = strap::strap_width(body.case, ca);
            strap::strap(svg, face, body.strap, sw, cb, &metal);
            strap::lugs(svg, body.lugs, sw, ca, cb, &metal);
            crown(svg, body.crown, body.case, &metal);
            if body.pushers {
                for deg in [58.0, 122.0] {
                    let r = case_edge(body.case, deg);
                    svg.push(format!(
                        r#"<path d="{}" fill="{}" stroke="{}" stroke-width="2"/>"#,
                        radial_poly(
                            deg,
                            &[
                                (-13.0, r - 12.0),
                                (13.0, r - 12.0),
                                (13.0, r + 22.0),
                                (-13.0, r + 22.0)
                            ]
                        ),
                        metal.grad,
                        metal.edge()
                    ));
                    svg.push(format!(
                        r#"<path d="{}" fill="{}" stroke="{}" stroke-width="2"/>"#,
                        radial_poly(
                            deg,
                            &[
                                (-20.0, r + 18.0),
                                (20.0, r + 18.0),
                                (20.0, r + 38.0),
                                (-20.0, r + 38.0)
                            ]
                        ),
                        metal.base.hex(),
                        metal.edge()
                    ));
                }
            }
        }
        BodyFamily::Pocket => pocket_bow(svg, face, body.strap == StrapKind::Chain, cb, &metal),
        BodyFamily::Alarm => {
            if body.case == CaseShape::AlarmBells {
                alarm_bells(svg, cb, &metal);
            } else {
                desk_stand(svg, cb, &metal);
            }
        }
        BodyFamily::Wall => {}
    }
    // The case itself, with a bevel highlight. The bezel and dial cover its middle, so the
    // (costly) gradient fill leaves a hole there.
    let d = case_d(body.case, ca, cb);
    let bw = bezel_width(body.case, body.bezel);
    let hole = match layout.outline {
        Outline::RoundRect { corner } => rrect_d(
            CENTER,
            layout.a + bw - 10.0,
            layout.b + bw - 10.0,
            corner + bw * 0.6 - 6.0,
        ),
        Outline::Ellipse => ellipse_d(CENTER, layout.a + bw - 4.0, layout.b + bw - 4.0),
    };
    svg.push(format!(
        r#"<path d="{d} {hole}" fill="{}" fill-rule="evenodd" stroke="{}" stroke-width="3"/>"#,
        metal.grad,
        metal.edge()
    ));
    let inset = case_d(body.case, ca - 7.0, cb - 7.0);
    svg.push(format!(
        r#"<path d="{inset}" fill="none" stroke="{}" stroke-opacity="0.45" stroke-width="3"/>"#,
        metal.hi.hex()
    ));
    bezel::bezel(svg, face, layout, body.case, body.bezel, &metal);
}

fn crown(svg: &mut Svg, style: CrownStyle, case: CaseShape, metal: &Metal) {
    let x0 = 500.0 + case_edge(case, 90.0);
    let fill = &metal.grad;
    let edge = metal.edge();
    match style {
        CrownStyle::Standard | CrownStyle::Guarded => {
            let (w, h) = if style == CrownStyle::Guarded {
                (34.0, 50.0)
            } else {
                (42.0, 62.0)
            };
            svg.push(format!(
                r#"<rect x="{:.1}" y="{:.1}" width="{w}" height="{h}" rx="7" fill="{fill}" stroke="{edge}" stroke-width="2.5"/>"#,
                x0 - 8.0,
                500.0 - h / 2.0
            ));
            let mut y = 500.0 - h / 2.0 + 8.0;
            while y < 500.0 + h / 2.0 - 4.0 {
                svg.push(format!(
                    r#"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="2"/>"#,
                    x0 + 2.0,
                    x0 + w - 10.0,
                    metal.lo.hex()
                ));
                y += 9.0;
            }
            if style == CrownStyle::Guarded {
                for sy in [-1.0, 1.0] {
                    let ya = 500.0 + sy * 30.0;
                    let yb = 500.0 + sy * 80.0;
                    svg.push(format!(
                        r#"<path d="M{:.1} {ya:.1} Q{:.1} {ya:.1} {:.1} {:.1} L{:.1} {yb:.1} Z" fill="{fill}" stroke="{edge}" stroke-width="2.5"/>"#,
                        x0 - 20.0,
                        x0 + 30.0,
                        x0 + 24.0,
                        500.0 + sy * 48.0,
                        x0 - 20.0
                    ));
                }
            }
        }
        CrownStyle::Onion => {
            svg.push(format!(
                r#"<rect x="{:.1}" y="486" width="22" height="28" fill="{fill}" stroke="{edge}" stroke-width="2"/>"#,
                x0 - 8.0
            ));
            svg.push(format!(
                r#"<ellipse cx="{:.1}" cy="500" rx="22" ry="36" fill="{fill}" stroke="{edge}" stroke-width="2.5"/>"#,
                x0 + 30.0
            ));
            for dy in [-20.0, -8.0, 4.0, 16.0] {
                svg.push(format!(
                    r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}" stroke-width="2"/>"#,
                    x0 + 14.0,
                    502.0 + dy,
                    x0 + 46.0,
                    502.0 + dy,
                    metal.lo.hex()
                ));
            }
        }
        CrownStyle::Pocket | CrownStyle::None => {}
    }
}

fn pocket_bow(svg: &mut Svg, face: &FaceSpec, chain: bool, cb: f64, metal: &Metal) {
    let top = 500.0 - cb;
    let edge = metal.edge();
    if chain {
        // Links hang from the bow to the left edge along a quadratic curve.
        let (p0, c, p2) = (
            Pt::new(460.0, top - 130.0),
            Pt::new(220.0, 20.0),
            Pt::new(-40.0, 300.0),
        );
        let n = 22;
        for i in 0..n {
            let t = (f64::from(i) + 0.5) / f64::from(n);
            let u = 1.0 - t;
            let p = p0
                .scale(u * u)
                .add(c.scale(2.0 * u * t))
                .add(p2.scale(t * t));
            let tan = c.sub(p0).scale(2.0 * u).add(p2.sub(c).scale(2.0 * t));
            let ang = libm::atan2(tan.y, tan.x).to_degrees();
            let (rx, ry) = if i % 2 == 0 {
                (17.0, 10.0)
            } else {
                (17.0, 4.0)
            };
            svg.push(format!(
                r#"<ellipse cx="{:.1}" cy="{:.1}" rx="{rx}" ry="{ry}" transform="rotate({ang:.2} {:.1} {:.1})" fill="none" stroke="{}" stroke-width="5"/>"#,
                p.x,
                p.y,
                p.x,
                p.y,
                metal.base.hex()
            ));
        }
    }
    let _ = face;
    svg.push(format!(
        r#"<circle cx="500" cy="{:.1}" r="50" fill="none" stroke="{}" stroke-width="14"/>"#,
        top - 112.0,
        metal.base.hex()
    ));
    svg.push(format!(
        r#"<circle cx="500" cy="{:.1}" r="50" fill="none" stroke="{}" stroke-opacity="0.5" stroke-width="3"/>"#,
        top - 112.0,
        metal.hi.hex()
    ));
    svg.push(format!(
        r#"<rect x="480" y="{:.1}" width="40" height="36" fill="{}" stroke="{edge}" stroke-width="2"/>"#,
        top - 32.0,
        metal.grad
    ));
    svg.push(format!(
        r#"<rect x="462" y="{:.1}" width="76" height="44" rx="10" fill="{}" stroke="{edge}" stroke-width="2.5"/>"#,
        top - 72.0,
        metal.grad
    ));
    let mut x = 470.0;
    while x < 534.0 {
        svg.push(format!(
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{}" stroke-width="2"/>"#,
            top - 66.0,
            top - 34.0,
            metal.lo.hex()
        ));
        x += 8.0;
    }
}

fn alarm_bells(svg: &mut Svg, cb: f64, metal: &Metal) {
    let edge = metal.edge();
    for sx in [-1.0, 1.0] {
        let deg: f64 = sx * 42.0;
        let c = CENTER.add(dial_dir(deg).scale(cb + 30.0));
        svg.push(format!(
            r#"<circle cx="{:.1}" cy="{:.1}" r="100" fill="{}" stroke="{edge}" stroke-width="3"/>"#,
            c.x, c.y, metal.grad
        ));
        svg.push(format!(
            r#"<circle cx="{:.1}" cy="{:.1}" r="70" fill="none" stroke="{}" stroke-opacity="0.5" stroke-width="4"/>"#,
            c.x, c.y, metal.hi.hex()
        ));
        // Feet.
        let fdeg = sx * 150.0;
        svg.push(format!(
            r#"<path d="{}" fill="{}" stroke="{edge}" stroke-width="2.5"/>"#,
            radial_poly(
                fdeg,
                &[
                    (-13.0, cb - 30.0),
                    (13.0, cb - 30.0),
                    (17.0, cb + 70.0),
                    (-17.0, cb + 70.0)
                ]
            ),
            metal.grad
        ));
        let f = CENTER.add(dial_dir(fdeg).scale(cb + 78.0));
        svg.push(format!(
            r#"<circle cx="{:.1}" cy="{:.1}" r="20" fill="{}" stroke="{edge}" stroke-width="2.5"/>"#,
            f.x, f.y, metal.grad
        ));
    }
    let top = 500.0 - cb;
    svg.push(format!(
        r#"<rect x="492" y="{:.1}" width="16" height="80" fill="{}" stroke="{edge}" stroke-width="2"/>"#,
        top - 90.0,
        metal.base.hex()
    ));
    svg.push(format!(
        r#"<circle cx="500" cy="{:.1}" r="17" fill="{}" stroke="{edge}" stroke-width="2"/>"#,
        top - 92.0,
        metal.grad
    ));
    svg.push(format!(
        r#"<path d="M378 {:.1} C378 30 622 30 622 {:.1}" fill="none" stroke="{}" stroke-width="14" stroke-linecap="round"/>"#,
        top + 14.0,
        top + 14.0,
        metal.lo.hex()
    ));
}

fn desk_stand(svg: &mut Svg, cb: f64, metal: &Metal) {
    let edge = metal.edge();
    svg.push(format!(
        r#"<rect x="455" y="{:.1}" width="90" height="110" fill="{}" stroke="{edge}" stroke-width="2.5"/>"#,
        500.0 + cb - 30.0,
        metal.grad
    ));
    svg.push(format!(
        r#"<path d="M{:.1} 965 L{:.1} 965 Q{:.1} 965 {:.1} {:.1} L{:.1} {:.1} Q{:.1} 965 {:.1} 965 Z" fill="{}" stroke="{edge}" stroke-width="3"/>"#,
        260.0,
        740.0,
        760.0,
        680.0,
        500.0 + cb + 70.0,
        320.0,
        500.0 + cb + 70.0,
        240.0,
        260.0,
        metal.grad_rev
    ));
}
