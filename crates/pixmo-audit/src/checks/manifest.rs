//! `manifest` and `row_counts`: the manifest, the commit markers and the files agree.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use datafusion::prelude::SessionContext;
use pixmo_shards::ShardMarker;
use sha2::{Digest, Sha256};

use super::{collect, could_not_run, parallel_map, strings, threads, u64_values};
use crate::inputs::{DatasetInputs, file_name, sorted_entries};
use crate::report::Check;

/// Markers equal apart from `seconds`, which may not survive a JSON round trip bit for bit.
fn same_marker(a: &ShardMarker, b: &ShardMarker) -> bool {
    let mut b = b.clone();
    if (a.seconds - b.seconds).abs() <= 1e-6 * a.seconds.abs().max(1.0) {
        b.seconds = a.seconds;
    }
    *a == b
}

/// Checks manifest.json against the markers and run, and every file against its marker
/// (size and a fresh SHA-256), and looks for stray Parquet files.
pub(crate) fn manifest(inputs: &DatasetInputs) -> Check {
    const NAME: &str = "manifest";
    let mut problems: Vec<String> = inputs
        .bad_markers
        .iter()
        .map(|e| format!("unreadable marker: {e}"))
        .collect();
    let on_disk: BTreeMap<(&str, u32, u32), &ShardMarker> = inputs
        .markers
        .iter()
        .flat_map(|(split, list)| {
            list.iter()
                .map(move |m| ((split.as_str(), m.generation, m.shard_index), m))
        })
        .collect();
    match &inputs.manifest {
        Err(problem) => problems.push(problem.clone()),
        Ok(manifest) => {
            if manifest.run != inputs.run {
                problems.push(
                    "manifest.json was written for another state of the run (run.json differs); re-run `pixmo finalize`"
                        .into(),
                );
            }
            let mut listed = BTreeSet::new();
            for (split, m) in &manifest.splits {
                let rows: u64 = m.shards.iter().map(|s| s.rows).sum();
                let rejects: u64 = m.shards.iter().map(|s| s.rejects).sum();
                if rows != m.rows || rejects != m.rejects {
                    problems.push(format!(
                        "manifest split `{split}` says {} rows and {} rejects, its shards add up to {rows} and {rejects}",
                        m.rows, m.rejects
                    ));
                }
                for shard in &m.shards {
                    listed.insert((split.as_str(), shard.generation, shard.shard_index));
                    match on_disk.get(&(split.as_str(), shard.generation, shard.shard_index)) {
                        None => problems.push(format!(
                            "`{split}` shard {} is in manifest.json but has no commit marker",
                            shard.id().stem()
                        )),
                        Some(marker) if !same_marker(marker, shard) => problems.push(format!(
                            "the commit marker of `{split}` shard {} differs from manifest.json",
                            shard.id().stem()
                        )),
                        Some(_) => {}
                    }
                }
                let run_shards: Vec<_> = inputs
                    .run
                    .shards()
                    .into_iter()
                    .filter(|s| &s.split == split)
                    .collect();
                let want = run_shards.len();
                let missing = run_shards
                    .iter()
                    .filter(|id| {
                        !m.shards
                            .iter()
                            .any(|s| s.generation == id.generation && s.shard_index == id.index)
                    })
                    .count();
                if missing > 0 {
                    problems.push(format!(
                        "manifest split `{split}` lacks {missing} of the run's {want} shards"
                    ));
                }
            }
            let total_rows: u64 = manifest.splits.values().map(|s| s.rows).sum();
            let total_rejects: u64 = manifest.splits.values().map(|s| s.rejects).sum();
            if total_rows != manifest.total_rows || total_rejects != manifest.total_rejects {
                problems.push(format!(
                    "manifest totals ({} rows, {} rejects) are not the sum of its splits ({total_rows}, {total_rejects})",
                    manifest.total_rows, manifest.total_rejects
                ));
            }
            for split in inputs.run.counts.keys() {
                if !manifest.splits.contains_key(split) {
                    problems.push(format!(
                        "split `{split}` of the run is not in manifest.json"
                    ));
                }
            }
            for (split, generation, index) in on_disk.keys() {
                if !listed.contains(&(*split, *generation, *index)) {
                    problems.push(format!(
                        "committed `{split}` shard part-{generation:05}-{index:05} is not in manifest.json"
                    ));
                }
            }
        }
    }
    let run = &inputs.run.identity;
    for marker in on_disk.values() {
        if marker.dataset != run.dataset
            || marker.seed != run.seed
            || marker.config_hash != run.config_hash
            || marker.run_id != run.run_id
        {
            problems.push(format!(
                "`{}` shard {} belongs to another run (dataset, seed, config hash or run id differ from run.json)",
                marker.split,
                marker.id().stem()
            ));
        }
    }
    let shards: Vec<ShardMarker> = inputs.all_shards().into_values().flatten().collect();
    let root = inputs.root();
    let results = parallel_map(&shards, threads(), |m| verify_files(root, m));
    let mut hashed = 0u64;
    for result in results {
        match result {
            Ok(bytes) => hashed += bytes,
            Err(mut list) => problems.append(&mut list),
        }
    }
    match stray_files(inputs, &shards) {
        Ok(mut list) => problems.append(&mut list),
        Err(e) => return could_not_run(NAME, &e),
    }
    let splits = shards
        .iter()
        .map(|m| &m.split)
        .collect::<BTreeSet<_>>()
        .len();
    Check::from_problems(
        NAME,
        format!(
            "{} shards in {splits} splits match manifest.json and their commit markers; {hashed} bytes re-hashed; no stray files",
            shards.len()
        ),
        &problems,
    )
}

/// Re-hashes a shard's data and rejects files; returns the bytes read.
fn verify_files(root: &Path, marker: &ShardMarker) -> Result<u64, Vec<String>> {
    let mut problems = Vec::new();
    let mut read = 0;
    let files = [
        (&marker.file, Some(marker.bytes), &marker.sha256),
        (&marker.rejects_file, None, &marker.rejects_sha256),
    ];
    for (file, bytes, sha256) in files {
        match hash_file(&root.join(file)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(format!("`{file}` is missing"));
            }
            Err(e) => problems.push(format!("could not read `{file}`: {e}")),
            Ok((size, have)) => {
                read += size;
                if let Some(want) = bytes.filter(|want| *want != size) {
                    problems.push(format!("`{file}` is {size} bytes, its marker says {want}"));
                } else if have != *sha256 {
                    problems.push(format!(
                        "`{file}` has sha256 {have}, its marker says {sha256}"
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(read)
    } else {
        Err(problems)
    }
}

/// Size and lowercase hex SHA-256 of a file, read in blocks.
fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// `*.parquet` files in the dataset root and its visible sub-folders that no shard names:
/// Hugging Face loaders would read them.
fn stray_files(
    inputs: &DatasetInputs,
    shards: &[ShardMarker],
) -> crate::error::Result<Vec<String>> {
    let known: BTreeSet<&str> = shards.iter().map(|m| m.file.as_str()).collect();
    let root = inputs.root();
    let mut stray = Vec::new();
    let mut candidates = Vec::new();
    for entry in sorted_entries(root)? {
        let name = file_name(&entry);
        if name.starts_with('.') {
            continue;
        }
        if entry.is_dir() {
            for inner in sorted_entries(&entry)? {
                candidates.push(format!("{name}/{}", file_name(&inner)));
            }
        } else {
            candidates.push(name);
        }
    }
    for rel in candidates {
        if rel.ends_with(".parquet") && !known.contains(rel.as_str()) {
            stray.push(format!("stray file `{rel}` is not part of the run"));
        }
    }
    Ok(stray)
}

/// Rows and rejects in each file's footer equal its marker; DataFusion's per-split counts
/// equal the markers' sums. Returns the check and the counted rows and rejects.
pub(crate) async fn row_counts(ctx: &SessionContext, inputs: &DatasetInputs) -> (Check, u64, u64) {
    const NAME: &str = "row_counts";
    let shards = inputs.readable_shards();
    let mut problems = Vec::new();
    let flat: Vec<&ShardMarker> = shards.values().flatten().collect();
    let root = inputs.root();
    let footers = parallel_map(&flat, threads(), |m| {
        let rows = pixmo_shards::read_rows_meta(&root.join(&m.file)).map(|(n, _)| n);
        let rejects_path = root.join(&m.rejects_file);
        let rejects = if rejects_path.is_file() {
            pixmo_shards::read_rows_meta(&rejects_path).map(|(n, _)| Some(n))
        } else {
            Ok(None)
        };
        (rows, rejects)
    });
    for (marker, (rows, rejects)) in flat.iter().zip(footers) {
        match rows {
            Ok(n) if n != marker.rows => problems.push(format!(
                "`{}` holds {n} rows, its marker says {}",
                marker.file, marker.rows
            )),
            Ok(_) => {}
            Err(e) => problems.push(crate::error::chain(&e)),
        }
        match rejects {
            Ok(Some(n)) if n != marker.rejects => problems.push(format!(
                "`{}` holds {n} rejects, its marker says {}",
                marker.rejects_file, marker.rejects
            )),
            Ok(_) => {}
            Err(e) => problems.push(crate::error::chain(&e)),
        }
    }
    let counted = async {
        let rows = split_counts(ctx, "rows").await?;
        let rejects = split_counts(ctx, "rejects").await?;
        Ok::<_, datafusion::error::DataFusionError>((rows, rejects))
    }
    .await;
    let (rows, rejects) = match counted {
        Ok(counts) => counts,
        Err(e) => return (could_not_run(NAME, &e), 0, 0),
    };
    for (split, list) in &shards {
        let want_rows: u64 = list.iter().map(|m| m.rows).sum();
        let want_rejects: u64 = list.iter().map(|m| m.rejects).sum();
        let have_rows = rows.get(split).copied().unwrap_or(0);
        let have_rejects = rejects.get(split).copied().unwrap_or(0);
        if have_rows != want_rows {
            problems.push(format!(
                "split `{split}` has {have_rows} rows, its markers say {want_rows}"
            ));
        }
        if have_rejects != want_rejects {
            problems.push(format!(
                "split `{split}` has {have_rejects} rejects, its markers say {want_rejects}"
            ));
        }
        if let Ok(manifest) = &inputs.manifest
            && let Some(m) = manifest.splits.get(split)
            && (m.rows != have_rows || m.rejects != have_rejects)
        {
            problems.push(format!(
                "split `{split}` has {have_rows} rows and {have_rejects} rejects, manifest.json says {} and {}",
                m.rows, m.rejects
            ));
        }
    }
    for split in rejects.keys() {
        if !shards.contains_key(split) {
            problems.push(format!("rejects name unknown split `{split}`"));
        }
    }
    let total_rows = rows.values().sum();
    let total_rejects = rejects.values().sum();
    let summary: Vec<String> = shards
        .keys()
        .map(|split| {
            format!(
                "{split} {} rows + {} rejects",
                rows.get(split).copied().unwrap_or(0),
                rejects.get(split).copied().unwrap_or(0)
            )
        })
        .collect();
    let ok = format!(
        "counts match the markers and manifest: {}",
        summary.join(", ")
    );
    (
        Check::from_problems(NAME, ok, &problems),
        total_rows,
        total_rejects,
    )
}

/// `SELECT split, count(*) FROM <table> GROUP BY split`.
async fn split_counts(
    ctx: &SessionContext,
    table: &str,
) -> Result<BTreeMap<String, u64>, datafusion::error::DataFusionError> {
    let batches = collect(
        ctx,
        &format!("SELECT split, count(*) AS n FROM {table} GROUP BY split"),
    )
    .await?;
    let mut counts = BTreeMap::new();
    for batch in batches {
        let splits = strings(batch.column(0))?;
        let splits = datafusion::arrow::array::AsArray::as_string::<i32>(&splits);
        let n = u64_values(batch.column(1))?;
        for (i, n) in n.into_iter().enumerate() {
            counts.insert(splits.value(i).to_string(), n);
        }
    }
    Ok(counts)
}
