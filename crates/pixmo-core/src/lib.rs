//! Small, dependency-light building blocks shared by the engine, generators and pipelines:
//! deterministic seeds and RNG, content hashing, the in-memory image type and the code
//! version stamped into provenance.

pub mod byte_level;
pub mod error;
pub mod hash;
pub mod image;
pub mod parallel;
pub mod rng;
pub mod seed;
pub mod time;

pub use error::error_chain;
pub use hash::{canonical_json, sha256_hex};
pub use image::{RgbaImage, dhash, hamming};
pub use rng::Rng;
pub use seed::SeedKey;
pub use time::parse_as_of;

/// Version of the pixmo code, written into every row's provenance and every shard marker.
/// `PIXMO_GIT_REV` (set by the build environment, for example CI) is appended when present.
#[must_use]
pub fn code_version() -> String {
    let base = concat!("pixmo ", env!("CARGO_PKG_VERSION"));
    match option_env!("PIXMO_GIT_REV") {
        Some(rev) if !rev.is_empty() => format!("{base}+{rev}"),
        _ => base.to_string(),
    }
}
