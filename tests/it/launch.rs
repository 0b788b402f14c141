//! `pixmo launch`: snapshots of the generated files, the Kubernetes manifests checked against
//! the official client's models, and scripts run with a recording `pixmo` to show that
//! hostile names and paths stay data. The real Slurm run is `slurm.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{AS_OF, ok, pixmo, small_spec};

/// `pixmo launch SCHEDULER ...`, run in `cwd`.
fn launch(cwd: &Path, scheduler: &str, args: &[&str]) -> Output {
    pixmo()
        .current_dir(cwd)
        // Planning checks that an OpenAI backend's key variable is set (`llm_spec`); the
        // value never reaches the written files.
        .env("OPENAI_API_KEY", "sk-launch-test-not-written")
        .args(["launch", scheduler])
        .args(args)
        .output()
        .expect("run pixmo launch")
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Snapshot settings: the config hash changes whenever a stage does; it is not what these
/// snapshots are about.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"config [0-9a-f]{12}", "config [HASH]");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

const FIXED: &[&str] = &[
    "clocks",
    "--count",
    "826000",
    "--out",
    "/shared/pixmo-out",
    "--num-shards",
    "64",
    "--as-of",
    AS_OF,
    "--seed",
    "3",
];

#[test]
fn launch_slurm_files_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("launch");
    let mut args = FIXED.to_vec();
    args.extend(["--mem", "8G", "--time", "2-00:00:00", "--write"]);
    args.push(dir.to_str().unwrap());
    ok(&launch(tmp.path(), "slurm", &args));
    settings().bind(|| {
        for name in ["array.sbatch", "finalize.sbatch", "submit.sh"] {
            insta::assert_snapshot!(
                format!("launch_slurm_{}", name.replace('.', "_")),
                read(&dir, name)
            );
        }
    });
}

#[test]
fn launch_k8s_files_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("launch");
    let mut args = FIXED.to_vec();
    args[4] = "/data/pixmo";
    args.extend(["--image", "ghcr.io/example/pixmo:0.1", "--write"]);
    args.push(dir.to_str().unwrap());
    ok(&launch(tmp.path(), "k8s", &args));
    settings().bind(|| {
        for name in ["job.yaml", "finalize.yaml", "apply.sh"] {
            insta::assert_snapshot!(
                format!("launch_k8s_{}", name.replace('.', "_")),
                read(&dir, name)
            );
        }
    });
}

/// The Python with the official Kubernetes client, or `None` (a failure under `CI`).
pub(crate) fn kubernetes_python() -> Option<String> {
    let python = std::env::var("PIXMO_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_client = Command::new(&python)
        .args(["-c", "import kubernetes, yaml"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs the `kubernetes` client (.ci/run)"
        );
        eprintln!("skipped: {python} lacks the `kubernetes` client (set PIXMO_PYTHON)");
        return None;
    }
    Some(python)
}

/// Runs `tests/python/check_k8s.py` on `files`.
pub(crate) fn check_k8s(python: &str, files: &[PathBuf]) -> Output {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/python/check_k8s.py"
    );
    Command::new(python)
        .arg(script)
        .args(files)
        .output()
        .unwrap()
}

/// Every YAML document of a file, as JSON values.
fn documents(path: &Path) -> Vec<serde_json::Value> {
    use serde::Deserialize as _;
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde_json::Value::deserialize(d).unwrap())
        .collect()
}

/// The LLM-mode Docs spec with an OpenAI-compatible server that needs a key.
fn llm_spec(dir: &Path) -> PathBuf {
    let llm = "[stages.config.llm]\nbackend = \"openai\"\n\
               base_url = \"https://llm.example/v1\"\nmodel = \"Qwen/Qwen2.5-72B-Instruct\"\n\
               api_key_env = \"OPENAI_API_KEY\"\n";
    // The LLM stages' configs end with `max_tokens`: their `llm` table goes right after.
    let mut text = String::new();
    for line in include_str!("../../pipelines/pixmo-docs/pipeline-llm.toml").lines() {
        text += line;
        text.push('\n');
        if line.starts_with("max_tokens = ") {
            text += llm;
        }
    }
    assert_eq!(text.matches("\n[stages.config.llm]\n").count(), 2);
    let path = dir.join("docs-llm 'openai'.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn launch_k8s_manifests_pass_the_kubernetes_schema() {
    let Some(python) = kubernetes_python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Clocks with a spec file (a ConfigMap) and the default relative `--out`.
    let clocks = tmp.path().join("clocks");
    let spec = small_spec(tmp.path(), "");
    ok(&launch(
        tmp.path(),
        "k8s",
        &[
            "clocks",
            "--spec",
            spec.to_str().unwrap(),
            "--count",
            "100",
            "--num-shards",
            "4",
            "--write",
            clocks.to_str().unwrap(),
        ],
    ));
    // Docs in LLM mode: models, cache and the API key from a Secret.
    let docs = tmp.path().join("docs");
    let llm = llm_spec(tmp.path());
    ok(&launch(
        tmp.path(),
        "k8s",
        &[
            "docs",
            "--spec",
            llm.to_str().unwrap(),
            "--count",
            "100",
            "--num-shards",
            "4",
            "--api-key-secret",
            "llm-keys",
            "--write",
            docs.to_str().unwrap(),
        ],
    ));
    for dir in [&clocks, &docs] {
        let files = [dir.join("job.yaml"), dir.join("finalize.yaml")];
        let stdout = ok(&check_k8s(&python, &files));
        assert!(stdout.contains("documents"), "{stdout}");
    }

    let clocks_docs = documents(&clocks.join("job.yaml"));
    assert_eq!(clocks_docs[0]["kind"], "ConfigMap");
    assert_eq!(
        clocks_docs[0]["data"]["pipeline.toml"],
        std::fs::read_to_string(&spec).unwrap(),
        "the spec reaches the pod unchanged"
    );
    let container = &clocks_docs[1]["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<&str> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let at = |flag: &str| command[command.iter().position(|c| *c == flag).unwrap() + 1];
    assert_eq!(
        at("--out"),
        "/data/out",
        "relative --out lands on the volume"
    );
    assert_eq!(at("--spec"), "/etc/pixmo/pipeline.toml");
    assert!(container.get("env").is_none(), "no LLM, no secret");

    let docs_job = &documents(&docs.join("job.yaml"))[1];
    let pod = &docs_job["spec"]["template"]["spec"];
    let env = pod["containers"][0]["env"].as_array().unwrap();
    let key = env
        .iter()
        .find(|e| e["name"] == "OPENAI_API_KEY")
        .expect("the api_key_env variable");
    assert_eq!(
        key["valueFrom"]["secretKeyRef"],
        serde_json::json!({"name": "llm-keys", "key": "OPENAI_API_KEY"})
    );
    let mounts: Vec<&str> = pod["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert_eq!(mounts, ["/data", "/etc/pixmo", "/models", "/cache"]);
}

#[test]
fn launch_k8s_validator_rejects_broken_manifests() {
    let Some(python) = kubernetes_python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("launch");
    ok(&launch(
        tmp.path(),
        "k8s",
        &[
            "clocks",
            "--count",
            "100",
            "--num-shards",
            "4",
            "--write",
            dir.to_str().unwrap(),
        ],
    ));
    let good = read(&dir, "job.yaml");
    let cases = [
        ("mountPath: /data", "mountPath: data", "is not absolute"),
        (
            "volumeMounts:",
            "volumeMount:",
            "volumeMount: not in the schema",
        ),
        ("completions: 4", "completions: four", "not a valid V1Job"),
        (
            "        name: pixmo\n",
            "        nme: pixmo\n",
            "not a valid V1Job",
        ),
        ("claimName: pixmo-data", "claimName: ''", "no claimName"),
    ];
    for (from, to, expected) in cases {
        assert!(good.contains(from), "{from:?} not in:\n{good}");
        let broken = tmp.path().join("broken.yaml");
        std::fs::write(&broken, good.replacen(from, to, 1)).unwrap();
        let output = check_k8s(&python, &[broken]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            !output.status.success() && stdout.contains(expected),
            "{to:?} should fail with {expected:?}:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn launch_refuses_a_pipeline_name_with_a_newline() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = small_spec(tmp.path(), "");
    let text = std::fs::read_to_string(&spec).unwrap();
    let evil = text.replacen("name = \"clocks\"", "name = \"clocks\\n touch /tmp/x\"", 1);
    assert_ne!(text, evil);
    std::fs::write(&spec, evil).unwrap();
    for scheduler in ["slurm", "k8s"] {
        let dir = tmp.path().join(scheduler);
        let output = launch(
            tmp.path(),
            scheduler,
            &[
                "clocks",
                "--spec",
                spec.to_str().unwrap(),
                "--count",
                "10",
                "--num-shards",
                "2",
                "--write",
                dir.to_str().unwrap(),
            ],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains("control character"),
            "{stderr}"
        );
        assert!(!dir.exists(), "nothing is written");
    }
}

#[test]
fn launch_refuses_values_that_cannot_be_written_safely() {
    let tmp = tempfile::tempdir().unwrap();
    let base = ["clocks", "--count", "10", "--num-shards", "2"];
    let cases: &[(&str, &[&str], &str)] = &[
        ("slurm", &["--log-dir", "/tmp/a b"], "`#SBATCH` line"),
        ("slurm", &["--mem", "8G\n#SBATCH --x"], "--mem"),
        ("slurm", &["--time", "1;id"], "--time"),
        ("slurm", &["--partition", "a b"], "--partition"),
        ("k8s", &["--image", "x\ny: 1"], "--image"),
        ("k8s", &["--pvc", "Data: x"], "--pvc"),
        ("k8s", &["--out", "/elsewhere"], "outside the data volume"),
        ("k8s", &["--out", "../up"], "must not leave"),
        ("slurm", &["--pixmo-bin", "pixmo\nid"], "control character"),
    ];
    for (scheduler, extra, expected) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let output = launch(tmp.path(), scheduler, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(expected),
            "{extra:?}: {stderr}"
        );
    }
}

/// Arguments a recording `pixmo` (or `sbatch`) received, from the NUL-separated file it wrote.
fn recorded(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8(bytes)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_string)
        .collect()
}

/// A script that records its arguments into `$RECORD_DIR/<name>` and prints `reply`.
fn recorder(bin: &Path, name: &str, reply: &str) -> PathBuf {
    let path = bin.join(name);
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done >> \"$RECORD_DIR/{name}\"\n{reply}\n"
    );
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

#[test]
fn launch_slurm_scripts_pass_hostile_paths_as_data() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let bin = root.join("bin");
    let record = root.join("record");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&record).unwrap();
    let fake_pixmo = recorder(&bin, "pixmo", "");
    recorder(&bin, "sbatch", "echo 4242\\;local");

    // A spec folder and an output folder whose names are shell syntax; relative paths.
    let hostile = "it's $(touch pwned) `touch pwned2` \"q\" $HOME";
    std::fs::create_dir_all(root.join(hostile)).unwrap();
    let spec = small_spec(&root.join(hostile), "");
    let text = std::fs::read_to_string(&spec).unwrap().replacen(
        "name = \"clocks\"",
        "name = \"x'; touch pwned3; '\"",
        1,
    );
    std::fs::write(&spec, text).unwrap();
    let spec_rel = format!("{hostile}/clocks-small.toml");
    let out_rel = format!("out {hostile}");
    let dir = root.join("launch");
    ok(&launch(
        root,
        "slurm",
        &[
            "clocks",
            "--spec",
            &spec_rel,
            "--out",
            &out_rel,
            "--count",
            "10",
            "--num-shards",
            "2",
            "--as-of",
            AS_OF,
            "--cpus",
            "3",
            "--log-dir",
            "logs",
            "--pixmo-bin",
            fake_pixmo.to_str().unwrap(),
            "--write",
            dir.to_str().unwrap(),
        ],
    ));
    let run = |script: &str| {
        let output = Command::new("bash")
            .arg(dir.join(script))
            .current_dir(root)
            .env("RECORD_DIR", &record)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env_remove("SLURM_CPUS_PER_TASK")
            .output()
            .unwrap();
        ok(&output)
    };
    run("array.sbatch");
    let out_abs = root.join(&out_rel).display().to_string();
    let spec_abs = root.join(&spec_rel).display().to_string();
    let expected: Vec<String> = [
        "build",
        "clocks",
        "--out",
        &out_abs,
        "--spec",
        &spec_abs,
        "--count",
        "10",
        "--seed",
        "0",
        "--num-shards",
        "2",
        "--as-of",
        AS_OF,
        "--progress",
        "plain",
        "--json",
        "--jobs",
        "3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(recorded(&record.join("pixmo")), expected);
    std::fs::remove_file(record.join("pixmo")).unwrap();
    run("finalize.sbatch");
    assert_eq!(
        recorded(&record.join("pixmo")),
        ["finalize".to_string(), format!("{out_abs}/clocks")]
    );

    let submitted = run("submit.sh");
    assert!(
        submitted.contains("array=4242\n") && submitted.contains("finalize=4242\n"),
        "{submitted}"
    );
    let sbatch = recorded(&record.join("sbatch"));
    let array = dir.join("array.sbatch").display().to_string();
    let finalize = dir.join("finalize.sbatch").display().to_string();
    assert_eq!(
        sbatch,
        [
            "--parsable",
            &array,
            "--parsable",
            "--dependency=afterok:4242",
            "--kill-on-invalid-dep=yes",
            &finalize
        ]
    );
    assert!(
        root.join("logs").is_dir(),
        "submit.sh creates the log folder"
    );
    for name in ["pwned", "pwned2", "pwned3"] {
        assert!(!root.join(name).exists(), "a command in a name ran: {name}");
        assert!(!root.join(hostile).join(name).exists());
    }
}
