//! Console sessions: one-time sign-in codes and the server-side sessions they become.
//!
//! A printed sign-in link carries a *code* (`/#code=…`, in the fragment, so no server or
//! proxy ever receives it in a URL). The console posts it to `POST /api/session`, which
//! consumes the code and answers with a cookie naming a new *session*. Both are 256 random
//! bits, shown hex-encoded; Postgres keeps only their SHA-256, so reading the tables signs
//! nobody in. Sessions live in Postgres, not in a node's memory: every node honours them,
//! a restart keeps them, and sign-out (a deleted row) ends them everywhere.
//!
//! A session ends at the first of: its absolute end (`SESSION_MAX_SECS` after sign-in),
//! `SESSION_IDLE_SECS` without a request, or sign-out. `last_seen` is written at most once
//! per [`SessionSettings::touch_every`], so an ordinary request costs one primary-key read.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

use super::claims::{Role, TokenClaims};
use crate::config::SessionArgs;
use crate::db::{queries, Db, DbError};
use crate::domain::ShowId;

/// The cookie that names the session.
pub const COOKIE: &str = "showfeed_session";

/// How long codes and sessions live, and whose forwarded headers to believe.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    pub code_ttl: Duration,
    pub idle: Duration,
    pub max_age: Duration,
    /// How often an open stream checks that its session still exists.
    pub recheck: Duration,
    /// Whether `X-Forwarded-Proto` / `X-Forwarded-Host` are the proxy's, not the client's.
    pub trusted_proxy: bool,
}

impl From<&SessionArgs> for SessionSettings {
    fn from(args: &SessionArgs) -> Self {
        SessionSettings {
            code_ttl: args.code_ttl(),
            idle: args.idle(),
            max_age: args.max_age(),
            recheck: args.recheck(),
            trusted_proxy: args.trusted_proxy,
        }
    }
}

impl SessionSettings {
    /// How stale `last_seen` may get before a request writes it: a minute, or less when
    /// the idle timeout is short (so a busy session never idles out between two writes).
    pub fn touch_every(&self) -> Duration {
        Duration::from_secs(60).min(self.idle / 4)
    }
}

/// A code or a session id: 32 random bytes, written as 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret([u8; 32]);

impl Secret {
    /// A fresh one from the thread's CSPRNG (ChaCha, seeded by the OS).
    pub fn random() -> Secret {
        Secret(rand::random())
    }

    /// The secret written as `to_string` writes it; None for anything else (wrong length,
    /// not hex), so garbage is refused before any query.
    pub fn parse(text: &str) -> Option<Secret> {
        let text = text.as_bytes();
        if text.len() != 64 || !text.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.chunks(2)) {
            let hex = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(hex, 16).ok()?;
        }
        Some(Secret(bytes))
    }

    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Never printed by `{:?}`: a secret must not reach a log through a debug print.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Whom a code signs in: the same three things a token says.
#[derive(Debug, Clone)]
pub struct Grant {
    pub sub: String,
    pub role: Role,
    /// Shows the session may see; None: all.
    pub shows: Option<Vec<Uuid>>,
}

/// A live session, as `GET /api/session` tells it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Session {
    /// Who: recorded as the actor of every change made in the session.
    pub sub: String,
    #[schema(value_type = String, example = "operator")]
    pub role: Role,
    /// Shows the session may see; null: all.
    #[schema(value_type = Option<Vec<Uuid>>)]
    pub shows: Option<Vec<ShowId>>,
    pub created_at: DateTime<Utc>,
    /// The absolute end: sign in again after it.
    pub expires_at: DateTime<Utc>,
    /// When the session ends if no request comes before (moves on with use).
    pub idle_expires_at: DateTime<Utc>,
    /// The server's clock when it answered (so a console can count down with its own).
    pub now: DateTime<Utc>,
}

impl Session {
    /// The session as the claims of a token expiring at the session's absolute end, so
    /// every handler treats both alike.
    pub fn claims(&self) -> TokenClaims {
        TokenClaims {
            sub: self.sub.clone(),
            exp: self.expires_at.timestamp().max(0) as u64,
            role: self.role,
            shows: self.shows.clone(),
        }
    }

    fn from_row(row: &Row, idle: Duration) -> Result<Session, DbError> {
        let role: String = row.get("role");
        // The table's check allows only these four names.
        let role = Role::parse(&role).unwrap_or(Role::Viewer);
        let shows: Option<Vec<Uuid>> = row.get("shows");
        let expires_at: DateTime<Utc> = row.get("expires_at");
        let mut session = Session {
            sub: row.get("sub"),
            role,
            shows: shows.map(|s| s.into_iter().map(ShowId).collect()),
            created_at: row.get("created_at"),
            expires_at,
            idle_expires_at: expires_at,
            now: row.get("now"),
        };
        session.seen_at(row.get("last_seen"), idle);
        Ok(session)
    }

    /// Moves the idle end to `idle` after `last_seen` (never past the absolute end).
    fn seen_at(&mut self, last_seen: DateTime<Utc>, idle: Duration) {
        let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
        // Checked: a huge SESSION_IDLE_SECS must not overflow the date (then: no idle end).
        let idle_end = last_seen
            .checked_add_signed(idle)
            .unwrap_or(self.expires_at);
        self.idle_expires_at = idle_end.min(self.expires_at);
    }
}

/// Why a code was not exchanged.
#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error("this sign-in code is unknown, already used or expired: ask for a new link")]
    Refused,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<tokio_postgres::Error> for RedeemError {
    fn from(e: tokio_postgres::Error) -> Self {
        RedeemError::Db(e.into())
    }
}

/// Writes a new one-time code for `grant`, valid for `ttl`; returns the code (shown once,
/// only its hash is stored) and its expiry. Takes a client, not the store, so that the
/// `login-link` command can run it on its own small pool.
pub async fn issue_code(
    client: &impl GenericClient,
    grant: &Grant,
    ttl: Duration,
) -> Result<(Secret, DateTime<Utc>), DbError> {
    let code = Secret::random();
    let stmt = client.prepare_cached(queries::INSERT_SIGNIN_CODE).await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &code.bytes(),
                &grant.sub,
                &grant.role.as_str(),
                &grant.shows,
                &ttl.as_secs_f64(),
            ],
        )
        .await?;
    Ok((code, row.get(0)))
}

/// The session store: the pool and the settings. Cheap to clone (made per request from
/// the application state).
#[derive(Clone)]
pub struct Sessions {
    db: Db,
    pub settings: SessionSettings,
}

impl Sessions {
    pub fn new(db: Db, settings: SessionSettings) -> Self {
        Sessions { db, settings }
    }

    /// A code for `grant` with the configured lifetime (the startup banner's).
    pub async fn issue_code(&self, grant: &Grant) -> Result<(Secret, DateTime<Utc>), DbError> {
        let client = self.db.client().await?;
        issue_code(&client, grant, self.settings.code_ttl).await
    }

    /// Consumes `code` and opens a session: the new session's id (for the cookie) and the
    /// session. A code works once, even when two redemptions race (the delete decides).
    pub async fn redeem(&self, code: &Secret) -> Result<(Secret, Session), RedeemError> {
        let client = self.db.client().await?;
        let id = Secret::random();
        let stmt = client.prepare_cached(queries::REDEEM_SIGNIN_CODE).await?;
        let row = client
            .query_opt(
                &stmt,
                &[
                    &code.bytes(),
                    &id.bytes(),
                    &self.settings.max_age.as_secs_f64(),
                ],
            )
            .await
            .map_err(DbError::from)?;
        let Some(row) = row else {
            return Err(RedeemError::Refused);
        };
        let session = Session::from_row(&row, self.settings.idle)?;
        // Housekeeping while here: what has ended can go (a failure only leaves rows).
        let sweep = client.prepare_cached(queries::SWEEP_SESSIONS).await?;
        if let Err(e) = client
            .execute(&sweep, &[&self.settings.idle.as_secs_f64()])
            .await
        {
            tracing::warn!(error = %crate::db::pg_message(&e), "sweeping ended sessions failed");
        }
        Ok((id, session))
    }

    /// The live session `id` names (None: unknown, ended, idle too long, signed out),
    /// marking it used when its `last_seen` is older than [`SessionSettings::touch_every`].
    pub async fn lookup(&self, id: &Secret) -> Result<Option<Session>, DbError> {
        let client = self.db.client().await?;
        let stmt = client.prepare_cached(queries::GET_SESSION).await?;
        let idle = self.settings.idle.as_secs_f64();
        let Some(row) = client.query_opt(&stmt, &[&id.bytes(), &idle]).await? else {
            return Ok(None);
        };
        let last_seen: DateTime<Utc> = row.get("last_seen");
        let now: DateTime<Utc> = row.get("now");
        let mut session = Session::from_row(&row, self.settings.idle)?;
        let stale = (now - last_seen).to_std().unwrap_or_default() >= self.settings.touch_every();
        if stale {
            let touch = client.prepare_cached(queries::TOUCH_SESSION).await?;
            if let Some(row) = client.query_opt(&touch, &[&id.bytes()]).await? {
                session.seen_at(row.get(0), self.settings.idle);
            }
        }
        Ok(Some(session))
    }

    /// Ends the session `id` names, for every node; false when there was none.
    pub async fn end(&self, id: &Secret) -> Result<bool, DbError> {
        let client = self.db.client().await?;
        let stmt = client.prepare_cached(queries::DELETE_SESSION).await?;
        Ok(client.execute(&stmt, &[&id.bytes()]).await? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_reads_back_what_it_writes() {
        let secret = Secret::random();
        let text = secret.to_string();
        assert_eq!(text.len(), 64);
        assert!(Secret::parse(&text) == Some(secret));
    }

    #[test]
    fn garbage_is_not_a_secret() {
        for text in [
            "",
            "abc",
            &"g".repeat(64),
            &"a".repeat(65),
            &"é".repeat(32),
            &"+f".repeat(32),
        ] {
            assert!(Secret::parse(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let secret = Secret::random();
        assert!(!format!("{secret:?}").contains(&secret.to_string()));
    }

    #[test]
    fn a_short_idle_timeout_touches_more_often() {
        let settings = SessionSettings {
            code_ttl: Duration::from_secs(600),
            idle: Duration::from_secs(8),
            max_age: Duration::from_secs(3600),
            recheck: Duration::from_secs(15),
            trusted_proxy: false,
        };
        assert_eq!(settings.touch_every(), Duration::from_secs(2));
    }
}
