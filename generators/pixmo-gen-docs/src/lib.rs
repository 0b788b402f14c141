//! Procedural PixMo-Docs figures: charts (plotters) and diagrams (SVG + resvg) with exact,
//! data-derived question-answer pairs. `(kind, seed) -> (pixels, ground truth)`.
//!
//! PixMo-Docs had an LLM write data and rendering code and a second, text-only LLM write QA
//! from that data and code. This crate is the procedural mode of the same stage graph:
//!
//! 1. **persona and topic**: a seeded domain, persona and subject from built-in banks;
//! 2. **data**: categories, series, points, graphs drawn from those banks;
//! 3. **code**: a declarative spec ([`ChartSpec`] as JSON, or an SVG document for diagrams),
//!    validated as untrusted input before rendering;
//! 4. **render**: plotters (bitmap backend, ab_glyph with bundled fonts) or resvg (bundled
//!    fonts, no system fonts, no external files or images);
//! 5. **QA** computed from the data and the spec, with the answer rule below.
//!
//! # The answer rule
//!
//! An answer must be readable from the pixels. Exact values are asked only when the figure
//! prints them (value labels, or text in diagram boxes), and numeric answers use the same
//! [`format_number`] as the labels, with the decimals of the printed values (averages and
//! ratios say how to round). Without printed values the QA asks comparisons, argmax/argmin and
//! yes/no questions only when the difference is visually clear: at least
//! [`chart::qa::CLEAR_GAP`] of the value axis. Colour questions are asked only when the
//! palette uses named colours and the legend shows the mapping. Every figure also gets one
//! unanswerable question whose answer is a refusal.
//!
//! # Determinism
//!
//! All choices come from [`pixmo_core::Rng`] seeded by the caller; pie geometry uses `libm`.
//! plotters' own anti-aliasing uses `f64` arithmetic only. Bump [`GENERATOR_VERSION`] when
//! the pixels or QA for a seed change.

pub mod bank;
pub mod chart;
pub mod diagram;
mod error;
mod fonts;
pub mod style;

use pixmo_core::RgbaImage;
use serde::{Deserialize, Serialize};

pub use chart::render::{RenderedChart, render_chart};
pub use chart::spec::ChartSpec;
pub use diagram::policy::{SvgPolicy, check_svg};
pub use diagram::render::{SvgLimits, SvgRender, render_svg, render_svg_checked};
pub use error::{Error, Result};
pub use fonts::{FONT_FILES, FontChoice};
pub use style::format_number;

/// Generator version recorded in provenance; bump when output changes for the same seed.
pub const GENERATOR_VERSION: &str = "pixmo-gen-docs/1";

/// Answer given to questions the figure cannot answer.
pub const REFUSAL: &str = "Cannot be determined from the figure.";

/// Molmo's PixMo-Docs categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Charts and plots.
    Charts,
    /// Tables.
    Tables,
    /// Diagrams.
    Diagrams,
    /// Documents and everything else.
    Other,
}

impl Category {
    /// `charts`, `tables`, `diagrams` or `other`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Category::Charts => "charts",
            Category::Tables => "tables",
            Category::Diagrams => "diagrams",
            Category::Other => "other",
        }
    }

    /// Molmo's style tag (`pixmo_docs_charts`).
    #[must_use]
    pub fn style_tag(self) -> String {
        format!("pixmo_docs_{}", self.name())
    }
}

/// A figure kind this crate generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureKind {
    /// Grouped bars, vertical or horizontal.
    BarChart,
    /// Stacked bars.
    StackedBarChart,
    /// Lines over ordered categories.
    LineChart,
    /// Filled areas, plain or stacked.
    AreaChart,
    /// Labelled points.
    ScatterPlot,
    /// Pie or donut.
    PieChart,
    /// Binned counts.
    Histogram,
    /// Box plots.
    BoxPlot,
    /// Coloured matrix.
    Heatmap,
    /// Process flow with decisions.
    Flowchart,
    /// Reporting tree.
    OrgChart,
    /// Dated events on a line.
    Timeline,
    /// Undirected graph of connections.
    NetworkGraph,
}

impl FigureKind {
    /// Every kind.
    pub const ALL: [FigureKind; 13] = [
        FigureKind::BarChart,
        FigureKind::StackedBarChart,
        FigureKind::LineChart,
        FigureKind::AreaChart,
        FigureKind::ScatterPlot,
        FigureKind::PieChart,
        FigureKind::Histogram,
        FigureKind::BoxPlot,
        FigureKind::Heatmap,
        FigureKind::Flowchart,
        FigureKind::OrgChart,
        FigureKind::Timeline,
        FigureKind::NetworkGraph,
    ];

    /// Snake-case name, as in configs (`bar_chart`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            FigureKind::BarChart => "bar_chart",
            FigureKind::StackedBarChart => "stacked_bar_chart",
            FigureKind::LineChart => "line_chart",
            FigureKind::AreaChart => "area_chart",
            FigureKind::ScatterPlot => "scatter_plot",
            FigureKind::PieChart => "pie_chart",
            FigureKind::Histogram => "histogram",
            FigureKind::BoxPlot => "box_plot",
            FigureKind::Heatmap => "heatmap",
            FigureKind::Flowchart => "flowchart",
            FigureKind::OrgChart => "org_chart",
            FigureKind::Timeline => "timeline",
            FigureKind::NetworkGraph => "network_graph",
        }
    }

    /// Looks a kind up by [`FigureKind::name`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<FigureKind> {
        FigureKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Charts or diagrams.
    #[must_use]
    pub fn category(self) -> Category {
        match self {
            FigureKind::Flowchart
            | FigureKind::OrgChart
            | FigureKind::Timeline
            | FigureKind::NetworkGraph => Category::Diagrams,
            _ => Category::Charts,
        }
    }
}

/// A question with its explanation, answer and type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qa {
    /// The question.
    pub question: String,
    /// How the answer follows from what is drawn.
    pub explanation: String,
    /// The short answer.
    pub answer: String,
    /// `retrieval`, `count`, `comparison`, `compositional`, `yes_no`, `figure` or `unanswerable`.
    #[serde(rename = "type")]
    pub qa_type: String,
}

/// Size bounds of generated figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateOptions {
    /// Smallest canvas side.
    pub min_side: u32,
    /// Largest canvas side.
    pub max_side: u32,
}

impl Default for GenerateOptions {
    fn default() -> GenerateOptions {
        GenerateOptions {
            min_side: 400,
            max_side: 1000,
        }
    }
}

impl GenerateOptions {
    /// Checks the bounds.
    ///
    /// # Errors
    /// When `min_side` is under 128, over `max_side`, or `max_side` is over 2048.
    pub fn validate(&self) -> Result<()> {
        if self.min_side < chart::spec::MIN_SIDE
            || self.max_side > chart::spec::MAX_SIDE
            || self.min_side > self.max_side
        {
            return Err(error::invalid(format!(
                "Sides {}..={} are outside {}..={}",
                self.min_side,
                self.max_side,
                chart::spec::MIN_SIDE,
                chart::spec::MAX_SIDE
            )));
        }
        Ok(())
    }
}

/// One generated figure with its ground truth.
#[derive(Clone, Debug)]
pub struct DocSample {
    /// Human-readable figure type (`bar chart`, `flowchart`).
    pub figure_type: String,
    /// Molmo category.
    pub category: Category,
    /// Persona the topic was drawn for.
    pub persona: String,
    /// Topic.
    pub topic: String,
    /// The data the figure shows.
    pub data: serde_json::Value,
    /// What rendered it: chart spec JSON, or the SVG document.
    pub code: String,
    /// Pixels.
    pub image: RgbaImage,
    /// Questions and answers.
    pub qa: Vec<Qa>,
    /// Every text string drawn on the figure (for checks).
    pub drawn_text: Vec<String>,
}

/// Generates one figure of `kind` from `seed`.
///
/// # Errors
/// Invalid options, or a render failure (a bug: generated specs are valid by construction).
pub fn generate(kind: FigureKind, seed: u64, options: &GenerateOptions) -> Result<DocSample> {
    options.validate()?;
    match kind.category() {
        Category::Charts => chart::sample::generate(kind, seed, options),
        Category::Diagrams => diagram::generate(kind, seed, options),
        Category::Tables | Category::Other => Err(Error::UnsupportedKind {
            kind: kind.name().to_owned(),
        }),
    }
}
