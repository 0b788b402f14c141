//! Molmo's text formats (`olmo/data/data_formatter.py`): style tags, caption length hints,
//! the `User:`/`Assistant:` format, point and count answers, prompt template banks and the
//! "no pointing" prefix for how-many questions.

use pixmo_annotation_schema::Point;

use crate::rng::Rng;

/// Which training stage an example is formatted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Caption pre-training: `" {style} {length}:"` then the caption.
    Pretrain,
    /// Multitask fine-tuning: `" User: {prompt} Assistant:"` then the answer.
    Finetune,
}

/// Styles that get no tag 90% of the time in fine-tuning (Molmo's demo styles).
pub const DEMO_STYLES: [&str; 4] = ["point_count", "pointing", "user_qa", "long_caption"];

/// Styles whose answers point (no "no pointing" prefix for them).
const POINTING_STYLES: [&str; 3] = ["point_count", "pointing", "point_qa"];

/// Length hint at inference (`default_inference_len`).
pub const INFERENCE_LENGTH_HINT: usize = 65;

const CAPTION_PROMPTS: [&str; 6] = [
    "Describe this image.",
    "Describe this image in detail.",
    "Write a long, detailed description of the picture.",
    "What is shown here? Give a thorough description.",
    "Give a detailed caption of this image.",
    "Tell me everything you can see in this image.",
];

const POINTING_PROMPTS: [&str; 5] = [
    "Point to {label}",
    "Point to every {label} in the image.",
    "Where are the {label}? Point to them.",
    "Show me where the {label} are by pointing.",
    "Locate all {label} with points.",
];

const COUNTING_PROMPTS: [&str; 5] = [
    "How many {label} are there?",
    "How many {label} are in this image?",
    "Count the {label} in the image.",
    "Point to and count the {label}.",
    "What is the number of {label} shown?",
];

/// Prefixes that ask for a plain answer to how-many questions in non-pointing data.
pub const NO_POINT_PREFIXES: [&str; 4] = [
    "No pointing: ",
    "No pointing: ",
    "no pointing:\n",
    "Answer without pointing: ",
];

/// What one annotation asks for, before formatting.
#[derive(Clone, Debug, PartialEq)]
pub enum Task {
    /// A dense caption (style `long_caption`).
    Caption(String),
    /// A transcript of a spoken description (style `transcript`).
    Transcript(String),
    /// A question with its answer under a style tag.
    Qa {
        /// Molmo style tag (`user_qa`, `pixmo_docs_charts`, `clocks`, ...).
        style: String,
        /// Question.
        question: String,
        /// Answer.
        answer: String,
    },
    /// Point at every instance of `label` (style `pointing`).
    Pointing {
        /// Referring expression.
        label: String,
        /// Instances, in percent.
        points: Vec<Point>,
    },
    /// Count the instances of `label` by pointing (style `point_count`).
    Counting {
        /// Referring expression.
        label: String,
        /// Instances, in percent.
        points: Vec<Point>,
    },
}

impl Task {
    /// Molmo's style tag.
    #[must_use]
    pub fn style(&self) -> &str {
        match self {
            Task::Caption(_) => "long_caption",
            Task::Transcript(_) => "transcript",
            Task::Qa { style, .. } => style,
            Task::Pointing { .. } => "pointing",
            Task::Counting { .. } => "point_count",
        }
    }
}

/// An annotation as text: the prompt (not trained on) and the response (trained on; EOS is
/// appended when tokenized).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormattedText {
    /// Prompt text, starting with a space.
    pub prompt: String,
    /// Response text, starting with a space.
    pub response: String,
}

/// Formats a task for `stage`, drawing template, tag and hint choices from `rng`.
#[must_use]
pub fn format_task(task: &Task, stage: Stage, rng: &mut Rng) -> FormattedText {
    match stage {
        Stage::Pretrain => {
            let text = match task {
                Task::Caption(t) | Task::Transcript(t) => t.clone(),
                other => answer_text(other, rng).1,
            };
            FormattedText {
                prompt: format!(" {}", length_hint_prefix(task.style(), &text, rng)),
                response: format!(" {text}"),
            }
        }
        Stage::Finetune => {
            let (question, answer) = answer_text(task, rng);
            let style = task.style();
            let tag = if DEMO_STYLES.contains(&style) {
                rng.chance(0.1).then(|| format!("{style}: "))
            } else {
                Some(format!("{style}: "))
            };
            let no_point = (!POINTING_STYLES.contains(&style)
                && question.to_lowercase().contains("how many"))
            .then(|| *rng.pick(&NO_POINT_PREFIXES));
            FormattedText {
                prompt: user_turn(&format!(
                    "{}{}{question}",
                    tag.unwrap_or_default(),
                    no_point.unwrap_or_default()
                )),
                response: format!(" {answer}"),
            }
        }
    }
}

/// `" User: {prompt} Assistant:"`.
#[must_use]
pub fn user_turn(prompt: &str) -> String {
    format!(" User: {prompt} Assistant:")
}

/// Pre-training prefix: with probability 0.9 `"{style} {n}:"` where
/// `n = (chars + trunc(N(0, 25))) // 15`, else `"{style} :"`.
#[must_use]
pub fn length_hint_prefix(style: &str, text: &str, rng: &mut Rng) -> String {
    if rng.chance(0.9) {
        let chars = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
        #[allow(clippy::cast_possible_truncation)]
        let noise = (rng.normal() * 25.0).trunc() as i64;
        let n = (chars + noise).div_euclid(15);
        format!("{style} {n}:")
    } else {
        format!("{style} :")
    }
}

/// The prompt used at inference for a caption.
#[must_use]
pub fn inference_caption_prompt() -> String {
    format!(" long_caption {INFERENCE_LENGTH_HINT}:")
}

fn answer_text(task: &Task, rng: &mut Rng) -> (String, String) {
    match task {
        Task::Caption(t) | Task::Transcript(t) => {
            (rng.pick(&CAPTION_PROMPTS).to_string(), t.clone())
        }
        Task::Qa {
            question, answer, ..
        } => (question.clone(), answer.clone()),
        Task::Pointing { label, points } => (
            rng.pick(&POINTING_PROMPTS).replace("{label}", label),
            if points.is_empty() {
                "There are none.".to_string()
            } else {
                points_text(points, label, label)
            },
        ),
        Task::Counting { label, points } => (
            rng.pick(&COUNTING_PROMPTS).replace("{label}", label),
            count_text(points, label),
        ),
    }
}

/// Molmo's point markup: one decimal, sorted left to right then top to bottom.
#[must_use]
pub fn points_text(points: &[Point], label: &str, alt: &str) -> String {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| {
        (a.x * 10_000.0 + a.y)
            .partial_cmp(&(b.x * 10_000.0 + b.y))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if let [p] = sorted.as_slice() {
        return format!(
            "<point x=\"{:.1}\" y=\"{:.1}\" alt=\"{alt}\">{label}</point>",
            p.x, p.y
        );
    }
    let coords: Vec<String> = sorted
        .iter()
        .enumerate()
        .map(|(i, p)| format!("x{n}=\"{:.1}\" y{n}=\"{:.1}\"", p.x, p.y, n = i + 1))
        .collect();
    format!(
        "<points {} alt=\"{alt}\">{label}</points>",
        coords.join(" ")
    )
}

/// `"Counting the <points …>label</points> shows a total of N."`, or `"There are none."`.
#[must_use]
pub fn count_text(points: &[Point], label: &str) -> String {
    if points.is_empty() {
        "There are none.".to_string()
    } else {
        format!(
            "Counting the {} shows a total of {}.",
            points_text(points, label, label),
            points.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(x: f64, y: f64) -> Point {
        Point { x, y }
    }

    #[test]
    fn points_are_sorted_with_one_decimal() {
        let pts = [pt(50.0, 10.25), pt(10.5, 90.0), pt(10.5, 20.3)];
        assert_eq!(
            points_text(&pts, "dog", "dog"),
            "<points x1=\"10.5\" y1=\"20.3\" x2=\"10.5\" y2=\"90.0\" x3=\"50.0\" y3=\"10.2\" \
             alt=\"dog\">dog</points>"
        );
        assert_eq!(
            points_text(&[pt(3.0, 4.0)], "cat", "cat"),
            "<point x=\"3.0\" y=\"4.0\" alt=\"cat\">cat</point>"
        );
        assert_eq!(count_text(&[], "cat"), "There are none.");
        assert_eq!(
            count_text(&[pt(1.0, 2.0), pt(0.5, 9.0)], "cups"),
            "Counting the <points x1=\"0.5\" y1=\"9.0\" x2=\"1.0\" y2=\"2.0\" alt=\"cups\">cups\
             </points> shows a total of 2."
        );
    }

    #[test]
    fn demo_styles_are_tagged_about_one_time_in_ten() {
        let mut rng = Rng::new(5);
        let task = Task::Pointing {
            label: "cats".into(),
            points: vec![pt(1.0, 1.0)],
        };
        let tagged = (0..4000)
            .filter(|_| {
                format_task(&task, Stage::Finetune, &mut rng)
                    .prompt
                    .starts_with(" User: pointing: ")
            })
            .count();
        assert!((300..500).contains(&tagged), "{tagged}");
        let qa = Task::Qa {
            style: "clocks".into(),
            question: "What time is it?".into(),
            answer: "10:08".into(),
        };
        for _ in 0..50 {
            let f = format_task(&qa, Stage::Finetune, &mut rng);
            assert_eq!(f.prompt, " User: clocks: What time is it? Assistant:");
            assert_eq!(f.response, " 10:08");
        }
    }

    #[test]
    fn how_many_questions_get_a_no_pointing_prefix_outside_pointing_data() {
        let mut rng = Rng::new(1);
        let qa = Task::Qa {
            style: "pixmo_docs_charts".into(),
            question: "How many bars are red?".into(),
            answer: "3".into(),
        };
        let f = format_task(&qa, Stage::Finetune, &mut rng);
        assert!(
            NO_POINT_PREFIXES
                .iter()
                .any(|p| f.prompt
                    == user_turn(&format!("pixmo_docs_charts: {p}How many bars are red?"))),
            "{}",
            f.prompt
        );
        let count = Task::Counting {
            label: "bars".into(),
            points: vec![],
        };
        let f = format_task(&count, Stage::Finetune, &mut rng);
        assert!(
            !f.prompt.to_lowercase().contains("pointing:"),
            "{}",
            f.prompt
        );
        assert_eq!(f.response, " There are none.");
    }

    #[test]
    fn caption_length_hints_follow_the_rule() {
        let mut rng = Rng::new(9);
        let caption = "x".repeat(1500);
        let mut hinted = 0;
        for _ in 0..1000 {
            let f = format_task(&Task::Caption(caption.clone()), Stage::Pretrain, &mut rng);
            assert_eq!(f.response, format!(" {caption}"));
            let hint = f
                .prompt
                .trim_start_matches(" long_caption ")
                .trim_end_matches(':');
            if let Ok(n) = hint.parse::<i64>() {
                hinted += 1;
                assert!((90..=110).contains(&n), "{n}");
            } else {
                assert_eq!(f.prompt, " long_caption :");
            }
        }
        assert!((850..950).contains(&hinted), "{hinted}");
    }
}
