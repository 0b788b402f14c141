//! Transcribes audio files with a pinned whisper model and prints each transcript with its
//! real-time factor (a JSON line each):
//! `cargo run --release -p pixmo-asr --example transcribe -- [--model base] FILE...`.

fn main() -> std::process::ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut model = "tiny.en".to_string();
    if args.first().map(String::as_str) == Some("--model") && args.len() > 1 {
        model = args.remove(1);
        args.remove(0);
    }
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let spec = pixmo_whisper::WhisperSpec::named(&model)?;
        let options = pixmo_asr::TranscribeOptions {
            language: if model.ends_with(".en") { "en" } else { "auto" }.into(),
            ..pixmo_asr::TranscribeOptions::default()
        };
        let start = std::time::Instant::now();
        let transcriber =
            pixmo_asr::Transcriber::load(&pixmo_whisper::models_dir()?, spec, options)?;
        eprintln!("loaded {model} in {:.2} s", start.elapsed().as_secs_f64());
        for path in &args {
            let clip = pixmo_audio::decode_file(
                std::path::Path::new(path),
                &pixmo_audio::AudioLimits::default(),
            )?;
            let start = std::time::Instant::now();
            let transcript = transcriber.transcribe(&clip.samples)?;
            let seconds = start.elapsed().as_secs_f64();
            println!(
                "{{\"file\": {path:?}, \"audio_s\": {:.2}, \"transcribe_s\": {seconds:.2}, \"rtf\": {:.3}, \"text\": {:?}}}",
                transcript.duration_seconds,
                seconds / transcript.duration_seconds,
                transcript.text
            );
        }
        Ok(())
    };
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::from(2)
        }
    }
}
