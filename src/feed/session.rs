//! What the feed's two long-lived sessions (the listener's LISTEN connection and the
//! relay's) share: how they fail, how long they wait before reconnecting, and the line
//! they log when they lose their connection.

use std::time::Duration;

use rand::Rng;

use crate::observability::error_chain;

/// Exponential backoff between reconnect attempts, with "equal" jitter (a delay drawn from
/// the upper half of the cap): nodes cut off together do not reconnect together, yet none
/// retries at once.
#[derive(Debug, Default)]
pub(super) struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub(super) fn next_delay(&mut self) -> Duration {
        let cap_ms = (100u64 << self.attempt.min(7)).min(10_000);
        self.attempt += 1;
        Duration::from_millis(rand::thread_rng().gen_range(cap_ms / 2..=cap_ms))
    }

    /// The connection is good again: the next loss starts from the shortest delay.
    pub(super) fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Why a session's connection ended.
#[derive(Debug, thiserror::Error)]
pub(super) enum SessionError {
    #[error(transparent)]
    Pg(#[from] tokio_postgres::Error),
    #[error("connection closed")]
    Closed,
    #[error("ping got no answer within {0:?}")]
    PingTimeout(Duration),
}

impl SessionError {
    /// The server's error report, when the server sent one.
    fn db_error(&self) -> Option<&tokio_postgres::error::DbError> {
        match self {
            SessionError::Pg(e) => e.as_db_error(),
            _ => None,
        }
    }
}

/// The loss line, with the server's reason when it gave one (SQLSTATE and message: an
/// administrator's `pg_terminate_backend` is 57P01, a locked-out role 28000/28P01, too many
/// connections 53300) and the whole source chain, not just tokio-postgres's "db error".
pub(super) fn log_loss(what: &'static str, e: &SessionError, delay: Duration) {
    let retry_in_ms = delay.as_millis() as u64;
    let error = error_chain(e);
    match e.db_error() {
        Some(db) => tracing::warn!(
            sqlstate = db.code().code(),
            server_message = db.message(),
            error = %error,
            retry_in_ms,
            "{what}"
        ),
        None => tracing::warn!(error = %error, retry_in_ms, "{what}"),
    }
}
