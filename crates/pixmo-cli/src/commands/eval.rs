//! `pixmo eval points|count|clocks PREDICTIONS GOLD`: Molmo's evaluations (`pixmo-eval`),
//! a JSON summary on stdout.

use std::process::ExitCode;

use crate::args::EvalTask;

/// Runs one evaluation and prints its summary.
pub fn run(task: EvalTask) -> anyhow::Result<ExitCode> {
    let summary = match task {
        EvalTask::Points {
            predictions,
            gold,
            max_distance,
        } => serde_json::to_value(pixmo_eval::evaluate_points(
            &predictions,
            &gold,
            max_distance,
        )?)?,
        EvalTask::Count { predictions, gold } => {
            serde_json::to_value(pixmo_eval::evaluate_count(&predictions, &gold)?)?
        }
        EvalTask::Clocks {
            predictions,
            gold,
            close_minutes,
        } => serde_json::to_value(pixmo_eval::evaluate_clocks(
            &predictions,
            &gold,
            close_minutes,
        )?)?,
    };
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(ExitCode::SUCCESS)
}
