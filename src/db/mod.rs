//! The database: a pool of connections for queries and writes, and typed functions over
//! the SQL in `sql/`. The feed's listener has its own connection, outside this pool.

pub mod claims;
pub mod comments;
pub mod migrate;
pub mod queries;
pub mod show_changes;
pub mod shows;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

/// Why a database call failed, in terms the HTTP layer maps to statuses.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {}", pg_message(.0))]
    Pg(#[from] tokio_postgres::Error),
    #[error("no database connection available")]
    Pool(#[from] deadpool_postgres::PoolError),
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

/// Runs a write transaction again (at most three more times) when Postgres aborted it to
/// break a deadlock or a serialisation conflict. Such aborts are expected here: an
/// analyst's SQL that updates a claim locks the claim and then (through the change
/// trigger) its show, while the service locks the show first. Nothing of an aborted
/// attempt was committed, so running it again is safe.
pub async fn retry_conflicts<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut retries = 0u32;
    loop {
        match attempt().await {
            Err(DbError::Pg(e)) if retries < 3 && is_conflict(&e) => {
                retries += 1;
                tracing::info!(retries, error = %pg_message(&e), "transaction aborted by a conflict; retrying");
                let jitter = rand::random::<u64>() % 20;
                tokio::time::sleep(Duration::from_millis(10 * u64::from(retries) + jitter)).await;
            }
            other => return other,
        }
    }
}

fn is_conflict(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    })
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
