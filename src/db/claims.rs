//! Statements on `claims`.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;

use super::rows::{all, FromRow};
use super::{queries, Result};
use crate::domain::claim::{ItemState, NewClaim};
use crate::domain::{Claim, ClaimId, ClaimStatus, CommentId, ShowId};

/// What the claim rules need to know of some items of a show, with the live claims of
/// `buyers` only (the ones the caller decides for: reading every live buyer of an item
/// would cost a row per waitlisted buyer on each write, and a hot item's waitlist is long).
/// Read under the show's lock, so it cannot change before the caller commits.
pub async fn item_states(
    client: &impl GenericClient,
    show: ShowId,
    numbers: &[i32],
    buyers: &[&str],
) -> Result<HashMap<i32, ItemState>> {
    let stmt = client.prepare_cached(queries::CLAIM_ITEM_STATE).await?;
    let rows = client.query(&stmt, &[&show, &numbers, &buyers]).await?;
    rows.iter()
        .map(|r| {
            let state = ItemState {
                quantity: r.try_get(1)?,
                held: r.try_get(2)?,
                last_position: r.try_get(3)?,
                live_buyers: r.try_get::<_, Vec<String>>(4)?.into_iter().collect(),
            };
            Ok((r.try_get(0)?, state))
        })
        .collect()
}

/// Inserts claims in one statement, in the given order.
pub async fn insert_batch(
    client: &impl GenericClient,
    show: ShowId,
    claims: &[NewClaim],
) -> Result<Vec<Claim>> {
    let items: Vec<i32> = claims.iter().map(|c| c.item_number).collect();
    let comment_ids: Vec<_> = claims.iter().map(|c| c.comment_id).collect();
    let buyers: Vec<&str> = claims.iter().map(|c| c.buyer_id.as_str()).collect();
    let names: Vec<&str> = claims.iter().map(|c| c.buyer_name.as_str()).collect();
    let statuses: Vec<ClaimStatus> = claims.iter().map(|c| c.status).collect();
    let positions: Vec<Option<i32>> = claims.iter().map(|c| c.waitlist_position).collect();
    let stmt = client.prepare_cached(queries::INSERT_CLAIMS).await?;
    let rows = client
        .query(
            &stmt,
            &[
                &show,
                &items,
                &comment_ids,
                &buyers,
                &names,
                &statuses,
                &positions,
            ],
        )
        .await?;
    Ok(all(&rows)?)
}

/// A claim's show, item, status and buyer, its row locked until the transaction ends.
pub struct LockedClaim {
    pub show: ShowId,
    pub item_number: i32,
    pub status: ClaimStatus,
    pub buyer_id: String,
    /// Seconds since its last change (its release, for a released claim).
    pub changed_secs_ago: f64,
}

pub async fn lock(client: &impl GenericClient, id: ClaimId) -> Result<Option<LockedClaim>> {
    let stmt = client.prepare_cached(queries::LOCK_CLAIM).await?;
    let Some(row) = client.query_opt(&stmt, &[&id]).await? else {
        return Ok(None);
    };
    Ok(Some(LockedClaim {
        show: row.try_get(0)?,
        item_number: row.try_get(1)?,
        status: row.try_get(2)?,
        buyer_id: row.try_get(3)?,
        changed_secs_ago: row.try_get(4)?,
    }))
}

pub async fn set_status(
    client: &impl GenericClient,
    id: ClaimId,
    to: ClaimStatus,
) -> Result<Claim> {
    let stmt = client.prepare_cached(queries::SET_CLAIM_STATUS).await?;
    let row = client.query_one(&stmt, &[&id, &to]).await?;
    Ok(Claim::from_row(&row)?)
}

/// Promotes the lowest waitlist positions of an item while it has free units.
pub async fn promote_waitlist(
    client: &impl GenericClient,
    show: ShowId,
    item_number: i32,
) -> Result<Vec<Claim>> {
    let stmt = client.prepare_cached(queries::PROMOTE_WAITLIST).await?;
    let rows = client.query(&stmt, &[&show, &item_number]).await?;
    Ok(all(&rows)?)
}

pub async fn list(client: &impl GenericClient, show: ShowId) -> Result<Vec<Claim>> {
    let stmt = client.prepare_cached(queries::LIST_CLAIMS).await?;
    let rows = client.query(&stmt, &[&show]).await?;
    Ok(all(&rows)?)
}

/// The claims these comments of the show made, as they are now, oldest first.
pub async fn by_comments(
    client: &impl GenericClient,
    show: ShowId,
    comments: &[CommentId],
) -> Result<Vec<Claim>> {
    let stmt = client.prepare_cached(queries::CLAIMS_BY_COMMENTS).await?;
    let rows = client.query(&stmt, &[&show, &comments]).await?;
    Ok(all(&rows)?)
}

/// Which show a claim belongs to.
pub async fn show_of(client: &impl GenericClient, id: ClaimId) -> Result<Option<ShowId>> {
    let row = client.query_opt(queries::SHOW_OF_CLAIM, &[&id]).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Marks a buyer's unpaid units on the show paid; returns them, by item number.
pub async fn pay_buyer(
    client: &impl GenericClient,
    show: ShowId,
    buyer: &str,
) -> Result<Vec<Claim>> {
    let rows = client.query(queries::PAY_BUYER, &[&show, &buyer]).await?;
    let mut paid: Vec<Claim> = all(&rows)?;
    paid.sort_by_key(|c| c.item_number);
    Ok(paid)
}
