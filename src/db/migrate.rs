//! Schema migrations (refinery, forward-only), run by `serve` at start and by `migrate`.

use tokio_postgres::Client;

refinery::embed_migrations!("migrations");

/// Advisory lock key held while migrating, so nodes that start together migrate once.
const MIGRATION_LOCK: i64 = 0x5348_4f57_4645_4544; // "SHOWFEED"

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("taking the migration lock")]
    Lock(#[source] tokio_postgres::Error),
    #[error("applying migrations")]
    Apply(#[source] refinery::Error),
}

/// Applies pending migrations under a session advisory lock; returns how many ran.
pub async fn run(client: &mut Client) -> Result<usize, MigrateError> {
    client
        .execute("select pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(MigrateError::Lock)?;
    let result = migrations::runner().run_async(client).await;
    // Unlock whatever happened; a failed unlock only matters if the session lives on.
    let _ = client
        .execute("select pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    let report = result.map_err(MigrateError::Apply)?;
    Ok(report.applied_migrations().len())
}
