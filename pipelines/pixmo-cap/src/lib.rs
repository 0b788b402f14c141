//! PixMo-Cap: spoken image descriptions through whisper and a text-only LLM, grown nightly
//! from an append-only inbox of recordings.
//!
//! Stages: `cap.inbox` (a sealed inbox record: one image and its recordings) -> `cap.image`
//! (read or fetch, SHA-256 checked, validated) -> `cap.transcribe` (symphonia + rubato to
//! 16 kHz, whisper.cpp) -> `cap.caption` (a text-only LLM merges the transcripts into one
//! dense caption, checked for support and for invented numbers, colours, names and quotes:
//! [`invention`]). [`inbox`] holds the manifest formats, sealing and the
//! record rule (late recordings make a new revision).

pub mod card;
pub mod inbox;
pub mod invention;
pub mod qa_source;
pub mod sample;
pub mod stages;

use pixmo_pipeline::{About, OpenedSource, PipelineInfo, SourceRequest, Spec};

/// The default PixMo-Cap spec.
pub const CAP_SPEC: &str = include_str!("../pipeline.toml");

/// PixMo-Cap's shipped specs.
pub const CAP_SPECS: &[Spec] = &[Spec::new("pipeline.toml", CAP_SPEC)];

/// The default PixMo-CapQA spec.
pub const CAP_QA_SPEC: &str = include_str!("../cap-qa.toml");

/// PixMo-CapQA's shipped specs.
pub const CAP_QA_SPECS: &[Spec] = &[Spec::new("cap-qa.toml", CAP_QA_SPEC)];

/// PixMo-CapQA's card prose.
pub const CAP_QA_ABOUT: About = About {
    how_made: "A text-only LLM reads a PixMo-Cap caption (never the image) and writes a \
        question-and-answer dialogue about the image; every answer is checked against the \
        caption (its numbers must occur in it, and most of its content words) and unsupported \
        pairs are dropped",
    limitations: &[
        "Questions can only be about what the caption says; what the speakers did not mention \
         is never asked.",
        "One dialogue per PixMo-Cap row, late revisions included (`cap_id` names the row).",
        "Dialogues inherit their Cap rows' origin: where those rows were spoken by a \
         text-to-speech engine (`synthetic_speech` in PixMo-Cap, as in the sample inbox, \
         espeak-ng), so were these dialogues' sources; they test the pipeline and are not \
         human data.",
    ],
    ..About::new(
        "PixMo-CapQA",
        "Question-answer dialogues in PixMo-CapQA's layout (`question`, `answer`, `messages`) \
         written from PixMo-Cap captions by a text-only LLM, each row linked to its Cap row \
         (`cap_id`).",
    )
};

/// PixMo-CapQA from a finished PixMo-Cap dataset.
#[must_use]
pub fn cap_qa_info() -> PipelineInfo {
    PipelineInfo {
        name: "cap_qa",
        about: CAP_QA_ABOUT,
        specs: CAP_QA_SPECS,
        // PixMo-CapQA released 271,714 QA pairs (about 165k images).
        released_size: Some(271_714),
        // Built from Cap rows: no reference build; see `info`.
        reference_count: 0,
        register,
        card: card::cap_qa_extension,
        source: Some(open_cap),
    }
}

/// Opens a finished PixMo-Cap dataset as CapQA's records.
///
/// # Errors
/// A message when `request.path` holds no finished Cap dataset.
pub fn open_cap(request: &SourceRequest<'_>) -> Result<OpenedSource, String> {
    let source = qa_source::CapSource::open(request.path)?;
    let rows: usize = source.records().values().map(Vec::len).sum();
    Ok(OpenedSource {
        report: format!("cap_qa: {rows} PixMo-Cap rows"),
        source: std::sync::Arc::new(source),
    })
}

/// PixMo-Cap's card prose.
pub const CAP_ABOUT: About = About {
    how_made: "People describe an image aloud for 60-90 seconds; each recording is decoded \
        to 16 kHz and transcribed by whisper (whisper.cpp, pinned weights), and a text-only \
        LLM that never sees the image merges the transcripts of an image into one dense \
        caption, which must be supported by the transcripts' words. The audio is the proof \
        that no vision model wrote the caption",
    limitations: &[
        "Captions are only as good as the recordings and the LLM: the embedded default \
         (SmolLM2-135M) writes short, plain captions; configure a stronger OpenAI-compatible \
         server for production.",
        "Rows whose `synthetic_speech` is true were spoken by a text-to-speech engine (the \
         sample inbox), not by a person: they test the pipeline and are not human data.",
        "A late recording makes a new row (`revision` 2, 3, ...) with every recording of the \
         image; keep the highest revision per image to get one row per image.",
    ],
    ..About::new(
        "PixMo-Cap",
        "Dense image captions in PixMo-Cap's layout (`caption`, `transcripts`) from spoken \
         descriptions: every row keeps the transcripts, each recording's ASR details \
         (segments with timestamps, language, log-probability, no-speech probability) and the \
         recordings that could not be used, with the reason.",
    )
};

/// PixMo-Cap.
#[must_use]
pub fn info() -> PipelineInfo {
    PipelineInfo {
        name: "cap",
        about: CAP_ABOUT,
        specs: CAP_SPECS,
        // PixMo-Cap released 717,042 images.
        released_size: Some(717_042),
        // Built from an inbox, not from `--count`: no reference build. The committed cards
        // come from the sample inbox by `reference-cards.sh` (see data_cards/README.md).
        reference_count: 0,
        register,
        card: card::cap_extension,
        source: Some(open_inbox),
    }
}

/// Registers the stages.
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<stages::inbox::InboxConfig>();
    registry.register::<stages::image::ImageConfig>();
    registry.register::<stages::transcribe::TranscribeConfig>();
    registry.register::<stages::caption::CaptionConfig>();
    registry.register::<stages::cap_row::CapRowConfig>();
    registry.register::<stages::dialogue::DialogueConfig>();
}

/// Seals what arrived in the inbox (when allowed) and opens the sealed batches as records.
///
/// # Errors
/// A message naming the manifest row and column, a changed sealed manifest, or an
/// unreadable inbox or ledger.
pub fn open_inbox(request: &SourceRequest<'_>) -> Result<OpenedSource, String> {
    let ledger = inbox::ledger_dir(request.dataset_root);
    let report = if request.take_new {
        let report =
            inbox::seal(request.path, &ledger, request.now_us).map_err(|e| e.to_string())?;
        match report.sealed {
            Some(batch) => {
                let skipped: Vec<String> = report
                    .skipped
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect();
                format!(
                    "inbox: sealed batch {batch} with {} new recordings{}",
                    report.recordings,
                    if skipped.is_empty() {
                        String::new()
                    } else {
                        format!(", skipped {}", skipped.join(", "))
                    }
                )
            }
            None => format!(
                "inbox: nothing new since batch {}",
                report.batches.saturating_sub(1)
            ),
        }
    } else {
        "inbox: reading the sealed batches only (array worker)".to_string()
    };
    let batches = inbox::load_ledger(&ledger).map_err(|e| e.to_string())?;
    let (root, _) = inbox::manifests(request.path).map_err(|e| e.to_string())?;
    let source = inbox::InboxSource::new(&root, &batches, request.splits);
    Ok(OpenedSource {
        source: std::sync::Arc::new(source),
        report,
    })
}
