//! Golden images: one figure per kind at a fixed seed, compared by pixel hash with
//! `tests/golden/hashes.txt`. `PIXMO_UPDATE_GOLDEN=1 cargo test -p pixmo-gen-docs golden`
//! rewrites the PNGs and hashes after an intended change (then bump `GENERATOR_VERSION`).

use std::path::PathBuf;

use pixmo_gen_docs::{FigureKind, GenerateOptions, generate};
use pixmo_golden::{GoldenSet, check_committed_pngs};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn options() -> GenerateOptions {
    GenerateOptions {
        min_side: 200,
        max_side: 300,
    }
}

#[test]
fn golden_images_match() {
    let mut golden = GoldenSet::open(golden_dir(), "pixmo-gen-docs");
    for kind in FigureKind::ALL {
        let img = generate(kind, 42, &options()).unwrap().image;
        golden.check(kind.name(), "seed 42", img.width, img.height, &img.data);
    }
    golden.finish();
}

/// The committed PNGs are the images the hashes describe.
#[test]
fn golden_pngs_match_their_hashes() {
    check_committed_pngs(&golden_dir(), FigureKind::ALL.len(), 80_000);
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
