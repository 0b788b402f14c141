//! Procedural layout of a [`Graph`] and its SVG document.
//!
//! Layouts are simple and deterministic: layered (longest path from the start) for
//! flowcharts, a tidy tree for org charts, an axis with alternating labels for timelines, and
//! a circle for networks. Boxes are sized from the measured text. The drawing is scaled into
//! a canvas of the requested long side through `viewBox`, whose aspect always matches the
//! canvas so the background covers every pixel.

use std::fmt::Write as _;

use pixmo_core::Rng;

use crate::diagram::graph::{Graph, NodeKind};
use crate::fonts::{self, FontChoice};
use crate::style::{BACKGROUNDS, PALETTES, Rgb};

/// Look of a diagram.
#[derive(Clone, Debug)]
pub(crate) struct DiagramStyle {
    pub font: FontChoice,
    pub font_size: f64,
    pub background: Rgb,
    /// Colour of the panel behind the content (a different 4-bit colour bucket than the
    /// background, so no colour covers 95 % of a sparse diagram).
    pub panel: Rgb,
    pub fills: Vec<Rgb>,
    pub stroke: Rgb,
    pub stroke_width: f64,
    pub radius: f64,
    /// Flowcharts and org charts: left-to-right instead of top-to-bottom.
    pub horizontal: bool,
}

impl DiagramStyle {
    pub(crate) fn sample(rng: &mut Rng) -> DiagramStyle {
        let palette = PALETTES[rng.index(PALETTES.len())];
        let tint = rng.range_f64(0.45, 0.8);
        let fills = palette
            .iter()
            .map(|c| c.mix(Rgb(255, 255, 255), tint))
            .collect();
        let background = BACKGROUNDS[rng.index(BACKGROUNDS.len())];
        DiagramStyle {
            font: FontChoice::ALL[rng.index(FontChoice::ALL.len())],
            font_size: f64::from(rng.range_u32(13, 19)),
            background,
            panel: background.mix(Rgb(0, 0, 0), rng.range_f64(0.07, 0.1)),
            fills,
            stroke: palette[rng.index(palette.len())].mix(Rgb(0, 0, 0), 0.55),
            stroke_width: rng.range_f64(1.4, 2.6),
            radius: if rng.bool(0.5) {
                rng.range_f64(4.0, 12.0)
            } else {
                0.0
            },
            horizontal: rng.bool(0.3),
        }
    }

    fn width(&self, text: &str, scale: f64) -> f64 {
        f64::from(fonts::text_width(
            &self.font.body_font(),
            (self.font_size * scale) as f32,
            text,
        ))
    }
}

/// Escapes text for XML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A laid-out box: centre and size.
#[derive(Clone, Copy, Debug)]
struct Placed {
    cx: f64,
    cy: f64,
    w: f64,
    h: f64,
}

/// SVG body under construction, with its bounds and every text drawn.
struct Canvas<'a> {
    style: &'a DiagramStyle,
    body: String,
    texts: Vec<String>,
    min: (f64, f64),
    max: (f64, f64),
}

impl<'a> Canvas<'a> {
    fn new(style: &'a DiagramStyle) -> Canvas<'a> {
        Canvas {
            style,
            body: String::new(),
            texts: Vec::new(),
            min: (f64::INFINITY, f64::INFINITY),
            max: (f64::NEG_INFINITY, f64::NEG_INFINITY),
        }
    }

    fn grow(&mut self, x0: f64, y0: f64, x1: f64, y1: f64) {
        self.min = (self.min.0.min(x0), self.min.1.min(y0));
        self.max = (self.max.0.max(x1), self.max.1.max(y1));
    }

    fn text(
        &mut self,
        (x, y): (f64, f64),
        text: &str,
        scale: f64,
        bold: bool,
        anchor: &str,
        fill: Rgb,
    ) {
        let size = self.style.font_size * scale;
        let w = self.style.width(text, scale) * if bold { 1.08 } else { 1.0 };
        let x0 = match anchor {
            "start" => x,
            "end" => x - w,
            _ => x - w / 2.0,
        };
        self.grow(x0, y - size * 0.6, x0 + w, y + size * 0.6);
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{:.1}" font-size="{size:.1}" text-anchor="{anchor}"{} fill="{}">{}</text>"#,
            y + size * 0.35,
            if bold { r#" font-weight="bold""# } else { "" },
            fill.hex(),
            escape(text)
        );
        self.body.push('\n');
        self.texts.push(text.to_owned());
    }

    fn shape(&mut self, kind: NodeKind, p: Placed, fill: Rgb) {
        let s = self.style;
        let stroke = format!(
            r#"fill="{}" stroke="{}" stroke-width="{:.1}""#,
            fill.hex(),
            s.stroke.hex(),
            s.stroke_width
        );
        let (x, y) = (p.cx - p.w / 2.0, p.cy - p.h / 2.0);
        self.grow(x, y, x + p.w, y + p.h);
        let _ = match kind {
            NodeKind::Decision => write!(
                self.body,
                r#"<polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" {stroke}/>"#,
                p.cx,
                y,
                x + p.w,
                p.cy,
                p.cx,
                y + p.h,
                x,
                p.cy
            ),
            NodeKind::Terminal => write!(
                self.body,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" rx="{:.1}" {stroke}/>"#,
                p.w,
                p.h,
                p.h / 2.0
            ),
            NodeKind::Station => write!(
                self.body,
                r#"<ellipse cx="{:.1}" cy="{:.1}" rx="{:.1}" ry="{:.1}" {stroke}/>"#,
                p.cx,
                p.cy,
                p.w / 2.0,
                p.h / 2.0
            ),
            _ => write!(
                self.body,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" rx="{:.1}" {stroke}/>"#,
                p.w, p.h, s.radius
            ),
        };
        self.body.push('\n');
    }

    fn path(&mut self, points: &[(f64, f64)], arrow: bool) {
        let mut d = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(d, "{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" });
            self.grow(*x, *y, *x, *y);
        }
        let _ = write!(
            self.body,
            r#"<path d="{}" fill="none" stroke="{}" stroke-width="{:.1}"{}/>"#,
            d.trim_end(),
            self.style.stroke.hex(),
            self.style.stroke_width,
            if arrow {
                r#" marker-end="url(#arrow)""#
            } else {
                ""
            }
        );
        self.body.push('\n');
    }

    /// The finished document, scaled to `long_side` pixels on its longer side.
    fn finish(
        mut self,
        title: &str,
        long_side: u32,
        min_side: u32,
    ) -> (String, Vec<String>, u32, u32) {
        let margin = self.style.font_size * 1.5;
        let title_size = 1.35;
        let (x0, y0) = (self.min.0 - margin, self.min.1 - margin);
        let title_h = self.style.font_size * title_size * 2.2;
        let cx = (self.min.0 + self.max.0) / 2.0;
        let title_w = self.style.width(title, title_size) * 1.1;
        let mut vx0 = x0.min(cx - title_w / 2.0 - margin);
        let mut vx1 = (self.max.0 + margin).max(cx + title_w / 2.0 + margin);
        let mut vy0 = y0 - title_h;
        let mut vy1 = self.max.1 + margin;
        // Keep the aspect ratio at most 3 by padding the short dimension.
        let (mut w, mut h) = (vx1 - vx0, vy1 - vy0);
        if w > 3.0 * h {
            let pad = (w / 3.0 - h) / 2.0;
            vy0 -= pad;
            vy1 += pad;
            h = vy1 - vy0;
        } else if h > 3.0 * w {
            let pad = (h / 3.0 - w) / 2.0;
            vx0 -= pad;
            vx1 += pad;
            w = vx1 - vx0;
        }
        let scale = f64::from(long_side) / w.max(h);
        let pw = ((w * scale).round() as u32).max(min_side);
        let ph = ((h * scale).round() as u32).max(min_side);
        // Match the viewBox to the canvas aspect exactly (centre the content).
        let (vw, vh) = (f64::from(pw) / scale, f64::from(ph) / scale);
        vx0 -= (vw - w) / 2.0;
        vy0 -= (vh - h) / 2.0;
        let title_y = vy0 + (vh - h) / 2.0 + title_h / 2.0 + margin * 0.3;
        let fill = Rgb(25, 25, 25);
        let mut head = String::new();
        let _ = write!(
            head,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{pw}" height="{ph}" viewBox="{vx0:.1} {vy0:.1} {vw:.1} {vh:.1}" font-family="{}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker></defs>
<rect x="{vx0:.1}" y="{vy0:.1}" width="{vw:.1}" height="{vh:.1}" fill="{}"/>
<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="{:.1}" fill="{}"/>
"#,
            self.style.font.svg_family(),
            self.style.stroke.hex(),
            self.style.background.hex(),
            self.min.0 - margin * 0.6,
            self.min.1 - margin * 0.6,
            self.max.0 - self.min.0 + margin * 1.2,
            self.max.1 - self.min.1 + margin * 1.2,
            self.style.radius,
            self.style.panel.hex(),
        );
        let body = std::mem::take(&mut self.body);
        self.text((cx, title_y), title, title_size, true, "middle", fill);
        let title_text = std::mem::take(&mut self.body);
        let svg = format!("{head}{title_text}{body}</svg>\n");
        (svg, self.texts, pw, ph)
    }
}

/// Node size from its text.
fn node_size(style: &DiagramStyle, g: &Graph, i: usize) -> (f64, f64) {
    let n = &g.nodes[i];
    let fs = style.font_size;
    let label_w = style.width(&n.label, 1.0)
        * if n.kind == NodeKind::Person {
            1.08
        } else {
            1.0
        };
    let detail_w = n.detail.as_deref().map_or(0.0, |d| style.width(d, 0.85));
    let w = label_w.max(detail_w) + fs * 1.6;
    let h = if n.detail.is_some() {
        fs * 3.2
    } else {
        fs * 2.2
    };
    match n.kind {
        NodeKind::Decision => (w * 1.45, h * 1.7),
        NodeKind::Terminal => (w.max(fs * 5.0), h),
        NodeKind::Station => (w * 1.2, h * 1.3),
        _ => (w, h),
    }
}

fn text_color(fill: Rgb) -> Rgb {
    fill.text_on()
}

fn draw_node(canvas: &mut Canvas<'_>, g: &Graph, i: usize, p: Placed, fill: Rgb) {
    let n = &g.nodes[i];
    canvas.shape(n.kind, p, fill);
    let ink = text_color(fill);
    match &n.detail {
        Some(detail) if n.kind == NodeKind::Person => {
            let fs = canvas.style.font_size;
            canvas.text((p.cx, p.cy - fs * 0.5), &n.label, 1.0, true, "middle", ink);
            canvas.text((p.cx, p.cy + fs * 0.65), detail, 0.85, false, "middle", ink);
        }
        _ => canvas.text(
            (p.cx, p.cy),
            &n.label,
            1.0,
            n.kind == NodeKind::Terminal,
            "middle",
            ink,
        ),
    }
}

/// Maps layout axes (u along the flow, v across it) to x/y.
fn uv(style: &DiagramStyle, u: f64, v: f64) -> (f64, f64) {
    if style.horizontal { (u, v) } else { (v, u) }
}

/// Flowchart: longest-path layers along the flow; the main chain in column 0, the side
/// step of decision k in column k + 1.
pub(crate) fn flowchart(
    g: &Graph,
    style: &DiagramStyle,
    long_side: u32,
    min_side: u32,
) -> (String, Vec<String>, u32, u32) {
    let n = g.nodes.len();
    let mut layer = vec![0usize; n];
    // Edges only go forward in creation order except side steps; relax until stable.
    for _ in 0..n {
        for e in &g.edges {
            layer[e.to] = layer[e.to].max(layer[e.from] + 1);
        }
    }
    let mut column = vec![0usize; n];
    let mut next_col = 1;
    for e in &g.edges {
        if e.label.as_deref() == Some("No") {
            column[e.to] = next_col;
            next_col += 1;
        }
    }
    let sizes: Vec<(f64, f64)> = (0..n).map(|i| node_size(style, g, i)).collect();
    let along = |s: (f64, f64)| if style.horizontal { s.0 } else { s.1 };
    let across = |s: (f64, f64)| if style.horizontal { s.1 } else { s.0 };
    let layers = layer.iter().max().copied().unwrap_or(0) + 1;
    let gap_u = style.font_size * 2.4;
    let mut u_pos = vec![0.0; layers];
    let mut u = 0.0;
    for (l, slot) in u_pos.iter_mut().enumerate() {
        let thick = (0..n)
            .filter(|i| layer[*i] == l)
            .map(|i| along(sizes[i]))
            .fold(0.0, f64::max);
        *slot = u + thick / 2.0;
        u += thick + gap_u;
    }
    let cols = next_col;
    let mut v_pos = vec![0.0; cols];
    let mut v = 0.0;
    for (c, slot) in v_pos.iter_mut().enumerate() {
        let thick = (0..n)
            .filter(|i| column[*i] == c)
            .map(|i| across(sizes[i]))
            .fold(0.0, f64::max);
        *slot = v + thick / 2.0;
        v += thick + style.font_size * 2.5;
    }
    let placed: Vec<Placed> = (0..n)
        .map(|i| {
            let (cx, cy) = uv(style, u_pos[layer[i]], v_pos[column[i]]);
            Placed {
                cx,
                cy,
                w: sizes[i].0,
                h: sizes[i].1,
            }
        })
        .collect();
    let mut canvas = Canvas::new(style);
    let half_u = |p: &Placed| {
        if style.horizontal {
            p.w / 2.0
        } else {
            p.h / 2.0
        }
    };
    let half_v = |p: &Placed| {
        if style.horizontal {
            p.h / 2.0
        } else {
            p.w / 2.0
        }
    };
    let center_uv = |p: &Placed| {
        if style.horizontal {
            (p.cx, p.cy)
        } else {
            (p.cy, p.cx)
        }
    };
    let mut labels = Vec::new();
    for e in &g.edges {
        let (a, b) = (placed[e.from], placed[e.to]);
        let (au, av) = center_uv(&a);
        let (bu, bv) = center_uv(&b);
        let pts: Vec<(f64, f64)> = if column[e.from] == column[e.to] {
            vec![(au + half_u(&a), av), (bu - half_u(&b), bv)]
        } else if column[e.to] > column[e.from] {
            vec![(au, av + half_v(&a)), (au, bv), (bu - half_u(&b), bv)]
        } else {
            vec![(au + half_u(&a), av), (bu, av), (bu, bv + half_v(&b))]
        };
        let pts: Vec<(f64, f64)> = pts.into_iter().map(|(u, v)| uv(style, u, v)).collect();
        if let Some(label) = &e.label {
            let (x, y) = (pts[0].0 + pts[1].0, pts[0].1 + pts[1].1);
            labels.push((x / 2.0, y / 2.0, label.clone()));
        }
        canvas.path(&pts, true);
    }
    for (i, p) in placed.iter().enumerate() {
        let fill = style.fills[(g.nodes[i].kind as usize) % style.fills.len()];
        draw_node(&mut canvas, g, i, *p, fill);
    }
    for (x, y, label) in labels {
        let fs = style.font_size;
        let w = style.width(&label, 0.85) + fs * 0.6;
        let _ = write!(
            canvas.body,
            r#"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{}"/>"#,
            x - w / 2.0,
            y - fs * 0.6,
            fs * 1.2,
            style.panel.hex()
        );
        canvas.text((x, y), &label, 0.85, true, "middle", style.stroke);
    }
    canvas.finish(&g.title, long_side, min_side)
}

/// Org chart: a tidy tree, leaves side by side, parents centred over their children.
pub(crate) fn tree(
    g: &Graph,
    style: &DiagramStyle,
    long_side: u32,
    min_side: u32,
) -> (String, Vec<String>, u32, u32) {
    let n = g.nodes.len();
    let sizes: Vec<(f64, f64)> = (0..n).map(|i| node_size(style, g, i)).collect();
    let across = |s: (f64, f64)| if style.horizontal { s.1 } else { s.0 };
    let along = |s: (f64, f64)| if style.horizontal { s.0 } else { s.1 };
    let mut depth = vec![0usize; n];
    for _ in 0..n {
        for e in &g.edges {
            depth[e.to] = depth[e.from] + 1;
        }
    }
    let mut v_pos = vec![0.0; n];
    let mut cursor = 0.0;
    let gap_v = style.font_size * 1.2;
    fn place(
        g: &Graph,
        i: usize,
        sizes: &[(f64, f64)],
        across: &dyn Fn((f64, f64)) -> f64,
        v_pos: &mut [f64],
        cursor: &mut f64,
        gap: f64,
    ) {
        let kids = g.successors(i);
        if kids.is_empty() {
            let w = across(sizes[i]);
            v_pos[i] = *cursor + w / 2.0;
            *cursor += w + gap;
        } else {
            for k in &kids {
                place(g, *k, sizes, across, v_pos, cursor, gap);
            }
            let first = v_pos[kids[0]];
            let last = v_pos[kids[kids.len() - 1]];
            v_pos[i] = (first + last) / 2.0;
            // A parent wider than its children pushes later subtrees along.
            let w = across(sizes[i]);
            if *cursor < v_pos[i] + w / 2.0 + gap {
                *cursor = v_pos[i] + w / 2.0 + gap;
            }
        }
    }
    place(g, 0, &sizes, &across, &mut v_pos, &mut cursor, gap_v);
    let levels = depth.iter().max().copied().unwrap_or(0) + 1;
    let mut u_pos = vec![0.0; levels];
    let mut u = 0.0;
    for (l, slot) in u_pos.iter_mut().enumerate() {
        let thick = (0..n)
            .filter(|i| depth[*i] == l)
            .map(|i| along(sizes[i]))
            .fold(0.0, f64::max);
        *slot = u + thick / 2.0;
        u += thick + style.font_size * 2.6;
    }
    let placed: Vec<Placed> = (0..n)
        .map(|i| {
            let (cx, cy) = uv(style, u_pos[depth[i]], v_pos[i]);
            Placed {
                cx,
                cy,
                w: sizes[i].0,
                h: sizes[i].1,
            }
        })
        .collect();
    let mut canvas = Canvas::new(style);
    for e in &g.edges {
        let (a, b) = (placed[e.from], placed[e.to]);
        let pts = if style.horizontal {
            let mid = (a.cx + a.w / 2.0 + b.cx - b.w / 2.0) / 2.0;
            vec![
                (a.cx + a.w / 2.0, a.cy),
                (mid, a.cy),
                (mid, b.cy),
                (b.cx - b.w / 2.0, b.cy),
            ]
        } else {
            let mid = (a.cy + a.h / 2.0 + b.cy - b.h / 2.0) / 2.0;
            vec![
                (a.cx, a.cy + a.h / 2.0),
                (a.cx, mid),
                (b.cx, mid),
                (b.cx, b.cy - b.h / 2.0),
            ]
        };
        canvas.path(&pts, false);
    }
    for (i, p) in placed.iter().enumerate() {
        let fill = style.fills[depth[i] % style.fills.len()];
        draw_node(&mut canvas, g, i, *p, fill);
    }
    canvas.finish(&g.title, long_side, min_side)
}

/// Timeline: a horizontal axis, year markers, labels alternating above and below.
pub(crate) fn timeline(
    g: &Graph,
    style: &DiagramStyle,
    long_side: u32,
    min_side: u32,
) -> (String, Vec<String>, u32, u32) {
    let n = g.nodes.len();
    let fs = style.font_size;
    let widths: Vec<f64> = g
        .nodes
        .iter()
        .map(|node| style.width(&node.label, 1.0) + fs * 1.4)
        .collect();
    let step = widths.iter().copied().fold(0.0, f64::max) * 0.62 + fs;
    let mut canvas = Canvas::new(style);
    let x_end = step * (n as f64 - 1.0);
    canvas.path(&[(-fs, 0.0), (x_end + fs * 1.5, 0.0)], true);
    for (i, node) in g.nodes.iter().enumerate() {
        let x = step * i as f64;
        let above = i % 2 == 0;
        let off = fs * if above { -3.4 } else { 3.4 };
        canvas.path(&[(x, 0.0), (x, off * 0.55)], false);
        let fill = style.fills[i % style.fills.len()];
        let _ = write!(
            canvas.body,
            r#"<circle cx="{x:.1}" cy="0" r="{:.1}" fill="{}" stroke="{}" stroke-width="{:.1}"/>"#,
            fs * 0.45,
            fill.hex(),
            style.stroke.hex(),
            style.stroke_width
        );
        let p = Placed {
            cx: x,
            cy: off,
            w: widths[i],
            h: fs * 2.0,
        };
        canvas.shape(NodeKind::Process, p, fill);
        canvas.text(
            (x, off),
            &node.label,
            1.0,
            false,
            "middle",
            text_color(fill),
        );
        if let Some(year) = &node.detail {
            let y = if above { fs * 1.3 } else { -fs * 1.3 };
            canvas.text((x, y), year, 0.95, true, "middle", style.stroke);
        }
    }
    canvas.finish(&g.title, long_side, min_side)
}

/// Network: nodes on a circle, straight links drawn under the nodes.
pub(crate) fn network(
    g: &Graph,
    style: &DiagramStyle,
    long_side: u32,
    min_side: u32,
) -> (String, Vec<String>, u32, u32) {
    let n = g.nodes.len();
    let sizes: Vec<(f64, f64)> = (0..n).map(|i| node_size(style, g, i)).collect();
    let widest = sizes.iter().map(|s| s.0).fold(0.0, f64::max);
    let radius = (widest * n as f64 / std::f64::consts::TAU * 1.15).max(widest * 1.1);
    let placed: Vec<Placed> = (0..n)
        .map(|i| {
            let a = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n as f64;
            Placed {
                cx: radius * libm::cos(a),
                cy: radius * 0.8 * libm::sin(a),
                w: sizes[i].0,
                h: sizes[i].1,
            }
        })
        .collect();
    let mut canvas = Canvas::new(style);
    for e in &g.edges {
        let (a, b) = (placed[e.from], placed[e.to]);
        canvas.path(&[(a.cx, a.cy), (b.cx, b.cy)], false);
    }
    for (i, p) in placed.iter().enumerate() {
        let fill = style.fills[i % style.fills.len()];
        draw_node(&mut canvas, g, i, *p, fill);
    }
    canvas.finish(&g.title, long_side, min_side)
}
