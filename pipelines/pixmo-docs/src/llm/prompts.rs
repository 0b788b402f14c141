//! Prompt presets of the LLM mode. Both follow the stage structure described for the
//! original generators (persona -> topics -> data -> code -> QA written from data and code,
//! never from the image); the wording is pixmo's own.
//!
//! - `pixmo_docs`: PixMo-Docs' first release: short answers with a step-by-step explanation,
//!   question families per figure category (basic/retrieval, compositional, comparison,
//!   figure-specific).
//! - `cosyn`: CoSyn's later prompts: a fixed mix of at least five short-answer questions, at
//!   least one yes/no question and at least one question the figure cannot answer, answered
//!   with the category's refusal.
//!
//! Every reply that carries structure is JSON with named fields, so the answer/explanation
//! swap and the dropped `|`-containing pairs of the original's `question | ... | ...` text
//! format cannot happen.

use pixmo_llm::PromptTemplate;
use serde::{Deserialize, Serialize};

/// Which prompt wording to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// PixMo-Docs' structure (the default).
    #[default]
    PixmoDocs,
    /// CoSyn's structure.
    Cosyn,
}

impl Preset {
    /// Name used in template ids.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Preset::PixmoDocs => "pixmo_docs",
            Preset::Cosyn => "cosyn",
        }
    }
}

/// What the code step writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// A chart spec in JSON, drawn with plotters.
    ChartSpec,
    /// An SVG document, drawn with resvg.
    Svg,
    /// typst markup, compiled and rasterised in a sandbox.
    Typst,
}

impl Language {
    /// Name used in template ids and the `figure.generator` field.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Language::ChartSpec => "chart_spec",
            Language::Svg => "svg",
            Language::Typst => "typst",
        }
    }

    /// How the data step should shape the data for this language.
    fn data_contract(self) -> &'static str {
        match self {
            Language::ChartSpec => {
                "Put the numbers under clear keys, for example {\"categories\": [...], \"series\": [{\"name\": \"...\", \"values\": [...]}]}. Values are plain JSON numbers without units."
            }
            Language::Svg => {
                "Describe what the diagram shows: its items and how they connect, for example {\"title\": \"...\", \"nodes\": [{\"id\": \"...\", \"label\": \"...\"}], \"edges\": [{\"from\": \"...\", \"to\": \"...\", \"label\": \"...\"}]}."
            }
            Language::Typst => {
                "Hold every field, line item and total the document shows. Numbers are plain JSON numbers; money has two decimals."
            }
        }
    }
}

/// The chart-spec shape the plotters renderer accepts, as the code step is told.
const CHART_SPEC_SHAPE: &str = r#"{"title": "...", "x_label": "...", "y_label": "...",
 "chart": ONE OF
   {"type": "bar", "orientation": "vertical"|"horizontal", "mode": "grouped"|"stacked", "categories": ["..."], "series": [{"name": "...", "values": [numbers, one per category]}]}
   {"type": "line", "categories": ["..."], "series": [...as for bar...], "markers": true|false}
   {"type": "area", "categories": ["..."], "series": [...], "stacked": true|false}
   {"type": "scatter", "points": [{"label": "...", "x": number, "y": number}]}
   {"type": "pie", "labels": ["..."], "values": [positive numbers], "hole": 0 for a pie or 0.3-0.6 for a donut}
   {"type": "histogram", "edges": [increasing numbers, one more than counts], "counts": [whole numbers]}
   {"type": "box", "boxes": [{"label": "...", "min": n, "q1": n, "median": n, "q3": n, "max": n}]}
   {"type": "heatmap", "rows": ["..."], "columns": ["..."], "values": [[one row of numbers per row name]]}
}"#;

/// The templates of one preset.
#[derive(Clone, Debug)]
pub struct Prompts {
    /// Persona and figure type -> topics.
    pub topics: PromptTemplate,
    /// Persona, topic, figure type -> data JSON.
    pub data: PromptTemplate,
    /// Data -> chart spec.
    pub code_chart: PromptTemplate,
    /// Data -> SVG.
    pub code_svg: PromptTemplate,
    /// Data -> typst.
    pub code_typst: PromptTemplate,
    /// A failed render -> corrected code.
    pub fix: PromptTemplate,
    /// Data and code -> QA pairs.
    pub qa: PromptTemplate,
}

impl Prompts {
    /// The templates of `preset`.
    ///
    /// # Panics
    /// Never: the template texts are fixed and parse.
    #[must_use]
    pub fn of(preset: Preset) -> Prompts {
        let id = |step: &str| format!("docs.{}.{step}.v1", preset.name());
        let t = |step: &str, text: String| {
            PromptTemplate::new(id(step), text).expect("built-in template parses")
        };
        let (topics_intro, qa_rules) = match preset {
            Preset::PixmoDocs => (
                "You help build a dataset of synthetic {{figure_type}} images for teaching vision-language models to read figures and documents.",
                "Write 5 to 10 question-answer pairs that a person could answer by looking at the image: questions that read a value or label off it (\"retrieval\"), questions that need at least two operations such as a sum, difference or average (\"compositional\"), comparisons between parts (\"comparison\"), and questions specific to a {{figure_type}} (\"figure\"). Never ask about colour codes, fonts or anything that is not drawn.",
            ),
            Preset::Cosyn => (
                "You design diverse, realistic {{figure_type}} images that a broad range of people meet in work and daily life, for a dataset that teaches vision-language models to read them.",
                "Write at least 5 short-answer questions (types \"retrieval\", \"compositional\" needing two or more operations, \"comparison\", \"count\"), at least 1 yes/no question (type \"yes_no\", answer Yes or No) and at least 1 question that the image cannot answer (type \"unanswerable\", answer exactly \"{{refusal}}\"). Never ask about colour codes or fonts.",
            ),
        };
        Prompts {
            topics: t(
                "topics",
                format!(
                    "{topics_intro}\nPersona: \"{{{{persona}}}}\"\nWrite {{{{count}}}} different topics this persona would make a {{{{figure_type}}}} about. Each topic is one short, specific phrase, for example \"monthly rainfall in Lisbon compared with Porto\". Topics are realistic, in English, and suited to a {{{{figure_type}}}}.\nReply with JSON only: {{\"topics\": [\"...\"]}}"
                ),
            ),
            data: t(
                "data",
                "Persona: \"{{persona}}\"\nTopic: {{topic}}\nFigure type: {{figure_type}}\nWrite the data this {{figure_type}} shows, as one JSON object. {{contract}} Use realistic, specific names (no placeholders such as \"Item A\" or \"[Name]\"), keep it small enough for one page (at most 12 categories, rows or items), and write in English.\nReply with the JSON object only.".into(),
            ),
            code_chart: t(
                "code_chart_spec",
                format!(
                    "Persona: \"{{{{persona}}}}\"\nTopic: {{{{topic}}}}\nData:\n{{{{data}}}}\nWrite a chart specification in JSON that draws this data as a {{{{figure_type}}}}. The renderer accepts exactly this shape (no other keys):\n{CHART_SPEC_SHAPE}\nHard-code the data; keep category and series names short; give the chart a title that names the topic.\nReply with the JSON object only."
                ),
            ),
            code_svg: t(
                "code_svg",
                "Persona: \"{{persona}}\"\nTopic: {{topic}}\nData:\n{{data}}\nWrite one SVG document that draws this data as a {{figure_type}}. Requirements: `width` and `height` attributes between 400 and 1000; a light background rectangle; shapes and arrows drawn with rect, circle, line, path or polygon; every label from the data drawn as a <text> element with font-family sans-serif, serif or monospace; no text overlapping other text or leaving the canvas; no images, links, scripts or external CSS. Be creative with layout and colours.\nReply with the SVG only, in a ```svg block.".into(),
            ),
            code_typst: t(
                "code_typst",
                "Persona: \"{{persona}}\"\nTopic: {{topic}}\nData:\n{{data}}\nWrite typst markup (typst 0.15) for a one-page {{figure_type}} that shows this data. Requirements: begin with `#set page(...)` (a paper such as \"a4\" or \"us-letter\", or a width and height) and `#set text(font: ...)` naming one of {{fonts}}; hard-code every value; use #table for tabular parts; no #image, #import, #include, packages or file reads; everything fits on one page. Vary layout, colours and font sizes.\nReply with the typst source only, in a ```typst block.".into(),
            ),
            fix: t(
                "fix",
                "That {{language}} failed to render: {{error}}\nReply with the whole corrected {{language}} only, in the same format as before.".into(),
            ),
            qa: t(
                "qa",
                format!(
                    "You write questions about a {{{{figure_type}}}} for training a vision-language model. You cannot see the image; instead you get the data and the code that drew it.\nTopic: {{{{topic}}}}\n<data>\n{{{{data}}}}\n</data>\n<code>\n{{{{code}}}}\n</code>\n{qa_rules}\nEvery answer is as short as possible: a number as it would be read off the image (no units), a label written exactly as drawn, Yes or No. Every explanation says step by step how the answer follows from what is drawn.\nReply with JSON only: {{\"qa_pairs\": [{{\"question\": \"...\", \"explanation\": \"...\", \"answer\": \"...\", \"type\": \"...\"}}]}}"
                ),
            ),
        }
    }

    /// The code template of `language`.
    #[must_use]
    pub fn code(&self, language: Language) -> &PromptTemplate {
        match language {
            Language::ChartSpec => &self.code_chart,
            Language::Svg => &self.code_svg,
            Language::Typst => &self.code_typst,
        }
    }

    /// Every template, for provenance.
    #[must_use]
    pub fn all(&self) -> [&PromptTemplate; 7] {
        [
            &self.topics,
            &self.data,
            &self.code_chart,
            &self.code_svg,
            &self.code_typst,
            &self.fix,
            &self.qa,
        ]
    }
}

/// The data step's shaping instruction for `language`.
#[must_use]
pub fn data_contract(language: Language) -> &'static str {
    language.data_contract()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_differ_and_render_with_their_variables() {
        let a = Prompts::of(Preset::PixmoDocs);
        let b = Prompts::of(Preset::Cosyn);
        assert_ne!(a.qa.sha256(), b.qa.sha256());
        assert_ne!(a.topics.id(), b.topics.id());
        let qa =
            b.qa.render(&[
                ("figure_type", "bar chart"),
                ("topic", "rain"),
                ("data", "{}"),
                ("code", "{}"),
                ("refusal", "Cannot be determined from the figure."),
            ])
            .unwrap();
        assert!(qa.contains("exactly \"Cannot be determined from the figure.\""));
        assert!(qa.contains("\"qa_pairs\""));
        let topics = a
            .topics
            .render(&[
                ("figure_type", "menu"),
                ("persona", "a chef"),
                ("count", "5"),
            ])
            .unwrap();
        assert!(topics.contains("Persona: \"a chef\"") && topics.contains("{\"topics\""));
        // The PixMo-Docs QA prompt has no refusal variable.
        assert!(!a.qa.variables().contains("refusal"));
    }
}
