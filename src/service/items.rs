//! Putting items on sale; raising a quantity promotes the waitlist.

use crate::db::{self, Db};
use crate::domain::{Claim, Item, ItemNumber, ItemPut, ShowId};

use super::{retry_aborted, Result};

/// What `PUT /items/{n}` did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PutItem {
    pub item: Item,
    /// Claims the new quantity promoted from the waitlist.
    pub promoted: Vec<Claim>,
    /// The show's seq once this write is visible (see `Ingested::seq`).
    pub seq: i64,
    /// Whether the item is new (201) or replaced one (200).
    #[serde(skip)]
    pub created: bool,
}

/// Creates or replaces an item; raising its quantity promotes waitlisted claims in the
/// same transaction (lowering it never demotes).
#[tracing::instrument(skip_all, fields(show_id = %show, item = number.get()))]
pub async fn put(
    db: &Db,
    actor: &str,
    show: ShowId,
    number: ItemNumber,
    item: &ItemPut,
) -> Result<PutItem> {
    retry_aborted(|| async move {
        let mut client = db.client().await?;
        let tx = db::begin_as(&mut client, actor).await?;
        super::shows::lock(&tx, show).await?;
        let (item, created) = db::items::upsert(&tx, show, number, item).await?;
        let promoted = db::claims::promote_waitlist(&tx, show, number.get()).await?;
        let seq = super::shows::written_seq(&tx, show).await?;
        tx.commit().await?;
        Ok(PutItem {
            item,
            promoted,
            seq,
            created,
        })
    })
    .await
}

/// The show's items by number; NotFound for an unknown show.
pub async fn list(db: &Db, show: ShowId) -> Result<Vec<Item>> {
    let client = db.client().await?;
    super::shows::fetch(&client, show).await?;
    Ok(db::items::list(&client, show).await?)
}
