//! Many workers on one directory: who owns a temporary file, and when it is provably stale.
//!
//! Every process that writes into a dataset holds a **lease**: a file
//! `.pixmo/leases/<token>.lease` locked (`flock`) for as long as the process lives. The token
//! (`<host>-<pid>-<random>`) is unique across hosts and container restarts (pods all have
//! PID 1; the random part tells two incarnations apart), and every temporary file the
//! process writes carries it: `.<name>.tmp-<token>`.
//!
//! A temporary file is **stale** only when its owner is provably dead: its lease file can
//! be locked by someone else (the kernel, or the NFS server's lock recovery, released the
//! dead owner's lock) or is gone. A live owner's lock is never taken, however old its files
//! are, so a starting worker never deletes the files of a worker that is still writing.
//! The lease is locked before it is renamed into place, so a visible lease is locked from its
//! first moment.
//!
//! Shared filesystems: Linux's NFS client implements `flock` with byte-range locks that the
//! server tracks and recovers, so the rule holds across hosts on NFSv4; Lustre and BeeGFS
//! need their `flock` mount option.

use std::fs::{File, TryLockError};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::layout::DatasetLayout;

/// The marker between a file's name and its owner's token in temporary names.
pub const TMP_INFIX: &str = ".tmp-";

/// This process's token: `<host>-<pid>-<16 hex digits of randomness>`.
#[must_use]
pub fn process_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "host".into());
        let host: String = host
            .trim()
            .chars()
            .take(48)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{host}-{}-{:016x}", std::process::id(), random_u64())
    })
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if let Ok(mut f) = File::open("/dev/urandom")
        && f.read_exact(&mut bytes).is_ok()
    {
        return u64::from_le_bytes(bytes);
    }
    // No /dev/urandom: mix the clock and an address; uniqueness, not secrecy, is needed.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let here = &raw const bytes as usize as u128;
    let mixed = nanos ^ (here << 17) ^ u128::from(std::process::id());
    pixmo_core::sha256_hex(&mixed.to_le_bytes())
        .get(..16)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or(0)
}

/// A fresh temporary name for `path`: `.<name>.tmp-<token>.<n>`, unique per call within
/// this process (threads never share one) and across processes and hosts (the token).
#[must_use]
pub fn tmp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}{TMP_INFIX}{}.{n}", process_token()))
}

/// The owner token of a temporary file name, if it is one. Tokens hold no `.`.
#[must_use]
pub fn tmp_owner(file_name: &str) -> Option<&str> {
    if !file_name.starts_with('.') {
        return None;
    }
    let at = file_name.rfind(TMP_INFIX)?;
    let rest = &file_name[at + TMP_INFIX.len()..];
    Some(rest.split('.').next().unwrap_or(rest))
}

/// This process's lease on a dataset directory; released (and its file removed) on drop.
#[derive(Debug)]
pub struct Lease {
    path: PathBuf,
    _file: File,
}

impl Lease {
    /// Takes this process's lease on the dataset. Call before writing any file into it.
    ///
    /// # Errors
    /// When the lease folder cannot be written or the filesystem refuses locks.
    pub fn acquire(layout: &DatasetLayout) -> Result<Lease> {
        let dir = layout.lease_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create folder", &dir, e))?;
        let path = dir.join(format!("{}.lease", process_token()));
        // Locked before it becomes visible under its final name.
        let pending = dir.join(format!("{}.lease.new", process_token()));
        let file = File::create(&pending).map_err(|e| Error::io("create", &pending, e))?;
        file.lock().map_err(|e| Error::io("lock", &pending, e))?;
        std::fs::rename(&pending, &path).map_err(|e| Error::io("rename", &pending, e))?;
        Ok(Lease { path, _file: file })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the owner of `token` is provably dead. When it is, the returned file holds its
/// lease lock (so no one else decides concurrently) until dropped.
enum Owner {
    Alive,
    Dead(Option<File>),
}

fn owner_state(layout: &DatasetLayout, token: &str) -> Owner {
    if token == process_token() {
        return Owner::Alive;
    }
    let path = layout.lease_dir().join(format!("{token}.lease"));
    match File::open(&path) {
        Ok(file) => match file.try_lock() {
            Ok(()) => Owner::Dead(Some(file)),
            Err(TryLockError::WouldBlock) => Owner::Alive,
            // A filesystem without locks: nothing is provably dead.
            Err(TryLockError::Error(_)) => Owner::Alive,
        },
        // A lease is created before its owner's first temporary file and removed only
        // after the owner exits or is found dead: no lease, no live owner.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Owner::Dead(None),
        Err(_) => Owner::Alive,
    }
}

/// What a sweep removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Temporary files of dead owners removed.
    pub temporaries: usize,
    /// Leases of dead owners removed.
    pub leases: usize,
    /// Temporary files left because their owner is alive.
    pub kept: usize,
}

/// Removes the temporary files of dead owners under the dataset root, and their leases.
/// Never follows symbolic links and never touches a live owner's files.
///
/// # Errors
/// On I/O failure while listing or removing.
pub fn sweep_dead_temporaries(layout: &DatasetLayout) -> Result<Sweep> {
    let mut sweep = Sweep::default();
    let mut dead_leases: Vec<(String, Option<File>)> = Vec::new();
    let mut temps: Vec<(PathBuf, String)> = Vec::new();
    collect_temporaries(&layout.root, &layout.quarantine_dir(), &mut temps)?;
    for (path, token) in temps {
        let dead = if dead_leases.iter().any(|(t, _)| *t == token) {
            true
        } else {
            match owner_state(layout, &token) {
                Owner::Alive => false,
                Owner::Dead(lock) => {
                    dead_leases.push((token.clone(), lock));
                    true
                }
            }
        };
        if dead {
            match std::fs::remove_file(&path) {
                Ok(()) => sweep.temporaries += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", &path, e)),
            }
        } else {
            sweep.kept += 1;
        }
    }
    // Leases whose owners died without leaving temporaries.
    if let Ok(entries) = std::fs::read_dir(layout.lease_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(token) = name.strip_suffix(".lease")
                && !dead_leases.iter().any(|(t, _)| t == token)
                && let Owner::Dead(lock) = owner_state(layout, token)
            {
                dead_leases.push((token.to_string(), lock));
            }
        }
    }
    for (token, lock) in dead_leases {
        if lock.is_some() {
            let path = layout.lease_dir().join(format!("{token}.lease"));
            if std::fs::remove_file(&path).is_ok() {
                sweep.leases += 1;
            }
        }
        drop(lock);
    }
    Ok(sweep)
}

fn collect_temporaries(dir: &Path, skip: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // `DirEntry::file_type` does not follow links: a link is neither a dir nor a file.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if path != skip {
                collect_temporaries(&path, skip, out)?;
            }
        } else if kind.is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(token) = tmp_owner(&name) {
                out.push((path, token.to_string()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_temporaries() {
        let t = tmp_path(Path::new("/x/train/part-00000-00001.parquet"));
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(tmp_owner(&name), Some(process_token()));
        assert_ne!(t, tmp_path(Path::new("/x/train/part-00000-00001.parquet")));
        assert!(!process_token().contains('.'));
        assert!(process_token().contains(&format!("-{}-", std::process::id())));
        assert_eq!(tmp_owner("part-00000.parquet"), None);
    }

    #[test]
    fn a_live_lease_protects_its_files_and_a_dead_one_does_not() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = DatasetLayout::new(tmp.path(), "clocks");
        let lease_dir = layout.lease_dir();
        std::fs::create_dir_all(&lease_dir).unwrap();
        std::fs::create_dir_all(layout.root.join("train")).unwrap();
        // A live owner: its lease is locked by an open file description.
        let live = File::create(lease_dir.join("hostA-1-aaaa.lease")).unwrap();
        live.lock().unwrap();
        std::fs::write(layout.root.join("train/.p0.parquet.tmp-hostA-1-aaaa"), b"x").unwrap();
        // A dead owner: lease present, unlocked.
        std::fs::write(lease_dir.join("hostB-1-bbbb.lease"), b"").unwrap();
        std::fs::write(layout.root.join("train/.p1.parquet.tmp-hostB-1-bbbb"), b"x").unwrap();
        // An owner whose lease is gone.
        std::fs::write(layout.root.join("train/.p2.parquet.tmp-hostC-1-cccc"), b"x").unwrap();
        // A symlink to a temp-looking file outside the root is never followed or removed.
        let outside = tmp.path().join(".victim.tmp-hostD-1-dddd");
        std::fs::write(&outside, b"keep").unwrap();
        std::os::unix::fs::symlink(tmp.path(), layout.root.join("train/link")).unwrap();
        let sweep = sweep_dead_temporaries(&layout).unwrap();
        assert_eq!(sweep.temporaries, 2, "{sweep:?}");
        assert_eq!(sweep.kept, 1);
        assert_eq!(sweep.leases, 1);
        assert!(
            layout
                .root
                .join("train/.p0.parquet.tmp-hostA-1-aaaa")
                .exists()
        );
        assert!(lease_dir.join("hostA-1-aaaa.lease").exists());
        assert!(!lease_dir.join("hostB-1-bbbb.lease").exists());
        assert!(outside.exists());
        drop(live);
        // Once the owner is gone, its file goes too.
        let sweep = sweep_dead_temporaries(&layout).unwrap();
        assert_eq!(sweep.temporaries, 1);
    }

    #[test]
    fn own_lease_is_alive_and_removed_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = DatasetLayout::new(tmp.path(), "clocks");
        let lease = Lease::acquire(&layout).unwrap();
        let mine = tmp_path(&layout.root.join("x.parquet"));
        std::fs::write(&mine, b"x").unwrap();
        assert_eq!(sweep_dead_temporaries(&layout).unwrap().temporaries, 0);
        assert!(mine.exists());
        let path = lease.path.clone();
        drop(lease);
        assert!(!path.exists());
    }
}
