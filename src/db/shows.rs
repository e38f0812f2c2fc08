//! Shows and items.

use deadpool_postgres::GenericClient;
use serde_json::Value;
use uuid::Uuid;

use super::{begin_as, queries, retry_conflicts, Db, DbError, Result};
use crate::domain::input::{ItemInput, NewShow, ShowPatch};
use crate::domain::ShowId;

impl Db {
    #[tracing::instrument(skip_all)]
    pub async fn create_show(&self, actor: &str, show: &NewShow) -> Result<Value> {
        let mut client = self.client().await?;
        let tx = begin_as(&mut client, actor).await?;
        let status = show.status.as_deref().unwrap_or("scheduled");
        let row = tx
            .query_one(queries::INSERT_SHOW, &[&show.title, &status])
            .await?;
        tx.commit().await?;
        Ok(row.get(0))
    }

    /// Shows, newest first; `only` limits them to a token's `shows`.
    pub async fn list_shows(&self, only: Option<&[Uuid]>, limit: i64) -> Result<Vec<Value>> {
        let client = self.client().await?;
        let only: Option<Vec<Uuid>> = only.map(<[Uuid]>::to_vec);
        let rows = client.query(queries::LIST_SHOWS, &[&only, &limit]).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub async fn get_show(&self, id: ShowId) -> Result<Value> {
        let client = self.client().await?;
        client
            .query_opt(queries::GET_SHOW, &[&id.0])
            .await?
            .map(|r| r.get(0))
            .ok_or(DbError::NotFound("show"))
    }

    #[tracing::instrument(skip_all, fields(show_id = %id))]
    pub async fn update_show(&self, actor: &str, id: ShowId, patch: &ShowPatch) -> Result<Value> {
        let mut client = self.client().await?;
        let tx = begin_as(&mut client, actor).await?;
        let row = tx
            .query_opt(queries::UPDATE_SHOW, &[&id.0, &patch.title, &patch.status])
            .await?
            .ok_or(DbError::NotFound("show"))?;
        tx.commit().await?;
        Ok(row.get(0))
    }

    /// Creates or updates an item; raising its quantity promotes waitlisted claims in the
    /// same transaction. Returns the item, whether it was created, and promoted claims.
    #[tracing::instrument(skip_all, fields(show_id = %id, item = number))]
    pub async fn put_item(
        &self,
        actor: &str,
        id: ShowId,
        number: i32,
        item: &ItemInput,
    ) -> Result<(Value, bool, Vec<Value>)> {
        retry_conflicts(|| self.try_put_item(actor, id, number, item)).await
    }

    async fn try_put_item(
        &self,
        actor: &str,
        id: ShowId,
        number: i32,
        item: &ItemInput,
    ) -> Result<(Value, bool, Vec<Value>)> {
        let mut client = self.client().await?;
        let tx = begin_as(&mut client, actor).await?;
        lock_show(&tx, id).await?;
        let row = tx
            .query_one(
                queries::UPSERT_ITEM,
                &[
                    &id.0,
                    &number,
                    &item.title,
                    &item.price_cents,
                    &item.quantity,
                ],
            )
            .await?;
        let promoted = promote_waitlist(&tx, id, number).await?;
        tx.commit().await?;
        Ok((row.get(0), row.get(1), promoted))
    }

    pub async fn list_items(&self, id: ShowId) -> Result<Vec<Value>> {
        let client = self.client().await?;
        let rows = client.query(queries::LIST_ITEMS, &[&id.0]).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// Locks the show's row for the rest of the transaction and returns its status.
///
/// Every write that applies the claim rules takes this lock first, so the rules read a
/// state no other writer of the show can change before we commit (the change trigger
/// takes the same row's lock anyway, to bump the sequence).
pub async fn lock_show(client: &impl GenericClient, id: ShowId) -> Result<String> {
    let stmt = client.prepare_cached(queries::LOCK_SHOW).await?;
    client
        .query_opt(&stmt, &[&id.0])
        .await?
        .map(|r| r.get(0))
        .ok_or(DbError::NotFound("show"))
}

/// Promotes waitlisted claims of an item while it has free units.
pub async fn promote_waitlist(
    client: &impl GenericClient,
    id: ShowId,
    item_number: i32,
) -> Result<Vec<Value>> {
    let stmt = client.prepare_cached(queries::PROMOTE_WAITLIST).await?;
    let rows = client.query(&stmt, &[&id.0, &item_number]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
