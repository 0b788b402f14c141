//! The trails of the LLM flows: every question, draft, automatic send-back, feedback,
//! revision and acceptance of a task, in order, with the model and prompt behind each
//! answer and its timings. AskModelAnything turns live in `ama_turns`, Point-Explanations
//! turns in `explanation_turns` (the same columns; see [`Trail`]).

use serde::Serialize;
// The table name in the SQL below comes from `Trail::table` (constants); values are bound.
use sqlx::{AssertSqlSafe, Row};

use super::Store;
use crate::error::{Error, Result};

/// What one turn of the trail is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnKind {
    /// The annotator's question as sent to the LLM.
    Question,
    /// The LLM's first answer.
    Draft,
    /// The app sent the answer before back without the annotator (Point-Explanations: it
    /// cited no marked point, or one that was not marked); `text` is what the model was told.
    SendBack,
    /// What the annotator said was wrong.
    Feedback,
    /// The LLM's answer after feedback.
    Revision,
    /// The annotator accepted the answer in `text`.
    Accept,
}

impl TurnKind {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TurnKind::Question => "question",
            TurnKind::Draft => "draft",
            TurnKind::SendBack => "send_back",
            TurnKind::Feedback => "feedback",
            TurnKind::Revision => "revision",
            TurnKind::Accept => "accept",
        }
    }

    fn parse(s: &str) -> Option<TurnKind> {
        [
            TurnKind::Question,
            TurnKind::Draft,
            TurnKind::SendBack,
            TurnKind::Feedback,
            TurnKind::Revision,
            TurnKind::Accept,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One turn of the trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Turn {
    /// Position in the task's trail (1, 2, ...).
    pub seq: i64,
    /// What it is.
    pub kind: TurnKind,
    /// Who did it (for model turns: who asked).
    pub annotator_id: String,
    /// The text.
    pub text: String,
    /// JSON about the turn: a Point-Explanations question's point groups, an answer's
    /// reading in the released layout or why it was sent back; `None` otherwise.
    pub detail: Option<String>,
    /// Model name, for drafts and revisions.
    pub model_name: Option<String>,
    /// Model file (or identity) SHA-256.
    pub model_sha256: Option<String>,
    /// Prompt template id.
    pub prompt_id: Option<String>,
    /// Prompt template SHA-256.
    pub prompt_sha256: Option<String>,
    /// Sampling parameters (canonical JSON).
    pub parameters: Option<String>,
    /// Start (µs since the epoch).
    pub started_at: i64,
    /// End (µs since the epoch); equal to the start for human turns.
    pub finished_at: i64,
}

/// Which trail table a task's turns go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trail {
    /// AskModelAnything (`ama_turns`).
    AskModelAnything,
    /// Point-Explanations (`explanation_turns`).
    PointExplanations,
}

impl Trail {
    /// The table (a constant, never user input).
    fn table(self) -> &'static str {
        match self {
            Trail::AskModelAnything => "ama_turns",
            Trail::PointExplanations => "explanation_turns",
        }
    }
}

impl Store {
    /// Appends a turn to AskModelAnything task `task_id`'s trail; returns its `seq`.
    ///
    /// # Errors
    /// On database failure (a concurrent append for the same task gives a conflict).
    pub async fn add_turn(&self, task_id: i64, turn: &Turn) -> Result<i64> {
        self.add_trail_turn(Trail::AskModelAnything, task_id, turn)
            .await
    }

    /// Appends a turn to task `task_id`'s `trail`; returns its `seq`.
    ///
    /// # Errors
    /// On database failure (a concurrent append for the same task gives a conflict).
    pub async fn add_trail_turn(&self, trail: Trail, task_id: i64, turn: &Turn) -> Result<i64> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(Error::db("adding a turn"))?;
        insert_turn(&mut conn, trail, task_id, turn).await
    }

    /// Accepts an answer: records the `accept` turn and marks the holder's task done with
    /// `work`, both in one transaction.
    ///
    /// # Errors
    /// [`Error::Conflict`] or [`Error::NotFound`] when `annotator_id` does not hold it.
    pub async fn accept_answer(
        &self,
        task_id: i64,
        annotator_id: &str,
        accept: &Turn,
        work: &str,
        now_us: i64,
    ) -> Result<i64> {
        self.accept_trail_answer(
            Trail::AskModelAnything,
            task_id,
            annotator_id,
            accept,
            work,
            now_us,
        )
        .await
    }

    /// As [`Store::accept_answer`], for the task's `trail`.
    ///
    /// # Errors
    /// [`Error::Conflict`] or [`Error::NotFound`] when `annotator_id` does not hold it.
    pub async fn accept_trail_answer(
        &self,
        trail: Trail,
        task_id: i64,
        annotator_id: &str,
        accept: &Turn,
        work: &str,
        now_us: i64,
    ) -> Result<i64> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(Error::db("starting an acceptance"))?;
        let done = sqlx::query(
            "UPDATE tasks SET state = $1, saves = saves + 1, status = 'done', submitted_at = $2, \
             lease_until = NULL WHERE id = $3 AND annotator_id = $4 AND status = 'claimed'",
        )
        .bind(work)
        .bind(now_us)
        .bind(task_id)
        .bind(annotator_id)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("submitting a task"))?;
        if done.rows_affected() != 1 {
            drop(tx);
            return Err(self
                .held_task(task_id, annotator_id)
                .await
                .err()
                .unwrap_or_else(|| {
                    Error::Conflict(format!("Task {task_id} changed while accepting; try again"))
                }));
        }
        let seq = insert_turn(&mut tx, trail, task_id, accept).await?;
        tx.commit()
            .await
            .map_err(Error::db("committing an acceptance"))?;
        Ok(seq)
    }

    /// AskModelAnything task `task_id`'s trail, in order.
    ///
    /// # Errors
    /// On database failure.
    pub async fn turns(&self, task_id: i64) -> Result<Vec<Turn>> {
        self.trail_turns(Trail::AskModelAnything, task_id).await
    }

    /// Task `task_id`'s `trail`, in order.
    ///
    /// # Errors
    /// On database failure.
    pub async fn trail_turns(&self, trail: Trail, task_id: i64) -> Result<Vec<Turn>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT seq, kind, annotator_id, text, detail, model_name, model_sha256, prompt_id, \
             prompt_sha256, parameters, started_at, finished_at FROM {} \
             WHERE task_id = $1 ORDER BY seq",
            trail.table()
        )))
        .bind(task_id)
        .fetch_all(&self.pool)
        .await
        .map_err(Error::db("reading a trail"))?;
        rows.iter()
            .map(|row| -> Result<Turn, sqlx::Error> {
                let kind: String = row.try_get("kind")?;
                Ok(Turn {
                    seq: row.try_get("seq")?,
                    kind: TurnKind::parse(&kind).ok_or_else(|| {
                        sqlx::Error::Decode(format!("bad turn kind `{kind}`").into())
                    })?,
                    annotator_id: row.try_get("annotator_id")?,
                    text: row.try_get("text")?,
                    detail: row.try_get("detail")?,
                    model_name: row.try_get("model_name")?,
                    model_sha256: row.try_get("model_sha256")?,
                    prompt_id: row.try_get("prompt_id")?,
                    prompt_sha256: row.try_get("prompt_sha256")?,
                    parameters: row.try_get("parameters")?,
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                })
            })
            .collect::<Result<_, _>>()
            .map_err(Error::db("reading a trail"))
    }
}

async fn insert_turn(
    conn: &mut sqlx::AnyConnection,
    trail: Trail,
    task_id: i64,
    turn: &Turn,
) -> Result<i64> {
    let table = trail.table();
    let result = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {table} (task_id, seq, kind, annotator_id, text, model_name, \
         model_sha256, prompt_id, prompt_sha256, parameters, started_at, finished_at, detail) \
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM {table} WHERE task_id = $1), \
                 $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq"
    )))
    .bind(task_id)
    .bind(turn.kind.as_str())
    .bind(&turn.annotator_id)
    .bind(&turn.text)
    .bind(turn.model_name.clone())
    .bind(turn.model_sha256.clone())
    .bind(turn.prompt_id.clone())
    .bind(turn.prompt_sha256.clone())
    .bind(turn.parameters.clone())
    .bind(turn.started_at)
    .bind(turn.finished_at)
    .bind(turn.detail.clone())
    .fetch_one(&mut *conn)
    .await;
    match result {
        Ok(row) => row.try_get("seq").map_err(Error::db("adding a turn")),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Conflict(format!(
            "Task {task_id} got two turns at once; try again"
        ))),
        Err(e) => Err(Error::db("adding a turn")(e)),
    }
}
