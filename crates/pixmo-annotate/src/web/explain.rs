//! The Point-Explanations flow (PIXMO_DATA.md §8): the annotator marks and names the places
//! the answer must cite, then asks; `pixmo-assist` reads each answer's citations. An answer
//! that cites no marked place, a group that was not marked or coordinates that were not
//! marked is sent back to the model without the annotator (a `send_back` turn whose text is
//! what the model was told), at most [`MAX_SEND_BACKS`] times per request; the annotator can
//! then give feedback, ask again, or accept an answer whose citations check.
//!
//! Trail (`explanation_turns`): `question` (detail: the groups, pixels and percent), `draft`
//! and `revision` (detail: the answer in the released layout, or the send-back reason),
//! `send_back`, `feedback`, `accept` (detail: the accepted layout).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use pixmo_annotation_schema::Point;
use pixmo_assist::{PointGroup, Turn as AssistTurn, parse_explanation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::api::{assistant, context, human_turn, model_turn, parse_id, task_view};
use super::{AppState, Authed, parse_json};
use crate::assistant::{ExplainRequest, Reply};
use crate::error::{Error, Result};
use crate::store::{Task, TaskKind, Trail, Turn, TurnKind, now_us};
use crate::work::{ExplanationGroup, ExplanationWork};

/// Automatic send-backs per request before the annotator is asked to step in.
pub const MAX_SEND_BACKS: usize = 2;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainBody {
    work: Value,
}

/// What a `question` turn keeps: the groups as marked (pixels) and as the model saw them.
#[derive(Serialize, Deserialize)]
struct QuestionDetail {
    groups: Vec<ExplanationGroup>,
    percent: Vec<Vec<Point>>,
}

fn percent_of(groups: &[PointGroup]) -> Vec<Vec<Point>> {
    groups
        .iter()
        .map(|g| {
            g.points
                .iter()
                .map(|p| Point { x: p.x(), y: p.y() })
                .collect()
        })
        .collect()
}

async fn explanation_task(app: &AppState, id: &str, annotator_id: &str) -> Result<Task> {
    let task = app.store.held_task(parse_id(id)?, annotator_id).await?;
    if task.kind != TaskKind::PointExplanations {
        return Err(Error::Invalid(format!(
            "Task {} is a {} task, not a Point-Explanations one",
            task.id, task.kind
        )));
    }
    Ok(task)
}

/// The turns since the latest question: the question, and the rest.
fn since_question(turns: &[Turn]) -> Option<(&Turn, &[Turn])> {
    let at = turns.iter().rposition(|t| t.kind == TurnKind::Question)?;
    Some((&turns[at], &turns[at + 1..]))
}

/// The conversation after a question as `pixmo-assist` takes it: answers and feedback
/// alternating (feedback given twice in a row, as after a failed call, is joined), and the
/// feedback still waiting for an answer.
fn history(after_question: &[Turn]) -> (Vec<AssistTurn>, Option<String>) {
    let mut out: Vec<AssistTurn> = Vec::new();
    for turn in after_question {
        match turn.kind {
            TurnKind::Draft | TurnKind::Revision => out.push(AssistTurn::Answer(turn.text.clone())),
            TurnKind::SendBack | TurnKind::Feedback => match out.last_mut() {
                Some(AssistTurn::Feedback(earlier)) => {
                    earlier.push_str("\n\n");
                    earlier.push_str(&turn.text);
                }
                Some(AssistTurn::Answer(_)) => out.push(AssistTurn::Feedback(turn.text.clone())),
                // Feedback before any answer (not possible through the API): nothing to revise.
                None => {}
            },
            TurnKind::Question | TurnKind::Accept => {}
        }
    }
    match out.pop() {
        Some(AssistTurn::Feedback(pending)) => (out, Some(pending)),
        Some(answer) => {
            out.push(answer);
            (out, None)
        }
        None => (out, None),
    }
}

/// The question and its groups (as the model saw them) of a `question` turn.
fn asked(question: &Turn, width: u32, height: u32) -> Result<(ExplanationWork, Vec<PointGroup>)> {
    let detail: QuestionDetail = question
        .detail
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "Turn {} keeps no point groups (likely a bug)",
                question.seq
            ))
        })?;
    let work = ExplanationWork {
        question: question.text.clone(),
        groups: detail.groups,
        current: ExplanationGroup::default(),
    };
    let groups = work.point_groups(width, height)?;
    Ok((work, groups))
}

/// Asks the model until an answer's citations check or [`MAX_SEND_BACKS`] answers were
/// sent back; every answer and send-back is stored as it happens.
async fn converse(app: &AppState, task: &Task, me: &str, width: u32, height: u32) -> Result<()> {
    let assistant = assistant(app)?;
    for attempt in 0..=MAX_SEND_BACKS {
        let turns = app
            .store
            .trail_turns(Trail::PointExplanations, task.id)
            .await?;
        let Some((question, after)) = since_question(&turns) else {
            return Err(Error::Invalid("Ask a question first".into()));
        };
        let (_, groups) = asked(question, width, height)?;
        let (history, feedback) = history(after);
        if feedback.is_some() && history.is_empty() {
            return Err(Error::Invalid(
                "Ask for a draft before giving feedback".into(),
            ));
        }
        if attempt > 0 {
            app.llm_call(me)?;
        }
        let ctx = context(app, task, &question.text).await?;
        let kind = if history.is_empty() {
            TurnKind::Draft
        } else {
            TurnKind::Revision
        };
        let started = now_us();
        let explained = assistant
            .explain(ExplainRequest {
                question: &question.text,
                ocr_text: &ctx.ocr_text,
                caption: &ctx.caption,
                groups: &groups,
                history: &history,
                feedback: feedback.as_deref(),
            })
            .await?;
        let mut answer = model_turn(kind, me, Reply::from_draft(&explained.draft), started);
        answer.detail = Some(
            match &explained.result {
                Ok(layout) => json!({ "explanation": layout }),
                Err(back) => json!({ "send_back": back.reason }),
            }
            .to_string(),
        );
        app.store
            .add_trail_turn(Trail::PointExplanations, task.id, &answer)
            .await?;
        let back = match explained.result {
            Ok(_) => return Ok(()),
            Err(back) => back,
        };
        if attempt == MAX_SEND_BACKS {
            break;
        }
        let mut send_back = human_turn(TurnKind::SendBack, me, &back.feedback());
        send_back.detail = Some(json!({ "reason": back.reason }).to_string());
        app.store
            .add_trail_turn(Trail::PointExplanations, task.id, &send_back)
            .await?;
    }
    Ok(())
}

/// `POST /api/tasks/{id}/explain` with `{"work": {...}}`: saves the work, records the
/// question with its groups and asks the model.
pub(super) async fn explain(
    State(app): State<AppState>,
    Authed(session, _): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    let me = session.annotator.id.as_str();
    app.rate_limit(me, true)?;
    let body: ExplainBody = parse_json(&body)?;
    let task = explanation_task(&app, &id, me).await?;
    let image = app.store.image(&task.image_sha256).await?;
    let (width, height) = (image.image.width, image.image.height);
    let work = ExplanationWork::parse(&body.work.to_string(), width, height, true)?.settled();
    let groups = work.point_groups(width, height)?;
    assistant(&app)?;
    let state = serde_json::to_string(&work).unwrap_or_default();
    app.store
        .save_state(task.id, me, &state, now_us(), app.settings.lease_us())
        .await?;
    let mut question = human_turn(TurnKind::Question, me, &work.question);
    let detail = QuestionDetail {
        groups: work.groups.clone(),
        percent: percent_of(&groups),
    };
    question.detail = Some(serde_json::to_string(&detail).unwrap_or_default());
    app.store
        .add_trail_turn(Trail::PointExplanations, task.id, &question)
        .await?;
    converse(&app, &task, me, width, height).await?;
    let task = app.store.held_task(task.id, me).await?;
    Ok(Json(task_view(&app, &task).await?))
}

/// Feedback on the latest answer of a Point-Explanations task (called by `api::feedback`).
pub(super) async fn feedback(
    app: &AppState,
    task: &Task,
    me: &str,
    feedback: &str,
) -> Result<Json<Value>> {
    let image = app.store.image(&task.image_sha256).await?;
    let turns = app
        .store
        .trail_turns(Trail::PointExplanations, task.id)
        .await?;
    let answered = since_question(&turns).is_some_and(|(_, after)| {
        after
            .iter()
            .any(|t| matches!(t.kind, TurnKind::Draft | TurnKind::Revision))
    });
    if !answered {
        return Err(Error::Invalid(
            "Ask for a draft before giving feedback".into(),
        ));
    }
    assistant(app)?;
    app.store
        .add_trail_turn(
            Trail::PointExplanations,
            task.id,
            &human_turn(TurnKind::Feedback, me, feedback),
        )
        .await?;
    converse(app, task, me, image.image.width, image.image.height).await?;
    app.store
        .save_state(task.id, me, &task.state, now_us(), app.settings.lease_us())
        .await?;
    let task = app.store.held_task(task.id, me).await?;
    Ok(Json(task_view(app, &task).await?))
}

/// Accepts answer `seq` of a Point-Explanations task when its citations check against the
/// groups of its question (called by `api::accept`).
pub(super) async fn accept(app: &AppState, task: &Task, me: &str, seq: i64) -> Result<Json<Value>> {
    let image = app.store.image(&task.image_sha256).await?;
    let turns = app
        .store
        .trail_turns(Trail::PointExplanations, task.id)
        .await?;
    let Some(at) = turns
        .iter()
        .position(|t| t.seq == seq && matches!(t.kind, TurnKind::Draft | TurnKind::Revision))
    else {
        return Err(Error::Invalid(format!(
            "Turn {seq} of task {} is not a model answer",
            task.id
        )));
    };
    let answer = &turns[at];
    let Some((question, _)) = since_question(&turns[..at]) else {
        return Err(Error::Invalid(format!(
            "Turn {seq} of task {} answers no question",
            task.id
        )));
    };
    let (work, groups) = asked(question, image.image.width, image.image.height)?;
    let layout = parse_explanation(&answer.text, &groups).map_err(|back| {
        Error::Invalid(format!(
            "Answer {seq} was sent back ({}); accept an answer that cites the marked places",
            back.reason
        ))
    })?;
    let mut accept = human_turn(TurnKind::Accept, me, &answer.text);
    accept.parameters = Some(json!({ "accepted_seq": answer.seq }).to_string());
    accept.detail = Some(json!({ "explanation": layout }).to_string());
    let state = serde_json::to_string(&work).unwrap_or_default();
    app.store
        .accept_trail_answer(
            Trail::PointExplanations,
            task.id,
            me,
            &accept,
            &state,
            now_us(),
        )
        .await?;
    Ok(Json(json!({ "submitted": true })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(kind: TurnKind, text: &str) -> Turn {
        Turn {
            seq: 0,
            kind,
            annotator_id: "a".into(),
            text: text.into(),
            detail: None,
            model_name: None,
            model_sha256: None,
            prompt_id: None,
            prompt_sha256: None,
            parameters: None,
            started_at: 0,
            finished_at: 0,
        }
    }

    #[test]
    fn history_alternates_and_keeps_pending_feedback() {
        assert_eq!(history(&[]), (vec![], None));
        let a = |s: &str| AssistTurn::Answer(s.into());
        let f = |s: &str| AssistTurn::Feedback(s.into());
        let trail = [
            turn(TurnKind::Draft, "one"),
            turn(TurnKind::SendBack, "cite a point"),
            turn(TurnKind::Revision, "two"),
        ];
        assert_eq!(
            history(&trail),
            (vec![a("one"), f("cite a point"), a("two")], None)
        );
        // A send-back whose re-draft failed, then the annotator's feedback: joined.
        let trail = [
            turn(TurnKind::Draft, "one"),
            turn(TurnKind::SendBack, "cite a point"),
            turn(TurnKind::Feedback, "and be brief"),
        ];
        assert_eq!(
            history(&trail),
            (vec![a("one")], Some("cite a point\n\nand be brief".into()))
        );
    }
}
