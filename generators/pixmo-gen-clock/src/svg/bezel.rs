//! Bezels: polished, knurled, fluted, diver's, tachymeter, GMT, gem-set and screwed rings
//! (and flat bezels around rectangular dials).

use std::fmt::Write;

use super::case::{Metal, ellipse_d, octagon_pts, rrect_d};
use super::{Svg, esc, poly_d, radial_poly};
use crate::body::{BezelStyle, CaseShape};
use crate::color::Color;
use crate::face::FaceSpec;
use crate::geometry::{Pt, dial_dir};
use crate::layout::{CENTER, Layout, Outline, bezel_width};

fn ring(svg: &mut Svg, r_out: f64, r_in: f64, fill: &str, stroke: &str) {
    svg.push(format!(
        r#"<path d="{} {}" fill="{fill}" fill-rule="evenodd" stroke="{stroke}" stroke-width="2"/>"#,
        ellipse_d(CENTER, r_out, r_out),
        ellipse_d(CENTER, r_in, r_in)
    ));
}

pub(super) fn bezel(
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
                screw(
                    svg,
                    Pt::new(500.0 + sx * (a + bw * 0.45), 500.0 + sy * (b + bw * 0.45)),
                    11.0,
                    metal,
                );
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
            gems(
                svg,
                |deg| {
                    let r = ellipse_r(a + bw / 2.0, b + bw / 2.0, deg);
                    CENTER.add(dial_dir(deg).scale(r))
                },
                bw,
                36,
            );
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
            let n = if style == BezelStyle::Knurled {
                120.0
            } else {
                48.0
            };
            let pitch = std::f64::consts::TAU * rm / n;
            let dark = if style == BezelStyle::Knurled {
                0.5
            } else {
                0.35
            };
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
                        radial_poly(
                            deg,
                            &[(-15.0, rm + 16.0), (15.0, rm + 16.0), (0.0, rm - 16.0)]
                        ),
                        face.dial.lume.unwrap_or(Color::rgb(240, 240, 230)).hex()
                    ));
                } else if i % 10 == 0 {
                    text_radial(
                        svg,
                        &format!("{i}"),
                        deg,
                        rm,
                        fs,
                        &ink,
                        "Liberation Sans",
                        700,
                    );
                } else if i % 5 == 0 {
                    svg.push(format!(
                        r#"<path d="{}" fill="{ink}"/>"#,
                        radial_poly(
                            deg,
                            &[
                                (-5.0, rm - 12.0),
                                (5.0, rm - 12.0),
                                (5.0, rm + 12.0),
                                (-5.0, rm + 12.0)
                            ]
                        )
                    ));
                } else if i < 15 {
                    svg.push(format!(
                        r#"<path d="{}" fill="{ink}"/>"#,
                        radial_poly(
                            deg,
                            &[
                                (-2.0, rm + 2.0),
                                (2.0, rm + 2.0),
                                (2.0, rm + 14.0),
                                (-2.0, rm + 14.0)
                            ]
                        )
                    ));
                }
            }
        }
        BezelStyle::Tachymeter => {
            ring(svg, ro, ri, &face.bezel_color.hex(), &edge);
            let ink = ink_on(face.bezel_color);
            let fs = bw * 0.3;
            for v in [
                500, 400, 300, 250, 200, 180, 160, 140, 120, 110, 100, 90, 80, 70,
            ] {
                let deg = 21_600.0 / f64::from(v);
                text_radial(
                    svg,
                    &format!("{v}"),
                    deg,
                    rm + 6.0,
                    fs,
                    &ink,
                    "Liberation Sans",
                    700,
                );
                svg.push(format!(
                    r#"<path d="{}" fill="{ink}"/>"#,
                    radial_poly(
                        deg,
                        &[
                            (-1.5, ri + 2.0),
                            (1.5, ri + 2.0),
                            (1.5, ri + 12.0),
                            (-1.5, ri + 12.0)
                        ]
                    )
                ));
            }
            let word = "TACHYMETER";
            let step = fs * 0.72 / rm * 57.3;
            for (i, ch) in word.chars().enumerate() {
                let deg = 318.0 + step * i as f64;
                text_radial(
                    svg,
                    &ch.to_string(),
                    deg,
                    rm + 6.0,
                    fs * 0.85,
                    &face.dial.accent.hex(),
                    "Liberation Sans",
                    700,
                );
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
                let color = if (6..18).contains(&h) {
                    face.bezel_color
                } else {
                    face.bezel_color2
                };
                let ink = ink_on(color);
                if h == 0 {
                    svg.push(format!(
                        r#"<path d="{}" fill="{ink}"/>"#,
                        radial_poly(
                            deg,
                            &[(-14.0, rm + 14.0), (14.0, rm + 14.0), (0.0, rm - 14.0)]
                        )
                    ));
                } else if h % 2 == 0 {
                    text_radial(
                        svg,
                        &format!("{h}"),
                        deg,
                        rm,
                        bw * 0.36,
                        &ink,
                        "Liberation Sans",
                        700,
                    );
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
                screw(
                    svg,
                    CENTER.add(dial_dir(deg).scale(rm + 8.0)),
                    0.2 * bw,
                    metal,
                );
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
