//! Dial boxes a chain of locators found, kept on disk (`probe --box-cache DIR`).
//!
//! Locating every training clock through a chain of locators costs a probe run minutes to
//! tens of minutes on a CPU before its first step, and the same boxes are found again by
//! every run over those clocks with those locators. The boxes depend only on the images, the
//! locators' saved files and the model config (a locator sees its crops unturned, without
//! jitter or centre crop), so each link of a chain is keyed by a hash of exactly those: the
//! key of the images ([`images_key`]), then for each locator in turn the previous key, the
//! model config and the locator's files ([`link_key`]). A retrained locator, one changed
//! image, another clock or another order of locators is another key; nothing is ever looked
//! up by path or date.
//!
//! A file is written whole to a temporary name and renamed into place, so runs sharing the
//! folder at once never read half a file; its last line counts its boxes, so a file cut
//! short is not taken for a whole one. A file that cannot be used is reported and the boxes
//! are found again.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::data::Example;
use crate::error::{Error, Result};
use crate::probe::PixelBox;

/// What the key of the boxes is made of; bump when a locator's input changes meaning.
const VERSION: &str = "pixmo-trainer dial boxes 1";

/// The files of a saved probe that decide what it finds.
const PROBE_FILES: [&str; 2] = ["probe.json", "probe.mpk"];

/// The key of a set of clocks: each one's id and a hash of its image bytes, in order.
#[must_use]
pub fn images_key(examples: &[Example]) -> String {
    let mut all = String::with_capacity(examples.len() * 96);
    let _ = writeln!(all, "{VERSION}");
    for e in examples {
        let _ = writeln!(all, "{}\t{}", e.id, pixmo_core::sha256_hex(&e.image));
    }
    pixmo_core::sha256_hex(all.as_bytes())
}

/// The key of the boxes the locator saved in `locator` finds on the clocks of `previous`
/// (an [`images_key`] for whole images, else the key of the boxes it sees the crops of),
/// for a model of `config`.
///
/// # Errors
/// [`Error::Io`] when one of the locator's files cannot be read.
pub fn link_key(previous: &str, config: &ModelConfig, locator: &Path) -> Result<String> {
    let mut all = format!(
        "{VERSION}\n{previous}\n{}\n",
        pixmo_core::canonical_json(config)
    );
    for name in PROBE_FILES {
        let path = locator.join(name);
        let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let _ = writeln!(all, "{name}\t{}", pixmo_core::sha256_hex(&bytes));
    }
    Ok(pixmo_core::sha256_hex(all.as_bytes()))
}

/// One clock's box in a cache file.
#[derive(Serialize, Deserialize)]
struct Line {
    id: String,
    #[serde(rename = "box")]
    dial: PixelBox,
}

/// A cache file's last line: how many boxes it holds (a clock the locator did not see, its
/// time or image unreadable, has none), so a file cut short is not taken for a whole one.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    boxes: usize,
}

/// What a look-up found.
#[derive(Debug)]
pub enum Lookup {
    /// Every clock's box.
    Hit(HashMap<String, PixelBox>),
    /// No file under that key.
    Miss,
    /// A file that cannot be used, and why (the boxes are found again and the file replaced).
    Unusable(String),
}

/// A folder of dial boxes by key.
#[derive(Clone, Debug)]
pub struct BoxCache {
    dir: PathBuf,
}

impl BoxCache {
    /// The cache in `dir`, created if missing.
    ///
    /// # Errors
    /// [`Error::Io`] when the folder cannot be created.
    pub fn open(dir: &Path) -> Result<BoxCache> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        Ok(BoxCache {
            dir: dir.to_path_buf(),
        })
    }

    /// The file of the boxes under `key`.
    #[must_use]
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("boxes-{key}.jsonl"))
    }

    /// The boxes under `key`, when a whole file is there and each of its boxes is for one of
    /// `ids` (the clocks the key was made from).
    #[must_use]
    pub fn load<'a>(&self, key: &str, ids: impl IntoIterator<Item = &'a str>) -> Lookup {
        let path = self.path(key);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Miss,
            Err(e) => return Lookup::Unusable(format!("cannot read it: {e}")),
        };
        let mut lines: Vec<&str> = text.lines().collect();
        let Some(Ok(End { boxes: count })) = lines.pop().map(serde_json::from_str::<End>) else {
            return Lookup::Unusable("it has no end line: it was cut short".into());
        };
        if count != lines.len() {
            return Lookup::Unusable(format!(
                "its end line counts {count} boxes, it holds {}",
                lines.len()
            ));
        }
        let mut boxes = HashMap::new();
        for (n, line) in lines.iter().enumerate() {
            match serde_json::from_str::<Line>(line) {
                Ok(Line { id, dial }) if dial.iter().all(|v| v.is_finite()) => {
                    boxes.insert(id, dial);
                }
                Ok(Line { id, .. }) => {
                    return Lookup::Unusable(format!(
                        "line {} gives `{id}` a box that is not finite",
                        n + 1
                    ));
                }
                Err(e) => return Lookup::Unusable(format!("line {}: {e}", n + 1)),
            }
        }
        let known: std::collections::HashSet<&str> = ids.into_iter().collect();
        if let Some(id) = boxes.keys().find(|id| !known.contains(id.as_str())) {
            return Lookup::Unusable(format!("it has a box for `{id}`, not one of these clocks"));
        }
        Lookup::Hit(boxes)
    }

    /// Keeps `boxes` under `key` (sorted by id), replacing any file there.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn store(&self, key: &str, boxes: &HashMap<String, PixelBox>) -> Result<()> {
        let path = self.path(key);
        let mut ids: Vec<&String> = boxes.keys().collect();
        ids.sort();
        let mut text = Vec::with_capacity(boxes.len() * 80);
        for id in ids {
            let line = Line {
                id: id.clone(),
                dial: boxes[id],
            };
            serde_json::to_writer(&mut text, &line)
                .map_err(|e| Error::io("write", &path, std::io::Error::other(e.to_string())))?;
            text.push(b'\n');
        }
        serde_json::to_writer(&mut text, &End { boxes: boxes.len() })
            .map_err(|e| Error::io("write", &path, std::io::Error::other(e.to_string())))?;
        text.push(b'\n');
        // A name of this process and write, so runs (or threads) writing the same key at
        // once each rename a whole file of their own into place.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let tmp = self.dir.join(format!(
            ".boxes-{key}.{}.{}.tmp",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&text)?;
            file.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io("write", &tmp, e));
        }
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io("rename into", &path, e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::EvalTarget;
    use pixmo_annotation_schema::Dataset;

    fn clock(id: &str, image: &[u8]) -> Example {
        Example {
            id: id.into(),
            dataset: Dataset::Clocks,
            image: image.to_vec(),
            tasks: Vec::new(),
            transcripts: Vec::new(),
            target: EvalTarget::None,
        }
    }

    fn locator(dir: &Path, weights: &[u8]) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("probe.json"), b"{\"what\":\"locator\"}").unwrap();
        std::fs::write(dir.join("probe.mpk"), weights).unwrap();
    }

    #[test]
    fn a_key_changes_with_any_image_id_order_locator_or_model_and_with_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let clocks = vec![clock("a", b"png a"), clock("b", b"png b")];
        let key = images_key(&clocks);
        assert_eq!(
            key,
            images_key(&clocks.clone()),
            "the same clocks, the same key"
        );
        let mut one_byte = clocks.clone();
        one_byte[1].image[4] ^= 1;
        let mut renamed = clocks.clone();
        renamed[0].id = "c".into();
        let reversed: Vec<Example> = clocks.iter().rev().cloned().collect();
        for (other, what) in [
            (&one_byte, "an image"),
            (&renamed, "an id"),
            (&reversed, "the order"),
            (&clocks[..1].to_vec(), "a clock fewer"),
        ] {
            assert_ne!(images_key(other), key, "{what} changed, the key did not");
        }
        let small = ModelConfig::preset("tiny").unwrap();
        let (loc, other) = (dir.path().join("loc"), dir.path().join("other"));
        locator(&loc, b"weights");
        locator(&other, b"weights");
        let link = link_key(&key, &small, &loc).unwrap();
        assert_eq!(
            link,
            link_key(&key, &small, &other).unwrap(),
            "the same files in another folder are the same locator"
        );
        assert_ne!(link, key);
        locator(&other, b"weightz");
        assert_ne!(link, link_key(&key, &small, &other).unwrap(), "retrained");
        assert_ne!(
            link,
            link_key(&images_key(&one_byte), &small, &loc).unwrap()
        );
        let mut wider = small.clone();
        wider.vision.max_crops += 1;
        assert_ne!(link, link_key(&key, &wider, &loc).unwrap(), "another model");
        // A chain: the second link hangs on the first.
        assert_ne!(
            link_key(&link, &small, &loc).unwrap(),
            link,
            "a locator after itself is another link"
        );
        std::fs::remove_file(loc.join("probe.mpk")).unwrap();
        assert!(matches!(
            link_key(&key, &small, &loc),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn writers_racing_on_one_key_never_show_a_reader_half_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BoxCache::open(dir.path()).unwrap();
        let boxes: HashMap<String, PixelBox> = (0..3000u16)
            .map(|i| {
                (
                    format!("clock-{i}"),
                    [f32::from(i), 0.5, f32::from(i) + 9.0, 40.25],
                )
            })
            .collect();
        let ids: Vec<&str> = boxes.keys().map(String::as_str).collect();
        let mut hits = 0;
        std::thread::scope(|s| {
            let writers: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        for _ in 0..15 {
                            cache.store("race", &boxes).unwrap();
                        }
                    })
                })
                .collect();
            // Read for as long as any writer writes.
            while !writers
                .iter()
                .all(std::thread::ScopedJoinHandle::is_finished)
            {
                match cache.load("race", ids.iter().copied()) {
                    Lookup::Hit(back) => {
                        assert_eq!(back, boxes);
                        hits += 1;
                    }
                    Lookup::Miss => {}
                    Lookup::Unusable(why) => panic!("a reader saw a file being written: {why}"),
                }
            }
        });
        assert!(hits > 0, "no look-up while the writers wrote was a hit");
        assert!(matches!(
            cache.load("race", ids.iter().copied()),
            Lookup::Hit(_)
        ));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["boxes-race.jsonl"], "no temporary file left");
    }

    #[test]
    fn boxes_come_back_exactly_and_a_bad_file_is_reported_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BoxCache::open(&dir.path().join("cache")).unwrap();
        let mut rng = crate::rng::Rng::new(7);
        #[allow(clippy::cast_possible_truncation)]
        let mut draw = || ((rng.unit() - 0.3) * 1000.0) as f32 / 3.0;
        let boxes: HashMap<String, PixelBox> = (0..2000)
            .map(|i| (format!("clock-{i}"), [draw(), draw(), draw(), draw()]))
            .collect();
        let ids = || boxes.keys().map(String::as_str);
        assert!(matches!(cache.load("k1", ids()), Lookup::Miss));
        cache.store("k1", &boxes).unwrap();
        let Lookup::Hit(back) = cache.load("k1", ids()) else {
            panic!("a stored key is a hit");
        };
        // Bit for bit: a run reading the cache sees what a run locating sees.
        assert_eq!(back.len(), boxes.len());
        for (id, b) in &boxes {
            let got = back[id];
            assert!(
                got.iter().zip(b).all(|(g, w)| g.to_bits() == w.to_bits()),
                "{id}: {got:?} against {b:?}"
            );
        }
        assert!(
            matches!(cache.load("k2", ids()), Lookup::Miss),
            "another key"
        );
        // No temporary file left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("cache"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["boxes-k1.jsonl"]);
        // Clocks the locator saw no box for (an unreadable time or image) have none: still
        // a whole file.
        let fewer: HashMap<String, PixelBox> = boxes
            .iter()
            .filter(|(id, _)| !id.ends_with('7'))
            .map(|(id, b)| (id.clone(), *b))
            .collect();
        cache.store("k3", &fewer).unwrap();
        let Lookup::Hit(back) = cache.load("k3", ids()) else {
            panic!("boxes for some of the clocks are a hit");
        };
        assert_eq!(back.len(), fewer.len());
        assert!(fewer.len() < boxes.len());
        // A box for a clock that is not one of these, a cut file, a box that is not a
        // number: reported.
        let Lookup::Unusable(why) = cache.load("k1", ids().filter(|id| *id != "clock-5")) else {
            panic!("a box for another clock is not a hit");
        };
        assert!(why.contains("clock-5"), "{why}");
        let path = cache.path("k1");
        let text = std::fs::read_to_string(&path).unwrap();
        let cut = text[..text.len() / 2].rfind('\n').unwrap() + 1;
        std::fs::write(&path, &text[..cut]).unwrap();
        let Lookup::Unusable(why) = cache.load("k1", ids()) else {
            panic!("a file cut at a line's end is not a hit");
        };
        assert!(why.contains("cut short"), "{why}");
        let head: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, format!("{head}{{\"boxes\":4}}\n")).unwrap();
        let Lookup::Unusable(why) = cache.load("k1", ids()) else {
            panic!("an end line that miscounts is not a hit");
        };
        assert!(why.contains("counts 4 boxes, it holds 3"), "{why}");
        std::fs::write(
            &path,
            "{\"id\":\"x\",\"box\":[1,2,3,1e39]}\n{\"boxes\":1}\n",
        )
        .unwrap();
        let Lookup::Unusable(why) = cache.load("k1", ["x"]) else {
            panic!("an infinite box is not a hit");
        };
        assert!(why.contains("not finite"), "{why}");
        // Stored again, the file is whole again.
        cache.store("k1", &boxes).unwrap();
        assert!(matches!(cache.load("k1", ids()), Lookup::Hit(_)));
    }
}
