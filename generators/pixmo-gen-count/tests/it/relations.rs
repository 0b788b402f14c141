//! Spatial referring expressions ("stars left of the ring") follow the stated rule: the
//! reference is the only instance of its category; an instance is on a side when its point
//! is strictly past the reference's visible edge; an expression is emitted exactly when no
//! instance of the category is within the margin of that edge and at least one matches.

use pixmo_gen_count::{
    Category, Color, Instance, QueryKind, Relation, SceneConfig, generate, present_queries,
};

use crate::config;

/// The edge a relation measures against, from the reference's mask (not its stored box),
/// and how far past it a point is (positive: on that side).
fn past_edge(relation: Relation, mask_box: [u32; 4], point: [f64; 2]) -> f64 {
    let [x0, y0, x1, y1] = mask_box.map(f64::from);
    match relation {
        Relation::LeftOf => x0 - point[0],
        Relation::RightOf => point[0] - x1,
        Relation::Above => y0 - point[1],
        Relation::Below => point[1] - y1,
    }
}

fn mask_box(scene: &pixmo_gen_count::Scene, i: usize) -> [u32; 4] {
    let bitmap = scene.mask(i).to_bitmap();
    let w = scene.width as usize;
    let on: Vec<(u32, u32)> = (0..bitmap.len())
        .filter(|&p| bitmap[p])
        .map(|p| ((p % w) as u32, (p / w) as u32))
        .collect();
    [
        on.iter().map(|p| p.0).min().unwrap(),
        on.iter().map(|p| p.1).min().unwrap(),
        on.iter().map(|p| p.0).max().unwrap() + 1,
        on.iter().map(|p| p.1).max().unwrap() + 1,
    ]
}

#[test]
fn spatial_expressions_name_exactly_the_instances_past_the_reference_edge() {
    let mut emitted = [0usize; 4];
    let mut suppressed_ties = 0;
    let (mut coloured, mut checked_total) = (0, 0);
    for seed in 0..160u64 {
        let count = [2, 4, 7, 12][(seed % 4) as usize];
        let scene = generate(seed, &config(count)).unwrap();
        let queries = present_queries(&scene.instances);
        let instances = &scene.instances;
        for category in Category::ALL {
            let all = scene.of(category);
            if all.is_empty() {
                continue;
            }
            // The subjects: the category, and each of its colours when it shows several.
            let mut colours: Vec<Color> = all.iter().map(|&i| instances[i].color).collect();
            colours.sort_unstable();
            colours.dedup();
            let mut subjects = vec![(category.plural(), all.clone())];
            if colours.len() > 1 {
                for c in colours {
                    let members = all
                        .iter()
                        .copied()
                        .filter(|&i| instances[i].color == c)
                        .collect();
                    subjects.push((format!("{} {}", c.name(), category.plural()), members));
                }
            }
            for (subject, members) in subjects {
                for r in 0..instances.len() {
                    let reference_category = instances[r].category;
                    let refs = scene.of(reference_category);
                    let same_colour = refs
                        .iter()
                        .filter(|&&j| instances[j].color == instances[r].color)
                        .count();
                    // The words that name exactly this object, if any.
                    let name = if refs.len() == 1 {
                        format!("the {}", reference_category.noun())
                    } else if same_colour == 1 {
                        format!(
                            "the {} {}",
                            instances[r].color.name(),
                            reference_category.noun()
                        )
                    } else {
                        continue;
                    };
                    for relation in Relation::ALL {
                        let label = format!("{subject} {} {name}", relation.words());
                        let found: Vec<_> = queries.iter().filter(|q| q.label == label).collect();
                        if reference_category == category {
                            assert!(
                                found.is_empty(),
                                "seed {seed}: {label} refers to its own kind"
                            );
                            continue;
                        }
                        let edges = mask_box(&scene, r);
                        let [x0, y0, x1, y1] = edges.map(f64::from);
                        let extent = match relation {
                            Relation::LeftOf | Relation::RightOf => x1 - x0,
                            Relation::Above | Relation::Below => y1 - y0,
                        };
                        let margin = (0.25 * extent).max(4.0);
                        let want: Vec<usize> = members
                            .iter()
                            .copied()
                            .filter(|&i| past_edge(relation, edges, instances[i].point) > 0.0)
                            .collect();
                        let tie = members.iter().any(|&i| {
                            past_edge(relation, edges, instances[i].point).abs() < margin
                        });
                        if tie || want.is_empty() {
                            assert!(
                                found.is_empty(),
                                "seed {seed}: {label} is ambiguous or empty"
                            );
                            suppressed_ties += usize::from(tie);
                            continue;
                        }
                        let [q] = found[..] else {
                            panic!("seed {seed}: {label} is unambiguous but emitted {found:?}");
                        };
                        assert_eq!(q.kind, QueryKind::Spatial);
                        assert_eq!(q.relation, Some((relation, r)), "seed {seed}: {label}");
                        assert_eq!(q.instances, want, "seed {seed}: {label}");
                        emitted[Relation::ALL.iter().position(|&x| x == relation).unwrap()] += 1;
                        coloured += usize::from(subject.contains(' '));
                    }
                }
            }
        }
        // Nothing else is spatial: every spatial query was one of the labels above.
        let spatial = queries
            .iter()
            .filter(|q| q.kind == QueryKind::Spatial)
            .count();
        checked_total += spatial;
    }
    assert!(
        emitted.iter().all(|&n| n >= 30),
        "every relation is exercised: {emitted:?}"
    );
    assert!(suppressed_ties >= 30, "near ties occur and are left out");
    assert!(coloured >= 20, "colour subjects are exercised: {coloured}");
    assert_eq!(
        checked_total,
        emitted.iter().sum::<usize>(),
        "every spatial query is one the rule predicts"
    );
}

fn instance(category: Category, point: [f64; 2], visible_box: [u32; 4]) -> Instance {
    Instance {
        category,
        color: Color::Red,
        center: point,
        half_size: 10.0,
        rotation_deg: 0.0,
        point,
        pixels: 300,
        visible: 300,
        visible_box,
    }
}

fn labels(instances: &[Instance]) -> Vec<(String, Vec<usize>)> {
    present_queries(instances)
        .into_iter()
        .filter(|q| q.kind == QueryKind::Spatial)
        .map(|q| (q.label, q.instances))
        .collect()
}

#[test]
fn near_ties_and_shared_references_are_not_emitted() {
    // A ring spanning x 100..140, y 100..140: margin max(0.25 * 40, 4) = 10 px.
    let ring = instance(Category::Ring, [120.5, 120.5], [100, 100, 140, 140]);
    let star = |x: f64| instance(Category::Star, [x, 120.5], [0, 0, 1, 1]);
    // Clearly left (20 px) and clearly right (15 px past the right edge).
    let scene = vec![ring.clone(), star(80.0), star(155.0)];
    // (Nothing about the ring: with two stars, "the star" is not one object.)
    assert_eq!(
        labels(&scene),
        [
            ("stars left of the ring".to_string(), vec![1]),
            ("stars right of the ring".to_string(), vec![2]),
        ]
    );
    // A star 9 px left of the edge is a near tie: neither side is emitted.
    let tie = vec![ring.clone(), star(80.0), star(91.0)];
    assert!(
        labels(&tie)
            .iter()
            .all(|(l, _)| !l.contains(" of the ring")),
        "{:?}",
        labels(&tie)
    );
    // 11 px is clear of the margin: both stars are left of the ring.
    let clear = vec![ring.clone(), star(80.0), star(89.0)];
    assert!(labels(&clear).contains(&("stars left of the ring".into(), vec![1, 2])));
    // Exactly on the edge is not "left of", and is a tie.
    let edge = vec![ring.clone(), star(100.0)];
    assert!(
        labels(&edge)
            .iter()
            .all(|(l, _)| l != "stars left of the ring")
    );
    // A second ring: "the ring" is no longer one object.
    let second = instance(Category::Ring, [20.5, 20.5], [10, 10, 30, 30]);
    let shared = vec![ring.clone(), second.clone(), star(80.0)];
    assert!(labels(&shared).iter().all(|(l, _)| !l.ends_with(" ring")));
    // ... unless its colour tells them apart: then it is "the red ring".
    let blue = Instance {
        color: Color::Blue,
        ..second
    };
    let told_apart = vec![ring.clone(), blue, star(80.0)];
    assert!(
        labels(&told_apart).contains(&("stars left of the red ring".into(), vec![2])),
        "{:?}",
        labels(&told_apart)
    );
    assert!(
        labels(&told_apart)
            .iter()
            .all(|(l, _)| !l.contains("the ring"))
    );
    // Above and below use the top and bottom edges; a small reference keeps a 4 px margin.
    let dot = instance(Category::Circle, [50.5, 50.5], [48, 48, 54, 54]);
    let at = |y: f64| instance(Category::Mug, [50.0, y], [0, 0, 1, 1]);
    assert_eq!(
        labels(&[dot.clone(), at(43.0), at(59.0)]),
        [
            ("mugs above the circle".to_string(), vec![1]),
            ("mugs below the circle".to_string(), vec![2]),
        ]
    );
    assert_eq!(
        labels(&[dot, at(45.0), at(59.0)]),
        [("mugs below the circle".to_string(), vec![2])],
        "3 px above the top edge is a tie"
    );
}

#[test]
fn spatial_expressions_are_deterministic() {
    let config = SceneConfig {
        size: 320,
        ..config(6)
    };
    let a = present_queries(&generate(11, &config).unwrap().instances);
    let b = present_queries(&generate(11, &config).unwrap().instances);
    assert_eq!(a, b);
}
