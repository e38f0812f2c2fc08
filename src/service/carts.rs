//! Buyers' carts: the view an operator invoices from, and paying a whole cart.

use crate::db::{self, Db};
use crate::domain::cart::{carts, Cart};
use crate::domain::{Claim, ShowId};

use super::{retry_aborted, Result};

/// Every buyer's cart of the show, by buyer id, and the show's currency; NotFound for an
/// unknown show.
pub async fn list(db: &Db, show: ShowId) -> Result<(String, Vec<Cart>)> {
    let client = db.client().await?;
    let currency = super::shows::fetch(&client, show).await?.currency;
    let claims = db::claims::list(&client, show).await?;
    let items = db::items::list(&client, show).await?;
    Ok((currency, carts(&claims, &items)))
}

/// What paying a cart did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CartPaid {
    /// The units that were claimed and are now paid (none when nothing was due).
    pub paid: Vec<Claim>,
    /// The show's seq once this write is visible (see `Ingested::seq`).
    pub seq: i64,
}

/// Marks every unit the buyer holds unpaid on the show paid, in one transaction under the
/// show's lock (so it cannot race a release of one of them).
#[tracing::instrument(skip_all, fields(show_id = %show))]
pub async fn pay(db: &Db, actor: &str, show: ShowId, buyer: &str) -> Result<CartPaid> {
    retry_aborted(|| async move {
        let mut client = db.client().await?;
        let tx = db::begin_as(&mut client, actor).await?;
        super::shows::lock(&tx, show).await?;
        let paid = db::claims::pay_buyer(&tx, show, buyer).await?;
        let seq = super::shows::written_seq(&tx, show).await?;
        tx.commit().await?;
        Ok(CartPaid { paid, seq })
    })
    .await
}
