//! The audit report: one [`Check`] per property, printed as a table or serialized as JSON.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

/// The outcome of one audit check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable check name, such as `manifest` or `image_hashes`.
    pub name: String,
    /// Whether the dataset has the property.
    pub passed: bool,
    /// What was checked and, on failure, what is wrong (counts and example ids).
    pub detail: String,
}

impl Check {
    /// A passed check.
    #[must_use]
    pub fn pass(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            passed: true,
            detail: detail.into(),
        }
    }

    /// A failed check.
    #[must_use]
    pub fn fail(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            passed: false,
            detail: detail.into(),
        }
    }

    /// Passed when `problems` is empty, else failed with the problems listed (at most
    /// [`MAX_LISTED`], then a count of the rest).
    #[must_use]
    pub(crate) fn from_problems(name: &str, ok: impl Into<String>, problems: &[String]) -> Check {
        if problems.is_empty() {
            Check::pass(name, ok)
        } else {
            Check::fail(name, list_problems(problems))
        }
    }
}

/// How many problems a detail line lists before summarising the rest.
pub(crate) const MAX_LISTED: usize = 5;

/// `a; b; c; and 4 more`.
pub(crate) fn list_problems(problems: &[String]) -> String {
    let mut text = problems
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > MAX_LISTED {
        let _ = write!(text, "; and {} more", problems.len() - MAX_LISTED);
    }
    text
}

/// Everything `pixmo audit` found out about one dataset.
#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    /// The dataset root (`OUT/<dataset>`).
    pub dataset_root: PathBuf,
    /// Dataset name from the run state (`clocks`).
    pub dataset: String,
    /// The checks, in a fixed order.
    pub checks: Vec<Check>,
    /// Rows over all splits (counted in the shards).
    pub rows: u64,
    /// Rejected records over all splits (counted in the rejects files).
    pub rejects: u64,
}

impl AuditReport {
    /// Whether every check passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// A human-readable table: a header line, one `PASS`/`FAIL name: detail` line per check,
    /// and a verdict line. Ends with a newline.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = format!(
            "audit of `{}` ({}): {} rows, {} rejects\n",
            self.dataset_root.display(),
            self.dataset,
            self.rows,
            self.rejects
        );
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for check in &self.checks {
            let verdict = if check.passed { "PASS" } else { "FAIL" };
            let name = format!("{}:", check.name);
            let _ = writeln!(
                out,
                "  {verdict} {name:<w$} {}",
                check.detail,
                w = width + 1
            );
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        let verdict = if self.passed() { "PASSED" } else { "FAILED" };
        let _ = writeln!(
            out,
            "{verdict}: {passed} of {} checks passed",
            self.checks.len()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_lists_each_check_and_the_verdict() {
        let report = AuditReport {
            dataset_root: PathBuf::from("out/clocks"),
            dataset: "clocks".into(),
            checks: vec![
                Check::pass("manifest", "3 shards"),
                Check::fail("image_hashes", "1 row with a wrong hash"),
            ],
            rows: 10,
            rejects: 1,
        };
        assert!(!report.passed());
        let text = report.render();
        assert!(text.contains("  PASS manifest:     3 shards\n"), "{text}");
        assert!(text.contains("  FAIL image_hashes: 1 row"), "{text}");
        assert!(text.ends_with("FAILED: 1 of 2 checks passed\n"), "{text}");
    }

    #[test]
    fn long_problem_lists_are_summarised() {
        let problems: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
        assert_eq!(list_problems(&problems), "p0; p1; p2; p3; p4; and 3 more");
    }
}
