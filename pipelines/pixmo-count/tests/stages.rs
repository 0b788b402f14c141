//! The stages on real records: counts, balanced splits, "not present" rows, and the rows'
//! points written as Molmo answers, parsed back and scored perfect by `pixmo-eval`.

use pixmo_core::SeedKey;
use pixmo_count::stages::label::{LabelConfig, Task};
use pixmo_count::stages::scene::SceneConfig;
use pixmo_dag::registry::StageConfig;
use pixmo_dag::{Record, StageContext, Value};
use pixmo_eval::pointing::{PointsGold, Tolerance, score_points};
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

fn points_of(record: &Record) -> Vec<Percent> {
    record
        .json("points")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Percent::new(p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap()).unwrap())
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

/// The row's points as a model answer, parsed and scored against the scene's own points.
fn answer_scores_perfect(record: &Record) {
    let scene = record.json("scene").unwrap();
    let size = ImageSize::new(
        scene["width"].as_u64().unwrap() as u32,
        scene["height"].as_u64().unwrap() as u32,
    )
    .unwrap();
    let answer = pointing_answer(&points_of(record), &text_of(record, "label"));
    let predicted = extract_points(&answer);
    assert_eq!(predicted.len(), count_of(record) as usize, "{answer}");
    // The gold: the scene's pixel points of exactly the labelled instances, found again by
    // matching, within one pixel (rounding to one decimal of a percent moves < 0.5 px).
    let gold_points: Vec<Pixel> = points_of(record)
        .iter()
        .map(|p| p.to_pixels(size))
        .collect();
    let gold = PointsGold {
        size,
        points: gold_points,
        masks: None,
    };
    let s = score_points(&predicted, &gold, Tolerance::Pixels(1.0));
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
        assert_eq!(points_of(&record).len(), targets);
        assert!(
            text_of(&record, "label").starts_with(&target[..3]),
            "{target}"
        );
        zero += usize::from(targets == 0);
        answer_scores_perfect(&record);
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
    let (mut absent, mut superlative, mut coloured) = (0, 0, 0);
    for index in 0..200 {
        let record = run("train", index, &scene, &label);
        let label_text = text_of(&record, "label");
        let method = text_of(&record, "collection_method");
        assert!(method == "pointing" || method == "counting");
        absent += usize::from(count_of(&record) == 0);
        superlative += usize::from(label_text.starts_with("the "));
        coloured += usize::from(label_text.contains(' ') && !label_text.starts_with("the "));
        answer_scores_perfect(&record);
    }
    assert!(
        absent >= 8 && superlative > 0 && coloured > 0,
        "{absent} {superlative} {coloured}"
    );
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
