//! Builds PixMo-Clocks shards with the default pipeline and nothing else linked in: a small
//! binary to carry to a machine that has no pixmo CLI (a GPU box for a training run, say).
//! The full CLI (`pixmo build clocks`) produces the same shards.
//!
//! `cargo run --release -p pixmo-clocks --example build_clocks -- OUT COUNT [png|jpeg] [SEED]
//! [natural|upright] [varied|benchmark]` (the pose of `clocks.sample`, natural being PixMo's
//! mix; the answer format of `clocks.label`, varied being PixMo's templates and benchmark the
//! label stage's `benchmark_format`).

use std::path::PathBuf;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(count)) = (args.first(), args.get(1)) else {
        return Err(
            "usage: build_clocks OUT COUNT [png|jpeg] [SEED] [natural|upright] [varied|benchmark]"
                .into(),
        );
    };
    let format = args.get(2).map_or("png", String::as_str);
    let seed: u64 = args.get(3).map_or(Ok(7), |s| s.parse())?;
    let pose = args.get(4).map_or("natural", String::as_str);
    let benchmark = match args.get(5).map_or("varied", String::as_str) {
        "varied" => false,
        "benchmark" => true,
        other => {
            return Err(format!("answer format {other:?}: expected varied or benchmark").into());
        }
    };
    let mut spec =
        pixmo_dag::PipelineSpec::parse(pixmo_clocks::DEFAULT_SPEC, &PathBuf::from("<built-in>"))?;
    for stage in &mut spec.stages {
        let (key, value) = match stage.kind.as_str() {
            "image.encode" => ("format", toml::Value::String(format.into())),
            // `natural` is the spec's default; only `upright` is written (and so hashed).
            "clocks.sample" if pose != "natural" => ("pose", toml::Value::String(pose.into())),
            "clocks.label" if benchmark => ("benchmark_format", toml::Value::Boolean(true)),
            _ => continue,
        };
        if let toml::Value::Table(table) = &mut stage.config {
            table.insert(key.into(), value);
        }
    }
    let mut registry = pixmo_dag::StageRegistry::new();
    pixmo_stages::register(&mut registry);
    pixmo_clocks::register(&mut registry);
    let cores = pixmo_core::parallel::cores();
    let plan = pixmo_dag::Plan::build(spec, &registry, cores)?;
    let request = pixmo_build::BuildRequest {
        out: PathBuf::from(out),
        count: count.parse()?,
        source: None,
        seed,
        worker: None,
        as_of_us: Some(0),
        progress: pixmo_dag::progress::ProgressMode::Quiet,
        cores,
    };
    let summary = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.max(2))
        .enable_all()
        .build()?
        .block_on(pixmo_build::build(Arc::new(plan), request))?;
    println!(
        "{}: {} rows, {} rejected, {:.1} s ({:.0} records/s on {cores} cores)",
        summary.path,
        summary.rows_written,
        summary.rejects,
        summary.seconds,
        summary.records_per_second
    );
    Ok(())
}
