//! Throughput of the renderer the way the pipeline uses it: many faces, a few times each,
//! each image with its own random scene.
//!
//! `cargo run --release -p pixmo-gen-clock --example bench -- [N=500] [SIZE=448] [TIMES_PER_FACE=5]`

use std::time::Instant;

use pixmo_gen_clock::{ClockRenderer, ClockTime, FaceSpec, SceneSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).map_or(Ok(500), |s| s.parse())?;
    let size: u32 = args.get(2).map_or(Ok(448), |s| s.parse())?;
    let per_face: u64 = args.get(3).map_or(Ok(5), |s| s.parse())?;

    // Warm the font database so its one-off load is not charged to the first image.
    let mut renderer = ClockRenderer::new();
    renderer.render(
        &FaceSpec::sample(u64::MAX),
        ClockTime::sample(0),
        &SceneSpec::none(64),
    )?;
    let warm = renderer.stats();

    let start = Instant::now();
    let mut checksum = 0u64;
    for i in 0..n {
        let face = FaceSpec::sample(i / per_face);
        let time = ClockTime::sample(i);
        let scene = SceneSpec::sample(i, size);
        let img = renderer.render(&face, time, &scene)?;
        checksum = checksum.wrapping_add(u64::from(img.rgba[img.rgba.len() / 2]));
    }
    let total = start.elapsed().as_secs_f64();
    let s = renderer.stats();
    let per = |secs: f64| 1000.0 * secs / n as f64;
    println!("{n} images at {size} px, {per_face} times per face (checksum {checksum})");
    println!(
        "face layers: {} rendered, {} cache hits",
        s.face_layers_rendered - warm.face_layers_rendered,
        s.cache_hits - warm.cache_hits
    );
    println!(
        "ms/image: total {:.2} = face layer {:.2} + hands {:.2} + augmentation {:.2} + other {:.2}",
        per(total),
        per(s.face_layer_secs - warm.face_layer_secs),
        per(s.hands_secs - warm.hands_secs),
        per(s.augment_secs - warm.augment_secs),
        per(total
            - (s.face_layer_secs - warm.face_layer_secs)
            - (s.hands_secs - warm.hands_secs)
            - (s.augment_secs - warm.augment_secs)),
    );
    println!(
        "per face layer: {:.2} ms; images/s on one core: {:.0}",
        1000.0 * (s.face_layer_secs - warm.face_layer_secs)
            / (s.face_layers_rendered - warm.face_layers_rendered).max(1) as f64,
        n as f64 / total
    );
    println!(
        "  face layer = svg parse {:.2} + raster {:.2}; augmentation = background {:.2} + composite {:.2} + blur {:.2} + tone {:.2}",
        per(s.svg_parse_secs - warm.svg_parse_secs),
        per(s.svg_raster_secs - warm.svg_raster_secs),
        per(s.background_secs - warm.background_secs),
        per(s.composite_secs - warm.composite_secs),
        per(s.blur_secs - warm.blur_secs),
        per(s.tone_secs - warm.tone_secs),
    );
    Ok(())
}
