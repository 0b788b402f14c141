//! The shards read back with independent readers: pyarrow, Pillow and (when installed)
//! Hugging Face `datasets`.

use crate::common::{build, ok, small_spec};

#[test]
fn pyarrow_reads_the_shards_and_images_decode() {
    let python = std::env::var("PIXMO_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_pyarrow = std::process::Command::new(&python)
        .args(["-c", "import pyarrow, PIL"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_pyarrow {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs pyarrow and Pillow (.ci/run)"
        );
        eprintln!("skipped: {python} lacks pyarrow/Pillow (set PIXMO_PYTHON)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let out = tmp.path().join("out");
    ok(&build(&spec, &out, 25, &[]));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/python/check_shards.py"
    );
    let result = std::process::Command::new(&python)
        .arg(script)
        .arg(out.join("clocks"))
        .output()
        .unwrap();
    let stdout = ok(&result);
    assert!(stdout.contains("checked 25 rows"), "{stdout}");
}
