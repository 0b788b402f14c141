//! The labels are right, proven from pixels: hands are found by rendering with and without
//! them, and their direction around the pivot must match the truth.

use pixmo_gen_clock::{
    Background, Blur, ClockRenderer, ClockTime, Color, FaceSpec, HandMask, Lighting, Noise,
    SceneSpec, image_angle_deg,
};

use crate::util::{angle_diff, diff, dist, hand_angle};

const ONLY_HOUR: HandMask = HandMask {
    hour: true,
    minute: false,
    second: false,
};
const ONLY_MINUTE: HandMask = HandMask {
    hour: false,
    minute: true,
    second: false,
};
const ONLY_SECOND: HandMask = HandMask {
    hour: false,
    minute: false,
    second: true,
};

/// Measures each drawn hand's angle in the face render and compares it with the label.
fn check_face(r: &mut ClockRenderer, face: &FaceSpec, time: ClockTime, size: u32) {
    let none = r
        .render_face_masked(face, time, size, HandMask::NONE)
        .unwrap();
    let t = &none.truth;
    let cases = [
        (
            "hour",
            ONLY_HOUR,
            Some(t.hour_angle_deg),
            t.center,
            t.hour_tip,
        ),
        (
            "minute",
            ONLY_MINUTE,
            Some(t.minute_angle_deg),
            t.center,
            t.minute_tip,
        ),
        (
            "second",
            ONLY_SECOND,
            t.second_angle_deg,
            t.second_pivot.unwrap_or(t.center),
            t.second_tip.unwrap_or(t.center),
        ),
    ];
    for (name, mask, want, pivot, tip) in cases {
        let Some(want) = want else {
            continue;
        };
        let with = r.render_face_masked(face, time, size, mask).unwrap();
        let len = dist(pivot, tip);
        assert!(len > 3.0, "{name} hand of {} is {len} px long", face.name());
        let changed = diff(&with, &none);
        // The outer part of the hand: thin and symmetric for every style, so neither the drop
        // shadow nor two-tone facets bias the direction.
        let inner = if name == "second" { 0.4 } else { 0.7 };
        let (got, n) = hand_angle(&changed, pivot, inner * len, 1.05 * len)
            .unwrap_or_else(|| panic!("no {name} hand pixels for {} at {time}", face.name()));
        assert!(n >= 4, "only {n} {name} hand pixels for {}", face.name());
        let tol = if name == "second" { 4.0 } else { 3.0 };
        assert!(
            angle_diff(got, want) < tol,
            "{name} hand of {} at {time}: pixels say {got:.2} deg, label says {want:.2} deg",
            face.name()
        );
        // The label's tip agrees with the label's angle too.
        assert!(angle_diff(image_angle_deg(pivot, tip), want) < 0.01);
    }
}

#[test]
fn hand_pixels_match_label_angles_for_many_faces() {
    let mut r = ClockRenderer::new();
    for seed in 0..48 {
        let face = FaceSpec::sample(seed);
        let time = ClockTime::sample(seed * 7 + 3);
        check_face(&mut r, &face, time, 192);
    }
}

#[test]
fn hand_pixels_match_label_angles_for_every_dial_kind_and_24h_times() {
    let mut r = ClockRenderer::new();
    let times = [
        ClockTime::new(0, 0, 0).unwrap(),
        ClockTime::new(12, 0, 30).unwrap(),
        ClockTime::new(23, 59, 59).unwrap(),
        ClockTime::new(15, 45, 15).unwrap(),
        ClockTime::new(6, 31, 44).unwrap(),
    ];
    for (i, kind) in pixmo_gen_clock::DIAL_KINDS.iter().enumerate() {
        let face = FaceSpec::sample_with(i as u64, i * 7 + 1, *kind);
        check_face(&mut r, &face, times[i % times.len()], 160);
    }
}

#[test]
fn hour_hand_advances_with_minutes() {
    let mut r = ClockRenderer::new();
    let face = FaceSpec::sample(5);
    let measure = |r: &mut ClockRenderer, t: ClockTime| {
        let none = r.render_face_masked(&face, t, 192, HandMask::NONE).unwrap();
        let with = r.render_face_masked(&face, t, 192, ONLY_HOUR).unwrap();
        let len = dist(none.truth.center, none.truth.hour_tip);
        hand_angle(
            &diff(&with, &none),
            none.truth.center,
            0.4 * len,
            1.05 * len,
        )
        .unwrap()
        .0
    };
    let a = measure(&mut r, ClockTime::new(15, 0, 0).unwrap());
    let b = measure(&mut r, ClockTime::new(15, 30, 0).unwrap());
    let c = measure(&mut r, ClockTime::new(3, 30, 0).unwrap());
    assert!(angle_diff(a, 90.0) < 3.0, "{a}");
    assert!(angle_diff(b, 105.0) < 3.0, "{b}");
    assert!(
        angle_diff(b, c) < 0.5,
        "15:30 and 03:30 look the same on a dial: {b} vs {c}"
    );
}

fn flat_scene(size: u32) -> SceneSpec {
    let mut s = SceneSpec::none(size);
    s.background = Background::Flat {
        color: Color::rgb(120, 130, 125),
    };
    s
}

#[test]
fn rotation_turns_hands_and_truth_together() {
    let mut r = ClockRenderer::new();
    for (seed, rotation) in [
        (1u64, 30.0f32),
        (2, -75.0),
        (3, 160.0),
        (4, 0.0),
        (6, -12.5),
    ] {
        let face = FaceSpec::sample(seed);
        let time = ClockTime::sample(seed);
        let mut scene = flat_scene(256);
        scene.rotation_deg = rotation;
        scene.watch_scale = 0.9;
        let none = r
            .render_masked(&face, time, &scene, HandMask::NONE)
            .unwrap();
        let with = r.render_masked(&face, time, &scene, ONLY_MINUTE).unwrap();
        let t = &with.truth;
        let want = (t.minute_angle_deg + f64::from(rotation)).rem_euclid(360.0);
        assert!(angle_diff(image_angle_deg(t.center, t.minute_tip), want) < 0.05);
        let len = dist(t.center, t.minute_tip);
        let (got, _) = hand_angle(&diff(&with, &none), t.center, 0.4 * len, 1.05 * len).unwrap();
        assert!(
            angle_diff(got, want) < 3.0,
            "{}: rotated by {rotation}: pixels {got:.2}, want {want:.2}",
            face.name()
        );
    }
}

/// Under rotation, perspective, crop, blur, lighting and noise, the truth tips still sit on
/// the hands: the pixels along the segment from the truth centre to the truth tip change
/// when that hand is drawn.
#[test]
fn truth_tips_sit_on_hand_pixels_after_augmentation() {
    let mut r = ClockRenderer::new();
    let mut checked = 0;
    for seed in 0..40u64 {
        let face = FaceSpec::sample(seed + 1000);
        let time = ClockTime::sample(seed + 1000);
        let mut scene = SceneSpec::sample(seed, 256);
        // Keep every test image strongly augmented in geometry.
        if seed % 2 == 0 {
            scene.tilt_x_deg = 25.0;
            scene.tilt_y_deg = -20.0;
        }
        scene.rotation_deg = (seed as f32 * 37.0) % 360.0 - 180.0;
        let none = r
            .render_masked(&face, time, &scene, HandMask::NONE)
            .unwrap();
        for (mask, tip) in [
            (ONLY_HOUR, none.truth.hour_tip),
            (ONLY_MINUTE, none.truth.minute_tip),
        ] {
            let with = r.render_masked(&face, time, &scene, mask).unwrap();
            assert_eq!(with.truth.center, none.truth.center);
            let c = none.truth.center;
            let (w, h) = (with.width as f32, with.height as f32);
            let mut hits = 0;
            let mut inside = 0;
            for k in [0.55f32, 0.65, 0.75, 0.85] {
                let p = (c.0 + k * (tip.0 - c.0), c.1 + k * (tip.1 - c.1));
                if p.0 < 1.0 || p.1 < 1.0 || p.0 >= w - 1.0 || p.1 >= h - 1.0 {
                    continue;
                }
                inside += 1;
                // Any change in the 3x3 neighbourhood.
                let changed = (-1..=1).any(|dy| {
                    (-1..=1).any(|dx| {
                        let x = (p.0 as i64 + dx) as usize;
                        let y = (p.1 as i64 + dy) as usize;
                        let i = (y * with.width as usize + x) * 4;
                        (0..3).any(|ch| with.rgba[i + ch].abs_diff(none.rgba[i + ch]) > 6)
                    })
                });
                hits += usize::from(changed);
            }
            if inside >= 3 {
                checked += 1;
                assert!(
                    hits + 1 >= inside,
                    "seed {seed} {}: only {hits}/{inside} points of the truth segment touch the hand",
                    face.name()
                );
            }
        }
    }
    assert!(
        checked > 50,
        "too few hands were inside the images: {checked}"
    );
}

#[test]
fn perspective_keeps_the_centre_fixed_and_foreshortens() {
    let mut r = ClockRenderer::new();
    let face = FaceSpec::sample(9);
    let time = ClockTime::new(3, 0, 0).unwrap();
    let mut scene = flat_scene(256);
    let flat = r.render(&face, time, &scene).unwrap();
    scene.tilt_y_deg = 40.0;
    let tilted = r.render(&face, time, &scene).unwrap();
    assert!(dist(flat.truth.center, tilted.truth.center) < 1e-3);
    // The hour hand points at 3: turning the dial about the vertical axis shortens it.
    let l0 = dist(flat.truth.center, flat.truth.hour_tip);
    let l1 = dist(tilted.truth.center, tilted.truth.hour_tip);
    assert!(l1 < 0.9 * l0, "{l1} vs {l0}");
}

#[test]
fn plain_scenes_show_every_drawn_hand() {
    let mut r = ClockRenderer::new();
    for seed in 0..20 {
        let face = FaceSpec::sample(seed);
        let img = r
            .render(&face, ClockTime::sample(seed), &SceneSpec::none(128))
            .unwrap();
        let v = img.truth.visibility;
        assert!(v.hour && v.minute, "{}", face.name());
        assert_eq!(v.second, face.has_second_hand());
        assert_eq!(img.truth.shows_seconds, face.has_second_hand());
        assert_eq!(img.truth.second_tip.is_some(), face.has_second_hand());
    }
}

#[test]
fn hidden_hands_are_not_visible() {
    let mut r = ClockRenderer::new();
    let face = FaceSpec::sample(4);
    let img = r
        .render_masked(
            &face,
            ClockTime::sample(1),
            &SceneSpec::none(96),
            ONLY_MINUTE,
        )
        .unwrap();
    let v = img.truth.visibility;
    assert!(!v.hour && v.minute && !v.second);
}

#[test]
fn small_seconds_live_in_their_sub_dial() {
    let mut r = ClockRenderer::new();
    let mut found = 0;
    for seed in 0..200 {
        let face = FaceSpec::sample(seed);
        if !face.seconds_in_subdial() {
            continue;
        }
        found += 1;
        let img = r.render_face(&face, ClockTime::sample(seed), 128).unwrap();
        let pivot = img.truth.second_pivot.unwrap();
        assert!(dist(pivot, img.truth.center) > 10.0, "{}", face.name());
        if found == 5 {
            break;
        }
    }
    assert_eq!(found, 5);
}

#[test]
fn augmentation_changes_pixels_but_not_labels() {
    let mut r = ClockRenderer::new();
    let face = FaceSpec::sample(77);
    let time = ClockTime::new(10, 8, 42).unwrap();
    let plain = flat_scene(160);
    let mut noisy = plain.clone();
    noisy.blur = Blur::Gaussian { sigma: 1.2 };
    noisy.lighting = Lighting {
        brightness: 0.05,
        contrast: 1.1,
        gamma: 0.9,
        cast: [1.05, 1.0, 0.95],
        vignette: 0.3,
    };
    noisy.noise = Noise {
        sigma: 6.0,
        monochrome: false,
        seed: 3,
    };
    let a = r.render(&face, time, &plain).unwrap();
    let b = r.render(&face, time, &noisy).unwrap();
    assert_ne!(a.rgba, b.rgba);
    assert_eq!(a.truth, b.truth);
}

/// The dial's box is centred on the pivot of an unposed watch, turns with the watch (a
/// quarter turn swaps its sides) and moves with a crop.
#[test]
fn dial_box_follows_rotation_and_crop() {
    let mut r = ClockRenderer::new();
    let size = 256u32;
    for seed in 1u64..9 {
        let face = FaceSpec::sample(seed);
        let time = ClockTime::sample(seed);
        let mut scene = flat_scene(size);
        scene.watch_scale = 0.8;
        let plain = r.render(&face, time, &scene).unwrap().truth;
        let (x0, y0, x1, y1) = plain.dial_box;
        let name = face.name();
        assert!(
            x0 > 0.0 && y0 > 0.0 && x1 < size as f32 && y1 < size as f32 && x1 - x0 > 40.0,
            "{name}: box {:?} in a {size} px image",
            plain.dial_box
        );
        for (mid, c) in [
            ((x0 + x1) / 2.0, plain.center.0),
            ((y0 + y1) / 2.0, plain.center.1),
        ] {
            assert!(
                (mid - c).abs() < 0.5,
                "{name}: box middle {mid} vs centre {c}"
            );
        }
        scene.rotation_deg = 90.0;
        let turned = r.render(&face, time, &scene).unwrap().truth.dial_box;
        assert!(
            ((turned.2 - turned.0) - (y1 - y0)).abs() < 0.5
                && ((turned.3 - turned.1) - (x1 - x0)).abs() < 0.5,
            "{name}: turned {turned:?} vs {:?}",
            plain.dial_box
        );
        scene.rotation_deg = 0.0;
        scene.crop = Some(pixmo_gen_clock::Crop {
            x: 20,
            y: 30,
            width: 200,
            height: 180,
        });
        let cropped = r.render(&face, time, &scene).unwrap().truth.dial_box;
        let moved = (x0 - 20.0, y0 - 30.0, x1 - 20.0, y1 - 30.0);
        for (a, b) in [
            (cropped.0, moved.0),
            (cropped.1, moved.1),
            (cropped.2, moved.2),
            (cropped.3, moved.3),
        ] {
            assert!(
                (a - b).abs() < 0.5,
                "{name}: cropped {cropped:?} vs {moved:?}"
            );
        }
    }
}
