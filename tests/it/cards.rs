//! The committed data cards in `data_cards/` are what `pixmo card --reference` writes from
//! the reference builds (each dataset's default spec at its `reference_count`), byte for
//! byte: the staleness check CI runs, like the JSON Schemas'. After an intended change,
//! `PIXMO_UPDATE_CARDS=1 cargo test -p pixmo-cli --test it cards` rewrites them.

use std::path::{Path, PathBuf};

use crate::common::{ok, pixmo};

fn committed() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data_cards")).to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn committed_data_cards_are_current() {
    let work = tempfile::tempdir().unwrap();
    let builds = work.path().join("out");
    let reference = |cards: &Path, check: bool| {
        let mut cmd = pixmo();
        cmd.args(["card", "--reference", "--out"])
            .arg(&builds)
            .arg("--cards-dir")
            .arg(cards);
        if check {
            cmd.arg("--check");
        }
        cmd.output().unwrap()
    };
    if std::env::var_os("PIXMO_UPDATE_CARDS").is_some() {
        ok(&reference(&committed(), false));
        return;
    }
    let checked = reference(&committed(), true);
    assert!(
        checked.status.success(),
        "the cards in data_cards/ are stale ({:?}):\n{}\nIf the change is intended, run \
         `PIXMO_UPDATE_CARDS=1 cargo test -p pixmo-cli --test it cards` and commit data_cards/",
        checked.status.code(),
        String::from_utf8_lossy(&checked.stderr)
    );

    // The check fails on a changed card and on a missing plot, naming the file and line
    // (the reference builds are resumed, not redone).
    let copy = work.path().join("cards");
    copy_dir(&committed(), &copy);
    let card = copy.join("clocks.md");
    let text = std::fs::read_to_string(&card).unwrap();
    std::fs::write(&card, text.replacen("## Statistics", "## Stats", 1)).unwrap();
    std::fs::remove_file(copy.join("docs/kinds.png")).unwrap();
    let stale = reference(&copy, true);
    let stderr = String::from_utf8_lossy(&stale.stderr);
    assert_eq!(stale.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("clocks.md differs (line")
            && stderr.contains("\"## Stats\" -> \"## Statistics\""),
        "{stderr}"
    );
    assert!(stderr.contains("kinds.png is missing"), "{stderr}");
    assert!(
        stderr.contains("hint: run `pixmo card --reference"),
        "{stderr}"
    );
}
