//! `pixmo models fetch|list`: the model files pixmo runs in-process (the embedded LLM and
//! the whisper weights).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::args::ModelsAction;

pub fn run(action: ModelsAction) -> anyhow::Result<ExitCode> {
    match action {
        ModelsAction::Fetch { kind, names, dir } => match kind.as_str() {
            "whisper" => fetch_whisper(&names, dir),
            _ if !names.is_empty() => {
                anyhow::bail!(
                    "model names go with `whisper`: `pixmo models fetch whisper {}`",
                    names.join(" ")
                )
            }
            _ => fetch(dir),
        },
        ModelsAction::List { dir } => list(dir),
    }
}

fn resolve(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match dir {
        Some(dir) => Ok(dir),
        None => pixmo_llm::models_dir().context("Could not find the models folder"),
    }
}

fn fetch(dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = resolve(dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("Could not start the async runtime")?;
    let options = pixmo_llm::FetchOptions::from_env();
    let fetched = rt
        .block_on(pixmo_llm::fetch_models(&dir, &options))
        .with_context(|| format!("Could not fetch models into `{}`", dir.display()))?;
    for model in fetched {
        let what = if model.downloaded {
            "fetched"
        } else {
            "present"
        };
        println!(
            "{what:<8} {}  sha256 {}  {}",
            model.name,
            model.sha256,
            model.path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn fetch_whisper(names: &[String], dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = resolve(dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("Could not start the async runtime")?;
    let options = pixmo_llm::FetchOptions::from_env();
    let default = [pixmo_whisper::TINY_EN.name.to_string()];
    let names = if names.is_empty() {
        &default[..]
    } else {
        names
    };
    for name in names {
        let spec = pixmo_whisper::WhisperSpec::named(name)?;
        let model = rt
            .block_on(pixmo_whisper::fetch_whisper(&dir, spec, &options))
            .with_context(|| {
                format!("Could not fetch whisper `{name}` into `{}`", dir.display())
            })?;
        let what = if model.downloaded {
            "fetched"
        } else {
            "present"
        };
        println!(
            "{what:<8} whisper {}  sha256 {}  {}",
            model.name,
            model.sha256,
            model.path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn list(dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = resolve(dir)?;
    println!("models folder: {}", dir.display());
    for spec in pixmo_llm::MODELS {
        let path = spec.path_in(&dir);
        let state = if path.is_file() { "present" } else { "missing" };
        println!(
            "{state:<8} {}  ({}=={}, sha256 {})",
            spec.name, spec.package, spec.version, spec.sha256
        );
    }
    for spec in pixmo_whisper::MODELS {
        let path = spec.path_in(&dir);
        let state = if path.is_file() { "present" } else { "missing" };
        let packages: Vec<String> = spec
            .wheels
            .iter()
            .map(|wheel| format!("{}=={}", wheel.package, wheel.version))
            .collect();
        println!(
            "{state:<8} whisper {}  ({}, converted sha256 {})",
            spec.name,
            packages.join(" + "),
            spec.sha256
        );
    }
    Ok(ExitCode::SUCCESS)
}
