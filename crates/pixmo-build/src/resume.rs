//! Resume: is a shard already committed? Decided from its marker and the sizes of its
//! files, without reading the data (`pixmo verify` re-hashes everything).
//!
//! Anything suspicious is moved to quarantine, never deleted and never followed: an
//! unreadable marker, a marker that names other files than the shard's own (an absolute
//! path, `..`, a link), files whose size differs from the marker.

use pixmo_shards::{
    Check, DatasetLayout, RunState, ShardId, ShardStatus, check_shard, quarantine_shard,
};

use crate::error::BuildError;

/// What to do with one shard.
pub(crate) enum Resume {
    /// Committed and intact: skip it.
    Committed,
    /// Compute it; `quarantined` files were moved aside first.
    Compute { quarantined: Vec<String> },
}

/// Decides whether `id` must be computed, quarantining what is broken: only the marker
/// when it is not the shard's own (its files may belong to nobody), else the shard's files
/// and marker.
pub(crate) fn check(
    layout: &DatasetLayout,
    run: &RunState,
    id: &ShardId,
) -> Result<Resume, BuildError> {
    let (why, marker_only) = match check_shard(layout, run, id, Check::Quick) {
        ShardStatus::Committed(_) => return Ok(Resume::Committed),
        ShardStatus::Missing => {
            return Ok(Resume::Compute {
                quarantined: Vec::new(),
            });
        }
        ShardStatus::BadMarker(why) => (why, true),
        ShardStatus::BadFiles(why) => (why, false),
    };
    let quarantined = quarantine_shard(layout, id, marker_only)?;
    eprintln!(
        "warning: {}: {why}; moved {} to .pixmo/quarantine/ and recomputing",
        id.label(),
        quarantined
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Resume::Compute { quarantined })
}
