//! Fetches and converts pinned whisper models into the models directory (what
//! `pixmo models fetch whisper` does), for CI setups that do not build the CLI first.
//!
//! `cargo run -p pixmo-whisper --example fetch_whisper -- [tiny.en|base]...` (default tiny.en);
//! the folder is `$PIXMO_MODELS_DIR`, `$XDG_CACHE_HOME/pixmo/models` or `~/.cache/pixmo/models`.

fn main() -> std::process::ExitCode {
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    if names.is_empty() {
        names.push(pixmo_whisper::TINY_EN.name.to_string());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        let dir = pixmo_whisper::models_dir()?;
        let options = pixmo_fetch::FetchOptions::from_env();
        let mut fetched = Vec::new();
        for name in &names {
            let spec = pixmo_whisper::WhisperSpec::named(name)?;
            fetched.push(pixmo_whisper::fetch_whisper(&dir, spec, &options).await?);
        }
        Ok::<_, pixmo_whisper::Error>(fetched)
    });
    match result {
        Ok(fetched) => {
            for model in fetched {
                let verb = if model.downloaded {
                    "fetched"
                } else {
                    "present"
                };
                println!(
                    "{verb} whisper {} sha256={} {}",
                    model.name,
                    model.sha256,
                    model.path.display()
                );
            }
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            std::process::ExitCode::from(2)
        }
    }
}
