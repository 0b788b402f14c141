//! Labels are checked, not trusted: points on visible pixels of their instance's mask,
//! the occlusion rule recomputed from the instances' footprints, exact counts, queries that
//! match the scene graph, determinism.

use pixmo_gen_count::{
    Category, QueryKind, SceneConfig, absent_queries, generate, present_queries,
};

use crate::config;

#[test]
fn every_point_is_on_a_visible_pixel_of_its_instance_and_the_occlusion_rule_holds() {
    let mut rings_and_crescents = 0;
    for seed in 0..240u64 {
        let count = [0, 1, 2, 5, 10, 40][(seed % 6) as usize];
        let scene = generate(seed, &config(count)).unwrap();
        let mut visible = vec![0u32; scene.instances.len()];
        for y in 0..scene.height {
            for x in 0..scene.width {
                if let Some(i) = scene.instance_at(x, y) {
                    visible[i] += 1;
                }
            }
        }
        for (i, inst) in scene.instances.iter().enumerate() {
            let (px, py) = (inst.point[0].floor() as u32, inst.point[1].floor() as u32);
            assert_eq!(
                scene.instance_at(px, py),
                Some(i),
                "seed {seed} instance {i}"
            );
            // The point also survives Molmo's percent text (one decimal) and back.
            let pc = |v: f64, side: u32| (v / f64::from(side) * 1000.0).round() / 10.0;
            let back = |p: f64, side: u32| (p * f64::from(side) / 100.0).floor() as u32;
            let (qx, qy) = (
                back(pc(inst.point[0], scene.width), scene.width),
                back(pc(inst.point[1], scene.height), scene.height),
            );
            assert_eq!(
                scene.instance_at(qx, qy),
                Some(i),
                "seed {seed} rounded point"
            );
            assert_eq!(visible[i], inst.visible, "seed {seed} visible count");
            assert!(
                f64::from(inst.visible) >= 0.6 * f64::from(inst.pixels),
                "seed {seed} instance {i}: {} of {} visible",
                inst.visible,
                inst.pixels
            );
            if matches!(inst.category, Category::Ring | Category::Crescent) {
                rings_and_crescents += 1;
            }
        }
    }
    assert!(
        rings_and_crescents > 20,
        "the hole and bite cases were exercised"
    );
}

/// The visible mask of every instance is its footprint minus the footprints of everything
/// drawn after it (recomputed here from the scene graph, not read from the instance map),
/// its area is `visible`, its box is `visible_box`, the point lies on it, and every
/// instance keeps at least `min_visible` of its footprint: instances that would show less
/// are never in the scene, so every counted and pointed instance is at least that visible.
#[test]
fn masks_are_footprints_minus_later_objects_and_hold_every_point() {
    let mut occluded = 0;
    for seed in 0..80u64 {
        let count = [0, 3, 10, 40][(seed % 4) as usize];
        let min_visible = [0.6, 0.3][(seed % 2) as usize];
        let scene = generate(
            seed,
            &SceneConfig {
                min_visible,
                ..config(count)
            },
        )
        .unwrap();
        let (w, h) = (scene.width as usize, scene.height as usize);
        // Pixels covered by instances drawn after the one being checked.
        let mut covered_later = vec![false; w * h];
        let masks = scene.masks();
        assert_eq!(masks.len(), scene.instances.len());
        for i in (0..scene.instances.len()).rev() {
            let inst = &scene.instances[i];
            let footprint = scene.footprint(i);
            assert_eq!(footprint.len() as u32, inst.pixels, "seed {seed} {i}");
            let mut want = vec![false; w * h];
            for &p in &footprint {
                want[p as usize] = !covered_later[p as usize];
            }
            let mask = &masks[i];
            assert_eq!(mask.size, [scene.height, scene.width]);
            assert_eq!(mask.to_bitmap(), want, "seed {seed} instance {i}");
            assert_eq!(mask.area(), inst.visible, "seed {seed} instance {i}");
            assert!(
                f64::from(mask.area()) >= min_visible * f64::from(inst.pixels),
                "seed {seed} instance {i}: {} of {} visible",
                mask.area(),
                inst.pixels
            );
            occluded += usize::from(mask.area() < inst.pixels);
            assert!(mask.contains(inst.point), "seed {seed} instance {i}");
            // The box is the mask's box.
            let on: Vec<(usize, usize)> = footprint
                .iter()
                .map(|&p| p as usize)
                .filter(|&p| want[p])
                .map(|p| (p % w, p / w))
                .collect();
            let b = [
                on.iter().map(|p| p.0).min().unwrap(),
                on.iter().map(|p| p.1).min().unwrap(),
                on.iter().map(|p| p.0).max().unwrap() + 1,
                on.iter().map(|p| p.1).max().unwrap() + 1,
            ]
            .map(|v| v as u32);
            assert_eq!(inst.visible_box, b, "seed {seed} instance {i}");
            for &p in &footprint {
                covered_later[p as usize] = true;
            }
        }
    }
    assert!(occluded > 100, "occlusion was exercised ({occluded})");
}

#[test]
fn counts_up_to_ten_are_exact_and_absent_targets_are_absent() {
    let mut left_out = 0;
    for seed in 0..200u64 {
        let count = (seed % 11) as u32;
        let scene = generate(seed, &config(count)).unwrap();
        let placed = scene.of(scene.target).len() as u32;
        assert!(placed <= count, "seed {seed}");
        left_out += count - placed;
    }
    assert_eq!(left_out, 0, "targets left out at counts 0-10");
}

#[test]
fn queries_name_exactly_the_instances_that_match() {
    for seed in 0..120u64 {
        let scene = generate(seed, &config((seed % 12) as u32)).unwrap();
        let present = present_queries(&scene.instances);
        assert!(
            present.iter().any(|q| q.label == scene.target.plural())
                || scene.of(scene.target).is_empty()
        );
        for q in &present {
            assert!(!q.instances.is_empty(), "{q:?}");
            match q.kind {
                QueryKind::Category | QueryKind::ColorCategory => {
                    let want: Vec<usize> = (0..scene.instances.len())
                        .filter(|&i| {
                            let inst = &scene.instances[i];
                            let text = if q.kind == QueryKind::Category {
                                inst.category.plural()
                            } else {
                                format!("{} {}", inst.color.name(), inst.category.plural())
                            };
                            text == q.label
                        })
                        .collect();
                    assert_eq!(q.instances, want, "seed {seed} {}", q.label);
                }
                QueryKind::Largest | QueryKind::Smallest => {
                    let i = q.instances[0];
                    let cat = scene.instances[i].category;
                    for j in scene.of(cat) {
                        let (a, b) = (scene.instances[i].half_size, scene.instances[j].half_size);
                        if j != i {
                            if q.kind == QueryKind::Largest {
                                assert!(a >= 1.3 * b, "seed {seed} {}", q.label);
                            } else {
                                assert!(b >= 1.3 * a, "seed {seed} {}", q.label);
                            }
                        }
                    }
                }
                // Checked against the rule in `relations.rs`.
                QueryKind::Spatial => assert!(q.relation.is_some(), "{q:?}"),
                QueryKind::NotPresent => panic!("present query marked not present"),
            }
        }
        let present_labels: Vec<&str> = present.iter().map(|q| q.label.as_str()).collect();
        for q in absent_queries(&scene.instances) {
            assert!(q.instances.is_empty());
            assert!(
                !present_labels.contains(&q.label.as_str()),
                "seed {seed} {}",
                q.label
            );
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let a = generate(7, &config(5)).unwrap();
    let b = generate(7, &config(5)).unwrap();
    assert_eq!(a.rgba, b.rgba);
    assert_eq!(a.instances, b.instances);
    let c = generate(8, &config(5)).unwrap();
    assert_ne!(a.rgba, c.rgba);
    // Pinned: a change to the pixels of a seed must bump GENERATOR_VERSION and this hash.
    let hash = a.rgba.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    assert_eq!(hash, GOLDEN_FNV, "{hash:#x}");
}

const GOLDEN_FNV: u64 = 0x8b01_31a4_5099_5881;

#[test]
fn bad_configs_are_refused() {
    for bad in [
        SceneConfig {
            size: 32,
            ..config(1)
        },
        SceneConfig {
            size: 4000,
            ..config(1)
        },
        SceneConfig {
            min_visible: 0.0,
            ..config(1)
        },
        SceneConfig {
            target_count: 1000,
            ..config(1)
        },
    ] {
        assert!(generate(0, &bad).is_err(), "{bad:?}");
    }
}
