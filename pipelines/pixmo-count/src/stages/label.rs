//! `count.label`: the question a scene answers, and its exact points, checked against the
//! instances' visible masks.
//!
//! - What it does: `task = "count"` (PixMo-Count): the label is the target category's plural
//!   and the points are every target instance's point (none when the scene has none: the
//!   "not present" case). `task = "points"` (PixMo-Points): a referring expression drawn from
//!   the scene graph (`pixmo-gen-count` queries: categories, colour and category, largest
//!   and smallest, spatial relations to a unique reference object such as `stars left of
//!   the ring`; [`TARGET_FRACTION`] of them about the scene's target category; a family of
//!   expressions is drawn first, uniformly among those the scene supports, then one
//!   expression of it), or with probability `not_present_fraction` one that names nothing
//!   in the scene; `collection_method` is `counting` for scenes made for 10 or more targets
//!   (PixMo's high-frequency images), else `pointing`. Points are in each dataset's unit
//!   ([`Dataset::point_unit`], PIXMO_DATA.md §3.5): pixels of the image with one decimal
//!   for `count` (PixMo-Count), percent with one decimal for `points` (PixMo-Points),
//!   converted here from the generator's pixels and nowhere else. Labels are checked, not
//!   trusted: each written point, read back into pixels from its unit, must lie on the
//!   visible mask of the instance it names.
//! - Inputs: `scene` (json, with `masks`: every instance's visible mask, COCO RLE).
//! - Outputs: `id`, `label` (str), `count` (i32), `points` (json list of `{x, y}` in the
//!   dataset's unit), and for `points`, `collection_method` (str).
//! - Failure modes: a scene that does not parse or lacks masks (`bad_spec`); a written point
//!   off its instance's visible mask (`label_check`, a generator bug: never seen in tests).
//! - Cost: a few hundred microseconds, mostly reading the scene's masks (the check itself
//!   walks one instance's runs per point).

use std::sync::Arc;

use pixmo_annotation_schema::{Dataset, PixelPoint, PointUnit};
use pixmo_core::Rng;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{ColumnDef, ColumnType, Record, Reject, Stage, StageContext, Value};
use pixmo_gen_count::{Category, Instance, Query, QueryKind, Rle, absent_queries, present_queries};
use pixmo_points::{ImageSize, Percent, Pixel};
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

impl Task {
    /// The unit of the task's `points` column, as its dataset's schema declares it.
    #[must_use]
    pub fn point_unit(self) -> PointUnit {
        let dataset = match self {
            Task::Count => Dataset::Count,
            Task::Points => Dataset::Points,
        };
        dataset.point_unit().unwrap_or(PointUnit::Percent)
    }
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
    masks: Vec<Rle>,
}

/// Points of instances in `unit` (pixels or percent, one decimal), each checked, as
/// written and read back into pixels, to fall on a visible pixel of its instance.
fn written_points(
    graph: &Graph,
    indices: &[usize],
    unit: PointUnit,
) -> Result<serde_json::Value, Reject> {
    let size = ImageSize::new(graph.width, graph.height)
        .map_err(|e| Reject::new("bad_spec", e.to_string()))?;
    let mut points = Vec::with_capacity(indices.len());
    for &i in indices {
        let inst = graph
            .instances
            .get(i)
            .ok_or_else(|| Reject::new("bad_spec", format!("no instance {i}")))?;
        let exact = Pixel::new(inst.point[0], inst.point[1], size)
            .map_err(|e| Reject::new("bad_spec", format!("instance {i}: {e}")))?;
        // The value written, and the same value read back the way a reader of the column
        // reads it: into pixels of this image.
        let (written, back) = match unit {
            PointUnit::Pixels => {
                let p = PixelPoint::rounded(exact.x(), exact.y(), size.width(), size.height());
                let back = Pixel::new(p.x, p.y, size)
                    .map_err(|e| Reject::new("label_check", format!("instance {i}: {e}")))?;
                ((p.x, p.y), back)
            }
            PointUnit::Percent => {
                let p = exact.to_percent(size).rounded();
                let back = Percent::new(p.x(), p.y())
                    .map_err(|e| Reject::new("label_check", format!("instance {i}: {e}")))?
                    .to_pixels(size);
                ((p.x(), p.y()), back)
            }
        };
        let mask = graph
            .masks
            .get(i)
            .ok_or_else(|| Reject::new("bad_spec", format!("no mask for instance {i}")))?;
        if !mask.contains([back.x(), back.y()]) {
            return Err(Reject::new(
                "label_check",
                format!(
                    "the point ({}, {}) {} of instance {i} is not on its visible mask",
                    written.0,
                    written.1,
                    unit.as_str()
                ),
            ));
        }
        points.push(serde_json::json!({ "x": written.0, "y": written.1 }));
    }
    Ok(serde_json::Value::Array(points))
}

/// The family of an expression: families are drawn evenly, so the many spatial
/// expressions of a crowded scene do not crowd out the rest.
fn family(kind: QueryKind) -> u8 {
    match kind {
        QueryKind::Category => 0,
        QueryKind::ColorCategory => 1,
        QueryKind::Largest | QueryKind::Smallest => 2,
        QueryKind::Spatial => 3,
        QueryKind::NotPresent => 4,
    }
}

/// One query: a family uniformly among those in `pool`, then a query of it.
fn pick(pool: Vec<Query>, rng: &mut Rng) -> Option<Query> {
    let mut families: Vec<u8> = pool.iter().map(|q| family(q.kind)).collect();
    families.sort_unstable();
    families.dedup();
    let chosen = *families.get(rng.index(families.len().max(1)))?;
    let mut members: Vec<Query> = pool
        .into_iter()
        .filter(|q| family(q.kind) == chosen)
        .collect();
    let at = rng.index(members.len());
    Some(members.swap_remove(at))
}

impl Stage for Label {
    fn version(&self) -> &'static str {
        // 3: `count` rows in pixels (PixMo-Count's unit), `points` rows still in percent.
        "3"
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
        // Read in place: the scene carries every mask, too big to clone per record.
        let graph = Graph::deserialize(value)
            .map_err(|e| Reject::new("bad_spec", format!("Column `scene`: {e}")))?;
        let query = match self.config.task {
            Task::Count => Query::category(&graph.instances, graph.target),
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
                pick(pool, &mut rng)
                    .ok_or_else(|| Reject::new("bad_spec", "no query fits the scene"))?
            }
        };
        let count = i32::try_from(query.instances.len())
            .map_err(|_| Reject::new("bad_spec", "too many instances"))?;
        record.set(
            "points",
            Value::Json(written_points(
                &graph,
                &query.instances,
                self.config.task.point_unit(),
            )?),
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
