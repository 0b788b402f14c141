//! Golden images: one figure per kind at a fixed seed, compared by pixel hash with
//! `tests/golden/hashes.txt`. `PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-docs golden`
//! rewrites the PNGs and hashes after an intended change (then bump `GENERATOR_VERSION`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use pixmo_gen_docs::{FigureKind, GenerateOptions, generate};
use sha2::{Digest, Sha256};

use crate::util::{decode_png, png_bytes};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn options() -> GenerateOptions {
    GenerateOptions {
        min_side: 200,
        max_side: 300,
    }
}

fn read_hashes() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(golden_dir().join("hashes.txt")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (hash, name) = l.split_once(char::is_whitespace)?;
            Some((name.trim().to_owned(), hash.to_owned()))
        })
        .collect()
}

fn updating() -> bool {
    std::env::var_os("PIXMO_UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

#[test]
fn golden_images_match() {
    let hashes = read_hashes();
    let mut new_hashes = BTreeMap::new();
    let mut failures = Vec::new();
    for kind in FigureKind::ALL {
        let sample = generate(kind, 42, &options()).unwrap();
        let img = &sample.image;
        let hash = hex::encode(Sha256::digest(&img.data));
        let name = kind.name();
        let png_path = golden_dir().join(format!("{name}.png"));
        if updating() {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&png_path, png_bytes(img.width, img.height, &img.data)).unwrap();
        } else if hashes.get(name) != Some(&hash) {
            let actual = std::env::temp_dir().join(format!("pixmo-docs-golden-{name}.png"));
            std::fs::write(&actual, png_bytes(img.width, img.height, &img.data)).unwrap();
            failures.push(format!(
                "`{name}` changed: hash {hash}; actual image at {}",
                actual.display()
            ));
        }
        new_hashes.insert(name.to_owned(), hash);
    }
    if updating() {
        let mut text = String::from(
            "# sha256 of the RGBA8 pixels of each golden image; regenerate with\n# PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-docs golden\n",
        );
        for (name, hash) in &new_hashes {
            text.push_str(&format!("{hash}  {name}\n"));
        }
        std::fs::write(golden_dir().join("hashes.txt"), text).unwrap();
        return;
    }
    assert!(
        failures.is_empty(),
        "{}\nIf the change is intended, bump GENERATOR_VERSION and run with PIXMO_UPDATE_GOLDEN=1",
        failures.join("\n")
    );
}

/// The committed PNGs are the images the hashes describe.
#[test]
fn golden_pngs_match_their_hashes() {
    if updating() {
        return;
    }
    let hashes = read_hashes();
    assert_eq!(
        hashes.len(),
        FigureKind::ALL.len(),
        "hashes.txt is missing kinds"
    );
    for (name, hash) in hashes {
        let bytes = std::fs::read(golden_dir().join(format!("{name}.png"))).unwrap();
        assert!(bytes.len() < 80_000, "{name}.png is {} bytes", bytes.len());
        assert_eq!(
            hex::encode(Sha256::digest(decode_png(&bytes))),
            hash,
            "{name}.png"
        );
    }
}

#[test]
fn same_seed_same_figure_and_other_seeds_differ() {
    for kind in FigureKind::ALL {
        let a = generate(kind, 5, &options()).unwrap();
        let b = generate(kind, 5, &options()).unwrap();
        let c = generate(kind, 6, &options()).unwrap();
        assert_eq!(a.image, b.image, "{kind:?}");
        assert_eq!(a.qa, b.qa, "{kind:?}");
        assert_eq!(a.code, b.code, "{kind:?}");
        assert_ne!(a.code, c.code, "{kind:?}");
    }
}
