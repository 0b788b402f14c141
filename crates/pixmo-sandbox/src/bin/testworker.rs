//! The jobs the sandbox's own tests run: each one misbehaves in one way.

use std::hint::black_box;

fn handle(job: &str, input: &[u8]) -> Result<Vec<u8>, String> {
    let n = || {
        std::str::from_utf8(input)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    match job {
        "echo" => Ok(input.to_vec()),
        "refuse" => Err(format!("refused {} bytes", input.len())),
        // One allocation of `n` bytes, touched so it is real.
        "alloc" => {
            let size = usize::try_from(n()).map_err(|e| e.to_string())?;
            let v = vec![1u8; size];
            Ok(black_box(v).len().to_string().into_bytes())
        }
        "spin" => {
            let mut x = 0u64;
            loop {
                x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        "park" => loop {
            std::thread::park();
        },
        "panic" => panic!("the job gave up"),
        "recurse" => Ok(recurse(n()).to_string().into_bytes()),
        "big" => Ok(vec![7u8; usize::try_from(n()).map_err(|e| e.to_string())?]),
        "open" => std::fs::read("/etc/hostname")
            .map(|b| b.len().to_string().into_bytes())
            .map_err(|e| format!("open: {e}")),
        "spawn" => std::process::Command::new("/bin/true")
            .status()
            .map(|s| s.to_string().into_bytes())
            .map_err(|e| format!("spawn: {e}")),
        "thread" => std::thread::Builder::new()
            .spawn(|| 1)
            .map(|h| h.join().unwrap_or(0).to_string().into_bytes())
            .map_err(|e| format!("thread: {e}")),
        "connect" => std::net::TcpStream::connect("127.0.0.1:9")
            .map(|_| b"connected".to_vec())
            .map_err(|e| format!("connect: {e}")),
        other => Err(format!("unknown job `{other}`")),
    }
}

fn recurse(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    let pad = black_box([depth; 64]);
    1 + recurse(black_box(pad[3]) - 1)
}

fn main() {
    if pixmo_sandbox::is_worker_invocation() {
        pixmo_sandbox::serve(|| {}, handle);
    }
    eprintln!("this program only serves pixmo sandbox jobs");
    std::process::exit(2);
}
