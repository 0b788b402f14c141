//! `pixmo-docs-sandbox`: serves the docs pipeline's sandbox jobs (the `pixmo` binary serves
//! them too; this one exists so the crate's own tests have a worker program).

fn main() {
    if pixmo_sandbox::is_worker_invocation() {
        pixmo_sandbox::serve(pixmo_docs::sandbox::prepare, pixmo_docs::sandbox::handle);
    }
    eprintln!("pixmo-docs-sandbox only serves pixmo sandbox jobs (started by pixmo itself)");
    std::process::exit(2);
}
