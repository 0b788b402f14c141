//! Writes a few samples of every figure kind as PNG (plus their QA as JSON) for inspection.
//!
//! `cargo run -p pixmo-gen-docs --example render_all -- OUT_DIR [PER_KIND=2] [FIRST_SEED=0]`

use std::io::Write as _;

use pixmo_gen_docs::{FigureKind, GenerateOptions, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(
        args.get(1)
            .ok_or("usage: render_all OUT_DIR [PER_KIND] [FIRST_SEED]")?,
    );
    let per_kind: u64 = args.get(2).map_or(Ok(2), |s| s.parse())?;
    let first: u64 = args.get(3).map_or(Ok(0), |s| s.parse())?;
    std::fs::create_dir_all(&out)?;
    let options = GenerateOptions::default();
    for kind in FigureKind::ALL {
        for seed in first..first + per_kind {
            let sample = generate(kind, seed, &options)?;
            let name = format!("{}-{seed}", kind.name());
            let file = std::fs::File::create(out.join(format!("{name}.png")))?;
            let mut encoder = png::Encoder::new(
                std::io::BufWriter::new(file),
                sample.image.width,
                sample.image.height,
            );
            encoder.set_color(png::ColorType::Rgba);
            encoder.set_depth(png::BitDepth::Eight);
            encoder
                .write_header()?
                .write_image_data(&sample.image.data)?;
            let qa = serde_json::json!({
                "figure_type": sample.figure_type,
                "persona": sample.persona,
                "topic": sample.topic,
                "qa": sample.qa,
            });
            let mut f = std::fs::File::create(out.join(format!("{name}.json")))?;
            writeln!(f, "{}", serde_json::to_string_pretty(&qa)?)?;
            println!(
                "{name}: {}x{} {} QA",
                sample.image.width,
                sample.image.height,
                sample.qa.len()
            );
        }
    }
    Ok(())
}
