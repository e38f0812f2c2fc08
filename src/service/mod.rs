//! The business transactions: what one API call does to the database, as one unit.
//!
//! A service function owns its transaction (begun as the token's subject, so the change
//! log records who acted), the locking order inside it, and the retry when Postgres
//! aborted it to break a deadlock. It takes checked domain types and returns typed rows or
//! a [`ServiceError`]; the HTTP layer turns that into a status, and is the only place
//! that does.
//!
//! Locking order: every write that applies the claim rules locks the show's row first
//! (`db::shows::lock`), then the rows it changes. The change trigger takes the same show
//! row to bump its seq anyway, so taking it first costs nothing and makes the rules read
//! a state no other writer of the show can change before the commit.

pub mod carts;
pub mod claims;
pub mod comments;
pub mod group_commit;
pub mod items;
pub mod shows;

use std::future::Future;
use std::time::Duration;

use crate::db::{DbError, ErrorKind};
use crate::domain::Invalid;

/// Why a business transaction did not happen. Nothing of it was committed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The show, claim or item named does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request contradicts the current state (a refused claim transition, a
    /// duplicate).
    #[error("{0}")]
    Conflict(String),
    /// The input breaks a rule of the model.
    #[error("{0}")]
    Invalid(String),
    /// Rows it needed stayed locked past `lock_timeout` (a long transaction holds them):
    /// worth retrying soon.
    #[error("database busy, retry: {0}")]
    Busy(String),
    /// The database cannot be reached right now.
    #[error("{0}")]
    Unavailable(String),
    /// A failure that is ours, not the client's (logged, answered as a bare 500).
    #[error("internal error")]
    Internal(#[source] DbError),
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

impl From<Invalid> for ServiceError {
    fn from(e: Invalid) -> Self {
        ServiceError::Invalid(e.0)
    }
}

impl From<tokio_postgres::Error> for ServiceError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        match e.kind() {
            ErrorKind::NotFound => match e {
                DbError::NotFound(what) => ServiceError::NotFound(what),
                other => ServiceError::Internal(other),
            },
            ErrorKind::Duplicate => ServiceError::Conflict(e.server_message()),
            ErrorKind::InvalidData => ServiceError::Invalid(e.server_message()),
            ErrorKind::Aborted | ErrorKind::Busy => ServiceError::Busy(e.server_message()),
            ErrorKind::Unavailable => ServiceError::Unavailable(match &e {
                DbError::Pool(pool) => format!("database unavailable: {pool}"),
                DbError::Pg(pg) if pg.as_db_error().is_some() => {
                    format!("database busy, retry: {}", e.server_message())
                }
                _ => "database connection lost".into(),
            }),
            ErrorKind::Other => ServiceError::Internal(e),
        }
    }
}

/// How one attempt of a transaction failed: the database refused or aborted it (an abort
/// is worth another attempt), or the rules did (no retry changes that).
#[derive(Debug)]
pub enum Failed {
    Db(DbError),
    Refused(ServiceError),
}

impl From<DbError> for Failed {
    fn from(e: DbError) -> Self {
        Failed::Db(e)
    }
}

impl From<tokio_postgres::Error> for Failed {
    fn from(e: tokio_postgres::Error) -> Self {
        Failed::Db(e.into())
    }
}

impl From<ServiceError> for Failed {
    fn from(e: ServiceError) -> Self {
        Failed::Refused(e)
    }
}

impl From<Failed> for ServiceError {
    fn from(e: Failed) -> Self {
        match e {
            Failed::Db(e) => e.into(),
            Failed::Refused(e) => e,
        }
    }
}

/// Most times a transaction is run again after Postgres aborted it.
const RETRIES: u32 = 3;

/// Runs a write transaction again (at most three more times) when Postgres aborted
/// it to break a deadlock or a serialisation conflict. Such aborts are expected here: an
/// analyst's SQL that updates a claim locks the claim and then (through the change
/// trigger) its show, while the service locks the show first. Nothing of an aborted
/// attempt was committed, so running it again is safe.
pub async fn retry_aborted<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failed>>,
{
    let mut retries = 0u32;
    loop {
        match attempt().await {
            Err(Failed::Db(e)) if retries < RETRIES && e.kind() == ErrorKind::Aborted => {
                retries += 1;
                tracing::info!(retries, error = %e, "transaction aborted by a conflict; retrying");
                let jitter = rand::random::<u64>() % 20;
                tokio::time::sleep(Duration::from_millis(10 * u64::from(retries) + jitter)).await;
            }
            other => return other.map_err(ServiceError::from),
        }
    }
}
