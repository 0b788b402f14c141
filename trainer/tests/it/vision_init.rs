//! The vision probe as a supervised pre-training stage: it learns hours and minutes, and a
//! saved probe's ViT and connector start a model (`finetune --init-vision`).

use burn::module::AutodiffModule;
use pixmo_annotation_schema::Dataset;
use pixmo_trainer::config::ModelConfig;
use pixmo_trainer::data::{EvalTarget, Example};
use pixmo_trainer::model::Molmo;
use pixmo_trainer::probe::{
    ATTENTION_QUERIES, HourProbe, Locator, ProbeData, ProbeExample, ProbeSettings, ProbeStart,
    Readout, SavedProbe, load_probe, load_vision, probe_examples, read_clocks, save_vision, score,
    train_probe,
};

use crate::common::{Cpu, Train, backend_rng, flat, png_from_fn, tiny_model};

/// Eight 32 px images, each its own colour and bar position, each with its own time.
fn timed_examples() -> Vec<Example> {
    let times = [
        "1:05", "2:17", "3:29", "4:41", "7:53", "9:00", "11:36", "12:48",
    ];
    times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let k = u32::try_from(i).unwrap();
            let image = png_from_fn(32, 32, |x, y| {
                if x / 4 == k {
                    [250, 250, 250]
                } else {
                    [
                        u8::try_from(30 * k).unwrap(),
                        90,
                        u8::try_from(y * 7).unwrap(),
                    ]
                }
            });
            Example {
                id: format!("clock{i}"),
                dataset: Dataset::Clocks,
                image,
                tasks: Vec::new(),
                transcripts: Vec::new(),
                target: EvalTarget::Clock {
                    text: (*t).to_string(),
                    shows_seconds: false,
                },
            }
        })
        .collect()
}

/// Trains on `examples` and scores them (and the `also` sets).
fn on_examples<'a>(
    examples: &'a [ProbeExample],
    also: &'a [(String, Vec<ProbeExample>)],
) -> ProbeData<'a> {
    ProbeData {
        first: &[],
        train: examples,
        test: examples,
        also,
    }
}

/// [`timed_examples`] as the probe reads them.
fn timed(config: &ModelConfig) -> Vec<ProbeExample> {
    let tok = config.build_tokenizer().unwrap();
    probe_examples(config, &tok, &timed_examples(), None)
}

/// A probe trained from a random init on `examples` (and scored on them), and its last report.
fn trained(
    config: &ModelConfig,
    examples: &[ProbeExample],
    settings: &ProbeSettings,
) -> (HourProbe<Cpu>, serde_json::Value) {
    let mut last = serde_json::Value::Null;
    let probe = train_probe::<Train>(
        config,
        &on_examples(examples, &[]),
        ProbeStart::Random,
        settings,
        &Default::default(),
        |l| last = l,
    )
    .unwrap();
    (probe.valid(), last)
}

/// Settings under which a probe with a minute head learns the eight timed images.
fn learns_times(readout: Readout) -> ProbeSettings {
    ProbeSettings {
        steps: 80,
        batch: 8,
        lr: 3e-3,
        lr_end: None,
        seed: 1,
        eval_every: 0,
        first_steps: 0,
        gradual: false,
        minutes: true,
        readout,
        dial_loss: 0.0,
        locator: Locator::Linear,
        read_loss: 1.0,
        turn_loss: 0.0,
        turn_bins: 0,
        augment: Default::default(),
        hour_by_minute: false,
        hand_bins: 0,
        joint: None,
        views: 0,
    }
}

/// What `save_vision` records for a probe with a minute head trained on `examples`.
fn saved_with_minutes(
    config: &ModelConfig,
    examples: &[ProbeExample],
    settings: ProbeSettings,
) -> SavedProbe {
    SavedProbe {
        model: config.clone(),
        crops: examples[0].input.crop_count(),
        minutes: true,
        centre_crop: None,
        dial_crop: None,
        turned: None,
        settings,
    }
}

#[test]
fn a_probe_with_a_minute_head_learns_times_and_starts_a_models_vision_side() {
    let _rng = backend_rng();
    let config = tiny_model();
    let examples = timed(&config);
    assert_eq!(examples.len(), 8);
    assert_eq!((examples[1].hour, examples[1].minute), (2, 17));
    assert_eq!((examples[7].hour, examples[7].minute), (0, 48));
    let settings = learns_times(Readout::Concat);
    let device = Default::default();
    let mut last = serde_json::Value::Null;
    // A second held-out set with every hour moved by 6: read right, it scores 0.
    let mut moved = examples.clone();
    for e in &mut moved {
        e.hour = (e.hour + 6) % 12;
    }
    let also = [("moved".to_string(), moved)];
    let probe = train_probe::<Train>(
        &config,
        &on_examples(&examples, &also),
        ProbeStart::Random,
        &settings,
        &device,
        |l| last = l,
    )
    .unwrap();
    // Eight distinct images, eight times: the probe reads every one within 3 minutes (hour
    // and minute heads together); an untrained probe reads at most a lucky one.
    let valid = probe.valid();
    let read = score(&valid, &examples, &device);
    assert_eq!((read.hour, read.close), (1.0, Some(1.0)), "{last}");
    assert_eq!(last["test_acc"], 1.0, "{last}");
    assert_eq!(last["test_close"], 1.0, "{last}");
    assert_eq!(last["also"]["moved"]["acc"], 0.0, "{last}");
    assert_eq!(last["also"]["moved"]["close"], 0.0, "{last}");
    // How sure a reading is (`Reading::sure`, what `--turn-candidates` weighs) is the
    // log-probability of the hour read plus the minute's, worked here from the heads' logits.
    let sure_by_hand = |probe: &HourProbe<Cpu>| -> Vec<f32> {
        let inputs: Vec<_> = examples.iter().map(|e| &e.input).collect();
        let sizes: Vec<_> = examples.iter().map(|e| e.size).collect();
        let heads = probe.forward_all(&inputs, &sizes, &device);
        let rows = |t: burn::tensor::Tensor<Cpu, 2>, n: usize| -> Vec<f32> {
            let v: Vec<f32> = t.into_data().convert::<f32>().to_vec().unwrap();
            v.chunks(n)
                .map(|r| {
                    let top = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    -r.iter().map(|l| (l - top).exp()).sum::<f32>().ln()
                })
                .collect()
        };
        let hours = rows(heads.hours, 12);
        let minutes = rows(heads.minutes.unwrap(), 60);
        hours.iter().zip(minutes).map(|(h, m)| h + m).collect()
    };
    let sure = |probe: &HourProbe<Cpu>| -> Vec<f32> {
        read_clocks(probe, &examples, &device)
            .iter()
            .map(|r| r.sure)
            .collect()
    };
    let fresh_probe = trained(
        &config,
        &examples,
        &ProbeSettings {
            steps: 0,
            ..settings.clone()
        },
    )
    .0;
    for p in [&valid, &fresh_probe] {
        let (read, worked) = (sure(p), sure_by_hand(p));
        assert_eq!(read.len(), 8);
        for (r, w) in read.iter().zip(&worked) {
            assert!((r - w).abs() < 1e-4, "{read:?} against {worked:?}");
        }
    }
    // A probe that reads every clock is surer than one that reads by chance (12 × 60 ways:
    // about -6.6 each).
    let mean = |v: Vec<f32>| v.iter().sum::<f32>() / 8.0;
    let (taught, untaught) = (mean(sure(&valid)), mean(sure(&fresh_probe)));
    assert!(
        untaught < -5.0 && taught > untaught + 2.0,
        "{taught} against {untaught}"
    );

    let dir = tempfile::tempdir().unwrap();
    let saved = saved_with_minutes(&config, &examples, settings.clone());
    save_vision(&valid, &saved, dir.path()).unwrap();

    // A curriculum's next phase starts from the saved probe: two more steps at a tiny LR
    // leave it reading every clock, where the same two steps from a random init read
    // (almost) none.
    let next = ProbeSettings {
        steps: 2,
        lr: 1e-6,
        lr_end: None,
        ..settings.clone()
    };
    let run = |start, settings: &ProbeSettings| {
        let mut last = serde_json::Value::Null;
        train_probe::<Train>(
            &config,
            &on_examples(&examples, &[]),
            start,
            settings,
            &device,
            |l| last = l,
        )
        .map(|_| last)
    };
    let saved_probe = || {
        let (probe, saved) = load_probe::<Train>(dir.path(), &config, &device).unwrap();
        ProbeStart::Probe(probe, saved)
    };
    let continued = run(saved_probe(), &next).unwrap();
    assert_eq!(continued["test_close"], 1.0, "{continued}");
    let fresh = run(ProbeStart::Random, &next).unwrap();
    assert!(fresh["test_close"].as_f64().unwrap() <= 0.25, "{fresh}");
    // A probe with a minute head cannot continue as one without.
    let hours_only = ProbeSettings {
        minutes: false,
        ..next.clone()
    };
    let err = run(saved_probe(), &hours_only).unwrap_err().to_string();
    assert!(err.contains("the starting probe reads"), "{err}");
    // Its vision side under fresh heads of another readout: the ViT and connector are the
    // saved ones, the heads are the attention readout's.
    let (vit, connector) = load_vision::<Train>(dir.path(), &config, &device).unwrap();
    let other = train_probe::<Train>(
        &config,
        &on_examples(&examples, &[]),
        ProbeStart::Vision(vit, connector),
        &ProbeSettings {
            steps: 0,
            ..learns_times(Readout::Attention)
        },
        &device,
        |_| {},
    )
    .unwrap()
    .valid();
    assert_eq!(other.readout(), Readout::Attention);
    assert_eq!(flat(&other.vit), flat(&valid.vit));
    assert_eq!(flat(&other.connector), flat(&valid.connector));

    let (vit, connector) = load_vision::<Cpu>(dir.path(), &config, &device).unwrap();
    assert_eq!(flat(&vit), flat(&valid.vit));
    assert_eq!(flat(&connector), flat(&valid.connector));
    // A fresh model's vision side is something else; with the probe's it is the probe's.
    let mut model = Molmo::<Cpu>::new(&config, &device);
    assert_ne!(flat(&model.vit), flat(&valid.vit));
    model.vit = vit;
    model.connector = connector;
    assert_eq!(flat(&model.vit), flat(&valid.vit));

    // A model of other sizes is refused with the reason.
    let mut other = config.clone();
    other.vit.layers += 1;
    let err = load_vision::<Cpu>(dir.path(), &other, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("differ from the model's"), "{err}");
}

#[test]
fn a_mean_readout_probe_reads_one_feature_per_image_and_round_trips() {
    let _rng = backend_rng();
    let config = tiny_model();
    let examples = timed(&config);
    let settings = ProbeSettings {
        steps: 2,
        batch: 4,
        lr: 1e-3,
        lr_end: None,
        seed: 2,
        eval_every: 0,
        first_steps: 0,
        gradual: false,
        minutes: true,
        readout: Readout::Mean,
        dial_loss: 0.0,
        locator: Locator::Linear,
        read_loss: 1.0,
        turn_loss: 0.0,
        turn_bins: 0,
        augment: Default::default(),
        hour_by_minute: false,
        hand_bins: 0,
        joint: None,
        views: 0,
    };
    let device = Default::default();
    let (probe, _) = trained(&config, &examples, &settings);
    // Heads over the mean of the pooled features: width inputs, not crops × pooled × width.
    let [inputs, outputs] = probe.head.weight.val().dims();
    assert_eq!((inputs, outputs), (config.llm.d_model, 12));
    let dir = tempfile::tempdir().unwrap();
    let saved = saved_with_minutes(&config, &examples, settings);
    save_vision(&probe, &saved, dir.path()).unwrap();
    let (vit, _) = load_vision::<Cpu>(dir.path(), &config, &device).unwrap();
    assert_eq!(flat(&vit), flat(&probe.vit));
}

#[test]
fn an_attention_readout_probe_learns_times_and_round_trips() {
    let _rng = backend_rng();
    let config = tiny_model();
    let examples = timed(&config);
    let settings = learns_times(Readout::Attention);
    let device = Default::default();
    let (probe, last) = trained(&config, &examples, &settings);
    // The heads read the learned queries' outputs: queries × width inputs.
    let [inputs, _] = probe.head.weight.val().dims();
    assert_eq!(inputs, ATTENTION_QUERIES * config.llm.d_model);
    assert_eq!(probe.readout(), Readout::Attention);
    // Every clock read within 3 minutes: the queries' attention carries the image.
    assert_eq!(last["test_acc"], 1.0, "{last}");
    assert_eq!(last["test_close"], 1.0, "{last}");

    // Saved and loaded, the readout (queries and attention included) is the same.
    let dir = tempfile::tempdir().unwrap();
    let saved = saved_with_minutes(&config, &examples, settings);
    save_vision(&probe, &saved, dir.path()).unwrap();
    let (loaded, again) = load_probe::<Cpu>(dir.path(), &config, &device).unwrap();
    assert_eq!(again.settings.readout, Readout::Attention);
    assert_eq!(loaded.readout(), Readout::Attention);
    assert_eq!(flat(&loaded), flat(&probe));
    let inputs: Vec<_> = examples.iter().map(|e| &e.input).collect();
    let (a, b) = (
        probe.forward(&inputs, &device),
        loaded.forward(&inputs, &device),
    );
    assert_eq!(a.into_data(), b.into_data());
}
