//! `finalize`, `audit`, `sql`, `card`, `schema` and external subcommands.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use pixmo_annotation_schema::Dataset;
use pixmo_shards::DatasetLayout;

use super::{dataset_roots, runtime};

pub fn finalize(dir: &Path) -> anyhow::Result<ExitCode> {
    for root in dataset_roots(dir)? {
        let layout = DatasetLayout { root: root.clone() };
        let manifest = pixmo_build::finalize(&layout)?;
        eprintln!(
            "{}: {} rows, {} rejects in {} splits; wrote {}",
            root.display(),
            manifest.total_rows,
            manifest.total_rejects,
            manifest.splits.len(),
            layout.manifest_path().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn verify(dir: &Path, quarantine: bool, json: bool) -> anyhow::Result<ExitCode> {
    let mut passed = true;
    let mut reports = Vec::new();
    for root in dataset_roots(dir)? {
        let layout = DatasetLayout { root: root.clone() };
        let report = pixmo_build::verify(&layout, quarantine)?;
        passed &= report.passed();
        if !json {
            eprintln!(
                "{}: {} shards intact, {} with problems",
                root.display(),
                report.shards_ok,
                report.problems.len()
            );
            for p in &report.problems {
                eprintln!("  - {p}");
            }
            for q in &report.quarantined {
                eprintln!("  moved `{q}` to .pixmo/quarantine/");
            }
            if !report.passed() {
                eprintln!(
                    "hint: {}",
                    if quarantine {
                        "re-run the same `pixmo build` to recompute the quarantined shards, then `pixmo finalize`"
                    } else {
                        "`pixmo verify --quarantine` moves broken shards aside; the next `pixmo build` recomputes them"
                    }
                );
            }
        }
        reports.push(serde_json::json!({"dataset": root.display().to_string(), "report": report}));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn audit(dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let rt = runtime(2)?;
    let mut all_passed = true;
    let mut reports = Vec::new();
    for root in dataset_roots(dir)? {
        let report = rt.block_on(pixmo_audit::audit(&root))?;
        all_passed &= report.passed();
        if !json {
            print!("{}", report.render());
        }
        reports.push(report);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn sql(dir: &Path, query: &str) -> anyhow::Result<ExitCode> {
    let rt = runtime(2)?;
    let batches = rt.block_on(pixmo_audit::sql(dir, query))?;
    println!("{}", pixmo_audit::pretty(&batches));
    Ok(ExitCode::SUCCESS)
}

pub fn card(dir: &Path, cards_dir: &Path) -> anyhow::Result<ExitCode> {
    for root in dataset_roots(dir)? {
        let path = crate::registry::PIPELINES.write_card(&root, cards_dir)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn schema(dataset: Option<&str>, write: Option<&Path>) -> anyhow::Result<ExitCode> {
    let datasets: Vec<Dataset> = match dataset {
        Some(name) => vec![Dataset::from_name(name).with_context(|| {
            format!(
                "Unknown dataset `{name}`; known: {}",
                Dataset::ALL.map(Dataset::name).join(", ")
            )
        })?],
        None => Dataset::ALL.to_vec(),
    };
    for d in datasets {
        let text = serde_json::to_string_pretty(&d.json_schema())? + "\n";
        match write {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("{}.schema.json", d.name()));
                std::fs::write(&path, text)
                    .with_context(|| format!("Could not write `{}`", path.display()))?;
            }
            None => print!("{text}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `pixmo train ...` runs `pixmo-train` (next to this binary, or on PATH), like git's
/// external subcommands, so the CLI never links burn.
pub fn external(args: &[String]) -> anyhow::Result<ExitCode> {
    let Some((name, rest)) = args.split_first() else {
        bail!("No command given; see `pixmo --help`");
    };
    if name != "train" {
        let known = [
            "build", "plan", "graph", "stages", "launch", "finalize", "audit", "sql", "card",
            "schema", "bench", "models", "train",
        ];
        let hint = pixmo_dag::registry::nearest(name, known.iter().copied())
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        bail!("Unknown command `{name}`{hint}");
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("pixmo-train")))
        .filter(|p| p.is_file());
    let program = beside.unwrap_or_else(|| std::path::PathBuf::from("pixmo-train"));
    match std::process::Command::new(&program).args(rest).status() {
        Ok(status) => Ok(ExitCode::from(
            u8::try_from(status.code().unwrap_or(2)).unwrap_or(2),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "`pixmo train` needs the `pixmo-train` binary, which is not installed\nhint: the trainer lives in trainer/ (burn); install it from a pixmo checkout with `cargo install --locked --path trainer` (add `--features cuda` for GPUs)"
        ),
        Err(e) => Err(e).context("Could not run `pixmo-train`"),
    }
}
