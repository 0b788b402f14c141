//! Diagrams: graph data, layout, SVG (rendered with resvg) and QA.

pub mod graph;
pub mod policy;
pub mod qa;
pub mod render;
mod svg;

use pixmo_core::Rng;

use crate::error::Result;
use crate::{DocSample, FigureKind, GenerateOptions, bank};

/// Generates a diagram of `kind`.
pub(crate) fn generate(
    kind: FigureKind,
    seed: u64,
    options: &GenerateOptions,
) -> Result<DocSample> {
    let mut rng = Rng::new(seed);
    let domain = bank::domain(&mut rng);
    let persona = bank::persona(&mut rng, domain);
    let place = bank::place(&mut rng);
    let style = svg::DiagramStyle::sample(&mut rng);
    let long_side = rng.range_u32(
        options.min_side.max(options.max_side * 3 / 5),
        options.max_side + 1,
    );
    let (graph, topic) = match kind {
        FigureKind::Flowchart => (
            graph::flowchart(&mut rng, domain, place),
            format!("a {} workflow in {place}", domain.name),
        ),
        FigureKind::OrgChart => (
            graph::org_chart(&mut rng, domain, place),
            format!("the structure of a {} organisation in {place}", domain.name),
        ),
        FigureKind::Timeline => (
            graph::timeline(&mut rng, domain, place),
            format!("the history of a {} project in {place}", domain.name),
        ),
        FigureKind::NetworkGraph => (
            graph::network(&mut rng, domain, place),
            format!("connections in a {} network", domain.name),
        ),
        other => {
            return Err(crate::Error::UnsupportedKind {
                kind: other.name().to_owned(),
            });
        }
    };
    let (code, texts, _, _) = match kind {
        FigureKind::Flowchart => svg::flowchart(&graph, &style, long_side, options.min_side),
        FigureKind::OrgChart => svg::tree(&graph, &style, long_side, options.min_side),
        FigureKind::Timeline => svg::timeline(&graph, &style, long_side, options.min_side),
        _ => svg::network(&graph, &style, long_side, options.min_side),
    };
    let limits = render::SvgLimits {
        max_side: options.max_side.max(long_side),
        min_side: options.min_side.min(crate::chart::spec::MIN_SIDE),
        ..render::SvgLimits::default()
    };
    let image = render::render_svg(&code, &limits)?;
    let qa = qa::diagram_qa(kind, &graph, &mut rng);
    let data = serde_json::to_value(&graph).map_err(crate::Error::SpecJson)?;
    Ok(DocSample {
        figure_type: kind.name().replace('_', " "),
        category: kind.category(),
        persona,
        topic,
        data,
        code,
        image,
        qa,
        drawn_text: texts,
    })
}
