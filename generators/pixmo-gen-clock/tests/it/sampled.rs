//! Sampled scenes keep their pixels: the SHA-256 of every image of a fixed set of sampled
//! (face, time, scene) triples at the pipeline's size, pinned in
//! `tests/golden/sampled_hashes.txt`. The set covers every background kind, every blur
//! kind, shadows, crops and the mip levels of the composite, so a speed-up of any raster pass
//! that changes a single byte fails here (and names the scenes it changed).
//! `PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-clock sampled` rewrites the file after an
//! intended change (and bump `GENERATOR_VERSION`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use pixmo_gen_clock::{Background, Blur, ClockRenderer, ClockTime, FaceSpec, SceneSpec};
use sha2::{Digest, Sha256};

const SIZE: u32 = 448;
const SCENES: u64 = 48;

fn hashes_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/sampled_hashes.txt")
}

fn background_kind(b: &Background) -> &'static str {
    match b {
        Background::Flat { .. } => "flat",
        Background::LinearGradient { .. } => "linear_gradient",
        Background::RadialGradient { .. } => "radial_gradient",
        Background::Stripes { .. } => "stripes",
        Background::Checker { .. } => "checker",
        Background::Dots { .. } => "dots",
        Background::Noise { .. } => "noise",
        Background::Wood { .. } => "wood",
        Background::Plaster { .. } => "plaster",
        Background::Bricks { .. } => "bricks",
        Background::Bokeh { .. } => "bokeh",
    }
}

#[test]
fn sampled_scenes_keep_their_pixels() {
    // Three images per face, so most images reuse a cached face layer.
    let mut renderer = ClockRenderer::new();
    let mut lines = Vec::new();
    let mut kinds = BTreeSet::new();
    let (mut shadows, mut crops, mut small, mut tone_noise) = (0, 0, 0, 0);
    for seed in 0..SCENES {
        let face = FaceSpec::sample(1_000 + seed / 3);
        let time = ClockTime::sample(seed);
        let scene = SceneSpec::sample(seed * 7 + 1, SIZE);
        kinds.insert(background_kind(&scene.background));
        kinds.insert(match scene.blur {
            Blur::None => "blur:none",
            Blur::Box { .. } => "blur:box",
            Blur::Gaussian { .. } => "blur:gaussian",
        });
        shadows += usize::from(scene.shadow.is_some());
        crops += usize::from(scene.crop.is_some());
        small += usize::from(scene.watch_scale <= 0.7);
        tone_noise += usize::from(scene.noise.sigma > 0.0 && scene.lighting.vignette > 0.0);
        let img = renderer.render(&face, time, &scene).unwrap();
        let hash = Sha256::digest(&img.rgba);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        lines.push(format!("{seed} {hex}"));
    }
    assert_eq!(
        kinds.len(),
        11 + 3,
        "the set must cover every kind: {kinds:?}"
    );
    assert!(
        shadows > 0 && shadows < SCENES as usize,
        "{shadows} shadows"
    );
    assert!(crops > 0, "no crop");
    assert!(small > 0, "no scene uses a mip level");
    assert!(tone_noise > 0, "no scene has both vignette and noise");

    let path = hashes_path();
    if std::env::var_os("PIXMO_UPDATE_GOLDEN").is_some() {
        let mut text = String::from(
            "# sha256 of the straight RGBA8 pixels of sampled scenes (tests/it/sampled.rs);\n\
             # regenerate with PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-clock sampled\n",
        );
        for line in &lines {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(&path).unwrap();
    let pinned: Vec<&str> = pinned
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(pinned.len(), lines.len(), "{} is stale", path.display());
    let changed: Vec<&str> = lines
        .iter()
        .zip(&pinned)
        .filter(|(now, was)| now.as_str() != **was)
        .map(|(now, _)| now.split(' ').next().unwrap_or(""))
        .collect();
    assert!(
        changed.is_empty(),
        "the pixels of sampled scenes {changed:?} changed; if intended, regenerate with \
         PIXMO_UPDATE_GOLDEN=1 and bump GENERATOR_VERSION"
    );
}
