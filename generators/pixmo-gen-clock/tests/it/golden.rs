//! Golden images: a few fixed specs rendered and compared by pixel hash with
//! `tests/golden/hashes.txt`. `PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-clock golden`
//! rewrites the PNGs and hashes after an intended change (and bump `GENERATOR_VERSION`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use pixmo_gen_clock::{
    Background, Blur, ClockRenderer, ClockTime, Color, DialKind, FaceSpec, Lighting, Noise,
    SceneSpec, Shadow,
};
use sha2::{Digest, Sha256};

use crate::util::{decode_png, png_bytes};

struct Case {
    name: &'static str,
    face: FaceSpec,
    time: ClockTime,
    scene: SceneSpec,
}

fn cases() -> Vec<Case> {
    let t = |h, m, s| ClockTime::new(h, m, s).unwrap();
    let mut tilted = SceneSpec::none(160);
    tilted.background = Background::Wood {
        light: Color::rgb(196, 150, 100),
        dark: Color::rgb(120, 80, 50),
        ring: 7.0,
        angle_deg: 10.0,
        seed: 4,
    };
    tilted.watch_scale = 0.85;
    tilted.rotation_deg = -18.0;
    tilted.tilt_x_deg = 20.0;
    tilted.tilt_y_deg = -15.0;
    tilted.shadow = Some(Shadow {
        dx: 0.02,
        dy: 0.03,
        opacity: 0.4,
    });
    tilted.blur = Blur::Box { radius: 1 };
    tilted.lighting = Lighting {
        brightness: 0.02,
        contrast: 1.1,
        gamma: 0.95,
        cast: [1.04, 1.0, 0.96],
        vignette: 0.25,
    };
    tilted.noise = Noise {
        sigma: 2.0,
        monochrome: true,
        seed: 11,
    };
    vec![
        Case {
            name: "diver",
            face: FaceSpec::sample_with(1, 1, DialKind::Diver),
            time: t(10, 9, 36),
            scene: SceneSpec::none(160),
        },
        Case {
            name: "roman_dress",
            face: FaceSpec::sample_with(2, 39, DialKind::Roman),
            time: t(16, 42, 5),
            scene: SceneSpec::none(160),
        },
        Case {
            name: "pocket_small_seconds",
            face: FaceSpec::sample_with(3, 48, DialKind::SmallSeconds),
            time: t(7, 55, 20),
            scene: SceneSpec::none(160),
        },
        Case {
            name: "wall_arabic",
            face: FaceSpec::sample_with(4, 52, DialKind::Arabic),
            time: t(1, 23, 45),
            scene: SceneSpec::none(144),
        },
        Case {
            name: "chronograph_scene",
            face: FaceSpec::sample_with(5, 4, DialKind::Chronograph),
            time: t(21, 3, 58),
            scene: tilted,
        },
    ]
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn read_hashes() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(golden_dir().join("hashes.txt")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (hash, name) = l.split_once(char::is_whitespace)?;
            Some((name.trim().to_owned(), hash.to_owned()))
        })
        .collect()
}

#[test]
fn golden_images_match() {
    let update = std::env::var_os("PIXMO_UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let hashes = read_hashes();
    let mut r = ClockRenderer::new();
    let mut new_hashes = BTreeMap::new();
    let mut failures = Vec::new();
    for case in cases() {
        let img = r.render(&case.face, case.time, &case.scene).unwrap();
        let hash = hex(&Sha256::digest(&img.rgba));
        let png_path = golden_dir().join(format!("{}.png", case.name));
        if update {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&png_path, png_bytes(img.width, img.height, &img.rgba)).unwrap();
        } else if hashes.get(case.name) != Some(&hash) {
            let actual = std::env::temp_dir().join(format!("pixmo-golden-{}.png", case.name));
            std::fs::write(&actual, png_bytes(img.width, img.height, &img.rgba)).unwrap();
            let differing = std::fs::read(&png_path).ok().map(|bytes| {
                let (_, _, want) = decode_png(&bytes);
                want.chunks_exact(4)
                    .zip(img.rgba.chunks_exact(4))
                    .filter(|(a, b)| a != b)
                    .count()
            });
            failures.push(format!(
                "`{}` ({}) changed: hash {hash}, {differing:?} pixels differ from {}; actual image at {}",
                case.name,
                case.face.name(),
                png_path.display(),
                actual.display()
            ));
        }
        new_hashes.insert(case.name.to_owned(), hash);
    }
    if update {
        let mut text = String::from(
            "# sha256 of the straight RGBA8 pixels of each golden image; regenerate with\n# PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-clock golden\n",
        );
        for (name, hash) in &new_hashes {
            text.push_str(&format!("{hash}  {name}\n"));
        }
        std::fs::write(golden_dir().join("hashes.txt"), text).unwrap();
        return;
    }
    assert!(
        failures.is_empty(),
        "{}\nIf the change is intended, bump GENERATOR_VERSION and run with PIXMO_UPDATE_GOLDEN=1",
        failures.join("\n")
    );
}

/// The committed PNGs are the images the hashes describe (so a reviewer sees what changed).
#[test]
fn golden_pngs_match_their_hashes() {
    if std::env::var_os("PIXMO_UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        return; // being rewritten by `golden_images_match`
    }
    let hashes = read_hashes();
    assert_eq!(hashes.len(), cases().len(), "hashes.txt is missing cases");
    for (name, hash) in hashes {
        let bytes = std::fs::read(golden_dir().join(format!("{name}.png"))).unwrap();
        assert!(bytes.len() < 60_000, "{name}.png is {} bytes", bytes.len());
        let (_, _, rgba) = decode_png(&bytes);
        assert_eq!(hex(&Sha256::digest(&rgba)), hash, "{name}.png");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
