//! Statements on `items`.

use deadpool_postgres::GenericClient;

use super::rows::{all, FromRow};
use super::{queries, Result};
use crate::domain::{Item, ItemNumber, ItemPut, ShowId};

/// Creates or replaces an item; true when it was created.
pub async fn upsert(
    client: &impl GenericClient,
    show: ShowId,
    number: ItemNumber,
    item: &ItemPut,
) -> Result<(Item, bool)> {
    let row = client
        .query_one(
            queries::UPSERT_ITEM,
            &[
                &show,
                &number.get(),
                &item.title,
                &item.price_cents,
                &item.quantity,
            ],
        )
        .await?;
    Ok((Item::from_row(&row)?, row.try_get("created")?))
}

pub async fn list(client: &impl GenericClient, show: ShowId) -> Result<Vec<Item>> {
    let rows = client.query(queries::LIST_ITEMS, &[&show]).await?;
    Ok(all(&rows)?)
}
