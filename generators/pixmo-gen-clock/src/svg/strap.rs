//! Straps, bracelets and lugs of wristwatches.

use super::case::Metal;
use super::{Svg, poly_d};
use crate::body::{CaseShape, LugStyle, StrapKind};
use crate::face::FaceSpec;
use crate::geometry::Pt;

pub(super) fn strap_width(case: CaseShape, ca: f64) -> f64 {
    match case {
        CaseShape::Rectangle | CaseShape::Tonneau | CaseShape::Oval => 0.82 * 2.0 * ca,
        _ => 0.56 * 2.0 * ca,
    }
}

pub(super) fn strap(
    svg: &mut Svg,
    face: &FaceSpec,
    kind: StrapKind,
    sw: f64,
    cb: f64,
    metal: &Metal,
) {
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
            let rh = if kind == StrapKind::Bracelet {
                64.0
            } else {
                56.0
            };
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
                    let mut y = if y0 < 0.0 {
                        y1 - h * ((y1 - y0) / h).ceil()
                    } else {
                        y0
                    };
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

pub(super) fn lugs(svg: &mut Svg, style: LugStyle, sw: f64, ca: f64, cb: f64, metal: &Metal) {
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
