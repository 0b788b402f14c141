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

use pixmo_llm_testkit::{LlamaServer, Recorded, Reply, TestServer};
use serde_json::{Value, json};

use crate::common::{AS_OF, card, ok, pixmo, shard_hashes, sql, summary};
use crate::docs::scalar;

/// The LLM spec pointed at `base_url`, with the given mix, reply length and small shards.
pub(crate) fn llm_spec(
    dir: &Path,
    base_url: &str,
    model: &str,
    mix: &str,
    max_tokens: u32,
) -> std::path::PathBuf {
    let spec = include_str!("../../pipelines/pixmo-docs/pipeline-llm.toml");
    let mix_start = spec.find("[stages.config.mix]").expect("mix table");
    let qa_start = spec.find("[[stages]]\nname = \"qa\"").expect("qa stage");
    let llm = format!(
        "[stages.config.llm]\nbackend = \"openai\"\nbase_url = \"{base_url}/v1\"\nmodel = \"{model}\"\nmax_concurrency = 1\ntimeout_s = 300\n\n"
    );
    let spec = format!(
        "{}[stages.config.mix]\n{mix}\n\n\
         [[stages]]\nname = \"figure\"\nkind = \"docs.llm_figure\"\nconcurrency = 2\n[stages.config]\nmax_tokens = {max_tokens}\nmax_render_attempts = 2\n{llm}\
         [[stages]]\nname = \"llm_qa\"\nkind = \"docs.llm_qa\"\nconcurrency = 2\n[stages.config]\nmax_tokens = {max_tokens}\n{llm}{}",
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

pub(crate) fn details<'a>(s: &'a serde_json::Value, stage: &str) -> &'a serde_json::Value {
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
    let spec = llm_spec(
        tmp.path(),
        &server.base_url(),
        "smollm2",
        "bar_chart = 1.0\nflowchart = 1.0\ninvoice = 1.0",
        256,
    );
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

/// The JSON object between `start` and `end` in `text`.
pub(crate) fn between(text: &str, start: &str, end: &str) -> Value {
    let a = text.find(start).expect("start marker") + start.len();
    let b = a + text[a..].find(end).expect("end marker");
    serde_json::from_str(&text[a..b]).expect("JSON between the markers")
}

/// A well-behaved model: topics, data that differ per persona, a chart spec of that data,
/// and QA computed from it.
pub(crate) fn competent(_: usize, r: &Recorded) -> Reply {
    let body = r.json();
    let text = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let reply = if text.contains("different topics") {
        json!({"topics": ["yearly rainfall by city", "ferry passengers by route"]})
    } else if text.contains("Write the data") {
        let h = text.bytes().map(u64::from).sum::<u64>();
        json!({"categories": ["Oslo", "Bergen", "Tromso"],
               "series": [{"name": "Rain", "values": [100 + h % 400, 600 + h % 900, 50 + h % 300]}]})
    } else if text.contains("chart specification") {
        let data = between(&text, "Data:\n", "\nWrite a chart");
        json!({"title": "Yearly rainfall", "x_label": "City", "y_label": "mm",
               "chart": {"type": "bar", "orientation": "vertical", "mode": "grouped",
                         "categories": data["categories"], "series": data["series"]}})
    } else {
        let data = between(&text, "<data>\n", "\n</data>");
        let values: Vec<u64> = data["series"][0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let names = ["Oslo", "Bergen", "Tromso"];
        let top = (0..3).max_by_key(|&i| values[i]).unwrap();
        json!({"qa_pairs": [
            {"question": "Which city has the most rain?", "explanation": "Its bar is tallest.", "answer": names[top], "type": "comparison"},
            {"question": "What is the total rainfall of the three cities?", "explanation": "Add the bars.", "answer": values.iter().sum::<u64>().to_string(), "type": "compositional"},
            {"question": "How much rain falls in Oslo?", "explanation": "Read Oslo's bar.", "answer": values[0].to_string(), "type": "retrieval"},
            {"question": "How much rain fell in 1950?", "explanation": "Years are not shown.", "answer": "Cannot be determined", "type": "unanswerable"}
        ]})
    };
    Reply::chat(&reply.to_string(), "stop")
}

#[test]
fn llm_rows_audit_and_record_their_prompts() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(TestServer::start(competent));
    let tmp = tempfile::tempdir().unwrap();
    let spec = llm_spec(
        tmp.path(),
        &server.url(),
        "scripted-model",
        "bar_chart = 1.0",
        512,
    );
    let out = tmp.path().join("out");
    let s = build(&spec, &out, &tmp.path().join("llm-cache"));
    assert_eq!(s["rows_written"], 3, "{s:#}");
    assert_eq!(
        details(&s, "figure")["llm_calls"],
        9,
        "topics, data, code per record"
    );
    assert_eq!(details(&s, "llm_qa")["llm_calls"], 3);
    assert_eq!(server.request_count(), 12);
    ok(&pixmo().arg("audit").arg(&out).output().unwrap());

    // Every row keeps the four checked pairs, in both released forms, with its persona.
    let table = sql(
        &out.join("docs"),
        "SELECT cardinality(qa_pairs) AS q, metadata['figure_type'] AS t, qa_pairs FROM rows",
    );
    assert_eq!(
        scalar(
            &out,
            "SELECT count(*) AS n FROM rows WHERE cardinality(qa_pairs) = 4 AND cardinality(questions) = 4 AND metadata['figure_type'] LIKE '%bar chart' AND metadata['persona'] <> ''"
        ),
        "3",
        "{table}"
    );
    // Provenance names the prompt templates and the model; the card says an LLM wrote it.
    let provenance = sql(&out.join("docs"), "SELECT provenance FROM rows LIMIT 1");
    for id in [
        "docs.pixmo_docs.topics.v1",
        "docs.pixmo_docs.code_chart_spec.v1",
        "docs.pixmo_docs.qa.v1",
        "scripted-model",
    ] {
        assert!(provenance.contains(id), "{id} missing from {provenance}");
    }
    let card = card(&out, &tmp.path().join("cards"), "docs");
    assert!(card.contains("a text-only LLM wrote the data"), "{card}");
}
