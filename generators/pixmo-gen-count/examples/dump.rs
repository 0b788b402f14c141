//! Writes a few scenes as PNG files to look at: `cargo run -p pixmo-gen-count --example dump
//! -- OUT_DIR [COUNT]`; each point is marked with a small cross in the `-points` copy.

use std::io::BufWriter;

use pixmo_gen_count::{SceneConfig, generate};

fn write_png(path: &std::path::Path, width: u32, height: u32, rgba: &[u8]) {
    let file = std::fs::File::create(path).expect("create png");
    let mut encoder = png::Encoder::new(BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("png header");
    writer.write_image_data(rgba).expect("png data");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "scenes".into()));
    let count: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    std::fs::create_dir_all(&dir).expect("create dir");
    for seed in 0..count {
        let config = SceneConfig {
            size: 448,
            target_count: [0, 3, 7, 10, 25, 40][(seed % 6) as usize],
            max_clutter: 12,
            min_visible: 0.6,
        };
        let scene = generate(seed, &config).expect("config");
        write_png(
            &dir.join(format!("scene-{seed}.png")),
            scene.width,
            scene.height,
            &scene.rgba,
        );
        let mut marked = scene.rgba.clone();
        for inst in scene
            .instances
            .iter()
            .filter(|i| i.category == scene.target)
        {
            let (px, py) = (inst.point[0] as i64, inst.point[1] as i64);
            for d in -3i64..=3 {
                for (x, y) in [(px + d, py), (px, py + d)] {
                    if (0..i64::from(scene.width)).contains(&x)
                        && (0..i64::from(scene.height)).contains(&y)
                    {
                        let at = ((y * i64::from(scene.width) + x) * 4) as usize;
                        marked[at..at + 3].copy_from_slice(&[255, 0, 255]);
                    }
                }
            }
        }
        write_png(
            &dir.join(format!("scene-{seed}-points.png")),
            scene.width,
            scene.height,
            &marked,
        );
        println!(
            "seed {seed}: {}x{}, target {} x{} (asked {}), {} instances, {} left out, {:?}",
            scene.width,
            scene.height,
            scene.target.plural(),
            scene.of(scene.target).len(),
            config.target_count,
            scene.instances.len(),
            scene.left_out,
            scene.background.pattern
        );
    }
}
