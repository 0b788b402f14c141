//! PixMo-Docs in LLM mode end to end: `pixmo build docs --spec pipeline-llm.toml` driving a
//! real OpenAI-compatible server on loopback (llama.cpp's, serving SmolLM2-135M), then a
//! rebuild from the reply cache with the server gone.
//!
//! SmolLM2-135M is far too small to write usable chart specs, SVG or typst, so most records
//! end as recorded rejections; what this proves is the mechanics: every call made, every
//! failure recorded with its reason, the run completing and auditing, and a second run making
//! zero calls. Needs `PIXMO_PYTHON` with `xllamacpp` and the fetched model (see
//! `crates/pixmo-llm/ci-setup.sh`); skipped without them unless `CI` is set.

use std::path::Path;

use pixmo_llm_testkit::LlamaServer;

use crate::common::{AS_OF, ok, pixmo, shard_hashes, summary};

/// The LLM spec pointed at `base_url`, with three kinds (one per renderer language), short
/// replies and small shards.
fn llm_spec(dir: &Path, base_url: &str) -> std::path::PathBuf {
    let spec = include_str!("../../pipelines/pixmo-docs/pipeline-llm.toml");
    let mix_start = spec.find("[stages.config.mix]").expect("mix table");
    let qa_start = spec.find("[[stages]]\nname = \"qa\"").expect("qa stage");
    let llm = format!(
        "[stages.config.llm]\nbackend = \"openai\"\nbase_url = \"{base_url}/v1\"\nmodel = \"smollm2\"\nmax_concurrency = 1\ntimeout_s = 300\n\n"
    );
    let spec = format!(
        "{}[stages.config.mix]\nbar_chart = 1.0\nflowchart = 1.0\ninvoice = 1.0\n\n\
         [[stages]]\nname = \"figure\"\nkind = \"docs.llm_figure\"\nconcurrency = 2\n[stages.config]\nmax_tokens = 256\nmax_render_attempts = 2\n{llm}\
         [[stages]]\nname = \"llm_qa\"\nkind = \"docs.llm_qa\"\nconcurrency = 2\n[stages.config]\nmax_tokens = 256\n{llm}{}",
        &spec[..mix_start],
        &spec[qa_start..]
    )
    .replace("rows_per_shard = 1000", "rows_per_shard = 4");
    let path = dir.join("docs-llm.toml");
    std::fs::write(&path, spec).unwrap();
    path
}

fn build(spec: &Path, out: &Path, cache: &Path) -> serde_json::Value {
    let output = pixmo()
        .args(["build", "docs", "--spec"])
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args(["--count", "3", "--seed", "5", "--as-of", AS_OF])
        .args(["--progress", "quiet", "--jobs", "1", "--json"])
        .env("PIXMO_LLM_CACHE", cache)
        .output()
        .expect("run pixmo");
    summary(&ok(&output))
}

fn details<'a>(s: &'a serde_json::Value, stage: &str) -> &'a serde_json::Value {
    &s["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["stage"] == stage)
        .unwrap_or_else(|| panic!("stage {stage} in {s}"))["details"]
}

#[test]
fn llm_mode_runs_against_a_real_server_and_reruns_from_the_cache() {
    let Some(server) = LlamaServer::start(1) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let spec = llm_spec(tmp.path(), &server.base_url());
    let cache = tmp.path().join("llm-cache");
    let out = tmp.path().join("out");

    let first = build(&spec, &out, &cache);
    eprintln!("first run: {first:#}");
    let figure = details(&first, "figure");
    let calls = figure["llm_calls"].as_u64().unwrap();
    assert!(
        calls >= 3,
        "topics, data and code for at least one record: {figure}"
    );
    assert_eq!(figure["cache_hits"], 0);
    assert!(figure["completion_tokens"].as_u64().unwrap() > 0);
    let total = first["rows_written"].as_u64().unwrap() + first["rejects"].as_u64().unwrap();
    assert_eq!(total, 3, "every record is a row or a recorded rejection");
    const KINDS: [&str; 13] = [
        "llm_error",
        "llm_refusal",
        "llm_bad_json",
        "llm_truncated",
        "llm_bad_reply",
        "render_error",
        "no_valid_qa",
        "too_few_qa",
        "bad_qa",
        "too_small",
        "bad_aspect",
        "blank_image",
        "near_duplicate",
    ];
    for reason in first["rejects_by_reason"].as_object().unwrap().keys() {
        assert!(
            KINDS.iter().any(|k| reason.ends_with(&format!("/{k}"))),
            "unexpected reject reason {reason}"
        );
    }
    assert_eq!(
        first["rejects_by_reason"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.ends_with("/llm_error"))
            .count(),
        0,
        "the server answered every call"
    );
    ok(&pixmo().arg("audit").arg(&out).output().unwrap());
    let hashes = shard_hashes(&out.join("docs"));

    // The server is gone: a rebuild answers every call from the cache, byte for byte.
    drop(server);
    std::fs::remove_dir_all(&out).unwrap();
    let second = build(&spec, &out, &cache);
    let figure = details(&second, "figure");
    assert_eq!(figure["llm_calls"], 0, "{figure}");
    assert_eq!(figure["cache_hits"].as_u64().unwrap(), calls);
    assert_eq!(details(&second, "llm_qa")["llm_calls"], 0);
    assert_eq!(second["rejects_by_reason"], first["rejects_by_reason"]);
    assert_eq!(shard_hashes(&out.join("docs")), hashes);
    ok(&pixmo().arg("audit").arg(&out).output().unwrap());
}
