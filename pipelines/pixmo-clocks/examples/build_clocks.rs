//! Builds PixMo-Clocks shards with the default pipeline and nothing else linked in: a small
//! binary to carry to a machine that has no pixmo CLI (a GPU box for a training run, say).
//! The full CLI (`pixmo build clocks`) produces the same shards.
//!
//! `cargo run --release -p pixmo-clocks --example build_clocks -- OUT COUNT [png|jpeg] [SEED]
//! [POSE] [varied|benchmark] [STRENGTH]` (the pose of `clocks.sample`: natural, PixMo's mix, upright, or
//! upright but for one part of the mix: rotation, perspective or framing; the answer format of
//! `clocks.label`, varied being PixMo's templates and benchmark the label stage's
//! `benchmark_format`; the pose's `pose_strength`, 0 to 1, default 1).
//!
//! With `PIXMO_CLOCK_TRUTH=FILE` set it also writes each record's render truth (dial centre
//! and box, hand tips and angles; not a shard column) and the scene it was rendered in (the
//! watch's rotation, tilt, scale and crop) as JSON lines `{"example_id", "truth", "scene"}`
//! to FILE, for experiments that need where the dial is (a locator's target, a crop to the
//! dial); the shards are the same but for the extra stage named in their provenance.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext};

/// `clocks.truth_log`: appends `{"example_id", "truth", "scene"}` for each record to a file.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct TruthLogConfig {
    path: PathBuf,
}

struct TruthLog {
    file: Mutex<std::fs::File>,
}

impl StageConfig for TruthLogConfig {
    const KIND: &'static str = "clocks.truth_log";
    const SUMMARY: &'static str = "Append each record's render truth to a JSON-lines file";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let file = std::fs::File::create(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        Ok(Arc::new(TruthLog {
            file: Mutex::new(file),
        }))
    }
}

impl Stage for TruthLog {
    fn version(&self) -> &'static str {
        "2"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("example_id", ColumnType::Str),
            ColumnDef::new("truth", ColumnType::Json),
            ColumnDef::new("scene", ColumnType::Json),
        ]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        Vec::new()
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let id = record
            .str("example_id")
            .map_err(|m| Reject::new("bad_spec", m))?;
        let truth = record
            .json("truth")
            .map_err(|m| Reject::new("bad_spec", m))?;
        let scene = record
            .json("scene")
            .map_err(|m| Reject::new("bad_spec", m))?;
        let mut line =
            serde_json::json!({ "example_id": id, "truth": truth, "scene": scene }).to_string();
        line.push('\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| Reject::new("internal", "truth log lock poisoned"))?;
        // One write per line: lines of records in flight at once do not interleave.
        file.write_all(line.as_bytes())
            .map_err(|e| Reject::new("internal", format!("truth log: {e}")))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(count)) = (args.first(), args.get(1)) else {
        return Err(
            "usage: build_clocks OUT COUNT [png|jpeg] [SEED] [natural|upright|rotation|perspective|framing] [varied|benchmark] [STRENGTH]"
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
    let strength: f64 = args.get(6).map_or(Ok(1.0), |s| s.parse())?;
    let mut spec =
        pixmo_dag::PipelineSpec::parse(pixmo_clocks::DEFAULT_SPEC, &PathBuf::from("<built-in>"))?;
    for stage in &mut spec.stages {
        let mut set = Vec::new();
        match stage.kind.as_str() {
            "image.encode" => set.push(("format", toml::Value::String(format.into()))),
            // The defaults (`natural`, full strength) are not written, so not hashed.
            "clocks.sample" => {
                if pose != "natural" {
                    set.push(("pose", toml::Value::String(pose.into())));
                }
                if strength != 1.0 {
                    set.push(("pose_strength", toml::Value::Float(strength)));
                }
            }
            "clocks.label" if benchmark => {
                set.push(("benchmark_format", toml::Value::Boolean(true)));
            }
            _ => {}
        }
        if let toml::Value::Table(table) = &mut stage.config {
            for (key, value) in set {
                table.insert(key.into(), value);
            }
        }
    }
    let mut registry = pixmo_dag::StageRegistry::new();
    pixmo_stages::register(&mut registry);
    pixmo_clocks::register(&mut registry);
    if let Some(path) = std::env::var_os("PIXMO_CLOCK_TRUTH") {
        registry.register::<TruthLogConfig>();
        let mut config = toml::map::Map::new();
        config.insert(
            "path".into(),
            toml::Value::String(PathBuf::from(path).to_string_lossy().into_owned()),
        );
        spec.stages.push(pixmo_dag::spec::StageSpec {
            name: "truth_log".into(),
            kind: TruthLogConfig::KIND.into(),
            after: Some(vec!["label".into()]),
            concurrency: 0,
            per_core: None,
            config: toml::Value::Table(config),
        });
    }
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
