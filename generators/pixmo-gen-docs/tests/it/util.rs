//! Helpers shared by the tests.

use pixmo_gen_docs::{DocSample, FigureKind, GenerateOptions, generate};

/// Small canvases keep debug-mode tests fast.
pub fn small() -> GenerateOptions {
    GenerateOptions {
        min_side: 200,
        max_side: 360,
    }
}

/// `n` samples of `kind` from consecutive seeds.
pub fn samples(kind: FigureKind, n: u64) -> Vec<DocSample> {
    (0..n)
        .map(|seed| generate(kind, seed * 7919 + 13, &small()).unwrap())
        .collect()
}

/// The text content of every `<text>` element of an SVG document, unescaped.
pub fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let Some(close) = rest.find("</text>") else {
            break;
        };
        out.push(
            rest[open_end + 1..close]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &rest[close + 7..];
    }
    out
}
