//! Rows per shard from a byte target.

use std::sync::Arc;

use pixmo_annotation_schema::DatasetSchema;
use pixmo_dag::exec::{ExecStats, Outcome};
use pixmo_dag::{Plan, WorkUnit};

use crate::error::BuildError;

/// Rows per shard for a byte target, from the encoded size of the first records of the
/// first non-empty split. Deterministic: the same config always probes the same records.
pub(crate) async fn rows_per_shard(
    plan: &Arc<Plan>,
    schema: &DatasetSchema,
    seed: u64,
    source: Option<&Arc<dyn pixmo_dag::RecordSource>>,
    split_counts: &[(String, u64)],
    target_bytes: u64,
) -> Result<u64, BuildError> {
    let Some((split, count)) = split_counts.iter().find(|(_, c)| *c > 0) else {
        return Ok(1000);
    };
    let unit = WorkUnit {
        run_seed: seed,
        dataset: schema.dataset.name().to_string(),
        split: split.clone(),
        start: 0,
        end: (*count).min(16),
    };
    let stats = Arc::new(ExecStats::for_plan(plan));
    let (mut outcomes, handle) =
        pixmo_dag::execute_from(Arc::clone(plan), unit, source.cloned(), stats, 8);
    let (mut rows, mut bytes) = (0u64, 0u64);
    while let Some(outcome) = outcomes.recv().await {
        if let Outcome::Row(record) = outcome {
            rows += 1;
            // Image bytes dominate; 2 KiB covers text columns and provenance.
            bytes += 2048;
            if let Some(pixmo_dag::Value::Bytes(b)) = record.get("image_bytes") {
                bytes += b.len() as u64;
            }
        }
    }
    handle.await.map_err(|e| pixmo_dag::Error::Internal {
        stage: "probe".into(),
        message: e.to_string(),
    })??;
    let per_row = bytes.checked_div(rows).unwrap_or(2048).max(1);
    Ok((target_bytes / per_row).clamp(1, 1_000_000))
}
