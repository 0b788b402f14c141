//! `count.label`: the question a scene answers, and its exact points.
//!
//! - What it does: `task = "count"` (PixMo-Count): the label is the target category's plural
//!   and the points are every target instance's point (none when the scene has none: the
//!   "not present" case). `task = "points"` (PixMo-Points): a referring expression drawn from
//!   the scene graph (`pixmo-gen-count` queries: categories, colour and category, largest
//!   and smallest; [`TARGET_FRACTION`] of them about the scene's target category), or with
//!   probability `not_present_fraction` one that names nothing in the scene; `collection_method` is `counting` for scenes made for 10 or more targets (PixMo's
//!   high-frequency images), else `pointing`. Points are in percent with one decimal, the
//!   shard convention; they lie on visible pixels of their instances (the generator's test).
//! - Inputs: `scene` (json).
//! - Outputs: `id`, `label` (str), `count` (i32), `points` (json list of `{x, y}`), and for
//!   `points`, `collection_method` (str).
//! - Failure modes: a scene that does not parse (`bad_spec`).
//! - Cost: microseconds.

use std::sync::Arc;

use pixmo_core::Rng;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_count::{Category, Instance, Query, absent_queries, present_queries};
use pixmo_points::{ImageSize, Pixel};
use serde::{Deserialize, Serialize};

/// Share of `points` rows (with a target) that ask about the scene's target category; the
/// rest ask about anything in the scene, clutter included.
pub const TARGET_FRACTION: f64 = 0.7;

/// Which dataset's rows to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// PixMo-Count rows: the target category and all its instances.
    Count,
    /// PixMo-Points rows: a referring expression and the instances it names.
    Points,
}

/// Config of `count.label`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelConfig {
    /// `count` or `points`.
    pub task: Task,
    /// For `points`: share of rows whose expression names nothing in the scene.
    #[serde(default)]
    pub not_present_fraction: f64,
}

impl StageConfig for LabelConfig {
    const KIND: &'static str = "count.label";
    const SUMMARY: &'static str =
        "Ask for a category or referring expression and label every instance's point";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if !(0.0..=1.0).contains(&self.not_present_fraction) {
            return Err("`not_present_fraction` must be between 0 and 1".into());
        }
        if self.task == Task::Count && self.not_present_fraction > 0.0 {
            return Err(
                "`not_present_fraction` is for `task = \"points\"`; count scenes with no target come from `min_count = 0`"
                    .into(),
            );
        }
        Ok(Arc::new(Label {
            config: self.clone(),
        }))
    }
}

/// The runtime stage.
#[derive(Debug)]
pub struct Label {
    config: LabelConfig,
}

/// The part of the scene graph this stage reads.
#[derive(Deserialize)]
struct Graph {
    width: u32,
    height: u32,
    target: Category,
    requested_count: u32,
    instances: Vec<Instance>,
}

/// Points of instances in the shard convention: percent, one decimal.
fn percent_points(graph: &Graph, indices: &[usize]) -> Result<serde_json::Value, Reject> {
    let size = ImageSize::new(graph.width, graph.height)
        .map_err(|e| Reject::new("bad_spec", e.to_string()))?;
    let mut points = Vec::with_capacity(indices.len());
    for &i in indices {
        let inst = graph
            .instances
            .get(i)
            .ok_or_else(|| Reject::new("bad_spec", format!("no instance {i}")))?;
        let p = Pixel::new(inst.point[0], inst.point[1], size)
            .map_err(|e| Reject::new("bad_spec", format!("instance {i}: {e}")))?
            .to_percent(size)
            .rounded();
        points.push(serde_json::json!({ "x": p.x(), "y": p.y() }));
    }
    Ok(serde_json::Value::Array(points))
}

impl Stage for Label {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        vec![ColumnDef::new("scene", ColumnType::Json)]
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        let mut out = vec![
            ColumnDef::new("id", ColumnType::Str),
            ColumnDef::new("label", ColumnType::Str),
            ColumnDef::new("count", ColumnType::I32),
            ColumnDef::new("points", ColumnType::Json),
        ];
        if self.config.task == Task::Points {
            out.push(ColumnDef::new("collection_method", ColumnType::Str));
        }
        out
    }

    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject> {
        let value = record
            .json("scene")
            .map_err(|m| Reject::new("bad_spec", m))?;
        let graph: Graph = serde_json::from_value(value.clone())
            .map_err(|e| Reject::new("bad_spec", format!("Column `scene`: {e}")))?;
        let query = match self.config.task {
            Task::Count => Query {
                label: graph.target.plural(),
                kind: pixmo_gen_count::QueryKind::Category,
                instances: (0..graph.instances.len())
                    .filter(|&i| graph.instances[i].category == graph.target)
                    .collect(),
            },
            Task::Points => {
                let mut rng = Rng::new(record.key.derive(&format!("{}/query", cx.stage)));
                let pool = if rng.bool(self.config.not_present_fraction) {
                    absent_queries(&graph.instances)
                } else {
                    let all = present_queries(&graph.instances);
                    // Most rows ask about the category the scene was made for.
                    let about_target: Vec<Query> = all
                        .iter()
                        .filter(|q| {
                            q.instances
                                .iter()
                                .all(|&i| graph.instances[i].category == graph.target)
                        })
                        .cloned()
                        .collect();
                    if rng.bool(TARGET_FRACTION) && !about_target.is_empty() {
                        about_target
                    } else {
                        all
                    }
                };
                // A scene always has an absent category, and a present one unless empty.
                let pool = if pool.is_empty() {
                    absent_queries(&graph.instances)
                } else {
                    pool
                };
                let pick = rng.index(pool.len());
                pool.into_iter()
                    .nth(pick)
                    .ok_or_else(|| Reject::new("bad_spec", "no query fits the scene"))?
            }
        };
        let count = i32::try_from(query.instances.len())
            .map_err(|_| Reject::new("bad_spec", "too many instances"))?;
        record.set(
            "points",
            Value::Json(percent_points(&graph, &query.instances)?),
        );
        record.set("count", Value::I32(count));
        record.set("label", Value::Str(query.label));
        record.set("id", Value::Str(record.id.clone()));
        if self.config.task == Task::Points {
            let method = if graph.requested_count >= 10 {
                "counting"
            } else {
                "pointing"
            };
            record.set("collection_method", Value::Str(method.into()));
        }
        Ok(())
    }
}
