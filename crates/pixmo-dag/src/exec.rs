//! Execution of one work unit: a split and a range of record indices.
//!
//! The source and every stage run as their own tokio task, joined by bounded channels
//! (back-pressure: a slow stage stops its producers instead of buffering the run). Each stage
//! processes up to `concurrency` records at a time on the blocking pool, so CPU-bound work
//! never blocks the async threads, and emits them in record order, so output is
//! deterministic. A rejected record passes through later stages untouched and comes out as a
//! [`Outcome::Rejected`].

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::StreamExt;
use pixmo_core::SeedKey;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::source::RecordSource;
use crate::stage::{Rejection, StageContext};
use crate::value::Record;

/// What to run: records `start..end` of one split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkUnit {
    /// Run seed.
    pub run_seed: u64,
    /// Dataset name.
    pub dataset: String,
    /// Split name.
    pub split: String,
    /// First record index.
    pub start: u64,
    /// One past the last record index.
    pub end: u64,
}

/// A record that made it through every stage, or the reason it did not.
#[derive(Debug)]
pub enum Outcome {
    /// The finished record.
    Row(Box<Record>),
    /// The record was rejected.
    Rejected(Rejection),
}

/// Live counters of one stage.
#[derive(Debug, Default)]
pub struct StageStats {
    /// Stage name.
    pub name: String,
    /// Records that entered the stage (including ones rejected earlier, which pass through).
    pub received: AtomicU64,
    /// Records the stage processed successfully.
    pub ok: AtomicU64,
    /// Records the stage rejected.
    pub rejected: AtomicU64,
    /// Total time spent inside `process`, nanoseconds, summed over workers.
    pub busy_nanos: AtomicU64,
}

/// Counters for every stage of a plan; shared with progress reporting.
#[derive(Debug, Default)]
pub struct ExecStats {
    /// One entry per stage, in plan order.
    pub stages: Vec<StageStats>,
}

impl ExecStats {
    /// Zeroed counters for a plan.
    #[must_use]
    pub fn for_plan(plan: &Plan) -> ExecStats {
        ExecStats {
            stages: plan
                .stages
                .iter()
                .map(|s| StageStats {
                    name: s.name.clone(),
                    ..StageStats::default()
                })
                .collect(),
        }
    }
}

type Item = std::result::Result<Box<Record>, Rejection>;

/// Starts a work unit. Outcomes arrive on the returned channel in record order; the handle
/// resolves when every task has finished. Must be called inside a tokio runtime.
#[must_use]
pub fn execute(
    plan: Arc<Plan>,
    unit: WorkUnit,
    stats: Arc<ExecStats>,
    channel_capacity: usize,
) -> (mpsc::Receiver<Outcome>, JoinHandle<Result<()>>) {
    execute_from(plan, unit, None, stats, channel_capacity)
}

/// [`execute`] for a dataset whose records come from `source`: each record carries the
/// source's description of its (split, index) into the first stage. An index the source
/// does not describe becomes a `missing_source` rejection.
#[must_use]
pub fn execute_from(
    plan: Arc<Plan>,
    unit: WorkUnit,
    source: Option<Arc<dyn RecordSource>>,
    stats: Arc<ExecStats>,
    channel_capacity: usize,
) -> (mpsc::Receiver<Outcome>, JoinHandle<Result<()>>) {
    let capacity = channel_capacity.max(1);
    let (source_tx, mut rx) = mpsc::channel::<Item>(capacity);
    let mut handles: Vec<JoinHandle<Result<()>>> = Vec::new();
    let source_unit = unit.clone();
    handles.push(tokio::spawn(async move {
        for index in source_unit.start..source_unit.end {
            let key = SeedKey {
                run_seed: source_unit.run_seed,
                dataset: source_unit.dataset.clone(),
                split: source_unit.split.clone(),
                record_index: index,
            };
            let mut record = Record::new(key);
            let item = match &source {
                None => Ok(Box::new(record)),
                Some(source) => match source.describe(&source_unit.split, index) {
                    Some(description) => {
                        record.source = Some(description);
                        Ok(Box::new(record))
                    }
                    None => Err(Rejection {
                        record_id: record.id.clone(),
                        split: source_unit.split.clone(),
                        record_index: index,
                        stage: "source".into(),
                        kind: "missing_source".into(),
                        message: format!(
                            "{} has no record {index} in split `{}` (likely a bug in pixmo)",
                            source.name(),
                            source_unit.split
                        ),
                    }),
                },
            };
            if source_tx.send(item).await.is_err() {
                break; // Downstream stopped (the caller gave up); nothing more to do.
            }
        }
        Ok(())
    }));
    for stage_index in 0..plan.stages.len() {
        let (tx, next_rx) = mpsc::channel::<Item>(capacity);
        let plan = Arc::clone(&plan);
        let stats = Arc::clone(&stats);
        let input = rx;
        rx = next_rx;
        handles.push(tokio::spawn(async move {
            let concurrency = plan.stages[stage_index].concurrency;
            let mut input = input;
            let stream = futures::stream::poll_fn(move |cx| input.poll_recv(cx))
                .map(|item| run_one(Arc::clone(&plan), Arc::clone(&stats), stage_index, item))
                .buffered(concurrency);
            futures::pin_mut!(stream);
            while let Some(item) = stream.next().await {
                if tx.send(item).await.is_err() {
                    break;
                }
            }
            Ok(())
        }));
    }
    let (out_tx, out_rx) = mpsc::channel::<Outcome>(capacity);
    handles.push(tokio::spawn(async move {
        while let Some(item) = rx.recv().await {
            let outcome = match item {
                Ok(record) => Outcome::Row(record),
                Err(rejection) => Outcome::Rejected(rejection),
            };
            if out_tx.send(outcome).await.is_err() {
                break;
            }
        }
        Ok(())
    }));
    let joined = tokio::spawn(async move {
        for handle in handles {
            handle.await.map_err(|e| Error::Internal {
                stage: "executor".into(),
                message: e.to_string(),
            })??;
        }
        Ok(())
    });
    (out_rx, joined)
}

async fn run_one(plan: Arc<Plan>, stats: Arc<ExecStats>, stage_index: usize, item: Item) -> Item {
    let counters = &stats.stages[stage_index];
    counters.received.fetch_add(1, Ordering::Relaxed);
    let mut record = item?;
    let stage = &plan.stages[stage_index];
    let cx = StageContext {
        stage: stage.name.clone(),
        seed: record.key.derive(&stage.name),
    };
    let runtime = Arc::clone(&stage.stage);
    let joined = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| runtime.process(&mut record, &cx)));
        (record, result, started.elapsed())
    })
    .await;
    let stage = &plan.stages[stage_index];
    match joined {
        Ok((mut record, Ok(Ok(())), elapsed)) => {
            counters.ok.fetch_add(1, Ordering::Relaxed);
            counters.busy_nanos.fetch_add(
                u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            record.stages.push(stage.usage.clone());
            record.models.extend(stage.models.iter().cloned());
            Ok(record)
        }
        Ok((record, Ok(Err(reject)), _)) => {
            counters.rejected.fetch_add(1, Ordering::Relaxed);
            Err(Rejection {
                record_id: record.id.clone(),
                split: record.key.split.clone(),
                record_index: record.key.record_index,
                stage: stage.name.clone(),
                kind: reject.kind,
                message: reject.message,
            })
        }
        Ok((record, Err(panic), _)) => {
            counters.rejected.fetch_add(1, Ordering::Relaxed);
            Err(Rejection {
                record_id: record.id.clone(),
                split: record.key.split.clone(),
                record_index: record.key.record_index,
                stage: stage.name.clone(),
                kind: "panic".into(),
                message: format!(
                    "Stage panicked (likely a bug in pixmo): {}",
                    panic_message(&*panic)
                ),
            })
        }
        Err(join) => {
            counters.rejected.fetch_add(1, Ordering::Relaxed);
            Err(Rejection {
                record_id: String::new(),
                split: String::new(),
                record_index: 0,
                stage: stage.name.clone(),
                kind: "panic".into(),
                message: format!("Worker task failed (likely a bug in pixmo): {join}"),
            })
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".into()
    }
}
