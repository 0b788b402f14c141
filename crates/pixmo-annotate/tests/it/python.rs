//! The export read back by independent readers: Hugging Face `datasets` (images decoded
//! through the `Image` feature) and pyarrow (the trails joined to the rows by id), and
//! checked by `pixmo audit` (`pixmo_audit::audit`, the library behind the command). Needs
//! `PIXMO_PYTHON` with `datasets` (`.ci/run` makes that venv); skipped otherwise unless `CI`.

use pixmo_annotate::store::{Trail, Turn, TurnKind, now_us};
use pixmo_annotate::{ExportOptions, TaskKind, TaskMode};

use crate::common::{invite, seeded_store, sqlite};

fn turn(kind: TurnKind, who: &str, text: &str, model: bool) -> Turn {
    let now = now_us();
    Turn {
        seq: 0,
        kind,
        annotator_id: who.to_string(),
        text: text.to_string(),
        detail: None,
        model_name: model.then(|| "scripted".to_string()),
        model_sha256: model.then(|| "0".repeat(64)),
        prompt_id: model.then(|| "annotate.ama.draft.v1".to_string()),
        prompt_sha256: model.then(|| "1".repeat(64)),
        parameters: model.then(|| "{}".to_string()),
        started_at: now,
        finished_at: now + 1000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hugging_face_datasets_loads_the_export() {
    let python = std::env::var("PIXMO_PYTHON").unwrap_or_else(|_| "python3".into());
    let ready = std::process::Command::new(&python)
        .args(["-c", "import datasets, pyarrow, PIL"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI provides datasets in PIXMO_PYTHON (.ci/run)"
        );
        eprintln!("skipping: {python} lacks datasets/pyarrow/Pillow (set PIXMO_PYTHON)");
        return;
    }
    let db = sqlite();
    let images = tempfile::tempdir().unwrap();
    let store = seeded_store(
        &db.url,
        images.path(),
        2,
        &[
            (TaskKind::Points, TaskMode::Counting),
            (TaskKind::AskModelAnything, TaskMode::Pointing),
            (TaskKind::PointExplanations, TaskMode::Pointing),
        ],
    )
    .await;
    let eve = invite(&store, "eve").await.annotator.id;
    let hour = 3_600_000_000;
    for _ in 0..2 {
        let task = store
            .claim(&eve, TaskKind::Points, now_us(), hour)
            .await
            .unwrap()
            .unwrap();
        let work = r#"{"entries":[{"label":"corners","points":[{"x":0,"y":0},{"x":64,"y":48}]},{"label":"cat","not_present":true}]}"#;
        store.submit(task.id, &eve, work, now_us()).await.unwrap();
        let task = store
            .claim(&eve, TaskKind::AskModelAnything, now_us(), hour)
            .await
            .unwrap()
            .unwrap();
        for t in [
            turn(TurnKind::Question, &eve, "What is this?", false),
            turn(TurnKind::Draft, &eve, "A gradient.", true),
            turn(TurnKind::Feedback, &eve, "Which colours?", false),
            turn(TurnKind::Revision, &eve, "A red-green gradient.", true),
        ] {
            store.add_turn(task.id, &t).await.unwrap();
        }
        let accept = turn(TurnKind::Accept, &eve, "A red-green gradient.", false);
        store
            .accept_answer(
                task.id,
                &eve,
                &accept,
                r#"{"question":"What is this?"}"#,
                now_us(),
            )
            .await
            .unwrap();

        // Point-Explanations: a draft citing nothing, sent back, a revision citing both
        // groups (pixel points of the 64x48 image), accepted.
        let task = store
            .claim(&eve, TaskKind::PointExplanations, now_us(), hour)
            .await
            .unwrap()
            .unwrap();
        let work = r#"{"question":"Where is it brightest?","groups":[{"label":"bright corner","points":[{"x":63,"y":47}]},{"label":"dark edge","points":[{"x":1,"y":10},{"x":1,"y":30}]}]}"#;
        let answer = "The <point group=\"1\">bottom-right corner</point> is brightest; the <point group=\"2\">left edge</point> is dark.";
        for t in [
            turn(TurnKind::Question, &eve, "Where is it brightest?", false),
            turn(TurnKind::Draft, &eve, "Bottom right.", true),
            turn(TurnKind::SendBack, &eve, "Cite the marked places.", false),
            turn(TurnKind::Revision, &eve, answer, true),
        ] {
            store
                .add_trail_turn(Trail::PointExplanations, task.id, &t)
                .await
                .unwrap();
        }
        let accept = turn(TurnKind::Accept, &eve, answer, false);
        store
            .accept_trail_answer(
                Trail::PointExplanations,
                task.id,
                &eve,
                &accept,
                work,
                now_us(),
            )
            .await
            .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    // `PIXMO_KEEP_EXPORT=DIR` writes the export there instead, to inspect it (`pixmo audit`).
    let out_dir =
        std::env::var_os("PIXMO_KEEP_EXPORT").map_or_else(|| out.path().to_path_buf(), Into::into);
    let report = pixmo_annotate::export::export(
        &store,
        &ExportOptions {
            out: out_dir.clone(),
            split: "train".into(),
            as_of_us: Some(0),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (
            report.points_rows,
            report.ask_model_anything_rows,
            report.point_explanations_rows
        ),
        (4, 2, 2)
    );
    // `pixmo audit` passes on every exported dataset (VLM-free lineage, provenance, ids).
    for dataset in ["points", "ask_model_anything", "point_explanations"] {
        let audit = pixmo_audit::audit(&out_dir.join(dataset)).await.unwrap();
        assert!(audit.passed(), "{dataset}:\n{}", audit.render());
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/check_export.py");
    let result = std::process::Command::new(&python)
        .arg(script)
        .arg(&out_dir)
        .env("HF_DATASETS_CACHE", out.path().join("hf-cache"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    eprint!("{stdout}");
    assert!(stdout.contains("points: 4 rows, images decode"), "{stdout}");
    assert!(
        stdout.contains("point_explanations: 2 rows, 4 citations"),
        "{stdout}"
    );
}
