//! Folders written whole or not at all (a trainer's checkpoint: weights, optimiser, state).

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::lease::{TMP_INFIX, process_token};
use crate::writer::{folder_of, sync_dir};

/// Writes the folder `dir` whole or not at all.
///
/// `write` fills a fresh folder beside `dir` (`.NAME.tmp-TOKEN`, this process's
/// [`process_token`]: host, PID, randomness); its files and the folder are
/// synced; then it takes the place of `dir`. Where `dir` exists, Linux swaps the two in one
/// step (`renameat2` with `RENAME_EXCHANGE`), so `dir` names the old contents or the new ones
/// at every instant, a crash included; the old contents, now under the temporary name, are
/// removed. Where the file system cannot swap (NFS), the old folder is moved aside
/// (`.NAME.old-TOKEN`), the new one renamed in and the old one removed (`dir` is briefly
/// absent, never half-written). When `write` or a sync fails the new folder is removed and
/// `dir` is left as it was. What writers killed part-way left beside `dir` is cleared first
/// ([`sweep_dead_writers`] of its parent).
///
/// # Errors
/// `write`'s error, or when the folder cannot be created, synced or renamed.
pub fn replace_dir<E: From<Error>>(
    dir: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::io(
                "name",
                dir,
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no folder"),
            )
        })?;
    let parent = folder_of(dir).to_path_buf();
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("create folder", &parent, e))?;
    sweep_dead_writers(&parent)?;
    let token = process_token();
    let tmp = parent.join(format!(".{name}{TMP_INFIX}{token}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(|e| Error::io("create folder", &tmp, e))?;
    let written = write(&tmp).and_then(|()| sync_files(&tmp).map_err(E::from));
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let placed = if dir.exists() {
        swap_in(
            &tmp,
            dir,
            &parent.join(format!(".{name}{OLD_INFIX}{token}")),
        )
    } else {
        std::fs::rename(&tmp, dir).map_err(|e| Error::io("rename into place", &tmp, e))
    };
    if let Err(e) = placed {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e.into());
    }
    // The renames themselves are entries of the parent folder.
    sync_dir(dir)?;
    Ok(())
}

/// Between a folder's name and its writer's token: the old contents moved aside.
const OLD_INFIX: &str = ".old-";

/// Clears what writers killed part-way (a crash, `SIGKILL`, a pre-empted job) left in
/// `parent` (the folder that holds the folders [`replace_dir`] writes, e.g. a run's
/// `checkpoints/`): their `.NAME.tmp-TOKEN` folders are removed, and a `.NAME.old-TOKEN`
/// folder is renamed back to `NAME` when that is absent (killed between the two renames of a
/// file system that cannot swap: the last whole version) or removed when it is there. Only
/// the folders of processes of this host that are no longer running are touched (by the host
/// and PID in the token); another host's, or a running writer's, are left alone. Returns how
/// many folders were cleared or restored.
///
/// # Errors
/// When a dead writer's folder cannot be removed or restored.
pub fn sweep_dead_writers(parent: &Path) -> Result<usize, Error> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Ok(0);
    };
    let mut found: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    for entry in entries.flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let Some(hidden) = entry_name.strip_prefix('.') else {
            continue;
        };
        // Tokens hold no dot: the last infix is the one.
        let at = |infix: &str| hidden.rfind(infix).map(|i| (i, infix.len()));
        let (at, old) = match (at(TMP_INFIX), at(OLD_INFIX)) {
            (Some(t), Some(o)) if o.0 > t.0 => (o, true),
            (Some(t), _) => (t, false),
            (None, Some(o)) => (o, true),
            (None, None) => continue,
        };
        let (name, token) = (&hidden[..at.0], &hidden[at.0 + at.1..]);
        if !name.is_empty() && dead_here(token) {
            found.push((entry.path(), old.then(|| parent.join(name))));
        }
    }
    // Restore before removing: the moved-aside folder may be the only whole version.
    found.sort_by_key(|(_, restore)| restore.is_none());
    let mut cleared = 0;
    for (path, restore) in found {
        let done = match restore {
            Some(dir) if !dir.exists() => {
                std::fs::rename(&path, &dir).map_err(|e| Error::io("restore", &path, e))
            }
            _ => std::fs::remove_dir_all(&path).map_err(|e| Error::io("remove", &path, e)),
        };
        match done {
            Ok(()) => cleared += 1,
            // Another process cleared it first.
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(cleared)
}

/// The writer named by `token` (`<host>-<pid>-<random>`) ran on this host and has ended.
fn dead_here(token: &str) -> bool {
    let mine = process_token();
    let host_of = |t: &str| t.split('-').next().map(str::to_owned);
    let mut parts = token.split('-');
    let (Some(_), Some(pid), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    host_of(token) == host_of(mine) && pid != std::process::id() && !running(pid)
}

/// Whether process `pid` of this host is running (or a zombie); `true` where it cannot be
/// told.
fn running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Puts the folder `new` in the place of the existing `dir` and removes what `dir` held.
fn swap_in(new: &Path, dir: &Path, aside: &Path) -> Result<(), Error> {
    match exchange(new, dir) {
        Ok(()) => {
            // `new` now holds the old contents.
            std::fs::remove_dir_all(new).map_err(|e| Error::io("remove", new, e))
        }
        Err(e) if swap_unsupported(&e) => {
            let _ = std::fs::remove_dir_all(aside);
            std::fs::rename(dir, aside).map_err(|e| Error::io("move aside", dir, e))?;
            std::fs::rename(new, dir).map_err(|e| Error::io("rename into place", new, e))?;
            std::fs::remove_dir_all(aside).map_err(|e| Error::io("remove", aside, e))
        }
        Err(e) => Err(Error::io("swap into place", new, e)),
    }
}

/// Swaps two existing paths atomically.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// The file system or kernel cannot swap (`EINVAL`, `ENOSYS`, `EOPNOTSUPP` on Linux).
fn swap_unsupported(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported || matches!(e.raw_os_error(), Some(22 | 38 | 95))
}

/// Syncs every file in `dir`, then `dir` itself.
fn sync_files(dir: &Path) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read folder", dir, e))?;
    for entry in entries {
        let path: PathBuf = entry.map_err(|e| Error::io("read folder", dir, e))?.path();
        if path.is_file() {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io("fsync", &path, e))?;
        }
    }
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("fsync folder", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(dir: &Path) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        all.sort();
        all
    }

    fn write_files<'a>(
        files: &'a [(&'a str, &'a str)],
    ) -> impl FnOnce(&Path) -> Result<(), Error> + 'a {
        move |tmp| {
            for (name, text) in files {
                let path = tmp.join(name);
                std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))?;
            }
            Ok(())
        }
    }

    fn leftovers(parent: &Path) -> Vec<String> {
        std::fs::read_dir(parent)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect()
    }

    #[test]
    fn a_new_folder_is_created_and_an_old_one_replaced_with_nothing_left_beside_it() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("ck/last");
        replace_dir(&dir, write_files(&[("a", "1"), ("b", "2")])).unwrap();
        assert_eq!(
            contents(&dir),
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        // The old folder's files that the new one lacks do not survive.
        replace_dir(&dir, write_files(&[("a", "3")])).unwrap();
        assert_eq!(contents(&dir), [("a".into(), "3".into())]);
        assert!(leftovers(&root.path().join("ck")).is_empty());
    }

    #[test]
    fn a_write_that_fails_leaves_the_old_folder_as_it_was() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("last");
        replace_dir(&dir, write_files(&[("a", "1")])).unwrap();
        let failed = replace_dir(&dir, |tmp| {
            std::fs::write(tmp.join("a"), "half").unwrap();
            Err(Error::io(
                "write",
                tmp.join("b"),
                std::io::Error::from_raw_os_error(28),
            ))
        });
        assert!(matches!(failed, Err(Error::DiskFull { .. })), "{failed:?}");
        assert_eq!(contents(&dir), [("a".into(), "1".into())]);
        assert!(leftovers(root.path()).is_empty());
    }

    /// A token of this host naming a process that has ended, and one of a running process.
    fn tokens() -> (String, String, std::process::Child) {
        let host = process_token().split('-').next().unwrap().to_string();
        let mut ended = std::process::Command::new("true").spawn().unwrap();
        ended.wait().unwrap();
        let live = std::process::Command::new("cat")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let dead = format!("{host}-{}-00000000000000aa", ended.id());
        let running = format!("{host}-{}-00000000000000bb", live.id());
        (dead, running, live)
    }

    #[test]
    fn what_killed_writers_left_is_cleared_and_a_live_or_foreign_writers_is_not() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("last");
        replace_dir(&dir, write_files(&[("a", "1")])).unwrap();
        let (dead, running, mut live) = tokens();
        let names = [
            format!(".last.tmp-{dead}"),
            format!(".last.old-{dead}"),
            format!(".step-3.tmp-{dead}"),
            format!(".last.tmp-{running}"),
            ".last.tmp-otherhost-1-00000000000000cc".to_string(),
            ".last.tmp-not-a-token".to_string(),
        ];
        for n in &names {
            std::fs::create_dir(root.path().join(n)).unwrap();
            std::fs::write(root.path().join(n).join("a"), "stale").unwrap();
        }
        // A file of that shape (a shard's temporary) is not a folder this writes.
        let file = format!(".part-0.parquet.tmp-{dead}");
        std::fs::write(root.path().join(&file), "x").unwrap();
        replace_dir(&dir, write_files(&[("a", "2")])).unwrap();
        let mut left = leftovers(root.path());
        left.sort();
        let mut kept = vec![names[3].clone(), names[4].clone(), names[5].clone(), file];
        kept.sort();
        assert_eq!(left, kept, "the dead writer's folders go, the rest stay");
        assert_eq!(contents(&dir), [("a".into(), "2".into())]);
        live.kill().unwrap();
        live.wait().unwrap();
    }

    /// Killed between the two renames (a file system that cannot swap), a writer leaves the
    /// last whole version moved aside and no folder in its place: it is put back.
    #[test]
    fn a_version_moved_aside_by_a_killed_writer_is_put_back() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("last");
        let (dead, _, mut live) = tokens();
        live.kill().unwrap();
        live.wait().unwrap();
        let aside = root.path().join(format!(".last.old-{dead}"));
        std::fs::create_dir(&aside).unwrap();
        std::fs::write(aside.join("a"), "whole").unwrap();
        let tmp = root.path().join(format!(".last.tmp-{dead}"));
        std::fs::create_dir(&tmp).unwrap();
        std::fs::write(tmp.join("a"), "new").unwrap();
        assert_eq!(sweep_dead_writers(root.path()).unwrap(), 2);
        assert_eq!(contents(&dir), [("a".into(), "whole".into())]);
        assert!(leftovers(root.path()).is_empty());
        assert_eq!(sweep_dead_writers(root.path()).unwrap(), 0);
    }

    /// Readers running beside the replacements always find the folder, whole: one of the
    /// versions written, never an absent or mixed one (with two renames a reader between
    /// them finds no folder).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_reader_beside_the_replacements_always_finds_one_whole_version() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("last");
        replace_dir(&dir, write_files(&[("a", "0"), ("b", "0")])).unwrap();
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let mut reads = 0u64;
                while !done.load(Ordering::Acquire) || reads == 0 {
                    // A version removed while being read is a race of the reader's own
                    // listing; the folder's name itself must always resolve.
                    let a = std::fs::read_to_string(dir.join("a"));
                    let a =
                        a.unwrap_or_else(|e| panic!("`last/a` absent after {reads} reads: {e}"));
                    if let Ok(b) = std::fs::read_to_string(dir.join("b")) {
                        let (x, y) = (a.parse::<u32>().unwrap(), b.parse::<u32>().unwrap());
                        assert!(y >= x, "b ({y}) older than a ({x}): a mixed version");
                    }
                    reads += 1;
                }
                reads
            });
            for v in 1..=300u32 {
                let v = v.to_string();
                replace_dir(&dir, write_files(&[("a", &v), ("b", &v)])).unwrap();
            }
            done.store(true, Ordering::Release);
            assert!(reader.join().unwrap() > 0);
        });
        assert_eq!(
            contents(&dir),
            [("a".into(), "300".into()), ("b".into(), "300".into())]
        );
    }
}
