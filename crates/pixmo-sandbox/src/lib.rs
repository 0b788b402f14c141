//! Untrusted work in a box: each job runs in a fresh worker process that limits itself with
//! the operating system's limits before it touches its input, and is killed at a wall-clock
//! deadline.
//!
//! # What a worker may do
//!
//! A worker is this program (or the program named by [`set_worker_program`] or the
//! `PIXMO_SANDBOX_WORKER` variable) started with the single argument [`WORKER_ARG`], an empty
//! environment and `/` as its folder. It reads one request from standard input, then, before
//! the job's code runs:
//!
//! - address space (`RLIMIT_AS`) is capped: an allocation past it fails, and Rust aborts the
//!   worker (reported as [`Limit::Memory`]);
//! - CPU time (`RLIMIT_CPU`) is capped: past the soft limit the kernel sends `SIGXCPU`, past
//!   the hard limit one second later `SIGKILL` (both reported as [`Limit::CpuTime`]);
//! - open files (`RLIMIT_NOFILE`), file size (`RLIMIT_FSIZE` = 0), core dumps (0) and new
//!   processes (`RLIMIT_NPROC` = 0; root ignores it) are capped;
//! - on Linux a seccomp filter refuses, for every thread: starting processes (`fork`, `vfork`,
//!   `clone` without `CLONE_THREAD`, `clone3`), `execve`, opening files and creating sockets;
//!   `no_new_privs` is set and the worker dies with its parent.
//!
//! The parent waits at most [`Limits::wall_ms`]; a worker still running then is killed
//! ([`Limit::WallClock`]). A reply longer than [`Limits::max_reply_bytes`] is not read
//! ([`Limit::ReplySize`]). A worker is never reused: a job's outcome depends on its input and
//! limits only, not on what ran before it.
//!
//! ```no_run
//! use pixmo_sandbox::{Limits, Sandbox};
//!
//! let sandbox = Sandbox::new(Limits::default()).unwrap();
//! match sandbox.run("docs.typst", b"...") {
//!     Ok(reply) => println!("{} bytes", reply.len()),
//!     Err(failure) => println!("rejected ({}): {failure}", failure.kind()),
//! }
//! ```

mod failure;
mod limits;
mod run;
mod wire;
mod worker;

pub use failure::{Failure, Limit};
pub use limits::Limits;
pub use run::{Sandbox, set_worker_program, worker_program};
pub use wire::{pack, unpack};
pub use worker::{Handler, WORKER_ARG, is_worker_invocation, serve};
