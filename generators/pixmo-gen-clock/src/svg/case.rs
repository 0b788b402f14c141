//! Body drawing: strap or bracelet, lugs, case, crown, pushers, bezel, and the stands, bells
//! and bows of clocks and pocket watches.

use std::fmt::Write;

use super::{Svg, esc, poly_d, radial_poly};
use crate::body::{BezelStyle, BodyFamily, CaseShape, CrownStyle, LugStyle, StrapKind};
use crate::color::Color;
use crate::face::FaceSpec;
use crate::geometry::{Pt, dial_dir};
use crate::layout::{CENTER, Layout, Outline, bezel_width, case_size};

/// Metal (or plastic) colours of the case as SVG strings plus ready-made gradients.
struct Metal {
    base: Color,
    hi: Color,
    lo: Color,
    /// Light top-left to dark bottom-right.
    grad: String,
    /// The reverse, for rings that sit inside the case.
    grad_rev: String,
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

    fn edge(&self) -> String {
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

fn octagon_pts(r: f64) -> Vec<Pt> {
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
    let a = if case == CaseShape::Tonneau { 0.985 * a } else { a };
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
            let sw = strap_width(body.case, ca);
            strap(svg, face, body.strap, sw, cb, &metal);
            lugs(svg, body.lugs, sw, ca, cb, &metal);
            crown(svg, body.crown, body.case, &metal);
            if body.pushers {
                for deg in [58.0, 122.0] {
                    let r = case_edge(body.case, deg);
                    svg.push(format!(
                        r#"<path d="{}" fill="{}" stroke="{}" stroke-width="2"/>"#,
                        radial_poly(deg, &[(-13.0, r - 12.0), (13.0, r - 12.0), (13.0, r + 22.0), (-13.0, r + 22.0)]),
                        metal.grad,
                        metal.edge()
                    ));
                    svg.push(format!(
                        r#"<path d="{}" fill="{}" stroke="{}" stroke-width="2"/>"#,
                        radial_poly(deg, &[(-20.0, r + 18.0), (20.0, r + 18.0), (20.0, r + 38.0), (-20.0, r + 38.0)]),
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
    // The case itself, with a bevel highlight.
    let d = case_d(body.case, ca, cb);
    svg.push(format!(
        r#"<path d="{d}" fill="{}" stroke="{}" stroke-width="3"/>"#,
        metal.grad,
        metal.edge()
    ));
    let inset = case_d(body.case, ca - 7.0, cb - 7.0);
    svg.push(format!(
        r#"<path d="{inset}" fill="none" stroke="{}" stroke-opacity="0.45" stroke-width="3"/>"#,
        metal.hi.hex()
    ));
    bezel(svg, face, layout, body.case, body.bezel, &metal);
}

fn strap_width(case: CaseShape, ca: f64) -> f64 {
    match case {
        CaseShape::Rectangle | CaseShape::Tonneau | CaseShape::Oval => 0.82 * 2.0 * ca,
        _ => 0.56 * 2.0 * ca,
    }
}

fn strap(svg: &mut Svg, face: &FaceSpec, kind: StrapKind, sw: f64, cb: f64, metal: &Metal) {
    let x0 = 500.0 - sw / 2.0;
    let (top_end, bottom_start) = (500.0 - 0.7 * cb, 500.0 + 0.7 * cb);
    let regions = [(-20.0, top_end), (bottom_start, 1020.0)];
    let sc = face.strap_color;
    let acc = face.strap_accent;
    let full = |fill: &str, stroke: &str| {
        format!(
            r#"<rect x="{x0:.1}" y="-20" width="{sw:.1}" height="1040" fill="{fill}" stroke="{stroke}" stroke-width="3"/>"#
        )
    };
    match kind {
        StrapKind::Leather | StrapKind::Rubber | StrapKind::Nato => {
            svg.push(full(&sc.hex(), &sc.darken(0.4).hex()));
        }
        StrapKind::Bracelet | StrapKind::Jubilee | StrapKind::Mesh => {
            svg.push(full(&metal.lo.hex(), &metal.edge()));
        }
        StrapKind::Chain | StrapKind::None => return,
    }
    match kind {
        StrapKind::Leather => {
            for x in [x0 + 16.0, x0 + sw - 16.0] {
                svg.push(format!(
                    r#"<line x1="{x:.1}" y1="-20" x2="{x:.1}" y2="1020" stroke="{}" stroke-width="3.5" stroke-dasharray="16 10"/>"#,
                    acc.hex()
                ));
            }
            svg.push(format!(
                r#"<rect x="{:.1}" y="800" width="{:.1}" height="44" rx="6" fill="{}" stroke="{}" stroke-width="3"/>"#,
                x0 - 4.0,
                sw + 8.0,
                sc.darken(0.12).hex(),
                sc.darken(0.45).hex()
            ));
            for y in [890.0, 950.0] {
                svg.push(format!(
                    r#"<ellipse cx="500" cy="{y}" rx="9" ry="11" fill="{}"/>"#,
                    sc.darken(0.65).hex()
                ));
            }
        }
        StrapKind::Rubber => {
            for &(y0, y1) in &regions {
                let mut y = y0 + 10.0;
                while y < y1 {
                    svg.push(format!(
                        r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="12" rx="5" fill="{}"/>"#,
                        x0 + 22.0,
                        sw - 44.0,
                        acc.hex()
                    ));
                    y += 40.0;
                }
            }
        }
        StrapKind::Nato => {
            for (dx, w) in [(-0.24, 0.12), (0.24, 0.12), (0.0, 0.05)] {
                svg.push(format!(
                    r#"<rect x="{:.1}" y="-20" width="{:.1}" height="1040" fill="{}"/>"#,
                    500.0 + dx * sw - w * sw / 2.0,
                    w * sw,
                    acc.hex()
                ));
            }
            for y in [500.0 - cb - 150.0, 500.0 + cb + 120.0] {
                svg.push(format!(
                    r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="28" rx="6" fill="{}" stroke="{}" stroke-width="2"/>"#,
                    x0 - 6.0,
                    sw + 12.0,
                    metal.grad,
                    metal.edge()
                ));
            }
        }
        StrapKind::Bracelet | StrapKind::Jubilee => {
            let cols: &[(f64, f64, bool)] = if kind == StrapKind::Bracelet {
                &[(0.0, 0.34, false), (0.34, 0.66, true), (0.66, 1.0, false)]
            } else {
                &[
                    (0.0, 0.25, false),
                    (0.25, 0.37, true),
                    (0.37, 0.63, false),
                    (0.63, 0.75, true),
                    (0.75, 1.0, false),
                ]
            };
            let rh = if kind == StrapKind::Bracelet { 64.0 } else { 56.0 };
            for &(y0, y1) in &regions {
                for &(c0, c1, polished) in cols {
                    let (lx, lw) = (x0 + c0 * sw + 2.0, (c1 - c0) * sw - 4.0);
                    let (h, fill) = if polished && kind == StrapKind::Jubilee {
                        (rh / 2.0, metal.hi.hex())
                    } else if polished {
                        (rh, metal.hi.mix(metal.base, 0.3).hex())
                    } else {
                        (rh, metal.base.hex())
                    };
                    let mut y = if y0 < 0.0 { y1 - h * ((y1 - y0) / h).ceil() } else { y0 };
                    while y < y1 {
                        svg.push(format!(
                            r#"<rect x="{lx:.1}" y="{:.1}" width="{lw:.1}" height="{:.1}" rx="7" fill="{fill}" stroke="{}" stroke-width="1.5"/>"#,
                            y + 2.0,
                            h - 4.0,
                            metal.lo.darken(0.2).hex()
                        ));
                        y += h;
                    }
                }
            }
        }
        StrapKind::Mesh => {
            // A fine woven grid of light and dark lines.
            let mut light = String::new();
            let mut dark = String::new();
            let mut x = x0 + 4.0;
            let mut i = 0;
            while x < x0 + sw - 2.0 {
                let d = if i % 2 == 0 { &mut light } else { &mut dark };
                d.push_str(&format!("M{x:.1} -20 V1020 "));
                x += 5.0;
                i += 1;
            }
            let mut y = -20.0;
            while y < 1020.0 {
                let d = if i % 2 == 0 { &mut light } else { &mut dark };
                d.push_str(&format!("M{:.1} {y:.1} H{:.1} ", x0 + 2.0, x0 + sw - 2.0));
                y += 5.0;
                i += 1;
            }
            svg.push(format!(
                r#"<path d="{light}" fill="none" stroke="{}" stroke-width="2"/>"#,
                metal.hi.hex()
            ));
            svg.push(format!(
                r#"<path d="{dark}" fill="none" stroke="{}" stroke-width="2"/>"#,
                metal.lo.darken(0.2).hex()
            ));
        }
        StrapKind::Chain | StrapKind::None => {}
    }
    // Shading: darker towards the strap edges and away from the case (solid bands, cheaper
    // to rasterise than gradients).
    let mut bands = String::new();
    for (k, alpha) in [(0.1, 0.12), (0.05, 0.14)] {
        let bw = k * sw;
        bands.push_str(&format!(
            r#"<rect x="{x0:.1}" y="-20" width="{bw:.1}" height="1040" fill-opacity="{alpha}"/><rect x="{:.1}" y="-20" width="{bw:.1}" height="1040" fill-opacity="{alpha}"/>"#,
            x0 + sw - bw
        ));
    }
    for (len, alpha) in [(200.0, 0.12), (110.0, 0.12)] {
        bands.push_str(&format!(
            r#"<rect x="{x0:.1}" y="-20" width="{sw:.1}" height="{len}" fill-opacity="{alpha}"/><rect x="{x0:.1}" y="{:.1}" width="{sw:.1}" height="{len}" fill-opacity="{alpha}"/>"#,
            1020.0 - len
        ));
    }
    svg.push(format!(r#"<g fill="black">{bands}</g>"#));
}

fn lugs(svg: &mut Svg, style: LugStyle, sw: f64, ca: f64, cb: f64, metal: &Metal) {
    let lw = 40.0;
    for sy in [-1.0, 1.0] {
        let y0 = 500.0 + sy * 0.55 * cb;
        let y1 = 500.0 + sy * (cb + 62.0);
        match style {
            LugStyle::Straight | LugStyle::Horn => {
                for sx in [-1.0, 1.0] {
                    let xc = 500.0 + sx * (sw / 2.0 + lw / 2.0 - 6.0);
                    let d = if style == LugStyle::Straight {
                        poly_d(&[
                            Pt::new(xc - lw / 2.0, y0),
                            Pt::new(xc + lw / 2.0, y0),
                            Pt::new(xc + lw / 2.0, y1),
                            Pt::new(xc - lw / 2.0, y1),
                        ])
                    } else {
                        let ym = (y0 + y1) / 2.0;
                        let (xi, xo) = (xc - sx * lw / 2.0, xc + sx * lw / 2.0);
                        format!(
                            "M{xi:.1} {y0:.1} L{xo:.1} {y0:.1} Q{:.1} {ym:.1} {:.1} {y1:.1} L{xi:.1} {y1:.1} Z",
                            xo + sx * 16.0,
                            xo - sx * 12.0
                        )
                    };
                    svg.push(format!(
                        r#"<path d="{d}" fill="{}" stroke="{}" stroke-width="2.5"/>"#,
                        metal.grad,
                        metal.edge()
                    ));
                }
            }
            LugStyle::Integrated => {
                let ye = 500.0 + sy * (cb + 46.0);
                let d = poly_d(&[
                    Pt::new(500.0 - 0.8 * ca, y0),
                    Pt::new(500.0 + 0.8 * ca, y0),
                    Pt::new(500.0 + sw / 2.0 + 8.0, ye),
                    Pt::new(500.0 - sw / 2.0 - 8.0, ye),
                ]);
                svg.push(format!(
                    r#"<path d="{d}" fill="{}" stroke="{}" stroke-width="2.5"/>"#,
                    metal.grad,
                    metal.edge()
                ));
            }
            LugStyle::Wire => {
                let yi = 500.0 + sy * (cb - 30.0);
                let ye = 500.0 + sy * (cb + 34.0);
                let (xl, xr) = (500.0 - sw / 2.0 - 6.0, 500.0 + sw / 2.0 + 6.0);
                svg.push(format!(
                    r#"<path d="M{xl:.1} {yi:.1} L{xl:.1} {ye:.1} L{xr:.1} {ye:.1} L{xr:.1} {yi:.1}" fill="none" stroke="{}" stroke-width="12" stroke-linejoin="round"/>"#,
                    metal.base.hex()
                ));
            }
            LugStyle::None => {}
        }
    }
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
        let (p0, c, p2) = (Pt::new(460.0, top - 130.0), Pt::new(220.0, 20.0), Pt::new(-40.0, 300.0));
        let n = 22;
        for i in 0..n {
            let t = (f64::from(i) + 0.5) / f64::from(n);
            let u = 1.0 - t;
            let p = p0.scale(u * u).add(c.scale(2.0 * u * t)).add(p2.scale(t * t));
            let tan = c.sub(p0).scale(2.0 * u).add(p2.sub(c).scale(2.0 * t));
            let ang = libm::atan2(tan.y, tan.x).to_degrees();
            let (rx, ry) = if i % 2 == 0 { (17.0, 10.0) } else { (17.0, 4.0) };
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
            radial_poly(fdeg, &[(-13.0, cb - 30.0), (13.0, cb - 30.0), (17.0, cb + 70.0), (-17.0, cb + 70.0)]),
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

fn ring(svg: &mut Svg, r_out: f64, r_in: f64, fill: &str, stroke: &str) {
    svg.push(format!(
        r#"<path d="{} {}" fill="{fill}" fill-rule="evenodd" stroke="{stroke}" stroke-width="2"/>"#,
        ellipse_d(CENTER, r_out, r_out),
        ellipse_d(CENTER, r_in, r_in)
    ));
}

fn bezel(
    svg: &mut Svg,
    face: &FaceSpec,
    layout: &Layout,
    case: CaseShape,
    style: BezelStyle,
    metal: &Metal,
) {
    let bw = bezel_width(case, style);
    let edge = metal.edge();
    let (a, b) = (layout.a, layout.b);
    if let Outline::RoundRect { corner } = layout.outline {
        // Flat bezel following the case; screws in the corners.
        svg.push(format!(
            r#"<path d="{}" fill="{}" stroke="{edge}" stroke-width="2"/>"#,
            rrect_d(CENTER, a + bw - 4.0, b + bw - 4.0, corner + bw * 0.6),
            metal.grad_rev
        ));
        if style == BezelStyle::Screws {
            for (sx, sy) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
                screw(svg, Pt::new(500.0 + sx * (a + bw * 0.45), 500.0 + sy * (b + bw * 0.45)), 11.0, metal);
            }
        }
        return;
    }
    if (a - b).abs() > 1.0 {
        // Oval: a polished ring, or set stones.
        svg.push(format!(
            r#"<path d="{}" fill="{}" stroke="{edge}" stroke-width="2"/>"#,
            ellipse_d(CENTER, a + bw, b + bw),
            metal.grad_rev
        ));
        if style == BezelStyle::Gems {
            gems(svg, |deg| {
                let r = ellipse_r(a + bw / 2.0, b + bw / 2.0, deg);
                CENTER.add(dial_dir(deg).scale(r))
            }, bw, 36);
        }
        return;
    }
    let (ro, ri) = (a + bw, a + 2.0);
    let rm = (ro + ri) / 2.0;
    let ink_on = |c: Color| c.contrasting().hex();
    match style {
        BezelStyle::Thin | BezelStyle::Polished => {
            ring(svg, ro, ri, &metal.grad_rev, &edge);
            if style == BezelStyle::Polished {
                svg.push(format!(
                    r#"<circle cx="500" cy="500" r="{rm:.1}" fill="none" stroke="{}" stroke-opacity="0.35" stroke-width="3"/>"#,
                    metal.hi.hex()
                ));
            }
        }
        BezelStyle::Knurled | BezelStyle::Fluted => {
            ring(svg, ro, ri, &metal.grad, &edge);
            let n = if style == BezelStyle::Knurled { 120.0 } else { 48.0 };
            let pitch = std::f64::consts::TAU * rm / n;
            let dark = if style == BezelStyle::Knurled { 0.5 } else { 0.35 };
            svg.push(format!(
                r#"<circle cx="500" cy="500" r="{rm:.2}" fill="none" stroke="{}" stroke-opacity="0.8" stroke-width="{:.1}" stroke-dasharray="{:.3} {:.3}"/>"#,
                metal.lo.hex(),
                (ro - ri) * 0.86,
                pitch * dark,
                pitch * (1.0 - dark)
            ));
            svg.push(format!(
                r#"<circle cx="500" cy="500" r="{ri:.1}" fill="none" stroke="{edge}" stroke-width="2"/>"#
            ));
        }
        BezelStyle::Diver => {
            ring(svg, ro, ri, &face.bezel_color.hex(), &edge);
            edge_knurl(svg, ro, metal);
            let ink = ink_on(face.bezel_color);
            let fs = bw * 0.42;
            for i in 0..60 {
                let deg = 6.0 * f64::from(i);
                if i == 0 {
                    svg.push(format!(
                        r#"<path d="{}" fill="{}" stroke="{ink}" stroke-width="2"/>"#,
                        radial_poly(deg, &[(-15.0, rm + 16.0), (15.0, rm + 16.0), (0.0, rm - 16.0)]),
                        face.dial.lume.unwrap_or(Color::rgb(240, 240, 230)).hex()
                    ));
                } else if i % 10 == 0 {
                    text_radial(svg, &format!("{i}"), deg, rm, fs, &ink, "Liberation Sans", 700);
                } else if i % 5 == 0 {
                    svg.push(format!(
                        r#"<path d="{}" fill="{ink}"/>"#,
                        radial_poly(deg, &[(-5.0, rm - 12.0), (5.0, rm - 12.0), (5.0, rm + 12.0), (-5.0, rm + 12.0)])
                    ));
                } else if i < 15 {
                    svg.push(format!(
                        r#"<path d="{}" fill="{ink}"/>"#,
                        radial_poly(deg, &[(-2.0, rm + 2.0), (2.0, rm + 2.0), (2.0, rm + 14.0), (-2.0, rm + 14.0)])
                    ));
                }
            }
        }
        BezelStyle::Tachymeter => {
            ring(svg, ro, ri, &face.bezel_color.hex(), &edge);
            let ink = ink_on(face.bezel_color);
            let fs = bw * 0.3;
            for v in [500, 400, 300, 250, 200, 180, 160, 140, 120, 110, 100, 90, 80, 70] {
                let deg = 21_600.0 / f64::from(v);
                text_radial(svg, &format!("{v}"), deg, rm + 6.0, fs, &ink, "Liberation Sans", 700);
                svg.push(format!(
                    r#"<path d="{}" fill="{ink}"/>"#,
                    radial_poly(deg, &[(-1.5, ri + 2.0), (1.5, ri + 2.0), (1.5, ri + 12.0), (-1.5, ri + 12.0)])
                ));
            }
            let word = "TACHYMETER";
            let step = fs * 0.72 / rm * 57.3;
            for (i, ch) in word.chars().enumerate() {
                let deg = 318.0 + step * i as f64;
                text_radial(svg, &ch.to_string(), deg, rm + 6.0, fs * 0.85, &face.dial.accent.hex(), "Liberation Sans", 700);
            }
        }
        BezelStyle::Gmt => {
            let half = |svg: &mut Svg, from: f64, color: Color| {
                let p = |deg: f64, r: f64| CENTER.add(dial_dir(deg).scale(r));
                let (a0, a1) = (p(from, ro), p(from + 180.0, ro));
                let (b0, b1) = (p(from + 180.0, ri), p(from, ri));
                svg.push(format!(
                    r#"<path d="M{:.2} {:.2} A{ro:.2} {ro:.2} 0 0 1 {:.2} {:.2} L{:.2} {:.2} A{ri:.2} {ri:.2} 0 0 0 {:.2} {:.2} Z" fill="{}"/>"#,
                    a0.x, a0.y, a1.x, a1.y, b0.x, b0.y, b1.x, b1.y,
                    color.hex()
                ));
            };
            half(svg, 90.0, face.bezel_color);
            half(svg, 270.0, face.bezel_color2);
            svg.push(format!(
                r#"<circle cx="500" cy="500" r="{ro:.1}" fill="none" stroke="{edge}" stroke-width="3"/>"#
            ));
            edge_knurl(svg, ro, metal);
            for h in 0..24 {
                let deg = 15.0 * f64::from(h);
                let color = if (6..18).contains(&h) { face.bezel_color } else { face.bezel_color2 };
                let ink = ink_on(color);
                if h == 0 {
                    svg.push(format!(
                        r#"<path d="{}" fill="{ink}"/>"#,
                        radial_poly(deg, &[(-14.0, rm + 14.0), (14.0, rm + 14.0), (0.0, rm - 14.0)])
                    ));
                } else if h % 2 == 0 {
                    text_radial(svg, &format!("{h}"), deg, rm, bw * 0.36, &ink, "Liberation Sans", 700);
                } else {
                    let p = CENTER.add(dial_dir(deg).scale(rm));
                    svg.push(format!(
                        r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{ink}"/>"#,
                        p.x, p.y
                    ));
                }
            }
        }
        BezelStyle::Gems => {
            ring(svg, ro, ri, &metal.grad, &edge);
            gems(svg, |deg| CENTER.add(dial_dir(deg).scale(rm)), bw, 36);
        }
        BezelStyle::Screws => {
            let pts = octagon_pts(ro + 10.0);
            svg.push(format!(
                r#"<path d="{}" fill="{}" stroke="{edge}" stroke-width="3"/>"#,
                poly_d(&pts),
                metal.grad_rev
            ));
            svg.push(format!(
                r#"<circle cx="500" cy="500" r="{ri:.1}" fill="{}" stroke="{edge}" stroke-width="2"/>"#,
                metal.lo.hex()
            ));
            for i in 0..8 {
                let deg = 22.5 + 45.0 * f64::from(i);
                screw(svg, CENTER.add(dial_dir(deg).scale(rm + 8.0)), 0.2 * bw, metal);
            }
        }
    }
}

fn ellipse_r(a: f64, b: f64, deg: f64) -> f64 {
    let d = dial_dir(deg);
    1.0 / libm::sqrt((d.x / a) * (d.x / a) + (d.y / b) * (d.y / b))
}

fn gems(svg: &mut Svg, at: impl Fn(f64) -> Pt, bw: f64, n: u32) {
    for i in 0..n {
        let deg = 360.0 * f64::from(i) / f64::from(n);
        let p = at(deg);
        svg.push(format!(
            r##"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="#e8eef4" stroke="#7d8a96" stroke-width="2"/>"##,
            p.x,
            p.y,
            bw * 0.34
        ));
        svg.push(format!(
            r##"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="#ffffff"/>"##,
            p.x - bw * 0.1,
            p.y - bw * 0.1,
            bw * 0.1
        ));
    }
}

fn screw(svg: &mut Svg, p: Pt, r: f64, metal: &Metal) {
    svg.push(format!(
        r#"<circle cx="{:.1}" cy="{:.1}" r="{r:.1}" fill="{}" stroke="{}" stroke-width="2"/>"#,
        p.x,
        p.y,
        metal.hi.hex(),
        metal.edge()
    ));
    let mut line = String::new();
    let _ = write!(
        line,
        r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}" stroke-width="{:.1}"/>"#,
        p.x - r * 0.7,
        p.y - r * 0.3,
        p.x + r * 0.7,
        p.y + r * 0.3,
        metal.lo.darken(0.3).hex(),
        (r * 0.3).max(2.0)
    );
    svg.push(line);
}

fn edge_knurl(svg: &mut Svg, ro: f64, metal: &Metal) {
    let pitch = std::f64::consts::TAU * (ro - 3.0) / 120.0;
    svg.push(format!(
        r#"<circle cx="500" cy="500" r="{:.2}" fill="none" stroke="{}" stroke-width="6" stroke-dasharray="{:.3} {:.3}"/>"#,
        ro - 3.0,
        metal.base.hex(),
        pitch * 0.5,
        pitch * 0.5
    ));
}

/// Text centred at distance `r` along `deg`, rotated to follow the ring (readable from
/// outside on the lower half).
#[allow(clippy::too_many_arguments)]
pub(super) fn text_radial(
    svg: &mut Svg,
    text: &str,
    deg: f64,
    r: f64,
    font_size: f64,
    fill: &str,
    family: &str,
    weight: u16,
) {
    let p = CENTER.add(dial_dir(deg).scale(r));
    let rot = if (95.0..265.0).contains(&deg.rem_euclid(360.0)) {
        deg + 180.0
    } else {
        deg
    };
    svg.push(format!(
        r#"<text x="{:.2}" y="{:.2}" transform="rotate({rot:.2} {:.2} {:.2})" font-family="{family}" font-weight="{weight}" font-size="{font_size:.2}" text-anchor="middle" fill="{fill}">{}</text>"#,
        p.x,
        p.y + 0.36 * font_size,
        p.x,
        p.y,
        esc(text)
    ));
}
