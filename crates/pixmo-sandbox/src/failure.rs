//! How a sandboxed job can fail.

use std::fmt;

/// The limit that ended a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// CPU time (`RLIMIT_CPU`).
    CpuTime,
    /// Address space (`RLIMIT_AS`): an allocation failed.
    Memory,
    /// The parent's wall-clock deadline.
    WallClock,
    /// The reply was larger than the parent reads.
    ReplySize,
}

impl Limit {
    /// Stable name (`cpu_time`, `memory`, `wall_clock`, `reply_size`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Limit::CpuTime => "cpu_time",
            Limit::Memory => "memory",
            Limit::WallClock => "wall_clock",
            Limit::ReplySize => "reply_size",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::CpuTime => "CPU-time",
            Limit::Memory => "memory",
            Limit::WallClock => "wall-clock",
            Limit::ReplySize => "reply-size",
        })
    }
}

/// Why a job gave no result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The job ran and refused its input; the message is the job's (meant for whoever wrote
    /// the input, e.g. an LLM repair loop).
    #[error("{0}")]
    Rejected(String),
    /// A limit ended the job.
    #[error("the {limit} limit ended the job: {detail}")]
    Limit {
        /// Which limit.
        limit: Limit,
        /// What was seen (the limit's value, the worker's last words).
        detail: String,
    },
    /// The worker died in another way (a signal, a panic in the job, a bad reply).
    #[error("the sandboxed job crashed: {0}")]
    Crashed(String),
    /// The worker could not be started or spoken to: a setup problem, not the input's fault.
    #[error("cannot run the sandbox worker: {0}")]
    Setup(String),
}

impl Failure {
    /// Stable name of the outcome: `rejected`, `crashed`, `setup`, or the limit's name.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Rejected(_) => "rejected",
            Failure::Limit { limit, .. } => limit.name(),
            Failure::Crashed(_) => "crashed",
            Failure::Setup(_) => "setup",
        }
    }
}
