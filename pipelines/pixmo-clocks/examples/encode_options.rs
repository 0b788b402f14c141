//! Encoding choices for PixMo-Clocks images, speed against size: PNG row filters and deflate
//! settings, JPEG and WebP lossless, on the images the default pipeline renders (448 px,
//! sampled faces, times and scenes, five images per face).
//!
//! `cargo run --release -p pixmo-clocks --example encode_options -- [N=300] [SIZE=448]`
//!
//! Prints a Markdown table: ms per image (one core, RGBA -> RGB conversion included, as in
//! `image.encode`), KiB per image, both also relative to the clocks spec's choice (`avg`
//! filter, fdeflate).

use std::time::Instant;

use pixmo_core::RgbaImage;
use pixmo_gen_clock::{ClockRenderer, ClockTime, FaceSpec, SceneSpec};

type Encode = Box<dyn Fn(&RgbaImage) -> Result<Vec<u8>, Box<dyn std::error::Error>>>;

fn png(filter: png::Filter, deflate: png::DeflateCompression) -> Encode {
    Box::new(move |image: &RgbaImage| {
        let rgb = image.to_rgb_over_white();
        let mut out = Vec::with_capacity(rgb.len() / 2);
        let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_deflate_compression(deflate);
        encoder.set_filter(filter);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgb)?;
        writer.finish()?;
        Ok(out)
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).map_or(Ok(300), |s| s.parse())?;
    let size: u32 = args.get(2).map_or(Ok(448), |s| s.parse())?;

    let mut renderer = ClockRenderer::new();
    let mut images = Vec::new();
    for i in 0..n {
        let img = renderer.render(
            &FaceSpec::sample(i / 5),
            ClockTime::sample(i),
            &SceneSpec::sample(i, size),
        )?;
        images.push(RgbaImage::new(img.width, img.height, img.rgba)?);
    }

    use png::{DeflateCompression as D, Filter as F};
    let ultra = D::FdeflateUltraFast;
    let options: Vec<(&str, Encode)> = vec![
        (
            "png, adaptive filter, fdeflate (`png_filter` default)",
            png(F::Adaptive, ultra),
        ),
        (
            "png, avg filter, fdeflate (clocks spec)",
            png(F::Avg, ultra),
        ),
        ("png, paeth filter, fdeflate", png(F::Paeth, ultra)),
        ("png, up filter, fdeflate", png(F::Up, ultra)),
        ("png, sub filter, fdeflate", png(F::Sub, ultra)),
        ("png, no filter, fdeflate", png(F::NoFilter, ultra)),
        ("png, avg filter, zlib level 1", png(F::Avg, D::Level(1))),
        (
            "png, adaptive filter, zlib level 6",
            png(F::Adaptive, D::Level(6)),
        ),
        (
            "webp lossless (image-webp)",
            Box::new(|image: &RgbaImage| {
                let rgb = image.to_rgb_over_white();
                let mut out = Vec::new();
                image_webp::WebPEncoder::new(&mut out).encode(
                    &rgb,
                    image.width,
                    image.height,
                    image_webp::ColorType::Rgb8,
                )?;
                Ok(out)
            }),
        ),
        (
            "jpeg q90 (lossy, `image_format = jpeg`)",
            Box::new(|image: &RgbaImage| {
                pixmo_stages::encode::encode_jpeg(image, 90).map_err(|r| r.message.into())
            }),
        ),
    ];
    println!("{n} images at {size} px, one core");
    println!();
    println!("| encoding | ms/image | KiB/image | time vs spec | size vs spec |");
    println!("|---|---|---|---|---|");
    let mut results = Vec::new();
    for (name, encode) in &options {
        let start = Instant::now();
        let mut bytes = 0usize;
        for image in &images {
            bytes += encode(image)?.len();
        }
        let ms = 1000.0 * start.elapsed().as_secs_f64() / n as f64;
        let kib = bytes as f64 / 1024.0 / n as f64;
        results.push((name, ms, kib));
    }
    // The spec's choice is the second row.
    let (_, spec_ms, spec_kib) = results[1];
    for (name, ms, kib) in results {
        println!(
            "| {name} | {ms:.2} | {kib:.1} | {:+.0} % | {:+.0} % |",
            100.0 * (ms / spec_ms - 1.0),
            100.0 * (kib / spec_kib - 1.0)
        );
    }
    Ok(())
}
