//! `provenance_complete` and `vlm_free`, in SQL over the `rows` table.

use datafusion::prelude::SessionContext;

use super::{could_not_run, ident, literal, tally_query};
use crate::inputs::DatasetInputs;
use crate::report::Check;

/// `^[0-9a-f]{64}$`: a lowercase hex SHA-256.
const HEX64: &str = "'^[0-9a-f]{64}$'";

/// Common table expressions: `r(id, p)` one row per row; `st(id, claim, s)`,
/// `md(id, claim, m)` and `so(id, x)` one row per stage, model and source.
fn ctes(id_column: &str) -> String {
    let id = ident(id_column);
    format!(
        "WITH r AS (SELECT CAST({id} AS VARCHAR) AS id, provenance AS p FROM rows), \
         st AS (SELECT id, p['vlm_free'] AS claim, unnest(p['stages']) AS s FROM r), \
         md AS (SELECT id, p['vlm_free'] AS claim, unnest(p['models']) AS m FROM r), \
         so AS (SELECT id, unnest(p['sources']) AS x FROM r)"
    )
}

/// `(problem, table, condition)` triples as one `SELECT DISTINCT problem, id` query that
/// scans each table once: per row, an array of the problems whose condition holds.
fn problems_query(id_column: &str, rules: &[(String, &str, String)]) -> String {
    let mut tables: Vec<&str> = Vec::new();
    for (_, table, _) in rules {
        if !tables.contains(table) {
            tables.push(table);
        }
    }
    let branches: Vec<String> = tables
        .iter()
        .map(|table| {
            let cases: Vec<String> = rules
                .iter()
                .filter(|(_, t, _)| t == table)
                .map(|(problem, _, condition)| {
                    format!("CASE WHEN {condition} THEN {} END", literal(problem))
                })
                .collect();
            format!(
                "SELECT problem, id FROM (SELECT id, unnest(make_array({})) AS problem FROM {table}) \
                 WHERE problem IS NOT NULL",
                cases.join(", ")
            )
        })
        .collect();
    format!(
        "{} SELECT DISTINCT problem, id FROM ({})",
        ctes(id_column),
        branches.join(" UNION ALL ")
    )
}

fn empty(expr: &str) -> String {
    format!("coalesce({expr}, '') = ''")
}

fn not_hex64(expr: &str) -> String {
    format!("NOT regexp_like(coalesce({expr}, ''), {HEX64})")
}

/// Every row's provenance is filled in and belongs to the run in run.json.
pub(crate) async fn provenance_complete(ctx: &SessionContext, inputs: &DatasetInputs) -> Check {
    const NAME: &str = "provenance_complete";
    let run = &inputs.run;
    let mut rules: Vec<(String, &str, String)> = Vec::new();
    for field in [
        "run_id",
        "code_version",
        "config_hash",
        "schema_version",
        "pipeline",
    ] {
        rules.push((
            format!("with an empty provenance.{field}"),
            "r",
            empty(&format!("p['{field}']")),
        ));
    }
    let same = [
        ("run_id", &run.run_id),
        ("config_hash", &run.config_hash),
        ("pipeline", &run.pipeline),
    ];
    for (field, want) in same {
        rules.push((
            format!("whose provenance.{field} is not the run's `{want}`"),
            "r",
            format!("p['{field}'] <> {}", literal(want)),
        ));
    }
    rules.extend([
        (
            format!("whose provenance.seed is not the run seed {}", run.seed),
            "r",
            format!(
                "p['seed'] IS NULL OR p['seed'] <> arrow_cast('{}', 'UInt64')",
                run.seed
            ),
        ),
        (
            "without provenance.created_at".into(),
            "r",
            "p['created_at'] IS NULL".into(),
        ),
        (
            "without stages".into(),
            "r",
            "coalesce(array_length(p['stages']), 0) = 0".into(),
        ),
        (
            "without sources".into(),
            "r",
            "coalesce(array_length(p['sources']), 0) = 0".into(),
        ),
        (
            "with a stage lacking its name, kind, version or config_hash".into(),
            "st",
            format!(
                "{} OR {} OR {} OR {}",
                empty("s['name']"),
                empty("s['kind']"),
                empty("s['version']"),
                empty("s['config_hash']")
            ),
        ),
        (
            "with a model lacking its name or a hex file_sha256".into(),
            "md",
            format!("{} OR {}", empty("m['name']"), not_hex64("m['file_sha256']")),
        ),
        (
            "with an `llm-text` model lacking its prompt_template_id or a hex prompt_template_sha256"
                .into(),
            "md",
            format!(
                "m['kind'] = 'llm-text' AND ({} OR {})",
                empty("m['prompt_template_id']"),
                not_hex64("m['prompt_template_sha256']")
            ),
        ),
        (
            "with a source lacking a hex sha256".into(),
            "so",
            not_hex64("x['sha256']"),
        ),
    ]);
    let sql = problems_query(inputs.schema.id_column, &rules);
    match tally_query(ctx, &sql).await {
        Ok(tally) => tally.into_check(
            NAME,
            format!(
                "every row names run `{}`, seed {}, its stages, models (with prompt templates for LLMs) and hashed sources",
                run.run_id, run.seed
            ),
        ),
        Err(e) => could_not_run(NAME, &e),
    }
}

/// Every row claims `vlm_free`, and the claim holds for its recorded lineage: no stage gave
/// a VLM an image and no model is a VLM.
pub(crate) async fn vlm_free(ctx: &SessionContext, inputs: &DatasetInputs) -> Check {
    const NAME: &str = "vlm_free";
    let rules: Vec<(String, &str, String)> = vec![
        (
            "whose provenance.vlm_free is not true".into(),
            "r",
            "NOT coalesce(p['vlm_free'], false)".into(),
        ),
        (
            "claiming vlm_free although a stage used a VLM".into(),
            "st",
            "coalesce(claim, false) AND coalesce(s['uses_vlm'], true)".into(),
        ),
        (
            "claiming vlm_free although a model is a VLM".into(),
            "md",
            "coalesce(claim, false) AND lower(coalesce(m['kind'], '')) = 'vlm'".into(),
        ),
    ];
    let sql = problems_query(inputs.schema.id_column, &rules);
    match tally_query(ctx, &sql).await {
        Ok(tally) => tally.into_check(
            NAME,
            "every row claims vlm_free, and no recorded stage uses a VLM and no model is a VLM",
        ),
        Err(e) => could_not_run(NAME, &e),
    }
}
