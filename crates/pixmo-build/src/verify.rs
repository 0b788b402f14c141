//! `pixmo verify` and `pixmo finalize`: the explicit full check, and the manifest.

use pixmo_shards::{
    Check, DatasetLayout, DatasetManifest, Lease, RunState, check_run, quarantine_shard,
    sweep_dead_temporaries,
};
use serde::Serialize;

use crate::error::BuildError;

/// What `verify` found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    /// Shards whose every byte matched their marker.
    pub shards_ok: u64,
    /// Shards with a problem (missing, corrupt, unreadable marker...).
    pub problems: Vec<String>,
    /// Files moved to quarantine (with `quarantine_bad`).
    pub quarantined: Vec<String>,
}

impl VerifyReport {
    /// Whether every shard is intact.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Re-hashes every committed shard of the run. With `quarantine_bad`, the files and marker
/// of each broken shard are moved to quarantine (never deleted), so the next build
/// recomputes them; a shard that was never committed is only reported.
///
/// # Errors
/// When the directory holds no run or cannot be read.
pub fn verify(layout: &DatasetLayout, quarantine_bad: bool) -> Result<VerifyReport, BuildError> {
    let run = load_run(layout)?;
    let (good, problems) = check_run(layout, &run, Check::Full)?;
    let mut report = VerifyReport {
        shards_ok: good.len() as u64,
        problems: problems.iter().map(ToString::to_string).collect(),
        quarantined: Vec::new(),
    };
    if quarantine_bad {
        for problem in problems.iter().filter(|p| !p.missing) {
            report
                .quarantined
                .extend(quarantine_shard(layout, &problem.shard, false)?);
        }
    }
    Ok(report)
}

fn load_run(layout: &DatasetLayout) -> Result<RunState, BuildError> {
    RunState::load(layout)?.ok_or_else(|| BuildError::Output {
        path: layout.root.clone(),
        message: "holds no pixmo run (no .pixmo/run.json)".into(),
    })
}

/// Checks every shard by its marker (sizes, no re-reading) and writes `manifest.json`
/// atomically. Removes the temporary files of dead workers first (live ones are kept).
///
/// # Errors
/// [`BuildError::Unfinished`] listing missing or broken shards; I/O errors.
pub fn finalize(layout: &DatasetLayout) -> Result<DatasetManifest, BuildError> {
    load_run(layout)?;
    // Its own temporary files (the manifest's) are protected like a worker's.
    let _lease = Lease::acquire(layout)?;
    sweep_dead_temporaries(layout)?;
    match DatasetManifest::finalize(layout)? {
        Ok(manifest) => Ok(manifest),
        Err(mut problems) => {
            const SHOWN: usize = 20;
            if problems.len() > SHOWN {
                let more = problems.len() - SHOWN;
                problems.truncate(SHOWN);
                problems.push(format!("and {more} more"));
            }
            Err(BuildError::Unfinished {
                path: layout.root.clone(),
                problems,
            })
        }
    }
}
