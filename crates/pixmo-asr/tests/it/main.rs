//! The real whisper model on real decoded audio: espeak-ng speech encoded by real encoders
//! (`crates/pixmo-audio/tests/fixtures`), decoded and resampled by pixmo-audio, transcribed
//! by whisper.cpp with the tiny.en weights fetched and converted by `pixmo-whisper`.
//!
//! Without the model (`pixmo models fetch whisper tiny.en`) the tests say so and pass; with
//! `CI` set they fail.

mod speech_set;

use pixmo_asr::{ENCODER_PATCH, ENGINE, Error, TranscribeOptions, Transcriber, Transcript};

fn speech(name: &str) -> Vec<f32> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pixmo-audio/tests/fixtures")
        .join(name);
    pixmo_audio::decode_file(&path, &pixmo_audio::AudioLimits::default())
        .unwrap_or_else(|rejection| panic!("{name}: {rejection}"))
        .samples
}

/// The tiny.en transcriber, or `None` (after saying why) when the model is not fetched.
fn tiny_en() -> Option<Transcriber> {
    tiny_en_with(TranscribeOptions::default())
}

fn tiny_en_with(options: TranscribeOptions) -> Option<Transcriber> {
    let dir = pixmo_whisper::models_dir().expect("a models directory");
    match Transcriber::load(&dir, &pixmo_whisper::TINY_EN, options) {
        Ok(transcriber) => Some(transcriber),
        Err(error @ Error::ModelMissing { .. }) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping: {error}");
            None
        }
        Err(error) => panic!("{error}"),
    }
}

fn words(transcript: &Transcript) -> String {
    transcript
        .text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect()
}

#[test]
fn a_spoken_sentence_comes_back_as_its_words() {
    let Some(transcriber) = tiny_en() else { return };
    let samples = speech("speech_dog.ogg");
    let transcript = transcriber.transcribe(&samples).unwrap();
    // "A brown dog is sitting on a red couch next to a window." tiny.en hears espeak's
    // robotic voice as "and round targets sitting on a red couch next to a window."; the
    // words below are the ones it gets right.
    let heard = words(&transcript);
    for word in ["sitting", "red", "couch", "next", "window"] {
        assert!(
            heard.split_whitespace().any(|w| w == word),
            "`{word}` not in {:?}",
            transcript.text
        );
    }
    assert_eq!(transcript.language, "en");
    assert_eq!(transcript.model, "tiny.en");
    assert_eq!(transcript.model_sha256, pixmo_whisper::TINY_EN.sha256);
    assert!((transcript.duration_seconds - samples.len() as f64 / 16_000.0).abs() < 1e-9);
    assert!(!transcript.segments.is_empty());
    for segment in &transcript.segments {
        assert!(
            segment.start >= 0.0 && segment.start <= segment.end,
            "{segment:?}"
        );
        assert!(
            segment.end <= transcript.duration_seconds + 0.5,
            "{segment:?}"
        );
        assert!(
            segment.avg_logprob < 0.0 && segment.avg_logprob > -5.0,
            "{segment:?}"
        );
        assert!((0.0..=1.0).contains(&segment.no_speech_prob), "{segment:?}");
    }
    assert!(transcript.avg_logprob < 0.0 && transcript.avg_logprob > -3.0);
    assert!(
        transcript.no_speech_prob < 0.5,
        "{}",
        transcript.no_speech_prob
    );
    assert!(transcript.decoding.contains("greedy") && transcript.decoding.contains("1 thread"));
    // One thread, greedy, temperature 0: the same transcript every time.
    assert_eq!(transcriber.transcribe(&samples).unwrap(), transcript);
}

/// The whisper.cpp linked here is the one patched by `ggml/whisper_encoder.cmake` (through
/// `.cargo/config.toml`), at the revision this crate expects, and provenance says so: a build
/// that lost the patch (the cmake include not applied, whisper.cpp's code changed under it, or
/// a stale target folder: `ggml/ensure-patched.sh` rebuilds it) fails here, not silently.
#[test]
fn the_linked_whisper_cpp_carries_the_encoder_patch_and_provenance_names_it() {
    assert_eq!(
        pixmo_asr::encoder_patch(),
        Some(ENCODER_PATCH),
        "whisper.cpp system info: {}",
        whisper_rs::print_system_info()
    );
    let described = TranscribeOptions::default().describe();
    assert!(
        described.starts_with(&format!(
            "{ENGINE} with pixmo encoder patch {ENCODER_PATCH}; greedy"
        )),
        "{described}"
    );
}

#[test]
fn flash_attention_is_off_by_default_and_reaches_decoder_and_provenance() {
    let default = TranscribeOptions::default();
    assert!(!default.flash_attn);
    let on: TranscribeOptions = serde_json::from_str(r#"{"flash_attn": true}"#).unwrap();
    assert_eq!(
        on,
        TranscribeOptions {
            flash_attn: true,
            ..TranscribeOptions::default()
        }
    );
    // The default's description is the one recorded before the option existed.
    assert!(
        default.describe().ends_with(", 1 thread"),
        "{}",
        default.describe()
    );
    assert_eq!(
        on.describe(),
        format!("{}, flash attention", default.describe())
    );
    let Some(plain) = tiny_en() else { return };
    let flash = tiny_en_with(on).expect("tiny.en is there");
    let samples = speech("speech_dog.ogg");
    let (a, b) = (
        plain.transcribe(&samples).unwrap(),
        flash.transcribe(&samples).unwrap(),
    );
    assert_eq!(b.decoding, format!("{}, flash attention", a.decoding));
    // Flash attention keeps keys and values in f16 and sums the softmax in another order, so
    // the scores move (the words may or may not); both are deterministic, so equal segments
    // would mean the option never reached whisper.cpp.
    assert_ne!(a.segments, b.segments, "{:?}", a.segments);
    assert_eq!(flash.transcribe(&samples).unwrap(), b);
    let heard = words(&b);
    for word in ["couch", "window"] {
        assert!(
            heard.split_whitespace().any(|w| w == word),
            "`{word}` not in {:?}",
            b.text
        );
    }
}

/// whisper.cpp's own log lines (the `openblas` build routes them to the `log` crate).
#[cfg(feature = "openblas")]
struct Capture(std::sync::Mutex<Vec<String>>);

#[cfg(feature = "openblas")]
impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

/// The `openblas` build really runs ggml's BLAS backend: whisper.cpp names every accelerator
/// backend it initialises for a decoding state, and a build whose feature did not reach ggml
/// has only the CPU one (which it does not name).
#[cfg(feature = "openblas")]
#[test]
fn the_openblas_build_initialises_the_blas_backend() {
    static CAPTURE: Capture = Capture(std::sync::Mutex::new(Vec::new()));
    log::set_logger(&CAPTURE).expect("no other logger in this test binary");
    log::set_max_level(log::LevelFilter::Info);
    let Some(transcriber) = tiny_en() else { return };
    // The backends are initialised with a decoding state, i.e. on the first transcription.
    let transcript = transcriber.transcribe(&speech("speech_dog.ogg")).unwrap();
    assert!(
        words(&transcript).contains("couch"),
        "{:?}",
        transcript.text
    );
    let lines = CAPTURE.0.lock().expect("log lines").clone();
    assert!(
        lines.iter().any(|l| l.contains("using BLAS backend")),
        "whisper.cpp did not initialise the BLAS backend; its log:\n{}",
        lines.join("\n")
    );
}

#[test]
fn a_clip_longer_than_30_s_is_transcribed_across_windows() {
    let Some(transcriber) = tiny_en() else { return };
    // Three sentences, then the three again, with 2 s pauses: about 36 s, so the last
    // sentence lies past whisper's first 30 s window.
    let pause = vec![0f32; 32_000];
    let mut samples = Vec::new();
    let mut starts = Vec::new();
    for _ in 0..2 {
        for name in ["speech_dog.ogg", "speech_park.mp3", "speech_kitchen.ogg"] {
            starts.push(samples.len() as f64 / 16_000.0);
            samples.extend(speech(name));
            samples.extend_from_slice(&pause);
        }
    }
    let last_start = starts[5];
    assert!(last_start > 30.0, "{last_start}");
    let transcript = transcriber.transcribe(&samples).unwrap();
    let heard = words(&transcript);
    // tiny.en mishears "park on a" and "bananas on it" in espeak's voice; these it gets.
    for word in ["couch", "children", "football", "wooden", "kitchen"] {
        let count = heard.split_whitespace().filter(|w| *w == word).count();
        assert_eq!(count, 2, "`{word}` {count} times in {:?}", transcript.text);
    }
    // Timestamps run over the whole clip, in order, and place the last sentence after 30 s.
    for pair in transcript.segments.windows(2) {
        assert!(pair[0].start <= pair[1].start, "{pair:?}");
    }
    let kitchen = transcript
        .segments
        .iter()
        .filter(|segment| segment.text.to_lowercase().contains("kitchen"))
        .map(|segment| segment.start)
        .fold(0f64, f64::max);
    assert!(
        (kitchen - last_start).abs() < 3.0,
        "last sentence at {kitchen} s, spoken at {last_start} s: {:?}",
        transcript.segments
    );
}

#[test]
fn empty_audio_gives_an_empty_transcript() {
    let Some(transcriber) = tiny_en() else { return };
    let empty = transcriber.transcribe(&[]).unwrap();
    assert!(empty.text.is_empty() && empty.segments.is_empty());
    assert!(empty.avg_logprob.is_nan());
}

#[test]
fn a_missing_or_changed_model_names_the_fetch_command() {
    let dir = tempfile::tempdir().unwrap();
    let error = Transcriber::load(
        dir.path(),
        &pixmo_whisper::TINY_EN,
        TranscribeOptions::default(),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("run `pixmo models fetch whisper tiny.en`"),
        "{error}"
    );
    std::fs::write(dir.path().join("ggml-tiny.en.bin"), b"not a model").unwrap();
    let error = Transcriber::load(
        dir.path(),
        &pixmo_whisper::TINY_EN,
        TranscribeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(error, Error::ModelChanged { .. }), "{error:?}");
    // A file that is no model at all: whisper.cpp refuses it, no crash.
    let path = dir.path().join("ggml-tiny.en.bin");
    let error = Transcriber::load_file(&path, "junk", "0".repeat(64), TranscribeOptions::default())
        .unwrap_err();
    assert!(matches!(error, Error::Load { .. }), "{error:?}");
    let options = TranscribeOptions {
        language: "xx".into(),
        ..TranscribeOptions::default()
    };
    let error = Transcriber::load_file(&path, "junk", "0".repeat(64), options).unwrap_err();
    assert!(error.to_string().contains("`language` `xx`"), "{error}");
}
