//! Real worker processes (`pixmo-sandbox-testworker`) that misbehave one way each: every
//! misbehaviour ends as the failure that names it, and the parent goes on.

use pixmo_sandbox::{Failure, Limit, Limits, Sandbox};

fn sandbox(limits: Limits) -> Sandbox {
    Sandbox::with_program(env!("CARGO_BIN_EXE_pixmo-sandbox-testworker"), limits).unwrap()
}

fn small() -> Limits {
    Limits {
        memory_bytes: 512 << 20,
        cpu_seconds: 1,
        wall_ms: 30_000,
        open_files: 16,
        max_reply_bytes: 1 << 20,
    }
}

#[test]
fn a_job_returns_its_result_or_its_refusal() {
    let s = sandbox(small());
    assert_eq!(s.run("echo", b"hello").unwrap(), b"hello");
    assert_eq!(
        s.run("refuse", b"abc"),
        Err(Failure::Rejected("refused 3 bytes".into()))
    );
    // Allocations under the limit work.
    assert_eq!(s.run("alloc", b"100000000").unwrap(), b"100000000");
}

#[test]
fn an_allocation_past_the_address_space_limit_is_a_memory_failure() {
    let s = sandbox(small());
    // What typst's `"x" * 1000000000000` does: one huge allocation that Rust cannot recover from.
    let err = s.run("alloc", b"1000000000000").unwrap_err();
    assert_eq!(err.kind(), "memory", "{err}");
    assert!(err.to_string().contains("512 MiB"), "{err}");
    // Just above the limit, too: the limit is the worker's, not the machine's.
    let err = s.run("alloc", b"600000000").unwrap_err();
    assert_eq!(err.kind(), "memory", "{err}");
    // The parent is alive and the next job is fine.
    assert_eq!(s.run("echo", b"x").unwrap(), b"x");
}

#[test]
fn an_endless_loop_ends_at_the_cpu_limit_not_the_wall_clock() {
    let s = sandbox(small());
    let err = s.run("spin", b"").unwrap_err();
    assert!(
        matches!(
            err,
            Failure::Limit {
                limit: Limit::CpuTime,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_job_that_waits_forever_is_killed_at_the_deadline() {
    let s = sandbox(Limits {
        wall_ms: 300,
        ..small()
    });
    let err = s.run("park", b"").unwrap_err();
    assert!(
        matches!(
            err,
            Failure::Limit {
                limit: Limit::WallClock,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn panics_and_stack_overflows_are_crashes_with_their_reason() {
    let s = sandbox(small());
    let err = s.run("panic", b"").unwrap_err();
    assert_eq!(
        err,
        Failure::Crashed("the job panicked: the job gave up".into())
    );
    let err = s.run("recurse", b"100000000").unwrap_err();
    assert_eq!(err.kind(), "crashed");
    assert!(err.to_string().contains("stack"), "{err}");
}

#[test]
fn replies_past_the_size_limit_are_not_read() {
    let s = sandbox(small());
    assert_eq!(s.run("big", b"1000").unwrap().len(), 1000);
    let err = s.run("big", b"5000000").unwrap_err();
    assert!(
        matches!(
            err,
            Failure::Limit {
                limit: Limit::ReplySize,
                ..
            }
        ),
        "{err:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn the_job_cannot_open_files_start_processes_or_threads_or_connect() {
    let s = sandbox(small());
    for job in ["open", "spawn", "thread", "connect"] {
        let err = s.run(job, b"").unwrap_err();
        match err {
            Failure::Rejected(message) => assert!(
                message.starts_with(&format!("{job}: ")) && message.contains("rmitted"),
                "{job}: {message}"
            ),
            other => panic!("{job}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn a_missing_program_is_a_setup_failure() {
    let s = Sandbox::with_program("/nonexistent/pixmo-worker", small()).unwrap();
    assert_eq!(s.run("echo", b"x").unwrap_err().kind(), "setup");
    assert!(
        Sandbox::with_program(
            "x",
            Limits {
                memory_bytes: 1,
                ..small()
            }
        )
        .is_err()
    );
}

#[test]
fn concurrent_jobs_do_not_disturb_each_other() {
    let s = sandbox(small());
    std::thread::scope(|scope| {
        let bomb = scope.spawn(|| s.run("alloc", b"1000000000000"));
        let spin = scope.spawn(|| s.run("spin", b""));
        let good: Vec<_> = (0..8u8)
            .map(|i| {
                let s = &s;
                scope.spawn(move || s.run("echo", &[i]))
            })
            .collect();
        for (i, g) in good.into_iter().enumerate() {
            assert_eq!(g.join().unwrap().unwrap(), vec![i as u8]);
        }
        assert_eq!(bomb.join().unwrap().unwrap_err().kind(), "memory");
        assert_eq!(spin.join().unwrap().unwrap_err().kind(), "cpu_time");
    });
}
