//! The dependency invariants of ARCHITECTURE.md, checked from `cargo metadata`.

use std::collections::BTreeMap;

fn direct_deps() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

/// Packages under `pipelines/`: one crate per dataset.
fn is_pipeline(package: &str) -> bool {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../pipelines/");
    std::path::Path::new(dir).join(package).is_dir()
}

#[test]
fn heavy_and_boundary_dependencies_stay_where_they_belong() {
    let deps = direct_deps();
    for (package, list) in &deps {
        let has = |name: &str| list.iter().any(|d| d == name);
        if package != "pixmo-audit" {
            assert!(
                !has("datafusion"),
                "only pixmo-audit may depend on datafusion, not {package}"
            );
        }
        if package != "pixmo-trainer" {
            assert!(
                !has("burn") && !has("pixmo-trainer"),
                "{package} must not depend on the trainer stack"
            );
        }
        if package == "pixmo-trainer" {
            assert!(
                list.iter()
                    .filter(|d| d.starts_with("pixmo-"))
                    .all(|d| matches!(
                        d.as_str(),
                        "pixmo-annotation-schema" | "pixmo-shards" | "pixmo-eval" | "pixmo-core"
                    )),
                "the trainer depends only on the schema, the shard reader, the evaluations and the dependency-light core: {list:?}"
            );
        }
        if package != "pixmo-gen-typst" {
            for typst in ["typst", "typst-layout", "typst-render", "typst-library"] {
                assert!(
                    !has(typst),
                    "only pixmo-gen-typst may depend on typst, not {package}"
                );
            }
        }
        if package != "pixmo-llm" {
            for llm in ["candle-core", "candle-transformers"] {
                assert!(
                    !has(llm),
                    "only pixmo-llm may depend on {llm}, not {package}"
                );
            }
        }
        // The trainer builds the BPE tokenizer of a GGUF decoder (`--init-llm-gguf`) with the
        // same `tokenizers` as pixmo-llm, without candle.
        if package != "pixmo-llm" && package != "pixmo-trainer" {
            assert!(
                !has("tokenizers"),
                "only pixmo-llm and pixmo-trainer may depend on tokenizers, not {package}"
            );
        }
        if package != "pixmo-llm" && package != "pixmo-fetch" {
            assert!(
                !has("reqwest"),
                "only pixmo-llm and pixmo-fetch may depend on reqwest, not {package}"
            );
        }
        // whisper.cpp is linked by one crate; a second ggml copy (llama.cpp bindings) in the
        // same binary gives duplicate symbols, so none may enter the workspace.
        if package != "pixmo-asr" {
            assert!(
                !has("whisper-rs"),
                "only pixmo-asr may depend on whisper-rs, not {package}"
            );
        }
        for ggml in ["llama-cpp-2", "llama_cpp", "ggml", "ggml-sys", "rusty-ggml"] {
            assert!(
                !has(ggml),
                "{package} depends on {ggml}, a second ggml next to whisper.cpp"
            );
        }
        if matches!(
            package.as_str(),
            "pixmo-audio" | "pixmo-whisper" | "pixmo-fetch"
        ) {
            assert!(
                list.iter().all(|d| d != "pixmo-asr" && d != "pixmo-llm"),
                "{package} stays light (no whisper.cpp, no candle): {list:?}"
            );
        }
        if package.starts_with("pixmo-gen-") {
            assert!(
                list.iter()
                    .all(|d| !d.starts_with("pixmo-") || d == "pixmo-core"),
                "generators depend only on pixmo-core: {package} -> {list:?}"
            );
            assert!(
                !has("tokio") && !has("parquet"),
                "generators do no I/O: {package}"
            );
        }
        if package == "pixmo-annotation-schema" || package == "pixmo-core" {
            assert!(
                list.iter().all(|d| !d.starts_with("pixmo-")),
                "{package} is a leaf: {list:?}"
            );
        }
        if package == "pixmo-dag" {
            for banned in ["parquet", "arrow", "resvg", "pixmo-shards"] {
                assert!(
                    !has(banned),
                    "pixmo-dag knows no file format or renderer: {banned}"
                );
            }
        }
        // The engine knows no dataset: only the CLI (the one registry list) depends on
        // pipeline crates; they plug in through pixmo-pipeline.
        if package != "pixmo-cli" && !is_pipeline(package) {
            let pipelines: Vec<&String> = list.iter().filter(|d| is_pipeline(d)).collect();
            assert!(
                pipelines.is_empty(),
                "{package} must not depend on a pipeline crate: {pipelines:?}"
            );
        }
        if matches!(
            package.as_str(),
            "pixmo-card" | "pixmo-dag" | "pixmo-shards" | "pixmo-audit" | "pixmo-build"
        ) {
            assert!(
                !has("pixmo-pipeline"),
                "{package} is below the plug-in API and must not depend on pixmo-pipeline"
            );
        }
        if package == "pixmo-pipeline" {
            assert!(
                list.iter()
                    .filter(|d| d.starts_with("pixmo-"))
                    .all(|d| d == "pixmo-dag" || d == "pixmo-card"),
                "the plug-in API stays small: {list:?}"
            );
        }
        if package == "pixmo-shards" {
            assert!(
                !has("pixmo-dag") && !has("tokio"),
                "pixmo-shards is a plain library"
            );
        }
    }
    for package in [
        "pixmo-audit",
        "pixmo-gen-clock",
        "pixmo-gen-typst",
        "pixmo-llm",
        "pixmo-audio",
        "pixmo-asr",
    ] {
        assert!(
            deps.contains_key(package),
            "{package} is missing from the workspace"
        );
    }
}
