//! `points`: every point lies inside its image in the unit its dataset stores
//! ([`pixmo_annotation_schema::Dataset::point_unit`]): percent in 0–100, pixels in
//! 0–`width` and 0–`height`. A pixel value in a percent column shows as a point above 100,
//! and a point beyond its image in a pixel column is a bad label either way.

use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use pixmo_annotation_schema::PointUnit;

use super::{could_not_run, ident, literal, tally_query};
use crate::inputs::DatasetInputs;
use crate::report::Check;

/// The check, for datasets whose `points` column is a list of `{x, y}` (PixMo-Points,
/// PixMo-Count); `None` for the others.
pub(crate) async fn point_ranges(ctx: &SessionContext, inputs: &DatasetInputs) -> Option<Check> {
    const NAME: &str = "points";
    let unit = inputs.schema.dataset.point_unit()?;
    let field = inputs.schema.schema.field_with_name("points").ok()?;
    // Point-Explanations nests its points a level deeper; not checked here.
    let DataType::List(item) = field.data_type() else {
        return None;
    };
    if !matches!(item.data_type(), DataType::Struct(_)) {
        return None;
    }
    let (x_max, y_max, range) = match unit {
        PointUnit::Percent => ("100.0", "100.0", "0-100 percent"),
        PointUnit::Pixels => (
            "CAST(width AS DOUBLE)",
            "CAST(height AS DOUBLE)",
            "the image's pixels",
        ),
    };
    let problem = literal(&format!("with a point outside {range}"));
    let id = ident(inputs.schema.id_column);
    // NaN compares false, so it is outside too.
    let sql = format!(
        "SELECT DISTINCT {problem} AS problem, CAST(id AS VARCHAR) AS id FROM \
         (SELECT {id} AS id, width, height, unnest(points) AS p FROM rows) \
         WHERE NOT (p['x'] >= 0.0 AND p['x'] <= {x_max} AND p['y'] >= 0.0 AND p['y'] <= {y_max})"
    );
    Some(match tally_query(ctx, &sql).await {
        Ok(tally) => tally.into_check(
            NAME,
            format!("every point lies inside its image ({})", unit.as_str()),
        ),
        Err(e) => could_not_run(NAME, &e),
    })
}
