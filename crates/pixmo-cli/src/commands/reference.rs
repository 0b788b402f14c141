//! `pixmo card --reference`: the committed cards in `data_cards/`, one per registered
//! dataset, each from a build of the dataset's default spec at its declared
//! `reference_count` (seed 0, build time pinned to the Unix epoch), so the same code writes
//! the same bytes. `--check` writes them to a temporary folder and compares instead: the
//! staleness check CI runs (`tests/it/cards.rs`), the way the JSON Schemas are checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pixmo_build::BuildRequest;
use pixmo_dag::progress::ProgressMode;

use super::{Overrides, load_plan, plan_arc, runtime};
use crate::args::PipelineArgs;
use crate::registry;

/// Run seed of the reference builds.
pub const REFERENCE_SEED: u64 = 0;

/// Build time of the reference builds: the Unix epoch, so that no clock enters a card.
pub const REFERENCE_AS_OF_US: i64 = 0;

/// Builds every registered dataset at its reference size under `builds` (a temporary folder
/// when `None`; an existing build there is resumed, not redone) and writes its card to
/// `cards_dir`, or with `check` compares the cards it would write with `cards_dir`'s.
pub fn reference_cards(
    cards_dir: &Path,
    builds: Option<&Path>,
    check: bool,
) -> anyhow::Result<ExitCode> {
    let temp = tempfile::tempdir().context("Could not create a temporary folder")?;
    let builds = builds.map_or_else(|| temp.path().join("out"), Path::to_path_buf);
    let written = if check {
        temp.path().join("cards")
    } else {
        cards_dir.to_path_buf()
    };
    let mut stale = Vec::new();
    for pipeline in registry::PIPELINES.all() {
        let name = pipeline.name;
        let count = pipeline.reference_count;
        if count == 0 {
            eprintln!("pixmo card --reference: `{name}` has no reference build (collected data)");
            continue;
        }
        eprintln!(
            "pixmo card --reference: building `{name}` ({count} records, seed {REFERENCE_SEED})"
        );
        build_reference(name, count, &builds)?;
        let card = registry::PIPELINES.write_card(&builds.join(name), &written)?;
        if check {
            stale.extend(compare(&written, cards_dir, name)?);
        } else {
            eprintln!("wrote {}", card.display());
        }
    }
    if !check {
        return Ok(ExitCode::SUCCESS);
    }
    if stale.is_empty() {
        eprintln!("the cards in {} are current", cards_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &stale {
        eprintln!("stale: {problem}");
    }
    eprintln!(
        "hint: run `pixmo card --reference --cards-dir {}` and commit the result",
        cards_dir.display()
    );
    Ok(ExitCode::from(1))
}

/// Builds (or resumes) the default spec of `dataset` at `count` records into `out`.
fn build_reference(dataset: &str, count: u64, out: &Path) -> anyhow::Result<()> {
    let args = PipelineArgs {
        dataset: dataset.to_string(),
        spec: None,
    };
    let plan = load_plan(&args, &Overrides::default())?;
    let cores = pixmo_core::parallel::cores();
    let request = BuildRequest {
        out: out.to_path_buf(),
        count,
        source: None,
        seed: REFERENCE_SEED,
        worker: None,
        as_of_us: Some(REFERENCE_AS_OF_US),
        progress: ProgressMode::Quiet,
        cores,
    };
    let summary = runtime(cores)?.block_on(pixmo_build::build(plan_arc(plan), request))?;
    eprintln!(
        "  {} rows, {} records computed, {:.1} s",
        summary.rows_written, summary.records_computed, summary.seconds
    );
    Ok(())
}

/// The files of one card (`<name>.md` and everything in `<name>/`), relative to `dir`.
fn card_files(dir: &Path, name: &str) -> anyhow::Result<BTreeSet<PathBuf>> {
    let mut files = BTreeSet::new();
    if dir.join(format!("{name}.md")).is_file() {
        files.insert(PathBuf::from(format!("{name}.md")));
    }
    let plots = dir.join(name);
    if plots.is_dir() {
        for entry in std::fs::read_dir(&plots)
            .with_context(|| format!("Could not read `{}`", plots.display()))?
        {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                files.insert(Path::new(name).join(entry.file_name()));
            }
        }
    }
    Ok(files)
}

/// What differs between the card `name` freshly written to `fresh` and the one in
/// `committed`: one line per file.
fn compare(fresh: &Path, committed: &Path, name: &str) -> anyhow::Result<Vec<String>> {
    let want = card_files(fresh, name)?;
    let have = card_files(committed, name)?;
    let mut problems = Vec::new();
    for file in want.union(&have) {
        let shown = committed.join(file);
        match (want.contains(file), have.contains(file)) {
            (true, false) => problems.push(format!("{} is missing", shown.display())),
            (false, true) => problems.push(format!(
                "{} is not part of the card any more",
                shown.display()
            )),
            _ => {
                let new = std::fs::read(fresh.join(file))?;
                let old = std::fs::read(&shown)
                    .with_context(|| format!("Could not read `{}`", shown.display()))?;
                if new != old {
                    problems.push(format!(
                        "{} differs{}",
                        shown.display(),
                        first_change(&old, &new)
                    ));
                }
            }
        }
    }
    Ok(problems)
}

/// For text files, the first line that changed (`: line 12: "old" -> "new"`).
fn first_change(old: &[u8], new: &[u8]) -> String {
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return String::new();
    };
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    for line in 1.. {
        match (old_lines.next(), new_lines.next()) {
            (None, None) => break,
            (a, b) if a == b => {}
            (a, b) => {
                return format!(
                    " (line {line}: {:?} -> {:?})",
                    a.unwrap_or("<end of file>"),
                    b.unwrap_or("<end of file>")
                );
            }
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_changed_line_is_named() {
        assert_eq!(
            first_change(b"a\nb\nc\n", b"a\nB\nc\n"),
            " (line 2: \"b\" -> \"B\")"
        );
        assert_eq!(
            first_change(b"a\n", b"a\nb\n"),
            " (line 2: \"<end of file>\" -> \"b\")"
        );
        assert_eq!(first_change(&[0xff, 0], &[0xfe]), "");
    }

    #[test]
    fn missing_extra_and_changed_files_are_reported() {
        let fresh = tempfile::tempdir().unwrap();
        let committed = tempfile::tempdir().unwrap();
        let write = |dir: &Path, file: &str, bytes: &[u8]| {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        };
        // Plots are binary (no line to name); a card is text.
        write(fresh.path(), "x.md", b"same\nnew line\n");
        write(fresh.path(), "x/a.png", &[0x89, b'P', b'N', b'G', 0xff, 1]);
        write(fresh.path(), "x/b.png", &[0x89, 2]);
        write(committed.path(), "x.md", b"same\nold line\n");
        write(
            committed.path(),
            "x/a.png",
            &[0x89, b'P', b'N', b'G', 0xff, 0],
        );
        write(committed.path(), "x/c.png", &[0x89, 3]);
        write(committed.path(), "y.md", b"another card\n");
        let problems = compare(fresh.path(), committed.path(), "x").unwrap();
        let problems: Vec<String> = problems
            .iter()
            .map(|p| p.replace(&committed.path().display().to_string(), "C"))
            .collect();
        assert_eq!(
            problems,
            [
                "C/x/a.png differs",
                "C/x/b.png is missing",
                "C/x/c.png is not part of the card any more",
                "C/x.md differs (line 2: \"old line\" -> \"new line\")",
            ]
        );
    }
}
