//! `pixmo count-tasks`: the val/test candidates of a detector-made PixMo-Count build as
//! Label Studio and CVAT task files; `pixmo sample-detections`: the committed real
//! detections as a ready `--from` folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Overrides, load_plan, runtime};
use crate::args::PipelineArgs;

pub fn run(from: &Path, spec: Option<PathBuf>, out: &Path) -> anyhow::Result<ExitCode> {
    let pipeline = PipelineArgs {
        dataset: "count-detections".into(),
        spec,
    };
    let plan = load_plan(&pipeline, &Overrides::default())?;
    let report = pixmo_count::tasks::export(from, &plan.spec.splits, &plan.spec.stages, out)
        .map_err(anyhow::Error::msg)?;
    for (split, n) in &report.tasks {
        eprintln!("{split}: {n} tasks");
    }
    for (image, reason) in &report.skipped {
        eprintln!("  left out image {image}: {reason}");
    }
    for file in &report.files {
        eprintln!("wrote {}", file.display());
    }
    eprintln!(
        "verify them in Label Studio or CVAT, put the exports into {}/verdicts/ and rebuild with `pixmo build count-detections --from {} --out NEW_OUT`",
        from.display(),
        from.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn sample(out: &Path) -> anyhow::Result<ExitCode> {
    let images = runtime(1)?
        .block_on(pixmo_count::sample::write_sample(out))
        .map_err(anyhow::Error::msg)?;
    eprintln!(
        "{}: {images} photographs with OpenCV Haar cascade detections; build it with `pixmo build count-detections --spec pipelines/pixmo-count/testdata/haar.toml --from {}`",
        out.display(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
