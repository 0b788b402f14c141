//! OCR quality on PixMo-Docs typst pages: character error rate of pixmo-ocr's tesseract (the
//! annotation app's OCR, default configuration) against the text typst laid out, per render
//! scale. Results and the command used are in `crates/pixmo-ocr/BENCH.md`.
//!
//! ```text
//! cargo run -p pixmo-gen-typst --example ocr_cer -- [seeds per kind, default 2] [scales, default 1,1.5,2,3] [--pages]
//! ```
//!
//! Every kind of `DocKind::ALL` is rendered for seeds `0..N` at each scale (pixels per point:
//! 1 = 72 dpi, 1.5 = the pipeline's `doc_pixel_per_pt`, 2 = 144 dpi, 3 = 216 dpi). `--pages`
//! prints every page's score; `PIXMO_OCR_CER_DUMP=DIR` writes each page's reference and
//! recognised text there.

use std::collections::BTreeMap;
use std::process::ExitCode;

use pixmo_gen_typst::DocKind;
use pixmo_ocr::{OcrEngine, Tesseract, TesseractConfig};

mod page;

use page::{PageScore, score_page, summary};

fn main() -> ExitCode {
    let mut seeds = 2u64;
    let mut scales = vec![1.0f32, 1.5, 2.0, 3.0];
    let mut per_page = false;
    let mut positional = 0;
    for arg in std::env::args().skip(1) {
        if arg == "--pages" {
            per_page = true;
            continue;
        }
        positional += 1;
        let parsed = match positional {
            1 => arg.parse().map(|n| seeds = n).map_err(|e| e.to_string()),
            2 => arg
                .split(',')
                .map(|s| s.trim().parse::<f32>())
                .collect::<Result<Vec<_>, _>>()
                .map(|s| scales = s)
                .map_err(|e| e.to_string()),
            _ => Err("too many arguments".to_string()),
        };
        if let Err(e) = parsed {
            eprintln!("error: bad argument `{arg}`: {e}");
            eprintln!("usage: ocr_cer [SEEDS_PER_KIND] [SCALE,SCALE,...] [--pages]");
            return ExitCode::from(2);
        }
    }
    let engine = match Tesseract::new(TesseractConfig::default()) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {e}\nhint: `crates/pixmo-ocr/ci-setup.sh` installs tesseract");
            return ExitCode::from(2);
        }
    };
    let dump = std::env::var_os("PIXMO_OCR_CER_DUMP").map(std::path::PathBuf::from);
    println!(
        "OCR: {} (psm {}, {} thread), {} kinds x {seeds} seeds per scale",
        engine.identity().name(),
        engine.config().psm,
        engine.config().threads,
        DocKind::ALL.len()
    );
    let mut scores: Vec<PageScore> = Vec::new();
    let mut failures = 0;
    for &scale in &scales {
        for kind in DocKind::ALL {
            for seed in 0..seeds {
                match score_page(&engine, kind, seed, scale) {
                    Ok(score) => {
                        if per_page {
                            println!(
                                "  {:<11} seed {seed} x{scale:<4} {:>4}x{:<4} {:<22} {:>5} chars  CER {:.4} (engine order {:.4})  {} ms",
                                kind.name(),
                                score.width,
                                score.height,
                                score.font,
                                score.reference_chars,
                                score.cer,
                                score.cer_engine_order,
                                score.ocr_ms
                            );
                        }
                        if let Some(dir) = &dump {
                            let stem = format!("{}_{seed}_x{scale}", kind.name());
                            let wrote = std::fs::create_dir_all(dir)
                                .and_then(|()| {
                                    std::fs::write(
                                        dir.join(format!("{stem}.ref.txt")),
                                        &score.reference,
                                    )
                                })
                                .and_then(|()| {
                                    std::fs::write(
                                        dir.join(format!("{stem}.ocr.txt")),
                                        &score.recognised,
                                    )
                                });
                            if let Err(e) = wrote {
                                eprintln!("warning: cannot write to `{}`: {e}", dir.display());
                            }
                        }
                        scores.push(score);
                    }
                    Err(e) => {
                        failures += 1;
                        eprintln!("error: {e}");
                    }
                }
            }
        }
    }

    println!();
    println!(
        "| px/pt | dpi | pages | median width px | CER mean | CER median | CER worst (page) | CER mean, engine order | OCR ms/page |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---|---:|---:|");
    for &scale in &scales {
        let at: Vec<&PageScore> = scores.iter().filter(|s| s.scale == scale).collect();
        if at.is_empty() {
            continue;
        }
        let cers: Vec<f64> = at.iter().map(|s| s.cer).collect();
        let (mean, median, worst) = summary(&cers);
        let worst_page = at
            .iter()
            .max_by(|a, b| a.cer.total_cmp(&b.cer))
            .map(|s| format!("{} seed {}", s.kind.name(), s.seed))
            .unwrap_or_default();
        let engine_order: Vec<f64> = at.iter().map(|s| s.cer_engine_order).collect();
        let mut widths: Vec<u32> = at.iter().map(|s| s.width).collect();
        widths.sort_unstable();
        let ms = at.iter().map(|s| s.ocr_ms).sum::<u64>() as f64 / at.len() as f64;
        println!(
            "| {scale} | {:.0} | {} | {} | {:.2} % | {:.2} % | {:.2} % ({worst_page}) | {:.2} % | {ms:.0} |",
            72.0 * scale,
            at.len(),
            widths[widths.len() / 2],
            100.0 * mean,
            100.0 * median,
            100.0 * worst,
            100.0 * summary(&engine_order).0,
        );
    }

    for (title, key) in [("kind", 0usize), ("body font", 1usize)] {
        println!();
        let header: Vec<String> = scales.iter().map(|s| format!("x{s}")).collect();
        println!("CER mean by {title} and px/pt:");
        println!("| {title} | {} |", header.join(" | "));
        println!("|---|{}", "---:|".repeat(scales.len()));
        let mut groups: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
        for s in &scores {
            let group = if key == 0 {
                s.kind.name().to_string()
            } else {
                s.font.to_string()
            };
            groups
                .entry(group)
                .or_default()
                .entry(format!("x{}", s.scale))
                .or_default()
                .push(s.cer);
        }
        for (group, by_scale) in groups {
            let cells: Vec<String> = header
                .iter()
                .map(|h| match by_scale.get(h) {
                    Some(v) => format!("{:.2} % ({})", 100.0 * summary(v).0, v.len()),
                    None => "-".to_string(),
                })
                .collect();
            println!("| {group} | {} |", cells.join(" | "));
        }
    }
    if failures > 0 {
        eprintln!("{failures} pages failed");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
