//! Checked plans: a spec whose stages exist, form a DAG, and agree on columns.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use pixmo_annotation_schema::{ModelUse, StageUse};

use crate::error::{Error, Result};
use crate::registry::{StageRegistry, nearest};
use crate::spec::PipelineSpec;
use crate::stage::Stage;
use crate::value::{ColumnDef, ColumnType};

/// One stage of a checked plan.
pub struct PlannedStage {
    /// Stage name.
    pub name: String,
    /// Stage kind.
    pub kind: String,
    /// Direct predecessors.
    pub after: Vec<String>,
    /// Records processed at once (resolved: never 0).
    pub concurrency: usize,
    /// The runtime stage.
    pub stage: Arc<dyn Stage>,
    /// SHA-256 of the resolved config.
    pub config_hash: String,
    /// Resolved config as canonical JSON.
    pub resolved_config: String,
    /// Provenance entry recorded on every record this stage processes.
    pub usage: StageUse,
    /// Models recorded on every record this stage processes.
    pub models: Vec<ModelUse>,
}

impl std::fmt::Debug for PlannedStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedStage")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A spec checked against the registry, in execution order.
#[derive(Debug)]
pub struct Plan {
    /// The spec it came from.
    pub spec: PipelineSpec,
    /// Stages in a topological order (ties keep the spec's order).
    pub stages: Vec<PlannedStage>,
    /// SHA-256 of the resolved pipeline (stages with resolved configs and versions, splits).
    pub config_hash: String,
}

impl Plan {
    /// Checks a spec and builds its stages. Nothing runs.
    ///
    /// # Errors
    /// Unknown kinds (with the nearest valid name), duplicate names, unknown or cyclic
    /// `after` references, stage config errors, and columns that no upstream stage writes or
    /// that it writes with another type.
    pub fn build(spec: PipelineSpec, registry: &StageRegistry, cores: usize) -> Result<Plan> {
        let pipeline = || spec.name.clone();
        if spec.stages.is_empty() {
            return Err(Error::NoStages {
                pipeline: pipeline(),
            });
        }
        for (split, fraction) in &spec.splits {
            if !(0.0..=1.0).contains(fraction) {
                return Err(Error::BadSplit {
                    pipeline: pipeline(),
                    split: split.clone(),
                    fraction: *fraction,
                });
            }
        }
        let names: Vec<&str> = spec.stages.iter().map(|s| s.name.as_str()).collect();
        let mut seen = BTreeSet::new();
        for name in &names {
            if !seen.insert(*name) {
                return Err(Error::DuplicateStage {
                    pipeline: pipeline(),
                    stage: (*name).to_string(),
                });
            }
        }
        for stage in &spec.stages {
            let message = match (stage.concurrency, stage.per_core) {
                (_, Some(0)) => "`per_core` must be at least 1",
                (1.., Some(_)) => {
                    "`per_core` applies only with `concurrency = 0` (one group per core); \
                     remove one of the two"
                }
                _ => continue,
            };
            return Err(Error::BadConcurrency {
                pipeline: pipeline(),
                stage: stage.name.clone(),
                message: message.into(),
            });
        }
        // Resolve kinds before anything else: the most common mistake is a typo.
        for stage in &spec.stages {
            if registry.get(&stage.kind).is_none() {
                return Err(Error::UnknownKind {
                    pipeline: pipeline(),
                    stage: stage.name.clone(),
                    kind: stage.kind.clone(),
                    suggestion: registry.nearest(&stage.kind).map(str::to_string),
                });
            }
        }
        // Edges.
        let mut after: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (i, stage) in spec.stages.iter().enumerate() {
            let deps = match &stage.after {
                Some(deps) => deps.clone(),
                None if i == 0 => Vec::new(),
                None => vec![spec.stages[i - 1].name.clone()],
            };
            for dep in &deps {
                if !names.contains(&dep.as_str()) {
                    return Err(Error::UnknownDependency {
                        pipeline: pipeline(),
                        stage: stage.name.clone(),
                        dependency: dep.clone(),
                        suggestion: nearest(dep, names.iter().copied()).map(str::to_string),
                    });
                }
            }
            after.insert(stage.name.as_str(), deps);
        }
        let order = topological_order(&names, &after).map_err(|cycle| Error::Cycle {
            pipeline: pipeline(),
            cycle,
        })?;

        // Build stages in execution order and check columns against ancestors.
        let mut built: BTreeMap<String, PlannedStage> = BTreeMap::new();
        let mut ancestors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut resolved = Vec::new();
        for name in &order {
            let internal = |message: String| Error::Internal {
                stage: name.clone(),
                message,
            };
            let stage_spec = spec
                .stages
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| internal("the stage vanished from the spec".into()))?;
            let factory = registry
                .get(&stage_spec.kind)
                .ok_or_else(|| internal(format!("kind `{}` vanished", stage_spec.kind)))?;
            let built_stage =
                factory
                    .build(stage_spec.config.clone())
                    .map_err(|error| Error::StageConfig {
                        stage: name.clone(),
                        kind: stage_spec.kind.clone(),
                        error,
                    })?;
            let deps = after.get(name.as_str()).cloned().unwrap_or_default();
            let mut anc = BTreeSet::new();
            for dep in &deps {
                anc.insert(dep.clone());
                anc.extend(ancestors.get(dep).cloned().unwrap_or_default());
            }
            let mut available: BTreeMap<String, (ColumnType, String)> = BTreeMap::new();
            for a in &anc {
                if let Some(up) = built.get(a) {
                    for col in up.stage.outputs() {
                        available.insert(col.name.clone(), (col.ty, a.clone()));
                    }
                }
            }
            for ColumnDef { name: col, ty } in built_stage.stage.inputs() {
                match available.get(&col) {
                    Some((have, _)) if *have == ty => {}
                    Some((have, writer)) => {
                        return Err(Error::ColumnType {
                            pipeline: pipeline(),
                            stage: name.clone(),
                            column: col,
                            wants: ty,
                            writer: writer.clone(),
                            has: *have,
                        });
                    }
                    None => {
                        return Err(Error::MissingColumn {
                            pipeline: pipeline(),
                            stage: name.clone(),
                            column: col,
                            ty,
                            upstream: available.keys().cloned().collect(),
                        });
                    }
                }
            }
            let config_hash = pixmo_core::sha256_hex(built_stage.resolved_config.as_bytes());
            resolved.push(serde_json::json!({
                "name": name, "kind": stage_spec.kind, "after": deps,
                "version": built_stage.stage.version(), "config": built_stage.resolved_config,
            }));
            let usage = StageUse {
                name: name.clone(),
                kind: stage_spec.kind.clone(),
                version: built_stage.stage.version().to_string(),
                config_hash: config_hash.clone(),
                uses_vlm: built_stage.stage.uses_vlm(),
            };
            let models = built_stage
                .stage
                .models()
                .into_iter()
                .map(|mut m| {
                    m.stage.clone_from(name);
                    m
                })
                .collect();
            ancestors.insert(name.clone(), anc);
            built.insert(
                name.clone(),
                PlannedStage {
                    name: name.clone(),
                    kind: stage_spec.kind.clone(),
                    after: deps,
                    concurrency: if stage_spec.concurrency == 0 {
                        cores.max(1) * stage_spec.per_core.unwrap_or(1)
                    } else {
                        stage_spec.concurrency
                    },
                    stage: built_stage.stage,
                    config_hash,
                    resolved_config: built_stage.resolved_config,
                    usage,
                    models,
                },
            );
        }
        let stages: Vec<PlannedStage> = order.iter().filter_map(|n| built.remove(n)).collect();
        // The hash identifies row content: shard layout and Parquet settings (`output`) are
        // not part of it; they are checked separately by the run state.
        let identity = serde_json::json!({
            "name": spec.name, "dataset": spec.dataset, "splits": spec.splits,
            "stages": resolved,
        });
        let config_hash = pixmo_core::sha256_hex(pixmo_core::canonical_json(&identity).as_bytes());
        Ok(Plan {
            spec,
            stages,
            config_hash,
        })
    }

    /// Every column written by some stage, with its type (later writers win).
    #[must_use]
    pub fn output_columns(&self) -> BTreeMap<String, ColumnType> {
        let mut out = BTreeMap::new();
        for stage in &self.stages {
            for col in stage.stage.outputs() {
                out.insert(col.name, col.ty);
            }
        }
        out
    }

    /// Human-readable plan for `pixmo plan`.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "pipeline `{}` -> dataset `{}`",
            self.spec.name, self.spec.dataset
        );
        if !self.spec.description.is_empty() {
            let _ = writeln!(out, "  {}", self.spec.description);
        }
        let _ = writeln!(out, "config hash: {}", self.config_hash);
        let splits: Vec<String> = self
            .spec
            .splits
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(out, "splits: {}", splits.join(", "));
        let _ = writeln!(out, "stages (execution order):");
        for (i, s) in self.stages.iter().enumerate() {
            let after = if s.after.is_empty() {
                "source".to_string()
            } else {
                s.after.join(", ")
            };
            let _ = writeln!(
                out,
                "  {}. {} ({}, version {}) after: {after}; concurrency {}",
                i + 1,
                s.name,
                s.kind,
                s.stage.version(),
                s.concurrency
            );
            let fmt_cols = |cols: Vec<ColumnDef>| {
                if cols.is_empty() {
                    "-".to_string()
                } else {
                    cols.iter()
                        .map(|c| format!("{}: {}", c.name, c.ty))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let _ = writeln!(out, "       reads:  {}", fmt_cols(s.stage.inputs()));
            let _ = writeln!(out, "       writes: {}", fmt_cols(s.stage.outputs()));
            for m in &s.models {
                let prompt = m
                    .prompt_template_id
                    .as_ref()
                    .map(|id| format!(", prompt {id}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "       model:  {} {} (sha256 {}{prompt})",
                    m.kind, m.name, m.file_sha256
                );
            }
        }
        out
    }

    /// Graphviz DOT of the DAG for `pixmo graph`.
    #[must_use]
    pub fn to_dot(&self) -> String {
        let mut out = format!(
            "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];\n  source [shape=ellipse];\n",
            self.spec.name
        );
        for s in &self.stages {
            let _ = writeln!(out, "  \"{}\" [label=\"{}\\n{}\"];", s.name, s.name, s.kind);
            if s.after.is_empty() {
                let _ = writeln!(out, "  source -> \"{}\";", s.name);
            }
            for dep in &s.after {
                let _ = writeln!(out, "  \"{dep}\" -> \"{}\";", s.name);
            }
        }
        let _ = writeln!(
            out,
            "  sink [shape=ellipse, label=\"shards: {}\"];",
            self.spec.dataset
        );
        let has_successor: BTreeSet<&str> = self
            .stages
            .iter()
            .flat_map(|s| s.after.iter().map(String::as_str))
            .collect();
        for s in &self.stages {
            if !has_successor.contains(s.name.as_str()) {
                let _ = writeln!(out, "  \"{}\" -> sink;", s.name);
            }
        }
        out.push_str("}\n");
        out
    }
}

/// Kahn's algorithm; ties broken by spec order. On a cycle, returns the stages on it.
fn topological_order(
    names: &[&str],
    after: &BTreeMap<&str, Vec<String>>,
) -> Result<Vec<String>, Vec<String>> {
    let mut indegree: BTreeMap<&str, usize> = names.iter().map(|n| (*n, 0)).collect();
    for (node, deps) in after {
        *indegree.entry(node).or_default() = deps.len();
    }
    let mut done: Vec<String> = Vec::new();
    let mut remaining: Vec<&str> = names.to_vec();
    while !remaining.is_empty() {
        let Some(pos) = remaining.iter().position(|n| indegree[n] == 0) else {
            return Err(find_cycle(&remaining, after));
        };
        let node = remaining.remove(pos);
        done.push(node.to_string());
        for other in &remaining {
            if after[other].iter().any(|d| d == node)
                && let Some(d) = indegree.get_mut(other)
            {
                *d -= after[other].iter().filter(|x| *x == node).count();
            }
        }
    }
    Ok(done)
}

fn find_cycle(remaining: &[&str], after: &BTreeMap<&str, Vec<String>>) -> Vec<String> {
    // Walk predecessors inside the remaining set until a node repeats.
    let mut path: Vec<String> = vec![remaining[0].to_string()];
    loop {
        let last = path.last().cloned().unwrap_or_default();
        let next = after
            .get(last.as_str())
            .and_then(|deps| deps.iter().find(|d| remaining.contains(&d.as_str())))
            .cloned();
        let Some(next) = next else { return path };
        if let Some(start) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<String> = path[start..].to_vec();
            cycle.reverse();
            cycle.push(cycle[0].clone());
            return cycle;
        }
        path.push(next);
    }
}
