//! The JSON API the pages call. Every handler checks that the caller holds the task.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, Authed, parse_json};
use crate::assistant::DraftContext;
use crate::error::{Error, Result};
use crate::ocr::OcrResult;
use crate::store::{Task, TaskKind, Trail, Turn, TurnKind, now_us};
use crate::work::{AmaWork, ExplanationWork, PointsWork, check_text};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkBody {
    work: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionBody {
    question: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FeedbackBody {
    pub feedback: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AcceptBody {
    pub seq: i64,
}

/// The trail table of a task kind with an LLM in the loop.
pub(super) fn trail_of(kind: TaskKind) -> Option<Trail> {
    match kind {
        TaskKind::AskModelAnything => Some(Trail::AskModelAnything),
        TaskKind::PointExplanations => Some(Trail::PointExplanations),
        TaskKind::Points => None,
    }
}

/// The task as the page needs it.
pub(super) async fn task_view(app: &AppState, task: &Task) -> Result<Value> {
    let image = app.store.image(&task.image_sha256).await?;
    let work: Value = serde_json::from_str(&task.state).unwrap_or_else(|_| json!({}));
    let turns = match trail_of(task.kind) {
        Some(trail) => app.store.trail_turns(trail, task.id).await?,
        None => Vec::new(),
    };
    Ok(json!({
        "id": task.id,
        "kind": task.kind.as_str(),
        "mode": task.mode.as_str(),
        "image": {
            "url": format!("/images/{}", image.image.sha256),
            "width": image.image.width,
            "height": image.image.height,
        },
        "work": work,
        "saves": task.saves,
        "lease_until": task.lease_until,
        "turns": turns.iter().map(turn_view).collect::<Vec<_>>(),
    }))
}

fn turn_view(turn: &Turn) -> Value {
    json!({
        "seq": turn.seq,
        "kind": turn.kind,
        "text": turn.text,
        "model": turn.model_name,
        "ms": (turn.finished_at - turn.started_at) / 1000,
        "detail": turn
            .detail
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok()),
    })
}

pub(super) async fn claim(
    State(app): State<AppState>,
    Authed(session, _): Authed,
    body: Bytes,
) -> Result<Json<Value>> {
    app.rate_limit(&session.annotator.id, false)?;
    let body: ClaimBody = parse_json(&body)?;
    let kind: TaskKind = body.kind.parse()?;
    let task = app
        .store
        .claim(
            &session.annotator.id,
            kind,
            now_us(),
            app.settings.lease_us(),
        )
        .await?;
    match task {
        Some(task) => Ok(Json(json!({ "task": task_view(&app, &task).await? }))),
        None => Ok(Json(json!({ "task": null }))),
    }
}

pub(super) fn parse_id(id: &str) -> Result<i64> {
    id.parse()
        .map_err(|_| Error::NotFound(format!("No task `{id}`")))
}

pub(super) async fn task(
    State(app): State<AppState>,
    Authed(session, _): Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let task = app
        .store
        .held_task(parse_id(&id)?, &session.annotator.id)
        .await?;
    Ok(Json(task_view(&app, &task).await?))
}

/// Checks `work` for `task` and returns it as canonical JSON.
async fn checked_work(app: &AppState, task: &Task, work: &Value, strict: bool) -> Result<String> {
    let text = work.to_string();
    match task.kind {
        TaskKind::Points => {
            let image = app.store.image(&task.image_sha256).await?;
            let work = PointsWork::parse(&text, image.image.width, image.image.height, strict)?;
            Ok(serde_json::to_string(&work).unwrap_or(text))
        }
        TaskKind::AskModelAnything => {
            let work = AmaWork::parse(&text)?;
            Ok(serde_json::to_string(&work).unwrap_or(text))
        }
        TaskKind::PointExplanations => {
            let image = app.store.image(&task.image_sha256).await?;
            let work =
                ExplanationWork::parse(&text, image.image.width, image.image.height, strict)?;
            Ok(serde_json::to_string(&work).unwrap_or(text))
        }
    }
}

pub(super) async fn save(
    State(app): State<AppState>,
    Authed(session, _): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    app.rate_limit(&session.annotator.id, false)?;
    let body: WorkBody = parse_json(&body)?;
    let id = parse_id(&id)?;
    let task = app.store.held_task(id, &session.annotator.id).await?;
    let state = checked_work(&app, &task, &body.work, false).await?;
    let saves = app
        .store
        .save_state(
            id,
            &session.annotator.id,
            &state,
            now_us(),
            app.settings.lease_us(),
        )
        .await?;
    Ok(Json(json!({ "saved": true, "saves": saves })))
}

pub(super) async fn submit(
    State(app): State<AppState>,
    Authed(session, _): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    app.rate_limit(&session.annotator.id, false)?;
    let body: WorkBody = parse_json(&body)?;
    let id = parse_id(&id)?;
    let task = app.store.held_task(id, &session.annotator.id).await?;
    if task.kind != TaskKind::Points {
        return Err(Error::Invalid(
            "Only Points tasks are submitted directly; accept an answer instead".into(),
        ));
    }
    let state = checked_work(&app, &task, &body.work, true).await?;
    app.store
        .submit(id, &session.annotator.id, &state, now_us())
        .await?;
    Ok(Json(json!({ "submitted": true })))
}

async fn ama_task(app: &AppState, id: &str, annotator_id: &str) -> Result<Task> {
    let task = app.store.held_task(parse_id(id)?, annotator_id).await?;
    if task.kind != TaskKind::AskModelAnything {
        return Err(Error::Invalid(format!(
            "Task {} is a {} task, not an AskModelAnything one",
            task.id, task.kind
        )));
    }
    Ok(task)
}

/// The OCR text and caption of the task's image, running OCR once when an engine is set.
pub(super) async fn context(app: &AppState, task: &Task, question: &str) -> Result<DraftContext> {
    let image = app.store.image(&task.image_sha256).await?;
    let mut ocr_json = image.ocr_json.clone();
    if let (None, Some(engine)) = (&ocr_json, &app.ocr) {
        let bytes = app.store.image_bytes(&image).await?;
        let engine = Arc::clone(engine);
        let result = tokio::task::spawn_blocking(move || engine.ocr(&bytes))
            .await
            .map_err(|e| Error::Ocr(Box::new(e)))?
            .map_err(Error::Ocr)?;
        let json = serde_json::to_string(&result).map_err(|e| Error::Ocr(Box::new(e)))?;
        app.store.set_ocr(&image.image.sha256, &json).await?;
        ocr_json = Some(json);
    }
    let ocr_text = ocr_json
        .and_then(|j| serde_json::from_str::<OcrResult>(&j).ok())
        .map(|r| r.text())
        .unwrap_or_default();
    Ok(DraftContext {
        question: question.to_string(),
        ocr_text,
        caption: image.image.caption.unwrap_or_default(),
    })
}

pub(super) fn model_turn(
    kind: TurnKind,
    annotator_id: &str,
    reply: crate::assistant::Reply,
    started: i64,
) -> Turn {
    let finished = started + i64::try_from(reply.elapsed_ms.saturating_mul(1000)).unwrap_or(0);
    Turn {
        seq: 0,
        kind,
        annotator_id: annotator_id.to_string(),
        text: reply.text,
        detail: None,
        model_name: Some(reply.provenance.name),
        model_sha256: Some(reply.provenance.file_sha256),
        prompt_id: Some(reply.provenance.prompt_template_id),
        prompt_sha256: Some(reply.provenance.prompt_template_sha256),
        parameters: Some(reply.provenance.parameters),
        started_at: started,
        finished_at: finished.max(now_us()),
    }
}

pub(super) fn human_turn(kind: TurnKind, annotator_id: &str, text: &str) -> Turn {
    let now = now_us();
    Turn {
        seq: 0,
        kind,
        annotator_id: annotator_id.to_string(),
        text: text.to_string(),
        detail: None,
        model_name: None,
        model_sha256: None,
        prompt_id: None,
        prompt_sha256: None,
        parameters: None,
        started_at: now,
        finished_at: now,
    }
}

pub(super) fn assistant(app: &AppState) -> Result<Arc<dyn crate::assistant::Assistant>> {
    app.assistant.clone().ok_or_else(|| {
        Error::Invalid("This server has no LLM configured; start it with an assistant".into())
    })
}

pub(super) async fn draft(
    State(app): State<AppState>,
    Authed(session, _): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    let me = session.annotator.id.as_str();
    app.rate_limit(me, true)?;
    let body: QuestionBody = parse_json(&body)?;
    let question = body.question.trim();
    check_text("question", question)?;
    if question.is_empty() {
        return Err(Error::Invalid("Write a question first".into()));
    }
    let task = ama_task(&app, &id, me).await?;
    let assistant = assistant(&app)?;
    let work = serde_json::to_string(&AmaWork {
        question: question.to_string(),
    })
    .unwrap_or_default();
    app.store
        .save_state(task.id, me, &work, now_us(), app.settings.lease_us())
        .await?;
    let context = context(&app, &task, question).await?;
    app.store
        .add_turn(task.id, &human_turn(TurnKind::Question, me, question))
        .await?;
    let started = now_us();
    let reply = assistant
        .draft(question, &context.ocr_text, &context.caption)
        .await?;
    app.store
        .add_turn(task.id, &model_turn(TurnKind::Draft, me, reply, started))
        .await?;
    let task = app.store.held_task(task.id, me).await?;
    Ok(Json(task_view(&app, &task).await?))
}

/// The question of the latest question turn.
fn last_question(turns: &[Turn]) -> Option<&str> {
    turns
        .iter()
        .rev()
        .find(|t| t.kind == TurnKind::Question)
        .map(|t| t.text.as_str())
}

pub(super) async fn feedback(
    State(app): State<AppState>,
    Authed(session, _): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    let me = session.annotator.id.as_str();
    app.rate_limit(me, true)?;
    let body: FeedbackBody = parse_json(&body)?;
    let feedback = body.feedback.trim();
    check_text("feedback", feedback)?;
    if feedback.is_empty() {
        return Err(Error::Invalid("Say what is wrong with the answer".into()));
    }
    let held = app.store.held_task(parse_id(&id)?, me).await?;
    if held.kind == TaskKind::PointExplanations {
        return super::explain::feedback(&app, &held, me, feedback).await;
    }
    let task = ama_task(&app, &id, me).await?;
    let assistant = assistant(&app)?;
    let turns = app.store.turns(task.id).await?;
    let Some(question) = last_question(&turns) else {
        return Err(Error::Invalid(
            "Ask for a draft before giving feedback".into(),
        ));
    };
    let context = context(&app, &task, question).await?;
    app.store
        .add_turn(task.id, &human_turn(TurnKind::Feedback, me, feedback))
        .await?;
    let history = app.store.turns(task.id).await?;
    // The conversation since the latest question.
    let start = history
        .iter()
        .rposition(|t| t.kind == TurnKind::Question)
        .unwrap_or(0);
    let started = now_us();
    let reply = assistant
        .revise(&context, &history[start..], feedback)
        .await?;
    app.store
        .add_turn(task.id, &model_turn(TurnKind::Revision, me, reply, started))
        .await?;
    app.store
        .save_state(task.id, me, &task.state, now_us(), app.settings.lease_us())
        .await?;
    let task = app.store.held_task(task.id, me).await?;
    Ok(Json(task_view(&app, &task).await?))
}

pub(super) async fn accept(
    State(app): State<AppState>,
    Authed(session, _): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    let me = session.annotator.id.as_str();
    app.rate_limit(me, false)?;
    let body: AcceptBody = parse_json(&body)?;
    let held = app.store.held_task(parse_id(&id)?, me).await?;
    if held.kind == TaskKind::PointExplanations {
        return super::explain::accept(&app, &held, me, body.seq).await;
    }
    let task = ama_task(&app, &id, me).await?;
    let turns = app.store.turns(task.id).await?;
    let Some(answer) = turns
        .iter()
        .find(|t| t.seq == body.seq && matches!(t.kind, TurnKind::Draft | TurnKind::Revision))
    else {
        return Err(Error::Invalid(format!(
            "Turn {} of task {} is not a model answer",
            body.seq, task.id
        )));
    };
    let question = turns[..turns.iter().position(|t| t.seq == answer.seq).unwrap_or(0)]
        .iter()
        .rev()
        .find(|t| t.kind == TurnKind::Question)
        .map(|t| t.text.clone())
        .unwrap_or_default();
    let mut accept = human_turn(TurnKind::Accept, me, &answer.text);
    accept.parameters = Some(json!({ "accepted_seq": answer.seq }).to_string());
    let work = serde_json::to_string(&AmaWork { question }).unwrap_or_default();
    app.store
        .accept_answer(task.id, me, &accept, &work, now_us())
        .await?;
    Ok(Json(json!({ "submitted": true })))
}

pub(super) async fn image(
    State(app): State<AppState>,
    Authed(session, _): Authed,
    Path(sha256): Path<String>,
) -> Result<Response> {
    app.rate_limit(&session.annotator.id, false)?;
    // Images are addressed by hash only: no path from the browser reaches the file system.
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::NotFound("No such image".into()));
    }
    let record = app.store.image(&sha256.to_ascii_lowercase()).await?;
    let bytes = app.store.image_bytes(&record).await?;
    let content_type = if record.image.format == "jpeg" {
        "image/jpeg"
    } else {
        "image/png"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        bytes,
    )
        .into_response())
}
