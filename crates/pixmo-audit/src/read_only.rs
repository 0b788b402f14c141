//! Every SQL statement pixmo runs goes through [`query`]: DataFusion's [`SQLOptions`] with
//! DDL, DML and statements forbidden, so `pixmo sql` and the audit only ever read.
//!
//! Refused, before anything runs: `COPY ... TO` (writes files), `INSERT`, `CREATE [EXTERNAL]
//! TABLE`/`VIEW` (reads arbitrary files, changes the catalog), `DROP`, `SET`, transactions,
//! `PREPARE`/`EXECUTE`. Allowed: `SELECT`, `WITH`, `VALUES`, `EXPLAIN` of those, `SHOW
//! TABLES`, `DESCRIBE`.

use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{DataFrame, SessionContext};

use crate::error::{AuditError, Refused};

/// The options every pixmo query runs with: no DDL, no DML, no statements.
#[must_use]
pub fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Plans `sql` read-only; the plan is checked before anything executes.
pub(crate) async fn query(ctx: &SessionContext, sql: &str) -> Result<DataFrame, DataFusionError> {
    ctx.sql_with_options(sql, read_only()).await
}

/// The [`AuditError::ReadOnly`] for a query DataFusion refused under [`read_only`], or
/// `None` when `err` is some other failure.
pub(crate) fn refusal(sql: &str, err: &DataFusionError) -> Option<AuditError> {
    let DataFusionError::Plan(message) = err.find_root() else {
        return None;
    };
    // DataFusion's wording (`SQLOptions::verify_plan`): "<class> not supported: <plan name>".
    let (kind, name) = [
        ("DDL not supported: ", Refused::Ddl),
        ("DML not supported: ", Refused::Dml),
        ("Statement not supported: ", Refused::Statement),
    ]
    .into_iter()
    .find_map(|(prefix, kind)| message.strip_prefix(prefix).map(|rest| (kind, rest)))?;
    let plan_name = name.lines().next().unwrap_or_default().trim();
    let statement = leading_keywords(sql).unwrap_or_else(|| plan_name.to_string());
    Some(AuditError::ReadOnly { statement, kind })
}

/// Keywords that open a refused statement, for naming it as the user wrote it.
const KEYWORDS: &[&str] = &[
    "ALTER",
    "BEGIN",
    "COMMIT",
    "COPY",
    "CREATE",
    "DEALLOCATE",
    "DELETE",
    "DROP",
    "EXECUTE",
    "EXTERNAL",
    "FROM",
    "FUNCTION",
    "INSERT",
    "INTO",
    "OR",
    "PREPARE",
    "REPLACE",
    "RESET",
    "ROLLBACK",
    "SCHEMA",
    "SET",
    "START",
    "TABLE",
    "TEMPORARY",
    "TRANSACTION",
    "TRUNCATE",
    "UNBOUNDED",
    "UPDATE",
    "VIEW",
];

/// `CREATE EXTERNAL TABLE` for `create external table t ...`; `None` when the query does
/// not open with one of [`KEYWORDS`] (a refused statement inside `EXPLAIN`, say).
fn leading_keywords(sql: &str) -> Option<String> {
    let words: Vec<String> = sql
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .take_while(|w| KEYWORDS.contains(&w.as_str()))
        .take(4)
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::leading_keywords;

    #[test]
    fn names_the_statement_as_written() {
        let k = |s| leading_keywords(s);
        assert_eq!(k("COPY (SELECT 1) TO 'x'").as_deref(), Some("COPY"));
        assert_eq!(
            k("create external table t stored as csv location 'x'").as_deref(),
            Some("CREATE EXTERNAL TABLE")
        );
        assert_eq!(k("SET datafusion.x = 1").as_deref(), Some("SET"));
        assert_eq!(
            k("  insert into t VALUES (1)").as_deref(),
            Some("INSERT INTO")
        );
        assert_eq!(k("EXPLAIN COPY (SELECT 1) TO 'x'"), None);
    }
}
