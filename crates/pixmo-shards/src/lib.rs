//! Parquet shards: layout, atomic commit, markers, verification, reading back, manifests,
//! and the leases that let many workers share one directory.
//!
//! A plain library with no engine in it, so that the trainer and outside tools can read and
//! verify shards without compiling the pipeline.
//!
//! Layout of one dataset under an output directory:
//! ```text
//! OUT/<dataset>/<split>/part-GGGGG-SSSSS.parquet        the rows (Hugging Face loadable)
//! OUT/<dataset>/manifest.json                          written by finalize
//! OUT/<dataset>/.pixmo/run.json                        the run's identity (written once)
//! OUT/<dataset>/.pixmo/generations/GGGGG.json          each build that added records (written once)
//! OUT/<dataset>/.pixmo/commits/<split>/part-GGGGG-SSSSS.json     commit markers (the commit point)
//! OUT/<dataset>/.pixmo/rejects/<split>/part-GGGGG-SSSSS.parquet  rejected records
//! OUT/<dataset>/.pixmo/leases/<host>-<pid>-<random>.lease        live workers (locked)
//! OUT/<dataset>/.pixmo/quarantine/                     corrupt files moved aside, never deleted
//! ```
//! `GGGGG` is the generation that added the records, `SSSSS` the shard's index in it: a
//! committed file's name and bytes never change, growth only adds files.
//! The state lives in a hidden folder so `load_dataset("parquet", data_dir=OUT/<dataset>)`
//! sees only the row shards.
//!
//! Commit protocol: write the data and rejects files to temporary names carrying the
//! writer's token, fsync, rename into place, fsync the folder, then write the marker the
//! same way. A shard without a marker, or whose files do not match its marker, is not
//! committed.

pub mod error;
pub mod folder;
pub mod layout;
pub mod lease;
pub mod manifest;
pub mod marker;
pub mod reader;
pub mod writer;

pub use error::{Error, Result};
pub use folder::{replace_dir, sweep_dead_writers};
pub use layout::{DatasetLayout, ShardId};
pub use lease::{Lease, Sweep, sweep_dead_temporaries};
pub use manifest::{
    Created, DatasetManifest, Generation, RunIdentity, RunState, ShardProblem, ShardStatus,
    SplitManifest, check_run, check_shard, create_generation, create_identity, quarantine,
    quarantine_shard, shard_list,
};
pub use marker::{Check, ShardMarker};
pub use reader::{read_batches, read_rows_meta};
pub use writer::{ShardWriter, WriterSettings, atomic_write, create_once, rejects_schema};

/// SHA-256 of a file, streamed.
///
/// # Errors
/// When the file cannot be read.
pub fn hash_file(path: &std::path::Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
