//! Converts a CTranslate2 whisper model to ggml and prints what it wrote and how long it took.
//!
//! `cargo run --release -p pixmo-whisper --example convert -- [--q8_0] MODEL.BIN VOCABULARY.TXT OUT.BIN`
//! (a model split in parts: pass the joined file; `--q8_0` stores the weight matrices as
//! ggml `q8_0`).

fn main() -> std::process::ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let weights = if args.first().map(String::as_str) == Some("--q8_0") {
        args.remove(0);
        pixmo_whisper::Weights::Q8_0
    } else {
        pixmo_whisper::Weights::F16
    };
    let [model, vocabulary, out] = args.as_slice() else {
        eprintln!("usage: convert [--q8_0] MODEL.BIN VOCABULARY.TXT OUT.BIN");
        return std::process::ExitCode::from(2);
    };
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let start = std::time::Instant::now();
        let model = std::fs::read(model)?;
        let vocabulary = std::fs::read_to_string(vocabulary)?;
        let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
        let converted = pixmo_whisper::convert_as(&model, &vocabulary, weights, &mut file)?;
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
