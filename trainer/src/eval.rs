//! Evaluation hooks: greedy decoding, then clock reading (exact and close, after Molmo's
//! `ClockEval`) and counting (exact and within one, after `PointCountEval`) scored by
//! `pixmo-eval`, the library behind `pixmo eval`, so the trainer and the CLI give the same
//! numbers; caption validation loss in [`crate::train::validation_loss`].

use burn::prelude::*;

use crate::batch::{Packed, collate, pack};
use crate::config::ModelConfig;
use crate::format::{FormattedText, Stage};
use crate::model::{Molmo, ResidualDropout};
use crate::preprocess::ImageInput;
use crate::tokenizer::Tokenizer;
use pixmo_eval::clock::{ClockGold, hour_error, parse_time, score_clock};
use pixmo_eval::count::score_count;

/// The gold of a clock label (`H:MM` or `H:MM:SS`): seconds are scored only when the face
/// shows a second hand. `None` when the label holds no time.
#[must_use]
pub fn clock_gold(label: &str, shows_seconds: bool) -> Option<ClockGold> {
    let time = parse_time(label)?;
    Some(ClockGold {
        hour: Some(time.hour),
        minute: Some(time.minute),
        second: if shows_seconds { time.second } else { None },
    })
}

/// Molmo's tolerance for a "close" clock reading on synthetic clocks, in minutes.
pub const CLOSE_MINUTES: u32 = 3;

/// Greedy decoding of up to `max_new` tokens for each (image, prompt), in one batch.
pub fn greedy_decode<B: Backend>(
    model: &Molmo<B>,
    config: &ModelConfig,
    tok: &Tokenizer,
    items: &[(ImageInput, String)],
    max_new: usize,
    device: &B::Device,
) -> Vec<String> {
    greedy_decode_ids(model, config, tok, items, max_new, device)
        .iter()
        .map(|ids| tok.decode(ids))
        .collect()
}

/// [`greedy_decode`] as token ids: the tokens generated for each item, without the EOS
/// that ended it (if one did within `max_new`).
pub fn greedy_decode_ids<B: Backend>(
    model: &Molmo<B>,
    config: &ModelConfig,
    tok: &Tokenizer,
    items: &[(ImageInput, String)],
    max_new: usize,
    device: &B::Device,
) -> Vec<Vec<u32>> {
    let mut seqs: Vec<Packed> = items
        .iter()
        .map(|(image, prompt)| {
            let text = FormattedText {
                prompt: prompt.clone(),
                response: String::new(),
            };
            let mut p = pack(image.clone(), &[text], Stage::Finetune, tok, usize::MAX);
            p.targets.pop();
            p.tokens.pop();
            p.weights.pop();
            p.segments.pop();
            p.positions.pop();
            p
        })
        .collect();
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); items.len()];
    let mut done = vec![false; items.len()];
    for _ in 0..max_new {
        if done.iter().all(|&d| d) {
            break;
        }
        let batch = collate::<B>(&seqs, &config.vision, device);
        let logits = model.forward(&batch, &ResidualDropout::Off);
        let [b, s, v] = logits.dims();
        let next: Vec<i64> = logits
            .reshape([b * s, v])
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .to_vec()
            .unwrap_or_default();
        for (i, seq) in seqs.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            let last = seq.tokens.len() - 1;
            let t = u32::try_from(next[i * s + last]).unwrap_or(tok.eos());
            if t == tok.eos() {
                done[i] = true;
                continue;
            }
            out[i].push(t);
            seq.tokens.push(t);
            seq.targets.push(0);
            seq.weights.push(0.0);
            seq.segments.push(1);
            seq.positions.push(seq.positions[last] + 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_gold_with_seconds_only_when_shown() {
        let gold = clock_gold("10:08:32", true).unwrap();
        assert_eq!(
            (gold.hour, gold.minute, gold.second),
            (Some(10), Some(8), Some(32))
        );
        assert_eq!(clock_gold("10:08:32", false).unwrap().second, None);
        assert_eq!(clock_gold("no time", true), None);
        let gold = clock_gold("10:08:32", true).unwrap();
        let s = score_clock("It is 10:08:35.", gold, CLOSE_MINUTES);
        assert!(!s.exact && s.close);
        let gold = clock_gold("10:08:32", false).unwrap();
        assert!(score_clock("It is 10:08:35.", gold, CLOSE_MINUTES).exact);
        let wrap = score_clock("12:58", clock_gold("1:01", false).unwrap(), CLOSE_MINUTES);
        assert!(wrap.close && !wrap.hour && !wrap.exact);
    }

    #[test]
    fn a_report_totals_its_predictions_and_samples_them_evenly() {
        let p = |i: usize, valid, exact, close, hour: Option<bool>| Prediction {
            id: format!("r{i}"),
            dataset: if hour.is_some() { "clocks" } else { "count" }.into(),
            expected: i.to_string(),
            generated: format!("g{i}"),
            valid,
            exact,
            close,
            hour,
            hour_error: (hour == Some(false)).then(|| format!("kind{}", i % 2)),
            unreadable: None,
        };
        let preds = vec![
            p(0, true, true, true, Some(true)),
            p(1, true, false, true, Some(true)),
            p(2, true, false, false, Some(true)),
            p(3, false, false, false, Some(false)),
            p(4, true, false, true, None),
            p(5, true, true, true, None),
            p(6, true, false, false, None),
            p(7, true, false, false, Some(false)),
            p(8, true, false, true, Some(false)),
            p(9, true, false, false, None),
        ];
        let r = EvalReport::from_predictions(&preds);
        let totals = (
            r.clocks,
            r.clock_valid,
            r.clock_exact,
            r.clock_close,
            r.clock_hour,
        );
        assert_eq!(totals, (6, 5, 1, 3, 3));
        assert_eq!((r.counts, r.count_exact, r.count_close), (4, 1, 2));
        let kinds: Vec<(&str, usize)> = r
            .clock_hour_errors
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        assert_eq!(kinds, [("kind0", 1), ("kind1", 2)]);
        let picked: Vec<&str> = r.samples.iter().map(|s| s.1.as_str()).collect();
        assert_eq!(picked, ["0", "2", "4", "6", "8"]);
        assert_eq!(r.samples[1].0, "g2");
        assert_eq!(EvalReport::from_predictions(&preds[..2]).samples.len(), 2);
        assert_eq!(EvalReport::from_predictions(&[]), EvalReport::default());
        // An unreadable image is counted apart, not scored as a wrong answer.
        let mut unreadable = p(10, false, false, false, None);
        unreadable.unreadable = Some("not an image".into());
        let mut with = preds.clone();
        with.insert(3, unreadable);
        let r_with = EvalReport::from_predictions(&with);
        assert_eq!(r_with.unreadable, 1);
        assert_eq!(
            EvalReport {
                unreadable: 0,
                ..r_with
            },
            r
        );
    }
}

/// Totals of one evaluation.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalReport {
    /// Clocks scored.
    pub clocks: usize,
    /// Clocks read exactly.
    pub clock_exact: usize,
    /// Clocks read within 3 minutes.
    pub clock_close: usize,
    /// Clocks whose hour was right.
    pub clock_hour: usize,
    /// Clock answers with a parseable time.
    pub clock_valid: usize,
    /// Counts scored.
    pub counts: usize,
    /// Counts exactly right.
    pub count_exact: usize,
    /// Counts within one.
    pub count_close: usize,
    /// Caption validation loss (per token), when captions were given.
    pub caption_loss: Option<f64>,
    /// Wrong clock hours by kind ([`pixmo_eval::clock::HourError::name`]).
    #[serde(default)]
    pub clock_hour_errors: std::collections::BTreeMap<String, usize>,
    /// Examples not scored because their image could not be decoded.
    #[serde(default)]
    pub unreadable: usize,
    /// A few (generated, expected) pairs for reading.
    pub samples: Vec<(String, String)>,
}

/// The prompt an example is evaluated with: its first task as formatted for fine-tuning,
/// with the style tag always present for non-demo styles and absent for demo styles.
#[must_use]
pub fn eval_prompt(task: &crate::format::Task) -> String {
    use crate::format::{DEMO_STYLES, Task, user_turn};
    let style = task.style();
    let tag = if DEMO_STYLES.contains(&style) {
        String::new()
    } else {
        format!("{style}: ")
    };
    let question = match task {
        Task::Qa { question, .. } => question.clone(),
        Task::Counting { label, .. } => format!("How many {label} are there?"),
        Task::Pointing { label, .. } => format!("Point to {label}"),
        Task::Caption(_) | Task::Transcript(_) => "Describe this image.".to_string(),
    };
    user_turn(&format!("{tag}{question}"))
}

/// One scored example: what the model generated, what was expected, and the scores.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Prediction {
    /// Row id of the example.
    pub id: String,
    /// Dataset name (`clocks`, `count`, ...).
    pub dataset: String,
    /// What the label says (a clock's time, a count).
    pub expected: String,
    /// The greedy decoding.
    pub generated: String,
    /// An answer was read from the generation.
    pub valid: bool,
    /// Exactly right.
    pub exact: bool,
    /// Close: within 3 minutes (clocks), within one (counts).
    pub close: bool,
    /// The hour was right (clocks only).
    pub hour: Option<bool>,
    /// What kind of misreading a wrong hour is ([`pixmo_eval::clock::HourError::name`];
    /// clocks showing the hour and minute only).
    pub hour_error: Option<String>,
    /// Why the example's image could not be decoded (it is then not scored, and counted in
    /// [`EvalReport::unreadable`] instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// Greedy-decodes answers for clock and count examples and scores each one, in the order of
/// `examples`; examples without an evaluation target are skipped, and those whose image
/// cannot be decoded come back unscored with the reason ([`Prediction::unreadable`]).
pub fn predict<B: Backend>(
    model: &Molmo<B>,
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[crate::data::Example],
    batch_size: usize,
    device: &B::Device,
) -> Vec<Prediction> {
    use crate::data::{EvalTarget, decode_image};
    let scored: Vec<&crate::data::Example> = examples
        .iter()
        .filter(|e| !matches!(e.target, EvalTarget::None) && !e.tasks.is_empty())
        .collect();
    let mut out = Vec::with_capacity(scored.len());
    for chunk in scored.chunks(batch_size.max(1)) {
        let mut items = Vec::new();
        let mut kept = Vec::new();
        for e in chunk {
            let image = match decode_image(e) {
                Ok(image) => image,
                Err(error) => {
                    out.push(Prediction {
                        id: e.id.clone(),
                        dataset: e.dataset.name().to_string(),
                        expected: match &e.target {
                            EvalTarget::Clock { text, .. } => text.clone(),
                            EvalTarget::Count(n) => n.to_string(),
                            EvalTarget::None => String::new(),
                        },
                        generated: String::new(),
                        valid: false,
                        exact: false,
                        close: false,
                        hour: None,
                        hour_error: None,
                        unreadable: Some(crate::train::cause(&error)),
                    });
                    continue;
                }
            };
            let input = crate::preprocess::preprocess(&config.vision, tok, &image);
            items.push((input, eval_prompt(&e.tasks[0])));
            kept.push(*e);
        }
        let answers = greedy_decode(model, config, tok, &items, 40, device);
        for (generated, e) in answers.into_iter().zip(kept) {
            let dataset = e.dataset.name().to_string();
            let id = e.id.clone();
            match &e.target {
                EvalTarget::Clock {
                    text,
                    shows_seconds,
                } => {
                    let gold = clock_gold(text, *shows_seconds);
                    let s = gold
                        .map(|gold| score_clock(&generated, gold, CLOSE_MINUTES))
                        .unwrap_or_default();
                    let hour_error = gold
                        .and_then(|gold| hour_error(&generated, gold))
                        .map(|kind| kind.name().to_string());
                    out.push(Prediction {
                        id,
                        dataset,
                        expected: text.clone(),
                        generated,
                        valid: s.valid,
                        exact: s.exact,
                        close: s.close,
                        hour: Some(s.hour),
                        hour_error,
                        unreadable: None,
                    });
                }
                EvalTarget::Count(n) => {
                    let s = score_count(&generated, u64::try_from(*n).unwrap_or(u64::MAX));
                    out.push(Prediction {
                        id,
                        dataset,
                        expected: n.to_string(),
                        generated,
                        valid: s.valid,
                        exact: s.exact,
                        close: s.close,
                        hour: None,
                        hour_error: None,
                        unreadable: None,
                    });
                }
                EvalTarget::None => {}
            }
        }
    }
    out
}

/// How many (generated, expected) pairs a report keeps for reading.
pub const SAMPLES: usize = 5;

impl EvalReport {
    /// Totals of `predictions`, with [`SAMPLES`] pairs spread evenly over them (the first
    /// few would be one clock face, since a face is rendered several times in a row).
    #[must_use]
    pub fn from_predictions(predictions: &[Prediction]) -> Self {
        let mut report = Self::default();
        let unreadable = predictions
            .iter()
            .filter(|p| p.unreadable.is_some())
            .count();
        report.unreadable = unreadable;
        let predictions: Vec<&Prediction> = predictions
            .iter()
            .filter(|p| p.unreadable.is_none())
            .collect();
        for p in &predictions {
            if let Some(hour) = p.hour {
                report.clocks += 1;
                report.clock_exact += usize::from(p.exact);
                report.clock_close += usize::from(p.close);
                report.clock_hour += usize::from(hour);
                report.clock_valid += usize::from(p.valid);
                if let Some(kind) = &p.hour_error {
                    *report.clock_hour_errors.entry(kind.clone()).or_default() += 1;
                }
            } else {
                report.counts += 1;
                report.count_exact += usize::from(p.exact);
                report.count_close += usize::from(p.close);
            }
        }
        let n = predictions.len();
        let picks = SAMPLES.min(n);
        report.samples = (0..picks)
            .map(|k| predictions[k * n / picks])
            .map(|p| (p.generated.clone(), p.expected.clone()))
            .collect();
        report
    }
}

/// Greedy-decodes answers for clock and count examples and scores them ([`predict`], then
/// [`EvalReport::from_predictions`]).
pub fn evaluate<B: Backend>(
    model: &Molmo<B>,
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[crate::data::Example],
    batch_size: usize,
    device: &B::Device,
) -> EvalReport {
    EvalReport::from_predictions(&predict(model, config, tok, examples, batch_size, device))
}
