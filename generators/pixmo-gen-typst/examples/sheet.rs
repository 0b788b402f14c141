//! Writes sample PNGs, their typst code and QA to a folder for eyeballing.
//!
//! ```text
//! cargo run -p pixmo-gen-typst --example sheet -- OUT_DIR [seeds per kind, default 2]
//! ```

use pixmo_gen_typst::{DocKind, GenerateOptions, RenderOptions, generate};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().expect("usage: sheet OUT_DIR [SEEDS]"));
    let seeds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    std::fs::create_dir_all(&out).expect("create output folder");
    let options = GenerateOptions {
        render: RenderOptions {
            pixel_per_pt: 1.0,
            ..RenderOptions::default()
        },
    };
    for kind in DocKind::ALL {
        for seed in 0..seeds {
            let s = match generate(kind, seed, &options) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{kind:?} {seed}: {e}");
                    continue;
                }
            };
            let stem = out.join(format!("{}_{seed}", kind.name()));
            let mut png = Vec::new();
            {
                let mut enc = png::Encoder::new(&mut png, s.image.width, s.image.height);
                enc.set_color(png::ColorType::Rgba);
                enc.set_depth(png::BitDepth::Eight);
                let mut w = enc.write_header().expect("png header");
                w.write_image_data(&s.image.data).expect("png data");
            }
            std::fs::write(stem.with_extension("png"), png).expect("write png");
            std::fs::write(stem.with_extension("typ"), &s.code).expect("write code");
            let qa = serde_json::to_string_pretty(&s.qa).expect("qa json");
            std::fs::write(stem.with_extension("qa.json"), qa).expect("write qa");
            println!(
                "{} {}x{} {} QA  {}",
                stem.display(),
                s.image.width,
                s.image.height,
                s.qa.len(),
                s.topic
            );
        }
    }
}
