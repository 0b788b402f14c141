//! The parent side: start a worker for each job, feed it, wait for it with a deadline, and
//! say what ended it.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use crate::failure::{Failure, Limit};
use crate::limits::Limits;
use crate::wire::{self, Status};
use crate::worker::WORKER_ARG;

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// The environment variable naming the worker program (it overrides [`set_worker_program`]).
const PROGRAM_VAR: &str = "PIXMO_SANDBOX_WORKER";

/// Stderr kept per worker, in bytes (the worker says little: a panic or allocation message).
const STDERR_KEPT: u64 = 16 << 10;

/// Names the program that serves sandbox jobs when started with [`WORKER_ARG`] (the `pixmo`
/// binary names itself). The first call wins.
pub fn set_worker_program(program: impl Into<PathBuf>) {
    let _ = PROGRAM.set(program.into());
}

/// The worker program: `PIXMO_SANDBOX_WORKER` if set, else the one given to
/// [`set_worker_program`].
///
/// # Errors
/// [`Failure::Setup`] when neither names one.
pub fn worker_program() -> Result<PathBuf, Failure> {
    if let Some(p) = std::env::var_os(PROGRAM_VAR).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    PROGRAM.get().cloned().ok_or_else(|| {
        Failure::Setup(format!(
            "no sandbox worker program is known: the `pixmo` binary names itself; a library \
             user calls `pixmo_sandbox::set_worker_program` or sets {PROGRAM_VAR}"
        ))
    })
}

/// Runs jobs in fresh worker processes under [`Limits`].
#[derive(Clone, Debug)]
pub struct Sandbox {
    program: PathBuf,
    limits: Limits,
}

impl Sandbox {
    /// A sandbox running [`worker_program`].
    ///
    /// # Errors
    /// [`Failure::Setup`] when no program is known or a limit is unusable.
    pub fn new(limits: Limits) -> Result<Sandbox, Failure> {
        Sandbox::with_program(worker_program()?, limits)
    }

    /// A sandbox running `program`.
    ///
    /// # Errors
    /// [`Failure::Setup`] when a limit is unusable.
    pub fn with_program(program: impl Into<PathBuf>, limits: Limits) -> Result<Sandbox, Failure> {
        limits.validate().map_err(Failure::Setup)?;
        Ok(Sandbox {
            program: program.into(),
            limits,
        })
    }

    /// The limits of every job.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The worker program.
    #[must_use]
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Runs `job` on `input` in a new worker and returns its result.
    ///
    /// # Errors
    /// [`Failure::Rejected`] with the job's message, [`Failure::Limit`] naming the limit that
    /// ended it, [`Failure::Crashed`], or [`Failure::Setup`] when no worker could be started.
    pub fn run(&self, job: &str, input: &[u8]) -> Result<Vec<u8>, Failure> {
        let mut child = Command::new(&self.program)
            .arg(WORKER_ARG)
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Failure::Setup(format!("cannot start {}: {e}", self.program.display())))?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::Setup("the worker's pipes are missing".into()));
        };
        // Stderr and stdout are drained on their own threads so that a chatty worker never
        // blocks on a full pipe.
        let cap = self.limits.max_reply_bytes.saturating_add(64);
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        let stdout_reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let mut limited = stdout.take(cap + 1);
            let result = limited.read_to_end(&mut bytes).map(|_| bytes);
            let _ = reply_tx.send(result);
        });
        let stderr_reader = std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut stderr = stderr;
            let _ = (&mut stderr).take(STDERR_KEPT).read_to_end(&mut kept);
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
            kept
        });
        // A worker that died early closes its stdin: the error is ignored, the exit status
        // tells why.
        let _ = wire::write_request(&mut stdin, &self.limits, job, input);
        drop(stdin);

        let deadline = Duration::from_millis(self.limits.wall_ms);
        let Ok(reply) = reply_rx.recv_timeout(deadline) else {
            let _ = child.kill();
            let _ = child.wait();
            let _ = stdout_reader.join();
            let _ = stderr_reader.join();
            return Err(Failure::Limit {
                limit: Limit::WallClock,
                detail: format!("still running after {} ms; killed", self.limits.wall_ms),
            });
        };
        let status = child.wait();
        let _ = stdout_reader.join();
        let stderr = stderr_reader.join().unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr);
        let status =
            status.map_err(|e| Failure::Setup(format!("cannot wait for the worker: {e}")))?;
        if let Some(signal) = status.signal() {
            return Err(self.signalled(signal, &stderr));
        }
        let bytes =
            reply.map_err(|e| Failure::Crashed(format!("reading its reply failed: {e}")))?;
        if bytes.len() as u64 > cap {
            return Err(Failure::Limit {
                limit: Limit::ReplySize,
                detail: format!(
                    "the reply is longer than {} bytes",
                    self.limits.max_reply_bytes
                ),
            });
        }
        if !status.success() {
            return Err(Failure::Crashed(format!(
                "the worker exited with {status}{}",
                last_words(&stderr)
            )));
        }
        match wire::parse_reply(&bytes).map_err(Failure::Crashed)? {
            (Status::Ok, body) => Ok(body.to_vec()),
            (Status::Rejected, body) => Err(Failure::Rejected(
                String::from_utf8_lossy(body).into_owned(),
            )),
            (Status::Panicked, body) => Err(Failure::Crashed(format!(
                "the job panicked: {}",
                String::from_utf8_lossy(body)
            ))),
        }
    }

    fn signalled(&self, signal: i32, stderr: &str) -> Failure {
        const SIGABRT: i32 = 6;
        const SIGKILL: i32 = 9;
        const SIGSEGV: i32 = 11;
        const SIGXCPU: i32 = 24;
        let limits = &self.limits;
        match signal {
            SIGXCPU => Failure::Limit {
                limit: Limit::CpuTime,
                detail: format!("used more than {} s of CPU time", limits.cpu_seconds),
            },
            SIGKILL => Failure::Limit {
                limit: Limit::CpuTime,
                detail: format!(
                    "killed by the kernel (SIGKILL) past the {} s CPU-time hard limit or by its \
                     out-of-memory killer",
                    limits.cpu_seconds + 1
                ),
            },
            SIGABRT if stderr.contains("memory allocation of") => Failure::Limit {
                limit: Limit::Memory,
                detail: format!(
                    "an allocation failed under the {} MiB address-space limit{}",
                    limits.memory_bytes >> 20,
                    last_words(stderr)
                ),
            },
            SIGSEGV if stderr.contains("overflowed its stack") => {
                Failure::Crashed("the job overflowed its stack (nesting too deep)".into())
            }
            other => Failure::Crashed(format!(
                "the worker died from signal {other}{}",
                last_words(stderr)
            )),
        }
    }
}

/// The worker's first stderr line that explains its end, as `: <line>`.
fn last_words(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| {
            l.contains("memory allocation of")
                || l.starts_with("panicked:")
                || l.contains("overflowed its stack")
                || l.starts_with("pixmo sandbox worker:")
        })
        .map(|l| format!(": {}", l.chars().take(300).collect::<String>()))
        .unwrap_or_default()
}
