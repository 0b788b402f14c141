//! Golden images: a few count and points scenes rendered from fixed seeds and compared by
//! pixel hash with `tests/golden/hashes.txt`, each with a `-labels` image (every instance's
//! visible mask in its own flat colour, every point marked) so a change to masks or points
//! shows as well as a change to pixels. `PIXMO_UPDATE_GOLDEN=1 cargo test -p
//! pixmo-gen-count golden` rewrites the PNGs and hashes after an intended change (and bump
//! `GENERATOR_VERSION`).

use std::path::PathBuf;

use pixmo_gen_count::{Scene, SceneConfig, generate};
use pixmo_golden::{GoldenSet, check_committed_pngs};

struct Case {
    name: &'static str,
    seed: u64,
    config: SceneConfig,
}

fn cases() -> Vec<Case> {
    let config = |size, target_count, min_visible| SceneConfig {
        size,
        target_count,
        max_clutter: 12,
        min_visible,
    };
    vec![
        // PixMo-Count's recipe: 0-10 targets among clutter.
        Case {
            name: "count_seven",
            seed: 3,
            config: config(160, 7, 0.6),
        },
        Case {
            name: "count_none",
            seed: 5,
            config: config(160, 0, 0.6),
        },
        // PixMo-Points' dense scenes: up to 40 targets.
        Case {
            name: "points_forty",
            seed: 8,
            config: config(192, 40, 0.6),
        },
        // Heavier occlusion allowed: 30 % visible.
        Case {
            name: "points_occluded",
            seed: 21,
            config: config(160, 12, 0.3),
        },
    ]
}

/// The instance map in flat colours (background black), each point a white cross with a
/// black centre pixel on the pixel it names.
fn labels_image(scene: &Scene) -> Vec<u8> {
    let colour = |id: u16| -> [u8; 4] {
        if id == 0 {
            return [0, 0, 0, 255];
        }
        let h = u32::from(id).wrapping_mul(0x9E37_79B9) >> 8;
        [
            64 + (h & 0xBF) as u8,
            64 + ((h >> 8) & 0xBF) as u8,
            64 + ((h >> 16) & 0xBF) as u8,
            255,
        ]
    };
    let mut rgba: Vec<u8> = scene.ids.iter().flat_map(|&id| colour(id)).collect();
    let (w, h) = (i64::from(scene.width), i64::from(scene.height));
    for inst in &scene.instances {
        let (px, py) = (inst.point[0].floor() as i64, inst.point[1].floor() as i64);
        for (dx, dy, value) in [
            (-1, 0, 255),
            (1, 0, 255),
            (0, -1, 255),
            (0, 1, 255),
            (0, 0, 0),
        ] {
            let (x, y) = (px + dx, py + dy);
            if (0..w).contains(&x) && (0..h).contains(&y) {
                let at = ((y * w + x) * 4) as usize;
                rgba[at..at + 3].fill(value);
            }
        }
    }
    rgba
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn golden_images_match() {
    let mut golden = GoldenSet::open(golden_dir(), "pixmo-gen-count");
    for case in cases() {
        let scene = generate(case.seed, &case.config).unwrap();
        let context = format!(
            "seed {}, {} {} of {} instances",
            case.seed,
            scene.of(scene.target).len(),
            scene.target.plural(),
            scene.instances.len()
        );
        golden.check(case.name, &context, scene.width, scene.height, &scene.rgba);
        golden.check(
            &format!("{}-labels", case.name),
            &context,
            scene.width,
            scene.height,
            &labels_image(&scene),
        );
    }
    golden.finish();
}

/// The committed PNGs are the images the hashes describe (so a reviewer sees what changed).
#[test]
fn golden_pngs_match_their_hashes() {
    check_committed_pngs(&golden_dir(), 2 * cases().len(), 80_000);
}
