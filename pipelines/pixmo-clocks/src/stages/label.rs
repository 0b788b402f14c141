//! `clocks.label`: the time as text, and a question with its answer, in Molmo's clock
//! convention.
//!
//! - What it does: formats the labelled time the way Molmo's `ClockEval` parses answers
//!   (`H:MM` or `H:MM:SS`, 12-hour: an analog face carries no AM/PM, and the evaluator treats
//!   hour 0 as 12), picks a question from a template bank and writes the answer. A face whose
//!   hour and minute hands cannot both be seen gets an answer that declines, as the
//!   evaluator expects for unreadable clocks.
//! - Inputs: `clock_time`, `truth` (json).
//! - Outputs: `watch_time`, `time_format`, `text`, `question`, `answer` (str),
//!   `shows_seconds` (bool), `hour_visible`, `minute_visible`, `second_visible` (i32).
//! - Failure modes: a malformed time rejects the record (`bad_spec`).
//! - Cost: microseconds.

use std::sync::Arc;

use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_clock::ClockTime;
use serde::{Deserialize, Serialize};

/// Questions asked about a clock; the first is the one Molmo's clock benchmark uses.
pub const QUESTIONS: &[&str] = &[
    "What time is being shown?",
    "What time does the watch show?",
    "What time is it on this clock?",
    "Read the time on this watch.",
    "What time is displayed on the watch face?",
    "Tell me the time shown.",
    "What is the time on the clock?",
    "Can you read the time from this watch?",
    "What time do the hands point to?",
    "What time is it?",
];

/// Answer templates; `{t}` is the time text.
pub const ANSWERS: &[&str] = &[
    "{t}",
    "The time shown is {t}.",
    "The watch shows {t}.",
    "It is {t}.",
    "The clock reads {t}.",
    "The hands indicate {t}.",
];

/// Answers for faces whose hands cannot be read.
pub const DECLINES: &[&str] = &[
    "The time cannot be read: the hands are not visible.",
    "I can't tell the time from this image because the hands are not visible.",
];

/// Config of `clocks.label`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelConfig {
    /// Always ask the benchmark question ("What time is being shown?") and answer with the
    /// bare time, instead of sampling templates.
    #[serde(default)]
    pub benchmark_format: bool,
}

impl StageConfig for LabelConfig {
    const KIND: &'static str = "clocks.label";
    const SUMMARY: &'static str =
        "Write the time text, question and answer in Molmo's clock convention";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        Ok(Arc::new(Label {
            config: self.clone(),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Label {
    config: LabelConfig,
}

/// The time as Molmo's clock evaluator parses it: `H:MM` or `H:MM:SS`, 12-hour.
#[must_use]
pub fn time_text(time: ClockTime, with_seconds: bool) -> String {
    let hour = match time.hour % 12 {
        0 => 12,
        h => h,
    };
    if with_seconds {
        format!("{hour}:{:02}:{:02}", time.minute, time.second)
    } else {
        format!("{hour}:{:02}", time.minute)
    }
}

impl Stage for Label {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("clock_time", ColumnType::Json),
            ColumnDef::new("truth", ColumnType::Json),
        ]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        [
            ("watch_time", ColumnType::Str),
            ("time_format", ColumnType::Str),
            ("shows_seconds", ColumnType::Bool),
            ("hour_visible", ColumnType::I32),
            ("minute_visible", ColumnType::I32),
            ("second_visible", ColumnType::I32),
            ("text", ColumnType::Str),
            ("question", ColumnType::Str),
            ("answer", ColumnType::Str),
        ]
        .into_iter()
        .map(|(n, t)| ColumnDef::new(n, t))
        .collect()
    }

    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject> {
        let time: ClockTime = serde_json::from_value(
            record
                .json("clock_time")
                .map_err(|m| Reject::new("bad_spec", m))?
                .clone(),
        )
        .map_err(|e| Reject::new("bad_spec", format!("Column `clock_time`: {e}")))?;
        if time.hour > 23 || time.minute > 59 || time.second > 59 {
            return Err(Reject::new(
                "bad_spec",
                format!(
                    "Time {}:{}:{} is out of range",
                    time.hour, time.minute, time.second
                ),
            ));
        }
        let truth = record
            .json("truth")
            .map_err(|m| Reject::new("bad_spec", m))?;
        let flag = |name: &str| {
            truth
                .get(name)
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
        };
        let (hour, minute, second, shows_seconds) = (
            flag("hour_visible"),
            flag("minute_visible"),
            flag("second_visible"),
            flag("shows_seconds"),
        );
        let readable = hour && minute;
        let with_seconds = readable && second;
        let text = if readable {
            time_text(time, with_seconds)
        } else {
            String::new()
        };
        let mut rng = cx.rng();
        let (question, answer) = if self.config.benchmark_format {
            let answer = if readable {
                text.clone()
            } else {
                DECLINES[0].to_string()
            };
            (QUESTIONS[0].to_string(), answer)
        } else {
            let question = rng.choose(QUESTIONS).copied().unwrap_or(QUESTIONS[0]);
            let answer = if readable {
                rng.choose(ANSWERS)
                    .copied()
                    .unwrap_or("{t}")
                    .replace("{t}", &text)
            } else {
                rng.choose(DECLINES)
                    .copied()
                    .unwrap_or(DECLINES[0])
                    .to_string()
            };
            (question.to_string(), answer)
        };
        record.set(
            "watch_time",
            Value::Str(format!(
                "{:02}:{:02}:{:02}",
                time.hour, time.minute, time.second
            )),
        );
        record.set(
            "time_format",
            Value::Str(if with_seconds { "h:mm:ss" } else { "h:mm" }.into()),
        );
        record.set("shows_seconds", Value::Bool(shows_seconds));
        record.set("hour_visible", Value::I32(i32::from(hour)));
        record.set("minute_visible", Value::I32(i32::from(minute)));
        record.set("second_visible", Value::I32(i32::from(second)));
        record.set("text", Value::Str(text));
        record.set("question", Value::Str(question));
        record.set("answer", Value::Str(answer));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(hour: u8, minute: u8, second: u8) -> ClockTime {
        ClockTime {
            hour,
            minute,
            second,
        }
    }

    #[test]
    fn twelve_hour_text_as_clock_eval_parses_it() {
        assert_eq!(time_text(t(0, 5, 9), false), "12:05");
        assert_eq!(time_text(t(12, 0, 0), true), "12:00:00");
        assert_eq!(time_text(t(13, 7, 59), true), "1:07:59");
        assert_eq!(time_text(t(23, 59, 1), false), "11:59");
    }
}
