//! Golden-image checks for the generators' tests: render fixed cases, compare the SHA-256 of
//! their straight RGBA8 pixels with `tests/golden/hashes.txt`, and keep the PNGs beside the
//! hashes so a reviewer sees what changed. `PIXMO_UPDATE_GOLDEN=1 cargo test -p <crate>
//! golden` rewrites both after an intended change (then bump the generator's version).
//!
//! A dev-dependency only: generators themselves depend on `pixmo-core` alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Whether this run rewrites the golden files (`PIXMO_UPDATE_GOLDEN=1`).
#[must_use]
pub fn updating() -> bool {
    std::env::var_os("PIXMO_UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Lower-case hex SHA-256 of `bytes`.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// PNG bytes of RGBA8 pixels (best compression: these files are committed).
///
/// # Panics
/// When the dimensions do not match the pixel count.
#[must_use]
pub fn png_bytes(width: u32, height: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().expect("png header");
    writer.write_image_data(rgba).expect("png data");
    writer.finish().expect("png finish");
    out
}

/// Decodes an RGBA8 PNG into `(width, height, rgba)`.
///
/// # Panics
/// On anything but an 8-bit RGBA PNG.
#[must_use]
pub fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png info");
    let mut buf = vec![0; reader.output_buffer_size().expect("png size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    buf.truncate(info.buffer_size());
    assert_eq!(
        info.color_type,
        png::ColorType::Rgba,
        "golden PNGs are RGBA"
    );
    (info.width, info.height, buf)
}

/// The name -> hash lines of a `hashes.txt` (`<hash>  <name>`, `#` comments).
#[must_use]
pub fn read_hashes(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("hashes.txt")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (hash, name) = l.split_once(char::is_whitespace)?;
            Some((name.trim().to_owned(), hash.to_owned()))
        })
        .collect()
}

/// One run over a crate's golden cases.
#[derive(Debug)]
pub struct GoldenSet {
    dir: PathBuf,
    package: String,
    expected: BTreeMap<String, String>,
    seen: BTreeMap<String, String>,
    failures: Vec<String>,
}

impl GoldenSet {
    /// The golden files in `dir` of `package` (used in messages and the temp file names).
    #[must_use]
    pub fn open(dir: impl Into<PathBuf>, package: &str) -> GoldenSet {
        let dir = dir.into();
        GoldenSet {
            expected: read_hashes(&dir),
            dir,
            package: package.to_owned(),
            seen: BTreeMap::new(),
            failures: Vec::new(),
        }
    }

    /// Compares one rendered case (`context` describes it in a failure) or, when updating,
    /// writes its PNG. A changed image is written to the temp folder with the number of
    /// pixels that differ from the committed PNG.
    ///
    /// # Panics
    /// When a file cannot be written.
    pub fn check(&mut self, name: &str, context: &str, width: u32, height: u32, rgba: &[u8]) {
        let hash = sha256_hex(rgba);
        let png_path = self.dir.join(format!("{name}.png"));
        if updating() {
            std::fs::create_dir_all(&self.dir).expect("create golden folder");
            std::fs::write(&png_path, png_bytes(width, height, rgba)).expect("write golden");
        } else if self.expected.get(name) != Some(&hash) {
            let actual = std::env::temp_dir().join(format!("{}-golden-{name}.png", self.package));
            std::fs::write(&actual, png_bytes(width, height, rgba)).expect("write actual");
            let differing = std::fs::read(&png_path).ok().map(|bytes| {
                let (_, _, want) = decode_png(&bytes);
                want.chunks_exact(4)
                    .zip(rgba.chunks_exact(4))
                    .filter(|(a, b)| a != b)
                    .count()
            });
            self.failures.push(format!(
                "`{name}` ({context}) changed: hash {hash}, {differing:?} pixels differ from {}; actual image at {}",
                png_path.display(),
                actual.display()
            ));
        }
        self.seen.insert(name.to_owned(), hash);
    }

    /// Ends the run: rewrites `hashes.txt` when updating, otherwise fails on any change.
    ///
    /// # Panics
    /// When a golden image changed.
    pub fn finish(self) {
        if updating() {
            let mut text = format!(
                "# sha256 of the straight RGBA8 pixels of each golden image; regenerate with\n# PIXMO_UPDATE_GOLDEN=1 cargo test -p {} golden\n",
                self.package
            );
            for (name, hash) in &self.seen {
                let _ = writeln!(text, "{hash}  {name}");
            }
            std::fs::write(self.dir.join("hashes.txt"), text).expect("write hashes.txt");
            return;
        }
        assert!(
            self.failures.is_empty(),
            "{}\nIf the change is intended, bump GENERATOR_VERSION and run with PIXMO_UPDATE_GOLDEN=1",
            self.failures.join("\n")
        );
    }
}

/// Checks that the committed PNGs in `dir` are the images `hashes.txt` describes, that
/// there are `cases` of them, and that each is under `max_bytes`. Skipped while updating.
///
/// # Panics
/// On a missing, oversized or mismatching PNG.
pub fn check_committed_pngs(dir: &Path, cases: usize, max_bytes: usize) {
    if updating() {
        return; // being rewritten by the rendering test
    }
    let hashes = read_hashes(dir);
    assert_eq!(hashes.len(), cases, "hashes.txt is missing cases");
    for (name, hash) in hashes {
        let bytes = std::fs::read(dir.join(format!("{name}.png"))).expect("golden PNG");
        assert!(
            bytes.len() < max_bytes,
            "{name}.png is {} bytes",
            bytes.len()
        );
        let (_, _, rgba) = decode_png(&bytes);
        assert_eq!(sha256_hex(&rgba), hash, "{name}.png");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip_and_hash_file() {
        let rgba: Vec<u8> = (0..4 * 6 * 4)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let png = png_bytes(4, 6, &rgba);
        assert_eq!(decode_png(&png), (4, 6, rgba.clone()));
        let dir = std::env::temp_dir().join(format!("pixmo-golden-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hash = sha256_hex(&rgba);
        std::fs::write(dir.join("hashes.txt"), format!("# c\n{hash}  a\n")).unwrap();
        std::fs::write(dir.join("a.png"), &png).unwrap();
        assert_eq!(read_hashes(&dir).get("a"), Some(&hash));
        if !updating() {
            check_committed_pngs(&dir, 1, 10_000);
            let mut set = GoldenSet::open(&dir, "pixmo-golden");
            set.check("a", "ramp", 4, 6, &rgba);
            set.finish();
            let mut set = GoldenSet::open(&dir, "pixmo-golden");
            set.check("a", "ramp", 4, 6, &rgba[..]);
            let mut other = rgba.clone();
            other[0] ^= 1;
            set.check("a", "changed", 4, 6, &other);
            assert_eq!(set.failures.len(), 1);
            assert!(
                set.failures[0].contains("Some(1) pixels differ"),
                "{:?}",
                set.failures
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
