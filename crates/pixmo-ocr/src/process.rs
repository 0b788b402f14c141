//! Running a child process with a wall-clock deadline and a cap on what it prints.
//!
//! Two reader threads drain stdout (up to the cap) and stderr (its start kept, the rest
//! discarded, so the child never blocks on a full pipe) and report on one channel; the
//! caller waits on that channel until the deadline. On a timeout or an overlong output the
//! child is killed and reaped before returning. A child whose pipes are closed is exiting
//! (or misbehaving): it is reaped, or killed and reaped when it has not finished exiting.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Bytes of stderr kept for error messages.
const STDERR_KEEP: usize = 8 * 1024;

/// What a bounded run produced.
pub(crate) struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: ExitStatus,
}

/// Why a bounded run failed.
pub(crate) enum RunError {
    Spawn(std::io::Error),
    Timeout,
    TooLarge,
    Io(std::io::Error),
}

enum Report {
    Stdout(std::io::Result<Option<Vec<u8>>>),
    Stderr(Vec<u8>),
}

/// Runs `command` (stdin closed) and returns its output, killing it after `timeout` or once
/// its stdout passes `max_stdout` bytes.
pub(crate) fn run_bounded(
    mut command: Command,
    timeout: Duration,
    max_stdout: usize,
) -> Result<Output, RunError> {
    let deadline = Instant::now() + timeout;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        stop(&mut child);
        return Err(RunError::Io(std::io::Error::other("child pipes missing")));
    };
    let (tx, rx) = mpsc::channel();
    let tx_err = tx.clone();
    std::thread::spawn(move || {
        let _ = tx.send(Report::Stdout(read_capped(stdout, max_stdout)));
    });
    std::thread::spawn(move || {
        let _ = tx_err.send(Report::Stderr(read_start(stderr, STDERR_KEEP)));
    });

    let (mut out, mut err) = (None, None);
    while out.is_none() || err.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Report::Stdout(Ok(Some(bytes)))) => out = Some(bytes),
            Ok(Report::Stdout(Ok(None))) => {
                stop(&mut child);
                return Err(RunError::TooLarge);
            }
            Ok(Report::Stdout(Err(error))) => {
                stop(&mut child);
                return Err(RunError::Io(error));
            }
            Ok(Report::Stderr(bytes)) => err = Some(bytes),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                stop(&mut child);
                return Err(RunError::Timeout);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                stop(&mut child);
                return Err(RunError::Io(std::io::Error::other("reader thread ended")));
            }
        }
    }
    // Both pipes are closed: the child is exiting. Reap it; if it has not finished, it
    // closed its pipes while running on, so it is stopped (a kill does not change the exit
    // status of a process already exiting).
    let status = match child.try_wait().map_err(RunError::Io)? {
        Some(status) => status,
        None => {
            let _ = child.kill();
            child.wait().map_err(RunError::Io)?
        }
    };
    Ok(Output {
        stdout: out.unwrap_or_default(),
        stderr: err.unwrap_or_default(),
        status,
    })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Everything `reader` yields, or `None` once it passes `cap` bytes.
fn read_capped(reader: impl Read, cap: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(limit).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= cap).then_some(bytes))
}

/// The first `keep` bytes of `reader`; the rest is read and dropped.
fn read_start(mut reader: impl Read, keep: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = keep.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn output_and_status_come_back() {
        let out = run_bounded(
            sh("echo hi; echo oops >&2; exit 3"),
            Duration::from_secs(10),
            100,
        )
        .ok()
        .unwrap();
        assert_eq!(out.stdout, b"hi\n");
        assert_eq!(out.stderr, b"oops\n");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn a_child_past_its_deadline_is_killed() {
        let started = Instant::now();
        let result = run_bounded(sh("exec sleep 30"), Duration::from_millis(200), 100);
        assert!(matches!(result, Err(RunError::Timeout)));
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn endless_output_is_cut_off() {
        let result = run_bounded(sh("exec yes"), Duration::from_secs(30), 64 * 1024);
        assert!(matches!(result, Err(RunError::TooLarge)));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let result = run_bounded(
            Command::new("pixmo-no-such-program"),
            Duration::from_secs(1),
            10,
        );
        match result {
            Err(RunError::Spawn(e)) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
            _ => panic!("expected a spawn error"),
        }
    }
}
