//! Golden images: a few fixed specs rendered and compared by pixel hash with
//! `tests/golden/hashes.txt`. `PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-clock golden`
//! rewrites the PNGs and hashes after an intended change (and bump `GENERATOR_VERSION`).

use std::path::PathBuf;

use pixmo_gen_clock::{
    Background, Blur, ClockRenderer, ClockTime, Color, DialKind, FaceSpec, Lighting, Noise,
    SceneSpec, Shadow,
};
use pixmo_golden::{GoldenSet, check_committed_pngs};

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

#[test]
fn golden_images_match() {
    let mut golden = GoldenSet::open(golden_dir(), "pixmo-gen-clock");
    let mut r = ClockRenderer::new();
    for case in cases() {
        let img = r.render(&case.face, case.time, &case.scene).unwrap();
        golden.check(
            case.name,
            &case.face.name(),
            img.width,
            img.height,
            &img.rgba,
        );
    }
    golden.finish();
}

/// The committed PNGs are the images the hashes describe (so a reviewer sees what changed).
#[test]
fn golden_pngs_match_their_hashes() {
    check_committed_pngs(&golden_dir(), cases().len(), 60_000);
}
