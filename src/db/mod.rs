//! The database: the pool and its session settings, migrations, and thin functions of one
//! statement each over the SQL in `sql/`, returning typed rows. Transactions, locking
//! order and retries are the `service` layer's; the feed's listener has its own
//! connection, outside this pool.
//!
//! The functions take `&impl GenericClient`, so the same one runs on a pooled connection
//! or inside the caller's transaction.

pub mod claims;
pub mod comments;
pub mod doorbell;
pub mod items;
pub mod migrate;
pub mod queries;
pub mod rows;
pub mod show_changes;
pub mod shows;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

/// Why a database call failed. Which of these a caller should retry, report as the
/// client's fault, or as ours is [`DbError::kind`]'s answer, read from the SQLSTATE.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A statement that names one row found none.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("database error: {}", pg_message(.0))]
    Pg(#[from] tokio_postgres::Error),
    #[error("no database connection available")]
    Pool(#[from] deadpool_postgres::PoolError),
}

/// What a failure means for whoever asked, by SQLSTATE class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No such row.
    NotFound,
    /// A unique constraint refused the write (23505).
    Duplicate,
    /// The data broke a check or a type (classes 22 and 23): the client's input.
    InvalidData,
    /// Postgres aborted the transaction to break a deadlock or a serialisation conflict;
    /// nothing of it committed, so running it again is safe.
    Aborted,
    /// A lock wait or the statement ran out of time (a long transaction holds the rows).
    Busy,
    /// The connection or the server is gone or refusing (pool empty, shutdown, class 08).
    Unavailable,
    /// Anything else: a bug or a schema mismatch.
    Other,
}

impl DbError {
    pub fn kind(&self) -> ErrorKind {
        use tokio_postgres::error::SqlState;
        let e = match self {
            DbError::NotFound(_) => return ErrorKind::NotFound,
            DbError::Pool(_) => return ErrorKind::Unavailable,
            DbError::Pg(e) => e,
        };
        // No SQLSTATE: the connection broke (a row that does not decode would land here
        // too; the test that prepares every statement and the contract test rule that out).
        let Some(code) = e.code() else {
            return ErrorKind::Unavailable;
        };
        let class = &code.code()[..2];
        if *code == SqlState::UNIQUE_VIOLATION {
            ErrorKind::Duplicate
        } else if class == "22" || class == "23" {
            ErrorKind::InvalidData
        } else if *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
        {
            ErrorKind::Aborted
        } else if *code == SqlState::LOCK_NOT_AVAILABLE || *code == SqlState::QUERY_CANCELED {
            ErrorKind::Busy
        } else if class == "08"
            || [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
            ]
            .contains(code)
        {
            ErrorKind::Unavailable
        } else {
            ErrorKind::Other
        }
    }

    /// The server's own words (without the SQLSTATE), for a client-facing message.
    pub fn server_message(&self) -> String {
        match self {
            DbError::Pg(e) => match e.as_db_error() {
                Some(db) => db.message().to_owned(),
                None => e.to_string(),
            },
            other => other.to_string(),
        }
    }
}

/// A Postgres error with its SQLSTATE and message (tokio-postgres's Display says only "db error").
pub fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// Shared handle to the pool; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// Whether `track_commit_timestamp` is on, so `committed_at` can be the exact commit time.
    commit_timestamps: bool,
}

/// Settings every connection of ours gets: UTC timestamps in JSON, a name in
/// pg_stat_activity, and bounded waits so one stuck lock cannot stall the service.
pub fn session_config(
    mut config: tokio_postgres::Config,
    application: &str,
) -> tokio_postgres::Config {
    let options = config.get_options().unwrap_or("").to_owned();
    config
        .options(format!("{options} -c TimeZone=UTC -c lock_timeout=10s").trim())
        .application_name(application)
        .connect_timeout(Duration::from_secs(10))
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(10));
    config
}

impl Db {
    /// Builds the pool and checks that the database answers.
    pub async fn connect(config: tokio_postgres::Config, pool_size: usize) -> Result<Self> {
        let manager = Manager::from_config(
            session_config(config, "showfeed"),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(2))
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .expect("pool settings are valid with a runtime set");
        let client = pool.get().await?;
        let row = client.query_one("show track_commit_timestamp", &[]).await?;
        let commit_timestamps = row.get::<_, String>(0) == "on";
        drop(client);
        Ok(Db {
            pool,
            commit_timestamps,
        })
    }

    /// A pooled connection.
    pub async fn client(&self) -> Result<deadpool_postgres::Client> {
        Ok(self.pool.get().await?)
    }

    /// Whether the pool can reach the database right now (for `/readyz`).
    pub async fn is_up(&self) -> bool {
        match self.pool.get().await {
            Ok(client) => client.simple_query("").await.is_ok(),
            Err(_) => false,
        }
    }

    pub fn commit_timestamps(&self) -> bool {
        self.commit_timestamps
    }

    /// Pool statistics for `/metrics`.
    pub fn pool_status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }
}

/// Starts a transaction whose changes are recorded with `actor` (the token's `sub`).
pub async fn begin_as<'a>(
    client: &'a mut deadpool_postgres::Client,
    actor: &str,
) -> Result<deadpool_postgres::Transaction<'a>> {
    let tx = client.transaction().await?;
    let stmt = tx.prepare_cached(queries::SET_ACTOR).await?;
    tx.execute(&stmt, &[&actor]).await?;
    Ok(tx)
}
