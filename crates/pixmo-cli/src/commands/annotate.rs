//! `pixmo annotate`: the annotation app (`pixmo-annotate`) for AskModelAnything, Points and
//! Point-Explanations: serve it, invite annotators, import images, watch the queue, export.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use pixmo_annotate::{
    ExportOptions, ImageSource, ImportOptions, LlmAssistant, ServeConfig, TaskKind, TaskMode,
    TesseractOcr,
};

use crate::args::{AnnotateCommand, ImportFrom};

/// Runs one `pixmo annotate` subcommand.
pub fn annotate(command: AnnotateCommand) -> anyhow::Result<ExitCode> {
    let rt = super::runtime(0)?;
    match command {
        AnnotateCommand::Serve {
            db,
            bind,
            llm,
            no_llm,
            no_ocr,
        } => {
            let mut config = ServeConfig::new(db, bind);
            if !no_llm {
                let llm = llm_config(llm.as_deref())?;
                let client = llm
                    .build_cached(&pixmo_llm::cache_dir()?)
                    .map(|(client, _)| client)
                    .context("Could not start the LLM (`pixmo models fetch` fetches the embedded one; --no-llm serves without)")?;
                let params = pixmo_llm::SamplingParams {
                    max_tokens: 512,
                    seed: Some(0),
                    temperature: 0.3,
                    top_p: Some(1.0),
                    ..pixmo_llm::SamplingParams::default()
                };
                config.assistant = Some(Arc::new(LlmAssistant::new(client, params)?));
            }
            if !no_ocr {
                let tesseract = pixmo_ocr::Tesseract::new(pixmo_ocr::TesseractConfig::default())
                    .context("Could not start OCR (--no-ocr serves without)")?;
                config.ocr = Some(Arc::new(TesseractOcr(tesseract)));
            }
            rt.block_on(pixmo_annotate::serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
        AnnotateCommand::Invite { db, pseudonym } => {
            let invite = rt.block_on(pixmo_annotate::create_invite(&db, &pseudonym))?;
            eprintln!("invite for `{pseudonym}` (shown once; only its SHA-256 is stored):");
            println!("{}", invite.token);
            Ok(ExitCode::SUCCESS)
        }
        AnnotateCommand::Import { db, from, task } => {
            let source = match from {
                ImportFrom {
                    folder: Some(dir), ..
                } => ImageSource::Folder(dir),
                ImportFrom {
                    manifest: Some(file),
                    ..
                } => ImageSource::Manifest(file),
                ImportFrom {
                    dataset: Some(dir), ..
                } => ImageSource::Dataset(dir),
                _ => anyhow::bail!("give --folder, --manifest or --dataset"),
            };
            let tasks = task
                .iter()
                .map(|t| parse_task(t))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let report = rt.block_on(pixmo_annotate::import_images(
                &db,
                &ImportOptions { source, tasks },
            ))?;
            eprintln!(
                "{} images added, {} already known, {} tasks added, {} rejected",
                report.images_added,
                report.images_known,
                report.tasks_added,
                report.rejected.len()
            );
            for (what, why) in &report.rejected {
                eprintln!("  rejected {what}: {why}");
            }
            Ok(ExitCode::SUCCESS)
        }
        AnnotateCommand::Status { db } => {
            println!("| task | open | claimed | done |\n|---|---:|---:|---:|");
            for (kind, open, claimed, done) in rt.block_on(pixmo_annotate::queue_status(&db))? {
                println!("| {} | {open} | {claimed} | {done} |", kind.as_str());
            }
            Ok(ExitCode::SUCCESS)
        }
        AnnotateCommand::Export {
            db,
            out,
            split,
            as_of,
        } => {
            let as_of_us = as_of
                .as_deref()
                .map(pixmo_core::parse_as_of)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let report = rt.block_on(pixmo_annotate::export(
                &db,
                &ExportOptions {
                    out,
                    split,
                    as_of_us,
                },
            ))?;
            eprintln!(
                "exported {} points rows, {} ask_model_anything rows and {} point_explanations rows",
                report.points_rows, report.ask_model_anything_rows, report.point_explanations_rows
            );
            for file in &report.files {
                eprintln!("  {}", file.path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `points:pointing`, `points:counting`, `ask_model_anything`, `point_explanations`.
fn parse_task(text: &str) -> anyhow::Result<(TaskKind, TaskMode)> {
    let (kind, mode) = text.split_once(':').unwrap_or((text, "pointing"));
    Ok((
        kind.parse()
            .map_err(|e| anyhow::anyhow!("--task `{text}`: {e}"))?,
        mode.parse()
            .map_err(|e| anyhow::anyhow!("--task `{text}`: {e}"))?,
    ))
}

/// The LLM from a TOML file (`backend = "openai"`, `base_url`, `model`, ... as a stage's
/// `[llm]` table), or the embedded default.
fn llm_config(path: Option<&Path>) -> anyhow::Result<pixmo_llm::LlmConfig> {
    let Some(path) = path else {
        return Ok(pixmo_llm::LlmConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("Could not read `{}`", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("`{}` is not an LLM configuration", path.display()))
}
