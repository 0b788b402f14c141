//! Dial drawing: texture, minute track, hour markers, numerals, sub-dials, date window, text.

use super::bezel::text_radial;
use super::case::{ellipse_d, rrect_d};
use super::{Svg, esc, radial_poly, radial_poly_at};
use crate::color::Color;
use crate::face::{
    DatePosition, DialTexture, FaceSpec, MarkerStyle, MinuteTrack, Numerals, Orientation,
};
use crate::geometry::dial_dir;
use crate::hands::decorative_hand;
use crate::layout::{CENTER, Layout, Outline};

/// Path data of the dial outline shrunk by `inset`.
fn outline_d(layout: &Layout, inset: f64) -> String {
    match layout.outline {
        Outline::Ellipse => ellipse_d(CENTER, layout.a - inset, layout.b - inset),
        Outline::RoundRect { corner } => rrect_d(
            CENTER,
            layout.a - inset,
            layout.b - inset,
            (corner - inset).max(2.0),
        ),
    }
}

const ROMAN: [&str; 12] = [
    "XII", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI",
];

/// The numeral printed at hour position `i` (0 = 12 o'clock), if any.
fn numeral(face: &FaceSpec, i: usize) -> Option<String> {
    let n = if i == 0 { 12 } else { i };
    let arabic = || Some(n.to_string());
    match face.dial.numerals {
        Numerals::None => None,
        Numerals::Arabic => arabic(),
        Numerals::ArabicEven => (n % 2 == 0).then(|| n.to_string()),
        Numerals::ArabicQuarters => (n % 3 == 0).then(|| n.to_string()),
        Numerals::Explorer => (n % 3 == 0 && n != 12).then(|| n.to_string()),
        Numerals::Roman | Numerals::RomanQuarters => {
            if face.dial.numerals == Numerals::RomanQuarters && n % 3 != 0 {
                return None;
            }
            if i == 4 && face.dial.roman_iiii {
                Some("IIII".to_owned())
            } else {
                Some(ROMAN[i].to_owned())
            }
        }
    }
}

/// Rough advance width of a string in em, for keeping numerals inside the dial.
fn text_width_em(s: &str) -> f64 {
    s.chars()
        .map(|c| match c {
            'I' => 0.36,
            'V' | 'X' => 0.72,
            '1' => 0.5,
            _ => 0.58,
        })
        .sum()
}

/// Hour positions next to a sub-dial, where a numeral would touch it (markers, which sit
/// further out, still fit).
fn beside_subdials(face: &FaceSpec) -> Vec<usize> {
    face.dial
        .subdials
        .angles()
        .iter()
        .flat_map(|a| {
            let i = (a / 30.0).round() as usize;
            [(i + 1) % 12, (i + 11) % 12]
        })
        .collect()
}

/// Hour positions (0..12) covered by a date window or sub-dial.
fn blocked_positions(face: &FaceSpec) -> Vec<usize> {
    let mut out: Vec<usize> = face
        .dial
        .subdials
        .angles()
        .iter()
        .map(|a| (a / 30.0).round() as usize % 12)
        .collect();
    if let Some(date) = &face.dial.date
        && date.position != DatePosition::At4Thirty
    {
        out.push((date.position.angle() / 30.0).round() as usize % 12);
    }
    out
}

pub(super) fn draw_dial(svg: &mut Svg, face: &FaceSpec, layout: &Layout) {
    let d = &face.dial;
    let k = layout.r / 260.0;
    let outline = outline_d(layout, 0.0);
    texture(svg, face, layout, &outline);
    svg.push(format!(
        r#"<path d="{outline}" fill="none" stroke="black" stroke-opacity="0.3" stroke-width="{:.1}"/>"#,
        8.0 * k
    ));
    let ink = d.ink.hex();
    let track_depth = minute_track(svg, face, layout, k);
    let blocked = blocked_positions(face);
    let crowded = beside_subdials(face);
    let (family, weight) = d.font.svg();
    let marker_inset = track_depth + 8.0 * k;
    let marker_len = match d.markers {
        MarkerStyle::None => 0.0,
        MarkerStyle::Dot => {
            if face.kind == crate::DialKind::Diver {
                0.11 * layout.r
            } else {
                0.07 * layout.r
            }
        }
        _ => 0.15 * layout.r,
    };
    let cap = f64::from(d.numeral_size) * layout.r;
    let fs = cap / 0.72;
    let mut numeral_dist = [0.0f64; 12];
    for (i, slot) in numeral_dist.iter_mut().enumerate() {
        if blocked.contains(&i) {
            continue;
        }
        let deg = 30.0 * i as f64;
        let text = numeral(face, i).filter(|_| !crowded.contains(&i));
        let has_marker = d.markers != MarkerStyle::None || (i == 0 && d.triangle_at_12);
        if has_marker {
            marker(svg, face, layout, i, marker_inset, marker_len, k);
        }
        if let Some(text) = text {
            let mut inset = marker_inset
                + if has_marker {
                    marker_len + 8.0 * k
                } else {
                    0.0
                };
            if i == 0 && d.triangle_at_12 && d.markers == MarkerStyle::None {
                inset = marker_inset + 0.14 * layout.r + 8.0 * k;
            }
            let (s, c) = (dial_dir(deg).x.abs(), dial_dir(deg).y.abs());
            let w = text_width_em(&text) * fs;
            let extent = match d.orientation {
                Orientation::Upright => s * w + c * cap,
                Orientation::Radial => cap,
            };
            let dist = layout.edge(deg) - inset - extent / 2.0;
            *slot = dist;
            match d.orientation {
                Orientation::Upright => {
                    let p = Layout::polar(deg, dist);
                    svg.push(format!(
                        r#"<text x="{:.2}" y="{:.2}" font-family="{family}" font-weight="{weight}" font-size="{fs:.2}" text-anchor="middle" fill="{ink}">{text}</text>"#,
                        p.x,
                        p.y + cap / 2.0
                    ));
                }
                Orientation::Radial => {
                    text_radial(svg, &text, deg, dist, fs, &ink, family, weight);
                }
            }
        }
    }
    if d.inner_24h {
        let fs24 = 0.055 * layout.r / 0.72;
        for (i, &nd) in numeral_dist.iter().enumerate() {
            if blocked.contains(&i) {
                continue;
            }
            let deg = 30.0 * i as f64;
            let base = if nd > 0.0 {
                nd - cap - 0.05 * layout.r
            } else {
                layout.edge(deg) - marker_inset - marker_len - 0.08 * layout.r
            };
            let p = Layout::polar(deg, base);
            svg.push(format!(
                r#"<text x="{:.2}" y="{:.2}" font-family="Liberation Sans" font-size="{fs24:.2}" text-anchor="middle" fill="{}">{}</text>"#,
                p.x,
                p.y + 0.36 * fs24,
                d.accent.hex(),
                if i == 0 { 24 } else { i + 12 }
            ));
        }
    }
    subdials(svg, face, layout, k);
    date_window(svg, face, layout, k);
    // How far from the centre the text near 12 may reach without touching the numerals or
    // markers around 11, 12 and 1.
    let mut top_room = layout.edge(0.0) - marker_inset - marker_len - 0.06 * layout.r;
    for (i, dist) in numeral_dist.iter().enumerate() {
        if *dist > 0.0 && matches!(i, 0 | 1 | 11) {
            let cos = if i == 0 { 1.0 } else { 0.866 };
            top_room = top_room.min(dist * cos - cap / 2.0 - 0.05 * layout.r);
        }
    }
    dial_text(svg, face, layout, top_room);
}

fn texture(svg: &mut Svg, face: &FaceSpec, layout: &Layout, outline: &str) {
    let d = &face.dial;
    let big = layout.a.max(layout.b);
    let fill = match d.texture {
        DialTexture::Sunburst => svg.radial(
            500.0,
            500.0,
            big,
            &[
                (0.0, d.color.lighten(0.12).hex(), 1.0),
                (0.7, d.color.hex(), 1.0),
                (1.0, d.color.darken(0.2).hex(), 1.0),
            ],
        ),
        DialTexture::Fume => svg.radial(
            500.0,
            500.0,
            big,
            &[
                (0.0, d.color.lighten(0.06).hex(), 1.0),
                (0.55, d.color.hex(), 1.0),
                (
                    1.0,
                    d.color
                        .darken(if d.color.luma() > 0.6 { 0.25 } else { 0.7 })
                        .hex(),
                    1.0,
                ),
            ],
        ),
        DialTexture::LinearGradient => svg.linear(
            500.0,
            500.0 - layout.b,
            500.0,
            500.0 + layout.b,
            &[(0.0, d.color.hex(), 1.0), (1.0, d.color2.hex(), 1.0)],
        ),
        _ => d.color.hex(),
    };
    svg.push(format!(r#"<path d="{outline}" fill="{fill}"/>"#));
    match d.texture {
        DialTexture::Sunburst => {
            // Alternating faint rays ending on the dial edge (no clip path needed).
            let mut d_white = String::new();
            let mut d_black = String::new();
            for i in 0..72 {
                let deg = 5.0 * f64::from(i);
                let a = layout.at(deg, 0.0);
                let b = layout.at(deg + 2.5, 0.0);
                let target = if i % 2 == 0 {
                    &mut d_white
                } else {
                    &mut d_black
                };
                target.push_str(&format!(
                    "M500 500 L{:.1} {:.1} L{:.1} {:.1} Z ",
                    a.x, a.y, b.x, b.y
                ));
            }
            svg.push(format!(
                r#"<path d="{d_white}" fill="white" fill-opacity="0.05"/>"#
            ));
            svg.push(format!(
                r#"<path d="{d_black}" fill="black" fill-opacity="0.05"/>"#
            ));
        }
        DialTexture::Guilloche => {
            let mut rings = String::new();
            let mut r = 14.0;
            let limit = if layout.outline == Outline::Ellipse {
                layout.r - 4.0
            } else {
                big * 1.4
            };
            while r < limit {
                rings.push_str(&format!(r#"<circle cx="500" cy="500" r="{r:.1}"/>"#));
                r += 9.0;
            }
            let clip = if layout.outline == Outline::Ellipse {
                String::new()
            } else {
                format!(
                    r#" clip-path="{}""#,
                    svg.clip(&format!(r#"<path d="{outline}"/>"#))
                )
            };
            svg.push(format!(
                r#"<g{clip} fill="none" stroke="{}" stroke-opacity="0.3" stroke-width="2.5">{rings}</g>"#,
                d.color2.hex()
            ));
        }
        DialTexture::Waffle => {
            svg.push(format!(
                r#"<path d="{outline}" fill="{}" fill-opacity="0.45"/>"#,
                d.color2.hex()
            ));
            svg.push(format!(
                r#"<path d="{}" fill="none" stroke="{}" stroke-width="5"/>"#,
                grid_lines(layout, 20.0),
                d.color.hex()
            ));
        }
        DialTexture::Linen => {
            svg.push(format!(
                r#"<path d="{}" fill="none" stroke="{}" stroke-opacity="0.3" stroke-width="2"/>"#,
                grid_lines(layout, 7.0),
                d.color2.hex()
            ));
        }
        DialTexture::Flat | DialTexture::Fume | DialTexture::LinearGradient => {}
    }
}

/// Half-extent of the dial at offset `t` from the centre along the other axis (`half` and
/// `other` are the dial half-sizes along and across the line).
fn chord(layout: &Layout, t: f64, half: f64, other: f64) -> f64 {
    match layout.outline {
        Outline::Ellipse => half * libm::sqrt((1.0 - (t / other) * (t / other)).max(0.0)),
        Outline::RoundRect { corner } => {
            let dy = t.abs() - (other - corner);
            if dy <= 0.0 {
                half
            } else {
                half - corner + libm::sqrt((corner * corner - dy * dy).max(0.0))
            }
        }
    }
}

/// Path data of a square grid of lines `spacing` apart, clipped to the dial.
fn grid_lines(layout: &Layout, spacing: f64) -> String {
    let mut d = String::new();
    let mut t = -(layout.b / spacing).floor() * spacing;
    while t <= layout.b {
        let h = chord(layout, t, layout.a, layout.b) - 1.0;
        if h > 0.0 {
            d.push_str(&format!(
                "M{:.1} {:.1} H{:.1} ",
                500.0 - h,
                500.0 + t,
                500.0 + h
            ));
        }
        t += spacing;
    }
    let mut t = -(layout.a / spacing).floor() * spacing;
    while t <= layout.a {
        let h = chord(layout, t, layout.b, layout.a) - 1.0;
        if h > 0.0 {
            d.push_str(&format!(
                "M{:.1} {:.1} V{:.1} ",
                500.0 + t,
                500.0 - h,
                500.0 + h
            ));
        }
        t += spacing;
    }
    d
}

/// Draws the minute track; returns how deep (from the dial edge) it reaches.
fn minute_track(svg: &mut Svg, face: &FaceSpec, layout: &Layout, k: f64) -> f64 {
    let ink = face.dial.ink.hex();
    // All ticks and dots go into one path: one fill instead of sixty.
    let mut d = String::new();
    let tick = |d: &mut String, deg: f64, from: f64, len: f64, w: f64| {
        let r0 = layout.edge(deg) - from;
        d.push_str(&radial_poly(
            deg,
            &[
                (-w / 2.0, r0 - len),
                (w / 2.0, r0 - len),
                (w / 2.0, r0),
                (-w / 2.0, r0),
            ],
        ));
        d.push(' ');
    };
    let strong = face.dial.markers == MarkerStyle::None && face.dial.numerals == Numerals::None;
    let depth = match face.dial.minute_track {
        MinuteTrack::None => 0.0,
        MinuteTrack::Ticks => {
            for i in 0..60 {
                let five = i % 5 == 0;
                let (len, w) = if five {
                    (22.0, if strong { 7.0 } else { 4.5 })
                } else {
                    (12.0, 2.4)
                };
                tick(&mut d, 6.0 * f64::from(i), 8.0 * k, len * k, w * k);
            }
            32.0 * k
        }
        MinuteTrack::Railway => {
            for inset in [8.0 * k, 28.0 * k] {
                svg.push(format!(
                    r#"<path d="{}" fill="none" stroke="{ink}" stroke-width="{:.1}"/>"#,
                    outline_d(layout, inset),
                    2.2 * k
                ));
            }
            for i in 0..60 {
                let five = i % 5 == 0;
                let w = if five { 5.0 } else { 2.2 };
                tick(&mut d, 6.0 * f64::from(i), 8.0 * k, 20.0 * k, w * k);
            }
            34.0 * k
        }
        MinuteTrack::Dots => {
            for i in 0..60 {
                let deg = 6.0 * f64::from(i);
                let r = if i % 5 == 0 { 5.0 * k } else { 2.8 * k };
                let p = layout.at(deg, 16.0 * k);
                d.push_str(&ellipse_d(p, r, r));
                d.push(' ');
            }
            26.0 * k
        }
        MinuteTrack::Numbered => {
            let fs = 0.05 * layout.r / 0.72;
            for i in 0..60 {
                let deg = 6.0 * f64::from(i);
                if i % 5 == 0 {
                    let n = if i == 0 { 60 } else { i };
                    let p = layout.at(deg, 8.0 * k + fs * 0.45);
                    svg.push(format!(
                        r#"<text x="{:.2}" y="{:.2}" font-family="Liberation Sans" font-size="{fs:.2}" text-anchor="middle" fill="{ink}">{n:02}</text>"#,
                        p.x,
                        p.y + 0.36 * fs
                    ));
                } else {
                    tick(&mut d, deg, 10.0 * k, 12.0 * k, 2.4 * k);
                }
            }
            8.0 * k + fs + 6.0 * k
        }
    };
    if !d.is_empty() {
        svg.push(format!(r#"<path d="{d}" fill="{ink}"/>"#));
    }
    depth
}

fn marker(svg: &mut Svg, face: &FaceSpec, layout: &Layout, i: usize, inset: f64, len: f64, k: f64) {
    let d = &face.dial;
    let r = layout.r;
    let deg = 30.0 * i as f64;
    let outer = layout.edge(deg) - inset;
    let (fill, stroke) = match d.lume {
        Some(l) => (l.hex(), d.ink.hex()),
        None => (d.ink.hex(), d.ink.hex()),
    };
    let sw = if d.lume.is_some() { 2.5 * k } else { 0.0 };
    let path = |svg: &mut Svg, pts: &[(f64, f64)]| {
        svg.push(format!(
            r#"<path d="{}" fill="{fill}" stroke="{stroke}" stroke-width="{sw:.1}"/>"#,
            radial_poly(deg, pts)
        ));
    };
    if i == 0 && d.triangle_at_12 {
        let w = 0.065 * r;
        let l = 0.14 * r;
        path(svg, &[(-w, outer), (w, outer), (0.0, outer - l)]);
        return;
    }
    match d.markers {
        MarkerStyle::None => {}
        MarkerStyle::Baton => {
            let w = if i.is_multiple_of(3) {
                0.045 * r
            } else {
                0.032 * r
            };
            if i == 0 {
                for off in [-0.035 * r, 0.035 * r] {
                    path(
                        svg,
                        &[
                            (off - w / 2.0, outer),
                            (off + w / 2.0, outer),
                            (off + w / 2.0, outer - len),
                            (off - w / 2.0, outer - len),
                        ],
                    );
                }
            } else {
                path(
                    svg,
                    &[
                        (-w / 2.0, outer),
                        (w / 2.0, outer),
                        (w / 2.0, outer - len),
                        (-w / 2.0, outer - len),
                    ],
                );
            }
        }
        MarkerStyle::Wedge => {
            let w = 0.04 * r;
            path(svg, &[(-w, outer), (w, outer), (0.0, outer - len)]);
        }
        MarkerStyle::Double => {
            let w = 0.013 * r;
            for off in [-0.022 * r, 0.022 * r] {
                path(
                    svg,
                    &[
                        (off - w / 2.0, outer),
                        (off + w / 2.0, outer),
                        (off + w / 2.0, outer - len),
                        (off - w / 2.0, outer - len),
                    ],
                );
            }
        }
        MarkerStyle::Dot => {
            let rad = len / 2.0 * if i.is_multiple_of(3) { 1.0 } else { 0.8 };
            let p = Layout::polar(deg, outer - len / 2.0);
            svg.push(format!(
                r#"<circle cx="{:.2}" cy="{:.2}" r="{rad:.2}" fill="{fill}" stroke="{stroke}" stroke-width="{sw:.1}"/>"#,
                p.x, p.y
            ));
        }
    }
}

fn subdials(svg: &mut Svg, face: &FaceSpec, layout: &Layout, k: f64) {
    let d = &face.dial;
    let ink = d.ink.hex();
    let running = if face.seconds_in_subdial() {
        layout.seconds_sub
    } else {
        None
    };
    for (idx, &(c, rs)) in layout.subdials.iter().enumerate() {
        let fill = if d.color2.distance(d.ink) > 120 {
            d.color2
        } else {
            d.color.mix(d.ink, 0.15)
        };
        svg.push(format!(
            r#"<circle cx="{:.2}" cy="{:.2}" r="{rs:.2}" fill="{}" stroke="{ink}" stroke-width="{:.1}"/>"#,
            c.x,
            c.y,
            fill.hex(),
            2.5 * k
        ));
        for f in [0.45, 0.3] {
            svg.push(format!(
                r#"<circle cx="{:.2}" cy="{:.2}" r="{:.2}" fill="none" stroke="{ink}" stroke-opacity="0.18" stroke-width="{:.1}"/>"#,
                c.x,
                c.y,
                rs * f,
                1.5 * k
            ));
        }
        let is_running = running == Some(idx);
        let (n_ticks, labels): (u32, &[(f64, &str)]) = if is_running {
            (
                60,
                &[(0.0, "60"), (90.0, "15"), (180.0, "30"), (270.0, "45")],
            )
        } else {
            match idx % 3 {
                0 => (30, &[(0.0, "30"), (120.0, "10"), (240.0, "20")]),
                1 => (
                    24,
                    &[(0.0, "24"), (90.0, "6"), (180.0, "12"), (270.0, "18")],
                ),
                _ => (12, &[(0.0, "12"), (90.0, "3"), (180.0, "6"), (270.0, "9")]),
            }
        };
        let mut ticks = String::new();
        for t in 0..n_ticks {
            let deg = 360.0 * f64::from(t) / f64::from(n_ticks);
            let major = t % (n_ticks / 4).max(1) == 0;
            let (len, w) = if major {
                (0.16 * rs, 2.6 * k)
            } else {
                (0.09 * rs, 1.4 * k)
            };
            ticks.push_str(&radial_poly_at(
                c,
                deg,
                &[
                    (-w / 2.0, rs * 0.95 - len),
                    (w / 2.0, rs * 0.95 - len),
                    (w / 2.0, rs * 0.95),
                    (-w / 2.0, rs * 0.95),
                ],
            ));
            ticks.push(' ');
        }
        svg.push(format!(r#"<path d="{ticks}" fill="{ink}"/>"#));
        let fs = 0.2 * rs;
        for &(deg, label) in labels {
            let p = c.add(dial_dir(deg).scale(rs * 0.62));
            svg.push(format!(
                r#"<text x="{:.2}" y="{:.2}" font-family="Liberation Sans" font-size="{fs:.2}" text-anchor="middle" fill="{ink}">{label}</text>"#,
                p.x,
                p.y + 0.36 * fs
            ));
        }
        if !is_running {
            let angle = f64::from(d.subdial_hand_angles[idx % 3]);
            let shapes = decorative_hand(c, angle, 0.8 * rs, 0.05 * rs, face.hands.color);
            svg.shapes(&shapes);
        }
    }
}

fn date_window(svg: &mut Svg, face: &FaceSpec, layout: &Layout, k: f64) {
    let Some(date) = &face.dial.date else {
        return;
    };
    let r = layout.r;
    let deg = date.position.angle();
    let frac = if date.position == DatePosition::At4Thirty {
        0.6
    } else {
        0.66
    };
    let c = Layout::polar(deg, frac * layout.edge(deg).min(1.2 * r));
    let (w, h) = (0.22 * r, 0.16 * r);
    let rot = if date.position == DatePosition::At4Thirty {
        45.0
    } else {
        0.0
    };
    let dark = face.dial.color.luma() < 0.35;
    let (bg, fg) = if dark {
        (Color::rgb(16, 16, 18), Color::rgb(240, 240, 236))
    } else {
        (Color::rgb(250, 250, 248), Color::rgb(16, 16, 18))
    };
    let fs = 0.12 * r / 0.72;
    svg.push(format!(
        r#"<g transform="rotate({rot} {:.2} {:.2})"><rect x="{:.2}" y="{:.2}" width="{w:.2}" height="{h:.2}" rx="{:.1}" fill="{}" stroke="{}" stroke-width="{:.1}"/><text x="{:.2}" y="{:.2}" font-family="Liberation Sans" font-weight="700" font-size="{fs:.2}" text-anchor="middle" fill="{}">{}</text></g>"#,
        c.x,
        c.y,
        c.x - w / 2.0,
        c.y - h / 2.0,
        3.0 * k,
        bg.hex(),
        Color::rgb(150, 152, 156).hex(),
        4.0 * k,
        c.x,
        c.y + 0.36 * fs,
        fg.hex(),
        date.day
    ));
}

fn dial_text(svg: &mut Svg, face: &FaceSpec, layout: &Layout, top_room: f64) {
    let d = &face.dial;
    let r = layout.r;
    let angles = d.subdials.angles();
    let top_free = !angles.contains(&0.0);
    let bottom_free = !angles.contains(&180.0)
        && d.date
            .as_ref()
            .is_none_or(|w| w.position != DatePosition::At6);
    let brand_fs = 0.1 * r;
    let top_dist = (0.42 * layout.edge(0.0).min(1.2 * r)).min(top_room - 0.36 * brand_fs);
    let top_free = top_free && top_dist > 0.22 * r;
    let top_y = 500.0 - top_dist;
    let bottom_y = 500.0 + 0.42 * layout.edge(180.0).min(1.2 * r);
    let (family, weight) = d.text_font.svg();
    let sub_fs = 0.052 * r;
    let line = |svg: &mut Svg,
                y: f64,
                text: &str,
                fs: f64,
                fill: Color,
                weight: u16,
                spacing: f64| {
        svg.push(format!(
            r#"<text x="500" y="{:.2}" font-family="{family}" font-weight="{weight}" font-size="{fs:.2}" letter-spacing="{:.2}" text-anchor="middle" fill="{}">{}</text>"#,
            y + 0.36 * fs,
            spacing * fs,
            fill.hex(),
            esc(text)
        ));
    };
    let brand_at = match (&d.brand, top_free, bottom_free) {
        (Some(_), true, _) => Some(top_y),
        (Some(_), false, true) => Some(bottom_y - 0.06 * r),
        _ => None,
    };
    if let (Some(brand), Some(y)) = (&d.brand, brand_at) {
        line(svg, y, brand, brand_fs, d.ink, weight.max(600), 0.12);
    }
    if let Some(sub) = &d.subtitle {
        let color = if sub.len() % 3 == 0 { d.accent } else { d.ink };
        let y = match (brand_at, top_free, bottom_free) {
            (Some(by), true, false) if by < 500.0 => Some(by + 0.11 * r),
            (_, _, true) if brand_at.is_none_or(|by| by < 500.0) => Some(bottom_y),
            (None, true, _) => Some(top_y),
            (Some(by), _, true) => Some(by + 0.11 * r),
            _ => None,
        };
        if let Some(y) = y {
            line(svg, y, sub, sub_fs, color, 400, 0.08);
        }
    }
}
