//! Figures per second for each figure kind, the way the pipeline calls the generator
//! (one `generate` per record: sampling, drawing and QA).
//!
//! `cargo run --release -p pixmo-gen-docs --example bench -- [N_PER_KIND=100]`

use std::time::Instant;

use pixmo_gen_docs::{Category, FigureKind, GenerateOptions, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args().nth(1).map_or(Ok(100), |s| s.parse())?;
    let options = GenerateOptions::default();
    // Warm fonts and font databases so their one-off load is not charged to a kind.
    generate(FigureKind::BarChart, u64::MAX, &options)?;
    generate(FigureKind::Flowchart, u64::MAX, &options)?;
    let mut by_category: Vec<(Category, f64, u64)> = Vec::new();
    println!(
        "{:<20} {:>9} {:>10} {:>8}",
        "kind", "docs/s", "ms/doc", "QA/doc"
    );
    for kind in FigureKind::ALL {
        let start = Instant::now();
        let mut qa = 0usize;
        let mut pixels = 0u64;
        for seed in 0..n {
            let sample = generate(kind, seed, &options)?;
            qa += sample.qa.len();
            pixels += u64::from(sample.image.width) * u64::from(sample.image.height);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<20} {:>9.1} {:>10.2} {:>8.1}   ({:.0} kpx/doc)",
            kind.name(),
            n as f64 / secs,
            1000.0 * secs / n as f64,
            qa as f64 / n as f64,
            pixels as f64 / n as f64 / 1000.0
        );
        match by_category.iter_mut().find(|c| c.0 == kind.category()) {
            Some(c) => {
                c.1 += secs;
                c.2 += n;
            }
            None => by_category.push((kind.category(), secs, n)),
        }
    }
    for (category, secs, count) in by_category {
        println!("{:<20} {:>9.1}", category.name(), count as f64 / secs);
    }
    Ok(())
}
