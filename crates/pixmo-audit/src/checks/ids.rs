//! `unique_ids`, `duplicate_images` and `rejects`.

use datafusion::arrow::array::AsArray;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::{Tally, collect, could_not_run, ident, strings, u64_values};
use crate::inputs::DatasetInputs;
use crate::report::Check;

/// Share of rows that may repeat another row's image before `duplicate_images` fails.
pub const MAX_DUPLICATE_IMAGE_SHARE: f64 = 0.01;

/// Label of values repeated within one split.
const WITHIN: &str = "within";
/// Label of values shared by several splits.
const ACROSS: &str = "across";

/// Values of `column` that occur more than once, streamed: a tally of the repeated values
/// (labelled [`WITHIN`] or [`ACROSS`] splits) and the surplus rows.
async fn duplicates(
    ctx: &SessionContext,
    column: &str,
    filter: &str,
) -> Result<(Tally, u64), DataFusionError> {
    let c = ident(column);
    let sql = format!(
        "SELECT CAST({c} AS VARCHAR) AS v, count(*) AS n, \
         CAST(min(split) <> max(split) AS INT) AS s \
         FROM rows {filter} GROUP BY {c} HAVING count(*) > 1"
    );
    let mut stream = crate::read_only::query(ctx, &sql)
        .await?
        .execute_stream()
        .await?;
    let mut tally = Tally::default();
    let mut surplus = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let values = strings(batch.column(0))?;
        let values = values.as_string::<i32>();
        let counts = u64_values(batch.column(1))?;
        // 1 when the value occurs in more than one split (cheaper than count(DISTINCT)).
        let across = u64_values(batch.column(2))?;
        for i in 0..batch.num_rows() {
            surplus += counts[i].saturating_sub(1);
            let label = if across[i] > 0 { ACROSS } else { WITHIN };
            tally.add(label, values.value(i));
        }
    }
    Ok((tally, surplus))
}

/// The id column is unique across all splits.
pub(crate) async fn unique_ids(ctx: &SessionContext, inputs: &DatasetInputs) -> Check {
    const NAME: &str = "unique_ids";
    let id = inputs.schema.id_column;
    let (tally, surplus) = match duplicates(ctx, id, "").await {
        Ok(r) => r,
        Err(e) => return could_not_run(NAME, &e),
    };
    let problems: Vec<String> = tally
        .problem_names()
        .map(|label| {
            let where_ = if label == ACROSS {
                "shared across splits"
            } else {
                "repeated within a split"
            };
            format!(
                "{} `{id}` values {where_}{}",
                tally.count(label),
                tally.examples(label)
            )
        })
        .collect();
    if problems.is_empty() {
        Check::pass(NAME, format!("`{id}` is unique across all splits"))
    } else {
        Check::fail(
            NAME,
            format!("{}; {surplus} surplus rows", problems.join("; ")),
        )
    }
}

/// Exact duplicate images (same `image_sha256`): informational up to
/// [`MAX_DUPLICATE_IMAGE_SHARE`] of the rows, a failure above. In a dataset with a
/// `revision` column (PixMo-Cap: a late recording makes a new row of the same image), only
/// first revisions are compared: a later revision repeats its image by design. Datasets with
/// several rows per image ([`DatasetSchema::rows_share_images`]) report without a limit.
///
/// [`DatasetSchema::rows_share_images`]: pixmo_annotation_schema::DatasetSchema
pub(crate) async fn duplicate_images(
    ctx: &SessionContext,
    rows: u64,
    inputs: &DatasetInputs,
) -> Check {
    const NAME: &str = "duplicate_images";
    let revisions = inputs.schema.schema.column_with_name("revision").is_some();
    let filter = if revisions { "WHERE revision = 1" } else { "" };
    let (tally, surplus) = match duplicates(ctx, "image_sha256", filter).await {
        Ok(r) => r,
        Err(e) => return could_not_run(NAME, &e),
    };
    let share = if rows == 0 {
        0.0
    } else {
        surplus as f64 / rows as f64
    };
    let groups = tally.count(WITHIN) + tally.count(ACROSS);
    let mut examples = tally.examples(ACROSS);
    if examples.is_empty() {
        examples = tally.examples(WITHIN);
    }
    let detail = format!(
        "{surplus} of {rows} rows ({:.2}%) repeat another row's image, in {groups} groups \
         ({} across splits){examples}; the limit is {:.0}%",
        share * 100.0,
        tally.count(ACROSS),
        MAX_DUPLICATE_IMAGE_SHARE * 100.0
    );
    if inputs.schema.rows_share_images {
        Check::pass(
            NAME,
            format!(
                "{detail} (not applied: `{}` has several rows per image by design)",
                inputs.schema.dataset
            ),
        )
    } else if share > MAX_DUPLICATE_IMAGE_SHARE {
        Check::fail(NAME, detail)
    } else {
        Check::pass(NAME, detail)
    }
}

/// The rejects table is readable; reports counts by stage and kind.
pub(crate) async fn rejects(ctx: &SessionContext) -> Check {
    const NAME: &str = "rejects";
    let sql = "SELECT stage, kind, count(*) AS n FROM rejects GROUP BY stage, kind \
               ORDER BY n DESC, stage, kind";
    let summary = async {
        let mut parts = Vec::new();
        let mut total = 0;
        for batch in collect(ctx, sql).await? {
            let stages = strings(batch.column(0))?;
            let kinds = strings(batch.column(1))?;
            let (stages, kinds) = (stages.as_string::<i32>(), kinds.as_string::<i32>());
            for (i, n) in u64_values(batch.column(2))?.into_iter().enumerate() {
                total += n;
                parts.push(format!("{}/{}: {n}", stages.value(i), kinds.value(i)));
            }
        }
        Ok::<_, DataFusionError>((total, parts))
    }
    .await;
    match summary {
        Ok((_, parts)) if parts.is_empty() => Check::pass(NAME, "no records were rejected"),
        Ok((total, parts)) => Check::pass(
            NAME,
            format!(
                "{total} rejected records by stage/kind: {}",
                parts.join(", ")
            ),
        ),
        Err(e) => could_not_run(NAME, &e),
    }
}
