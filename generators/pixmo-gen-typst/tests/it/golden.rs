//! Golden images: a few fixed `(kind, seed)` pairs rendered at 1 px/pt and compared by pixel
//! hash with `tests/golden/hashes.txt`. `PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-typst
//! golden` rewrites the PNGs and hashes after an intended change (and bump `GENERATOR_VERSION`).

use std::path::PathBuf;

use pixmo_gen_typst::{DocKind, GenerateOptions, RenderOptions, generate};
use pixmo_golden::{GoldenSet, check_committed_pngs};

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

#[test]
fn golden_images_match() {
    let mut golden = GoldenSet::open(golden_dir(), "pixmo-gen-typst");
    for (name, kind, seed) in CASES {
        let img = generate(kind, seed, &options()).unwrap().image;
        let context = format!("{} seed {seed}", kind.name());
        golden.check(name, &context, img.width, img.height, &img.data);
    }
    golden.finish();
}

/// The committed PNGs are the images the hashes describe.
#[test]
fn golden_pngs_match_their_hashes() {
    check_committed_pngs(&golden_dir(), CASES.len(), 150_000);
}
