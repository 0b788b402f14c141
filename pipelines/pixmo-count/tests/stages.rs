//! The stages on real records: counts, balanced splits, "not present" rows, spatial
//! expressions, and the rows' points written as Molmo answers, parsed back and scored
//! perfect by `pixmo-eval` against the instances' visible masks carried in the scene.

use pixmo_annotation_schema::{Dataset, PointUnit};
use pixmo_core::SeedKey;
use pixmo_count::stages::label::{LabelConfig, Task};
use pixmo_count::stages::scene::SceneConfig;
use pixmo_dag::registry::StageConfig;
use pixmo_dag::{Record, StageContext, Value};
use pixmo_eval::mask::{Mask, RleJson};
use pixmo_eval::pointing::{PointsGold, Tolerance, score_points};
use pixmo_gen_count::{Instance, QueryKind, present_queries};
use pixmo_points::{ImageSize, Percent, Pixel, extract_points, pointing_answer};

fn scene_config(min: u32, max: u32) -> SceneConfig {
    toml::from_str::<SceneConfig>(&format!(
        "image_size = 160\nmin_count = {min}\nmax_count = {max}\nbalanced_splits = [\"val\"]"
    ))
    .unwrap()
}

fn run(split: &str, index: u64, scene: &SceneConfig, label: &LabelConfig) -> Record {
    let mut record = Record::new(SeedKey {
        run_seed: 3,
        dataset: "count".into(),
        split: split.into(),
        record_index: index,
    });
    for (stage, name) in [
        (scene.build().unwrap(), "scene"),
        (label.build().unwrap(), "label"),
    ] {
        let cx = StageContext {
            stage: name.into(),
            seed: record.key.derive(name),
        };
        stage.process(&mut record, &cx).unwrap();
    }
    record
}

/// The row's points as written, `(x, y)`.
fn written(record: &Record) -> Vec<(f64, f64)> {
    record
        .json("points")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap()))
        .collect()
}

/// The row's points read in `unit`, in pixels of the image: `None` when a value is outside
/// the unit's range.
fn pixels_in(record: &Record, unit: PointUnit) -> Option<Vec<Pixel>> {
    let (size, _, _) = scene_of(record);
    written(record)
        .into_iter()
        .map(|(x, y)| match unit {
            PointUnit::Pixels => Pixel::new(x, y, size).ok(),
            PointUnit::Percent => Percent::new(x, y).ok().map(|p| p.to_pixels(size)),
        })
        .collect()
}

/// The row's points in percent, for Molmo's answer markup.
fn percent_of(record: &Record, unit: PointUnit) -> Vec<Percent> {
    let (size, _, _) = scene_of(record);
    pixels_in(record, unit)
        .expect("points within their unit's range")
        .into_iter()
        .map(|p| p.to_percent(size))
        .collect()
}

fn count_of(record: &Record) -> i32 {
    match record.get("count") {
        Some(Value::I32(n)) => *n,
        other => panic!("{other:?}"),
    }
}

fn text_of(record: &Record, name: &str) -> String {
    match record.get(name) {
        Some(Value::Str(s)) => s.clone(),
        other => panic!("{other:?}"),
    }
}

/// The scene's instances and their visible masks (read with `pixmo-eval`'s COCO reader).
fn scene_of(record: &Record) -> (ImageSize, Vec<Instance>, Vec<Mask>) {
    let scene = record.json("scene").unwrap();
    let size = ImageSize::new(
        scene["width"].as_u64().unwrap() as u32,
        scene["height"].as_u64().unwrap() as u32,
    )
    .unwrap();
    let instances: Vec<Instance> = serde_json::from_value(scene["instances"].clone()).unwrap();
    let masks: Vec<Mask> = scene["masks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| Mask::from_json(&serde_json::from_value::<RleJson>(m.clone()).unwrap()).unwrap())
        .collect();
    assert_eq!(masks.len(), instances.len());
    (size, instances, masks)
}

/// The instances the row's points, read in `unit`, name: each lies on the visible mask of
/// exactly one instance and no instance is named twice; `None` otherwise.
fn instances_named(record: &Record, unit: PointUnit) -> Option<Vec<usize>> {
    let (_, _, masks) = scene_of(record);
    let mut named = Vec::new();
    for p in pixels_in(record, unit)? {
        let on: Vec<usize> = (0..masks.len()).filter(|&i| masks[i].contains(p)).collect();
        if on.len() != 1 {
            return None;
        }
        named.push(on[0]);
    }
    named.sort_unstable();
    let before = named.len();
    named.dedup();
    (named.len() == before).then_some(named)
}

/// [`instances_named`], which must succeed.
fn named_instances(record: &Record, unit: PointUnit) -> Vec<usize> {
    instances_named(record, unit).unwrap_or_else(|| {
        panic!(
            "every point, read in {}, lies on one visible mask: {:?}",
            unit.as_str(),
            written(record)
        )
    })
}

/// The row's points as a model answer, parsed and scored perfect against the masks of the
/// instances they name (a point is correct only inside its instance's visible mask).
fn answer_scores_perfect(record: &Record, unit: PointUnit) {
    let (size, instances, masks) = scene_of(record);
    let named = named_instances(record, unit);
    let answer = pointing_answer(&percent_of(record, unit), &text_of(record, "label"));
    let predicted = extract_points(&answer);
    assert_eq!(predicted.len(), count_of(record) as usize, "{answer}");
    let gold = PointsGold {
        size,
        points: named
            .iter()
            .map(|&i| Pixel::new(instances[i].point[0], instances[i].point[1], size).unwrap())
            .collect(),
        masks: Some(named.iter().map(|&i| masks[i].clone()).collect()),
    };
    let s = score_points(&predicted, &gold, Tolerance::Pixels(0.0));
    assert_eq!(s.f1, 1.0, "{answer}");
}

#[test]
fn count_rows_name_the_target_and_every_instance() {
    let label: LabelConfig = toml::from_str("task = \"count\"").unwrap();
    let scene = scene_config(0, 10);
    let mut zero = 0;
    for index in 0..40 {
        let record = run("train", index, &scene, &label);
        let graph = record.json("scene").unwrap();
        let target = graph["target"].as_str().unwrap().to_string();
        let targets = graph["instances"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["category"] == target.as_str())
            .count();
        assert_eq!(count_of(&record) as usize, targets);
        assert_eq!(written(&record).len(), targets);
        assert!(
            text_of(&record, "label").starts_with(&target[..3]),
            "{target}"
        );
        zero += usize::from(targets == 0);
        let (_, instances, _) = scene_of(&record);
        let target_instances: Vec<usize> = (0..instances.len())
            .filter(|&i| instances[i].category.plural() == text_of(&record, "label"))
            .collect();
        assert_eq!(
            named_instances(&record, PointUnit::Pixels),
            target_instances
        );
        answer_scores_perfect(&record, PointUnit::Pixels);
    }
    assert!(zero > 0, "count 0 (not present) occurs");
    // Val cycles through every count from 2 to 10.
    let counts: Vec<i32> = (0..18)
        .map(|i| count_of(&run("val", i, &scene, &label)))
        .collect();
    assert_eq!(counts[..9], [2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(counts[9..], counts[..9]);
}

#[test]
fn points_rows_mix_expressions_and_not_present() {
    let label: LabelConfig =
        toml::from_str("task = \"points\"\nnot_present_fraction = 0.3").unwrap();
    let scene = scene_config(1, 25);
    let mut kinds = std::collections::BTreeMap::new();
    let mut absent = 0;
    for index in 0..200 {
        let record = run("train", index, &scene, &label);
        let label_text = text_of(&record, "label");
        let method = text_of(&record, "collection_method");
        assert!(method == "pointing" || method == "counting");
        answer_scores_perfect(&record, PointUnit::Percent);
        if count_of(&record) == 0 {
            absent += 1;
            continue;
        }
        // The points name exactly the instances of the scene-graph query with this label.
        let (_, instances, _) = scene_of(&record);
        let query = present_queries(&instances)
            .into_iter()
            .find(|q| q.label == label_text)
            .unwrap_or_else(|| panic!("`{label_text}` is a query of the scene"));
        let mut want = query.instances.clone();
        want.sort_unstable();
        assert_eq!(
            named_instances(&record, PointUnit::Percent),
            want,
            "{label_text}"
        );
        *kinds.entry(format!("{:?}", query.kind)).or_insert(0) += 1;
        if query.kind == QueryKind::Spatial {
            assert!(
                [
                    " left of the ",
                    " right of the ",
                    " above the ",
                    " below the "
                ]
                .iter()
                .any(|w| label_text.contains(w)),
                "{label_text}"
            );
        }
    }
    let n = |k: &str| kinds.get(k).copied().unwrap_or(0);
    assert!(absent >= 8, "{absent} not present");
    for kind in ["Category", "ColorCategory", "Spatial"] {
        assert!(n(kind) >= 10, "{kind}: {kinds:?}");
    }
    assert!(n("Largest") + n("Smallest") > 0, "{kinds:?}");
}

/// PixMo-Count rows are in pixels, PixMo-Points rows in percent (PIXMO_DATA.md §3.5), and
/// a percent value cannot pass for a pixel one: on 448 px scenes count points exceed 100,
/// each lies on its instance's mask read as pixels (its value divided by the image size
/// is the fraction of the width and height), and the same values read as percent miss.
#[test]
fn count_points_are_pixels_and_points_rows_percent() {
    assert_eq!(Task::Count.point_unit(), PointUnit::Pixels);
    assert_eq!(
        Task::Count.point_unit(),
        Dataset::Count.point_unit().unwrap()
    );
    assert_eq!(Task::Points.point_unit(), PointUnit::Percent);
    let scene: SceneConfig =
        toml::from_str("image_size = 448\nmin_count = 3\nmax_count = 10").unwrap();
    let count: LabelConfig = toml::from_str("task = \"count\"").unwrap();
    let (mut above_100, mut misread) = (0, 0);
    for index in 0..12 {
        let record = run("train", index, &scene, &count);
        let (size, _, _) = scene_of(&record);
        let (w, h) = (f64::from(size.width()), f64::from(size.height()));
        for (x, y) in written(&record) {
            assert!(
                (0.0..=w).contains(&x) && (0.0..=h).contains(&y),
                "({x}, {y})"
            );
            assert_eq!((x * 10.0).round() / 10.0, x, "one decimal");
            above_100 += usize::from(x > 100.0 || y > 100.0);
        }
        named_instances(&record, PointUnit::Pixels);
        misread += usize::from(instances_named(&record, PointUnit::Percent).is_none());
    }
    assert!(above_100 > 0, "no count point above 100 on a 448 px image");
    assert_eq!(
        misread, 12,
        "pixel rows read as percent must miss their masks"
    );

    // The same scenes as `points` rows: percent, which read as pixels miss.
    let points: LabelConfig = toml::from_str("task = \"points\"").unwrap();
    let mut misread = 0;
    for index in 0..12 {
        let record = run("train", index, &scene, &points);
        for (x, y) in written(&record) {
            assert!((0.0..=100.0).contains(&x) && (0.0..=100.0).contains(&y));
        }
        named_instances(&record, PointUnit::Percent);
        misread += usize::from(instances_named(&record, PointUnit::Pixels).is_none());
    }
    assert!(
        misread >= 10,
        "{misread} of 12 percent rows read as pixels miss"
    );
}

/// Labels are checked, not trusted: a scene whose masks do not match its points (here the
/// masks of two instances swapped) is rejected by the label stage, not written.
#[test]
fn a_point_off_its_visible_mask_is_rejected() {
    let label: LabelConfig = toml::from_str("task = \"count\"").unwrap();
    let scene_stage = scene_config(3, 3).build().unwrap();
    let mut record = Record::new(SeedKey {
        run_seed: 3,
        dataset: "count".into(),
        split: "train".into(),
        record_index: 0,
    });
    let cx = |name: &str| StageContext {
        stage: name.into(),
        seed: 0,
    };
    scene_stage.process(&mut record, &cx("scene")).unwrap();
    let mut graph = record.json("scene").unwrap().clone();
    let target = graph["target"].clone();
    let instances = graph["instances"].as_array().unwrap().clone();
    let a = instances
        .iter()
        .position(|i| i["category"] == target)
        .unwrap();
    let b = usize::from(a == 0);
    let masks = graph["masks"].as_array_mut().unwrap();
    masks.swap(a, b);
    record.set("scene", Value::Json(graph));
    let reject = label
        .build()
        .unwrap()
        .process(&mut record, &cx("label"))
        .unwrap_err();
    assert_eq!(reject.kind, "label_check", "{}", reject.message);
}

#[test]
fn bad_configs_fail_at_plan_time() {
    let bad = |text: &str| toml::from_str::<SceneConfig>(text).map(|c| c.build().is_err());
    assert_eq!(bad("min_count = 5\nmax_count = 2").ok(), Some(true));
    assert_eq!(bad("image_size = 20").ok(), Some(true));
    assert_eq!(bad("min_visible = 2.0").ok(), Some(true));
    assert!(
        toml::from_str::<SceneConfig>("colour = 1").is_err(),
        "unknown field"
    );
    let label = |text: &str| {
        toml::from_str::<LabelConfig>(text)
            .unwrap()
            .build()
            .is_err()
    };
    assert!(label("task = \"count\"\nnot_present_fraction = 0.2"));
    assert!(label("task = \"points\"\nnot_present_fraction = 1.5"));
    assert!(!label("task = \"points\""));
    let _ = Task::Count;
}
