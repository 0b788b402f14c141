//! Fetches the pinned models into the models directory (what `pixmo models fetch` does).
//!
//! `cargo run -p pixmo-llm --example fetch_models [DIR]`; `DIR` defaults to
//! `$PIXMO_MODELS_DIR`, `$XDG_CACHE_HOME/pixmo/models` or `~/.cache/pixmo/models`.

fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        let dir = match std::env::args_os().nth(1) {
            Some(dir) => dir.into(),
            None => pixmo_llm::models_dir()?,
        };
        pixmo_llm::fetch_models(&dir, &pixmo_llm::FetchOptions::from_env()).await
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
                    "{verb} {} sha256={} {}",
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
