//! ASR accuracy and speed on a speech set with known text (see `bench/make_speech_set.sh`,
//! whose speech is synthetic, espeak-ng):
//!
//! `cargo run --release -p pixmo-asr --example bench -- [--hyp OUT.jsonl] [--flash-attn]
//! SET_DIR [MODEL...]`
//!
//! Every clip in `SET_DIR/manifest.jsonl` is decoded and resampled to 16 kHz by pixmo-audio
//! (not timed), then each model (default `tiny.en`; `base` too) transcribes every clip with
//! pixmo-asr's defaults: whisper.cpp, one thread, greedy, temperature 0 with fallback,
//! language `en`, previous text as context. One untimed warm-up call on the first clip
//! precedes the timed ones. Printed as markdown: per model the word error rate (normalised
//! as `pixmo_asr::wer` documents; counts summed over clips) overall and per voice, speed and
//! noise, and the real-time factor (seconds spent in `transcribe` / seconds of audio), by the
//! wall clock and by the process's CPU time (on a shared machine the wall clock also counts
//! time spent waiting for a core; CPU time does not).
//! `--hyp` writes every transcript as a JSON line (model, file, reference, hypothesis, counts,
//! seconds) for comparison with `bench/faster_whisper_bench.py`. `--flash-attn` decodes with
//! whisper.cpp's flash attention ([`pixmo_asr::TranscribeOptions::flash_attn`], off by
//! default; `--no-flash-attn` says so explicitly).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use pixmo_asr::wer::{WordErrors, word_errors};

struct Item {
    file: String,
    text: String,
    /// (condition, level), e.g. ("voice", "en-gb").
    conditions: Vec<(String, String)>,
    samples: Vec<f32>,
}

fn load_set(dir: &Path) -> Result<Vec<Item>, Box<dyn std::error::Error>> {
    let manifest = std::fs::read_to_string(dir.join("manifest.jsonl"))?;
    let mut items = Vec::new();
    for (index, line) in manifest.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: serde_json::Value = serde_json::from_str(line)
            .map_err(|error| format!("manifest.jsonl line {}: {error}", index + 1))?;
        let field = |name: &str| -> Result<String, String> {
            match &row[name] {
                serde_json::Value::String(text) => Ok(text.clone()),
                serde_json::Value::Number(number) => Ok(number.to_string()),
                _ => Err(format!("manifest.jsonl line {}: no `{name}`", index + 1)),
            }
        };
        let file = field("file")?;
        let clip = pixmo_audio::decode_file(&dir.join(&file), &pixmo_audio::AudioLimits::default())
            .map_err(|rejection| format!("{file}: {rejection}"))?;
        items.push(Item {
            text: field("text")?,
            conditions: vec![
                ("voice".into(), field("voice")?),
                ("speed".into(), format!("{} wpm", field("speed_wpm")?)),
                ("noise".into(), field("noise")?),
            ],
            samples: clip.samples,
            file,
        });
    }
    if items.is_empty() {
        return Err("the manifest lists no clips".into());
    }
    Ok(items)
}

/// CPU time (user + system) of the whole process, every thread, in seconds: fields 14 and 15
/// of `/proc/self/stat`, in Linux's fixed 100 ticks per second (so 10 ms steps; summed over
/// a set of clips the rounding averages out). `NaN` where there is no such file.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    match (fields.get(11), fields.get(12)) {
        (Some(user), Some(system)) => match (user.parse::<u64>(), system.parse::<u64>()) {
            (Ok(user), Ok(system)) => (user + system) as f64 / 100.0,
            _ => f64::NAN,
        },
        _ => f64::NAN,
    }
}

struct ModelResult {
    model: String,
    load_seconds: f64,
    transcribe_seconds: f64,
    transcribe_cpu_seconds: f64,
    total: WordErrors,
    by_condition: BTreeMap<(String, String), WordErrors>,
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut hyp_path = None;
    let mut options = pixmo_asr::TranscribeOptions::default();
    loop {
        match args.first().map(String::as_str) {
            Some("--hyp") if args.len() > 1 => {
                hyp_path = Some(PathBuf::from(args.remove(1)));
                args.remove(0);
            }
            Some("--flash-attn") => {
                options.flash_attn = true;
                args.remove(0);
            }
            Some("--no-flash-attn") => {
                options.flash_attn = false;
                args.remove(0);
            }
            _ => break,
        }
    }
    let Some(set_dir) = args.first().map(PathBuf::from) else {
        return Err(
            "usage: bench [--hyp OUT.jsonl] [--flash-attn | --no-flash-attn] SET_DIR [MODEL...]"
                .into(),
        );
    };
    let models: Vec<String> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec![pixmo_whisper::TINY_EN.name.to_string()]
    };
    let items = load_set(&set_dir)?;
    let audio_seconds: f64 = items
        .iter()
        .map(|item| item.samples.len() as f64 / 16_000.0)
        .sum();
    let mut hyp_out = match &hyp_path {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    let models_dir = pixmo_whisper::models_dir()?;
    let mut results = Vec::new();
    let mut decoding = String::new();
    for model in &models {
        let spec = pixmo_whisper::WhisperSpec::named(model)?;
        let start = Instant::now();
        let transcriber = pixmo_asr::Transcriber::load(&models_dir, spec, options.clone())?;
        let load_seconds = start.elapsed().as_secs_f64();
        decoding = transcriber.options().describe();
        transcriber.transcribe(&items[0].samples)?;
        let mut result = ModelResult {
            model: model.clone(),
            load_seconds,
            transcribe_seconds: 0.0,
            transcribe_cpu_seconds: 0.0,
            total: WordErrors::default(),
            by_condition: BTreeMap::new(),
        };
        for item in &items {
            let (start, cpu_start) = (Instant::now(), cpu_seconds());
            let transcript = transcriber.transcribe(&item.samples)?;
            let seconds = start.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu_start;
            result.transcribe_seconds += seconds;
            result.transcribe_cpu_seconds += cpu;
            let errors = word_errors(&item.text, &transcript.text);
            result.total += errors;
            for condition in &item.conditions {
                *result.by_condition.entry(condition.clone()).or_default() += errors;
            }
            if let Some(out) = &mut hyp_out {
                let line = serde_json::json!({
                    "engine": "pixmo-asr",
                    "model": model,
                    "file": item.file,
                    "reference": item.text,
                    "hypothesis": transcript.text,
                    "errors": errors,
                    "audio_s": transcript.duration_seconds,
                    "transcribe_s": seconds,
                    "transcribe_cpu_s": cpu,
                });
                writeln!(out, "{line}")?;
            }
            eprintln!(
                "{model} {} {:.3} s: {:?} (wer {:.3})",
                item.file,
                seconds,
                transcript.text,
                errors.rate()
            );
        }
        results.push(result);
    }
    if let Some(out) = &mut hyp_out {
        out.flush()?;
    }
    print_tables(&results, items.len(), audio_seconds, &decoding);
    Ok(())
}

fn percent(errors: &WordErrors) -> String {
    format!("{:.1}", 100.0 * errors.rate())
}

fn print_tables(results: &[ModelResult], clips: usize, audio_seconds: f64, decoding: &str) {
    println!(
        "pixmo-asr ({decoding}); {clips} clips, {:.2} min of audio\n",
        audio_seconds / 60.0
    );
    println!(
        "| model | engine | clips | audio min | ref words | WER % (S/D/I) | RTF wall | RTF CPU | load s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for result in results {
        let t = &result.total;
        println!(
            "| {} | pixmo-asr (whisper.cpp) | {clips} | {:.2} | {} | {} ({}/{}/{}) | {:.4} | {:.4} | {:.2} |",
            result.model,
            audio_seconds / 60.0,
            t.reference_words,
            percent(t),
            t.substitutions,
            t.deletions,
            t.insertions,
            result.transcribe_seconds / audio_seconds,
            result.transcribe_cpu_seconds / audio_seconds,
            result.load_seconds,
        );
    }
    println!();
    let header: Vec<String> = results
        .iter()
        .map(|result| format!("{} WER %", result.model))
        .collect();
    println!("| condition | level | {} |", header.join(" | "));
    println!("|---|---|{}", "---:|".repeat(results.len()));
    let Some(first) = results.first() else { return };
    for key in first.by_condition.keys() {
        let cells: Vec<String> = results
            .iter()
            .map(|result| {
                result
                    .by_condition
                    .get(key)
                    .map_or_else(|| "-".to_string(), percent)
            })
            .collect();
        println!("| {} | {} | {} |", key.0, key.1, cells.join(" | "));
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::from(2)
        }
    }
}
