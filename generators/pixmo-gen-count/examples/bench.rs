//! Throughput of the scene generator the way the pipelines use it, on one core: every
//! scene generated from its own seed, then its visible masks (COCO RLE, as `count.scene`
//! writes them) and its referring expressions (as `count.label` reads them).
//!
//! `cargo run --release -p pixmo-gen-count --example bench -- [N=500] [SIZE=448] [MIX=count]`
//!
//! `MIX` is `count` (PixMo-Count: 0-10 targets, cycling) or `points` (PixMo-Points: 1-40).
//! Compare with `cargo run --release -p pixmo-gen-clock --example bench -- N SIZE` on the
//! same machine.

use std::time::Instant;

use pixmo_gen_count::{SceneConfig, absent_queries, generate, present_queries};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).map_or(Ok(500), |s| s.parse())?;
    let size: u32 = args.get(2).map_or(Ok(448), |s| s.parse())?;
    let mix = args.get(3).map_or("count", String::as_str);
    let count_of = |i: u64| -> u32 {
        match mix {
            "points" => 1 + (i % 40) as u32,
            _ => (i % 11) as u32,
        }
    };
    if !matches!(mix, "count" | "points") {
        return Err(format!("MIX is `count` or `points`, not `{mix}`").into());
    }
    let (mut render, mut masks, mut queries) = (0.0, 0.0, 0.0);
    let (mut instances, mut runs, mut expressions, mut checksum) = (0usize, 0usize, 0usize, 0u64);
    let start = Instant::now();
    for i in 0..n {
        let config = SceneConfig {
            size,
            target_count: count_of(i),
            max_clutter: 12,
            min_visible: 0.6,
        };
        let t = Instant::now();
        let scene = generate(i, &config)?;
        render += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let m = scene.masks();
        masks += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let q = present_queries(&scene.instances).len() + absent_queries(&scene.instances).len();
        queries += t.elapsed().as_secs_f64();
        instances += scene.instances.len();
        runs += m.iter().map(|r| r.counts.len()).sum::<usize>();
        expressions += q;
        checksum = checksum.wrapping_add(u64::from(scene.rgba[scene.rgba.len() / 2]));
    }
    let total = start.elapsed().as_secs_f64();
    let per = |secs: f64| 1000.0 * secs / n as f64;
    println!(
        "{n} {mix} scenes at {size} px (checksum {checksum}): {:.1} instances, {:.0} mask runs, {:.0} expressions per scene",
        instances as f64 / n as f64,
        runs as f64 / n as f64,
        expressions as f64 / n as f64
    );
    println!(
        "ms/image: total {:.2} = scene (place + points + paint) {:.2} + masks {:.2} + expressions {:.2}",
        per(total),
        per(render),
        per(masks),
        per(queries)
    );
    println!("images/s on one core: {:.0}", n as f64 / total);
    Ok(())
}
