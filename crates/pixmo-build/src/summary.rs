//! The `--json` summary of a build.

use std::collections::BTreeMap;
use std::sync::Arc;

use pixmo_dag::Plan;
use pixmo_dag::exec::ExecStats;
use serde::Serialize;

/// Time and counts of one stage over the run.
#[derive(Clone, Debug, Serialize)]
pub struct StageSummary {
    /// Stage name.
    pub stage: String,
    /// Records processed successfully.
    pub ok: u64,
    /// Records rejected here.
    pub rejected: u64,
    /// CPU seconds spent inside the stage, summed over workers.
    pub busy_seconds: f64,
    /// The stage's own counters ([`pixmo_dag::Stage::summary`]), such as LLM calls and
    /// cache hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// The `--json` summary of a build.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BuildSummary {
    /// Dataset name.
    pub dataset: String,
    /// Dataset folder.
    pub path: String,
    /// Run id.
    pub run_id: String,
    /// Config hash.
    pub config_hash: String,
    /// The run's latest generation.
    pub generation: u32,
    /// The generation this invocation added (a first build or growth), if any.
    pub generation_created: Option<u32>,
    /// Records this invocation computed (ran through the stages).
    pub records_computed: u64,
    /// Records of this worker's shards that were already committed and kept as they were.
    pub records_skipped: u64,
    /// Records the generation created by this invocation added to the run (over all
    /// workers; 0 when the run did not grow).
    pub records_appended: u64,
    /// Rows written by this invocation.
    pub rows_written: u64,
    /// Records rejected by this invocation.
    pub rejects: u64,
    /// Rejections by `stage/kind`.
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Shards computed and committed.
    pub shards_written: u64,
    /// Committed shards kept as they were.
    pub shards_skipped: u64,
    /// Shards whose files or marker were broken: moved to quarantine and recomputed.
    pub shards_quarantined: u64,
    /// Temporary files of dead workers removed before starting.
    pub temporaries_removed: u64,
    /// Wall seconds.
    pub seconds: f64,
    /// Records computed per second.
    pub records_per_second: f64,
    /// Per-stage counts and time.
    pub stages: Vec<StageSummary>,
    /// Total rows of the finalized dataset, when this invocation finalized it.
    pub dataset_rows: Option<u64>,
    /// Whether `manifest.json` was written.
    pub finalized: bool,
}

/// Per-stage counters at the end of a build.
pub(crate) fn stage_summaries(plan: &Arc<Plan>, stats: &ExecStats) -> Vec<StageSummary> {
    use std::sync::atomic::Ordering::Relaxed;
    stats
        .stages
        .iter()
        .map(|s| {
            #[allow(clippy::cast_precision_loss)]
            let busy = s.busy_nanos.load(Relaxed) as f64 / 1e9;
            StageSummary {
                stage: s.name.clone(),
                ok: s.ok.load(Relaxed),
                rejected: s.rejected.load(Relaxed),
                busy_seconds: busy,
                details: plan
                    .stages
                    .iter()
                    .find(|p| p.name == s.name)
                    .and_then(|p| p.stage.summary()),
            }
        })
        .collect()
}
