//! What an untrusted SVG may contain, checked on the XML before usvg sees it.
//!
//! usvg parses DTDs (entity expansion) and will happily expand nested `<use>` chains and run
//! filters whose cost grows with their parameters (`feTurbulence numOctaves`,
//! `feMorphology radius`, `feConvolveMatrix order`, `feGaussianBlur stdDeviation`). The
//! policy refuses a DTD, scripts and foreign content, and caps element count, nesting depth,
//! text, `<use>` (no `<use>` may point at content that itself holds a `<use>`), and every
//! filter primitive's cost parameters. Time and memory are bounded separately, by the process
//! the render runs in.

use std::ops::Range;

use crate::error::{Error, Result};

/// Caps on an untrusted SVG document.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SvgPolicy {
    /// Most elements.
    pub max_elements: usize,
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most characters of text content in all.
    pub max_text_chars: usize,
    /// Most `<use>` elements.
    pub max_uses: usize,
    /// Most filter primitives (`fe*` elements).
    pub max_filter_primitives: usize,
    /// Largest `feTurbulence numOctaves`.
    pub max_turbulence_octaves: f64,
    /// Largest `feMorphology radius`, in user units.
    pub max_morphology_radius: f64,
    /// Largest `feGaussianBlur`/`feDropShadow` `stdDeviation`.
    pub max_blur_std_dev: f64,
    /// Largest `feConvolveMatrix order`.
    pub max_convolve_order: f64,
}

impl Default for SvgPolicy {
    fn default() -> SvgPolicy {
        SvgPolicy {
            max_elements: 5_000,
            max_depth: 40,
            max_text_chars: 20_000,
            max_uses: 200,
            max_filter_primitives: 32,
            max_turbulence_octaves: 8.0,
            max_morphology_radius: 16.0,
            max_blur_std_dev: 50.0,
            max_convolve_order: 5.0,
        }
    }
}

/// Elements an untrusted SVG may not contain.
const FORBIDDEN: [&str; 7] = [
    "script",
    "foreignObject",
    "feImage",
    "iframe",
    "video",
    "audio",
    "canvas",
];

fn refuse(reason: impl Into<String>) -> Error {
    Error::InvalidSpec {
        reason: format!("SVG refused: {}", reason.into()),
    }
}

/// The numbers in an attribute value (`"2 3"`, `"4,5"`).
fn numbers(value: &str) -> Vec<f64> {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .unwrap_or(f64::INFINITY)
        })
        .collect()
}

fn over(node: roxmltree::Node<'_, '_>, attribute: &str, max: f64) -> Result<()> {
    if let Some(value) = node.attribute(attribute) {
        let worst = numbers(value)
            .into_iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        if worst.is_nan() || worst > max {
            return Err(refuse(format!(
                "<{} {attribute}=\"{}\"> is above the limit of {max}",
                node.tag_name().name(),
                value.chars().take(40).collect::<String>()
            )));
        }
    }
    Ok(())
}

/// The id a `<use>` points at (`href` or `xlink:href` = `#id`).
fn use_target<'a>(node: roxmltree::Node<'a, '_>) -> Option<&'a str> {
    node.attributes()
        .find(|a| a.name() == "href")
        .and_then(|a| a.value().strip_prefix('#'))
}

/// Checks `svg` against `policy` and returns the byte ranges of its outermost `<text>`
/// elements (to draw the document without its text).
///
/// # Errors
/// [`Error::InvalidSpec`] naming the rule broken, [`Error::Svg`] for XML that does not parse
/// (a DTD included).
pub fn check_svg(svg: &str, policy: &SvgPolicy) -> Result<Vec<Range<usize>>> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::try_from(policy.max_elements.saturating_mul(4)).unwrap_or(u32::MAX),
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(svg, options).map_err(|e| Error::Svg {
        message: e.to_string(),
    })?;
    let mut elements = 0usize;
    let mut uses = Vec::new();
    let mut primitives = 0usize;
    let mut text_chars = 0usize;
    let mut texts = Vec::new();
    // Depth-first with an explicit stack: hostile nesting cannot overflow ours.
    let mut stack = vec![(doc.root_element(), 1usize, false)];
    while let Some((node, depth, in_text)) = stack.pop() {
        elements += 1;
        if elements > policy.max_elements {
            return Err(refuse(format!(
                "more than {} elements",
                policy.max_elements
            )));
        }
        if depth > policy.max_depth {
            return Err(refuse(format!(
                "elements nested deeper than {}",
                policy.max_depth
            )));
        }
        let name = node.tag_name().name();
        if let Some(bad) = FORBIDDEN.iter().find(|f| f.eq_ignore_ascii_case(name)) {
            return Err(refuse(format!("<{bad}> is not allowed")));
        }
        let is_text = name == "text";
        if is_text && !in_text {
            texts.push(node.range());
        }
        if name == "use" {
            uses.push(node);
            if uses.len() > policy.max_uses {
                return Err(refuse(format!(
                    "more than {} <use> elements",
                    policy.max_uses
                )));
            }
        }
        if name.starts_with("fe") {
            primitives += 1;
            if primitives > policy.max_filter_primitives {
                return Err(refuse(format!(
                    "more than {} filter primitives",
                    policy.max_filter_primitives
                )));
            }
            over(node, "numOctaves", policy.max_turbulence_octaves)?;
            over(node, "radius", policy.max_morphology_radius)?;
            over(node, "stdDeviation", policy.max_blur_std_dev)?;
            over(node, "order", policy.max_convolve_order)?;
        }
        for child in node.children() {
            if child.is_text() {
                text_chars += child.text().map_or(0, |t| t.chars().count());
                if text_chars > policy.max_text_chars {
                    return Err(refuse(format!(
                        "more than {} characters of text",
                        policy.max_text_chars
                    )));
                }
            } else if child.is_element() {
                stack.push((child, depth + 1, in_text || is_text));
            }
        }
    }
    for node in uses {
        let Some(id) = use_target(node) else {
            continue;
        };
        let Some(target) = doc.descendants().find(|n| n.attribute("id") == Some(id)) else {
            continue;
        };
        if target
            .descendants()
            .any(|n| n.tag_name().name() == "use" || n == node)
        {
            return Err(refuse(format!(
                "<use href=\"#{}\"> points at content that holds a <use>",
                id.chars().take(40).collect::<String>()
            )));
        }
    }
    texts.sort_by_key(|r| r.start);
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(svg: &str) -> String {
        check_svg(svg, &SvgPolicy::default())
            .expect_err("refused")
            .to_string()
    }

    const NS: &str =
        r#"xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink""#;

    #[test]
    fn plain_diagrams_pass_and_text_ranges_are_found() {
        let svg = format!(
            r#"<svg {NS} width="100" height="50"><rect width="10" height="10"/><text x="1" y="20">A <tspan>b</tspan></text><g><text>C</text></g></svg>"#
        );
        let ranges = check_svg(&svg, &SvgPolicy::default()).unwrap();
        let cut: Vec<&str> = ranges.iter().map(|r| &svg[r.clone()]).collect();
        assert_eq!(
            cut,
            vec![
                r#"<text x="1" y="20">A <tspan>b</tspan></text>"#,
                "<text>C</text>"
            ]
        );
    }

    #[test]
    fn hostile_documents_are_refused_with_the_rule() {
        let dtd = r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>"#;
        assert!(matches!(
            check_svg(dtd, &SvgPolicy::default()),
            Err(Error::Svg { .. })
        ));
        let turbulence = format!(
            r#"<svg {NS}><filter id="f"><feTurbulence baseFrequency="0.1" numOctaves="2000000000"/></filter></svg>"#
        );
        assert!(refused(&turbulence).contains("numOctaves"));
        let morphology = format!(
            r#"<svg {NS}><filter id="f"><feMorphology operator="dilate" radius="1024"/></filter></svg>"#
        );
        assert!(refused(&morphology).contains("radius"));
        let nan = format!(
            r#"<svg {NS}><filter id="f"><feGaussianBlur stdDeviation="NaN"/></filter></svg>"#
        );
        assert!(refused(&nan).contains("stdDeviation"));
        let nested_use = format!(
            r##"<svg {NS}><defs><g id="a"><rect width="1" height="1"/></g><g id="b"><use href="#a"/><use href="#a"/></g></defs><use href="#b"/></svg>"##
        );
        assert!(refused(&nested_use).contains("<use"));
        let self_use = format!(r##"<svg {NS}><g id="a"><use xlink:href="#a"/></g></svg>"##);
        assert!(refused(&self_use).contains("<use"));
        let script = format!(r#"<svg {NS}><script>alert(1)</script></svg>"#);
        assert!(refused(&script).contains("script"));
        let deep = format!(
            "<svg {NS}>{}{}</svg>",
            "<g>".repeat(100),
            "</g>".repeat(100)
        );
        assert!(refused(&deep).contains("nested"));
        let many = format!("<svg {NS}>{}</svg>", "<rect/>".repeat(6000));
        assert!(check_svg(&many, &SvgPolicy::default()).is_err());
        let text = format!("<svg {NS}><text>{}</text></svg>", "x".repeat(30_000));
        assert!(refused(&text).contains("characters"));
    }
}
