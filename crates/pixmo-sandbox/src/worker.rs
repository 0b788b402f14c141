//! The worker side: read one request, limit this process, run the job, write the reply, exit.

use std::io::{self, Write};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

use crate::wire::{self, Status};

/// The argument that makes a program a sandbox worker.
pub const WORKER_ARG: &str = "__pixmo-sandbox-worker";

/// A job handler: the job's name and input in; the result, or a message that says why the
/// input is refused, out.
pub type Handler = fn(&str, &[u8]) -> Result<Vec<u8>, String>;

/// Stack of the job's thread (typst and usvg recurse deeply on nested input).
const JOB_STACK: usize = 64 << 20;

/// Whether this process was started as a sandbox worker (its first argument is
/// [`WORKER_ARG`]). A program that serves jobs checks this first thing in `main`.
#[must_use]
pub fn is_worker_invocation() -> bool {
    std::env::args_os().nth(1).is_some_and(|a| a == WORKER_ARG)
}

/// Serves one job and exits: reads the request from standard input, runs `prepare` (start
/// the thread pools the job's libraries need: no thread can be started once the limits are
/// on), limits the process, runs `handler` on a thread with a large stack and writes the
/// reply to standard output. Exit status 0 when a reply was written, 3 when the request could
/// not be read or the limits not applied.
pub fn serve(prepare: fn(), handler: Handler) -> ! {
    std::panic::set_hook(Box::new(|info| {
        // The message only: locations would make rejection messages machine-specific.
        let _ = writeln!(io::stderr(), "panicked: {}", panic_text(info.payload()));
    }));
    let code = match serve_one(prepare, handler) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(io::stderr(), "pixmo sandbox worker: {e}");
            3
        }
    };
    std::process::exit(code)
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

type Outcome = std::thread::Result<Result<Vec<u8>, String>>;

fn serve_one(prepare: fn(), handler: Handler) -> io::Result<()> {
    let request = wire::read_request(&mut io::stdin().lock())?;
    prepare();
    let (go, wait) = mpsc::channel::<()>();
    let job = request.job;
    let input = request.input;
    let thread = std::thread::Builder::new()
        .name("pixmo-sandbox-job".into())
        .stack_size(JOB_STACK)
        .spawn(move || -> Option<Outcome> {
            wait.recv().ok()?;
            Some(std::panic::catch_unwind(AssertUnwindSafe(|| {
                handler(&job, &input)
            })))
        })?;
    let applied = crate::limits::apply(&request.limits);
    if let Err(e) = applied {
        drop(go);
        let _ = thread.join();
        return Err(io::Error::other(format!("cannot apply the limits: {e}")));
    }
    go.send(())
        .map_err(|_| io::Error::other("the job thread is gone"))?;
    let outcome = thread
        .join()
        .map_err(|_| io::Error::other("the job thread panicked"))?;
    let (status, body) = match outcome {
        Some(Ok(Ok(result))) => (Status::Ok, result),
        Some(Ok(Err(message))) => (Status::Rejected, message.into_bytes()),
        Some(Err(panic)) => (Status::Panicked, panic_text(&*panic).into_bytes()),
        None => return Err(io::Error::other("the job thread never started")),
    };
    wire::write_reply(&mut io::stdout().lock(), status, &body)
}
