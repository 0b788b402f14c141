//! The catalogue: at least 50 distinct bodies, every dial kind and hand style renders.

use std::collections::HashSet;

use pixmo_gen_clock::{
    BODY_COUNT, ClockRenderer, ClockTime, DIAL_KINDS, DialKind, FaceSpec, HAND_STYLES, bodies,
};

fn alpha_coverage(rgba: &[u8]) -> f64 {
    let opaque = rgba.chunks_exact(4).filter(|p| p[3] > 0).count();
    opaque as f64 / (rgba.len() / 4) as f64
}

#[test]
fn there_are_at_least_50_distinct_bodies() {
    assert!(bodies().len() >= 50, "{}", bodies().len());
    assert_eq!(bodies().len(), BODY_COUNT);
    let names: HashSet<&str> = bodies().iter().map(|b| b.name).collect();
    assert_eq!(names.len(), BODY_COUNT);
    // Same seed and dial, every body: the SVGs all differ (the bodies draw differently).
    let r = ClockRenderer::new();
    let time = ClockTime::new(10, 10, 30).unwrap();
    let mut svgs = HashSet::new();
    for i in 0..BODY_COUNT {
        let mut face = FaceSpec::sample_with(7, 0, DialKind::Indices);
        face.body = i as u16;
        assert!(
            svgs.insert(r.svg(&face, time, 200)),
            "body {i} draws like another"
        );
    }
}

#[test]
fn every_body_renders() {
    let mut r = ClockRenderer::new();
    for i in 0..BODY_COUNT {
        let face = FaceSpec::sample_with(i as u64, i, DialKind::Arabic);
        let img = r
            .render_face(&face, ClockTime::sample(i as u64), 64)
            .unwrap();
        let cov = alpha_coverage(&img.rgba);
        assert!(
            cov > 0.3,
            "{} covers only {cov:.2} of its canvas",
            face.name()
        );
    }
}

#[test]
fn every_dial_kind_renders_on_several_bodies() {
    let mut r = ClockRenderer::new();
    for (k, kind) in DIAL_KINDS.iter().enumerate() {
        for body in [0, 29, 35, 39, 48, 52, 57] {
            let face = FaceSpec::sample_with(k as u64, body, *kind);
            assert_eq!(face.kind, *kind);
            let img = r
                .render_face(&face, ClockTime::sample(k as u64), 96)
                .unwrap();
            assert!(alpha_coverage(&img.rgba) > 0.3, "{}", face.name());
        }
    }
}

#[test]
fn every_hand_style_appears_and_renders() {
    let mut r = ClockRenderer::new();
    let mut seen = HashSet::new();
    for seed in 0..400 {
        let face = FaceSpec::sample(seed);
        if seen.insert(face.hands.style) {
            r.render_face(&face, ClockTime::sample(seed), 96).unwrap();
        }
    }
    assert_eq!(seen.len(), HAND_STYLES.len());
}

#[test]
fn sampling_covers_the_catalogue() {
    let mut bodies_seen = HashSet::new();
    let mut kinds = HashSet::new();
    let mut no_seconds = 0;
    let mut sub_seconds = 0;
    let mut dates = 0;
    for seed in 0..3000 {
        let f = FaceSpec::sample(seed);
        bodies_seen.insert(f.body);
        kinds.insert(f.kind);
        no_seconds += usize::from(!f.has_second_hand());
        sub_seconds += usize::from(f.seconds_in_subdial());
        dates += usize::from(f.dial.date.is_some());
    }
    assert_eq!(bodies_seen.len(), BODY_COUNT);
    assert_eq!(kinds.len(), DIAL_KINDS.len());
    assert!(no_seconds > 300 && sub_seconds > 100 && dates > 300);
}
