//! The committed real detections (`testdata/haar/`: OpenCV's Haar cascades run once over
//! photographs that scikit-image's wheel ships, by `testdata/detect.py`) as a ready `--from`
//! folder: the two JSON files, and the photographs fetched from the wheel on PyPI with every
//! file checked against the SHA-256 that `images.json` pins.

use std::path::Path;

use pixmo_fetch::{FetchOptions, Fetcher, WheelMember};

/// `images.json` of the sample.
pub const IMAGES_JSON: &str = include_str!("../testdata/haar/images.json");
/// `detections.json` of the sample.
pub const DETECTIONS_JSON: &str = include_str!("../testdata/haar/detections.json");
/// The spec the sample is built with (the default spec with one image per count).
pub const SPEC: &str = include_str!("../testdata/haar.toml");

/// The wheel the photographs come from (a platform wheel: the data files are the same in
/// every wheel of a release).
pub const WHEEL: (&str, &str, &str) = (
    "scikit-image",
    "0.25.2",
    "scikit_image-0.25.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
);

/// Writes the sample into `dir` (`images.json`, `detections.json`, `images/`); photographs
/// already there with the pinned hash are not fetched again. Returns the number of images.
///
/// # Errors
/// A message for a fetch or write failure.
pub async fn write_sample(dir: &Path) -> Result<usize, String> {
    let images_dir = dir.join("images");
    std::fs::create_dir_all(&images_dir)
        .map_err(|e| format!("Cannot create `{}`: {e}", images_dir.display()))?;
    for (name, text) in [
        ("images.json", IMAGES_JSON),
        ("detections.json", DETECTIONS_JSON),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| format!("Cannot write `{}`: {e}", path.display()))?;
    }
    let meta: serde_json::Value =
        serde_json::from_str(IMAGES_JSON).map_err(|e| format!("images.json: {e}"))?;
    let mut wanted: Vec<(String, WheelMember)> = Vec::new();
    let images = meta["images"].as_array().cloned().unwrap_or_default();
    for image in &images {
        let field = |name: &str| image[name].as_str().unwrap_or_default().to_string();
        let (file, member, sha) = (field("file_name"), field("wheel_member"), field("sha256"));
        let target = dir.join(&file);
        let have = std::fs::read(&target)
            .map(|b| pixmo_core::sha256_hex(&b) == sha)
            .unwrap_or(false);
        if !have {
            // `WheelMember` borrows for the program's life; the sample is made once per process.
            wanted.push((
                file,
                WheelMember {
                    path: Box::leak(member.into_boxed_str()),
                    sha256: Box::leak(sha.into_boxed_str()),
                },
            ));
        }
    }
    if !wanted.is_empty() {
        let fetcher = Fetcher::new(&FetchOptions::from_env()).map_err(|e| e.to_string())?;
        let members: Vec<WheelMember> = wanted.iter().map(|(_, m)| *m).collect();
        let (package, version, file) = WHEEL;
        let files = fetcher
            .fetch_members_of(&images_dir, package, version, Some(file), &members)
            .await
            .map_err(|e| {
                format!(
                    "Could not fetch the sample photographs: {}",
                    pixmo_core::error_chain(&e)
                )
            })?;
        for ((name, _), file) in wanted.iter().zip(files) {
            let target = dir.join(name);
            pixmo_fetch::persist(file, &target)
                .map_err(|e| format!("Cannot write `{}`: {e}", target.display()))?;
        }
    }
    Ok(images.len())
}
