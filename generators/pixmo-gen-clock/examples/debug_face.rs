//! Writes one face (and its hour-hand-only render) as PNGs for inspection.
//! `cargo run --example debug_face -- SEED BODY KIND_INDEX H M S SIZE OUT_PREFIX`

use pixmo_gen_clock::{ClockRenderer, ClockTime, DIAL_KINDS, FaceSpec, HandMask};

fn write(path: &str, w: u32, h: u32, rgba: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let file = std::fs::File::create(path)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(rgba)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let p = |i: usize| a[i].parse::<u64>().unwrap();
    let face = FaceSpec::sample_with(p(1), p(2) as usize, DIAL_KINDS[p(3) as usize]);
    let time = ClockTime::new(p(4) as u8, p(5) as u8, p(6) as u8).unwrap();
    let size = p(7) as u32;
    let out = &a[8];
    let mut r = ClockRenderer::new();
    println!("{}", face.name());
    let all = r.render_face(&face, time, size)?;
    write(&format!("{out}_all.png"), size, size, &all.rgba)?;
    let hour = HandMask {
        hour: true,
        minute: false,
        second: false,
    };
    let h = r.render_face_masked(&face, time, size, hour)?;
    write(&format!("{out}_hour.png"), size, size, &h.rgba)?;
    println!("{:?}", h.truth);
    std::fs::write(format!("{out}.svg"), r.svg(&face, time, size))?;
    Ok(())
}
