//! Documents per second per kind and family, one thread, render + PNG encode, with the
//! share that PixMo-Docs' render gates would reject.
//!
//! `cargo run --release -p pixmo-docs --example bench -- [count per kind] [doc px/pt]`
//!
//! Compare with `pipelines/pixmo-docs/bench/matplotlib_baseline.py` (the original's chart
//! renderer) on the same machine.

use std::collections::BTreeMap;
use std::time::Instant;

use pixmo_docs::kind::{Kind, RenderSettings};
use pixmo_docs::stages::render::generate;

fn main() {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let ppt: f32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1.5);
    let settings = RenderSettings {
        min_side: 400,
        max_side: 1000,
        doc_pixel_per_pt: ppt,
    };
    println!(
        "pixmo-docs bench: {count} per kind, 1 thread, render + PNG encode, docs at {ppt} px/pt"
    );
    println!(
        "  {:<18} {:>8} {:>8} {:>8} {:>10} {:>9} {:>8}",
        "kind", "docs/s", "render", "encode", "KiB/png", "pixels", "gated"
    );
    println!(
        "  (gated: share the render gates reject; dom: mean share of the top colour, 4-bit / exact)"
    );
    let mut families: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for kind in Kind::all() {
        let (mut render_s, mut encode_s, mut bytes, mut pixels, mut gated, mut failed) =
            (0.0, 0.0, 0usize, 0u64, 0u64, 0u64);
        let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
        // The default spec's colour limits: 95 % for charts and diagrams, 98 % for pages.
        let limit = if matches!(kind, Kind::Doc(_)) {
            0.98
        } else {
            0.95
        };
        let (mut dom_q, mut dom_x) = (0.0, 0.0);
        for seed in 0..count {
            let t = Instant::now();
            let g = match generate(kind, seed, &settings) {
                Ok(g) => g,
                Err(e) => {
                    failed += 1;
                    eprintln!("{} seed {seed}: {e}", kind.name());
                    continue;
                }
            };
            render_s += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let png = pixmo_stages::encode::encode_png(&g.image, false).expect("encode");
            encode_s += t.elapsed().as_secs_f64();
            bytes += png.len();
            pixels += u64::from(g.image.width) * u64::from(g.image.height);
            let (w, h) = (g.image.width, g.image.height);
            let reason = if w.min(h) < 128 {
                Some("small")
            } else if f64::from(w.max(h)) > 5.0 * f64::from(w.min(h)) {
                Some("aspect")
            } else if pixmo_stages::validate::dominant_fraction(&g.image) > limit {
                Some("one colour")
            } else {
                None
            };
            dom_q += pixmo_stages::validate::dominant_fraction(&g.image);
            dom_x += exact_dominant(&g.image);
            if let Some(r) = reason {
                gated += 1;
                *reasons.entry(r).or_default() += 1;
            }
        }
        let ok = (count - failed).max(1) as f64;
        let secs = render_s + encode_s;
        let family = match kind {
            Kind::Figure(k) => k.category().name().to_owned(),
            Kind::Doc(k) => k.category().to_owned(),
        };
        let f = families.entry(family).or_default();
        f.0 += count - failed;
        f.1 += secs;
        println!(
            "  {:<18} {:>8.1} {:>6.1}ms {:>6.1}ms {:>10.1} {:>8.2}M {:>7.0}% dom {:.3}/{:.3}{}{}",
            kind.name(),
            ok / secs,
            1000.0 * render_s / ok,
            1000.0 * encode_s / ok,
            bytes as f64 / ok / 1024.0,
            pixels as f64 / ok / 1e6,
            100.0 * gated as f64 / ok,
            dom_q / ok,
            dom_x / ok,
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" {reasons:?}")
            },
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            },
        );
    }
    println!("  per family (one thread):");
    for (family, (n, secs)) in &families {
        println!("    {family:<10} {:>8.1} docs/s", *n as f64 / secs);
    }
}

/// Share of the most common exact RGB colour (the original PixMo-Docs measure).
fn exact_dominant(image: &pixmo_core::RgbaImage) -> f64 {
    let mut counts: std::collections::HashMap<[u8; 3], u32> = std::collections::HashMap::new();
    for p in image.data.chunks_exact(4) {
        *counts.entry([p[0], p[1], p[2]]).or_default() += 1;
    }
    f64::from(counts.values().copied().max().unwrap_or(0)) / (image.data.len() / 4).max(1) as f64
}
