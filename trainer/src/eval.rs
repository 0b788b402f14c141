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
use pixmo_eval::clock::{ClockGold, parse_time, score_clock};
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

/// Greedy-decodes answers for clock and count examples and scores them; examples whose
/// image cannot be decoded are skipped.
pub fn evaluate<B: Backend>(
    model: &Molmo<B>,
    config: &ModelConfig,
    tok: &Tokenizer,
    examples: &[crate::data::Example],
    batch_size: usize,
    device: &B::Device,
) -> EvalReport {
    use crate::data::{EvalTarget, decode_image};
    let mut report = EvalReport::default();
    let scored: Vec<&crate::data::Example> = examples
        .iter()
        .filter(|e| !matches!(e.target, EvalTarget::None) && !e.tasks.is_empty())
        .collect();
    for chunk in scored.chunks(batch_size.max(1)) {
        let mut items = Vec::new();
        let mut targets = Vec::new();
        for e in chunk {
            let Ok(image) = decode_image(e) else { continue };
            let input = crate::preprocess::preprocess(&config.vision, tok, &image);
            items.push((input, eval_prompt(&e.tasks[0])));
            targets.push(e.target.clone());
        }
        let answers = greedy_decode(model, config, tok, &items, 40, device);
        for (answer, target) in answers.into_iter().zip(targets) {
            match &target {
                EvalTarget::Clock {
                    text,
                    shows_seconds,
                } => {
                    let s = clock_gold(text, *shows_seconds)
                        .map(|gold| score_clock(&answer, gold, CLOSE_MINUTES))
                        .unwrap_or_default();
                    report.clocks += 1;
                    report.clock_exact += usize::from(s.exact);
                    report.clock_close += usize::from(s.close);
                    report.clock_hour += usize::from(s.hour);
                    report.clock_valid += usize::from(s.valid);
                    if report.samples.len() < 5 {
                        report.samples.push((answer, text.clone()));
                    }
                }
                EvalTarget::Count(n) => {
                    let s = score_count(&answer, u64::try_from(*n).unwrap_or(u64::MAX));
                    report.counts += 1;
                    report.count_exact += usize::from(s.exact);
                    report.count_close += usize::from(s.close);
                    if report.samples.len() < 5 {
                        report.samples.push((answer, n.to_string()));
                    }
                }
                EvalTarget::None => {}
            }
        }
    }
    report
}
