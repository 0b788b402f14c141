//! Folders written whole or not at all (a trainer's checkpoint: weights, optimiser, state).

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::writer::folder_of;

/// Writes the folder `dir` whole or not at all.
///
/// `write` fills a fresh folder beside `dir` (`.NAME.tmp-PID`); its files and the folder are
/// synced; then it takes the place of `dir`. Where `dir` exists, Linux swaps the two in one
/// step (`renameat2` with `RENAME_EXCHANGE`), so `dir` names the old contents or the new ones
/// at every instant, a crash included; the old contents, now under the temporary name, are
/// removed. Where the file system cannot swap, the old folder is moved aside
/// (`.NAME.old-PID`), the new one renamed in and the old one removed (`dir` is briefly
/// absent, never half-written). When `write` or a sync fails the new folder is removed and
/// `dir` is left as it was.
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
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.tmp-{pid}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(|e| Error::io("create folder", &tmp, e))?;
    let written = write(&tmp).and_then(|()| sync_files(&tmp).map_err(E::from));
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let placed = if dir.exists() {
        swap_in(&tmp, dir, &parent.join(format!(".{name}.old-{pid}")))
    } else {
        std::fs::rename(&tmp, dir).map_err(|e| Error::io("rename into place", &tmp, e))
    };
    if let Err(e) = placed {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e.into());
    }
    // The renames themselves are entries of the parent folder.
    File::open(&parent)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("fsync folder", &parent, e))?;
    Ok(())
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
