//! Resume: is a shard already committed? Decided from its marker and the sizes of its
//! files, without reading the data (`pixmo verify` re-hashes everything).
//!
//! Anything suspicious is moved to quarantine, never deleted and never followed: an
//! unreadable marker, a marker that names other files than the shard's own (an absolute
//! path, `..`, a link), files whose size differs from the marker.

use pixmo_shards::{Check, DatasetLayout, RunState, ShardId, ShardMarker, quarantine};

use crate::error::BuildError;

/// What to do with one shard.
pub(crate) enum Resume {
    /// Committed and intact: skip it.
    Committed,
    /// Compute it; `quarantined` files were moved aside first.
    Compute { quarantined: Vec<String> },
}

/// Decides whether `id` must be computed, quarantining what is broken.
pub(crate) fn check(
    layout: &DatasetLayout,
    run: &RunState,
    id: &ShardId,
) -> Result<Resume, BuildError> {
    let marker_path = layout.marker_path(id);
    let mut quarantined = Vec::new();
    let marker = match ShardMarker::load(&marker_path) {
        Ok(Some(marker)) => marker,
        Ok(None) => return Ok(Resume::Compute { quarantined }),
        Err(e) => {
            move_aside(
                layout,
                id,
                &mut quarantined,
                &marker_path,
                &format!("unreadable marker ({e})"),
            )?;
            return Ok(Resume::Compute { quarantined });
        }
    };
    if let Err(why) =
        marker.check_identity(layout, id, &run.identity.config_hash, run.identity.seed)
    {
        move_aside(layout, id, &mut quarantined, &marker_path, &why)?;
        return Ok(Resume::Compute { quarantined });
    }
    let counts_fit = marker.rows + marker.rejects == id.records();
    match marker.verify(layout, Check::Quick) {
        Ok(()) if counts_fit => Ok(Resume::Committed),
        result => {
            let why = match result {
                Err(e) => pixmo_shards::error_chain(&e),
                Ok(()) => format!(
                    "{} rows and {} rejects for {} records",
                    marker.rows,
                    marker.rejects,
                    id.records()
                ),
            };
            // The marker matched the layout, so these are exactly the shard's own paths.
            move_aside(layout, id, &mut quarantined, &layout.data_path(id), &why)?;
            move_aside(layout, id, &mut quarantined, &layout.rejects_path(id), &why)?;
            move_aside(layout, id, &mut quarantined, &marker_path, &why)?;
            Ok(Resume::Compute { quarantined })
        }
    }
}

/// Moves one of the shard's own files (at the path the layout gives) to quarantine.
fn move_aside(
    layout: &DatasetLayout,
    id: &ShardId,
    quarantined: &mut Vec<String>,
    path: &std::path::Path,
    why: &str,
) -> Result<(), BuildError> {
    if std::fs::symlink_metadata(path).is_ok() {
        let to = quarantine(layout, path)?;
        eprintln!(
            "warning: {}: {why}; moved `{}` to `{}` and recomputing",
            id.label(),
            layout.relative(path),
            layout.relative(&to)
        );
        quarantined.push(layout.relative(path));
    }
    Ok(())
}
