//! Debian's `tesseract` as an [`OcrEngine`]: one bounded child process per image.
//!
//! [`Tesseract::new`] probes the program once (`--version`, `--list-langs`), checks every
//! configured language has its `.traineddata` file and hashes those files, so provenance
//! names the exact engine and model data. Each [`OcrEngine::ocr`] call writes the image to
//! a private temporary file, runs `tesseract FILE stdout -l LANGS --psm N tsv` with
//! `OMP_THREAD_LIMIT` set, kills it at the deadline, and parses its TSV.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pixmo_annotation_schema::common::ModelUse;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::OcrEngine;
use crate::error::{Error, Result};
use crate::process::{RunError, run_bounded};
use crate::result::OcrResult;
use crate::tsv::parse_tsv;

/// Wall-clock limit of `--version` and `--list-langs`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The `kind` recorded in provenance for OCR models.
pub const OCR_KIND: &str = "ocr";

/// How tesseract is run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TesseractConfig {
    /// Program to run (looked up on `PATH` when it has no slash).
    pub program: PathBuf,
    /// Languages, `+`-separated as tesseract takes them (`eng`, `eng+deu`).
    pub languages: String,
    /// Page segmentation mode (`--psm`): 3 is automatic layout, 6 one uniform block,
    /// 11 sparse text.
    pub psm: u8,
    /// Folder of `.traineddata` files; `None` uses tesseract's own (or `TESSDATA_PREFIX`).
    pub tessdata_dir: Option<PathBuf>,
    /// Resolution to assume for images that state none (`--dpi`); `None` lets tesseract
    /// guess.
    pub dpi: Option<u32>,
    /// Wall-clock limit of one image, in milliseconds; the child is killed after it.
    pub timeout_ms: u64,
    /// Largest image accepted, in bytes.
    pub max_image_bytes: usize,
    /// Most pixels (width x height) an image may declare in its header (PNG, JPEG, GIF,
    /// BMP, WebP); larger ones are refused before tesseract decodes them.
    pub max_pixels: u64,
    /// Largest TSV output read, in bytes; the child is killed past it.
    pub max_output_bytes: usize,
    /// OpenMP threads tesseract may use (`OMP_THREAD_LIMIT`).
    pub threads: u32,
}

impl Default for TesseractConfig {
    fn default() -> Self {
        Self {
            program: PathBuf::from("tesseract"),
            languages: "eng".into(),
            psm: 3,
            tessdata_dir: None,
            dpi: None,
            timeout_ms: 30_000,
            max_image_bytes: 32 << 20,
            max_pixels: 64_000_000,
            max_output_bytes: 8 << 20,
            threads: 1,
        }
    }
}

impl TesseractConfig {
    fn check(&self) -> Result<Vec<String>> {
        let languages: Vec<String> = self.languages.split('+').map(str::to_string).collect();
        if let Some(bad) = languages.iter().find(|l| {
            l.is_empty()
                || !l
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }) {
            return Err(Error::Config(format!(
                "`languages` must be names joined by `+`, got `{}` (bad part `{bad}`)",
                self.languages
            )));
        }
        if self.psm > 13 {
            return Err(Error::Config(format!(
                "`psm` must be 0..=13, got {}",
                self.psm
            )));
        }
        if self.timeout_ms == 0
            || self.max_image_bytes == 0
            || self.max_output_bytes == 0
            || self.max_pixels == 0
        {
            return Err(Error::Config(
                "`timeout_ms`, `max_image_bytes`, `max_pixels` and `max_output_bytes` must be above 0"
                    .into(),
            ));
        }
        if self.threads == 0 {
            return Err(Error::Config("`threads` must be at least 1".into()));
        }
        Ok(languages)
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.env("OMP_THREAD_LIMIT", self.threads.to_string());
        if let Some(dir) = &self.tessdata_dir {
            command.arg("--tessdata-dir").arg(dir);
        }
        command
    }
}

/// One language's model data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageData {
    /// Language name (`eng`).
    pub language: String,
    /// SHA-256 of its `.traineddata` file.
    pub sha256: String,
    /// Size of that file in bytes.
    pub bytes: u64,
}

/// Which OCR engine, version, model data and settings produced a result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcrIdentity {
    /// Engine name (`tesseract`).
    pub engine: String,
    /// Engine version (`5.3.0`).
    pub version: String,
    /// The first lines of `--version` (library versions), for the record.
    pub version_text: String,
    /// Model data of each language, in the configured order.
    pub languages: Vec<LanguageData>,
    /// Canonical JSON of the settings that change the output (`languages`, `psm`, `dpi`).
    pub parameters: String,
}

impl OcrIdentity {
    /// SHA-256 naming all language data together: the one file's hash for one language,
    /// else the hash of `language:sha256` lines.
    #[must_use]
    pub fn data_sha256(&self) -> String {
        match self.languages.as_slice() {
            [one] => one.sha256.clone(),
            many => {
                let lines: String = many
                    .iter()
                    .map(|l| format!("{}:{}\n", l.language, l.sha256))
                    .collect();
                hex::encode(Sha256::digest(lines.as_bytes()))
            }
        }
    }

    /// Model name as provenance records it (`tesseract 5.3.0 eng`).
    #[must_use]
    pub fn name(&self) -> String {
        let languages: Vec<&str> = self.languages.iter().map(|l| l.language.as_str()).collect();
        format!("{} {} {}", self.engine, self.version, languages.join("+"))
    }

    /// The shard schema's `models` entry for `stage`.
    #[must_use]
    pub fn to_model_use(&self, stage: &str) -> ModelUse {
        ModelUse {
            stage: stage.to_string(),
            kind: OCR_KIND.to_string(),
            name: self.name(),
            file_sha256: self.data_sha256(),
            prompt_template_id: None,
            prompt_template_sha256: None,
            parameters: Some(self.parameters.clone()),
        }
    }
}

/// Debian's tesseract, probed once and run per image.
#[derive(Debug)]
pub struct Tesseract {
    config: TesseractConfig,
    identity: OcrIdentity,
}

impl Tesseract {
    /// Probes the program, checks and hashes the language data.
    ///
    /// # Errors
    /// [`Error::NotInstalled`] when the program is missing, [`Error::LanguageMissing`] for a
    /// language without data, [`Error::Config`] for bad settings.
    pub fn new(config: TesseractConfig) -> Result<Tesseract> {
        let languages = config.check()?;
        // Probes print a few lines; they get their own limit, not the per-image one.
        let timeout = PROBE_TIMEOUT;

        let mut version_cmd = Command::new(&config.program);
        version_cmd.arg("--version");
        let out = run_probe(&config.program, version_cmd, timeout)?;
        let version_text: String = out.lines().take(2).collect::<Vec<_>>().join("\n");
        let version = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("tesseract "))
            .map(|v| v.trim().trim_start_matches('v').to_string())
            .ok_or_else(|| Error::Probe {
                what: "version",
                output: start(&out),
            })?;

        let mut list_cmd = config.command();
        list_cmd.arg("--list-langs");
        let out = run_probe(&config.program, list_cmd, timeout)?;
        let (dir, available) = parse_list_langs(&out)?;
        let dir = config.tessdata_dir.clone().unwrap_or(dir);
        let mut data = Vec::new();
        for language in &languages {
            if !available.iter().any(|a| a == language) {
                return Err(Error::LanguageMissing {
                    language: language.clone(),
                    dir,
                    available: available.join(", "),
                });
            }
            data.push(hash_language(&dir, language)?);
        }

        #[derive(Serialize)]
        struct Parameters<'a> {
            dpi: Option<u32>,
            languages: &'a str,
            psm: u8,
        }
        let parameters = serde_json::to_string(&Parameters {
            dpi: config.dpi,
            languages: &config.languages,
            psm: config.psm,
        })
        .expect("parameters serialize");
        Ok(Tesseract {
            identity: OcrIdentity {
                engine: "tesseract".into(),
                version,
                version_text,
                languages: data,
                parameters,
            },
            config,
        })
    }

    /// The configuration it runs with.
    #[must_use]
    pub fn config(&self) -> &TesseractConfig {
        &self.config
    }
}

impl OcrEngine for Tesseract {
    fn ocr(&self, image: &[u8]) -> Result<OcrResult> {
        if image.is_empty() {
            return Err(Error::EmptyImage);
        }
        if image.len() > self.config.max_image_bytes {
            return Err(Error::ImageTooLarge {
                size: image.len(),
                limit: self.config.max_image_bytes,
            });
        }
        if let Some((width, height)) = crate::header::declared_size(image)
            && u64::from(width) * u64::from(height) > self.config.max_pixels
        {
            return Err(Error::TooManyPixels {
                width,
                height,
                limit: self.config.max_pixels,
            });
        }
        let io = |what| move |source| Error::Io { what, source };
        let mut file = tempfile::Builder::new()
            .prefix(".pixmo-ocr-")
            .tempfile()
            .map_err(io("creating the image's temporary file"))?;
        std::io::Write::write_all(&mut file, image)
            .map_err(io("writing the image's temporary file"))?;

        let mut command = self.config.command();
        command.arg(file.path()).arg("stdout");
        command.arg("-l").arg(&self.config.languages);
        command.arg("--psm").arg(self.config.psm.to_string());
        if let Some(dpi) = self.config.dpi {
            command.arg("--dpi").arg(dpi.to_string());
        }
        command.arg("tsv");

        let started = Instant::now();
        let timeout = Duration::from_millis(self.config.timeout_ms);
        let out = run_bounded(command, timeout, self.config.max_output_bytes)
            .map_err(|e| self.run_error(e, timeout))?;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if !out.status.success() {
            if stderr.contains("cannot be read") || stderr.contains("pixRead") {
                return Err(Error::UnreadableImage { stderr });
            }
            return Err(Error::Failed {
                status: out.status.to_string(),
                stderr,
            });
        }
        let text = String::from_utf8_lossy(&out.stdout);
        parse_tsv(&text, elapsed_ms)
    }

    fn identity(&self) -> &OcrIdentity {
        &self.identity
    }
}

impl Tesseract {
    fn run_error(&self, error: RunError, timeout: Duration) -> Error {
        run_error(
            &self.config.program,
            error,
            timeout,
            self.config.max_output_bytes,
        )
    }
}

fn run_error(program: &Path, error: RunError, timeout: Duration, limit: usize) -> Error {
    match error {
        RunError::Spawn(source) if source.kind() == std::io::ErrorKind::NotFound => {
            Error::NotInstalled {
                program: program.to_path_buf(),
            }
        }
        RunError::Spawn(source) => Error::Spawn {
            program: program.to_path_buf(),
            source,
        },
        RunError::Timeout => Error::Timeout { timeout },
        RunError::TooLarge => Error::OutputTooLarge { limit },
        RunError::Io(source) => Error::Io {
            what: "running tesseract",
            source,
        },
    }
}

/// Runs a probe command; its stdout and stderr together (tesseract versions differ in
/// which one they print to).
fn run_probe(program: &Path, command: Command, timeout: Duration) -> Result<String> {
    const PROBE_LIMIT: usize = 64 * 1024;
    let out = run_bounded(command, timeout, PROBE_LIMIT)
        .map_err(|e| run_error(program, e, timeout, PROBE_LIMIT))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        return Err(Error::Failed {
            status: out.status.to_string(),
            stderr: start(&text),
        });
    }
    Ok(text)
}

fn start(text: &str) -> String {
    text.chars().take(300).collect()
}

/// Reads `List of available languages in "DIR/" (N):` and the names after it.
fn parse_list_langs(out: &str) -> Result<(PathBuf, Vec<String>)> {
    let mut lines = out.lines();
    let dir = lines
        .by_ref()
        .find_map(|l| {
            let rest = l.strip_prefix("List of available languages in \"")?;
            Some(rest.split('"').next()?.to_string())
        })
        .ok_or_else(|| Error::Probe {
            what: "language list",
            output: start(out),
        })?;
    let languages = lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    Ok((PathBuf::from(dir), languages))
}

fn hash_language(dir: &Path, language: &str) -> Result<LanguageData> {
    use std::io::Read;
    let path = dir.join(format!("{language}.traineddata"));
    let io = |source| Error::Io {
        what: "hashing the language data",
        source,
    };
    let mut file = std::fs::File::open(&path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok(LanguageData {
        language: language.to_string(),
        sha256: hex::encode(hasher.finalize()),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_langs_output_is_read() {
        let out = "List of available languages in \"/usr/share/tesseract-ocr/5/tessdata/\" (2):\neng\nosd\n";
        let (dir, langs) = parse_list_langs(out).unwrap();
        assert_eq!(dir, PathBuf::from("/usr/share/tesseract-ocr/5/tessdata/"));
        assert_eq!(langs, ["eng", "osd"]);
        assert!(parse_list_langs("nonsense").is_err());
    }

    #[test]
    fn bad_settings_are_refused_before_running() {
        for config in [
            TesseractConfig {
                languages: "eng+".into(),
                ..TesseractConfig::default()
            },
            TesseractConfig {
                languages: "eng;rm".into(),
                ..TesseractConfig::default()
            },
            TesseractConfig {
                psm: 14,
                ..TesseractConfig::default()
            },
            TesseractConfig {
                timeout_ms: 0,
                ..TesseractConfig::default()
            },
            TesseractConfig {
                threads: 0,
                ..TesseractConfig::default()
            },
        ] {
            assert!(matches!(Tesseract::new(config), Err(Error::Config(_))));
        }
    }

    #[test]
    fn a_missing_program_says_what_to_install() {
        let error = Tesseract::new(TesseractConfig {
            program: "pixmo-no-such-tesseract".into(),
            ..TesseractConfig::default()
        })
        .unwrap_err();
        assert!(matches!(error, Error::NotInstalled { .. }), "{error:?}");
        assert!(error.to_string().contains("tesseract-ocr"), "{error}");
    }

    #[test]
    fn provenance_names_engine_and_data() {
        let identity = OcrIdentity {
            engine: "tesseract".into(),
            version: "5.3.0".into(),
            version_text: String::new(),
            languages: vec![LanguageData {
                language: "eng".into(),
                sha256: "ab".repeat(32),
                bytes: 1,
            }],
            parameters: "{}".into(),
        };
        let model = identity.to_model_use("ama.ocr");
        assert_eq!(model.kind, "ocr");
        assert_eq!(model.name, "tesseract 5.3.0 eng");
        assert_eq!(model.file_sha256, "ab".repeat(32));
        let mut two = identity.clone();
        two.languages.push(LanguageData {
            language: "deu".into(),
            sha256: "cd".repeat(32),
            bytes: 1,
        });
        assert_eq!(two.name(), "tesseract 5.3.0 eng+deu");
        assert_ne!(two.data_sha256(), identity.data_sha256());
    }
}
