//! Locating the dial: a probe's dial head learns where a bright square is from the pixels,
//! the truth file beside a clocks build is read by row id, and cropping to a box centres it.

use std::collections::HashMap;

use burn::module::AutodiffModule;
use pixmo_annotation_schema::Dataset;
use pixmo_trainer::augment::Augment;
use pixmo_trainer::data::{EvalTarget, Example};
use pixmo_trainer::probe::{
    HourProbe, Locator, PixelBox, Prepare, ProbeData, ProbeSettings, ProbeStart, Readout,
    SavedProbe, TRUTH_FILE, TurnTeller, Views, arcs_turned_back, dial_box, iou, least_full_side,
    locate_boxes, probe_examples_with, read_clocks, read_truth, score, tell_turns, train_probe,
    turn_arc, turn_of_arcs, turn_prior, wrap_degrees,
};

use crate::common::{Train, backend_rng, flat, png_from_fn, softmax_rows, tiny_model};

/// A clock example of `image` whose time is `k % 12 + 1` o'clock.
fn clock(id: String, image: Vec<u8>, k: u32) -> Example {
    Example {
        id,
        dataset: Dataset::Clocks,
        image,
        tasks: Vec::new(),
        transcripts: Vec::new(),
        target: EvalTarget::Clock {
            text: format!("{}:00", 1 + k % 12),
            shows_seconds: false,
        },
    }
}

/// Sixteen 32 px images, each with a bright 10 px square at its own place (a 4×4 grid of
/// places), and the squares' boxes by row id.
fn squares() -> (Vec<Example>, HashMap<String, PixelBox>) {
    let mut examples = Vec::new();
    let mut boxes = HashMap::new();
    for i in 0..16u32 {
        let (x0, y0) = (2 + 6 * (i % 4), 2 + 6 * (i / 4));
        let image = png_from_fn(32, 32, |x, y| {
            if (x0..x0 + 10).contains(&x) && (y0..y0 + 10).contains(&y) {
                [250, 240, 230]
            } else {
                [40, u8::try_from(60 + 3 * x).unwrap(), 70]
            }
        });
        let id = format!("sq{i}");
        #[allow(clippy::cast_precision_loss)]
        let b = [x0 as f32, y0 as f32, (x0 + 10) as f32, (y0 + 10) as f32];
        boxes.insert(id.clone(), b);
        examples.push(clock(id, image, i));
    }
    (examples, boxes)
}

#[test]
fn a_linear_dial_head_learns_where_the_square_is_from_the_pixels() {
    learns_where_the_square_is(Locator::Linear, 1.0);
}

/// Trained alone (`read_loss` 0): the locator learns and the hour and minute heads are left as
/// they were.
#[test]
fn a_heatmap_locator_learns_where_the_square_is_from_the_pixels() {
    learns_where_the_square_is(Locator::Heatmap, 0.0);
}

/// 150 steps of a probe locating the squares with `locator` and reading hour and minute, the
/// time's loss weighed by `read_loss`.
fn locating(locator: Locator, read_loss: f32, seed: u64) -> ProbeSettings {
    ProbeSettings {
        steps: 150,
        batch: 8,
        lr: 3e-3,
        lr_end: None,
        seed,
        eval_every: 0,
        first_steps: 0,
        gradual: false,
        minutes: true,
        readout: Readout::Concat,
        dial_loss: 10.0,
        locator,
        read_loss,
        turn_loss: 0.0,
        turn_bins: 0,
        augment: Default::default(),
        hour_by_minute: false,
        hand_bins: 0,
        joint: None,
        views: 0,
    }
}

/// A probe locating with `locator` on [`squares`] beats the image-blind mean box by far;
/// with `read_loss` 0 its hour and minute heads end as they started (a weight applied to one
/// of the time's losses only fails), and with `read_loss` > 0 both move.
fn learns_where_the_square_is(locator: Locator, read_loss: f32) {
    let _rng = backend_rng();
    let config = tiny_model();
    let tok = config.build_tokenizer().unwrap();
    let (examples, boxes) = squares();
    let prepare = Prepare {
        truth: Some(&boxes),
        ..Prepare::default()
    };
    let data = probe_examples_with(&config, &tok, &examples, &prepare);
    assert_eq!(data.len(), 16);
    let want: Vec<_> = data.iter().map(|e| e.dial.unwrap()).collect();
    // The best answer that ignores the image: the mean box.
    let mut mean = [0.0f32; 4];
    for d in &want {
        for (m, v) in mean.iter_mut().zip(d) {
            *m += v / 16.0;
        }
    }
    let blind = want.iter().map(|&d| iou(mean, d)).sum::<f32>() / 16.0;
    let settings = locating(locator, read_loss, 3);
    let on_squares = ProbeData {
        first: &[],
        train: &data,
        test: &data,
        also: &[],
    };
    // The untrained probe (its weights made), and the run from it.
    let start = train_probe::<Train>(
        &config,
        &on_squares,
        ProbeStart::Random,
        &ProbeSettings {
            steps: 0,
            ..settings.clone()
        },
        &Default::default(),
        |_| {},
    )
    .unwrap();
    let saved = SavedProbe {
        model: config.clone(),
        crops: data[0].input.crop_count(),
        minutes: true,
        centre_crop: None,
        dial_crop: None,
        turned: None,
        settings: settings.clone(),
    };
    let mut last = serde_json::Value::Null;
    let probe = train_probe::<Train>(
        &config,
        &on_squares,
        ProbeStart::Probe(start.clone(), saved),
        &settings,
        &Default::default(),
        |l| last = l,
    )
    .unwrap()
    .valid();
    let hour_head_moved = flat(&probe.head) != flat(&start.head);
    let minute_head_moved = flat(probe.minute_head.as_ref().expect("a minute head"))
        != flat(start.minute_head.as_ref().expect("a minute head"));
    assert_eq!(
        (hour_head_moved, minute_head_moved),
        (read_loss > 0.0, read_loss > 0.0),
        "read_loss {read_loss}: the hour head moved: {hour_head_moved}, the minute head: {minute_head_moved}"
    );
    let located = score(&probe, &data, &Default::default()).dial_iou.unwrap();
    assert!(
        (last["test_dial_iou"].as_f64().unwrap() - located).abs() < 1e-9,
        "{last}"
    );
    assert!(
        located > 0.6 && located > f64::from(blind) + 0.3,
        "{locator:?}: located IoU {located:.3}; the image-blind mean box scores {blind:.3}"
    );
}

#[test]
fn cropping_to_a_box_puts_the_dial_in_the_middle_and_skips_rows_without_one() {
    let config = tiny_model();
    let tok = config.build_tokenizer().unwrap();
    let (examples, boxes) = squares();
    let mut crops = boxes.clone();
    crops.remove("sq5");
    let margin = 0.25;
    let prepare = Prepare {
        truth: Some(&boxes),
        crop: Some((&crops, margin)),
        ..Prepare::default()
    };
    let data = probe_examples_with(&config, &tok, &examples, &prepare);
    assert_eq!(data.len(), 15, "the row without a box is skipped");
    assert!(data.iter().all(|e| e.id != "sq5"));
    for e in &data {
        // A 10 px box with a quarter of it each side: a 15 px square, the box in its middle.
        assert_eq!(e.size, (15, 15), "{}", e.id);
        let d = e.dial.unwrap();
        let want = [0.5, 0.5, 10.0 / 15.0, 10.0 / 15.0];
        for (got, want) in d.iter().zip(want) {
            assert!((got - want).abs() < 0.04, "{}: {d:?}", e.id);
        }
    }
    assert!(
        (iou(
            dial_box([0.0, 0.0, 10.0, 10.0], 20, 20),
            [0.25, 0.25, 0.5, 0.5]
        ) - 1.0)
            .abs()
            < 1e-6
    );
    assert!((iou([0.25, 0.25, 0.5, 0.5], [0.5, 0.25, 0.5, 0.5]) - 1.0 / 3.0).abs() < 1e-6);
    assert_eq!(iou([0.1, 0.1, 0.1, 0.1], [0.9, 0.9, 0.1, 0.1]), 0.0);
}

/// A locator's speck of a box (an untrained one's) is cropped no smaller than the geometry's
/// least full side, so it makes as many crops as a dial-sized box and a probe can read both;
/// a box whose crop is already that large is cropped as before.
#[test]
fn a_speck_of_a_box_is_cropped_to_the_geometrys_full_tiling() {
    use pixmo_trainer::preprocess::tiling_for;
    let config = tiny_model();
    let tok = config.build_tokenizer().unwrap();
    let geometry = &config.vision;
    // `tiny`: 16 px between crops and 16 px of margins, so a square tiles 2×2 from 33 px.
    let least = least_full_side(geometry);
    let full = tiling_for(geometry, 4096, 4096);
    assert_eq!(least, 33);
    assert_eq!(tiling_for(geometry, least, least), full);
    assert_ne!(tiling_for(geometry, least - 1, least - 1), full);
    let (examples, mut boxes) = squares();
    boxes.insert("sq0".into(), [5.0, 5.0, 5.5, 5.5]);
    boxes.insert("sq1".into(), [f32::NAN, 3.0, 4.0, 3.0]);
    boxes.insert("sq2".into(), [0.0, 0.0, 32.0, 32.0]);
    let crop = |least| {
        probe_examples_with(
            &config,
            &tok,
            &examples[..3],
            &Prepare {
                crop: Some((&boxes, 0.25)),
                least,
                ..Prepare::default()
            },
        )
    };
    let (before, after) = (crop(0), crop(least));
    let crops = |data: &[pixmo_trainer::probe::ProbeExample]| -> Vec<usize> {
        data.iter().map(|e| e.input.crop_count()).collect()
    };
    assert_eq!(
        crops(&before),
        vec![2, 2, 5],
        "without a least side: 8 px specks tile 1×1"
    );
    assert_eq!(crops(&after), vec![5, 5, 5]);
    let sizes: Vec<_> = after.iter().map(|e| e.size).collect();
    assert_eq!(sizes, vec![(33, 33), (33, 33), (48, 48)]);
    assert_eq!(
        before[2].input.crops, after[2].input.crops,
        "a large crop is unchanged"
    );
}

#[test]
fn the_truth_file_is_read_by_row_id_and_a_bad_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        read_truth(dir.path()).unwrap().is_none(),
        "no file: no boxes"
    );
    let path = dir.path().join(TRUTH_FILE);
    std::fs::write(
        &path,
        concat!(
            r#"{"example_id":"a","truth":{"center":[5,5],"dial_box":[1,2,9,8],"hour_tip":[5,1]}}"#,
            "\n\n",
            r#"{"example_id":"b","truth":{"dial_box":[0,0,4,4]}}"#,
            "\n"
        ),
    )
    .unwrap();
    let boxes = read_truth(dir.path()).unwrap().unwrap();
    assert_eq!(boxes.len(), 2);
    assert_eq!(boxes["a"], [1.0, 2.0, 9.0, 8.0]);
    std::fs::write(&path, "{\"example_id\":\"a\",\"truth\":{}}\n").unwrap();
    let err = read_truth(dir.path()).unwrap_err().to_string();
    assert!(err.contains("line 1") && err.contains("dial_box"), "{err}");
}

/// A second locator trained on a first one's crops (here: the true boxes moved by up to
/// 3 px) refines its boxes: `locate_boxes` through those crops gives boxes in the whole
/// image's pixels, closer to the truth than the boxes it started from.
#[test]
fn a_locator_trained_on_crops_refines_boxes_in_the_whole_images_frame() {
    let _rng = backend_rng();
    let config = tiny_model();
    let tok = config.build_tokenizer().unwrap();
    let (examples, boxes) = squares();
    let coarse: HashMap<String, PixelBox> = boxes
        .iter()
        .map(|(id, b)| {
            let k: f32 = id[2..].parse().unwrap();
            let (dx, dy) = ((k * 7.0) % 5.0 - 2.0, (k * 3.0) % 5.0 - 2.0);
            let (dx, dy) = (1.5 * dx, 1.5 * dy);
            (id.clone(), [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy])
        })
        .collect();
    let through_coarse = Prepare {
        truth: Some(&boxes),
        crop: Some((&coarse, 0.5)),
        ..Prepare::default()
    };
    let data = probe_examples_with(&config, &tok, &examples, &through_coarse);
    assert_eq!(data.len(), 16);
    let settings = locating(Locator::Linear, 0.0, 4);
    let refiner = train_probe::<Train>(
        &config,
        &ProbeData {
            first: &[],
            train: &data,
            test: &data,
            also: &[],
        },
        ProbeStart::Random,
        &settings,
        &Default::default(),
        |_| {},
    )
    .unwrap()
    .valid();
    let refined = locate_boxes(
        &refiner,
        &config,
        &tok,
        &examples,
        &through_coarse,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(refined.len(), 16);
    let mean_iou = |found: &HashMap<String, PixelBox>| {
        boxes
            .iter()
            .map(|(id, b)| iou(dial_box(found[id], 32, 32), dial_box(*b, 32, 32)))
            .sum::<f32>()
            / 16.0
    };
    let (before, after) = (mean_iou(&coarse), mean_iou(&refined));
    assert!(
        after > 0.8 && after > before + 0.1,
        "IoU with the true boxes: {before:.3} before refining, {after:.3} after"
    );
}

/// The whole 32 px image as each row's dial box (the hands fill their images).
fn whole_boxes(turns: &HashMap<String, f32>) -> HashMap<String, PixelBox> {
    turns
        .keys()
        .map(|id| (id.clone(), [0.0, 0.0, 32.0, 32.0]))
        .collect()
}

/// Sixteen 32 px images, each a bright hand from the centre toward its own direction (16
/// directions, 22.5° apart, the first at `offset`), by row id with that direction: how far the
/// renderer turned each dial whose 12 the hand marks (degrees clockwise on screen).
fn hands(offset: f32) -> (Vec<Example>, HashMap<String, f32>) {
    let mut examples = Vec::new();
    let mut turns = HashMap::new();
    for i in 0..16u16 {
        let turn = wrap_degrees(offset + 22.5 * f32::from(i));
        let (sin, cos) = turn.to_radians().sin_cos();
        let image = png_from_fn(32, 32, |x, y| {
            #[allow(clippy::cast_precision_loss)]
            let (dx, dy) = (x as f32 + 0.5 - 16.0, y as f32 + 0.5 - 16.0);
            // Along the hand (up turned clockwise: (sin, -cos)) and across it.
            let (along, across) = (dx * sin - dy * cos, dx * cos + dy * sin);
            if (0.0..14.0).contains(&along) && across.abs() < 2.0 {
                [250, 240, 230]
            } else {
                [40, 60, 70]
            }
        });
        let id = format!("hand{offset}-{i}");
        turns.insert(id.clone(), turn);
        examples.push(clock(id, image, u32::from(i)));
    }
    (examples, turns)
}

/// A turn head trained alone on hands in sixteen directions tells how far hands in the sixteen
/// directions between them are turned far better than the image-blind guess (a constant turn
/// is 90° off on average over evenly spread turns), and the crops turned against what it
/// tells stand those hands upright: what is left of each turn is small, and a second look at
/// the turned pixels agrees.
#[test]
fn a_turn_head_tells_how_far_the_dial_is_turned_and_turning_against_it_stands_it_upright() {
    tells_turns(0);
}

/// The same with a turn head that picks one of sixteen arcs of the circle
/// (`TurnTeller::Bins`): the held-out hands lie between the training hands' directions, so
/// telling them takes more than naming a training hand's arc.
#[test]
fn a_turn_head_over_arcs_tells_turns_between_those_it_was_trained_on() {
    tells_turns(16);
}

/// A turn head (`turn_bins` arcs, 0: cosine and sine) trained on [`hands`] in sixteen
/// directions, checked on the sixteen between them; over arcs, read through views too
/// ([`views_of_a_teller`]).
fn tells_turns(turn_bins: usize) {
    let _rng = backend_rng();
    let config = tiny_model();
    let tok = config.build_tokenizer().unwrap();
    let (seen, seen_turns) = hands(0.0);
    let (examples, mut turns) = hands(11.25);
    turns.extend(seen_turns);
    let whole = whole_boxes(&turns);
    let cropped = Prepare {
        crop: Some((&whole, 0.0)),
        rotation: Some(&turns),
        ..Prepare::default()
    };
    let train = probe_examples_with(&config, &tok, &seen, &cropped);
    let data = probe_examples_with(&config, &tok, &examples, &cropped);
    assert_eq!((train.len(), data.len()), (16, 16));
    let settings = ProbeSettings {
        steps: 200,
        dial_loss: 0.0,
        turn_loss: 1.0,
        turn_bins,
        augment: Default::default(),
        hour_by_minute: false,
        hand_bins: 0,
        ..locating(Locator::Linear, 0.0, 5)
    };
    let on_hands = ProbeData {
        first: &[],
        train: &train,
        test: &data,
        also: &[],
    };
    let mut last = serde_json::Value::Null;
    let teller = train_probe::<Train>(
        &config,
        &on_hands,
        ProbeStart::Random,
        &settings,
        &Default::default(),
        |l| last = l,
    )
    .unwrap()
    .valid();
    let error = score(&teller, &data, &Default::default())
        .turn_error
        .unwrap();
    assert!(
        (last["test_turn_error"].as_f64().unwrap() - error).abs() < 1e-9,
        "{last}"
    );
    assert!(error < 30.0, "told turns are {error:.1}° off on average");
    eprintln!("{turn_bins} arcs: told turns {error:.1}° off");
    // Turn each crop against what the teller tells: the hands stand upright.
    let told = tell_turns(
        &teller,
        &config,
        &tok,
        &examples,
        &cropped,
        None,
        &Default::default(),
    )
    .unwrap();
    let upright = probe_examples_with(
        &config,
        &tok,
        &examples,
        &Prepare {
            turn: Some(&told),
            ..cropped
        },
    );
    let left: Vec<f32> = upright.iter().map(|e| e.turn.unwrap().abs()).collect();
    #[allow(clippy::cast_precision_loss)]
    let mean_left = left.iter().sum::<f32>() / left.len() as f32;
    assert!(
        mean_left < 30.0,
        "turned against the told turns, the hands are still {mean_left:.1}° off: {left:?}"
    );
    // And the pixels agree: looking again at the turned crops, the teller finds what is
    // left of each turn (a crop turned the wrong way would show twice the turn).
    let again = score(&teller, &upright, &Default::default())
        .turn_error
        .unwrap();
    assert!(
        again < 30.0,
        "the turned crops look {again:.1}° off from what their turns say"
    );
    if turn_bins > 0 {
        views_of_a_teller(&teller, &config, &tok, &examples, &cropped);
    }
}

/// A teller over arcs read through views ([`Views`]) tells each turn from the mean of its
/// arcs' probabilities over the views `Views::draw_turned` gives (the clock as it is first),
/// each view's arcs turned back by the turn drawn for it ([`arcs_turned_back`]); turned a
/// quarter at a time (`spins` 4), the hands are told as well as they are as they are (arcs
/// turned back the wrong way would tell two of the four views half a turn off).
fn views_of_a_teller(
    teller: &HourProbe<burn::backend::NdArray>,
    config: &pixmo_trainer::config::ModelConfig,
    tok: &pixmo_trainer::tokenizer::Tokenizer,
    examples: &[Example],
    cropped: &Prepare<'_>,
) {
    let data = probe_examples_with(
        config,
        tok,
        examples,
        &Prepare {
            keep: true,
            ..*cropped
        },
    );
    let sizes: Vec<_> = data.iter().map(|e| e.size).collect();
    let turns = |probe: &HourProbe<burn::backend::NdArray>| -> Vec<f32> {
        read_clocks(probe, &data, &Default::default())
            .iter()
            .map(|r| r.turn.unwrap())
            .collect()
    };
    // What the views' turned-back arcs' mean tells, worked out here.
    let mean_of = |views: &Views| -> Vec<f32> {
        let mut mean = vec![0.0f32; data.len() * 16];
        for v in 0..views.count {
            let (drawn, turned) = views.draw_turned(&data, 0, v);
            let inputs: Vec<_> = drawn.iter().collect();
            let turn = teller
                .forward_all(&inputs, &sizes, &Default::default())
                .turn
                .unwrap();
            let arcs = softmax_rows(turn);
            for ((m, p), t) in mean.chunks_mut(16).zip(arcs.chunks(16)).zip(&turned) {
                for (m, p) in m.iter_mut().zip(arcs_turned_back(p, *t)) {
                    *m += p;
                }
            }
        }
        mean.chunks(16)
            .map(|p| turn_of_arcs(&p.iter().map(|x| x.ln()).collect::<Vec<_>>()))
            .collect()
    };
    let plain = turns(teller);
    let views = Views {
        augment: Augment {
            turn: 0.0,
            scale: 0.1,
            shift: 0.05,
            colour: 0.2,
        },
        count: 3,
        spins: 1,
        seed: 1,
        vision: config.vision.clone(),
    };
    let turned = Views {
        augment: Augment {
            turn: 10.0,
            ..views.augment
        },
        ..views.clone()
    };
    let spun = Views {
        augment: Augment::default(),
        count: 4,
        spins: 4,
        ..views.clone()
    };
    for views in [&views, &turned, &spun] {
        let want = mean_of(views);
        let told = turns(&teller.clone().with_views(Some(views.clone())));
        for (t, w) in told.iter().zip(&want) {
            assert!(
                wrap_degrees(t - w).abs() < 1e-3,
                "told {told:?}, the views' mean {want:?}"
            );
        }
        assert!(
            told.iter()
                .zip(&plain)
                .any(|(t, p)| wrap_degrees(t - p).abs() > 0.1),
            "the views changed no turn: {told:?}"
        );
    }
    // The views drawn for the spun teller are turned by 0°, 90°, 180° and 270°.
    for v in 0..4 {
        let (_, turned) = spun.draw_turned(&data, 0, v);
        #[allow(clippy::cast_precision_loss)]
        let spin = v as f32 * 90.0;
        assert!(turned.iter().all(|&t| t == spin), "view {v}: {turned:?}");
    }
    let off = |told: &[f32]| -> f32 {
        #[allow(clippy::cast_precision_loss)]
        let n = data.len() as f32;
        told.iter()
            .zip(&data)
            .map(|(t, e)| wrap_degrees(t - e.turn.unwrap()).abs())
            .sum::<f32>()
            / n
    };
    let (alone, spun_off) = (
        off(&plain),
        off(&turns(&teller.clone().with_views(Some(spun)))),
    );
    eprintln!("told as they are {alone:.1}° off, through four quarter turns {spun_off:.1}°");
    assert!(
        spun_off < alone + 10.0 && spun_off < 30.0,
        "through four quarter turns the told turns are {spun_off:.1}° off (as they are {alone:.1}°)"
    );
}

/// A prior over the arcs (`--turn-prior`) reaches the told turns: an untrained teller over
/// sixteen arcs, unsure of every hand, tells every hand in the arc a peaked prior favours
/// (none of them there without it), the same with an even prior as with none, and a prior
/// of another length is refused.
#[test]
fn a_prior_over_arcs_weighs_what_an_unsure_teller_tells() {
    let _rng = backend_rng();
    let config = tiny_model();
    let tok = config.build_tokenizer().unwrap();
    let (examples, turns) = hands(0.0);
    let whole = whole_boxes(&turns);
    let cropped = Prepare {
        crop: Some((&whole, 0.0)),
        ..Prepare::default()
    };
    let crops = probe_examples_with(&config, &tok, &examples, &cropped)[0]
        .input
        .crop_count();
    let device = Default::default();
    let teller = HourProbe::<Train>::with_dial(
        &config,
        crops,
        false,
        Readout::Concat,
        None,
        Some(TurnTeller::Bins(16)),
        &device,
    );
    let tell = |prior: Option<&[f32]>| {
        tell_turns(&teller, &config, &tok, &examples, &cropped, prior, &device)
    };
    let plain = tell(None).unwrap();
    assert!(
        plain
            .values()
            .all(|&t| turn_arc(t, 16) != turn_arc(100.0, 16)),
        "the untrained teller already tells the arc of 100°: {plain:?}"
    );
    let even = turn_prior((0..1600u16).map(|i| wrap_degrees(0.225 * f32::from(i))), 16);
    let evened = tell(Some(&even)).unwrap();
    for (id, t) in &plain {
        assert!(
            wrap_degrees(evened[id] - t).abs() < 0.5,
            "{id}: {t} then {}",
            evened[id]
        );
    }
    let peaked = turn_prior(std::iter::repeat_n(100.0, 10_000), 16);
    let weighed = tell(Some(&peaked)).unwrap();
    assert!(
        weighed
            .values()
            .all(|&t| turn_arc(t, 16) == turn_arc(100.0, 16)),
        "{weighed:?}"
    );
    assert!(tell(Some(&peaked[..12])).is_err());
}
