//! Progress per stage: indicatif bars on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exec::ExecStats;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars when stderr is a terminal, plain lines otherwise.
    Auto,
    /// Plain lines on stderr, at most every few seconds.
    Plain,
    /// Nothing.
    Quiet,
}

/// Reports the progress of a run with a known total number of records.
#[derive(Debug)]
pub struct Progress {
    bars: Option<(MultiProgress, Vec<ProgressBar>)>,
    plain: bool,
    total: u64,
    base: Vec<u64>,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// Starts reporting for `stage_names` over `total` records.
    #[must_use]
    pub fn new(mode: ProgressMode, stage_names: &[String], total: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bars = (mode == ProgressMode::Auto && terminal).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{prefix:>12} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bars = stage_names
                .iter()
                .map(|name| {
                    let bar = multi.add(ProgressBar::new(total));
                    bar.set_style(style.clone());
                    bar.set_prefix(name.clone());
                    bar
                })
                .collect();
            (multi, bars)
        });
        let plain = match mode {
            ProgressMode::Auto => !terminal,
            ProgressMode::Plain => true,
            ProgressMode::Quiet => false,
        };
        Progress {
            bars,
            plain,
            total,
            base: vec![0; stage_names.len()],
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    /// Records already done before this run (skipped shards) count as progress.
    pub fn skip(&mut self, records: u64) {
        for b in &mut self.base {
            *b += records;
        }
    }

    /// Updates the display from live counters of the current work unit, plus `done` records
    /// of units already finished in this run.
    pub fn update(&mut self, stats: &ExecStats, done_before_unit: &[u64]) {
        let counts: Vec<u64> = stats
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let n = s.ok.load(Ordering::Relaxed) + s.rejected.load(Ordering::Relaxed);
                n + done_before_unit.get(i).copied().unwrap_or(0) + self.base[i]
            })
            .collect();
        if let Some((_, bars)) = &self.bars {
            for (bar, n) in bars.iter().zip(&counts) {
                bar.set_position(*n);
            }
        } else if self.plain && self.last_line.elapsed() >= Duration::from_secs(5) {
            self.last_line = Instant::now();
            let done = counts.last().copied().unwrap_or(0);
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            #[allow(clippy::cast_precision_loss)]
            let rate = done as f64 / secs;
            let parts: Vec<String> = stats
                .stages
                .iter()
                .zip(&counts)
                .map(|(s, n)| format!("{}={n}", s.name))
                .collect();
            eprintln!(
                "progress: {done}/{} rows, {rate:.1} rows/s [{}]",
                self.total,
                parts.join(" ")
            );
        }
    }

    /// Clears the bars.
    pub fn finish(&mut self) {
        if let Some((multi, bars)) = self.bars.take() {
            for bar in bars {
                bar.finish_and_clear();
            }
            let _ = multi.clear();
        }
    }
}
