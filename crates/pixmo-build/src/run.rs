//! Opening a run: its identity (written once, checked by every later worker) and its
//! generations (one per build that added records, each written once).
//!
//! Growth appends a generation: records `old..new` of each split become new shards with new
//! names; committed files are never renamed, extended or rewritten.

use std::collections::BTreeMap;
use std::sync::Arc;

use pixmo_annotation_schema::{DatasetSchema, SCHEMA_VERSION};
use pixmo_dag::Plan;
use pixmo_shards::{
    Created, DatasetLayout, Generation, RunIdentity, RunState, create_generation, create_identity,
};

use crate::error::BuildError;
use crate::output::OutputConfig;
use crate::{BuildRequest, probe};

/// The run a build works on.
pub(crate) struct OpenRun {
    pub run: RunState,
    /// The generation this invocation created, if it grew the run.
    pub created: Option<u32>,
}

/// Now, in µs since the epoch.
pub(crate) fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn source_date_epoch() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| s.saturating_mul(1_000_000))
}

/// Records per split: the source's counts (every split of the spec named, a split the
/// source does not know has none), or `request.count` cut by the spec's fractions.
pub(crate) fn split_counts(
    plan: &Plan,
    request: &BuildRequest,
) -> Result<BTreeMap<String, u64>, BuildError> {
    let Some(source) = &request.source else {
        return Ok(plan.spec.split_counts(request.count).into_iter().collect());
    };
    let counts = source.counts();
    if let Some(unknown) = counts
        .iter()
        .find(|(split, n)| **n > 0 && !plan.spec.splits.contains_key(*split))
    {
        return Err(BuildError::Config {
            pipeline: plan.spec.name.clone(),
            message: format!(
                "{} has records in split `{}`, which the spec does not have (splits: {})",
                source.name(),
                unknown.0,
                plan.spec
                    .splits
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(plan
        .spec
        .splits
        .keys()
        .map(|split| (split.clone(), counts.get(split).copied().unwrap_or(0)))
        .collect())
}

/// Reads or creates the run and the generation that holds `request.count` records.
pub(crate) async fn open(
    plan: &Arc<Plan>,
    request: &BuildRequest,
    layout: &DatasetLayout,
    schema: &DatasetSchema,
    output: &OutputConfig,
) -> Result<OpenRun, BuildError> {
    let code_version = pixmo_core::code_version();
    let run_id = pixmo_core::sha256_hex(
        format!("{}|{}|{}", plan.config_hash, request.seed, code_version).as_bytes(),
    )[..16]
        .to_string();
    let split_counts = split_counts(plan, request)?;
    let existing = RunState::load(layout)?;
    let rows_per_shard = match (&existing, output.rows_per_shard, output.target_shard_bytes) {
        (Some(state), _, _) => state.identity.rows_per_shard,
        (None, Some(rows), _) => rows,
        (None, None, Some(bytes)) => {
            let counts: Vec<(String, u64)> =
                split_counts.iter().map(|(s, n)| (s.clone(), *n)).collect();
            probe::rows_per_shard(
                plan,
                schema,
                request.seed,
                request.source.as_ref(),
                &counts,
                bytes,
            )
            .await?
        }
        (None, None, None) => 1000,
    };
    let identity = RunIdentity {
        pipeline: plan.spec.name.clone(),
        dataset: schema.dataset.name().to_string(),
        config_hash: plan.config_hash.clone(),
        seed: request.seed,
        code_version,
        schema_version: SCHEMA_VERSION.to_string(),
        run_id,
        rows_per_shard,
    };
    let stored = match create_identity(layout, &identity)? {
        Created::Written => identity.clone(),
        Created::Existing(stored) => stored,
    };
    check_identity(layout, &stored, &identity, output)?;

    let mut generations = RunState::load(layout)?
        .map(|s| s.generations)
        .unwrap_or_default();
    // A worker of an earlier, smaller build (a late requeue) builds that generation's shards.
    if let Some(at) = generations.iter().position(|g| g.counts == split_counts) {
        generations.truncate(at + 1);
        return Ok(OpenRun {
            run: RunState::new(stored, generations),
            created: None,
        });
    }
    let latest = generations.last().map(|g| g.counts.clone());
    let mut created = None;
    let grows = match &latest {
        None => true,
        Some(have) => {
            for (split, want) in &split_counts {
                let before = have.get(split).copied().unwrap_or(0);
                if *want < before {
                    return Err(BuildError::Shrink {
                        path: layout.root.clone(),
                        split: split.clone(),
                        have: before,
                        want: *want,
                    });
                }
            }
            have != &split_counts
        }
    };
    if grows {
        let index = u32::try_from(generations.len()).unwrap_or(u32::MAX);
        let generation = Generation {
            index,
            counts: split_counts.clone(),
            as_of_us: request
                .as_of_us
                .or_else(source_date_epoch)
                .unwrap_or_else(now_us),
        };
        match create_generation(layout, &generation)? {
            Created::Written => {
                created = Some(index);
                generations.push(generation);
            }
            // Another worker of the same run got there first: same counts, its build time.
            Created::Existing(theirs) if theirs.counts == generation.counts => {
                generations.push(theirs);
            }
            Created::Existing(theirs) => {
                return Err(BuildError::GrowthConflict {
                    path: layout.root.clone(),
                    generation: index,
                    theirs: format!("{:?}", theirs.counts),
                });
            }
        }
    }
    Ok(OpenRun {
        run: RunState::new(stored, generations),
        created,
    })
}

fn check_identity(
    layout: &DatasetLayout,
    stored: &RunIdentity,
    mine: &RunIdentity,
    output: &OutputConfig,
) -> Result<(), BuildError> {
    let mut diffs = Vec::new();
    if stored.config_hash != mine.config_hash {
        diffs.push(format!(
            "config hash {} vs {}",
            stored.config_hash.get(..12).unwrap_or(&stored.config_hash),
            mine.config_hash.get(..12).unwrap_or(&mine.config_hash)
        ));
    }
    if stored.seed != mine.seed {
        diffs.push(format!("seed {} vs {}", stored.seed, mine.seed));
    }
    if stored.code_version != mine.code_version {
        diffs.push(format!(
            "code version `{}` vs `{}`",
            stored.code_version, mine.code_version
        ));
    }
    if stored.dataset != mine.dataset {
        diffs.push(format!(
            "dataset `{}` vs `{}`",
            stored.dataset, mine.dataset
        ));
    }
    if let Some(rows) = output.rows_per_shard
        && rows != stored.rows_per_shard
    {
        diffs.push(format!(
            "rows per shard {} vs {rows}",
            stored.rows_per_shard
        ));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(BuildError::RunMismatch {
            path: layout.root.clone(),
            what: diffs.join(", "),
        })
    }
}
