//! Golden images: a few fixed `(kind, seed)` pairs rendered at 1 px/pt and compared by pixel
//! hash with `tests/golden/hashes.txt`. `PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-typst
//! golden` rewrites the PNGs and hashes after an intended change (and bump `GENERATOR_VERSION`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use pixmo_gen_typst::{DocKind, GenerateOptions, RenderOptions, generate};
use sha2::{Digest, Sha256};

use crate::util::{decode_png, png_bytes};

const CASES: [(&str, DocKind, u64); 4] = [
    ("invoice_3", DocKind::Invoice, 3),
    ("data_table_5", DocKind::DataTable, 5),
    ("receipt_2", DocKind::Receipt, 2),
    ("menu_1", DocKind::Menu, 1),
];

fn options() -> GenerateOptions {
    GenerateOptions {
        render: RenderOptions {
            pixel_per_pt: 1.0,
            ..RenderOptions::default()
        },
    }
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
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

fn update() -> bool {
    std::env::var_os("PIXMO_UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn golden_images_match() {
    let hashes = read_hashes();
    let mut new_hashes = BTreeMap::new();
    let mut failures = Vec::new();
    for (name, kind, seed) in CASES {
        let s = generate(kind, seed, &options()).unwrap();
        let img = &s.image;
        let hash = hex(&Sha256::digest(&img.data));
        let png_path = golden_dir().join(format!("{name}.png"));
        if update() {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&png_path, png_bytes(img.width, img.height, &img.data)).unwrap();
        } else if hashes.get(name) != Some(&hash) {
            let actual = std::env::temp_dir().join(format!("pixmo-typst-golden-{name}.png"));
            std::fs::write(&actual, png_bytes(img.width, img.height, &img.data)).unwrap();
            failures.push(format!(
                "`{name}` changed: hash {hash}; actual image at {}",
                actual.display()
            ));
        }
        new_hashes.insert(name.to_owned(), hash);
    }
    if update() {
        let mut text = String::from(
            "# sha256 of the straight RGBA8 pixels of each golden image; regenerate with\n# PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-typst golden\n",
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
    if update() {
        return;
    }
    let hashes = read_hashes();
    assert_eq!(hashes.len(), CASES.len(), "hashes.txt is missing cases");
    for (name, hash) in hashes {
        let bytes = std::fs::read(golden_dir().join(format!("{name}.png"))).unwrap();
        assert!(bytes.len() < 150_000, "{name}.png is {} bytes", bytes.len());
        let (_, _, rgba) = decode_png(&bytes);
        assert_eq!(hex(&Sha256::digest(&rgba)), hash, "{name}.png");
    }
}
