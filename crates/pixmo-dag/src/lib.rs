//! The pixmo DAG engine: typed stages, TOML pipeline specs checked into plans, and an
//! executor that streams records through the stages on tokio.
//!
//! Spec -> checked plan -> execution:
//! - [`spec::PipelineSpec`] is the TOML a user writes (`deny_unknown_fields` everywhere).
//! - [`plan::Plan::build`] resolves stage kinds through a [`registry::StageRegistry`]
//!   (unknown kinds are answered with the nearest valid name), orders the DAG (cycles are
//!   errors) and checks that every stage's input columns are produced, with the same type, by
//!   one of its ancestors.
//! - [`exec::execute`] runs one work unit (a split and a range of record indices) through the
//!   plan: each stage is a tokio task joined to the next by a bounded channel, runs up to
//!   `concurrency` records at a time on the blocking pool (0: `per_core` per core, default
//!   one), and keeps record order. A failing
//!   record becomes a [`stage::Rejection`] and the run goes on.
//!
//! This crate knows no dataset, no file format and no renderer.

pub mod error;
pub mod exec;
pub mod plan;
pub mod progress;
pub mod registry;
pub mod source;
pub mod spec;
pub mod stage;
pub mod value;

pub use error::{Error, Result};
pub use exec::{ExecStats, StageStats, WorkUnit, execute, execute_from};
pub use plan::{Plan, PlannedStage};
pub use registry::{ConfigError, StageFactory, StageRegistry};
pub use source::RecordSource;
pub use spec::PipelineSpec;
pub use stage::{Reject, Rejection, Stage, StageContext};
pub use value::{ColumnDef, ColumnType, Record, Value};

#[cfg(test)]
mod tests;
