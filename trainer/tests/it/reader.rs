//! A reader's training and reading options. Per-step augmentation of its training clocks
//! (`ProbeSettings::augment`): each draw of a clock into a batch sees it changed afresh, the
//! same way under the same seed; a run without it is the run it always was; locators,
//! tellers and clocks prepared without their image are refused with the reason. The hour
//! read with the minute (`ProbeSettings::hour_by_minute`): what `read_clocks` gives is
//! `hour_by_minute` of the heads' outputs, and the trained probe keeps reading that way. The
//! time read jointly (`ProbeSettings::joint`): what `read_clocks` gives is `read_time` of
//! the heads' probabilities it reports. Several views of each clock (`ProbeSettings::views`):
//! the probabilities reported are their mean, and the time is read from it.

use burn::module::AutodiffModule;
use pixmo_annotation_schema::Dataset;
use pixmo_trainer::augment::Augment;
use pixmo_trainer::data::{EvalTarget, Example};
use pixmo_trainer::error::Error;
use pixmo_trainer::preprocess::ImageInput;
use pixmo_trainer::probe::{
    HourProbe, Prepare, ProbeData, ProbeExample, ProbeSettings, ProbeStart, hand_arc,
    hour_by_minute, probe_examples_with, read_clocks, read_time, train_probe,
};

use crate::common::{
    Train, backend_rng, flat, max_abs_diff, png_from_fn, softmax_rows, tiny_model,
};

/// Twelve 32 px clocks, a bright hand from the centre towards its hour, labelled a quarter
/// past (even hours) or a quarter to (odd): the minute moves the hour hand's arc (5 h + 1 or
/// 5 h + 3 of 60), so a hand head trained on a target that dropped the minute misses it.
fn hands(keep: bool) -> Vec<ProbeExample> {
    let examples: Vec<Example> = (0..12u32)
        .map(|h| {
            let angle = f64::from(h) * std::f64::consts::TAU / 12.0;
            let (s, c) = angle.sin_cos();
            let image = png_from_fn(32, 32, |x, y| {
                let (dx, dy) = (f64::from(x) - 15.5, 15.5 - f64::from(y));
                let along = dx * s + dy * c;
                let across = (dx * c - dy * s).abs();
                if (0.0..13.0).contains(&along) && across < 1.5 {
                    [240, 230, 220]
                } else {
                    [30, 40, u8::try_from(50 + x).unwrap_or(80)]
                }
            });
            Example {
                id: format!("h{h}"),
                dataset: Dataset::Clocks,
                image,
                tasks: Vec::new(),
                transcripts: Vec::new(),
                target: EvalTarget::Clock {
                    text: format!(
                        "{}:{}",
                        if h == 0 { 12 } else { h },
                        if h % 2 == 0 { 15 } else { 45 }
                    ),
                    shows_seconds: false,
                },
            }
        })
        .collect();
    let config = tiny_model();
    let tok = config.build_tokenizer().unwrap();
    let prepare = Prepare {
        keep,
        ..Prepare::default()
    };
    probe_examples_with(&config, &tok, &examples, &prepare)
}

/// A few steps of an hour reader under `augment`.
fn reading(augment: Augment) -> ProbeSettings {
    ProbeSettings {
        steps: 4,
        batch: 6,
        lr: 3e-3,
        seed: 5,
        eval_every: 0,
        augment,
        ..ProbeSettings::default()
    }
}

/// A probe trained as `settings` say on `clocks` (held out: the same clocks).
fn train_on(clocks: &[ProbeExample], settings: &ProbeSettings) -> Result<HourProbe<Train>, Error> {
    let data = ProbeData {
        first: &[],
        train: clocks,
        test: clocks,
        also: &[],
    };
    train_probe::<Train>(
        &tiny_model(),
        &data,
        ProbeStart::Random,
        settings,
        &Default::default(),
        |_| {},
    )
}

/// The trained probe's weights, flat, after [`reading`] under `augment` on `clocks`.
fn trained(clocks: &[ProbeExample], augment: Augment) -> Result<Vec<f32>, Error> {
    Ok(flat(&train_on(clocks, &reading(augment))?.valid()))
}

/// Kept images change nothing by themselves; an augmentation changes what is learnt (the
/// batches' images are the augmented ones), the same way each time under one seed; and each
/// part of it (turn, scale, move, colour) changes it on its own.
#[test]
fn augmentation_changes_what_a_reader_learns_and_the_same_way_under_one_seed() {
    let _rng = backend_rng();
    let plain = hands(false);
    let kept = hands(true);
    assert!(kept.iter().all(|e| e.kept.is_some()));
    assert!(plain.iter().all(|e| e.kept.is_none()));
    let none = trained(&plain, Augment::default()).unwrap();
    assert_eq!(
        max_abs_diff(&none, &trained(&kept, Augment::default()).unwrap()),
        0.0
    );
    let some = Augment {
        turn: 15.0,
        scale: 0.1,
        shift: 0.05,
        colour: 0.3,
    };
    let a = trained(&kept, some).unwrap();
    assert_eq!(
        max_abs_diff(&a, &trained(&kept, some).unwrap()),
        0.0,
        "one seed, one run"
    );
    assert!(
        max_abs_diff(&a, &none) > 1e-4,
        "augmented batches change the run"
    );
    for part in [
        Augment {
            turn: 15.0,
            ..Augment::default()
        },
        Augment {
            scale: 0.1,
            ..Augment::default()
        },
        Augment {
            shift: 0.05,
            ..Augment::default()
        },
        Augment {
            colour: 0.3,
            ..Augment::default()
        },
    ] {
        let alone = trained(&kept, part).unwrap();
        assert!(
            max_abs_diff(&alone, &none) > 1e-4,
            "{part:?} changes nothing"
        );
        assert!(
            max_abs_diff(&alone, &a) > 1e-4,
            "{part:?} is the whole augmentation"
        );
    }
}

#[test]
fn augmentation_is_refused_for_locators_tellers_bad_bounds_and_clocks_without_their_image() {
    let _rng = backend_rng();
    let some = Augment {
        turn: 10.0,
        ..Augment::default()
    };
    let why = |r: Result<HourProbe<Train>, Error>| match r {
        Err(Error::Config(why)) => why,
        other => panic!("not refused: {:?}", other.map(|p| p.hand_bins())),
    };
    let bare = why(train_on(&hands(false), &reading(some)));
    assert!(bare.contains("letterboxed image"), "{bare}");
    let too_far = Augment {
        scale: 2.0,
        ..Augment::default()
    };
    let bad = why(train_on(&hands(true), &reading(too_far)));
    assert!(bad.contains("scale"), "{bad}");
    let kept = hands(true);
    for settings in [
        ProbeSettings {
            dial_loss: 1.0,
            ..reading(some)
        },
        ProbeSettings {
            turn_loss: 1.0,
            ..reading(some)
        },
    ] {
        let locator_or_teller = why(train_on(&kept, &settings));
        assert!(
            locator_or_teller.contains("for readers"),
            "{locator_or_teller}"
        );
    }
}

/// Which head's output an hour is read from, and how.
#[derive(Clone, Copy, PartialEq)]
enum From {
    /// The hour head's argmax.
    HourHead,
    /// [`hour_by_minute`] of the hour head's probabilities and the minute head's argmax.
    HourHeadAndMinute,
    /// [`hour_by_minute`] of the hand head's probabilities and the minute head's argmax.
    HandHeadAndMinute,
}

/// The hours `probe` reads from `clocks`, worked out from its heads' outputs as `from` says.
fn hours_by_hand<B: burn::tensor::backend::Backend>(
    probe: &HourProbe<B>,
    clocks: &[ProbeExample],
    from: From,
) -> Vec<i64> {
    let inputs: Vec<&ImageInput> = clocks.iter().map(|e| &e.input).collect();
    let sizes: Vec<_> = clocks.iter().map(|e| e.size).collect();
    let heads = probe.forward_all(&inputs, &sizes, &Default::default());
    let rows = |t: burn::tensor::Tensor<B, 2>, n: usize| -> Vec<Vec<f32>> {
        let v: Vec<f32> = t.into_data().convert::<f32>().to_vec().unwrap();
        v.chunks(n).map(<[f32]>::to_vec).collect()
    };
    let argmax = |r: &[f32]| {
        (0..r.len())
            .max_by(|&a, &b| r[a].total_cmp(&r[b]).then(b.cmp(&a)))
            .unwrap()
    };
    let arcs = match from {
        From::HandHeadAndMinute => heads.hand.expect("a hand head"),
        _ => heads.hours,
    };
    let n = arcs.dims()[1];
    let probs = rows(burn::tensor::activation::softmax(arcs, 1), n);
    let minutes = rows(heads.minutes.expect("a minute head"), 60);
    probs
        .iter()
        .zip(&minutes)
        .map(|(p, m)| {
            let hour = match from {
                From::HourHead => argmax(p),
                _ => hour_by_minute(p, argmax(m)),
            };
            i64::try_from(hour).unwrap()
        })
        .collect()
}

#[test]
fn a_reader_reads_the_hour_with_the_minute_when_asked_and_keeps_doing_so() {
    let _rng = backend_rng();
    let clocks = hands(false);
    let settings = ProbeSettings {
        minutes: true,
        hour_by_minute: true,
        ..reading(Augment::default())
    };
    let trained = train_on(&clocks, &settings).unwrap().valid();
    let read: Vec<i64> = read_clocks(&trained, &clocks, &Default::default())
        .iter()
        .map(|r| r.hour)
        .collect();
    assert_eq!(
        read,
        hours_by_hand(&trained, &clocks, From::HourHeadAndMinute)
    );
    // The two ways read some clock differently, so the check above tells them apart.
    assert_ne!(read, hours_by_hand(&trained, &clocks, From::HourHead));
    let plain = trained.with_hour_by_minute(false);
    let read_plain: Vec<i64> = read_clocks(&plain, &clocks, &Default::default())
        .iter()
        .map(|r| r.hour)
        .collect();
    assert_eq!(read_plain, hours_by_hand(&plain, &clocks, From::HourHead));
    // Without a minute head the run is refused with the reason.
    let got = train_on(
        &clocks,
        &ProbeSettings {
            minutes: false,
            ..settings
        },
    );
    assert!(
        matches!(&got, Err(Error::Config(why)) if why.contains("reads minutes")),
        "not refused"
    );
}

/// A hand head (`hand_bins`) trains beside the hour head on the arc the hour and minute fix,
/// and the hour is read from it.
#[test]
fn a_hand_head_trains_on_the_hands_arc_and_the_hour_is_read_from_it() {
    let _rng = backend_rng();
    let clocks = hands(false);
    let settings = ProbeSettings {
        minutes: true,
        hour_by_minute: true,
        hand_bins: 60,
        ..reading(Augment::default())
    };
    let trained = train_on(&clocks, &settings).unwrap().valid();
    assert_eq!(trained.hand_bins(), 60);
    let read: Vec<i64> = read_clocks(&trained, &clocks, &Default::default())
        .iter()
        .map(|r| r.hour)
        .collect();
    assert_eq!(
        read,
        hours_by_hand(&trained, &clocks, From::HandHeadAndMinute)
    );
    // Read from the hour head instead, some clock reads otherwise: the check above tells
    // the hand head from the hour head.
    assert_ne!(
        read,
        hours_by_hand(&trained, &clocks, From::HourHeadAndMinute)
    );
    // The hand head learns: trained longer, its cross-entropy on the hands' arcs falls well
    // below a uniform guess's (a zero weight on its loss leaves it there).
    let longer = ProbeSettings {
        steps: 40,
        ..settings.clone()
    };
    let learnt = train_on(&clocks, &longer).unwrap().valid();
    let inputs: Vec<&ImageInput> = clocks.iter().map(|e| &e.input).collect();
    let sizes: Vec<_> = clocks.iter().map(|e| e.size).collect();
    let hand = learnt
        .forward_all(&inputs, &sizes, &Default::default())
        .hand
        .expect("a hand head");
    let logp: Vec<f32> = burn::tensor::activation::log_softmax(hand, 1)
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap();
    #[allow(clippy::cast_precision_loss)]
    let ce = -clocks
        .iter()
        .enumerate()
        .map(|(i, e)| logp[60 * i + hand_arc(e.hour, e.minute, 60)])
        .sum::<f32>()
        / clocks.len() as f32;
    assert!(ce < 60f32.ln() - 1.0, "the hand head's cross-entropy {ce}");
    for bad in [3, 721] {
        let got = train_on(
            &clocks,
            &ProbeSettings {
                hand_bins: bad,
                ..settings.clone()
            },
        );
        assert!(
            matches!(&got, Err(Error::Config(why)) if why.contains("4 to 720")),
            "{bad} arcs not refused"
        );
    }
}

/// A reader asked to read the hour and minute together (`ProbeSettings::joint`) reads, for
/// each clock, the time `read_time` finds in the heads' probabilities it reports with the
/// reading (the hand head's and the minute head's softmax), and keeps reading that way once
/// trained; without a minute head, or with a discount below 0, it is refused.
#[test]
fn a_reader_reads_the_time_jointly_when_asked() {
    let _rng = backend_rng();
    let clocks = hands(false);
    let settings = ProbeSettings {
        minutes: true,
        hand_bins: 60,
        joint: Some(0.5),
        // No steps: heads as unsure as they start, so the two ways of reading below differ
        // (trained on these clocks, every minute head is sure of :15 or :45 and they agree).
        steps: 0,
        ..reading(Augment::default())
    };
    let trained = train_on(&clocks, &settings).unwrap().valid();
    // The probabilities reported are the heads' softmax.
    let inputs: Vec<&ImageInput> = clocks.iter().map(|e| &e.input).collect();
    let sizes: Vec<_> = clocks.iter().map(|e| e.size).collect();
    let heads = trained.forward_all(&inputs, &sizes, &Default::default());
    let (hand, minutes) = (
        softmax_rows(heads.hand.expect("a hand head")),
        softmax_rows(heads.minutes.expect("a minute head")),
    );
    let read = read_clocks(&trained, &clocks, &Default::default());
    let reported: Vec<f32> = read.iter().flat_map(|r| r.hand_p.clone()).collect();
    assert!(max_abs_diff(&reported, &hand) < 1e-6);
    let reported: Vec<f32> = read.iter().flat_map(|r| r.minute_p.clone()).collect();
    assert!(max_abs_diff(&reported, &minutes) < 1e-6);
    // Each time read is what `read_time` makes of them, the minute included.
    let times: Vec<(i64, Option<i64>)> = read.iter().map(|r| (r.hour, r.minute)).collect();
    let jointly: Vec<(i64, Option<i64>)> = read
        .iter()
        .map(|r| {
            let (h, m) = read_time(&r.hand_p, &r.minute_p, 0.5);
            (i64::try_from(h).unwrap(), Some(i64::try_from(m).unwrap()))
        })
        .collect();
    assert_eq!(times, jointly);
    // Read the other way (the minute head's argmax, then the hour from the hand head), some
    // clock reads otherwise: the check above tells the two apart.
    let apart = trained.clone().with_joint(None).with_hour_by_minute(true);
    let by_minute: Vec<(i64, Option<i64>)> = read_clocks(&apart, &clocks, &Default::default())
        .iter()
        .map(|r| (r.hour, r.minute))
        .collect();
    assert_ne!(times, by_minute);
    for bad in [
        ProbeSettings {
            minutes: false,
            hand_bins: 0,
            ..settings.clone()
        },
        ProbeSettings {
            joint: Some(-1.0),
            ..settings.clone()
        },
        ProbeSettings {
            joint: Some(f32::NAN),
            ..settings.clone()
        },
    ] {
        let got = train_on(&clocks, &bad);
        assert!(
            matches!(&got, Err(Error::Config(why)) if why.contains("read together")),
            "{:?} not refused",
            bad.joint
        );
    }
}

/// A reader asked to read each clock several ways (`ProbeSettings::views`) reports the
/// mean of its heads' probabilities over the views `Views::draw` gives (the clock as it is
/// first), reads its time from that mean, and reads the same again under the same seed; one
/// view reads as the plain reader; several without an augmentation to draw them by are
/// refused.
#[test]
fn a_reader_reads_each_clock_several_ways_when_asked() {
    let _rng = backend_rng();
    let clocks = hands(true);
    let augment = Augment {
        turn: 10.0,
        scale: 0.1,
        shift: 0.05,
        colour: 0.2,
    };
    let settings = ProbeSettings {
        minutes: true,
        hand_bins: 60,
        hour_by_minute: true,
        views: 3,
        ..reading(augment)
    };
    let trained = train_on(&clocks, &settings).unwrap().valid();
    let read = read_clocks(&trained, &clocks, &Default::default());
    // The mean of the heads' softmax over the three views, worked out here.
    let views = pixmo_trainer::probe::Views {
        augment,
        count: 3,
        spins: 1,
        seed: settings.seed,
        vision: tiny_model().vision,
    };
    let sizes: Vec<_> = clocks.iter().map(|e| e.size).collect();
    let (mut hand, mut minutes) = (vec![0.0f32; 12 * 60], vec![0.0f32; 12 * 60]);
    for v in 0..3 {
        let drawn = views.draw(&clocks, 0, v);
        let inputs: Vec<&ImageInput> = drawn.iter().collect();
        let heads = trained.forward_all(&inputs, &sizes, &Default::default());
        for (sum, t) in [
            (&mut hand, heads.hand.unwrap()),
            (&mut minutes, heads.minutes.unwrap()),
        ] {
            for (s, p) in sum.iter_mut().zip(softmax_rows(t)) {
                *s += p / 3.0;
            }
        }
    }
    let reported: Vec<f32> = read.iter().flat_map(|r| r.hand_p.clone()).collect();
    assert!(max_abs_diff(&reported, &hand) < 1e-5);
    let reported: Vec<f32> = read.iter().flat_map(|r| r.minute_p.clone()).collect();
    assert!(max_abs_diff(&reported, &minutes) < 1e-5);
    // The plain view alone reports otherwise: the views count.
    let plain = trained.clone().with_views(None);
    let alone = read_clocks(&plain, &clocks, &Default::default());
    let alone: Vec<f32> = alone.iter().flat_map(|r| r.hand_p.clone()).collect();
    assert!(max_abs_diff(&alone, &hand) > 1e-4);
    // The time is read from the mean (here the hour by the minute).
    for r in &read {
        let likeliest = (0..60).fold(0, |b, i| if r.minute_p[i] > r.minute_p[b] { i } else { b });
        assert_eq!(r.minute, Some(i64::try_from(likeliest).unwrap()));
        assert_eq!(
            r.hour,
            i64::try_from(hour_by_minute(&r.hand_p, likeliest)).unwrap()
        );
    }
    // Read again: the same; one view: as the plain reader.
    assert_eq!(read, read_clocks(&trained, &clocks, &Default::default()));
    let one = trained
        .clone()
        .with_views(Some(pixmo_trainer::probe::Views { count: 1, ..views }));
    assert_eq!(
        read_clocks(&one, &clocks, &Default::default()),
        read_clocks(&plain, &clocks, &Default::default())
    );
    let got = train_on(
        &clocks,
        &ProbeSettings {
            augment: Augment::default(),
            ..settings
        },
    );
    assert!(
        matches!(&got, Err(Error::Config(why)) if why.contains("views")),
        "not refused"
    );
}
