//! The `pixmo` command. No business logic here: argument parsing, the one list of
//! datasets and stages, printing, and exit codes (0 ok, 1 audit failed, 2 error).

mod args;
mod commands;
mod registry;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // `pixmo __pixmo-sandbox-worker`: this process renders one untrusted job under OS limits.
    if pixmo_sandbox::is_worker_invocation() {
        pixmo_sandbox::serve(registry::sandbox_prepare, registry::sandbox_job);
    }
    if let Ok(exe) = std::env::current_exe() {
        pixmo_sandbox::set_worker_program(exe);
    }
    let cli = args::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            if let Some(hint) = commands::hint_for(&err) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}
