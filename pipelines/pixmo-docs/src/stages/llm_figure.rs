//! `docs.llm_figure`: persona -> topics -> data -> code -> pixels, written by an LLM.
//!
//! - What it does: draws the record's persona (and, for charts, the canvas size and style)
//!   from the procedural generator with the record's seed, asks the LLM for topics (JSON),
//!   picks one with the seed, asks for the data (JSON) and then for code in the renderer's
//!   language: a chart spec for charts (plotters), SVG for diagrams (resvg), typst for tables
//!   and documents. The code is untrusted: it is rendered in a fresh worker process with OS
//!   limits on CPU time, memory and wall-clock time (`crate::sandbox`), after the SVG policy
//!   or chart-spec validation; no files, network or system fonts. A code that fails to render
//!   goes back to the LLM with the error, up to `max_render_attempts` times in all. Writes the same columns as `docs.render`, plus
//!   `figure_visible` (what `docs.llm_qa` checks answers against).
//! - Inputs: `figure_kind` (str), `figure_seed` (u64), `figure_options` (json).
//! - Outputs: `image`, `figure`, `figure_category`, `data`, `code`, `figure_visible`.
//! - Failure modes: transport errors after the client's retries (`llm_error`), refusals
//!   (`llm_refusal`), non-JSON or truncated replies (`llm_bad_json`, `llm_truncated`),
//!   unusable topics or data (`llm_bad_reply`), code that never rendered (`render_error`,
//!   with the last renderer error and the attempt count; `render_limit` when a CPU, memory or
//!   deadline limit ended the last attempt, `render_crash` when the worker crashed), a worker
//!   that could not be started (`sandbox_error`).
//! - Cost: three LLM calls plus one per failed render; a render is its own time plus a worker
//!   process start (`examples/sandbox_cost.rs`).

use std::sync::Arc;

use pixmo_annotation_schema::ModelUse;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_docs::Category;
use pixmo_llm::{JsonSchema, LlmConfig, Message, SamplingParams};
use serde::{Deserialize, Serialize};

use crate::kind::{Kind, RenderSettings};
use crate::llm::prompts::data_contract;
use crate::llm::{Language, LlmHandle, Preset, Prompts, clip, extract_code, fill};
use crate::stages::render::{Generated, generate};

/// Config of `docs.llm_figure`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmFigureConfig {
    /// Which model writes (default: the embedded SmolLM2).
    #[serde(default)]
    pub llm: LlmConfig,
    /// Prompt wording.
    #[serde(default)]
    pub preset: Preset,
    /// Reply cache folder (default: `PIXMO_LLM_CACHE`, else the user cache folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<std::path::PathBuf>,
    /// Topics asked for per persona (one is kept, chosen by the seed).
    #[serde(default = "default_topics")]
    pub topics: u32,
    /// Code attempts in all: the first plus corrections after failed renders.
    #[serde(default = "default_attempts")]
    pub max_render_attempts: u32,
    /// Wall-clock deadline of one render, in milliseconds (PixMo-Docs allowed 20 s per
    /// render); the worker process is killed at it.
    #[serde(default = "default_render_timeout_ms")]
    pub render_timeout_ms: u64,
    /// CPU time of one render, in whole seconds (the worker's `RLIMIT_CPU`). CPU time, unlike
    /// the deadline, does not depend on how loaded the machine is.
    #[serde(default = "default_render_cpu_seconds")]
    pub render_cpu_seconds: u64,
    /// Address space of one render's worker process, in MiB (`RLIMIT_AS`).
    #[serde(default = "default_render_memory_mib")]
    pub render_memory_mib: u64,
    /// Sampling temperature (the original used 1.0).
    #[serde(default = "crate::llm::default_temperature")]
    pub temperature: f64,
    /// Longest reply, in tokens.
    #[serde(default = "crate::llm::default_max_tokens")]
    pub max_tokens: u32,
}

fn default_topics() -> u32 {
    5
}
fn default_attempts() -> u32 {
    3
}
fn default_render_timeout_ms() -> u64 {
    20_000
}
fn default_render_cpu_seconds() -> u64 {
    10
}
fn default_render_memory_mib() -> u64 {
    2048
}

impl StageConfig for LlmFigureConfig {
    const KIND: &'static str = "docs.llm_figure";
    const SUMMARY: &'static str = "LLM writes topic, data and code (chart spec, SVG or typst); rendered in a worker process with OS limits, failed renders sent back with the error";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        crate::llm::check_sampling(self.temperature, self.max_tokens)?;
        if self.topics == 0 || self.max_render_attempts == 0 || self.render_timeout_ms == 0 {
            return Err(
                "`topics`, `max_render_attempts` and `render_timeout_ms` must be at least 1".into(),
            );
        }
        let limits = pixmo_sandbox::Limits {
            memory_bytes: self.render_memory_mib.saturating_mul(1 << 20),
            cpu_seconds: self.render_cpu_seconds,
            wall_ms: self.render_timeout_ms,
            ..pixmo_sandbox::Limits::default()
        };
        let sandbox = pixmo_sandbox::Sandbox::new(limits).map_err(|e| match e {
            pixmo_sandbox::Failure::Setup(m) => ConfigError::setup(m),
            other => ConfigError::setup(other.to_string()),
        })?;
        crate::sandbox::check(&sandbox).map_err(ConfigError::setup)?;
        Ok(Arc::new(LlmFigure {
            llm: LlmHandle::build(&self.llm, self.cache_dir.as_deref())
                .map_err(ConfigError::setup)?,
            prompts: Prompts::of(self.preset),
            config: self.clone(),
            sandbox,
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct LlmFigure {
    llm: LlmHandle,
    prompts: Prompts,
    config: LlmFigureConfig,
    sandbox: pixmo_sandbox::Sandbox,
}

/// The renderer language of a kind.
#[must_use]
pub fn language_of(kind: Kind) -> Language {
    match kind {
        Kind::Figure(k) if k.category() == Category::Charts => Language::ChartSpec,
        Kind::Figure(_) => Language::Svg,
        Kind::Doc(_) => Language::Typst,
    }
}

/// A rendered figure and what is visible on it.
#[derive(Debug)]
pub struct Drawn {
    /// Pixels.
    pub image: pixmo_core::RgbaImage,
    /// The code as rendered (a chart spec with its canvas and style filled in).
    pub code: String,
    /// `{"drawn_text": [...]}` or `{"layout_text": ..., "text_lines": [...]}`.
    pub visible: serde_json::Value,
}

/// The keys of a chart style that set its value axis.
const VALUE_AXIS_KEYS: [&str; 3] = ["value_min", "value_max", "tick_step"];

/// Renders LLM-written code in `language`, in this process with no time or memory bound: the
/// stage calls it through [`crate::sandbox`] in a worker process with OS limits.
/// `base_code` is the code of the procedural sample of the same seed: a chart spec without
/// `width`, `height` or `style` gets them from it (the style without its value axis, which is
/// derived from the spec's own data); a typst page is cropped with its margin rule. SVG and
/// typst pass the SVG policy and report only the text a reader can see.
///
/// # Errors
/// The renderer's message (sent back to the LLM).
pub fn render_code(
    language: Language,
    reply: &str,
    base_code: &str,
    seed: u64,
    settings: &RenderSettings,
) -> Result<Drawn, String> {
    match language {
        Language::ChartSpec => {
            let mut spec = pixmo_llm::parse_lenient(extract_code(reply, "json"))
                .map_err(|e| format!("the chart spec is not JSON ({e})"))?;
            let base_spec: serde_json::Value =
                serde_json::from_str(base_code).map_err(|e| e.to_string())?;
            let object = spec
                .as_object_mut()
                .ok_or("the chart spec must be a JSON object")?;
            for key in ["width", "height", "style"] {
                if !object.contains_key(key) {
                    let mut value = base_spec[key].clone();
                    // The procedural sample's value axis fits its own data, not this spec's:
                    // without one the axis is derived from this spec's data.
                    if let Some(style) = value.as_object_mut() {
                        for axis in VALUE_AXIS_KEYS {
                            style.remove(axis);
                        }
                    }
                    object.insert(key.to_owned(), value);
                }
            }
            for key in ["x_label", "y_label"] {
                object.entry(key).or_insert_with(|| "".into());
            }
            let chart = pixmo_gen_docs::ChartSpec::from_json(&spec.to_string())
                .map_err(|e| e.to_string())?;
            // The code states the value axis it was drawn with (derived, or the reply's own).
            if let Some(style) = spec.get_mut("style").and_then(|s| s.as_object_mut()) {
                let resolved = serde_json::to_value(&chart.style).map_err(|e| e.to_string())?;
                for axis in VALUE_AXIS_KEYS {
                    match resolved.get(axis) {
                        Some(value) => style.insert(axis.to_owned(), value.clone()),
                        None => style.remove(axis),
                    };
                }
            }
            let code = serde_json::to_string_pretty(&spec).map_err(|e| e.to_string())?;
            let r = pixmo_gen_docs::render_chart(&chart).map_err(|e| e.to_string())?;
            let image = pixmo_core::RgbaImage::new(r.width, r.height, r.rgba)?;
            Ok(Drawn {
                image,
                code,
                visible: serde_json::json!({ "drawn_text": r.texts }),
            })
        }
        Language::Svg => {
            let code = extract_code(reply, "svg");
            let svg = match (code.find("<svg"), code.rfind("</svg>")) {
                (Some(a), Some(b)) if a < b => &code[a..b + 6],
                _ => return Err("the reply holds no <svg>...</svg> document".into()),
            };
            let limits = pixmo_gen_docs::SvgLimits {
                min_side: settings.min_side.min(400),
                ..pixmo_gen_docs::SvgLimits::default()
            };
            let r = pixmo_gen_docs::render_svg_checked(
                svg,
                &limits,
                &pixmo_gen_docs::SvgPolicy::default(),
            )
            .map_err(|e| e.to_string())?;
            if r.visible_text.is_empty() {
                return Err(
                    "the SVG shows no visible <text>: label every item in a colour that \
                     contrasts with what is behind it"
                        .into(),
                );
            }
            let hidden: Vec<serde_json::Value> = r
                .hidden_text
                .iter()
                .map(|(text, reason)| serde_json::json!({"text": text, "reason": reason}))
                .collect();
            Ok(Drawn {
                image: r.image,
                code: svg.to_owned(),
                visible: serde_json::json!({ "drawn_text": r.visible_text, "hidden_text": hidden }),
            })
        }
        Language::Typst => {
            let code = extract_code(reply, "typst");
            let mut options = settings.doc_options();
            options.render.check_visibility = true;
            let doc = pixmo_gen_typst::render_typst_here(code, &options.render)
                .map_err(|e| e.to_string())?;
            let margin = crate::stages::render::crop_margin_px(seed, settings);
            Ok(Drawn {
                image: crate::crop::crop_to_content(&doc.image, margin),
                code: code.to_owned(),
                visible: serde_json::json!({
                    "layout_text": doc.layout_text(),
                    "text_lines": doc.text_lines(),
                    "hidden_text": doc.hidden,
                }),
            })
        }
    }
}

fn topics_schema() -> JsonSchema {
    JsonSchema::new(
        "topics",
        serde_json::json!({
            "type": "object",
            "properties": {"topics": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
            "required": ["topics"]
        }),
    )
}

fn data_schema() -> JsonSchema {
    JsonSchema::new("data", serde_json::json!({"type": "object"}))
}

impl LlmFigure {
    fn params(&self, seed: u64) -> SamplingParams {
        crate::llm::sampling(self.config.temperature, self.config.max_tokens, seed)
    }

    fn write(
        &self,
        record: &mut Record,
        kind: Kind,
        seed: u64,
        settings: &RenderSettings,
    ) -> Result<(), Reject> {
        let base = generate(kind, seed, settings).map_err(|m| Reject::new("render_error", m))?;
        let persona = base.figure["persona"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let figure_type = base.figure["figure_type"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let language = language_of(kind);
        let params = self.params(seed);
        let bad = |m: String| self.llm.fail(Reject::new("llm_bad_reply", m));

        // Topics.
        let prompt = fill(
            &self.prompts.topics,
            &[
                ("persona", &persona),
                ("figure_type", &figure_type),
                ("count", &self.config.topics.to_string()),
            ],
        )?;
        let (_, topics) =
            self.llm
                .chat_json(vec![Message::user(prompt)], &params, topics_schema())?;
        let topics: Vec<String> = topics["topics"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str())
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty() && t.len() <= 300)
                    .collect()
            })
            .unwrap_or_default();
        if topics.is_empty() {
            return Err(bad("The topics reply has no usable `topics` strings".into()));
        }
        let mut rng = pixmo_core::Rng::new(pixmo_core::seed::derive_seed(
            seed,
            &[b"pixmo-docs", b"llm-topic"],
        ));
        let topic = topics[rng.index(topics.len())].clone();

        // Data.
        let prompt = fill(
            &self.prompts.data,
            &[
                ("persona", &persona),
                ("topic", &topic),
                ("figure_type", &figure_type),
                ("contract", data_contract(language)),
            ],
        )?;
        let (_, data) = self
            .llm
            .chat_json(vec![Message::user(prompt)], &params, data_schema())?;
        if data.as_object().is_none_or(serde_json::Map::is_empty) {
            return Err(bad(format!(
                "The data reply is not a non-empty JSON object: {}",
                clip(&data.to_string())
            )));
        }
        let data_text = serde_json::to_string_pretty(&data).unwrap_or_default();

        // Code, rendered; failures go back to the model.
        let fonts = pixmo_gen_typst::FontFamily::BODY
            .iter()
            .map(|f| format!("\"{}\"", f.typst_name()))
            .collect::<Vec<_>>()
            .join(", ");
        let prompt = fill(
            self.prompts.code(language),
            &[
                ("persona", &persona),
                ("topic", &topic),
                ("figure_type", &figure_type),
                ("data", &data_text),
                ("fonts", &fonts),
            ],
        )?;
        let mut messages = vec![Message::user(prompt)];
        let mut errors = Vec::new();
        let mut last_kind = "render_error";
        for attempt in 1..=self.config.max_render_attempts {
            let reply = self.llm.chat(messages.clone(), &params, None)?;
            let rendered = crate::sandbox::render(
                &self.sandbox,
                language,
                &reply.text,
                &base.code,
                seed,
                settings,
            );
            let error = match rendered {
                Ok(drawn) => {
                    set_columns(
                        record, &base, &persona, &topic, language, &data, drawn, attempt, &errors,
                    );
                    return Ok(());
                }
                Err(pixmo_sandbox::Failure::Setup(m)) => {
                    return Err(self.llm.fail(Reject::new("sandbox_error", m)));
                }
                Err(failure @ pixmo_sandbox::Failure::Rejected(_)) => {
                    last_kind = "render_error";
                    failure.to_string()
                }
                Err(failure @ pixmo_sandbox::Failure::Limit { .. }) => {
                    last_kind = "render_limit";
                    format!("the render was stopped: {failure}")
                }
                Err(failure @ pixmo_sandbox::Failure::Crashed(_)) => {
                    last_kind = "render_crash";
                    failure.to_string()
                }
            };
            let fix = fill(
                &self.prompts.fix,
                &[("language", language.name()), ("error", &clip(&error))],
            )?;
            messages.push(Message::assistant(reply.text));
            messages.push(Message::user(fix));
            errors.push(error);
        }
        Err(self.llm.fail(Reject::new(
            last_kind,
            format!(
                "{} code did not render in {} attempts; last error: {}",
                language.name(),
                self.config.max_render_attempts,
                clip(errors.last().map_or("", String::as_str))
            ),
        )))
    }
}

#[allow(clippy::too_many_arguments)]
fn set_columns(
    record: &mut Record,
    base: &Generated,
    persona: &str,
    topic: &str,
    language: Language,
    data: &serde_json::Value,
    drawn: Drawn,
    attempts: u32,
    errors: &[String],
) {
    let category = base.figure["category"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    record.set("image", Value::Image(Arc::new(drawn.image)));
    record.set(
        "figure",
        Value::Json(serde_json::json!({
            "figure_type": base.figure["figure_type"],
            "category": category,
            "persona": persona,
            "topic": topic,
            "generator": format!("llm/{}", language.name()),
            "render_attempts": attempts,
            "render_errors": errors,
        })),
    );
    record.set("figure_category", Value::Str(category));
    record.set("data", Value::Str(pixmo_core::canonical_json(data)));
    record.set("code", Value::Str(drawn.code));
    record.set("figure_visible", Value::Json(drawn.visible));
}

impl Stage for LlmFigure {
    fn version(&self) -> &'static str {
        "2"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        crate::stages::render::figure_inputs()
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        let mut columns = crate::stages::render::figure_outputs();
        columns.push(ColumnDef::new("figure_visible", ColumnType::Json));
        columns
    }

    fn models(&self) -> Vec<ModelUse> {
        let p = &self.prompts;
        let mut uses = self.llm.model_uses(
            &[
                &p.topics,
                &p.data,
                &p.code_chart,
                &p.code_svg,
                &p.code_typst,
                &p.fix,
            ],
            &self.params(0),
            |t| {
                if t.id() == p.topics.id() {
                    Some(topics_schema().schema)
                } else if t.id() == p.data.id() {
                    Some(data_schema().schema)
                } else {
                    None
                }
            },
        );
        uses.extend(crate::stages::render::Render.models());
        uses
    }

    fn summary(&self) -> Option<serde_json::Value> {
        Some(self.llm.summary())
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let (kind, seed, settings) = crate::stages::render::read_inputs(record)?;
        self.write(record, kind, seed, &settings)
    }
}
