//! Untrusted chart specs and SVG: every bound is enforced with a typed error.

use pixmo_gen_docs::{ChartSpec, Error, FigureKind, SvgLimits, generate, render_chart, render_svg};

use crate::util::small;

fn valid_spec() -> serde_json::Value {
    let sample = generate(FigureKind::BarChart, 3, &small()).unwrap();
    serde_json::from_str(&sample.code).unwrap()
}

fn parse(v: &serde_json::Value) -> Result<ChartSpec, Error> {
    ChartSpec::from_json(&v.to_string())
}

#[test]
fn generated_code_round_trips_through_the_untrusted_path() {
    for kind in FigureKind::ALL
        .into_iter()
        .filter(|k| k.category() == pixmo_gen_docs::Category::Charts)
    {
        let sample = generate(kind, 11, &small()).unwrap();
        let spec = ChartSpec::from_json(&sample.code).unwrap();
        let again = render_chart(&spec).unwrap();
        assert_eq!(again.rgba, sample.image.data, "{kind:?}");
    }
}

#[test]
fn out_of_bounds_specs_are_rejected() {
    let mut v = valid_spec();
    v["width"] = 100_000.into();
    assert!(matches!(parse(&v), Err(Error::InvalidSpec { .. })));

    let mut v = valid_spec();
    v["style"]["font_size"] = 500.into();
    assert!(matches!(parse(&v), Err(Error::InvalidSpec { .. })));

    let mut v = valid_spec();
    let series = v["chart"]["series"][0].clone();
    v["chart"]["series"] = serde_json::Value::Array(vec![series; 40]);
    assert!(matches!(parse(&v), Err(Error::InvalidSpec { .. })));

    let mut v = valid_spec();
    v["chart"]["series"][0]["values"] = serde_json::json!([1.0]);
    assert!(matches!(parse(&v), Err(Error::InvalidSpec { .. })));

    let mut v = valid_spec();
    v["title"] = "x".repeat(500).into();
    assert!(matches!(parse(&v), Err(Error::InvalidSpec { .. })));

    let mut v = valid_spec();
    v["style"]["palette"] = serde_json::json!(["url(file:///etc/passwd)"]);
    assert!(matches!(parse(&v), Err(Error::InvalidSpec { .. })));

    let mut v = valid_spec();
    v["style"]["tick_step"] = serde_json::json!(1e-9);
    assert!(matches!(parse(&v), Err(Error::InvalidSpec { .. })));
}

#[test]
fn unknown_fields_and_bad_json_are_rejected() {
    let mut v = valid_spec();
    v["font_file"] = "/usr/share/fonts/x.ttf".into();
    assert!(matches!(parse(&v), Err(Error::SpecJson(_))));
    assert!(matches!(
        ChartSpec::from_json("{\"chart\":"),
        Err(Error::SpecJson(_))
    ));
    let mut v = valid_spec();
    v["chart"]["type"] = "sankey".into();
    assert!(matches!(parse(&v), Err(Error::SpecJson(_))));
}

#[test]
fn svg_bounds_are_enforced() {
    let sample = generate(FigureKind::Flowchart, 1, &small()).unwrap();
    let tight = SvgLimits {
        max_bytes: 100,
        ..SvgLimits::default()
    };
    assert!(matches!(
        render_svg(&sample.code, &tight),
        Err(Error::InvalidSpec { .. })
    ));
    let again = render_svg(&sample.code, &SvgLimits::default()).unwrap();
    assert_eq!(again, sample.image);
}
