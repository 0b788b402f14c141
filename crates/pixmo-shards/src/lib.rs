//! Parquet shards: layout, atomic commit, markers, verification, reading back, manifests.
//!
//! A plain library with no engine in it, so that the trainer and outside tools can read and
//! verify shards without compiling the pipeline.
//!
//! Layout of one dataset under an output directory:
//! ```text
//! OUT/<dataset>/<split>/part-SSSSS-of-NNNNN.parquet     the rows (Hugging Face loadable)
//! OUT/<dataset>/manifest.json                          written by `pixmo finalize`
//! OUT/<dataset>/.pixmo/run.json                        the run these shards belong to
//! OUT/<dataset>/.pixmo/commits/<split>/part-SSSSS.json commit markers (the commit point)
//! OUT/<dataset>/.pixmo/rejects/<split>/part-SSSSS-of-NNNNN.parquet   rejected records
//! OUT/<dataset>/.pixmo/quarantine/                     corrupted files moved aside, never deleted
//! ```
//! The state lives in a hidden folder so `load_dataset("parquet", data_dir=OUT/<dataset>)`
//! sees only the row shards.
//!
//! Commit protocol: write the data and rejects files to temporary names, fsync, rename into
//! place, fsync the folder, then write the marker the same way. A shard without a marker, or
//! whose file does not match its marker's SHA-256, is not committed.

pub mod error;
pub mod layout;
pub mod manifest;
pub mod marker;
pub mod reader;
pub mod writer;

pub use error::{Error, Result};
pub use layout::DatasetLayout;
pub use manifest::{DatasetManifest, RunState, SplitManifest};
pub use marker::ShardMarker;
pub use reader::{read_batches, read_rows_meta};
pub use writer::{ShardWriter, WriterSettings, atomic_write, rejects_schema};
