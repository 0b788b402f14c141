//! PixMo-Cap end to end: an inbox of real recordings (espeak-ng speech, the fixtures of
//! crates/pixmo-audio) through the real whisper tiny.en and a scripted OpenAI-compatible
//! server on loopback, then a nightly refresh: late and duplicate recordings, only the new
//! records computed, committed shards byte-identical, a rerun from the reply cache with no
//! call. Skipped without the whisper model unless `CI` is set.

use std::path::{Path, PathBuf};

use pixmo_llm_testkit::{LlamaServer, Recorded, Reply, TestServer};

use crate::common::{AS_OF, card, ok, pixmo, shard_hashes, sql, summary};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn whisper_ready() -> bool {
    let dir = pixmo_whisper::models_dir().unwrap();
    if pixmo_whisper::TINY_EN.path_in(&dir).is_file() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "whisper tiny.en is missing: run `pixmo models fetch whisper tiny.en`"
    );
    eprintln!("skipping: whisper tiny.en is not fetched");
    false
}

/// A caption model that writes the transcripts back as one paragraph (so it is supported),
/// and a dialogue model with one answer the caption supports and one it does not.
fn echo_captioner(_: usize, r: &Recorded) -> Reply {
    let body = r.json();
    let prompt = body["messages"][0]["content"].as_str().unwrap_or_default();
    if prompt.contains("Write a conversation") {
        // The schema bounds the dialogue: at most `turns` (4) pairs.
        let schema = &body["response_format"]["json_schema"]["schema"];
        if schema["properties"]["dialogue"]["maxItems"] != 4 {
            return Reply::new(400, format!("unbounded dialogue schema: {schema}"));
        }
        let dialogue = serde_json::json!({"dialogue": [
            {"question": "What is in the image?", "answer": "The image shows this scene in detail."},
            {"question": "How many dogs are there?", "answer": "Seventeen dogs."}
        ]});
        return Reply::chat(&dialogue.to_string(), "stop");
    }
    let said: Vec<&str> = prompt
        .lines()
        .filter_map(|l| {
            l.split_once(": ")
                .filter(|(k, _)| k.starts_with("Transcript "))
        })
        .map(|(_, t)| t.trim())
        .collect();
    // A caption is one paragraph, and the spec's penalty reaches the server.
    if body["stop"] != serde_json::json!(["\n\n"]) || body["frequency_penalty"] != 0.3 {
        return Reply::new(400, format!("caption request without stop/penalty: {body}"));
    }
    Reply::chat(
        &format!("The image shows this scene in detail. {}", said.join(" ")),
        "stop",
    )
}

fn row(image: &str, audio: &str, annotator: &str) -> String {
    format!(
        "{{\"image\": \"{image}\", \"audio\": \"{audio}\", \"annotator\": \"{annotator}\", \"recorded_at\": \"2026-11-30T21:00:00Z\", \"license\": \"CC-BY-4.0\", \"synthetic_speech\": true, \"speech_source\": \"espeak-ng en-us\"}}\n"
    )
}

fn spec(dir: &Path, base_url: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("pipelines/pixmo-cap/pipeline.toml"))
        .unwrap()
        .replace("min_seconds = 3.0", "min_seconds = 1.0")
        .replace("rows_per_shard = 1000", "rows_per_shard = 2")
        .replace(
            "min_support = 0.5\n",
            &format!(
                "min_support = 0.5\n[stages.config.llm]\nbackend = \"openai\"\nbase_url = \"{base_url}/v1\"\nmodel = \"echo\"\n"
            ),
        );
    let path = dir.join("cap.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn build(spec: &Path, inbox: &Path, out: &Path, cache: &Path) -> std::process::Output {
    pixmo()
        .args(["build", "cap", "--spec"])
        .arg(spec)
        .arg("--inbox")
        .arg(inbox)
        .arg("--out")
        .arg(out)
        .args([
            "--as-of",
            AS_OF,
            "--progress",
            "quiet",
            "--jobs",
            "2",
            "--json",
        ])
        .env("PIXMO_LLM_CACHE", cache)
        .output()
        .expect("run pixmo")
}

#[test]
fn cap_builds_from_an_inbox_and_refreshes_only_what_is_new() {
    if !whisper_ready() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(TestServer::start(echo_captioner));
    let tmp = tempfile::tempdir().unwrap();
    let (inbox, out, cache) = (
        tmp.path().join("inbox"),
        tmp.path().join("out"),
        tmp.path().join("cache"),
    );
    std::fs::create_dir_all(inbox.join("audio")).unwrap();
    std::fs::create_dir_all(inbox.join("images")).unwrap();
    let fixtures = root().join("crates/pixmo-audio/tests/fixtures");
    for name in ["speech_dog.ogg", "speech_park.mp3", "speech_kitchen.ogg"] {
        std::fs::copy(fixtures.join(name), inbox.join("audio").join(name)).unwrap();
    }
    std::fs::write(inbox.join("audio/broken.ogg"), b"OggS but not really").unwrap();
    for (i, name) in ["hours.png", "minutes.png", "bodies.png"]
        .iter()
        .enumerate()
    {
        std::fs::copy(
            root().join("data_cards/clocks").join(name),
            inbox.join("images").join(format!("{i}.png")),
        )
        .unwrap();
    }
    let manifest = inbox.join("2026-11-30.jsonl");
    std::fs::write(
        &manifest,
        row("images/0.png", "audio/speech_dog.ogg", "ann-1")
            + &row("images/1.png", "audio/speech_park.mp3", "ann-2")
            + &row("images/2.png", "audio/broken.ogg", "ann-3"),
    )
    .unwrap();
    let spec = spec(tmp.path(), &server.url());

    // Night 1: three images; the third has only a broken recording.
    let first = summary(&ok(&build(&spec, &inbox, &out, &cache)));
    assert_eq!(first["records_computed"], 3, "{first}");
    assert_eq!(first["rows_written"], 2, "{first}");
    assert_eq!(
        first["rejects_by_reason"]["transcribe/no_usable_recording"], 1,
        "{first}"
    );
    let dataset = out.join("cap");
    let night1 = shard_hashes(&dataset);
    let calls = server.request_count();
    assert_eq!(calls, 2);
    let rows = sql(
        &dataset,
        "SELECT id, revision, array_length(transcripts) AS n, caption, synthetic_speech FROM rows ORDER BY id",
    );
    // whisper tiny.en on the espeak-ng fixtures: "... on a red couch next to a window.",
    // "Two children are playing football in a green ...".
    assert!(
        rows.contains("red couch") && rows.contains("playing football"),
        "{rows}"
    );
    assert!(!rows.contains("kitchen") && rows.contains("true"), "{rows}");

    // Night 2: a late recording of image 0, a duplicate of the park recording, half a row.
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text += &row("images/0.png", "audio/speech_kitchen.ogg", "ann-4");
    text += &row("images/1.png", "audio/speech_park.mp3", "ann-5");
    text += "{\"image\": \"images/";
    std::fs::write(&manifest, &text).unwrap();
    let output = build(&spec, &inbox, &out, &cache);
    let second = summary(&ok(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("sealed batch 1 with 1 new recordings, skipped 1 duplicate_recording"),
        "{stderr}"
    );
    assert_eq!(second["records_computed"], 1, "{second}");
    assert_eq!(second["records_skipped"], 3, "{second}");
    for (name, hash) in &night1 {
        assert_eq!(
            shard_hashes(&dataset).get(name),
            Some(hash),
            "{name} changed"
        );
    }
    let revised = sql(
        &dataset,
        "SELECT revision, array_length(transcripts) AS n, caption FROM rows WHERE revision = 2",
    );
    assert!(
        revised.contains("| 2 ") && revised.to_lowercase().contains("kitchen"),
        "{revised}"
    );

    // Night 3, through the shipped nightly script: nothing new, nothing computed, no call.
    let bin = Path::new(env!("CARGO_BIN_EXE_pixmo"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = std::process::Command::new("bash")
        .arg(root().join("pipelines/pixmo-cap/schedules/nightly.sh"))
        .env("PATH", path)
        .env("PIXMO_INBOX", &inbox)
        .env("PIXMO_OUT", &out)
        .env("PIXMO_SPEC", &spec)
        .env("PIXMO_LLM_CACHE", &cache)
        .output()
        .unwrap();
    let stdout = ok(&output);
    assert!(
        stdout.contains("\"records_computed\": 0") && stdout.contains("PASSED"),
        "{stdout}"
    );
    assert_eq!(server.request_count(), calls + 1);
    let audit = pixmo().arg("audit").arg(&dataset).output().unwrap();
    ok(&audit);

    // CapQA from the finished Cap rows: one dialogue per row, the unsupported pair dropped.
    let qa_spec = tmp.path().join("cap-qa.toml");
    std::fs::write(
        &qa_spec,
        std::fs::read_to_string(root().join("pipelines/pixmo-cap/cap-qa.toml"))
            .unwrap()
            .replace(
                "min_support = 0.6\n",
                &format!(
                    "min_support = 0.6\n[stages.config.llm]\nbackend = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"echo\"\n",
                    server.url()
                ),
            ),
    )
    .unwrap();
    let qa = |out: &Path| {
        pixmo()
            .args(["build", "cap-qa", "--spec"])
            .arg(&qa_spec)
            .arg("--from")
            .arg(&dataset)
            .arg("--out")
            .arg(out)
            .args(["--as-of", AS_OF, "--progress", "quiet", "--json"])
            .env("PIXMO_LLM_CACHE", &cache)
            .output()
            .unwrap()
    };
    let first = summary(&ok(&qa(&out)));
    assert_eq!(first["rows_written"], 3, "{first}");
    let dialogue = first["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "dialogue")
        .unwrap()["details"]
        .clone();
    assert_eq!(
        dialogue["qa_pairs_dropped"]["number_not_in_caption"], 3,
        "{dialogue}"
    );
    let rows = sql(
        &out.join("cap_qa"),
        "SELECT cap_id, question, answer, array_length(messages) AS n FROM rows ORDER BY cap_id",
    );
    assert!(
        rows.contains("[USER] What is in the image?") && !rows.contains("Seventeen"),
        "{rows}"
    );
    assert!(rows.contains("cap-") && rows.contains("| 2 "), "{rows}");
    let again = summary(&ok(&qa(&out)));
    assert_eq!(again["records_computed"], 0, "{again}");
    ok(&pixmo()
        .arg("audit")
        .arg(out.join("cap_qa"))
        .output()
        .unwrap());
    let text = card(&out.join("cap_qa"), &tmp.path().join("cards"), "cap_qa");
    assert!(text.contains("| 1 | 3 |"), "one pair per dialogue:\n{text}");

    // Editing a sealed row is refused, naming the manifest; nothing is sealed.
    let sealed = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, sealed.replacen("ann-1", "ann-9", 1)).unwrap();
    let output = build(&spec, &inbox, &out, &cache);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("2026-11-30.jsonl") && stderr.contains("append-only"),
        "{stderr}"
    );
}

#[test]
fn the_kubernetes_cron_job_is_valid_and_never_overlaps() {
    let Some(python) = crate::launch::kubernetes_python() else {
        return;
    };
    let file = root().join("pipelines/pixmo-cap/schedules/k8s-cronjob.yaml");
    let output = crate::launch::check_k8s(&python, &[file]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let text =
        std::fs::read_to_string(root().join("pipelines/pixmo-cap/schedules/k8s-cronjob.yaml"))
            .unwrap()
            .replace("Forbid", "Allow");
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, text).unwrap();
    let output = crate::launch::check_k8s(&python, &[bad]);
    assert!(!output.status.success());
}

#[test]
fn a_malformed_manifest_row_is_an_error_naming_row_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(
        inbox.join("m.csv"),
        "image,audio,annotator,recorded_at,license,mood\na.png,a.wav,x,2026-11-30T21:00:00Z,CC0-1.0,happy\n",
    )
    .unwrap();
    let output = pixmo()
        .args(["build", "cap", "--inbox"])
        .arg(&inbox)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("m.csv") && stderr.contains("row 1") && stderr.contains("`mood`"),
        "{stderr}"
    );
    assert!(!tmp.path().join("out/cap/.pixmo/inbox/00000.json").exists());
    let output = pixmo()
        .args(["build", "cap", "--count", "3", "--out"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--inbox"));
}

/// Markers committed so far under a dataset root.
fn commits(dataset: &Path) -> usize {
    ["train", "val"]
        .iter()
        .map(|split| {
            std::fs::read_dir(dataset.join(".pixmo/commits").join(split)).map_or(0, |d| {
                d.filter_map(Result::ok)
                    .filter(|e| {
                        let name = e.file_name().to_string_lossy().to_string();
                        name.ends_with(".json") && !name.starts_with('.')
                    })
                    .count()
            })
        })
        .sum()
}

#[test]
fn a_refresh_killed_midway_and_rerun_equals_an_uninterrupted_refresh() {
    if !whisper_ready() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(TestServer::start(echo_captioner));
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    // The sample inbox's first three photographs, two espeak-ng recordings each.
    ok(&pixmo()
        .args(["sample-inbox", "--out"])
        .arg(&inbox)
        .output()
        .unwrap());
    let manifest = inbox.join("sample.jsonl");
    let all = std::fs::read_to_string(&manifest).unwrap();
    let lines: Vec<&str> = all.lines().take(6).collect();
    let spec = spec(tmp.path(), &server.url()).to_path_buf();
    let spec_text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("rows_per_shard = 2", "rows_per_shard = 1");
    std::fs::write(&spec, spec_text).unwrap();
    let cache = tmp.path().join("cache");
    // Night 1 in two output folders: the first two photographs' first recordings.
    let (killed, calm) = (tmp.path().join("killed"), tmp.path().join("calm"));
    let night1: String = lines
        .iter()
        .step_by(2)
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&manifest, &night1).unwrap();
    for out in [&killed, &calm] {
        ok(&build(&spec, &inbox, out, &cache));
    }
    let committed = shard_hashes(&killed.join("cap"));
    assert_eq!(committed, shard_hashes(&calm.join("cap")));
    // Night 2: the rest arrives (a new photograph, late recordings of both),
    // appended after night 1's rows.
    let rest: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !(i % 2 == 0 && *i < 4))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(&manifest, format!("{night1}{rest}")).unwrap();
    ok(&build(&spec, &inbox, &calm, &cache));
    let before = commits(&killed.join("cap"));
    let mut child = pixmo()
        .args(["build", "cap", "--spec"])
        .arg(&spec)
        .arg("--inbox")
        .arg(&inbox)
        .arg("--out")
        .arg(&killed)
        .args(["--as-of", AS_OF, "--progress", "quiet", "--jobs", "1"])
        .env("PIXMO_LLM_CACHE", &cache)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    while commits(&killed.join("cap")) <= before {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the refresh ended before it was killed"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no shard was committed"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL, mid-refresh: one new shard committed, others not
    child.wait().unwrap();
    assert!(commits(&killed.join("cap")) < commits(&calm.join("cap")));
    let rerun = summary(&ok(&build(&spec, &inbox, &killed, &cache)));
    assert!(rerun["records_skipped"].as_u64().unwrap() > 2, "{rerun}");
    let (a, b) = (
        shard_hashes(&killed.join("cap")),
        shard_hashes(&calm.join("cap")),
    );
    assert_eq!(a, b, "killed + rerun differs from an uninterrupted refresh");
    for (name, hash) in &committed {
        assert_eq!(a.get(name), Some(hash), "night 1's {name} changed");
    }
    ok(&pixmo()
        .arg("audit")
        .arg(killed.join("cap"))
        .output()
        .unwrap());
    let text = card(&killed.join("cap"), &tmp.path().join("cards"), "cap");
    for want in [
        "Word error rate",
        "synthetic speech",
        "**Synthetic speech, not people:**",
        "text-to-speech engine (espeak-ng",
        "pixmo build cap --inbox INBOX",
        "| 2 | 2 |",
        "caption_words.png",
    ] {
        assert!(
            text.contains(want),
            "`{want}` not in the card:\n{text}\n{}",
            sql(
                &killed.join("cap"),
                "SELECT id, revision, transcripts, provenance.record_index FROM rows ORDER BY id"
            )
        );
    }
}

#[test]
fn captions_come_from_a_real_llama_cpp_server_and_reruns_from_the_cache() {
    if !whisper_ready() {
        return;
    }
    let Some(server) = LlamaServer::start(1) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    ok(&pixmo()
        .args(["sample-inbox", "--out"])
        .arg(&inbox)
        .output()
        .unwrap());
    // The coffee photograph and its two recordings.
    let manifest = inbox.join("sample.jsonl");
    let rows: String = std::fs::read_to_string(&manifest)
        .unwrap()
        .lines()
        .filter(|l| l.contains("coffee"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&manifest, rows).unwrap();
    let spec = spec(tmp.path(), &server.base_url()).to_path_buf();
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "model = \"echo\"",
        "model = \"smollm2\"\nmax_concurrency = 1\ntimeout_s = 300",
    );
    std::fs::write(&spec, text).unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let first = summary(&ok(&build(&spec, &inbox, &out, &cache)));
    let caption = first["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "caption")
        .unwrap()["details"]
        .clone();
    assert_eq!(caption["llm_calls"], 1, "{caption}");
    assert!(
        caption["completion_tokens"].as_u64().unwrap() > 0,
        "{caption}"
    );
    let total = first["rows_written"].as_u64().unwrap() + first["rejects"].as_u64().unwrap();
    assert_eq!(
        total, 1,
        "the record is a row or a recorded rejection: {first}"
    );
    for reason in first["rejects_by_reason"].as_object().unwrap().keys() {
        assert!(
            reason.starts_with("caption/") && !reason.ends_with("/llm_error"),
            "the server answered; only the caption checks may refuse: {reason}"
        );
    }
    let hashes = shard_hashes(&out.join("cap"));
    // The server is gone: a rebuild from scratch answers from the cache, byte for byte.
    drop(server);
    std::fs::remove_dir_all(&out).unwrap();
    let second = summary(&ok(&build(&spec, &inbox, &out, &cache)));
    let caption = second["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "caption")
        .unwrap()["details"]
        .clone();
    assert_eq!(
        (
            caption["llm_calls"].as_u64(),
            caption["cache_hits"].as_u64()
        ),
        (Some(0), Some(1))
    );
    assert_eq!(shard_hashes(&out.join("cap")), hashes);
}

/// A mono 16-bit WAV of `seconds` at `rate` Hz: a sine of `hz` at `amplitude` (0 is silence).
fn wav(seconds: f64, rate: u32, hz: f64, amplitude: f64) -> Vec<u8> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let frames = (seconds * f64::from(rate)) as u32;
    let mut out = Vec::with_capacity(44 + 2 * frames as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + 2 * frames).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(2 * rate).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(2 * frames).to_le_bytes());
    for i in 0..frames {
        let t = f64::from(i) / f64::from(rate);
        #[allow(clippy::cast_possible_truncation)]
        let v = (amplitude * 32767.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Every kind of bad input of the issue in one nightly batch: each is a rejection with its
/// reason (and HTTP status or audio reason in the message), and the good records commit.
#[test]
fn bad_images_and_recordings_are_rejections_with_reasons() {
    if !whisper_ready() {
        return;
    }
    let png = |name: &str| std::fs::read(root().join("data_cards/clocks").join(name)).unwrap();
    let served = png("hand_styles.png");
    let other = png("case_shapes.png");
    let (served_sha, other_sha) = (
        pixmo_core::sha256_hex(&served),
        pixmo_core::sha256_hex(&other),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(TestServer::start(move |i, r| match r.path.as_str() {
        "/img/ok.png" | "/img/changed.png" => Reply::new(200, served.clone()),
        "/img/gone.png" => Reply::new(404, "not found"),
        "/img/busy.png" => Reply::new(429, "slow down").header("retry-after", "1"),
        _ => echo_captioner(i, r),
    }));
    let tmp = tempfile::tempdir().unwrap();
    let (inbox, out, cache) = (
        tmp.path().join("inbox"),
        tmp.path().join("out"),
        tmp.path().join("cache"),
    );
    std::fs::create_dir_all(inbox.join("audio")).unwrap();
    std::fs::create_dir_all(inbox.join("images")).unwrap();
    for (i, name) in [
        "hours.png",
        "minutes.png",
        "bodies.png",
        "dial_kinds.png",
        "image_sizes.png",
    ]
    .iter()
    .enumerate()
    {
        std::fs::write(inbox.join(format!("images/{i}.png")), png(name)).unwrap();
    }
    let fixtures = root().join("crates/pixmo-audio/tests/fixtures");
    for name in ["speech_dog.ogg", "speech_park.mp3"] {
        std::fs::copy(fixtures.join(name), inbox.join("audio").join(name)).unwrap();
    }
    let kitchen = std::fs::read(fixtures.join("speech_kitchen.ogg")).unwrap();
    let audio = |name: &str, bytes: &[u8]| std::fs::write(inbox.join("audio").join(name), bytes);
    audio("truncated.ogg", &kitchen[..kitchen.len() / 2]).unwrap();
    audio("silence.wav", &wav(5.0, 16_000, 440.0, 0.0)).unwrap();
    audio("ten_minutes.wav", &wav(600.0, 8_000, 300.0, 0.2)).unwrap();
    audio("not_audio.wav", &png("hours.png")).unwrap();
    for hz in [500, 600, 700, 800] {
        audio(
            &format!("tone{hz}.wav"),
            &wav(4.0, 16_000, f64::from(hz), 0.3),
        )
        .unwrap();
    }
    let base = server.url();
    let url_row = |path: &str, sha: &str, audio: &str| {
        format!(
            "{}\n",
            serde_json::json!({
                "image_url": format!("{base}{path}"), "image_sha256": sha,
                "audio": audio, "annotator": "ann-u", "recorded_at": "2026-11-30T21:00:00Z",
                "license": "CC-BY-4.0", "synthetic_speech": true, "speech_source": "espeak-ng en-us"
            })
        )
    };
    let manifest = [
        row("images/0.png", "audio/speech_dog.ogg", "ann-1"),
        url_row("/img/ok.png", &served_sha, "audio/speech_park.mp3"),
        url_row("/img/changed.png", &other_sha, "audio/tone500.wav"),
        // Images are known by their hash: each row names a different one.
        url_row(
            "/img/gone.png",
            &pixmo_core::sha256_hex(b"gone"),
            "audio/tone600.wav",
        ),
        url_row(
            "/img/busy.png",
            &pixmo_core::sha256_hex(b"busy"),
            "audio/tone700.wav",
        ),
        row("images/missing.png", "audio/tone800.wav", "ann-2"),
        row("images/1.png", "audio/truncated.ogg", "ann-3"),
        row("images/2.png", "audio/silence.wav", "ann-3"),
        row("images/3.png", "audio/ten_minutes.wav", "ann-3"),
        row("images/4.png", "audio/not_audio.wav", "ann-3"),
    ]
    .concat();
    std::fs::write(inbox.join("night.jsonl"), manifest).unwrap();
    let spec = spec(tmp.path(), &server.url());
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "kind = \"cap.image\"\n",
        "kind = \"cap.image\"\n[stages.config]\nretries = 1\nmax_wait_ms = 2000\n",
    );
    std::fs::write(&spec, text).unwrap();
    let output = pixmo()
        .args(["build", "cap", "--spec"])
        .arg(&spec)
        .arg("--inbox")
        .arg(&inbox)
        .arg("--out")
        .arg(&out)
        .args(["--as-of", AS_OF, "--progress", "quiet", "--json"])
        .env("PIXMO_LLM_CACHE", &cache)
        .env("PIXMO_IMAGE_CACHE", tmp.path().join("images"))
        .output()
        .unwrap();
    let report = summary(&ok(&output));
    assert_eq!(report["rows_written"], 2, "{report}");
    let reasons = &report["rejects_by_reason"];
    assert_eq!(reasons["image/image_sha256_mismatch"], 1, "{report}");
    assert_eq!(reasons["image/image_http"], 2, "{report}");
    assert_eq!(reasons["image/image_missing"], 1, "{report}");
    assert_eq!(reasons["transcribe/no_usable_recording"], 4, "{report}");
    let busy = server
        .requests()
        .iter()
        .filter(|r| r.path == "/img/busy.png")
        .count();
    assert_eq!(
        busy, 2,
        "a 429 is retried (retries = 1), honouring Retry-After"
    );
    let dataset = out.join("cap");
    let rejects = sql(
        &dataset,
        "SELECT kind, message FROM rejects ORDER BY kind, message",
    );
    for expected in [
        "404",
        "429",
        "silent",
        "too_long",
        "truncated",
        "unreadable",
    ] {
        assert!(rejects.contains(expected), "{expected} in:\n{rejects}");
    }
    ok(&pixmo().arg("audit").arg(&dataset).output().unwrap());
}

/// Sealing from several processes at once while rows keep arriving: every manifest row ends
/// up in exactly one sealed batch (as a recording or a skip), and a process that lost a race
/// says so and changes nothing. Seal-only runs, so no model is needed.
#[test]
fn concurrent_seals_take_every_row_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (inbox, out) = (tmp.path().join("inbox"), tmp.path().join("out"));
    std::fs::create_dir_all(&inbox).unwrap();
    let manifest = inbox.join("rows.jsonl");
    std::fs::write(&manifest, "").unwrap();
    let seal = || {
        pixmo()
            .args(["build", "cap", "--seal-only", "--inbox"])
            .arg(&inbox)
            .arg("--out")
            .arg(&out)
            .args(["--progress", "quiet"])
            .spawn()
            .unwrap()
    };
    let rows = 12;
    let mut lost_races = 0;
    for i in 0..rows {
        // One whole line per write, appended while three sealers run.
        let line = row(
            &format!("images/{i}.png"),
            &format!("audio/{i}.wav"),
            "ann-1",
        );
        let mut sealers: Vec<std::process::Child> = (0..3).map(|_| seal()).collect();
        {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&manifest)
                .unwrap();
            file.write_all(line.as_bytes()).unwrap();
        }
        for child in sealers.drain(..) {
            let output = child.wait_with_output().unwrap();
            if !output.status.success() {
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert!(stderr.contains("run again"), "{stderr}");
                lost_races += 1;
            }
        }
    }
    let last = seal().wait_with_output().unwrap();
    assert!(last.status.success());
    let batches =
        pixmo_cap::inbox::load_ledger(&pixmo_cap::inbox::ledger_dir(&out.join("cap"))).unwrap();
    let mut taken: Vec<usize> = batches
        .iter()
        .flat_map(|b| {
            b.recordings
                .iter()
                .map(|r| r.row)
                .chain(b.skipped.iter().map(|s| s.row))
        })
        .collect();
    taken.sort_unstable();
    assert_eq!(
        taken,
        (1..=rows).collect::<Vec<_>>(),
        "every row sealed exactly once ({} batches, {lost_races} lost races)",
        batches.len()
    );
    eprintln!(
        "{} batches, {lost_races} sealers lost a race",
        batches.len()
    );
}

/// Two nightly refreshes at once: the second sees the first's lock and leaves at once, while
/// the first (held mid-build by a stand-in `pixmo` that waits on a pipe) is still running.
#[test]
fn a_second_nightly_refresh_leaves_while_the_first_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let gate = tmp.path().join("gate");
    let started = tmp.path().join("started");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&gate)
            .status()
            .unwrap()
            .success()
    );
    // Stands in for `pixmo`: `build` says it started, then blocks until the gate is written.
    let stand_in = format!(
        "#!/usr/bin/env bash\nif [ \"$1\" = build ]; then echo started > '{}'; read -r _ < '{}'; fi\necho \"pixmo $1 done\"\n",
        started.display(),
        gate.display()
    );
    let script = bin.join("pixmo");
    std::fs::write(&script, stand_in).unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let nightly = || {
        let mut command = std::process::Command::new("bash");
        command
            .arg(root().join("pipelines/pixmo-cap/schedules/nightly.sh"))
            .env("PATH", &path)
            .env("PIXMO_INBOX", tmp.path().join("inbox"))
            .env("PIXMO_OUT", tmp.path().join("out"))
            .stdout(std::process::Stdio::piped());
        command
    };
    let first = nightly().spawn().unwrap();
    // Wait (on a pipe, not a clock) until the first run is inside its build.
    let (probe_tx, probe_rx) = std::sync::mpsc::channel();
    let started_path = started.clone();
    std::thread::spawn(move || {
        loop {
            if std::fs::read_to_string(&started_path).is_ok_and(|s| s.contains("started")) {
                probe_tx.send(()).unwrap();
                return;
            }
            std::thread::yield_now();
        }
    });
    probe_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the first refresh started its build");
    let second = nightly().output().unwrap();
    assert!(second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("another refresh is running"),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    std::fs::write(&gate, "go\n").unwrap();
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success());
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("pixmo build done") && stdout.contains("pixmo audit done"),
        "{stdout}"
    );
    // With the first finished, a refresh runs again (its stand-in build reads a plain file).
    std::fs::remove_file(&gate).unwrap();
    std::fs::write(&gate, "go\n").unwrap();
    let third = nightly().output().unwrap();
    assert!(!String::from_utf8_lossy(&third.stdout).contains("another refresh"));
}
