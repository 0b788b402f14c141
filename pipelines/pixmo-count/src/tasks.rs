//! `pixmo count-tasks`: the candidates of the balanced splits (val/test) as task files for
//! human verification in Label Studio or CVAT.
//!
//! The candidates are the ones `pixmo build count-detections` puts in the balanced splits
//! (same inputs, same spec, same draw). Written into the output folder:
//! - `images/<id>.<ext>`: each image, read or fetched and checked as the build does;
//! - `label-studio/tasks.json` and `label-studio/config.xml`: tasks whose `data.image` is
//!   `images/<id>.<ext>` with the candidate points as predictions, and the labeling config;
//! - `cvat/annotations.xml`: "CVAT for images 1.1" with the candidate points per image;
//! - `candidates.json`: what was exported (image id, split, label, count, pixel points).
//!
//! The tools' exports go into `DIR/verdicts/` (`*.json` from Label Studio, `*.xml` from
//! CVAT); the next build from `DIR` reads them (see [`crate::inputs`]).

use std::path::{Path, PathBuf};

use pixmo_dag::spec::StageSpec;
use pixmo_interchange::{Candidate, cvat, label_studio};

use crate::detections::CountCandidate;
use crate::inputs::{self, InputError};
use crate::stages::image::ImageConfig;

/// What [`export`] wrote.
#[derive(Debug, Default)]
pub struct TaskReport {
    /// Tasks written per balanced split.
    pub tasks: Vec<(String, usize)>,
    /// Candidates left out, with the reason (an image that cannot be read or decoded).
    pub skipped: Vec<(u64, String)>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("Cannot create `{}`: {e}", dir.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("Cannot write `{}`: {e}", path.display()))
}

/// Writes the verification tasks of the balanced splits into `out`.
///
/// # Errors
/// A message for unusable inputs or spec, or a file that cannot be written.
pub fn export(
    from: &Path,
    splits: &std::collections::BTreeMap<String, f64>,
    stages: &[StageSpec],
    out: &Path,
) -> Result<TaskReport, String> {
    let config = inputs::stage_config(stages).map_err(|e| e.to_string())?;
    let rest = inputs::rest_split(splits, &config).map_err(|e| e.to_string())?;
    let read = inputs::read_inputs(from, &config).map_err(|e: InputError| e.to_string())?;
    let assigned = inputs::assign_splits(&read.candidates, &config, &rest);
    let image_config: ImageConfig = match stages.iter().find(|s| s.kind == "count.image") {
        Some(stage) => stage
            .config
            .clone()
            .try_into()
            .map_err(|e| format!("stage `{}`: {e}", stage.name))?,
        None => ImageConfig::default(),
    };
    let loader = image_config.loader()?;
    let mut report = TaskReport::default();
    let mut chosen: Vec<&CountCandidate> = Vec::new();
    let mut listed = Vec::new();
    for split in &config.balanced_splits {
        let mut n = 0;
        for (candidate, _) in read
            .candidates
            .iter()
            .zip(&assigned)
            .filter(|(_, s)| *s == split)
        {
            let image = &read.images[&candidate.image_id];
            match loader.load(image, from) {
                Ok(loaded) => {
                    let path = out.join("images").join(inputs::task_image_name(image));
                    write(&path, &loaded.bytes)?;
                    chosen.push(candidate);
                    listed.push(serde_json::json!({
                        "image_id": candidate.image_id,
                        "split": split,
                        "label": candidate.label,
                        "count": candidate.centres.len(),
                        "points_px": candidate.centres.iter().map(|p| [p.x(), p.y()]).collect::<Vec<_>>(),
                    }));
                    n += 1;
                }
                Err(reject) => report.skipped.push((
                    candidate.image_id,
                    format!("{}: {}", reject.kind, reject.message),
                )),
            }
        }
        report.tasks.push((split.clone(), n));
    }
    let candidates: Vec<Candidate> = inputs::task_candidates(&read, &chosen)
        .into_iter()
        .map(|mut c| {
            c.image = format!("images/{}", c.image);
            c
        })
        .collect();
    let verdict = pixmo_interchange::VerdictOptions {
        accept: config.verdict_accept.clone(),
        reject: config.verdict_reject.clone(),
        tolerance_px: config.verdict_tolerance_px,
    };
    let ls = label_studio::LabelStudioOptions {
        model_version: read.detector.name.clone(),
        verdict: verdict.clone(),
        ..Default::default()
    };
    let cv = cvat::CvatOptions {
        verdict,
        ..Default::default()
    };
    let mut labels: Vec<&str> = candidates.iter().map(|c| c.label.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let files = [
        (
            out.join("label-studio").join("tasks.json"),
            label_studio::write_tasks(&candidates, &ls).map_err(|e| e.to_string())?,
        ),
        (
            out.join("label-studio").join("config.xml"),
            label_studio::labeling_config(&labels, &ls),
        ),
        (
            out.join("cvat").join("annotations.xml"),
            cvat::write_annotations(&candidates, &cv).map_err(|e| e.to_string())?,
        ),
        (
            out.join("candidates.json"),
            serde_json::to_string_pretty(&listed).unwrap_or_default(),
        ),
    ];
    for (path, text) in files {
        write(&path, text.as_bytes())?;
        report.files.push(path);
    }
    Ok(report)
}
