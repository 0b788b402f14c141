//! Documents per second for each template family.
//!
//! ```text
//! cargo run --release -p pixmo-gen-typst --example bench -- [docs per kind, default 20] [px/pt, default 2]
//! ```

use std::time::Instant;

use pixmo_gen_typst::{DocKind, GenerateOptions, RenderOptions, generate};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let ppt: f32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2.0);
    let options = GenerateOptions {
        render: RenderOptions {
            pixel_per_pt: ppt,
            ..RenderOptions::default()
        },
    };
    // Warm up fonts, the standard library and caches.
    let _ = generate(DocKind::DataTable, u64::MAX, &options);
    println!(
        "{:<12} {:>6} {:>9} {:>10} {:>8} {:>7}",
        "kind", "docs", "docs/s", "ms/doc", "avg QA", "errors"
    );
    let (mut total_docs, mut total_secs) = (0u64, 0.0f64);
    for kind in DocKind::ALL {
        let start = Instant::now();
        let (mut qa, mut errors) = (0usize, 0u64);
        for seed in 0..n {
            match generate(kind, seed, &options) {
                Ok(s) => qa += s.qa.len(),
                Err(e) => {
                    errors += 1;
                    eprintln!("{kind:?} seed {seed}: {e}");
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        total_docs += n;
        total_secs += secs;
        println!(
            "{:<12} {:>6} {:>9.1} {:>10.1} {:>8.1} {:>7}",
            kind.name(),
            n,
            n as f64 / secs,
            1000.0 * secs / n as f64,
            qa as f64 / (n - errors).max(1) as f64,
            errors
        );
    }
    println!(
        "{:<12} {:>6} {:>9.1} {:>10.1}",
        "all",
        total_docs,
        total_docs as f64 / total_secs,
        1000.0 * total_secs / total_docs as f64
    );
}
