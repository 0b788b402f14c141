//! The audit checks. Each returns a [`Check`]; a check that cannot run (a query error, an
//! unreadable file) fails with the reason rather than aborting the audit.

pub(crate) mod ids;
pub(crate) mod images;
pub(crate) mod manifest;
pub(crate) mod points;
pub(crate) mod provenance;
pub(crate) mod schema;

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::report::Check;
pub(crate) use pixmo_core::parallel::parallel_map;

/// How many example ids a problem lists.
pub(crate) const EXAMPLES: usize = 3;

/// Offending rows per problem, with the few smallest ids as examples (deterministic however
/// the rows arrive).
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    counts: BTreeMap<String, u64>,
    examples: BTreeMap<String, BTreeSet<String>>,
}

impl Tally {
    /// Counts one offending row.
    pub fn add(&mut self, problem: &str, id: &str) {
        *self.counts.entry(problem.to_string()).or_default() += 1;
        let examples = self.examples.entry(problem.to_string()).or_default();
        if examples.len() < EXAMPLES {
            examples.insert(id.to_string());
        } else if examples.last().is_some_and(|last| id < last.as_str()) {
            examples.insert(id.to_string());
            examples.pop_last();
        }
    }

    /// Adds another tally's counts and examples.
    pub fn merge(&mut self, other: Tally) {
        for (problem, n) in other.counts {
            *self.counts.entry(problem).or_default() += n;
        }
        for (problem, ids) in other.examples {
            let examples = self.examples.entry(problem).or_default();
            examples.extend(ids);
            while examples.len() > EXAMPLES {
                examples.pop_last();
            }
        }
    }

    /// Problems counted, in order.
    pub fn problem_names(&self) -> impl Iterator<Item = &str> {
        self.counts.keys().map(String::as_str)
    }

    /// How often a problem was counted.
    pub fn count(&self, problem: &str) -> u64 {
        self.counts.get(problem).copied().unwrap_or(0)
    }

    /// ` (e.g. `a`, `b`)` for a problem, or nothing.
    pub fn examples(&self, problem: &str) -> String {
        self.examples.get(problem).map_or_else(String::new, |ids| {
            let list: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
            format!(" (e.g. {})", list.join(", "))
        })
    }

    /// `N rows <problem> (e.g. `a`, `b`)`, one entry per problem.
    pub fn problems(&self) -> Vec<String> {
        self.counts
            .iter()
            .map(|(problem, n)| {
                let rows = if *n == 1 { "row" } else { "rows" };
                format!("{n} {rows} {problem}{}", self.examples(problem))
            })
            .collect()
    }

    /// A check that passes when the tally is empty.
    pub fn into_check(self, name: &str, ok: impl Into<String>) -> Check {
        Check::from_problems(name, ok, &self.problems())
    }
}

/// Runs a query whose first two columns are `(problem, id)` and tallies its rows, streaming.
pub(crate) async fn tally_query(ctx: &SessionContext, sql: &str) -> Result<Tally, DataFusionError> {
    let mut stream = crate::read_only::query(ctx, sql)
        .await?
        .execute_stream()
        .await?;
    let mut tally = Tally::default();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let problems = strings(batch.column(0))?;
        let ids = strings(batch.column(1))?;
        let (problems, ids) = (problems.as_string::<i32>(), ids.as_string::<i32>());
        for i in 0..batch.num_rows() {
            let id = if ids.is_null(i) {
                "<null>"
            } else {
                ids.value(i)
            };
            tally.add(problems.value(i), id);
        }
    }
    Ok(tally)
}

/// Runs a query and collects its rows (for small aggregate results).
pub(crate) async fn collect(
    ctx: &SessionContext,
    sql: &str,
) -> Result<Vec<datafusion::arrow::array::RecordBatch>, DataFusionError> {
    crate::read_only::query(ctx, sql).await?.collect().await
}

/// Any column as `Utf8`.
pub(crate) fn strings(column: &ArrayRef) -> Result<ArrayRef, DataFusionError> {
    Ok(cast(column, &DataType::Utf8)?)
}

/// Any integer column as `UInt64` values (nulls as 0).
pub(crate) fn u64_values(column: &ArrayRef) -> Result<Vec<u64>, DataFusionError> {
    let column = cast(column, &DataType::UInt64)?;
    let column = column.as_primitive::<datafusion::arrow::datatypes::UInt64Type>();
    Ok((0..column.len())
        .map(|i| {
            if column.is_null(i) {
                0
            } else {
                column.value(i)
            }
        })
        .collect())
}

/// Quotes an SQL identifier.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal.
pub(crate) fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A failed check for a check that could not run.
pub(crate) fn could_not_run(name: &str, error: &dyn std::error::Error) -> Check {
    Check::fail(
        name,
        format!("could not run: {}", crate::error::chain(error)),
    )
}

/// Worker threads for file-parallel checks.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get().min(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_keeps_the_smallest_examples() {
        let mut a = Tally::default();
        for id in ["e", "d", "c", "b"] {
            a.add("bad", id);
        }
        let mut b = Tally::default();
        b.add("bad", "a");
        b.add("worse", "z");
        a.merge(b);
        assert_eq!(
            a.problems(),
            vec![
                "5 rows bad (e.g. `a`, `b`, `c`)".to_string(),
                "1 row worse (e.g. `z`)".to_string()
            ]
        );
    }
}
