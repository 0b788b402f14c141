//! Failures: kill -9 and resume, corrupted shards, a full disk, rejected records.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{AS_OF, build, markers, ok, pixmo, shard_hashes, small_spec, sql, summary};

#[test]
fn kill_and_resume_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let (killed, clean) = (tmp.path().join("killed"), tmp.path().join("clean"));
    let mut child = pixmo()
        .args(["build", "clocks", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&killed)
        .args([
            "--count",
            "200",
            "--seed",
            "7",
            "--as-of",
            AS_OF,
            "--progress",
            "quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until at least two shards are committed (a condition, not a fixed sleep).
    let deadline = Instant::now() + Duration::from_secs(300);
    while markers(&killed.join("clocks")).len() < 2 {
        assert!(Instant::now() < deadline, "no shard committed in time");
        assert!(
            child.try_wait().unwrap().is_none(),
            "build ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let committed = markers(&killed.join("clocks")).len();
    assert!(
        committed < 21,
        "killed mid-run ({committed} shards committed)"
    );
    let out = ok(&build(&spec, &killed, 200, &["--json"]));
    let s = summary(&out);
    assert!(s["shards_skipped"].as_u64().unwrap() >= 2, "{s}");
    ok(&build(&spec, &clean, 200, &[]));
    assert_eq!(
        shard_hashes(&killed.join("clocks")),
        shard_hashes(&clean.join("clocks"))
    );
    // No temporary files survive.
    let leftovers = std::fs::read_dir(killed.join("clocks/train"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn corrupted_shards_and_markers_are_quarantined_and_recomputed() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let out_dir = tmp.path().join("out");
    ok(&build(&spec, &out_dir, 30, &[]));
    let root = out_dir.join("clocks");
    let before = shard_hashes(&root);
    let quarantined = || {
        std::fs::read_dir(root.join(".pixmo/quarantine"))
            .map(|d| d.flatten().count())
            .unwrap_or(0)
    };

    // A truncated shard: resume sees the size differ from the marker.
    let victim = root.join("train/part-00000-00001.parquet");
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() - 7]).unwrap();
    let result = build(&spec, &out_dir, 30, &["--json"]);
    let s = summary(&ok(&result));
    assert_eq!(s["shards_quarantined"], 1, "{s}");
    assert_eq!(s["records_computed"], 10, "{s}");
    assert!(String::from_utf8_lossy(&result.stderr).contains("bytes, the marker says"));
    assert_eq!(
        shard_hashes(&root),
        before,
        "recomputed shard equals the original"
    );
    assert_eq!(
        quarantined(),
        3,
        "data, rejects and marker kept, not deleted"
    );

    // A flipped bit keeps the size: resume does not re-read data, `pixmo verify` does.
    let mut bytes = std::fs::read(&victim).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&victim, &bytes).unwrap();
    let s = summary(&ok(&build(&spec, &out_dir, 30, &["--json"])));
    assert_eq!(s["records_computed"], 0, "resume trusts sizes: {s}");
    let verify = pixmo().arg("verify").arg(&root).output().unwrap();
    assert_eq!(verify.status.code(), Some(1));
    let text = String::from_utf8_lossy(&verify.stderr);
    assert!(
        text.contains("train/part-00000-00001") && text.contains("sha256"),
        "{text}"
    );
    let verify = pixmo()
        .args(["verify", "--quarantine"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(1));
    let s = summary(&ok(&build(&spec, &out_dir, 30, &["--json"])));
    assert_eq!(s["records_computed"], 10, "{s}");
    assert_eq!(shard_hashes(&root), before);
    ok(&pixmo().arg("verify").arg(&root).output().unwrap());

    // A tampered marker naming a file outside the root: refused, that file never touched.
    let outside = tmp.path().join("precious.parquet");
    std::fs::write(&outside, b"not yours").unwrap();
    let marker_path = root.join(".pixmo/commits/train/part-00000-00002.json");
    let mut marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&marker_path).unwrap()).unwrap();
    marker["file"] = outside.display().to_string().into();
    marker["bytes"] = 1.into(); // also "corrupt", to tempt a quarantine of the named file
    std::fs::write(&marker_path, serde_json::to_vec(&marker).unwrap()).unwrap();
    // And a marker that is not JSON at all.
    std::fs::write(
        root.join(".pixmo/commits/val/part-00000-00000.json"),
        b"{garbage",
    )
    .unwrap();
    let result = build(&spec, &out_dir, 30, &["--json"]);
    let s = summary(&ok(&result));
    assert_eq!(s["shards_quarantined"], 2, "{s}");
    assert_eq!(std::fs::read(&outside).unwrap(), b"not yours");
    assert_eq!(shard_hashes(&root), before);
    ok(&pixmo().arg("verify").arg(&root).output().unwrap());
    ok(&pixmo().arg("audit").arg(&root).output().unwrap());
}

/// Mounts a tmpfs of `size` at `dir`; false when this machine does not allow it.
fn mount_tmpfs(dir: &Path, size: &str) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn full_disk_stops_cleanly_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let disk = tmp.path().join("disk");
    if !mount_tmpfs(&disk, "160k") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must be able to mount a tmpfs"
        );
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let result = build(&spec, &disk, 120, &[]);
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    let committed_before = markers(&disk.join("clocks"));
    let verify_all = |root: &Path| {
        for m in markers(root) {
            let file = root.join(m["file"].as_str().unwrap());
            let bytes = std::fs::read(&file).unwrap();
            assert_eq!(
                pixmo_core::sha256_hex(&bytes),
                m["sha256"].as_str().unwrap(),
                "{}",
                file.display()
            );
        }
    };
    assert_eq!(
        result.status.code(),
        Some(2),
        "a full disk is a run-level error: {stderr}"
    );
    assert!(stderr.contains("No space left"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    verify_all(&disk.join("clocks"));
    // Grow the disk and resume: committed shards are kept, the result is complete.
    let remounted = std::process::Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(&disk)
        .status()
        .unwrap();
    assert!(remounted.success());
    let s = summary(&ok(&build(&spec, &disk, 120, &["--json"])));
    assert_eq!(
        s["shards_skipped"].as_u64().unwrap(),
        committed_before.len() as u64,
        "{s}"
    );
    verify_all(&disk.join("clocks"));
    let clean = tmp.path().join("clean");
    ok(&build(&spec, &clean, 120, &[]));
    let same = shard_hashes(&disk.join("clocks")) == shard_hashes(&clean.join("clocks"));
    let _ = std::process::Command::new("umount").arg(&disk).status();
    assert!(same, "resumed run equals an uninterrupted one");
}

#[test]
fn bad_records_are_rejected_with_reasons_and_the_run_continues() {
    let tmp = tempfile::tempdir().unwrap();
    // A strict dominant-colour gate rejects the faces on flat backgrounds.
    let spec = small_spec(tmp.path(), "");
    let strict = std::fs::read_to_string(&spec).unwrap().replace(
        "min_side = 64",
        "min_side = 64\nmax_dominant_fraction = 0.35",
    );
    std::fs::write(&spec, strict).unwrap();
    let out_dir = tmp.path().join("out");
    let s = summary(&ok(&build(&spec, &out_dir, 40, &["--json"])));
    let rejects = s["rejects"].as_u64().unwrap();
    let rows = s["dataset_rows"].as_u64().unwrap();
    assert!(rejects > 0 && rows > 0, "{s}");
    assert_eq!(rejects + rows, 40);
    assert_eq!(
        s["rejects_by_reason"]["validate/blank_image"].as_u64(),
        Some(rejects),
        "{s}"
    );
    // The rejects table is queryable, with ids and messages.
    let table = sql(
        &out_dir.join("clocks"),
        "SELECT stage, kind, count(*) AS n FROM rejects GROUP BY stage, kind",
    );
    assert!(
        table.contains("blank_image") && table.contains(&rejects.to_string()),
        "{table}"
    );
    ok(&pixmo().arg("audit").arg(&out_dir).output().unwrap());
}
