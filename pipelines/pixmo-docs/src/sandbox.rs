//! LLM-written code is rendered in a worker process with OS limits (`pixmo-sandbox`), never in
//! the build's own process.
//!
//! The threat: an LLM reply is a program (chart spec, SVG, typst) that can ask for unbounded
//! work. typst's `"x" * 1000000000000` aborts its process on the failed allocation, `for`
//! loops and WebAssembly plugins have no iteration or fuel limit, SVG filters cost what their
//! parameters say, and a chart spec can ask for enormous numbers of points. So each render is
//! one job, [`JOB`], in a fresh worker: it limits its address space, CPU time and open files,
//! cannot start processes, open files or sockets, and is killed at the wall-clock deadline.
//! The parent only reads the worker's reply (pixels, code and visible text), bounded in size.
//! A job's outcome depends on its input and limits only: no worker is reused, and nothing a
//! render leaves behind reaches the next one.
//!
//! The worker program is the `pixmo` binary itself (`pixmo __pixmo-sandbox-worker`), or
//! `pixmo-docs-sandbox` for this crate's tests; [`handle`] is what either runs.

use pixmo_sandbox::{Failure, Sandbox};
use serde::{Deserialize, Serialize};

use crate::kind::RenderSettings;
use crate::llm::Language;
use crate::stages::llm_figure::{Drawn, render_code};

/// The job that renders LLM-written code.
pub const JOB: &str = "docs.render_code";

/// A job that only answers, to check that a worker program serves docs jobs.
pub const PING: &str = "docs.ping";

/// What the worker needs to render one reply.
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    language: Language,
    reply: String,
    base_code: String,
    seed: u64,
    settings: RenderSettings,
}

/// What comes back next to the pixels.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    width: u32,
    height: u32,
    code: String,
    visible: serde_json::Value,
}

/// Starts what the job's libraries need before the limits forbid new threads: typst lays out
/// with rayon, which gets a one-thread pool (CPU time is then one thread's).
pub fn prepare() {
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();
}

/// Serves the docs jobs in a worker process.
///
/// # Errors
/// The renderer's message for code that does not render; a message for unknown jobs.
pub fn handle(job: &str, input: &[u8]) -> Result<Vec<u8>, String> {
    match job {
        PING => Ok(b"pong".to_vec()),
        JOB => {
            let job: Job =
                serde_json::from_slice(input).map_err(|e| format!("bad render job: {e}"))?;
            let drawn = render_code(
                job.language,
                &job.reply,
                &job.base_code,
                job.seed,
                &job.settings,
            )?;
            let header = Header {
                width: drawn.image.width,
                height: drawn.image.height,
                code: drawn.code,
                visible: drawn.visible,
            };
            let header = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
            Ok(pixmo_sandbox::pack(&header, &drawn.image.data))
        }
        other => Err(format!("unknown sandbox job `{other}`")),
    }
}

/// Checks that `sandbox`'s worker program serves docs jobs.
///
/// # Errors
/// A message with a hint.
pub fn check(sandbox: &Sandbox) -> Result<(), String> {
    match sandbox.run(PING, b"") {
        Ok(reply) if reply == b"pong" => Ok(()),
        Ok(_) => Err(format!(
            "the sandbox worker {} does not serve docs jobs",
            sandbox.program().display()
        )),
        Err(e) => Err(format!(
            "the sandbox worker {} cannot render docs jobs: {e}",
            sandbox.program().display()
        )),
    }
}

/// Renders `reply` in a new worker under `sandbox`'s limits.
///
/// # Errors
/// The [`Failure`]: the renderer's message, or the limit that ended the render.
pub fn render(
    sandbox: &Sandbox,
    language: Language,
    reply: &str,
    base_code: &str,
    seed: u64,
    settings: &RenderSettings,
) -> Result<Drawn, Failure> {
    let job = Job {
        language,
        reply: reply.to_owned(),
        base_code: base_code.to_owned(),
        seed,
        settings: settings.clone(),
    };
    let input = serde_json::to_vec(&job).map_err(|e| Failure::Setup(e.to_string()))?;
    let bytes = sandbox.run(JOB, &input)?;
    let bad = |m: String| Failure::Crashed(format!("the worker's reply is unusable: {m}"));
    let (header, pixels) = pixmo_sandbox::unpack(&bytes).map_err(bad)?;
    let header: Header = serde_json::from_slice(header).map_err(|e| bad(e.to_string()))?;
    let image =
        pixmo_core::RgbaImage::new(header.width, header.height, pixels.to_vec()).map_err(bad)?;
    Ok(Drawn {
        image,
        code: header.code,
        visible: header.visible,
    })
}
