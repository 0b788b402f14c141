//! The `pixmo-train` binary as a user runs it on shards: a probe saved with `--save` starts a
//! fine-tune's vision side (`finetune --init-vision`), a pre-training checkpoint starts a
//! fine-tune (`--init-checkpoint`), `--lr-vit 0` keeps the ViT as it was, and `eval
//! --predictions` writes what it scored.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use arrow::array::BooleanArray;
use pixmo_annotation_schema::Dataset;

use burn::module::Module;
use pixmo_eval::clock::{hour_error, score_clock};
use pixmo_trainer::eval::{CLOSE_MINUTES, EvalReport, Prediction, clock_gold};
use pixmo_trainer::format::Stage;
use pixmo_trainer::probe::load_vision;
use pixmo_trainer::train::{load_model, read_state};

use crate::common::{Cpu, backend_rng, flat, png_from_fn, tiny_model};
use crate::shards::{build_fixture, images, strings, write_shard};

/// A clocks shard as `pixmo build clocks` writes it (benchmark answer format): eight 40 px
/// images of one size, each its own colour and bar, each its own time.
fn clock_shard(out: &Path) {
    clock_shard_of(
        out,
        [
            "1:05", "2:17", "3:29", "4:41", "7:53", "9:00", "11:36", "12:48",
        ],
    );
}

/// [`clock_shard`] with these times.
fn clock_shard_of(out: &Path, times: [&str; 8]) {
    clock_shard_with_images(out, times, clock_pngs());
}

/// The eight images of [`clock_shard`].
fn clock_pngs() -> Vec<Vec<u8>> {
    (0..8u8)
        .map(|k| {
            png_from_fn(40, 40, |x, y| {
                if x / 5 == u32::from(k) {
                    [250, 250, 250]
                } else {
                    [30 * k, 90, u8::try_from(y * 6).unwrap()]
                }
            })
        })
        .collect()
}

/// [`clock_shard_of`] with these image bytes.
fn clock_shard_with_images(out: &Path, times: [&str; 8], pngs: Vec<Vec<u8>>) {
    let ids: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    write_shard(
        out,
        Dataset::Clocks,
        "train",
        vec![
            ("example_id", strings(&ids)),
            ("text", strings(&times)),
            (
                "shows_seconds",
                Arc::new(BooleanArray::from(vec![false; 8])),
            ),
            ("question", strings(&["What time is being shown?"; 8])),
            ("answer", strings(&times)),
            ("image", images(Dataset::Clocks, pngs)),
        ],
    );
}

/// The truth file of [`clock_shard`]'s clocks: each clock's bar (x 5k..5k+5, full height)
/// stands in for its dial.
fn bar_truth() -> String {
    (0..8)
        .map(|k| {
            format!(
                "{{\"example_id\":\"c{k}\",\"truth\":{{\"dial_box\":[{},0,{},40]}}}}\n",
                5 * k,
                5 * k + 5
            )
        })
        .collect()
}

/// Runs `pixmo-train` in `dir` with whitespace-separated `args`.
fn pixmo_train(args: &str, dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pixmo-train"))
        .args(args.split_whitespace())
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("run pixmo-train")
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The last JSON line a run printed (a probe's last scores).
fn last_line(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().expect("a line")).expect("a JSON line")
}

/// The run failed with an error (exit 2, not a panic's 101) whose message names `reason`.
fn refused(out: &Output, reason: &str) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "an error (exit 2), not a panic (101)"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(reason), "{stderr}");
}

#[test]
fn a_saved_probe_starts_a_finetune_and_a_zero_vit_lr_keeps_it_frozen() {
    // Loading a model draws its initial values from burn's global generator first.
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let probe = "probe --data shards --eval-data shards --eval-split train --model tiny \
                 --minutes --steps 3 --eval-every 3 --batch 4 --save vis";
    ok(&pixmo_train(probe, dir.path()), "probe");
    let finetune = "finetune --data shards --datasets clocks --model tiny --init-vision vis \
                    --lr-vit 0 --lr-connector 1e-2 --warmup 0 --steps 3 --micro-batch 2 \
                    --grad-accum 1 --seq-len 256 --dropout 0 --quiet --out run";
    ok(&pixmo_train(finetune, dir.path()), "finetune");

    let cpu = Default::default();
    let (vit, connector) =
        load_vision::<Cpu>(&dir.path().join("vis"), &tiny_model(), &cpu).unwrap();
    let last = dir.path().join("run/checkpoints/last");
    let state = read_state(&last).unwrap();
    assert_eq!(state.step, 3);
    let model = load_model::<Cpu>(&last, &state, &cpu).unwrap();
    assert!(model.vit.num_params() > 0);
    assert!(
        flat(&model.vit) == flat(&vit),
        "the ViT is not the probe's, or it moved"
    );
    assert!(
        flat(&model.connector) != flat(&connector),
        "the connector should have trained"
    );

    // A probe of other sizes is refused with the reason, before any training.
    let small = finetune
        .replace("--model tiny", "--model small")
        .replace("--out run", "--out run-small");
    let refused = pixmo_train(&small, dir.path());
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("differ from the model's"), "{stderr}");
    assert!(!dir.path().join("run-small/checkpoints").exists());
}

#[test]
fn a_probe_over_images_of_several_sizes_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    build_fixture(&dir.path().join("shards"));
    let out = pixmo_train(
        "probe --data shards --eval-data shards --eval-split train --model tiny --steps 2",
        dir.path(),
    );
    refused(&out, "same number of crops");
}

/// Molmo's hand-over: a fine-tune starts from the weights of a pre-training run's checkpoint
/// (`--init-checkpoint`), with its own schedule and a fresh step count.
#[test]
fn a_finetune_starts_from_a_pretraining_checkpoint() {
    // Loading a model draws its initial values from burn's global generator first.
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    build_fixture(&dir.path().join("shards"));
    let pretrain = "pretrain --data shards --model tiny --steps 2 --micro-batch 2 --lr-vit 1e-2 \
                    --grad-accum 1 --seq-len 256 --dropout 0 --warmup 0 --quiet --out pre \
                    --checkpoint-every 1";
    ok(&pixmo_train(pretrain, dir.path()), "pretrain");
    let finetune = "finetune --data shards --datasets clocks,count \
                    --init-checkpoint pre/checkpoints/last --lr-vit 0 --lr-connector 1e-2 \
                    --warmup 0 --steps 3 --micro-batch 2 --grad-accum 1 --seq-len 256 \
                    --dropout 0 --quiet --out ft";
    ok(&pixmo_train(finetune, dir.path()), "finetune");

    let cpu = Default::default();
    let load = |run: &str| {
        let last = if run.contains("checkpoints") {
            dir.path().join(run)
        } else {
            dir.path().join(run).join("checkpoints/last")
        };
        let state = read_state(&last).unwrap();
        let model = load_model::<Cpu>(&last, &state, &cpu).unwrap();
        (state, model)
    };
    let (pre_state, pre) = load("pre");
    let (ft_state, ft) = load("ft");
    assert_eq!(pre_state.train.stage, Stage::Pretrain);
    assert_eq!((ft_state.train.stage, ft_state.step), (Stage::Finetune, 3));
    assert_eq!(ft_state.model, pre_state.model, "the checkpoint's sizes");
    assert!(
        flat(&ft.vit) == flat(&pre.vit),
        "the ViT is not the pre-trained one, or it moved"
    );
    assert!(
        flat(&ft.connector) != flat(&pre.connector),
        "the connector should have trained on"
    );

    // The optimiser starts fresh: AdamW's first step moves every parameter with a gradient by
    // the LR itself (m̂ / √v̂ = g / |g|), all by the same amount. Moments carried over from the
    // pre-training run (as `--resume` carries them) spread the steps out: the control below.
    let one = finetune
        .replace("--steps 3", "--steps 1")
        .replace("--out ft", "--out ft1");
    ok(&pixmo_train(&one, dir.path()), "one-step finetune");
    let spread = |from: &str, to: &str| {
        let before = flat(&load(from).1.connector);
        let after = flat(&load(to).1.connector);
        let mut steps: Vec<f32> = before
            .iter()
            .zip(&after)
            .map(|(a, b)| (b - a).abs())
            .filter(|&d| d > 1e-7)
            .collect();
        steps.sort_by(f32::total_cmp);
        let at = |q: f32| steps[((steps.len() - 1) as f32 * q) as usize];
        (at(0.1), at(0.9), steps.len())
    };
    // (10th, 90th percentile of the steps that moved a connector parameter, how many)
    let fresh = spread("pre", "ft1");
    let lr = 1e-2; // --lr-connector, no warmup: the first step's LR
    assert!(
        (0.99 * lr..=1.001 * lr).contains(&fresh.1) && fresh.0 >= 0.8 * lr,
        "the fine-tune's first AdamW steps {fresh:?} are not a fresh optimiser's (LR {lr})"
    );
    // Control: the pre-training run's second step, its moments carried from the first.
    let carried = spread("pre/checkpoints/step-1", "pre/checkpoints/step-2");
    assert!(carried.0 < 0.5 * carried.1, "{carried:?}");

    // The sizes come from the checkpoint: naming others is refused.
    let sized = finetune.replace("--out ft", "--out ft2 --model small");
    refused(&pixmo_train(&sized, dir.path()), "cannot be used with");
}

/// `eval --predictions FILE` writes every scored clock, in the split's order, with the
/// scores `pixmo-eval` gives its generation, and the printed totals are those of the file.
#[test]
fn eval_writes_each_prediction_with_its_scores() {
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let finetune = "finetune --data shards --datasets clocks --model tiny --lr-vit 1e-2 \
                    --lr-connector 1e-2 --lr-llm 1e-2 --warmup 0 --steps 40 --micro-batch 8 \
                    --grad-accum 1 --seq-len 256 --dropout 0 --quiet --out run";
    ok(&pixmo_train(finetune, dir.path()), "finetune");
    let eval = "eval --checkpoint run/checkpoints/last --data shards --split train --count 8 \
                --predictions preds.jsonl";
    let out = pixmo_train(eval, dir.path());
    ok(&out, "eval");

    let report: EvalReport = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(dir.path().join("preds.jsonl")).unwrap();
    let preds: Vec<Prediction> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
    assert_eq!(
        preds.iter().map(|p| &p.id).collect::<Vec<_>>(),
        ids.iter().collect::<Vec<_>>()
    );
    for p in &preds {
        eprintln!("{} {:?} -> {:?}", p.id, p.expected, p.generated);
        assert_eq!(p.dataset, "clocks");
        let gold = clock_gold(&p.expected, false).unwrap();
        let s = score_clock(&p.generated, gold, CLOSE_MINUTES);
        assert_eq!(
            (p.valid, p.exact, p.close, p.hour),
            (s.valid, s.exact, s.close, Some(s.hour)),
            "{p:?}"
        );
        let kind = hour_error(&p.generated, gold).map(|k| k.name().to_string());
        assert_eq!(p.hour_error, kind, "{p:?}");
    }
    let count = |f: fn(&Prediction) -> bool| preds.iter().filter(|p| f(p)).count();
    assert_eq!(report.clocks, 8);
    assert_eq!(report.clock_valid, count(|p| p.valid));
    assert_eq!(report.clock_exact, count(|p| p.exact));
    assert_eq!(report.clock_close, count(|p| p.close));
    assert_eq!(report.clock_hour, count(|p| p.hour == Some(true)));
    assert!(
        report.clock_hour < 8,
        "every hour read right: the kind checks below would check nothing"
    );
    let kinds: usize = report.clock_hour_errors.values().sum();
    assert_eq!(kinds, 8 - report.clock_hour, "each wrong hour has its kind");
    // The samples are spread over the split, not its first rows.
    let expected: Vec<&str> = report.samples.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(expected, ["1:05", "2:17", "4:41", "7:53", "11:36"]);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    // Nothing beside the finished file: no temporary copy left behind.
    assert!(
        left.iter()
            .filter(|n| n.to_string_lossy().contains("preds.jsonl"))
            .all(|n| n == "preds.jsonl"),
        "{left:?}"
    );
}

/// A fine-tune whose every group has LR 0 would only evaluate: refused before anything is
/// read or written.
#[test]
fn a_run_where_nothing_trains_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = pixmo_train(
        "finetune --data missing --model tiny --lr-vit 0 --lr-connector 0 --lr-llm 0 --out run",
        dir.path(),
    );
    refused(&out, "nothing would train");
    assert!(!dir.path().join("run").exists());
}

/// Mixed precision in bf16 on the CPU (burn's ndarray computes in f32 and f64 only) is refused
/// with the reason, for training and for the bench, before anything is read or written.
#[test]
fn bf16_mixed_precision_on_the_cpu_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = pixmo_train(
        "finetune --data missing --model tiny --mixed bf16 --out run",
        dir.path(),
    );
    refused(&out, "runs on CUDA only");
    assert!(!dir.path().join("run").exists());
    let out = pixmo_train("bench --model tiny --dtype mixed --steps 1", dir.path());
    refused(&out, "runs on CUDA only");
}

/// `--checkpointing` trains on burn's balanced checkpointing backend (the run's `config.json`
/// names the backend it trained on), which recomputes memory-bound operations in the
/// backward pass instead of keeping them: the same steps as keeping the activations, loss
/// and gradient norms to the last bit, with dropout and two micro-batches a step.
#[test]
fn a_checkpointed_finetune_takes_the_steps_of_a_plain_one() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let finetune = "finetune --data shards --datasets clocks --model tiny --steps 3 \
                    --micro-batch 2 --grad-accum 2 --seq-len 256 --dropout 0.1 --quiet";
    for (run, flag) in [("plain", ""), ("kept", "--checkpointing")] {
        let args = format!("{finetune} {flag} --out {run}");
        ok(&pixmo_train(&args, dir.path()), run);
    }
    let backend = |run: &str| -> String {
        let config = run_config(&dir.path().join(run));
        config["backend"].as_str().expect("a backend").to_owned()
    };
    assert!(
        backend("kept").contains("BalancedCheckpointing"),
        "{}",
        backend("kept")
    );
    assert!(
        !backend("plain").contains("BalancedCheckpointing"),
        "{}",
        backend("plain")
    );
    let steps = |run: &str| -> Vec<Vec<u64>> {
        let steps = step_losses_and_norms(&dir.path().join(run));
        steps
            .iter()
            .map(|s| s.iter().map(|x| x.to_bits()).collect())
            .collect()
    };
    let plain = steps("plain");
    assert_eq!(plain.len(), 3);
    assert_eq!(plain, steps("kept"));
}

/// A run folder's `config.json`.
fn run_config(run: &Path) -> serde_json::Value {
    let config = std::fs::read(run.join("config.json")).unwrap();
    serde_json::from_slice(&config).unwrap()
}

/// Each training step's loss followed by its gradient norms per group, from a run folder's
/// `metrics.jsonl` (evaluation lines left out).
fn step_losses_and_norms(run: &Path) -> Vec<Vec<f64>> {
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|m| m.get("grad_norm").is_some())
        .map(|m| {
            let norms = m["grad_norm"].as_array().unwrap().iter();
            std::iter::once(&m["loss"])
                .chain(norms)
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

/// Each step's loss and group norms of `other` within 1e-4 (relative) of `plain`'s.
fn steps_close(plain: &[Vec<f64>], other: &[Vec<f64>]) {
    assert_eq!(plain.len(), other.len());
    for (p, c) in plain.iter().zip(other) {
        assert_eq!(p.len(), c.len());
        for (a, b) in p.iter().zip(c) {
            assert!(
                (a - b).abs() <= 1e-4 * a.abs().max(1e-3),
                "{plain:?}\n{other:?}"
            );
        }
    }
}

/// `--head-chunk` as a user runs it: the run records it, and its steps are those of the
/// whole-logits head (the same loss and gradient norms up to rounding: the chunks sum in
/// another order), with dropout and two micro-batches a step; and a plain run resumed with it
/// takes it up (and a new `--checkpoint-every`), where options that would change the steps are
/// refused with `--resume`, and so are other data (even of the same size) and the other stage.
#[test]
fn a_finetune_with_the_head_in_chunks_takes_the_steps_of_a_plain_one() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let finetune = "finetune --data shards --datasets clocks --model tiny --steps 3 \
                    --micro-batch 2 --grad-accum 2 --seq-len 256 --dropout 0.1 --quiet";
    for (run, flag) in [("plain", ""), ("chunked", "--head-chunk 5")] {
        let args = format!("{finetune} {flag} --out {run}");
        ok(&pixmo_train(&args, dir.path()), run);
    }
    let head_chunk = |run: &str| run_config(&dir.path().join(run))["train"]["head_chunk"].clone();
    assert_eq!(head_chunk("chunked"), serde_json::json!(5));
    assert_eq!(head_chunk("plain"), serde_json::Value::Null);
    let steps = |run: &str| step_losses_and_norms(&dir.path().join(run));
    let plain = steps("plain");
    assert_eq!(plain.len(), 3);
    steps_close(&plain, &steps("chunked"));
    // A run that ran out of memory resumes with the head in chunks: its third step is the
    // plain run's.
    let args = format!("{finetune} --checkpoint-every 2 --out every2");
    ok(&pixmo_train(&args, dir.path()), "every2");
    let resume = "finetune --data shards --datasets clocks --resume every2/checkpoints/step-2";
    let args = format!("{resume} --head-chunk 4 --checkpoint-every 1 --quiet --out resumed");
    ok(&pixmo_train(&args, dir.path()), "resumed");
    assert_eq!(head_chunk("resumed"), serde_json::json!(4));
    steps_close(&plain[2..], &steps("resumed"));
    assert!(dir.path().join("resumed/checkpoints/step-3").is_dir());
    // Settings that would change the steps are the checkpoint's: refused, not ignored.
    for flag in [
        "--steps 5",
        "--lr-llm 1e-3",
        "--micro-batch 1",
        "--model small",
    ] {
        let out = pixmo_train(&format!("{resume} {flag} --out refused"), dir.path());
        refused(&out, "cannot be used with");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let name = flag.split(' ').next().unwrap();
        assert!(
            stderr.contains("'--resume") && stderr.contains(&format!("'{name} ")),
            "{stderr}"
        );
    }
    // So is a resume on other data (here fewer examples): its position would be in another
    // shuffle (or past the end, a panic before).
    let out = pixmo_train(&format!("{resume} --limit 5 --out other-data"), dir.path());
    refused(&out, "but this run selects clocks (5 examples)");
    // Or the same number of rows relabelled (a rebuilt shard: same ids and images, other
    // answers): the position would index other examples.
    clock_shard_of(
        &dir.path().join("relabelled"),
        [
            "1:06", "2:17", "3:29", "4:41", "7:53", "9:00", "11:36", "12:48",
        ],
    );
    let out = pixmo_train(
        "finetune --data relabelled --datasets clocks --resume every2/checkpoints/step-2 \
         --out relabelled-run",
        dir.path(),
    );
    refused(&out, "is in other examples of clocks (digest ");
    // And a fine-tune's checkpoint resumed as a pre-training run.
    let out = pixmo_train(
        "pretrain --data shards --datasets clocks --resume every2/checkpoints/step-2 --out pt",
        dir.path(),
    );
    refused(
        &out,
        "is a checkpoint of a finetune run; resume it with `pixmo-train finetune",
    );
}

/// A run that diverges (learning rates of 1e30: the first step is finite, the next
/// overflow) skips the steps whose gradients are not finite, logs them as skipped, keeps
/// writing the model it had (the checkpoints after skipped steps hold the same weights) and
/// stops with an error after `--max-skipped-steps` of them in a row, naming the steps and
/// the last checkpoint, with no final checkpoint of a broken model.
#[test]
fn a_diverging_run_skips_non_finite_steps_and_stops_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let out = pixmo_train(
        "finetune --data shards --datasets clocks --model tiny --steps 12 --micro-batch 2 \
         --grad-accum 1 --seq-len 256 --lr-connector 1e30 --lr-vit 1e30 --lr-llm 1e30 --warmup 0 \
         --max-skipped-steps 3 --checkpoint-every 1 --quiet --out run",
        dir.path(),
    );
    refused(
        &out,
        "the run diverged: its last 3 steps (1-3) had gradients that are not finite",
    );
    let run = dir.path().join("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the last checkpoint is `run/checkpoints/step-3`"),
        "{stderr}"
    );
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let skipped: Vec<bool> = metrics
        .lines()
        .map(|l| {
            let m: serde_json::Value = serde_json::from_str(l).unwrap();
            m["skipped"].as_bool().unwrap_or(false)
        })
        .collect();
    assert_eq!(skipped, [false, true, true, true], "{metrics}");
    let weights =
        |step: u32| std::fs::read(run.join(format!("checkpoints/step-{step}/model.mpk"))).unwrap();
    assert_eq!(weights(1), weights(3));
    assert!(!run.join("checkpoints/step-4").exists());
    assert!(!run.join("checkpoints/last").exists());
}

/// `--loss-scale` as a user runs it: recorded in `config.json` and on every metrics line,
/// the steps those of an unscaled run (a power of two is exact; the gradient norms are the
/// true ones, not the scaled ones); a scale that is not a finite number ≥ 0 is refused.
#[test]
fn a_loss_scaled_run_takes_the_steps_of_a_plain_one() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let finetune = "finetune --data shards --datasets clocks --model tiny --steps 3 \
                    --micro-batch 2 --grad-accum 1 --seq-len 256 --quiet";
    for (run, flag) in [("plain", ""), ("scaled", "--loss-scale 1024")] {
        ok(
            &pixmo_train(&format!("{finetune} {flag} --out {run}"), dir.path()),
            run,
        );
    }
    let config = run_config(&dir.path().join("scaled"));
    assert_eq!(
        config["train"]["loss_scale"]["scale"],
        serde_json::json!(1024.0)
    );
    assert_eq!(
        run_config(&dir.path().join("plain"))["train"]["loss_scale"],
        serde_json::Value::Null
    );
    let metrics = std::fs::read_to_string(dir.path().join("scaled/metrics.jsonl")).unwrap();
    for line in metrics.lines() {
        let m: serde_json::Value = serde_json::from_str(line).unwrap();
        if m.get("eval").is_none() {
            assert_eq!(m["loss_scale"], serde_json::json!(1024.0), "{line}");
        }
    }
    let steps = |run: &str| step_losses_and_norms(&dir.path().join(run));
    let (plain, scaled) = (steps("plain"), steps("scaled"));
    assert_eq!(plain.len(), 3);
    for (p, s) in plain.iter().zip(&scaled) {
        for (a, b) in p.iter().zip(s) {
            assert!(
                (a - b).abs() <= 1e-5 * a.abs().max(1e-3),
                "{plain:?}\n{scaled:?}"
            );
        }
    }
    for bad in ["-1", "nan", "inf"] {
        let out = pixmo_train(
            &format!("{finetune} --loss-scale={bad} --out bad"),
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is not a loss scale"), "{stderr}");
    }
}

/// `bench --head-chunk` saves the memory it is for: with a 32k vocabulary the whole-logits
/// path holds several `rows × vocabulary` f32 tensors at once (the logits, their cast, the
/// softmax's), the chunked path 16 rows' worth; the bench reports the process's peak resident
/// memory, and chunks save at least two whole logits' worth of it. A chunked path that kept
/// its logits for the backward pass (or ignored the flag) fails this; the losses agree.
#[test]
fn the_head_in_chunks_lowers_the_bench_peak_memory_by_the_logits() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = pixmo_trainer::config::ModelConfig::tiny();
    config.vit.layers = 2;
    config.llm.layers = 1;
    config.llm.vocab_size = 32_768;
    let path = dir.path().join("head-heavy.json");
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    let bench = |flag: &str| {
        let args = format!(
            "bench --model-config head-heavy.json --micro-batch 2 --seq-len 512 --image-px 64 \
             --warmup-steps 0 --steps 1 {flag}"
        );
        let out = pixmo_train(&args, dir.path());
        ok(&out, flag);
        last_line(&out)["report"].clone()
    };
    let (whole, chunked) = (bench(""), bench("--head-chunk 16"));
    let peak = |r: &serde_json::Value| r["peak_rss_bytes"].as_f64().expect("a peak on Linux");
    let rows = whole["head_rows_per_step"].as_f64().unwrap();
    assert!(rows > 500.0, "{whole}");
    let logits_bytes = rows * (32_768.0 + 8.0) * 4.0;
    assert!(
        peak(&whole) - peak(&chunked) >= 2.0 * logits_bytes,
        "whole {} MB, chunked {} MB, one f32 logits {} MB",
        peak(&whole) / 1e6,
        peak(&chunked) / 1e6,
        logits_bytes / 1e6
    );
    let loss = |r: &serde_json::Value| r["last_loss"].as_f64().unwrap();
    assert!((loss(&whole) - loss(&chunked)).abs() < 1e-4 * loss(&whole));
}

const CLOCK_TIMES: [&str; 8] = [
    "1:05", "2:16", "3:28", "4:40", "7:52", "9:00", "11:35", "12:47",
];

/// An image that cannot be decoded is skipped, counted (`images_skipped` on each metrics line,
/// a warning naming the first and why) and left out of an evaluation's scores (counted as
/// `unreadable`, each such prediction with its reason); data with no decodable image is
/// refused with the reason (before: training drew examples forever).
#[test]
fn images_that_cannot_be_decoded_are_skipped_counted_and_never_hang_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = b"not an image".to_vec();
    clock_shard_with_images(
        &dir.path().join("none"),
        CLOCK_TIMES,
        vec![garbage.clone(); 8],
    );
    let run = "finetune --datasets clocks --model tiny --micro-batch 2 --grad-accum 1 \
               --seq-len 256 --quiet";
    let out = pixmo_train(
        &format!("{run} --data none --steps 1 --out r-none"),
        dir.path(),
    );
    refused(&out, "have images that cannot be decoded");
    refused(&out, "could not be decoded: ");
    let mut pngs = clock_pngs();
    for k in [1, 3, 5, 7] {
        pngs[k] = garbage.clone();
    }
    clock_shard_with_images(&dir.path().join("half"), CLOCK_TIMES, pngs);
    let out = pixmo_train(
        &format!("{run} --data half --steps 3 --out r-half"),
        dir.path(),
    );
    ok(&out, "half unreadable");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("image cannot be decoded are skipped")
            && stderr.contains("could not be decoded: "),
        "{stderr}"
    );
    let metrics = std::fs::read_to_string(dir.path().join("r-half/metrics.jsonl")).unwrap();
    let skipped: Vec<u64> = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|m| m.get("grad_norm").is_some())
        .map(|m| m["images_skipped"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(skipped.len(), 3);
    assert!(
        skipped.windows(2).all(|w| w[0] <= w[1]) && skipped[2] > 0,
        "{skipped:?}"
    );
    let out = pixmo_train(
        "eval --checkpoint r-half/checkpoints/last --data half --split train --count 8 \
         --predictions preds.jsonl",
        dir.path(),
    );
    ok(&out, "eval");
    let report: EvalReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report.clocks, report.unreadable), (4, 4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 example(s) not scored"), "{stderr}");
    let preds = std::fs::read_to_string(dir.path().join("preds.jsonl")).unwrap();
    let unreadable: Vec<String> = preds
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|p| p.get("unreadable").is_some())
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(unreadable, ["c1", "c3", "c5", "c7"]);
    // Predictions aimed at a folder are refused before the work (before: the rename into
    // place failed at the end, naming only a temporary file).
    std::fs::create_dir(dir.path().join("predsdir")).unwrap();
    refused(
        &pixmo_train(
            "eval --checkpoint r-half/checkpoints/last --data half --split train --count 8 \
             --predictions predsdir",
            dir.path(),
        ),
        "`--predictions predsdir` is a folder",
    );
    // The vision probe says why clocks are left out (before: "No clocks to probe", and
    // nothing when some were).
    let probe = "probe --eval-split train --model tiny --steps 1 --batch 2";
    refused(
        &pixmo_train(&format!("{probe} --data none --eval-data none"), dir.path()),
        "None of the 8 `train` clocks in `none` can be probed: 8 images that cannot be decoded \
         (the first, `c0`: ",
    );
    let out = pixmo_train(
        &format!("{probe} --data half --eval-data half --predictions predsdir"),
        dir.path(),
    );
    refused(&out, "`--predictions predsdir` is a folder");
    let out = pixmo_train(&format!("{probe} --data half --eval-data half"), dir.path());
    ok(&out, "probe on half");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "4 of the 8 `train` clocks in `half` left out: 4 images that cannot be decoded \
             (the first, `c1`: "
        ),
        "{stderr}"
    );
}

/// Sizes and settings that cannot train are refused with the reason: before, zero sizes and
/// a zero `norm_eps` panicked, sizes of 10^12 aborted on allocation or took the machine's
/// memory, and a zero micro-batch, a dropout of 2 or sequences longer than the model's
/// positions panicked.
#[test]
fn sizes_and_settings_that_cannot_train_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let run = "finetune --data shards --datasets clocks --steps 1 --quiet";
    type Edit = fn(&mut pixmo_trainer::config::ModelConfig);
    let cases: [(Edit, &str); 8] = [
        (|c| c.llm.layers = 0, "`llm.layers` is 0"),
        (|c| c.vit.heads = 0, "`vit.heads` is 0"),
        (|c| c.llm.norm_eps = 0.0, "`llm.norm_eps` is 0"),
        (|c| c.llm.rope_theta = 0.0, "`llm.rope_theta` is 0"),
        (|c| c.llm.layers = 1_000_000_000_000, "parameters"),
        (|c| c.vision.max_crops = 1_000_000_000_000, "`max_crops` is"),
        (
            |c| c.llm.max_position = 1_000_000_000_000,
            "`llm.max_position` is",
        ),
        (|c| c.llm.vocab_size = 100, "byte tokenizer needs"),
    ];
    for (k, (edit, reason)) in cases.into_iter().enumerate() {
        let mut config = pixmo_trainer::config::ModelConfig::tiny();
        edit(&mut config);
        std::fs::write(
            dir.path().join(format!("m{k}.json")),
            serde_json::to_string(&config).unwrap(),
        )
        .unwrap();
        let args = format!(
            "{run} --model-config m{k}.json --micro-batch 2 --seq-len 256 --grad-accum 1 --out r{k}"
        );
        refused(&pixmo_train(&args, dir.path()), reason);
    }
    for (flags, reason) in [
        (
            "--micro-batch 0 --seq-len 256 --grad-accum 1",
            "the micro-batch is 0",
        ),
        (
            "--micro-batch 2 --seq-len 0 --grad-accum 1",
            "the sequence length is 0",
        ),
        (
            "--micro-batch 2 --seq-len 256 --grad-accum 1 --dropout 2",
            "the dropout is 2",
        ),
        (
            "--micro-batch 2 --seq-len 256 --grad-accum 0",
            "accumulation is 0",
        ),
        (
            "--micro-batch 2 --seq-len 8192 --grad-accum 1",
            "longer than the model's 4096 positions",
        ),
    ] {
        let args = format!("{run} --model tiny {flags} --out flags");
        refused(&pixmo_train(&args, dir.path()), reason);
    }
    let bench = "bench --model tiny --micro-batch 1 --warmup-steps 0 --steps 1 --image-px 64";
    refused(
        &pixmo_train(&format!("{bench} --seq-len 5000"), dir.path()),
        "longer than the model's 4096 positions",
    );
    refused(
        &pixmo_train(
            "probe --data shards --eval-data shards --eval-split train --model tiny --batch 0",
            dir.path(),
        ),
        "`--batch` is 0",
    );
    refused(
        &pixmo_train(
            "probe --data shards --eval-data shards --eval-split train --model tiny \
             --centre-crop 0",
            dir.path(),
        ),
        "`--centre-crop` is 0",
    );
    // `--data` onto a file or a missing path (before: "no examples … build some first").
    std::fs::write(dir.path().join("afile"), b"x").unwrap();
    for (data, reason) in [
        ("afile", "`afile` is not a folder"),
        ("gone", "`gone` does not exist"),
    ] {
        let args = format!(
            "finetune --data {data} --datasets clocks --model tiny --steps 1 --micro-batch 2 \
             --grad-accum 1 --seq-len 256 --quiet --out nodata"
        );
        refused(&pixmo_train(&args, dir.path()), reason);
    }
    // A dataset named twice (before: loaded and drawn twice).
    let args = "finetune --data shards --datasets clocks,clocks --model tiny --steps 1 \
                --micro-batch 2 --grad-accum 1 --seq-len 256 --quiet --out twice";
    refused(&pixmo_train(args, dir.path()), "`clocks` is named twice");
    // A new run into a folder holding a run (before: its checkpoints overwritten and two runs
    // mixed in one `metrics.jsonl`).
    let args = "finetune --data shards --datasets clocks --model tiny --steps 1 --micro-batch 2 \
                --grad-accum 1 --seq-len 256 --quiet --out taken";
    ok(&pixmo_train(args, dir.path()), "first run");
    let log = std::fs::read(dir.path().join("taken/metrics.jsonl")).unwrap();
    refused(&pixmo_train(args, dir.path()), "holds a run already");
    assert_eq!(
        std::fs::read(dir.path().join("taken/metrics.jsonl")).unwrap(),
        log
    );
}

/// A checkpoint whose `state.json` does not describe the weights beside it (edited, or from
/// another run) is refused by `--resume` and `eval` with the reason: before, more blocks
/// panicked in burn's loader, heads that do not divide the width panicked in a reshape, and
/// another ViT width loaded and trained under a config that was not the model's.
/// A folder holding the clock shard, and a finished `tiny` fine-tune of `steps` steps in it
/// under `out` (`extra` options added); returns the folder and the run's command without
/// `--out`.
fn tiny_run(steps: u32, out: &str, extra: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let run = format!(
        "finetune --data shards --datasets clocks --model tiny --steps {steps} --micro-batch 2 \
         --grad-accum 1 --seq-len 256 --quiet"
    );
    ok(
        &pixmo_train(&format!("{run} --out {out} {extra}"), dir.path()),
        out,
    );
    (dir, run)
}

#[test]
fn a_checkpoint_whose_state_does_not_describe_its_weights_is_refused() {
    let (dir, run) = tiny_run(1, "base", "");
    let last = dir.path().join("base/checkpoints/last");
    type Edit = fn(&mut serde_json::Value);
    let cases: [(Edit, &str); 3] = [
        (
            |s| s["model"]["llm"]["layers"] = 3.into(),
            "holds 3 ViT and 2 decoder blocks",
        ),
        (
            |s| s["model"]["llm"]["heads"] = 3.into(),
            "describes no valid model",
        ),
        (
            |s| s["model"]["vit"]["d_model"] = 48.into(),
            "does not hold the model",
        ),
    ];
    for (k, (edit, reason)) in cases.into_iter().enumerate() {
        let ck = dir.path().join(format!("ck{k}"));
        std::fs::create_dir_all(&ck).unwrap();
        for f in ["model.mpk", "optimizer.mpk"] {
            std::fs::copy(last.join(f), ck.join(f)).unwrap();
        }
        let mut state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(last.join("state.json")).unwrap()).unwrap();
        edit(&mut state);
        std::fs::write(ck.join("state.json"), state.to_string()).unwrap();
        let resume = format!(
            "finetune --data shards --datasets clocks --resume ck{k} --quiet --out resumed{k}"
        );
        refused(&pixmo_train(&resume, dir.path()), reason);
        let eval = format!("eval --checkpoint ck{k} --data shards --split train --count 2");
        refused(&pixmo_train(&eval, dir.path()), reason);
    }
    // The tensor files are checked against the lengths and SHA-256 their save recorded in
    // `state.json`: cut short, one byte changed, or another run's file of the same shapes.
    ok(
        &pixmo_train(&format!("{run} --out other --seed 9"), dir.path()),
        "other",
    );
    let other = dir.path().join("other/checkpoints/last");
    let model = std::fs::read(last.join("model.mpk")).unwrap();
    let optimizer = std::fs::read(last.join("optimizer.mpk")).unwrap();
    let mut flipped = optimizer.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 1;
    let foreign = std::fs::read(other.join("model.mpk")).unwrap();
    assert_eq!(foreign.len(), model.len(), "same shapes, same size");
    assert_ne!(foreign, model);
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "model.mpk",
            model[..model.len() / 2].to_vec(),
            "`model.mpk` is ",
        ),
        (
            "optimizer.mpk",
            flipped,
            "`optimizer.mpk` is not the file its save wrote",
        ),
        (
            "model.mpk",
            foreign,
            "`model.mpk` is not the file its save wrote",
        ),
    ];
    for (k, (file, bytes, reason)) in cases.into_iter().enumerate() {
        let ck = dir.path().join(format!("bad{k}"));
        std::fs::create_dir_all(&ck).unwrap();
        for f in ["model.mpk", "optimizer.mpk", "state.json"] {
            std::fs::copy(last.join(f), ck.join(f)).unwrap();
        }
        std::fs::write(ck.join(file), bytes).unwrap();
        let resume = format!(
            "finetune --data shards --datasets clocks --resume bad{k} --quiet --out again{k}"
        );
        refused(&pixmo_train(&resume, dir.path()), reason);
        if file == "model.mpk" {
            let eval = format!("eval --checkpoint bad{k} --data shards --split train --count 2");
            refused(&pixmo_train(&eval, dir.path()), reason);
        }
    }
    // A checkpoint saved before the digests were recorded loads unchecked; weights cut short
    // then fail in burn, whose message reads as a format change: the error says what else it
    // may be.
    let cut = dir.path().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(last.join("state.json")).unwrap()).unwrap();
    assert!(state["files"]["model.mpk"]["sha256"].is_string(), "{state}");
    state.as_object_mut().unwrap().remove("files");
    std::fs::write(cut.join("state.json"), state.to_string()).unwrap();
    std::fs::copy(last.join("optimizer.mpk"), cut.join("optimizer.mpk")).unwrap();
    std::fs::write(cut.join("model.mpk"), &model[..model.len() / 2]).unwrap();
    let eval = "eval --checkpoint cut --data shards --split train --count 2";
    refused(
        &pixmo_train(eval, dir.path()),
        "a file cut short or damaged",
    );
    std::fs::copy(last.join("model.mpk"), cut.join("model.mpk")).unwrap();
    ok(
        &pixmo_train(eval, dir.path()),
        "a checkpoint without digests",
    );
}

/// What the digests cannot catch by reading, refused before a byte is read (before, each
/// hung or read without end: `/dev/zero` or a pipe in a tensor file's place, a file of
/// terabytes hashed before its length was compared), and records that are damaged rather than
/// the files (before, a malformed digest blamed an intact file, and a record missing an
/// entry loaded that file unchecked). Resuming another run's checkpoint into a folder that
/// holds a run is refused as a new run there is.
#[test]
fn checkpoint_files_that_cannot_be_the_saved_ones_are_refused_unread() {
    let (dir, run) = tiny_run(1, "base", "");
    let last = dir.path().join("base/checkpoints/last");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(last.join("state.json")).unwrap()).unwrap();
    let copy = |name: &str| -> std::path::PathBuf {
        let ck = dir.path().join(name);
        std::fs::create_dir_all(&ck).unwrap();
        for f in ["model.mpk", "optimizer.mpk", "state.json"] {
            std::fs::copy(last.join(f), ck.join(f)).unwrap();
        }
        ck
    };
    let fifo = |path: &Path| {
        std::fs::remove_file(path).unwrap();
        assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
    };
    // Under `timeout`: a regression hangs, and fails here (exit 124) rather than stalling CI.
    let within = |args: String| {
        Command::new("timeout")
            .arg("120")
            .arg(env!("CARGO_BIN_EXE_pixmo-train"))
            .args(args.split_whitespace())
            .current_dir(dir.path())
            .env("RAYON_NUM_THREADS", "1")
            .output()
            .unwrap()
    };
    let resume = |ck: &str| {
        within(format!(
            "finetune --data shards --datasets clocks --resume {ck} --quiet --out r-{ck}"
        ))
    };
    let eval = |ck: &str| {
        within(format!(
            "eval --checkpoint {ck} --data shards --split train --count 2"
        ))
    };
    // Not regular files: each would block or read without end.
    let ck = copy("zero");
    std::fs::remove_file(ck.join("model.mpk")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", ck.join("model.mpk")).unwrap();
    refused(&eval("zero"), "`model.mpk` is not a regular file");
    let ck = copy("pipe");
    fifo(&ck.join("optimizer.mpk"));
    refused(&resume("pipe"), "`optimizer.mpk` is not a regular file");
    let ck = copy("statepipe");
    fifo(&ck.join("state.json"));
    refused(&eval("statepipe"), "`state.json` is not a regular file");
    // A checkpoint saved before digests were recorded gets the same check.
    let ck = copy("oldpipe");
    let mut old = state.clone();
    old.as_object_mut().unwrap().remove("files");
    std::fs::write(ck.join("state.json"), old.to_string()).unwrap();
    fifo(&ck.join("model.mpk"));
    refused(&eval("oldpipe"), "`model.mpk` is not a regular file");
    // Terabytes (sparse): the length is compared before anything is hashed.
    let ck = copy("huge");
    std::fs::OpenOptions::new()
        .write(true)
        .open(ck.join("model.mpk"))
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    refused(
        &eval("huge"),
        "`model.mpk` is 1099511627776 bytes, its save wrote",
    );
    // Damaged records.
    let record = |name: &str, edit: fn(&mut serde_json::Value)| {
        let ck = copy(name);
        let mut s = state.clone();
        edit(&mut s);
        std::fs::write(ck.join("state.json"), s.to_string()).unwrap();
    };
    record("noentry", |s| {
        s["files"].as_object_mut().unwrap().remove("optimizer.mpk");
    });
    refused(
        &resume("noentry"),
        "records digests but none of `optimizer.mpk`",
    );
    record("upper", |s| {
        let d = s["files"]["model.mpk"]["sha256"]
            .as_str()
            .unwrap()
            .to_uppercase();
        s["files"]["model.mpk"]["sha256"] = d.into();
    });
    refused(&eval("upper"), "records no SHA-256 of `model.mpk`");
    record("short", |s| {
        s["files"]["model.mpk"]["sha256"] = "abc".into()
    });
    refused(&eval("short"), "records no SHA-256 of `model.mpk`");
    // Another run's checkpoint resumed into a folder holding a run.
    ok(
        &pixmo_train(&format!("{run} --out other"), dir.path()),
        "other",
    );
    refused(
        &pixmo_train(
            "finetune --data shards --datasets clocks --resume base/checkpoints/last --quiet \
             --out other",
            dir.path(),
        ),
        "is not a checkpoint of the run in `other`",
    );
}

/// A save that fails part-way (here a file-size limit stands in for a full disk: the model's
/// file fits, the optimiser's does not) leaves the checkpoint that was there whole, and a
/// run resumes from it; no half-written folder is left behind (before: `last` held the new
/// model beside the old state and a truncated optimiser, and no longer resumed).
#[test]
fn a_checkpoint_save_that_fails_leaves_the_previous_checkpoint_whole() {
    let (dir, _) = tiny_run(3, "r", "--checkpoint-every 1");
    let second = dir.path().join("r/checkpoints/step-2");
    let files = |d: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = files(&second);
    let model_kb = before.iter().find(|f| f.0 == "model.mpk").unwrap().1.len() / 1024;
    let optimizer_kb = before
        .iter()
        .find(|f| f.0 == "optimizer.mpk")
        .unwrap()
        .1
        .len()
        / 1024;
    assert!(
        optimizer_kb > model_kb + 64,
        "{model_kb} KB, {optimizer_kb} KB"
    );
    // The run again from its first step, saving over `step-2` under a limit between the two
    // files' sizes.
    let limit = (model_kb + optimizer_kb) / 2;
    let resume = format!(
        "trap '' XFSZ; ulimit -f {limit}; exec {} finetune --data shards --datasets clocks \
         --resume r/checkpoints/step-1 --quiet --out r",
        env!("CARGO_BIN_EXE_pixmo-train")
    );
    let out = Command::new("bash")
        .args(["-c", &resume])
        .current_dir(dir.path())
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    refused(&out, "cannot save the optimiser");
    assert_eq!(
        files(&second),
        before,
        "the checkpoint is the one that was there"
    );
    let mut left: Vec<String> = std::fs::read_dir(dir.path().join("r/checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["last", "step-1", "step-2", "step-3"],
        "no temporary folder left"
    );
    let out = pixmo_train(
        "finetune --data shards --datasets clocks --resume r/checkpoints/step-2 --quiet --out r",
        dir.path(),
    );
    ok(&out, "resumed without the limit");
    let last = dir.path().join("r/checkpoints/last");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(last.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["step"], 3);
}

/// A run killed (`SIGKILL`) while it trains and saves a checkpoint every step leaves every
/// `step-N` folder whole (its files are the ones its `state.json` records), and resumes from
/// the latest. What a killed save leaves beside the checkpoints is cleared by the next save,
/// and a checkpoint a killed save had moved aside (between the two renames of a file system
/// that cannot swap) is put back when it is resumed; the log holds each step once.
#[test]
fn a_run_killed_while_saving_resumes_and_its_leftovers_are_cleared() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let mut run = Command::new(env!("CARGO_BIN_EXE_pixmo-train"))
        .args(
            "finetune --data shards --datasets clocks --model tiny --steps 30 --micro-batch 2 \
             --grad-accum 1 --seq-len 256 --checkpoint-every 1 --quiet --out r"
                .split_whitespace(),
        )
        .current_dir(dir.path())
        .env("RAYON_NUM_THREADS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoints = dir.path().join("r/checkpoints");
    let saved = || -> Vec<u64> {
        let mut steps: Vec<u64> = std::fs::read_dir(&checkpoints)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        name.strip_prefix("step-")?.parse().ok()
                    })
                    .collect()
            })
            .unwrap_or_default();
        steps.sort_unstable();
        steps
    };
    // Killed once three checkpoints are there (waiting on what the run has written).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while saved().len() < 3 && run.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "no checkpoints");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    run.kill().unwrap();
    run.wait().unwrap();
    let steps = saved();
    assert!(steps.len() >= 3, "{steps:?}");
    let cpu = Default::default();
    for n in &steps {
        let ck = checkpoints.join(format!("step-{n}"));
        let state = read_state(&ck).unwrap();
        load_model::<Cpu>(&ck, &state, &cpu)
            .unwrap_or_else(|e| panic!("step-{n} is not whole: {e}"));
    }
    // As a killed save leaves them: a folder being written, and (where the file system
    // cannot swap) the latest checkpoint moved aside.
    let host = pixmo_shards::lease::process_token()
        .split('-')
        .next()
        .unwrap()
        .to_string();
    let mut ended = Command::new("true").spawn().unwrap();
    ended.wait().unwrap();
    let dead = format!("{host}-{}-0000000000000001", ended.id());
    let latest = *steps.last().unwrap();
    // And a metrics line cut off (killed while writing it).
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("r/metrics.jsonl"))
        .unwrap();
    std::io::Write::write_all(&mut log, b"{\"step\":").unwrap();
    drop(log);
    std::fs::create_dir(checkpoints.join(format!(".step-{}.tmp-{dead}", latest + 1))).unwrap();
    std::fs::rename(
        checkpoints.join(format!("step-{latest}")),
        checkpoints.join(format!(".step-{latest}.old-{dead}")),
    )
    .unwrap();
    let out = pixmo_train(
        &format!(
            "finetune --data shards --datasets clocks --resume r/checkpoints/step-{latest} \
             --quiet --out r"
        ),
        dir.path(),
    );
    ok(&out, "resumed");
    let state = read_state(&checkpoints.join("last")).unwrap();
    assert_eq!(state.step, 30);
    let hidden: Vec<String> = std::fs::read_dir(&checkpoints)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    assert_eq!(saved(), (1..=30).collect::<Vec<u64>>());
    // The log holds each step once: the lines the killed run wrote after its last
    // checkpoint (steps taken again) and any line it was cut off writing are dropped.
    let metrics = std::fs::read_to_string(dir.path().join("r/metrics.jsonl")).unwrap();
    let logged: Vec<u64> = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|m| m.get("grad_norm").is_some())
        .map(|m| m["step"].as_u64().unwrap())
        .collect();
    assert_eq!(logged, (0..30).collect::<Vec<u64>>());
}

/// `--auto-resume`: one command line for a run's first start and every restart. It starts
/// the run when `--out` holds no checkpoint, resumes from the newest whole one when it does
/// (passing over one whose files are not the ones its save wrote), takes the steps the
/// uninterrupted run took, and refuses options that describe another run.
#[test]
fn auto_resume_starts_a_run_then_resumes_it_from_its_newest_whole_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let run = "finetune --data shards --datasets clocks --model tiny --steps 6 --micro-batch 2 \
               --grad-accum 1 --seq-len 256 --checkpoint-every 2 --quiet --auto-resume --out r";
    let losses = |dir: &Path| -> Vec<(u64, f64)> {
        std::fs::read_to_string(dir.join("r/metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|m| m.get("grad_norm").is_some())
            .map(|m| (m["step"].as_u64().unwrap(), m["loss"].as_f64().unwrap()))
            .collect()
    };
    // A run killed before its first save left a log and no checkpoint: started afresh.
    std::fs::create_dir_all(dir.path().join("r")).unwrap();
    std::fs::write(
        dir.path().join("r/metrics.jsonl"),
        "{\"step\":0,\"loss\":9}\n{\"st",
    )
    .unwrap();
    let out = pixmo_train(run, dir.path());
    ok(&out, "first start");
    let whole = losses(dir.path());
    assert_eq!(
        whole.iter().map(|l| l.0).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    assert_ne!(whole[0].1, 9.0);
    // As if it had been stopped after step 4's checkpoint, with steps 4 and 5 logged.
    let checkpoints = dir.path().join("r/checkpoints");
    std::fs::remove_dir_all(checkpoints.join("last")).unwrap();
    std::fs::remove_dir_all(checkpoints.join("step-6")).unwrap();
    let out = pixmo_train(run, dir.path());
    ok(&out, "restart");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("resuming from `r/checkpoints/step-4` (step 4)"),
        "{stderr}"
    );
    assert_eq!(
        losses(dir.path()),
        whole,
        "the steps of the uninterrupted run, once each"
    );
    // The newest checkpoint damaged: passed over, named, for the one before it.
    std::fs::remove_dir_all(checkpoints.join("last")).unwrap();
    std::fs::remove_dir_all(checkpoints.join("step-6")).unwrap();
    let model = checkpoints.join("step-4/model.mpk");
    let mut bytes = std::fs::read(&model).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&model, bytes).unwrap();
    let out = pixmo_train(run, dir.path());
    ok(&out, "restart past a damaged checkpoint");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`r/checkpoints/step-4` passed over")
            && stderr.contains("`model.mpk` is not the file its save wrote")
            && stderr.contains("resuming from `r/checkpoints/step-2` (step 2)"),
        "{stderr}"
    );
    assert_eq!(losses(dir.path()), whole);
    // Options of another run.
    let longer = run.replace("--steps 6", "--steps 8");
    refused(
        &pixmo_train(&longer, dir.path()),
        "`train.steps` is 8 by the options, 6 in the checkpoint",
    );
    let wider = format!("{run} --lr-llm 0.5");
    refused(&pixmo_train(&wider, dir.path()), "`train.schedule.");
}

/// `--attention-chunk` in the bench: the materialised path keeps each decoder layer's
/// `[batch, heads, seq, seq]` scores (and their softmax's) for the backward pass, the blocks
/// only each row's log-sum-exp; the bench's peak resident memory drops by at least two score
/// tensors per decoder layer, and the loss is the same. Blocks run as ordinary operations
/// through autodiff (keeping every block's scores: the dispatch to the one-operation path
/// missed) fail this.
#[test]
fn attention_in_blocks_lowers_the_bench_peak_memory_by_the_scores() {
    let dir = tempfile::tempdir().unwrap();
    let bench = |flag: &str| {
        let args = format!(
            "bench --model tiny --micro-batch 2 --seq-len 1024 --image-px 64 \
             --warmup-steps 0 --steps 1 {flag}"
        );
        let out = pixmo_train(&args, dir.path());
        ok(&out, flag);
        last_line(&out)["report"].clone()
    };
    let (whole, blocks) = (bench(""), bench("--attention-chunk 64"));
    let peak = |r: &serde_json::Value| r["peak_rss_bytes"].as_f64().expect("a peak on Linux");
    let tiny = pixmo_trainer::config::ModelConfig::tiny();
    let scores_bytes = 2.0 * tiny.llm.heads as f64 * 1024.0 * 1024.0 * 4.0;
    assert!(
        peak(&whole) - peak(&blocks) >= 2.0 * tiny.llm.layers as f64 * scores_bytes,
        "whole {} MB, blocks {} MB, one layer's f32 scores {} MB",
        peak(&whole) / 1e6,
        peak(&blocks) / 1e6,
        scores_bytes / 1e6
    );
    let loss = |r: &serde_json::Value| r["last_loss"].as_f64().unwrap();
    assert!((loss(&whole) - loss(&blocks)).abs() < 1e-5 * loss(&whole));
}

/// `--attention-chunk` as a user runs it: the run records it and takes the materialised
/// run's steps (loss and gradient norms up to rounding), with dropout, two micro-batches a
/// step and with activation checkpointing too (the other training backend); a plain run
/// resumed with it takes it up and the plain run's third step.
#[test]
fn a_finetune_with_attention_in_blocks_takes_the_steps_of_a_plain_one() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let finetune = "finetune --data shards --datasets clocks --model tiny --steps 3 \
                    --micro-batch 2 --grad-accum 2 --seq-len 256 --dropout 0.1 --quiet";
    for (run, flag) in [
        ("plain", "--checkpoint-every 2"),
        ("blocks", "--attention-chunk 7"),
        ("checkpointed", "--attention-chunk 50 --checkpointing"),
    ] {
        let args = format!("{finetune} {flag} --out {run}");
        ok(&pixmo_train(&args, dir.path()), run);
    }
    let chunk = |run: &str| run_config(&dir.path().join(run))["train"]["attention_chunk"].clone();
    assert_eq!(chunk("blocks"), serde_json::json!(7));
    assert_eq!(chunk("plain"), serde_json::Value::Null);
    let steps = |run: &str| step_losses_and_norms(&dir.path().join(run));
    let plain = steps("plain");
    assert_eq!(plain.len(), 3);
    steps_close(&plain, &steps("blocks"));
    steps_close(&plain, &steps("checkpointed"));
    let resume = "finetune --data shards --datasets clocks --resume plain/checkpoints/step-2";
    let args = format!("{resume} --attention-chunk 9 --quiet --out resumed");
    ok(&pixmo_train(&args, dir.path()), "resumed");
    assert_eq!(chunk("resumed"), serde_json::json!(9));
    steps_close(&plain[2..], &steps("resumed"));
}

/// The dial crop as a user runs it: refused without the truth file, with the reason; a
/// locator trained beside the truth file crops the clocks for a reader scored without
/// training (`--steps 0`); a jitter of a whole box or more is refused, and so is a run with
/// neither a time loss nor a dial loss. A turn teller trains on the scenes' rotations and
/// turns a reader's crops; a truth file without scenes, or a teller that is not one, is
/// refused with the reason (but held-out clocks without scenes are read, their turns
/// unscored).
#[test]
fn a_locator_crops_clocks_for_a_reader_and_missing_truth_is_refused() {
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let base = "probe --data shards --eval-data shards --eval-split train --model tiny --batch 4";
    refused(
        &pixmo_train(&format!("{base} --dial-crop truth --steps 2"), dir.path()),
        "has no `clock-truth.jsonl`",
    );
    let lines = bar_truth();
    std::fs::write(dir.path().join("shards/clock-truth.jsonl"), &lines).unwrap();
    let locate =
        format!("{base} --dial-loss 10 --locator heatmap --steps 3 --eval-every 3 --save loc");
    let out = pixmo_train(&locate, dir.path());
    ok(&out, "locator");
    let last = last_line(&out);
    assert!(last.get("test_dial_iou").is_some(), "{last}");
    let read = format!("{base} --dial-crop loc --steps 0");
    let out = pixmo_train(&read, dir.path());
    ok(&out, "reader on the locator's crops");
    let line = last_line(&out);
    assert_eq!(line["step"], 0, "{line}");
    assert!(line["test_acc"].is_number(), "{line}");
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop truth --dial-jitter 1.5 --steps 2"),
            dir.path(),
        ),
        "`--dial-jitter` is 1.5",
    );
    // A chain of locators starts with one that saw whole images; the true boxes do not chain.
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop loc --dial-crop loc --steps 0"),
            dir.path(),
        ),
        "was trained on whole images",
    );
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop truth --dial-crop loc --steps 0"),
            dir.path(),
        ),
        "cannot be chained",
    );
    // Nothing to train: no time loss and no dial loss.
    refused(
        &pixmo_train(&format!("{base} --read-loss 0 --steps 2"), dir.path()),
        "`--read-loss` is 0",
    );
    // Turning crops upright needs each clock's scene in the truth file.
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop truth --truth-upright --steps 0"),
            dir.path(),
        ),
        "build the clocks again",
    );
    let with_scenes: String = (0..8)
        .map(|k| {
            format!(
                "{{\"example_id\":\"c{k}\",\"truth\":{{\"dial_box\":[{},0,{},40]}},\"scene\":{{\"rotation_deg\":{}}}}}\n",
                5 * k,
                5 * k + 5,
                40 * k - 140
            )
        })
        .collect();
    std::fs::write(dir.path().join("shards/clock-truth.jsonl"), with_scenes).unwrap();
    // Held-out clocks whose truth has no scenes are read by a teller, their turns unscored.
    clock_shard(&dir.path().join("heldout"));
    std::fs::write(dir.path().join("heldout/clock-truth.jsonl"), &lines).unwrap();
    let unscored = pixmo_train(
        &format!(
            "{} --dial-crop truth --turn-loss 1 --read-loss 0 --steps 2 --eval-every 2",
            base.replace("--eval-data shards", "--eval-data heldout")
        ),
        dir.path(),
    );
    ok(&unscored, "a teller scored on clocks without scenes");
    let last = last_line(&unscored);
    assert!(last.get("train_turn_error").is_some(), "{last}");
    assert!(last.get("test_turn_error").is_none(), "{last}");
    assert!(
        String::from_utf8_lossy(&unscored.stderr).contains("are not scored"),
        "{}",
        String::from_utf8_lossy(&unscored.stderr)
    );
    let tell = format!(
        "{base} --dial-crop truth --turn-loss 1 --read-loss 0 --steps 3 --eval-every 3 --save tell"
    );
    let out = pixmo_train(&tell, dir.path());
    ok(&out, "turn teller");
    let last = last_line(&out);
    assert!(last.get("test_turn_error").is_some(), "{last}");
    ok(
        &pixmo_train(
            &format!("{tell} --random-turn --init-probe tell"),
            dir.path(),
        ),
        "a turn teller on crops turned at random",
    );
    // A teller over arcs of the circle; its arcs are 4 to 360, and it needs a turn loss.
    ok(
        &pixmo_train(&format!("{tell}arcs --turn-bins 12"), dir.path()),
        "a turn teller over arcs",
    );
    ok(
        &pixmo_train(
            &format!("{base} --dial-crop truth --derotate tellarcs --steps 0"),
            dir.path(),
        ),
        "a reader on crops turned upright by the teller over arcs",
    );
    // ... and weighs its arcs by how the turns of a folder's clocks are spread; the
    // predictions say how far each crop it turned is still turned.
    let weighed = pixmo_train(
        &format!(
            "{base} --dial-crop truth --derotate tellarcs --turn-prior shards --steps 0 --predictions left.jsonl"
        ),
        dir.path(),
    );
    ok(
        &weighed,
        "a reader on crops turned by the teller over arcs, weighed",
    );
    // The run's header names the prior, so its figures say what they were weighed by.
    let stdout = String::from_utf8_lossy(&weighed.stdout);
    let header: serde_json::Value =
        serde_json::from_str(stdout.lines().next().expect("a header")).expect("a JSON header");
    assert_eq!(header["turn_prior"], "shards", "{header}");
    let left = std::fs::read_to_string(dir.path().join("left.jsonl")).unwrap();
    for line in left.lines() {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        let turned = line["turn_left"].as_f64().unwrap();
        assert!((0.0..=180.0).contains(&turned), "{line}");
    }
    // Told through four quarter turns of each crop, the prior counting half: the flags reach
    // the run's header and the teller (a run that dropped them would turn the crops alike).
    let spun = pixmo_train(
        &format!(
            "{base} --dial-crop truth --derotate tellarcs --turn-prior shards --teller-spins 4 --turn-prior-weight 0.5 --steps 0 --predictions spun.jsonl"
        ),
        dir.path(),
    );
    ok(&spun, "a teller over arcs told through quarter turns");
    let stdout = String::from_utf8_lossy(&spun.stdout);
    let header: serde_json::Value =
        serde_json::from_str(stdout.lines().next().expect("a header")).expect("a JSON header");
    assert_eq!(header["teller_spins"], 4, "{header}");
    assert_eq!(header["turn_prior_weight"], 0.5, "{header}");
    let turns_left = |file: &str| -> Vec<f64> {
        std::fs::read_to_string(dir.path().join(file))
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["turn_left"]
                    .as_f64()
                    .unwrap()
            })
            .collect()
    };
    assert_ne!(turns_left("spun.jsonl"), turns_left("left.jsonl"));
    // Two tellers over arcs together: their arcs' mean turns the crops, not either alone's.
    ok(
        &pixmo_train(&format!("{tell}arcs2 --turn-bins 12 --seed 5"), dir.path()),
        "a second turn teller over arcs",
    );
    ok(
        &pixmo_train(&format!("{tell}arcs6 --turn-bins 6"), dir.path()),
        "a turn teller over six arcs",
    );
    for (tellers, file) in [
        ("--derotate tellarcs2", "second.jsonl"),
        ("--derotate tellarcs --derotate tellarcs2", "both.jsonl"),
    ] {
        let run = pixmo_train(
            &format!(
                "{base} --dial-crop truth {tellers} --turn-prior shards --steps 0 --predictions {file}"
            ),
            dir.path(),
        );
        ok(&run, tellers);
    }
    let both = turns_left("both.jsonl");
    assert_ne!(both, turns_left("left.jsonl"));
    assert_ne!(both, turns_left("second.jsonl"));
    for (args, reason) in [
        (
            "--derotate tellarcs --turn-prior shards --turn-prior-weight=-1",
            "--turn-prior-weight",
        ),
        ("--derotate tell --teller-spins 4", "--teller-spins"),
        ("--derotate tellarcs --teller-spins 37", "--teller-spins"),
        ("--derotate tellarcs --turn-prior-weight 2", "--turn-prior"),
        ("--derotate tellarcs --derotate tell", "cosine and sine"),
        (
            "--derotate tellarcs --derotate tellarcs6",
            "12 arcs and `tellarcs6` 6",
        ),
        (
            "--init-probe tellarcs --derotate tellarcs --derotate tellarcs2 --turn-candidates 2",
            "give `--derotate` once",
        ),
    ] {
        refused(
            &pixmo_train(
                &format!("{base} --dial-crop truth {args} --steps 0"),
                dir.path(),
            ),
            reason,
        );
    }
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop truth --derotate tell --turn-prior shards --steps 0"),
            dir.path(),
        ),
        "tells the turn's cosine and sine",
    );
    refused(
        &pixmo_train(&format!("{tell}arcs --turn-bins 2"), dir.path()),
        "it takes 4 to 360",
    );
    refused(
        &pixmo_train(&format!("{base} --turn-bins 12 --steps 1"), dir.path()),
        "it needs `--turn-loss W`",
    );
    // A saved reader records how its crops were turned, and one read on crops turned
    // otherwise says so.
    ok(
        &pixmo_train(
            &format!("{base} --dial-crop truth --truth-upright --steps 1 --save upright"),
            dir.path(),
        ),
        "a reader on crops turned upright by the truth",
    );
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("upright/probe.json")).unwrap())
            .unwrap();
    assert_eq!(saved["turned"], "truth", "{saved}");
    // The reader checks the teller's likeliest turns: one candidate is the teller's own
    // turn (the same readings), three are recorded in the header, and the check reads a
    // saved reader as it is.
    let checked = |k: usize| {
        let out = pixmo_train(
            &format!(
                "{base} --dial-crop truth --init-probe upright --derotate tellarcs --turn-prior shards --turn-candidates {k} --reader-weight 2 --steps 0 --predictions checked{k}.jsonl"
            ),
            dir.path(),
        );
        ok(&out, &format!("{k} candidate turns"));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let header: serde_json::Value =
            serde_json::from_str(stdout.lines().next().expect("a header")).unwrap();
        assert_eq!(header["turn_candidates"], k, "{header}");
        assert_eq!(header["reader_weight"], 2.0, "{header}");
        (
            last_line(&out),
            std::fs::read_to_string(dir.path().join(format!("checked{k}.jsonl"))).unwrap(),
        )
    };
    let plain = pixmo_train(
        &format!(
            "{base} --dial-crop truth --init-probe upright --derotate tellarcs --turn-prior shards --steps 0 --predictions plain.jsonl"
        ),
        dir.path(),
    );
    ok(&plain, "the upright reader through the teller");
    let (one, one_read) = checked(1);
    assert_eq!(one["test_acc"], last_line(&plain)["test_acc"], "{one}");
    assert_eq!(
        one_read,
        std::fs::read_to_string(dir.path().join("plain.jsonl")).unwrap()
    );
    let (three, three_read) = checked(3);
    assert!(three["test_acc"].is_number(), "{three}");
    assert_eq!(three_read.lines().count(), one_read.lines().count());
    for k in ["2 --steps 1", "0 --steps 0"] {
        refused(
            &pixmo_train(
                &format!(
                    "{base} --dial-crop truth --init-probe upright --derotate tellarcs --turn-candidates {k}"
                ),
                dir.path(),
            ),
            "`--turn-candidates",
        );
    }
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop truth --derotate tellarcs --turn-candidates 2 --steps 0"),
            dir.path(),
        ),
        "with the reader as `--init-probe`",
    );
    refused(
        &pixmo_train(
            &format!(
                "{base} --dial-crop truth --init-probe upright --derotate tell --turn-candidates 2 --steps 0"
            ),
            dir.path(),
        ),
        "tells no arcs",
    );
    let unturned = pixmo_train(
        &format!("{base} --dial-crop truth --init-probe upright --steps 0"),
        dir.path(),
    );
    ok(&unturned, "the upright reader on unturned crops");
    let stderr = String::from_utf8_lossy(&unturned.stderr);
    assert!(
        stderr.contains("was trained on crops turned by truth; these are not turned"),
        "{stderr}"
    );
    // `--turn-jitter` leaves each training crop a little off upright: the crops the first
    // step trains on differ (its loss with them), none at all is the upright run bit for bit,
    // the saved reader says so, and it needs the truth's turn and a bound of 0 to 180.
    let first_loss = |extra: &str| {
        let out = pixmo_train(
            &format!("{base} --dial-crop truth --truth-upright --steps 1 --eval-every 1 {extra}"),
            dir.path(),
        );
        ok(&out, extra);
        last_line(&out)["loss"].as_f64().expect("a loss")
    };
    let upright = first_loss("");
    assert_eq!(
        upright,
        first_loss("--turn-jitter 0"),
        "no jitter: the same crops"
    );
    assert_ne!(
        upright,
        first_loss("--turn-jitter 90"),
        "jittered crops, another loss"
    );
    ok(
        &pixmo_train(
            &format!(
                "{base} --dial-crop truth --truth-upright --turn-jitter 10 --steps 1 --save jittered"
            ),
            dir.path(),
        ),
        "a reader on crops left up to 10 degrees off upright",
    );
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("jittered/probe.json")).unwrap())
            .unwrap();
    assert_eq!(saved["turned"], "truth, left up to 10° off", "{saved}");
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop truth --turn-jitter 10 --steps 1"),
            dir.path(),
        ),
        "--truth-upright",
    );
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop truth --truth-upright --turn-jitter 200 --steps 1"),
            dir.path(),
        ),
        "it takes 0 to 180 degrees",
    );
    ok(
        &pixmo_train(
            &format!("{base} --dial-crop truth --derotate tell --steps 0"),
            dir.path(),
        ),
        "a reader on crops turned upright by the teller",
    );
    // A teller is a probe with a turn head, trained on crops.
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop truth --derotate loc --steps 0"),
            dir.path(),
        ),
        "trained on whole images",
    );
    ok(
        &pixmo_train(
            &format!("{base} --dial-crop truth --steps 1 --save reader"),
            dir.path(),
        ),
        "a reader on crops",
    );
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop truth --derotate reader --steps 0"),
            dir.path(),
        ),
        "has no turn head",
    );
}

/// `--predictions` writes one line per held-out clock, by id, with that clock's own time as
/// gold and the probe's reading of that clock (it reads nearly all eight, so readings paired
/// with the wrong clocks would change the shares), and the lines' hour and within-3-minutes
/// shares are the scores the run printed last (it reports after every step, and the first
/// step's model reads fewer clocks right: the readings are the last report's, not an
/// earlier model's); each line carries the heads' probabilities it was read from.
#[test]
fn the_predictions_file_has_each_held_out_clock_and_agrees_with_the_score() {
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let out = pixmo_train(
        "probe --data shards --eval-data shards --eval-split train --model tiny --batch 4 \
         --minutes --steps 60 --eval-every 1 --lr 3e-3 --predictions read.jsonl",
        dir.path(),
    );
    ok(&out, "probe with --predictions");
    let last = last_line(&out);
    // The probe reads (nearly) every clock, so a reading paired with another clock's gold
    // shows in the lines' shares.
    assert!(last["test_acc"].as_f64().unwrap() >= 0.875, "{last}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["step"] == 1)
        .expect("a report after the first step");
    assert!(
        first["test_acc"].as_f64().unwrap() < last["test_acc"].as_f64().unwrap(),
        "the first step's model must read fewer clocks right: {first}"
    );
    let text = std::fs::read_to_string(dir.path().join("read.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let gold: std::collections::HashMap<String, [u64; 2]> = [
        [1, 5],
        [2, 17],
        [3, 29],
        [4, 41],
        [7, 53],
        [9, 0],
        [11, 36],
        [0, 48],
    ]
    .iter()
    .enumerate()
    .map(|(k, t)| (format!("c{k}"), *t))
    .collect();
    let mut seen: Vec<String> = lines
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    let mut want: Vec<String> = gold.keys().cloned().collect();
    want.sort();
    assert_eq!(seen, want, "one line per held-out clock");
    let (mut right, mut close) = (0.0, 0.0);
    for l in &lines {
        let g = gold[l["id"].as_str().unwrap()];
        assert_eq!(l["gold"], serde_json::json!(g), "{l}");
        let hour_right = l["hour"].as_u64() == Some(g[0]);
        assert_eq!(l["hour_right"], hour_right, "{l}");
        let read = l["hour"].as_i64().unwrap() * 60 + l["minute"].as_i64().unwrap();
        let diff = (read - i64::try_from(g[0] * 60 + g[1]).unwrap()).rem_euclid(720);
        assert_eq!(l["close"], diff.min(720 - diff) <= 3, "{l}");
        right += f64::from(u8::from(hour_right)) / 8.0;
        close += f64::from(u8::from(l["close"] == true)) / 8.0;
        assert!(l["dial_iou"].is_null(), "no dial head: {l}");
        // The heads' probabilities: the hour read is the hour head's likeliest, the minute
        // the minute head's; without a hand head the hour hand's arcs are the 12 hours.
        let probs = |key: &str, n: usize| -> Vec<f64> {
            let p: Vec<f64> = l[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            assert_eq!(p.len(), n, "{key}: {l}");
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-2, "{key}: {l}");
            p
        };
        let likeliest = |p: &[f64]| (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        let (hours, minutes) = (probs("hour_p", 12), probs("minute_p", 60));
        assert_eq!(probs("hand_p", 12), hours, "{l}");
        assert_eq!(
            l["hour"].as_u64(),
            u64::try_from(likeliest(&hours)).ok(),
            "{l}"
        );
        assert_eq!(
            l["minute"].as_u64(),
            u64::try_from(likeliest(&minutes)).ok(),
            "{l}"
        );
    }
    assert!(
        (last["test_acc"].as_f64().unwrap() - right).abs() < 1e-9,
        "{last}"
    );
    assert!(
        (last["test_close"].as_f64().unwrap() - close).abs() < 1e-9,
        "{last}"
    );
}

/// `--box-cache`: the boxes a chain of locators finds are kept under a key of what they
/// depend on and read back by a later run, which then scores exactly what a run locating
/// afresh scores; the file is really what the run reads (boxes written into it change the
/// scores), another locator is another file, and a damaged file is reported and replaced.
#[test]
fn a_box_cache_gives_what_locating_gives_and_is_what_a_later_run_reads() {
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    // The last clock's time cannot be read: no run crops it, so no box is found for it.
    clock_shard_of(
        &dir.path().join("shards"),
        [
            "1:05", "2:17", "3:29", "4:41", "7:53", "9:00", "11:36", "noon",
        ],
    );
    let lines = bar_truth();
    std::fs::write(dir.path().join("shards/clock-truth.jsonl"), &lines).unwrap();
    let base = "probe --data shards --eval-data shards --eval-split train --model tiny --batch 4";
    for (name, steps) in [("loc", 3), ("loc2", 4)] {
        let out = pixmo_train(
            &format!(
                "{base} --dial-loss 10 --locator heatmap --steps {steps} --eval-every {steps} --save {name}"
            ),
            dir.path(),
        );
        ok(&out, "locator");
    }
    let out = pixmo_train(
        &format!(
            "{base} --dial-crop loc --dial-loss 10 --locator heatmap --steps 2 --eval-every 2 --save ref"
        ),
        dir.path(),
    );
    ok(&out, "a locator on crops");
    // The chain's boxes scored by a locator reading their crops: each clock's IoU hangs on
    // its crop box.
    let chain = |locator: &str, cache: &str, to: &str| {
        let out = pixmo_train(
            &format!(
                "{base} --init-probe ref --dial-crop {locator} --dial-loss 10 --locator heatmap \
                 --read-loss 0 --steps 0 --predictions {to} {cache}"
            ),
            dir.path(),
        );
        ok(&out, to);
        let text = std::fs::read_to_string(dir.path().join(to)).unwrap();
        let ious: Vec<(String, f64)> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["id"].as_str().unwrap().into(),
                    v["dial_iou"].as_f64().unwrap(),
                )
            })
            .collect();
        (ious, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("boxes"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let (fresh, _) = chain("loc", "", "fresh.jsonl");
    assert_eq!(fresh.len(), 7);
    let (first, said) = chain("loc", "--box-cache boxes", "first.jsonl");
    assert_eq!(
        first, fresh,
        "a run filling the cache scores what locating scores"
    );
    // The training and held-out clocks are the same here: one file, the second look a hit.
    assert_eq!(files().len(), 1, "{:?}", files());
    assert_eq!(said.matches("are read from").count(), 1, "{said}");
    let (again, said) = chain("loc", "--box-cache boxes", "again.jsonl");
    assert_eq!(again, fresh, "boxes read back score what locating scores");
    assert_eq!(said.matches("are read from").count(), 2, "{said}");
    // What the file says is what the run crops to: each box moved 3 px to the right.
    let path = dir.path().join("boxes").join(&files()[0]);
    let moved: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v.get("box").is_some() {
                for i in [0, 2] {
                    v["box"][i] = serde_json::json!(v["box"][i].as_f64().unwrap() + 3.0);
                }
            }
            format!("{v}\n")
        })
        .collect();
    std::fs::write(&path, moved).unwrap();
    let (planted, _) = chain("loc", "--box-cache boxes", "planted.jsonl");
    assert_ne!(planted, fresh, "the planted boxes were not the ones read");
    // Another locator is another file, and the first stays.
    let (other, _) = chain("loc2", "--box-cache boxes", "other.jsonl");
    assert_eq!(files().len(), 2, "{:?}", files());
    assert_ne!(other, planted);
    // A damaged file: said, found again, replaced.
    std::fs::write(&path, "{\"id\":\"c0\",\"box\":[0,0,").unwrap();
    let (mended, said) = chain("loc", "--box-cache boxes", "mended.jsonl");
    assert!(said.contains("is not used"), "{said}");
    assert_eq!(mended, fresh);
    let (_, said) = chain("loc", "--box-cache boxes", "mended2.jsonl");
    assert_eq!(said.matches("are read from").count(), 2, "{said}");
    // A second locator found through views (`--locator-views`): its boxes, the mean of
    // looks at its crops moved at random, are other boxes, cached apart; views that do not
    // move find the boxes one look finds.
    let boxes_of = |run: &str, file: &str| -> Vec<Vec<f64>> {
        let before = files();
        chain(
            "loc --dial-crop ref",
            &format!("--box-cache boxes {run}"),
            file,
        );
        let new: Vec<String> = files()
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        assert_eq!(new.len(), 1, "{run}: {new:?}");
        std::fs::read_to_string(dir.path().join("boxes").join(&new[0]))
            .unwrap()
            .lines()
            .filter_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.get("box").map(|b| {
                    b.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_f64().unwrap())
                        .collect()
                })
            })
            .collect()
    };
    // The first locator's boxes (3 steps: a speck each) planted as boxes of a dial's size,
    // so that moving them moves the second's crops.
    let sized: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v.get("box").is_some() {
                v["box"] = serde_json::json!([8.0, 9.0, 31.0, 30.0]);
            }
            format!("{v}\n")
        })
        .collect();
    std::fs::write(&path, sized).unwrap();
    let once = boxes_of("", "once.jsonl");
    assert_eq!(once.len(), 7);
    let viewed = boxes_of("--locator-views 3", "viewed.jsonl");
    let still = boxes_of("--locator-views 3 --locator-jitter 0", "still.jsonl");
    let apart = |a: &[Vec<f64>], b: &[Vec<f64>]| -> f64 {
        a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    assert!(
        apart(&viewed, &once) > 0.01,
        "three looks found what one finds"
    );
    assert!(apart(&still, &once) < 1e-3, "{still:?} against {once:?}");
    refused(
        &pixmo_train(
            &format!("{base} --dial-crop loc --locator-views 2 --locator-jitter 1 --steps 0"),
            dir.path(),
        ),
        "`--locator-jitter` is 1",
    );
    refused(
        &pixmo_train(&format!("{base} --lr-end 2e-3 --steps 2"), dir.path()),
        "`--lr-end` is 0.002",
    );
}

/// `--augment-*` as a user runs it: a reader trains with it and its saved settings say so;
/// a bound past its range, or a locator under it, is refused before any clock is read, as
/// are `--views`, `--teller-views` and `--joint` out of range or without what they need.
#[test]
fn an_augmented_reader_saves_its_bounds_and_bad_bounds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let probe = "probe --data shards --eval-data shards --eval-split train --model tiny \
                 --minutes --steps 2 --eval-every 2 --batch 4 --augment-turn 8 \
                 --augment-colour 0.2 --save vis";
    let out = pixmo_train(probe, dir.path());
    ok(&out, "augmented probe");
    assert_eq!(last_line(&out)["step"], 2);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("vis/probe.json")).unwrap()).unwrap();
    let augment = &saved["settings"]["augment"];
    assert_eq!(augment["turn"], 8.0, "{saved}");
    assert!((augment["colour"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert_eq!(augment["scale"], 0.0);
    // Missing clocks would be an error too: these are refused for their flags first.
    for (args, reason) in [
        ("--augment-scale 1", "scale"),
        ("--augment-turn=-3", "turn"),
        ("--augment-shift 0.1 --dial-loss 1", "it is for readers"),
        // And the ways of reading that need another flag, or a count of 1 to 64.
        ("--views 0", "--views"),
        ("--views 65", "--views"),
        ("--minutes --overlap-discount 0.5", "--joint"),
        ("--joint", "--minutes"),
        ("--teller-views 4", "--derotate"),
    ] {
        let run = format!("probe --data missing --model tiny --steps 1 {args}");
        refused(&pixmo_train(&run, dir.path()), reason);
    }
}

/// A saved reader continued with `--hand-bins` gets a hand head, saved with it: loaded
/// again it reads with `--hour-by-minute` (or jointly through several views), a run that
/// leaves the number out continues with the one it has (reading the same as naming it), and
/// one that names another number of arcs is refused with the number it has.
#[test]
fn a_hand_head_is_added_to_a_saved_reader_saved_with_it_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    clock_shard(&dir.path().join("shards"));
    let base = "probe --data shards --eval-data shards --eval-split train --model tiny \
                --minutes --batch 4 --eval-every 2";
    ok(
        &pixmo_train(&format!("{base} --steps 2 --save a"), dir.path()),
        "reader",
    );
    let added = pixmo_train(
        &format!("{base} --steps 2 --init-probe a --hand-bins 12 --save b"),
        dir.path(),
    );
    ok(&added, "reader with a hand head");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("b/probe.json")).unwrap()).unwrap();
    assert_eq!(saved["settings"]["hand_bins"], 12, "{saved}");
    let read = pixmo_train(
        &format!("{base} --steps 0 --init-probe b --hand-bins 12 --hour-by-minute"),
        dir.path(),
    );
    ok(&read, "reading through the hand head");
    assert!(last_line(&read)["test_acc"].is_number());
    // Read through three views, jointly: the flags reach the run's settings, the held-out
    // clocks keep their image for the views (without it every view is the plain one and the
    // probabilities would not move), and the same run reads the same again.
    let hand_p = |run: &str, file: &str| -> Vec<serde_json::Value> {
        let out = pixmo_train(
            &format!("{base} --steps 0 --init-probe b --hand-bins 12 {run} --predictions {file}"),
            dir.path(),
        );
        ok(&out, run);
        let first: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap())
                .unwrap();
        if run.contains("--views 3") {
            assert_eq!(first["settings"]["views"], 3, "{first}");
            assert_eq!(first["settings"]["joint"], 0.5, "{first}");
        }
        std::fs::read_to_string(dir.path().join(file))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["hand_p"].clone())
            .collect()
    };
    let viewed = "--views 3 --augment-turn 8 --augment-colour 0.3 --joint --overlap-discount 0.5";
    let plain = hand_p("--hour-by-minute", "plain.jsonl");
    let seen = hand_p(viewed, "viewed.jsonl");
    assert_ne!(plain, seen, "three views read as one");
    assert_eq!(seen, hand_p(viewed, "again.jsonl"));
    let unnamed = pixmo_train(
        &format!("{base} --steps 0 --init-probe b {viewed} --predictions unnamed.jsonl"),
        dir.path(),
    );
    ok(&unnamed, "continued without --hand-bins");
    let header: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&unnamed.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["settings"]["hand_bins"], 12, "{header}");
    let unnamed_p: Vec<serde_json::Value> =
        std::fs::read_to_string(dir.path().join("unnamed.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["hand_p"].clone())
            .collect();
    assert_eq!(unnamed_p, seen, "the saved hand head, read as when named");
    let run = format!("{base} --steps 0 --init-probe b --hand-bins 24");
    refused(&pixmo_train(&run, dir.path()), "--hand-bins 12");
}
