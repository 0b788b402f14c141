//! Run-level failures of a build (bad records become rejections instead).

use std::path::PathBuf;

/// Run-level failures of a build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The pipeline does not fit the dataset schema, or its `[output]` table is wrong.
    #[error("Invalid pipeline `{pipeline}`: {message}")]
    Config {
        /// Pipeline name.
        pipeline: String,
        /// What is wrong.
        message: String,
    },
    /// `--num-shards` / `--shard-index` do not describe a worker.
    #[error("--shard-index {index} is out of range for --num-shards {count}")]
    Worker {
        /// Workers.
        count: u32,
        /// This worker.
        index: u32,
    },
    /// The output directory cannot be used.
    #[error("Output directory `{path}` is not usable: {message}")]
    Output {
        /// Directory.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The directory holds another run.
    #[error("`{path}` holds a different run ({what}); use a new --out directory or delete it")]
    RunMismatch {
        /// Directory.
        path: PathBuf,
        /// What differs.
        what: String,
    },
    /// The requested counts are smaller than what the directory already holds.
    #[error(
        "split `{split}` of `{path}` already holds {have} records; --count asks for {want} (counts only grow in one output directory)"
    )]
    Shrink {
        /// Directory.
        path: PathBuf,
        /// Split.
        split: String,
        /// Records committed to.
        have: u64,
        /// Records asked for.
        want: u64,
    },
    /// Another worker grew the run to other counts at the same moment.
    #[error(
        "another worker already added generation {generation} to `{path}` with other counts ({theirs}); start every worker of one run with the same --count"
    )]
    GrowthConflict {
        /// Directory.
        path: PathBuf,
        /// Generation.
        generation: u32,
        /// Their counts.
        theirs: String,
    },
    /// Finalize found missing or broken shards.
    #[error("`{path}` cannot be finalized: {}", problems.join("; "))]
    Unfinished {
        /// Directory.
        path: PathBuf,
        /// What is missing or broken.
        problems: Vec<String>,
    },
    /// Reading or writing shards failed.
    #[error(transparent)]
    Shards(#[from] pixmo_shards::Error),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] pixmo_dag::Error),
    /// Converting rows to Arrow failed (likely a bug).
    #[error("Could not convert rows of shard `{shard}` (likely a bug): {message}")]
    Convert {
        /// Shard.
        shard: String,
        /// Message.
        message: String,
    },
}
