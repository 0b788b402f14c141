//! The limits of one job, and how a worker applies them to itself.

use std::io;

/// Limits of one sandboxed job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Address space of the worker (`RLIMIT_AS`), in bytes.
    pub memory_bytes: u64,
    /// CPU time of the worker (`RLIMIT_CPU` soft limit), in whole seconds (at least 1); the
    /// hard limit is one second more.
    pub cpu_seconds: u64,
    /// Wall-clock deadline, in milliseconds, after which the parent kills the worker.
    pub wall_ms: u64,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub open_files: u64,
    /// Longest reply the parent reads, in bytes.
    pub max_reply_bytes: u64,
}

impl Default for Limits {
    /// 2 GiB of address space, 10 s of CPU, a 20 s deadline (PixMo-Docs allowed 20 s per
    /// render), 16 open files, replies up to 256 MiB (a 6000 x 6000 RGBA page is 137 MiB).
    fn default() -> Limits {
        Limits {
            memory_bytes: 2 << 30,
            cpu_seconds: 10,
            wall_ms: 20_000,
            open_files: 16,
            max_reply_bytes: 256 << 20,
        }
    }
}

impl Limits {
    /// Checks that every limit is usable.
    ///
    /// # Errors
    /// A message naming the bad limit.
    pub fn validate(&self) -> Result<(), String> {
        if self.memory_bytes < 64 << 20 {
            return Err(format!(
                "the sandbox memory limit must be at least 64 MiB, not {} bytes",
                self.memory_bytes
            ));
        }
        if self.cpu_seconds == 0 || self.wall_ms == 0 || self.max_reply_bytes == 0 {
            return Err(
                "sandbox `cpu_seconds`, `wall_ms` and reply limits must be at least 1".into(),
            );
        }
        if self.open_files < 4 {
            return Err("the sandbox open-file limit must be at least 4".into());
        }
        Ok(())
    }
}

fn set(resource: rustix::process::Resource, soft: u64, hard: u64) -> io::Result<()> {
    rustix::process::setrlimit(
        resource,
        rustix::process::Rlimit {
            current: Some(soft),
            maximum: Some(hard),
        },
    )
    .map_err(io::Error::from)
}

/// Applies `limits` to the calling process (all its threads), for good.
pub(crate) fn apply(limits: &Limits) -> io::Result<()> {
    use rustix::process::Resource;
    set(Resource::Core, 0, 0)?;
    set(Resource::Fsize, 0, 0)?;
    set(Resource::Nproc, 0, 0)?;
    set(Resource::Nofile, limits.open_files, limits.open_files)?;
    let cpu = limits.cpu_seconds.max(1);
    set(Resource::Cpu, cpu, cpu + 1)?;
    set(Resource::As, limits.memory_bytes, limits.memory_bytes)?;
    rustix::thread::set_no_new_privs(true).map_err(io::Error::from)?;
    #[cfg(target_os = "linux")]
    {
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
            .map_err(io::Error::from)?;
        seccomp::install()?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
mod seccomp {
    //! The seccomp filter: no new processes, no `execve`, no opening files, no sockets.

    use std::collections::BTreeMap;
    use std::io;

    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule,
    };

    fn err(e: impl std::fmt::Display) -> io::Error {
        io::Error::other(format!("seccomp filter: {e}"))
    }

    pub(super) fn install() -> io::Result<()> {
        let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        for call in [
            libc::SYS_execve,
            libc::SYS_execveat,
            libc::SYS_clone3,
            libc::SYS_openat,
            libc::SYS_openat2,
            libc::SYS_open_by_handle_at,
            libc::SYS_socket,
            libc::SYS_socketpair,
            libc::SYS_ptrace,
        ] {
            rules.insert(call, vec![]);
        }
        #[cfg(target_arch = "x86_64")]
        for call in [
            libc::SYS_fork,
            libc::SYS_vfork,
            libc::SYS_open,
            libc::SYS_creat,
        ] {
            rules.insert(call, vec![]);
        }
        // `clone` without CLONE_THREAD makes a process.
        let not_a_thread = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
            0,
        )
        .map_err(err)?;
        rules.insert(
            libc::SYS_clone,
            vec![SeccompRule::new(vec![not_a_thread]).map_err(err)?],
        );
        let arch = std::env::consts::ARCH.try_into().map_err(err)?;
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )
        .map_err(err)?;
        let program: BpfProgram = filter.try_into().map_err(err)?;
        seccompiler::apply_filter_all_threads(&program).map_err(err)
    }
}
