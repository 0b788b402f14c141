//! Converts a CTranslate2 whisper model to ggml and prints what it wrote and how long it took.
//!
//! `cargo run --release -p pixmo-whisper --example convert -- MODEL.BIN VOCABULARY.TXT OUT.BIN`
//! (a model split in parts: pass the joined file).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, vocabulary, out] = args.as_slice() else {
        eprintln!("usage: convert MODEL.BIN VOCABULARY.TXT OUT.BIN");
        return std::process::ExitCode::from(2);
    };
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let start = std::time::Instant::now();
        let model = std::fs::read(model)?;
        let vocabulary = std::fs::read_to_string(vocabulary)?;
        let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
        let converted = pixmo_whisper::convert(&model, &vocabulary, &mut file)?;
        println!(
            "{out}: {} bytes, {} tokens, {} tensors, sha256 {}, {:.2} s\n{:?}",
            converted.bytes,
            converted.tokens,
            converted.tensors,
            converted.sha256,
            start.elapsed().as_secs_f64(),
            converted.hparams
        );
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
