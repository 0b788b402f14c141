//! `hint:` lines chosen by error variant (uv, DataFusion and vector answer this way): a
//! user mistake gets the command or the change that fixes it.

use pixmo_audit::AuditError;
use pixmo_dag::{ConfigError, Error};

use crate::registry;

/// `pixmo plan <dataset>` with the built-in datasets named.
fn plan_command() -> String {
    format!(
        "`pixmo plan <dataset>` (built in: {})",
        registry::names().join(", ")
    )
}

/// The hint for a spec or plan error.
pub fn plan(err: &Error) -> String {
    match err {
        Error::MalformedSpec { .. } => format!(
            "fix the TOML at the line shown; {} prints a valid spec to start from",
            plan_command()
        ),
        Error::NoStages { .. } => format!(
            "add at least one `[[stages]]` table; {} prints a working pipeline",
            plan_command()
        ),
        Error::BadSplit { .. } => {
            "give each split a fraction between 0 and 1, such as `[splits]` `train = 0.97` and `val = 0.03`; the largest split takes the remainder".into()
        }
        Error::BadConcurrency { .. } => {
            "`concurrency = N` runs N records of the stage at once; `concurrency = 0` (the default) runs `per_core` per core (default 1)".into()
        }
        Error::DuplicateStage { .. } => {
            "give every `[[stages]]` table its own `name`: `after` refers to stages by name".into()
        }
        Error::UnknownKind { suggestion, .. } => match suggestion {
            Some(_) => "`pixmo stages` lists every registered stage kind".into(),
            None => "`pixmo stages` lists every registered stage kind; a pipeline crate registers its kinds through crates/pixmo-cli/src/registry.rs".into(),
        },
        Error::UnknownDependency { .. } => {
            "`after` takes stage names from this spec, not stage kinds; a stage without `after` runs after the one above it".into()
        }
        Error::Cycle { .. } => {
            "remove one `after` entry on the cycle; a stage without `after` runs after the one above it".into()
        }
        Error::MissingColumn { stage, column, .. } => format!(
            "put a stage that writes `{column}` upstream of `{stage}` (in its `after`, directly or through another stage); `pixmo plan` shows what each stage reads and writes"
        ),
        Error::ColumnType { .. } => {
            "`pixmo plan` shows each stage's reads and writes with their types; the reader and its upstream writer must agree".into()
        }
        Error::DatasetColumns { dataset, .. } => format!(
            "`pixmo schema {dataset}` lists the columns the dataset needs; `pixmo plan` shows what the stages write"
        ),
        Error::Output { .. } => {
            "see the `[output]` table of the built-in specs (`pixmo plan <dataset>`, pipelines/*/pipeline.toml)".into()
        }
        Error::StageConfig { kind, error, .. } => match error {
            ConfigError::Shape { .. } => format!(
                "check the field names and types of `{kind}` (its config is documented in its crate); {} shows a working config",
                plan_command()
            ),
            ConfigError::Value { .. } => match error.field() {
                Some(field) => {
                    format!("change `{field}` in this stage's `[stages.config]` table")
                }
                None => "change the value in this stage's `[stages.config]` table".into(),
            },
            ConfigError::Setup { .. } => {
                "the stage could not set up what it needs: check its model files (`pixmo models fetch`), cache folder and LLM settings".into()
            }
        },
        Error::Internal { .. } => {
            "this is likely a bug in pixmo; please report it with the spec and the command".into()
        }
    }
}

/// The hint for an audit or `pixmo sql` error, if any.
pub fn audit(err: &AuditError) -> Option<String> {
    match err {
        AuditError::ReadOnly { .. } => Some(
            "pixmo sql only reads: use SELECT, WITH, EXPLAIN, SHOW TABLES or DESCRIBE; to export, redirect the printed table or read the shards directly".into(),
        ),
        AuditError::NotADataset { .. } => {
            Some("pass the folder given to `pixmo build --out`, or one dataset inside it".into())
        }
        AuditError::Query { .. } => Some(
            "`pixmo sql DIR 'SHOW TABLES'` lists the tables; `DESCRIBE rows` lists the columns".into(),
        ),
        _ => None,
    }
}
