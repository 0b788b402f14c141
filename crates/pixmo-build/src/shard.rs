//! Computing and committing one shard: run the DAG over its records, write the rejects and
//! data files (temporary names carrying this process's token, fsync, rename), then the
//! marker, which is the commit point.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pixmo_annotation_schema::DatasetSchema;
use pixmo_dag::exec::{ExecStats, Outcome};
use pixmo_dag::progress::Progress;
use pixmo_dag::{Plan, Record, Rejection, WorkUnit};
use pixmo_shards::{
    DatasetLayout, Generation, RunIdentity, ShardId, ShardMarker, ShardWriter, WriterSettings,
};
use pixmo_stages::sink::{records_to_batch, rejections_to_batch, rfc3339_micros};

use crate::dedup::NearDuplicates;
use crate::error::BuildError;
use crate::run::now_us;

/// Everything a shard needs that does not change from shard to shard.
pub(crate) struct ShardContext<'a> {
    pub plan: &'a Arc<Plan>,
    /// Where collected records come from (`None`: generated from the seed).
    pub source: Option<Arc<dyn pixmo_dag::RecordSource>>,
    pub schema: &'a DatasetSchema,
    pub layout: &'a DatasetLayout,
    pub run: &'a RunIdentity,
    pub generations: &'a [Generation],
    pub settings: WriterSettings,
    pub near_duplicate_bits: Option<u32>,
    pub stats: &'a Arc<ExecStats>,
}

/// What computing one shard produced.
pub(crate) struct Computed {
    pub marker: ShardMarker,
    pub records: u64,
    pub rejects_by_reason: BTreeMap<String, u64>,
}

impl ShardContext<'_> {
    /// Computes shard `id` and commits it.
    pub(crate) async fn compute(
        &self,
        id: &ShardId,
        progress: &mut Progress,
    ) -> Result<Computed, BuildError> {
        let started = Instant::now();
        let label = id.label();
        let as_of_us = self
            .generations
            .iter()
            .find(|g| g.index == id.generation)
            .map_or(0, |g| g.as_of_us);
        let mut writer = ShardWriter::create(
            &self.layout.data_path(id),
            Arc::clone(&self.schema.schema),
            &self.settings,
        )?;
        let mut dedup = self.near_duplicate_bits.map(NearDuplicates::new);
        let unit = WorkUnit {
            run_seed: self.run.seed,
            dataset: self.run.dataset.clone(),
            split: id.split.clone(),
            start: id.start,
            end: id.end,
        };
        let capacity = self
            .plan
            .stages
            .iter()
            .map(|s| s.concurrency)
            .max()
            .unwrap_or(1)
            * 2;
        let (mut outcomes, handle) = pixmo_dag::execute_from(
            Arc::clone(self.plan),
            unit,
            self.source.clone(),
            Arc::clone(self.stats),
            capacity,
        );
        let batch_rows = self.settings.row_group_rows;
        let mut pending: Vec<Record> = Vec::with_capacity(batch_rows);
        let mut rejections: Vec<Rejection> = Vec::new();
        let mut records = 0u64;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let no_done: Vec<u64> = Vec::new();
        loop {
            tokio::select! {
                outcome = outcomes.recv() => {
                    let Some(outcome) = outcome else { break };
                    records += 1;
                    match outcome {
                        Outcome::Row(record) => {
                            if let Some(r) = dedup.as_mut().and_then(|d| d.check(&record)) {
                                rejections.push(r);
                                continue;
                            }
                            pending.push(*record);
                            if pending.len() >= batch_rows {
                                let batch = std::mem::take(&mut pending);
                                self.write_records(&mut writer, batch, as_of_us, &label)?;
                            }
                        }
                        Outcome::Rejected(r) => rejections.push(r),
                    }
                }
                _ = tick.tick() => progress.update(self.stats, &no_done),
            }
        }
        handle.await.map_err(|e| pixmo_dag::Error::Internal {
            stage: "executor".into(),
            message: e.to_string(),
        })??;
        if !pending.is_empty() {
            self.write_records(&mut writer, pending, as_of_us, &label)?;
        }
        progress.update(self.stats, &no_done);
        let mut rejects_by_reason = BTreeMap::new();
        for r in &rejections {
            *rejects_by_reason
                .entry(format!("{}/{}", r.stage, r.kind))
                .or_insert(0) += 1;
        }
        // Rejects first, then data: the marker written afterwards commits both.
        let mut rejects_writer = ShardWriter::create(
            &self.layout.rejects_path(id),
            pixmo_shards::rejects_schema(),
            &self.settings,
        )?;
        let batch = rejections_to_batch(&rejections).map_err(|message| BuildError::Convert {
            shard: label.clone(),
            message,
        })?;
        rejects_writer.write(batch)?;
        let rejects = rejects_writer.finish()?;
        let data = tokio::task::block_in_place(|| writer.finish())?;
        let marker = ShardMarker {
            dataset: self.run.dataset.clone(),
            split: id.split.clone(),
            generation: id.generation,
            shard_index: id.index,
            start: id.start,
            end: id.end,
            file: self.layout.relative(&data.path),
            rows: data.rows,
            bytes: data.bytes,
            sha256: data.sha256,
            rejects_file: self.layout.relative(&rejects.path),
            rejects: rejects.rows,
            rejects_bytes: rejects.bytes,
            rejects_sha256: rejects.sha256,
            seed: self.run.seed,
            config_hash: self.run.config_hash.clone(),
            code_version: self.run.code_version.clone(),
            schema_version: self.run.schema_version.clone(),
            run_id: self.run.run_id.clone(),
            committed_at: rfc3339_micros(now_us()),
            seconds: started.elapsed().as_secs_f64(),
        };
        marker.store(self.layout)?;
        Ok(Computed {
            marker,
            records,
            rejects_by_reason,
        })
    }

    fn write_records(
        &self,
        writer: &mut ShardWriter,
        records: Vec<Record>,
        as_of_us: i64,
        label: &str,
    ) -> Result<(), BuildError> {
        // Arrow conversion and Parquet encoding are CPU work: keep them off the async threads.
        tokio::task::block_in_place(|| {
            let batch =
                records_to_batch(self.schema, &records, self.run, as_of_us).map_err(|message| {
                    BuildError::Convert {
                        shard: label.to_string(),
                        message,
                    }
                })?;
            writer.write(batch)?;
            Ok(())
        })
    }
}
