//! Renders a grid of sampled faces and writes it as a PNG.
//!
//! `cargo run --release -p pixmo-gen-clock --example contact_sheet -- OUT.png [N] [SEED] [SIZE] [plain|bodies]`
//!
//! `plain`: no scene augmentation; `bodies`: body `i` for tile `i`, plain.

use pixmo_gen_clock::{ClockRenderer, ClockTime, DIAL_KINDS, FaceSpec, SceneSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).map_or("/tmp/clock_contact.png", |s| s.as_str());
    let n: u32 = args.get(2).map_or(Ok(16), |s| s.parse())?;
    let seed0: u64 = args.get(3).map_or(Ok(0), |s| s.parse())?;
    let tile: u32 = args.get(4).map_or(Ok(256), |s| s.parse())?;
    let mode = args.get(5).map_or("", |s| s.as_str());
    let plain = mode == "plain" || mode == "bodies";
    let cols = (f64::from(n).sqrt().ceil() as u32).max(1);
    let rows = n.div_ceil(cols);
    let (w, h) = (cols * tile, rows * tile);
    let mut sheet = vec![255u8; (w * h * 4) as usize];
    let mut renderer = ClockRenderer::new();
    for i in 0..n {
        let seed = seed0 + u64::from(i);
        let face = if mode == "bodies" {
            let kind = DIAL_KINDS[(seed % DIAL_KINDS.len() as u64) as usize];
            FaceSpec::sample_with(seed, i as usize, kind)
        } else {
            FaceSpec::sample(seed)
        };
        let time = ClockTime::sample(seed);
        let scene = if plain {
            SceneSpec::none(tile)
        } else {
            SceneSpec::sample(seed, tile)
        };
        let img = renderer.render(&face, time, &scene)?;
        println!("{seed:>4} {time} {} | {}", face.face_id(), face.name());
        let (ox, oy) = ((i % cols) * tile, (i / cols) * tile);
        for y in 0..img.height.min(tile) {
            for x in 0..img.width.min(tile) {
                let s = ((y * img.width + x) * 4) as usize;
                let d = (((oy + y) * w + ox + x) * 4) as usize;
                sheet[d..d + 4].copy_from_slice(&img.rgba[s..s + 4]);
            }
        }
    }
    let file = std::fs::File::create(out)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(&sheet)?;
    println!("wrote {out}");
    Ok(())
}
