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

/// A vertical grouped bar chart with the sampled style of `valid_spec` and `values`.
fn bars(values: serde_json::Value) -> serde_json::Value {
    let mut v = valid_spec();
    let n = values.as_array().unwrap().len();
    v["chart"] = serde_json::json!({
        "type": "bar", "orientation": "vertical", "mode": "grouped",
        "categories": (0..n).map(|i| format!("C{i}")).collect::<Vec<_>>(),
        "series": [{"name": "S", "values": values}],
    });
    v["style"]["value_labels"] = true.into();
    v
}

fn axis_of(spec: &ChartSpec) -> (f64, f64, f64) {
    let style = &spec.style;
    (
        style.value_min.unwrap_or(0.0),
        style.value_max.unwrap(),
        style.tick_step.unwrap(),
    )
}

#[test]
fn values_above_the_style_axis_get_an_axis_that_covers_them() {
    let mut v = bars(serde_json::json!([40.0, 950.0, 120.0]));
    v["style"]["value_max"] = 100.0.into();
    v["style"]["tick_step"] = 20.0.into();
    let spec = parse(&v).unwrap();
    let (lo, hi, step) = axis_of(&spec);
    assert_eq!((lo, hi, step), (0.0, 1200.0, 200.0));
    let drawn = render_chart(&spec).unwrap();
    // The top tick is printed and the value labels are the data's.
    for text in ["1200", "950"] {
        assert!(drawn.texts.iter().any(|t| t == text), "{:?}", drawn.texts);
    }
    // The same spec without any axis derives the same one and draws the same pixels.
    for key in ["value_max", "tick_step"] {
        v["style"].as_object_mut().unwrap().remove(key);
    }
    let derived = parse(&v).unwrap();
    assert_eq!(axis_of(&derived), (lo, hi, step));
    assert_eq!(render_chart(&derived).unwrap().rgba, drawn.rgba);
}

#[test]
fn an_axis_that_fits_the_data_is_kept_and_one_it_dwarfs_is_replaced() {
    let mut v = bars(serde_json::json!([40.0, 95.0]));
    v["style"]["value_max"] = 100.0.into();
    v["style"]["tick_step"] = 25.0.into();
    assert_eq!(axis_of(&parse(&v).unwrap()), (0.0, 100.0, 25.0));
    v["style"]["value_max"] = 5000.0.into();
    v["style"]["tick_step"] = 1000.0.into();
    assert_eq!(axis_of(&parse(&v).unwrap()), (0.0, 120.0, 20.0));
}

#[test]
fn negative_values_get_an_axis_below_zero() {
    let v = bars(serde_json::json!([-12.5, 3.0, -40.0]));
    let spec = parse(&v).unwrap();
    let (lo, hi, step) = axis_of(&spec);
    assert!(lo <= -40.0 && hi >= 3.0 && step > 0.0, "{lo} {hi} {step}");
    let drawn = render_chart(&spec).unwrap();
    assert!(drawn.texts.iter().any(|t| t == "-40"), "{:?}", drawn.texts);

    // Stacked sums: the axis covers every partial sum, not only single values.
    let mut v = bars(serde_json::json!([500.0, -300.0]));
    v["chart"]["mode"] = "stacked".into();
    let second = serde_json::json!({"name": "T", "values": [600.0, -400.0]});
    v["chart"]["series"].as_array_mut().unwrap().push(second);
    let (lo, hi, _) = axis_of(&parse(&v).unwrap());
    assert!(lo <= -700.0 && hi >= 1100.0, "{lo} {hi}");
}

#[test]
fn huge_and_non_numeric_values_are_refused_with_the_reason() {
    let error = parse(&bars(serde_json::json!([1.0, 1e12]))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid spec: Series values holds 1000000000000; numbers must be finite and within -1e9..=1e9"
    );
    // Numbers JSON cannot hold, or strings standing for numbers, do not parse.
    for values in [
        r#"["NaN", 1]"#,
        r#"[NaN, 1]"#,
        r#"[1e400, 1]"#,
        r#"["1e3", 2]"#,
    ] {
        let code = bars(serde_json::json!([1.0, 2.0]))
            .to_string()
            .replace("[1.0,2.0]", values);
        assert!(code.contains(values), "{code}");
        let error = ChartSpec::from_json(&code).unwrap_err();
        assert!(matches!(error, Error::SpecJson(_)), "{values}: {error:?}");
    }
    let mut v = valid_spec();
    v["style"]["value_max"] = serde_json::json!(1e300);
    assert!(
        parse(&v)
            .unwrap_err()
            .to_string()
            .contains("The value axis holds 1e300"),
    );
    v["style"]["value_max"] = serde_json::json!(-5.0);
    assert!(
        parse(&v)
            .unwrap_err()
            .to_string()
            .contains("`value_max` (-5) must be above `value_min` (0)")
    );
    let mut v = valid_spec();
    v["chart"] = serde_json::json!({"type": "histogram", "edges": [0, 1], "counts": [u64::MAX]});
    assert!(parse(&v).unwrap_err().to_string().contains("count"));
}

#[test]
fn a_hundred_thousand_points_are_refused_before_drawing() {
    // 1e5 points do not fit in the 1 MiB a spec may have; 1e4 do, and break the count.
    let values: Vec<f64> = (0..100_000).map(f64::from).collect();
    let error = parse(&bars(serde_json::json!(values))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid spec: Chart spec is larger than 1 MiB"
    );
    let values: Vec<f64> = (0..10_000).map(f64::from).collect();
    let error = parse(&bars(serde_json::json!(values))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid spec: `categories` has 10000 entries; allowed 1..=64"
    );
    let mut v = valid_spec();
    let points: Vec<_> = (0..10_000)
        .map(|i| serde_json::json!({"label": "", "x": i, "y": i}))
        .collect();
    v["chart"] = serde_json::json!({"type": "scatter", "points": points});
    assert_eq!(
        parse(&v).unwrap_err().to_string(),
        "Invalid spec: `points` has 10000 entries; allowed 1..=64"
    );
}

#[test]
fn extreme_but_valid_values_render_inside_the_canvas() {
    // The largest values allowed, in every value-axis chart type: each renders.
    let big = 1e9;
    let mut v = bars(serde_json::json!([big, -big, 1e-300, 0.0]));
    render_chart(&parse(&v).unwrap()).unwrap();
    v["chart"]["mode"] = "stacked".into();
    let series = v["chart"]["series"][0].clone();
    v["chart"]["series"] = serde_json::json!(vec![series; 12]);
    let spec = parse(&v).unwrap();
    assert!(axis_of(&spec).1 >= 12.0 * big);
    render_chart(&spec).unwrap();
    for chart in [
        serde_json::json!({"type": "line", "categories": ["a", "b"], "series": [{"name": "s", "values": [-big, big]}], "markers": true}),
        serde_json::json!({"type": "area", "categories": ["a", "b"], "series": [{"name": "s", "values": [big, big]}, {"name": "t", "values": [big, -big]}], "stacked": true}),
        serde_json::json!({"type": "histogram", "edges": [-big, 0, big], "counts": [1_000_000_000u64, 0]}),
        serde_json::json!({"type": "box", "boxes": [{"label": "b", "min": -big, "q1": 0, "median": 1, "q3": 2, "max": big}]}),
        serde_json::json!({"type": "scatter", "points": [{"label": "p", "x": -big, "y": big}, {"label": "q", "x": big, "y": 1e-9}]}),
        serde_json::json!({"type": "pie", "labels": ["a", "b"], "values": [big, 1e-300], "hole": 0.5}),
        serde_json::json!({"type": "heatmap", "rows": ["r"], "columns": ["a", "b"], "values": [[-big, big]]}),
    ] {
        let mut v = valid_spec();
        v["chart"] = chart.clone();
        let drawn = render_chart(&parse(&v).unwrap()).unwrap();
        assert_eq!(
            drawn.rgba.len(),
            (drawn.width * drawn.height * 4) as usize,
            "{chart}"
        );
    }
}

#[test]
fn procedural_specs_keep_their_own_axis() {
    for kind in FigureKind::ALL
        .into_iter()
        .filter(|k| k.category() == pixmo_gen_docs::Category::Charts)
    {
        for seed in 0..20 {
            let sample = generate(kind, seed, &small()).unwrap();
            let given: serde_json::Value = serde_json::from_str(&sample.code).unwrap();
            let spec = ChartSpec::from_json(&sample.code).unwrap();
            assert_eq!(
                serde_json::to_value(&spec).unwrap()["style"],
                given["style"],
                "{kind:?} {seed}"
            );
        }
    }
}

#[test]
fn nearly_equal_huge_scatter_values_get_distinct_tick_labels() {
    let mut v = valid_spec();
    v["chart"] = serde_json::json!({"type": "scatter", "points": [
        {"label": "", "x": 1e9, "y": 5.0}, {"label": "", "x": 1e9 - 1e-7, "y": 5.0 + 1e-9}]});
    let drawn = render_chart(&parse(&v).unwrap()).unwrap();
    // Title and the two axis descriptions, then the tick labels.
    let ticks = &drawn.texts[3..];
    assert!((4..=16).contains(&ticks.len()), "{ticks:?}");
    let mut distinct = ticks.to_vec();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ticks.len(), "{ticks:?}");
}
