//! What rendering untrusted code in a sandbox worker costs: the procedural generator's own
//! code for each kind (a chart spec, an SVG, a typst page), rendered as if an LLM had written
//! it, in-process (`render_code`) and through `pixmo-sandbox` (one fresh worker per render,
//! as `docs.llm_figure` does), one at a time.
//!
//! `cargo build --release -p pixmo-docs --bin pixmo-docs-sandbox --example sandbox_cost &&
//!  target/release/examples/sandbox_cost [renders per kind]`
//!
//! The worker is `pixmo-docs-sandbox` beside the example's folder, or `PIXMO_SANDBOX_WORKER`.

use std::time::Instant;

use pixmo_docs::kind::{Kind, RenderSettings};
use pixmo_docs::stages::llm_figure::{language_of, render_code};
use pixmo_docs::stages::render::generate;

fn main() {
    let count: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent()?.parent().map(std::path::Path::to_path_buf))
    {
        pixmo_sandbox::set_worker_program(dir.join("pixmo-docs-sandbox"));
    }
    let sandbox = pixmo_sandbox::Sandbox::new(pixmo_sandbox::Limits::default())
        .expect("a sandbox worker program");
    pixmo_docs::sandbox::check(&sandbox).expect("the worker serves docs jobs");
    let settings = RenderSettings {
        min_side: 400,
        max_side: 1000,
        doc_pixel_per_pt: 1.5,
    };
    println!("sandbox cost: {count} renders per kind, one at a time, ms per render");
    println!(
        "  {:<14} {:>10} {:>10} {:>10}",
        "kind", "in-process", "sandboxed", "overhead"
    );
    let t = Instant::now();
    for _ in 0..count {
        sandbox.run(pixmo_docs::sandbox::PING, b"").expect("ping");
    }
    let ping = t.elapsed().as_secs_f64() * 1000.0 / count as f64;
    println!(
        "  {:<14} {:>10} {:>10.2} {:>10.2}",
        "(empty job)", "-", ping, ping
    );
    for name in [
        "bar_chart",
        "line_chart",
        "flowchart",
        "org_chart",
        "invoice",
        "data_table",
    ] {
        let kind = Kind::from_name(name).expect("kind");
        let language = language_of(kind);
        let fence = match language {
            pixmo_docs::llm::Language::ChartSpec => "json",
            pixmo_docs::llm::Language::Svg => "svg",
            pixmo_docs::llm::Language::Typst => "typst",
        };
        let (mut inside, mut outside) = (0.0, 0.0);
        for seed in 0..count {
            let g = generate(kind, seed, &settings).expect("procedural sample");
            let reply = format!("```{fence}\n{}\n```", g.code);
            let t = Instant::now();
            let a = render_code(language, &reply, &g.code, seed, &settings).expect("in-process");
            inside += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let b =
                pixmo_docs::sandbox::render(&sandbox, language, &reply, &g.code, seed, &settings)
                    .expect("sandboxed");
            outside += t.elapsed().as_secs_f64();
            assert_eq!(
                a.image.data, b.image.data,
                "{name} {seed}: same pixels either way"
            );
            assert_eq!(a.visible, b.visible);
        }
        let (i, o) = (
            inside * 1000.0 / count as f64,
            outside * 1000.0 / count as f64,
        );
        println!("  {name:<14} {i:>10.2} {o:>10.2} {:>10.2}", o - i);
    }
}
