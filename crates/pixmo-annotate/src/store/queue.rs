//! The task queue: a claim hands one open task (or one whose lease expired) to one
//! annotator with one atomic `UPDATE ... RETURNING`; the holder's saves renew the lease;
//! a submitted task is done.

use std::fmt;
use std::str::FromStr;

// Dynamic SQL below is assembled from constants only; values are always bound.
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{Backend, Store};
use crate::error::{Error, Result};

/// What a task asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Referring expressions with every instance pointed at (PixMo-Points).
    Points,
    /// A question answered with the LLM's help (PixMo-AskModelAnything).
    AskModelAnything,
    /// An LLM answer citing the annotator's points (PixMo-Point-Explanations).
    PointExplanations,
}

impl TaskKind {
    /// Every kind.
    pub const ALL: [TaskKind; 3] = [
        TaskKind::Points,
        TaskKind::AskModelAnything,
        TaskKind::PointExplanations,
    ];

    /// The name stored in the database and used in URLs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Points => "points",
            TaskKind::AskModelAnything => "ask_model_anything",
            TaskKind::PointExplanations => "point_explanations",
        }
    }
}

impl FromStr for TaskKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<TaskKind> {
        TaskKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "Unknown task kind `{s}`; expected `points`, `ask_model_anything` or `point_explanations`"
                ))
            })
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the points of a task are collected (`collection_method` in PixMo-Points).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskMode {
    /// Point at the instances the expression refers to.
    Pointing,
    /// Count every instance.
    Counting,
}

impl TaskMode {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TaskMode::Pointing => "pointing",
            TaskMode::Counting => "counting",
        }
    }
}

impl FromStr for TaskMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<TaskMode> {
        match s {
            "pointing" => Ok(TaskMode::Pointing),
            "counting" => Ok(TaskMode::Counting),
            _ => Err(Error::Invalid(format!(
                "Unknown mode `{s}`; expected `pointing` or `counting`"
            ))),
        }
    }
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    /// Nobody holds it.
    Open,
    /// An annotator holds it (the lease may have expired).
    Claimed,
    /// Submitted.
    Done,
}

/// A task as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// Id.
    pub id: i64,
    /// Image hash.
    pub image_sha256: String,
    /// Kind.
    pub kind: TaskKind,
    /// Mode.
    pub mode: TaskMode,
    /// Status.
    pub status: TaskStatus,
    /// Holder or submitter.
    pub annotator_id: Option<String>,
    /// End of the holder's lease (µs since the epoch).
    pub lease_until: Option<i64>,
    /// When the current holder claimed it.
    pub claimed_at: Option<i64>,
    /// When it was submitted.
    pub submitted_at: Option<i64>,
    /// The saved work (JSON; its shape depends on the kind).
    pub state: String,
    /// How many saves it took.
    pub saves: i64,
}

const TASK_COLUMNS: &str = "id, image_sha256, kind, mode, status, annotator_id, lease_until, \
     claimed_at, submitted_at, state, saves";

fn task_from_row(row: &AnyRow) -> Result<Task> {
    let read = || -> Result<Task, sqlx::Error> {
        let kind: String = row.try_get("kind")?;
        let mode: String = row.try_get("mode")?;
        let status: String = row.try_get("status")?;
        let bad = |what: &str, v: &str| sqlx::Error::Decode(format!("bad {what} `{v}`").into());
        Ok(Task {
            id: row.try_get("id")?,
            image_sha256: row.try_get("image_sha256")?,
            kind: kind.parse().map_err(|_| bad("kind", &kind))?,
            mode: mode.parse().map_err(|_| bad("mode", &mode))?,
            status: match status.as_str() {
                "open" => TaskStatus::Open,
                "claimed" => TaskStatus::Claimed,
                "done" => TaskStatus::Done,
                other => return Err(bad("status", other)),
            },
            annotator_id: row.try_get("annotator_id")?,
            lease_until: row.try_get("lease_until")?,
            claimed_at: row.try_get("claimed_at")?,
            submitted_at: row.try_get("submitted_at")?,
            state: row.try_get("state")?,
            saves: row.try_get("saves")?,
        })
    };
    read().map_err(Error::db("reading a task"))
}

impl Store {
    /// Gives `annotator_id` a task of `kind`: the one they already hold (their saved work
    /// comes back, the lease renewed), else the first open task or one whose lease expired
    /// before `now_us`. `None` when the queue has nothing for them.
    ///
    /// One atomic statement decides: SQLite serializes writers; PostgreSQL locks the row
    /// with `FOR UPDATE SKIP LOCKED` and re-checks the condition, so no two annotators can
    /// hold one task.
    ///
    /// # Errors
    /// On database failure.
    pub async fn claim(
        &self,
        annotator_id: &str,
        kind: TaskKind,
        now_us: i64,
        lease_us: i64,
    ) -> Result<Option<Task>> {
        let lease_until = now_us.saturating_add(lease_us);
        let mine = format!(
            "UPDATE tasks SET lease_until = $1 \
             WHERE id = (SELECT id FROM tasks WHERE annotator_id = $2 AND status = 'claimed' \
                         AND kind = $3 ORDER BY id LIMIT 1) \
               AND annotator_id = $2 AND status = 'claimed' \
             RETURNING {TASK_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(mine))
            .bind(lease_until)
            .bind(annotator_id)
            .bind(kind.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(Error::db("resuming a task"))?;
        if let Some(row) = row {
            return task_from_row(&row).map(Some);
        }
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let claimable =
            "kind = $3 AND (status = 'open' OR (status = 'claimed' AND lease_until < $4))";
        let fresh = format!(
            "UPDATE tasks SET status = 'claimed', annotator_id = $2, lease_until = $1, claimed_at = $4 \
             WHERE id = (SELECT id FROM tasks WHERE {claimable} ORDER BY id LIMIT 1 {lock}) \
               AND {claimable} \
             RETURNING {TASK_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(fresh))
            .bind(lease_until)
            .bind(annotator_id)
            .bind(kind.as_str())
            .bind(now_us)
            .fetch_optional(&self.pool)
            .await
            .map_err(Error::db("claiming a task"))?;
        row.as_ref().map(task_from_row).transpose()
    }

    /// A task by id.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown id.
    pub async fn task(&self, id: i64) -> Result<Task> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(Error::db("looking up a task"))?
        .ok_or_else(|| Error::NotFound(format!("No task {id}")))?;
        task_from_row(&row)
    }

    /// The task `id` if `annotator_id` holds it, else why not.
    ///
    /// # Errors
    /// [`Error::NotFound`], or [`Error::Conflict`] when it is done or someone else's.
    pub async fn held_task(&self, id: i64, annotator_id: &str) -> Result<Task> {
        let task = self.task(id).await?;
        if task.status == TaskStatus::Claimed && task.annotator_id.as_deref() == Some(annotator_id)
        {
            Ok(task)
        } else if task.status == TaskStatus::Done {
            Err(Error::Conflict(format!("Task {id} is already submitted")))
        } else {
            Err(Error::Conflict(format!(
                "Task {id} is not held by you (its lease expired and it went to someone else, or you never claimed it)"
            )))
        }
    }

    /// Stores the holder's work and renews the lease; returns the save count. The write is
    /// committed (and, on SQLite, synced) before this returns.
    ///
    /// # Errors
    /// [`Error::NotFound`] or [`Error::Conflict`] when `annotator_id` does not hold it.
    pub async fn save_state(
        &self,
        id: i64,
        annotator_id: &str,
        state: &str,
        now_us: i64,
        lease_us: i64,
    ) -> Result<i64> {
        let row = sqlx::query(
            "UPDATE tasks SET state = $1, saves = saves + 1, lease_until = $2 \
             WHERE id = $3 AND annotator_id = $4 AND status = 'claimed' RETURNING saves",
        )
        .bind(state)
        .bind(now_us.saturating_add(lease_us))
        .bind(id)
        .bind(annotator_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(Error::db("saving a task"))?;
        match row {
            Some(row) => row.try_get("saves").map_err(Error::db("saving a task")),
            None => Err(self
                .held_task(id, annotator_id)
                .await
                .err()
                .unwrap_or_else(|| {
                    Error::Conflict(format!("Task {id} changed while saving; try again"))
                })),
        }
    }

    /// Marks the holder's task done with its final work.
    ///
    /// # Errors
    /// As [`Store::save_state`].
    pub async fn submit(
        &self,
        id: i64,
        annotator_id: &str,
        state: &str,
        now_us: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE tasks SET state = $1, saves = saves + 1, status = 'done', submitted_at = $2, \
             lease_until = NULL WHERE id = $3 AND annotator_id = $4 AND status = 'claimed'",
        )
        .bind(state)
        .bind(now_us)
        .bind(id)
        .bind(annotator_id)
        .execute(&self.pool)
        .await
        .map_err(Error::db("submitting a task"))?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(self
                .held_task(id, annotator_id)
                .await
                .err()
                .unwrap_or_else(|| {
                    Error::Conflict(format!("Task {id} changed while submitting; try again"))
                }))
        }
    }

    /// Submitted tasks of `kind`, oldest submission first.
    ///
    /// # Errors
    /// On database failure.
    pub async fn done_tasks(&self, kind: TaskKind) -> Result<Vec<Task>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE kind = $1 AND status = 'done' \
             ORDER BY submitted_at, id"
        )))
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(Error::db("listing submitted tasks"))?;
        rows.iter().map(task_from_row).collect()
    }

    /// Counts of tasks per status for `kind`: (open, claimed, done).
    ///
    /// # Errors
    /// On database failure.
    pub async fn queue_counts(&self, kind: TaskKind) -> Result<(i64, i64, i64)> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) AS n FROM tasks WHERE kind = $1 GROUP BY status")
                .bind(kind.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(Error::db("counting tasks"))?;
        let mut counts = (0, 0, 0);
        for row in rows {
            let status: String = row.try_get("status").map_err(Error::db("counting tasks"))?;
            let n: i64 = row.try_get("n").map_err(Error::db("counting tasks"))?;
            match status.as_str() {
                "open" => counts.0 = n,
                "claimed" => counts.1 = n,
                _ => counts.2 = n,
            }
        }
        Ok(counts)
    }
}
