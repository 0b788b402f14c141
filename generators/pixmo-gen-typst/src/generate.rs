//! The single entry point: `(kind, seed) -> DocSample`.

use pixmo_core::seed::derive_seed;
use pixmo_core::{RgbaImage, Rng};
use serde::{Deserialize, Serialize};

use crate::banks;
use crate::error::{Error, Result};
use crate::model::DocData;
use crate::qa::{self, Qa, QaKind, QaProgram};
use crate::render::{RenderOptions, RenderedDoc, render_typst};
use crate::style::{PageSize, Style};
use crate::templates::{Built, commerce, office, tables};

/// A kind of document this crate can generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A data table with a caption (category `tables`).
    DataTable,
    /// An event agenda / timetable (category `tables`).
    Schedule,
    /// A business invoice with line items and totals.
    Invoice,
    /// A narrow shop receipt.
    Receipt,
    /// A report with summary text and a table.
    Report,
    /// A filled-in application form with check boxes.
    Form,
    /// A formal letter.
    Letter,
    /// A restaurant menu.
    Menu,
    /// A résumé.
    Resume,
    /// A community newsletter.
    Newsletter,
}

impl DocKind {
    /// Every kind, in a fixed order.
    pub const ALL: [DocKind; 10] = [
        DocKind::DataTable,
        DocKind::Schedule,
        DocKind::Invoice,
        DocKind::Receipt,
        DocKind::Report,
        DocKind::Form,
        DocKind::Letter,
        DocKind::Menu,
        DocKind::Resume,
        DocKind::Newsletter,
    ];

    /// Stable snake_case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DocKind::DataTable => "data_table",
            DocKind::Schedule => "schedule",
            DocKind::Invoice => "invoice",
            DocKind::Receipt => "receipt",
            DocKind::Report => "report",
            DocKind::Form => "form",
            DocKind::Letter => "letter",
            DocKind::Menu => "menu",
            DocKind::Resume => "resume",
            DocKind::Newsletter => "newsletter",
        }
    }

    /// The kind with this [`name`](Self::name).
    #[must_use]
    pub fn from_name(name: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// PixMo-Docs category: `tables` or `other`.
    #[must_use]
    pub fn category(self) -> &'static str {
        match self {
            DocKind::DataTable | DocKind::Schedule => "tables",
            _ => "other",
        }
    }

    fn build(self, rng: &mut Rng) -> Built {
        match self {
            DocKind::DataTable => tables::data_table(rng),
            DocKind::Schedule => tables::schedule(rng),
            DocKind::Invoice => commerce::invoice(rng),
            DocKind::Receipt => commerce::receipt(rng),
            DocKind::Report => office::report(rng),
            DocKind::Form => office::form(rng),
            DocKind::Letter => office::letter(rng),
            DocKind::Menu => commerce::menu(rng),
            DocKind::Resume => office::resume(rng),
            DocKind::Newsletter => office::newsletter(rng),
        }
    }

    /// Typst source for `data` in `style`.
    #[must_use]
    pub fn code(self, data: &DocData, style: &Style) -> String {
        match self {
            DocKind::DataTable => tables::data_table_code(data, style),
            DocKind::Schedule => tables::schedule_code(data, style),
            DocKind::Invoice => commerce::invoice_code(data, style),
            DocKind::Receipt => commerce::receipt_code(data, style),
            DocKind::Report => office::report_code(data, style),
            DocKind::Form => office::form_code(data, style),
            DocKind::Letter => office::letter_code(data, style),
            DocKind::Menu => commerce::menu_code(data, style),
            DocKind::Resume => office::resume_code(data, style),
            DocKind::Newsletter => office::newsletter_code(data, style),
        }
    }

    fn pages(self, rng: &mut Rng) -> Vec<PageSize> {
        match self {
            DocKind::Receipt => vec![PageSize::Auto {
                width: f64::from(rng.range_u32(210, 280)),
            }],
            DocKind::DataTable => vec![PageSize::Auto {
                width: f64::from(rng.range_u32(420, 640)),
            }],
            DocKind::Menu | DocKind::Letter | DocKind::Form => {
                vec![PageSize::A4, PageSize::Letter, PageSize::A5]
            }
            _ => vec![PageSize::A4, PageSize::Letter],
        }
    }
}

/// Options for [`generate`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GenerateOptions {
    /// Rendering bounds and resolution.
    pub render: RenderOptions,
}

/// One generated document with its ground truth.
#[derive(Clone, Debug)]
pub struct DocSample {
    /// The kind that produced it.
    pub kind: DocKind,
    /// Figure type (`invoice`, `data table`, ...).
    pub figure_type: String,
    /// `tables` or `other`.
    pub category: String,
    /// A PersonaHub-style one-liner the document is "for".
    pub persona: String,
    /// One-line topic.
    pub topic: String,
    /// The structured content ([`DocData`] as JSON); every QA answer is computable from it.
    pub data: serde_json::Value,
    /// The typst source that was rendered.
    pub code: String,
    /// The style that was applied.
    pub style: Style,
    /// The first page.
    pub image: RgbaImage,
    /// Text lines of the laid-out page (see [`RenderedDoc::text_lines`]).
    pub text_lines: Vec<String>,
    /// All text runs in layout order (see [`RenderedDoc::layout_text`]).
    pub layout_text: String,
    /// Question-answer pairs, exact by construction and checked against the layout.
    pub qa: Vec<Qa>,
}

/// Generates one document of `kind` for `seed`: same inputs, byte-identical output.
///
/// # Errors
/// Rendering errors ([`Error::Compile`] etc.) and [`Error::Validation`] when an answer is not
/// visible in the laid-out text; both indicate a bug in a template.
pub fn generate(kind: DocKind, seed: u64, options: &GenerateOptions) -> Result<DocSample> {
    let stream = |purpose: &str| {
        Rng::new(derive_seed(
            seed,
            &[
                b"pixmo-gen-typst",
                kind.name().as_bytes(),
                purpose.as_bytes(),
            ],
        ))
    };
    let built = kind.build(&mut stream("content"));
    let mut style_rng = stream("style");
    let pages = kind.pages(&mut style_rng);
    let mut style = Style::sample(&mut style_rng, &pages);
    let mut code = kind.code(&built.data, &style);
    let rendered = match render_typst(&code, &options.render) {
        Err(Error::MultiplePages { .. } | Error::Clipped { .. })
            if !matches!(style.page, PageSize::Auto { .. }) =>
        {
            // Too much content for the page: keep the width, let the height grow.
            let width = match style.page {
                PageSize::Letter => 612.0,
                PageSize::A5 => 419.53,
                _ => 595.28,
            };
            style.page = PageSize::Auto { width };
            code = kind.code(&built.data, &style);
            render_typst(&code, &options.render)?
        }
        other => other?,
    };
    let qa = qa::generate(&mut stream("qa"), &built.data, &built.hints);
    validate(&built.data, &qa, &rendered)?;
    let data = serde_json::to_value(&built.data).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(DocSample {
        kind,
        figure_type: built.figure_type.into(),
        category: kind.category().into(),
        persona: banks::persona(&mut stream("persona")),
        topic: built.topic,
        data,
        code,
        style,
        text_lines: rendered.text_lines(),
        layout_text: rendered.layout_text(),
        image: rendered.image,
        qa,
    })
}

/// Every extractive answer and every drawn value must appear in the laid-out text.
fn validate(data: &DocData, qa: &[Qa], doc: &RenderedDoc) -> Result<()> {
    let mut missing = Vec::new();
    let mut check = |what: &str, s: &str| {
        if !doc.shows(s) {
            missing.push(format!("{what} {s:?}"));
        }
    };
    check("title", &data.title);
    for f in &data.fields {
        check("field", &f.value);
    }
    for t in &data.tables {
        for row in &t.rows {
            for cell in row {
                check("cell", cell);
            }
        }
    }
    for l in &data.lists {
        for item in &l.items {
            check("list item", item);
        }
    }
    for q in qa {
        let extractive = matches!(
            q.program,
            QaProgram::Field { .. }
                | QaProgram::Cell { .. }
                | QaProgram::ArgMax { .. }
                | QaProgram::ArgMin { .. }
        );
        if extractive || q.kind == QaKind::Retrieval {
            check("answer", &q.answer);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(format!(
            "not in the laid-out text: {}",
            missing.join(", ")
        )))
    }
}

/// Convenience for callers that only need the names.
#[must_use]
pub fn kind_names() -> Vec<&'static str> {
    DocKind::ALL.iter().map(|k| k.name()).collect()
}
