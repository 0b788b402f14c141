//! Evaluation hooks: greedy decoding, clock reading (exact and close, after Molmo's
//! `ClockEval`), counting (exact and within one, after `PointCountEval`) and caption
//! validation loss (see [`crate::train::validation_loss`]).

use burn::prelude::*;

use crate::batch::{Packed, collate, pack};
use crate::config::ModelConfig;
use crate::format::{FormattedText, Stage};
use crate::model::{Molmo, ResidualDropout};
use crate::preprocess::ImageInput;
use crate::tokenizer::{EOS, Tokenizer};

/// A time read from text: hours (0–23 as written), minutes, optional seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockTime {
    /// Hours.
    pub h: u32,
    /// Minutes.
    pub m: u32,
    /// Seconds, when given.
    pub s: Option<u32>,
}

/// The first `H:MM` or `H:MM:SS` in `text`.
#[must_use]
pub fn parse_time(text: &str) -> Option<ClockTime> {
    let b = text.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let num = |from: usize, len: usize| text[from..from + len].parse::<u32>().ok();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()) {
            let hl = digits(i);
            let j = i + hl;
            if (1..=2).contains(&hl)
                && j + 2 < b.len() + 1
                && b.get(j) == Some(&b':')
                && digits(j + 1) == 2
            {
                let h = num(i, hl)?;
                let m = num(j + 1, 2)?;
                let k = j + 3;
                let s = (b.get(k) == Some(&b':') && digits(k + 1) == 2)
                    .then(|| num(k + 1, 2))
                    .flatten();
                if h < 24 && m < 60 && s.is_none_or(|s| s < 60) {
                    return Some(ClockTime { h, m, s });
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    None
}

/// Scores of one clock answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockScore {
    /// A time could be parsed.
    pub valid: bool,
    /// Hour (12-hour), minute, and second when the label has seconds, all equal.
    pub exact: bool,
    /// Within 3 minutes of the label on the 12-hour dial (wrapping at 12).
    pub close: bool,
    /// Hour hand read correctly (12-hour).
    pub hour: bool,
}

/// Scores a generated answer against the label text (`H:MM[:SS]`).
#[must_use]
pub fn score_clock(generated: &str, label: &str, shows_seconds: bool) -> ClockScore {
    let (Some(p), Some(t)) = (parse_time(generated), parse_time(label)) else {
        return ClockScore::default();
    };
    let hour = p.h % 12 == t.h % 12;
    let seconds_ok = !shows_seconds || t.s.is_none() || p.s == t.s;
    let minutes = |c: ClockTime| i64::from((c.h % 12) * 60 + c.m);
    let diff = (minutes(p) - minutes(t)).rem_euclid(720);
    ClockScore {
        valid: true,
        exact: hour && p.m == t.m && seconds_ok,
        close: diff.min(720 - diff) <= 3,
        hour,
    }
}

/// The count in an answer: "a total of N", else "none"/"no" → 0, else the last integer,
/// else the last number word.
#[must_use]
pub fn parse_count(text: &str) -> Option<usize> {
    let lower = text.to_lowercase();
    if let Some(at) = lower.rfind("a total of ") {
        let n: String = lower[at + 11..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = n.parse() {
            return Some(n);
        }
    }
    if lower.contains("there are none") || lower.trim() == "none" {
        return Some(0);
    }
    let words = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    let mut last = None;
    for token in lower.split(|c: char| !c.is_ascii_alphanumeric()) {
        if let Ok(n) = token.parse::<usize>() {
            last = Some(n);
        } else if let Some(n) = words.iter().position(|w| *w == token) {
            last = Some(n);
        }
    }
    last
}

/// Scores of one count answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountScore {
    /// A count could be parsed.
    pub valid: bool,
    /// Exactly right.
    pub exact: bool,
    /// Within one.
    pub close: bool,
}

/// Scores a generated count.
#[must_use]
pub fn score_count(generated: &str, truth: usize) -> CountScore {
    match parse_count(generated) {
        Some(n) => CountScore {
            valid: true,
            exact: n == truth,
            close: n.abs_diff(truth) <= 1,
        },
        None => CountScore::default(),
    }
}

/// Greedy decoding of up to `max_new` tokens for each (image, prompt), in one batch.
pub fn greedy_decode<B: Backend>(
    model: &Molmo<B>,
    config: &ModelConfig,
    items: &[(ImageInput, String)],
    max_new: usize,
    device: &B::Device,
) -> Vec<String> {
    let tok = Tokenizer::new(config.llm.vocab_size);
    greedy_decode_ids(model, config, items, max_new, device)
        .iter()
        .map(|ids| tok.decode(ids))
        .collect()
}

/// [`greedy_decode`] as token ids: the tokens generated for each item, without the EOS
/// that ended it (if one did within `max_new`).
pub fn greedy_decode_ids<B: Backend>(
    model: &Molmo<B>,
    config: &ModelConfig,
    items: &[(ImageInput, String)],
    max_new: usize,
    device: &B::Device,
) -> Vec<Vec<u32>> {
    let tok = Tokenizer::new(config.llm.vocab_size);
    let mut seqs: Vec<Packed> = items
        .iter()
        .map(|(image, prompt)| {
            let text = FormattedText {
                prompt: prompt.clone(),
                response: String::new(),
            };
            let mut p = pack(image.clone(), &[text], Stage::Finetune, &tok, usize::MAX);
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
            let t = u32::try_from(next[i * s + last]).unwrap_or(EOS);
            if t == EOS {
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
    fn clock_answers_are_parsed_and_scored() {
        assert_eq!(
            parse_time("The watch shows 10:08:32."),
            Some(ClockTime {
                h: 10,
                m: 8,
                s: Some(32)
            })
        );
        assert_eq!(
            parse_time("at 3:05 pm"),
            Some(ClockTime {
                h: 3,
                m: 5,
                s: None
            })
        );
        assert_eq!(parse_time("no time 123:4"), None);
        let s = score_clock("It is 10:08:32.", "10:08:32", true);
        assert!(s.exact && s.close && s.hour);
        let s = score_clock("It is 10:08:35.", "10:08:32", true);
        assert!(!s.exact && s.close);
        assert!(score_clock("It is 10:08:35.", "10:08", false).exact);
        let wrap = score_clock("12:58", "1:01", false);
        assert!(wrap.close && !wrap.hour && !wrap.exact);
        assert!(score_clock("22:10", "10:10", false).exact);
        assert!(!score_clock("10:14", "10:10", false).close);
        assert!(!score_clock("nothing", "10:10", false).valid);
    }

    #[test]
    fn counts_are_parsed_and_scored() {
        assert_eq!(
            parse_count(
                "Counting the <points x1=\"1.0\" y1=\"2.0\">cups</points> shows a total of 12."
            ),
            Some(12)
        );
        assert_eq!(parse_count("There are none."), Some(0));
        assert_eq!(parse_count("I see three dogs"), Some(3));
        assert_eq!(parse_count("??"), None);
        let s = score_count("a total of 4.", 5);
        assert!(s.valid && !s.exact && s.close);
        assert!(!score_count("a total of 7.", 5).close);
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
    examples: &[crate::data::Example],
    batch_size: usize,
    device: &B::Device,
) -> EvalReport {
    use crate::data::{EvalTarget, decode_image};
    let tok = Tokenizer::new(config.llm.vocab_size);
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
            let input = crate::preprocess::preprocess(&config.vision, &tok, &image);
            items.push((input, eval_prompt(&e.tasks[0])));
            targets.push(e.target.clone());
        }
        let answers = greedy_decode(model, config, &items, 40, device);
        for (answer, target) in answers.into_iter().zip(targets) {
            match &target {
                EvalTarget::Clock {
                    text,
                    shows_seconds,
                } => {
                    let s = score_clock(&answer, text, *shows_seconds);
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
                    let s = score_count(&answer, *n);
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
