//! Same inputs, same bytes: twice in a row, across renderers, with a warm or cold cache.

use pixmo_gen_clock::{ClockRenderer, ClockTime, FaceSpec, SceneSpec};

#[test]
fn same_inputs_give_identical_bytes() {
    let mut a = ClockRenderer::new();
    let mut b = ClockRenderer::new();
    for seed in 0..6 {
        let face = FaceSpec::sample(seed);
        let time = ClockTime::sample(seed);
        let scene = SceneSpec::sample(seed, 160);
        let x = a.render(&face, time, &scene).unwrap();
        let y = a.render(&face, time, &scene).unwrap();
        let z = b.render(&face, time, &scene).unwrap();
        assert_eq!(x.rgba, y.rgba);
        assert_eq!(x.rgba, z.rgba);
        assert_eq!(x.truth, z.truth);
    }
}

#[test]
fn warm_and_cold_caches_give_identical_bytes() {
    let faces: Vec<FaceSpec> = (0..3).map(|s| FaceSpec::sample(s + 40)).collect();
    let times: Vec<ClockTime> = (0..4).map(|s| ClockTime::sample(s + 40)).collect();
    // Warm: one renderer renders every time of a face in a row (cache hits).
    let mut warm = ClockRenderer::new();
    // Cold: a fresh renderer per image.
    // Thrashing: a one-entry cache alternating between faces.
    let mut thrash = ClockRenderer::with_cache_capacity(1);
    for (i, face) in faces.iter().enumerate() {
        for (j, &time) in times.iter().enumerate() {
            let scene = SceneSpec::sample((i * 10 + j) as u64, 128);
            let w = warm.render(face, time, &scene).unwrap();
            let c = ClockRenderer::new().render(face, time, &scene).unwrap();
            let other = &faces[(i + 1) % faces.len()];
            thrash.render(other, time, &scene).unwrap();
            let t = thrash.render(face, time, &scene).unwrap();
            assert_eq!(w.rgba, c.rgba, "face {i} time {j}");
            assert_eq!(w.rgba, t.rgba, "face {i} time {j}");
            let fw = warm.render_face(face, time, 96).unwrap();
            let fc = ClockRenderer::new().render_face(face, time, 96).unwrap();
            assert_eq!(fw.rgba, fc.rgba);
        }
    }
    assert!(warm.stats().cache_hits > 0);
}

#[test]
fn different_times_differ_and_faces_differ() {
    let mut r = ClockRenderer::new();
    let face = FaceSpec::sample(8);
    let a = r
        .render_face(&face, ClockTime::new(1, 2, 3).unwrap(), 96)
        .unwrap();
    let b = r
        .render_face(&face, ClockTime::new(4, 5, 6).unwrap(), 96)
        .unwrap();
    assert_ne!(a.rgba, b.rgba);
    let c = r
        .render_face(&FaceSpec::sample(9), ClockTime::new(1, 2, 3).unwrap(), 96)
        .unwrap();
    assert_ne!(a.rgba, c.rgba);
}

#[test]
fn specs_round_trip_through_json() {
    for seed in 0..20 {
        let face = FaceSpec::sample(seed);
        let back: FaceSpec = serde_json::from_str(&serde_json::to_string(&face).unwrap()).unwrap();
        assert_eq!(back, face);
        assert_eq!(back.face_id(), face.face_id());
        let scene = SceneSpec::sample(seed, 448);
        let back: SceneSpec =
            serde_json::from_str(&serde_json::to_string(&scene).unwrap()).unwrap();
        assert_eq!(back, scene);
        let time = ClockTime::sample(seed);
        let back: ClockTime = serde_json::from_str(&serde_json::to_string(&time).unwrap()).unwrap();
        assert_eq!(back, time);
    }
}

#[test]
fn face_ids_are_stable_content_hashes() {
    let face = FaceSpec::sample(123);
    let id = face.face_id();
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    let mut other = face.clone();
    other.crystal_glare = !other.crystal_glare;
    assert_ne!(other.face_id(), id);
    let ids: std::collections::HashSet<String> =
        (0..500).map(|s| FaceSpec::sample(s).face_id()).collect();
    assert_eq!(ids.len(), 500);
}

#[test]
fn the_svg_is_deterministic_and_complete() {
    let r = ClockRenderer::new();
    let face = FaceSpec::sample(31);
    let time = ClockTime::new(9, 41, 7).unwrap();
    let a = r.svg(&face, time, 300);
    assert_eq!(a, r.svg(&face, time, 300));
    assert!(a.starts_with("<svg") && a.trim_end().ends_with("</svg>"));
    assert!(a.contains(r#"width="300""#));
    assert_ne!(a, r.svg(&face, ClockTime::new(9, 42, 7).unwrap(), 300));
}

#[test]
fn renderers_sharing_a_layer_cache_rasterise_each_face_once() {
    use std::sync::Arc;

    use pixmo_gen_clock::LayerCache;

    let layers = Arc::new(LayerCache::new(8));
    let face = FaceSpec::sample(77);
    let scenes: Vec<SceneSpec> = (0..4).map(|s| SceneSpec::sample(s + 90, 128)).collect();
    let mut own = ClockRenderer::new();
    let want: Vec<Vec<u8>> = scenes
        .iter()
        .enumerate()
        .map(|(i, scene)| {
            own.render(&face, ClockTime::sample(i as u64), scene)
                .unwrap()
                .rgba
        })
        .collect();
    // Two threads draw alternate images of one face through one cache, as the pipeline's
    // workers do: the same bytes, and the face layer is rasterised once between them.
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let (layers, face, scenes) = (Arc::clone(&layers), face.clone(), scenes.clone());
            std::thread::spawn(move || {
                let mut r = ClockRenderer::with_layer_cache(layers);
                let images: Vec<(usize, Vec<u8>)> = (t..scenes.len())
                    .step_by(2)
                    .map(|i| {
                        let img = r.render(&face, ClockTime::sample(i as u64), &scenes[i]);
                        (i, img.unwrap().rgba)
                    })
                    .collect();
                (images, r.stats())
            })
        })
        .collect();
    let mut rendered = 0;
    for handle in handles {
        let (images, stats) = handle.join().unwrap();
        rendered += stats.face_layers_rendered;
        for (i, rgba) in images {
            assert_eq!(rgba, want[i], "image {i}");
        }
    }
    assert_eq!(rendered, 1);
    assert_eq!(layers.len(), 1);
    layers.clear();
    assert!(layers.is_empty());
}
