//! Statements on `shows`.

use deadpool_postgres::GenericClient;

use super::rows::{all, FromRow};
use super::{queries, Result};
use crate::domain::{NewShow, Show, ShowId, ShowPatch, ShowStatus};

/// Inserts a show in `currency` (the service's default when the request named none).
pub async fn insert(client: &impl GenericClient, show: &NewShow, currency: &str) -> Result<Show> {
    let row = client
        .query_one(
            queries::INSERT_SHOW,
            &[&show.title, &show.status, &currency],
        )
        .await?;
    Ok(Show::from_row(&row)?)
}

/// Shows, newest first; `only` limits them to a token's `shows`.
pub async fn list(
    client: &impl GenericClient,
    only: Option<&[ShowId]>,
    limit: i64,
) -> Result<Vec<Show>> {
    let rows = client.query(queries::LIST_SHOWS, &[&only, &limit]).await?;
    Ok(all(&rows)?)
}

pub async fn get(client: &impl GenericClient, id: ShowId) -> Result<Option<Show>> {
    let stmt = client.prepare_cached(queries::GET_SHOW).await?;
    let row = client.query_opt(&stmt, &[&id]).await?;
    Ok(row.as_ref().map(Show::from_row).transpose()?)
}

/// Applies a patch; false when there is no such show.
pub async fn update(client: &impl GenericClient, id: ShowId, patch: &ShowPatch) -> Result<bool> {
    let updated = client
        .execute(
            queries::UPDATE_SHOW,
            &[&id, &patch.title, &patch.status, &patch.currency],
        )
        .await?;
    Ok(updated == 1)
}

/// Locks the show's row until the transaction ends and returns its status.
pub async fn lock(client: &impl GenericClient, id: ShowId) -> Result<Option<ShowStatus>> {
    let stmt = client.prepare_cached(queries::LOCK_SHOW).await?;
    let row = client.query_opt(&stmt, &[&id]).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// The show's seq as this transaction sees it: after its own writes (the change trigger
/// bumps it), the seq its last change got.
pub async fn last_seq(client: &impl GenericClient, id: ShowId) -> Result<Option<i64>> {
    let stmt = client.prepare_cached(queries::SHOW_LAST_SEQ).await?;
    let row = client.query_opt(&stmt, &[&id]).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}
