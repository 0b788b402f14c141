//! Static face-layer cost alone: `cargo run --release --example layers -- [N=100] [SIZE=448]`.

use std::time::Instant;

use pixmo_gen_clock::{ClockRenderer, ClockTime, FaceSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).map_or(Ok(100), |s| s.parse())?;
    let size: u32 = args.get(2).map_or(Ok(448), |s| s.parse())?;
    let mut r = ClockRenderer::with_cache_capacity(1);
    r.render_face(&FaceSpec::sample(u64::MAX), ClockTime::sample(0), 32)?;
    let t = Instant::now();
    for i in 0..n {
        r.render_face(&FaceSpec::sample(i), ClockTime::sample(i), size)?;
    }
    let s = r.stats();
    println!(
        "{:.2} ms per face layer at {size} px (parse {:.2}, raster {:.2})",
        1000.0 * t.elapsed().as_secs_f64() / n as f64,
        1000.0 * s.svg_parse_secs / n as f64,
        1000.0 * s.svg_raster_secs / n as f64
    );
    Ok(())
}
