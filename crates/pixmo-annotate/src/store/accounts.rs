//! Annotators, invite tokens and login sessions. Tokens are random 256-bit values shown
//! once; the database keeps only their SHA-256.

use sqlx::Row;

use super::{Store, random_token, sha256_hex};
use crate::error::{Error, Result};

/// An annotator as the app knows them: an id and a pseudonym (what exports record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotator {
    /// Internal id.
    pub id: String,
    /// Pseudonym, recorded in provenance instead of any personal data.
    pub pseudonym: String,
}

/// A freshly created invite: the token is shown once and never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    /// The annotator it belongs to.
    pub annotator: Annotator,
    /// The login token (64 hex characters).
    pub token: String,
}

/// A logged-in browser session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Who is logged in.
    pub annotator: Annotator,
    /// The token every state-changing request must carry in `x-csrf-token`.
    pub csrf_token: String,
}

/// Pseudonyms are shown in pages and written to exports: keep them plain.
fn check_pseudonym(pseudonym: &str) -> Result<()> {
    let ok = !pseudonym.is_empty()
        && pseudonym.len() <= 64
        && pseudonym
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "Pseudonym `{pseudonym}` must be 1-64 characters of letters, digits, `-`, `_` or `.`"
        )))
    }
}

impl Store {
    /// Creates an annotator with `pseudonym` and returns their login token (shown once).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad pseudonym, [`Error::Conflict`] when it is taken.
    pub async fn create_invite(&self, pseudonym: &str, now_us: i64) -> Result<Invite> {
        check_pseudonym(pseudonym)?;
        let token = random_token();
        let id = random_token()[..16].to_string();
        let result = sqlx::query(
            "INSERT INTO annotators (id, pseudonym, token_sha256, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(pseudonym)
        .bind(sha256_hex(token.as_bytes()))
        .bind(now_us)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(Invite {
                annotator: Annotator {
                    id,
                    pseudonym: pseudonym.to_string(),
                },
                token,
            }),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(Error::Conflict(format!("Pseudonym `{pseudonym}` is taken")))
            }
            Err(e) => Err(Error::db("creating an invite")(e)),
        }
    }

    /// Exchanges an invite token for a new session; returns the session cookie value and the
    /// session.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] for an unknown or disabled token.
    pub async fn login(&self, token: &str, now_us: i64, ttl_us: i64) -> Result<(String, Session)> {
        let row = sqlx::query(
            "SELECT id, pseudonym FROM annotators WHERE token_sha256 = $1 AND disabled = 0",
        )
        .bind(sha256_hex(token.trim().as_bytes()))
        .fetch_optional(&self.pool)
        .await
        .map_err(Error::db("looking up an invite"))?
        .ok_or_else(|| Error::Unauthorized("Unknown or disabled invite token".into()))?;
        let annotator = Annotator {
            id: row
                .try_get("id")
                .map_err(Error::db("reading an annotator"))?,
            pseudonym: row
                .try_get("pseudonym")
                .map_err(Error::db("reading an annotator"))?,
        };
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_us)
            .execute(&self.pool)
            .await
            .map_err(Error::db("removing expired sessions"))?;
        let cookie = random_token();
        let csrf_token = random_token();
        sqlx::query(
            "INSERT INTO sessions (token_sha256, annotator_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(cookie.as_bytes()))
        .bind(&annotator.id)
        .bind(&csrf_token)
        .bind(now_us)
        .bind(now_us.saturating_add(ttl_us))
        .execute(&self.pool)
        .await
        .map_err(Error::db("creating a session"))?;
        Ok((
            cookie,
            Session {
                annotator,
                csrf_token,
            },
        ))
    }

    /// The live session of a cookie value, if any.
    ///
    /// # Errors
    /// On database failure only.
    pub async fn session(&self, cookie: &str, now_us: i64) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT a.id, a.pseudonym, s.csrf_token FROM sessions s \
             JOIN annotators a ON a.id = s.annotator_id \
             WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND a.disabled = 0",
        )
        .bind(sha256_hex(cookie.as_bytes()))
        .bind(now_us)
        .fetch_optional(&self.pool)
        .await
        .map_err(Error::db("looking up a session"))?;
        let Some(row) = row else { return Ok(None) };
        let get = |name: &str| -> Result<String> {
            row.try_get(name).map_err(Error::db("reading a session"))
        };
        Ok(Some(Session {
            annotator: Annotator {
                id: get("id")?,
                pseudonym: get("pseudonym")?,
            },
            csrf_token: get("csrf_token")?,
        }))
    }

    /// Ends a session.
    ///
    /// # Errors
    /// On database failure.
    pub async fn logout(&self, cookie: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
            .bind(sha256_hex(cookie.as_bytes()))
            .execute(&self.pool)
            .await
            .map_err(Error::db("ending a session"))?;
        Ok(())
    }

    /// Pseudonym of an annotator id.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown id.
    pub async fn pseudonym(&self, annotator_id: &str) -> Result<String> {
        sqlx::query("SELECT pseudonym FROM annotators WHERE id = $1")
            .bind(annotator_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(Error::db("looking up an annotator"))?
            .ok_or_else(|| Error::NotFound(format!("No annotator `{annotator_id}`")))?
            .try_get("pseudonym")
            .map_err(Error::db("reading an annotator"))
    }
}
