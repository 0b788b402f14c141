//! The shards read back with independent readers: pyarrow, Pillow and (when installed)
//! Hugging Face `datasets`.

use crate::common::{build, ok, python_with, small_spec};

#[test]
fn pyarrow_reads_the_shards_and_images_decode() {
    let Some(python) = python_with("pyarrow, PIL") else {
        return;
    };
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
