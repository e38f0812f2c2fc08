//! Claim status changes (a release promotes the waitlist) and the claims board.

use crate::db::claims::LockedClaim;
use crate::db::{self, Db};
use crate::domain::claim::{check_transition, check_undo};
use crate::domain::{Claim, ClaimId, ClaimStatus, ShowId, StatusChange};

use super::{retry_aborted, Failed, Result, ServiceError};

/// A claim after a status change, and the claims its release promoted.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ClaimChanged {
    pub claim: Claim,
    pub promoted: Vec<Claim>,
    /// The show's seq once this write is visible (see `Ingested::seq`).
    pub seq: i64,
}

/// Which show a claim belongs to (for the token's `shows` check before writing).
pub async fn show_of(db: &Db, claim: ClaimId) -> Result<ShowId> {
    let client = db.client().await?;
    db::claims::show_of(&client, claim)
        .await?
        .ok_or(ServiceError::NotFound("claim"))
}

/// Moves a claim to the requested status if the contract allows it from the current one
/// (409 otherwise); a release promotes the lowest waitlisted position of the item in the
/// same transaction.
#[tracing::instrument(skip_all, fields(claim_id = %claim))]
pub async fn set_status(
    db: &Db,
    actor: &str,
    claim: ClaimId,
    change: StatusChange,
) -> Result<ClaimChanged> {
    let to = change.to();
    retry_aborted(|| async move {
        let show = show_of(db, claim).await?;
        let mut client = db.client().await?;
        let tx = db::begin_as(&mut client, actor).await?;
        let locked = lock_claim(&tx, show, claim).await?;
        check_transition(locked.status, to)
            .map_err(|refused| ServiceError::Conflict(refused.to_string()))?;
        let claim = db::claims::set_status(&tx, claim, to).await?;
        let promoted = if to == ClaimStatus::Released {
            db::claims::promote_waitlist(&tx, locked.show, locked.item_number).await?
        } else {
            Vec::new()
        };
        let seq = super::shows::written_seq(&tx, locked.show).await?;
        tx.commit().await?;
        Ok::<_, Failed>(ClaimChanged {
            claim,
            promoted,
            seq,
        })
    })
    .await
}

/// Gives a released claim its unit back, within `window_secs` of the release and only
/// while the item has a free unit (see `check_undo`): a release that promoted the next
/// buyer is not undone at their expense (409, saying so).
#[tracing::instrument(skip_all, fields(claim_id = %claim))]
pub async fn undo_release(
    db: &Db,
    actor: &str,
    claim: ClaimId,
    window_secs: u64,
) -> Result<ClaimChanged> {
    retry_aborted(|| async move {
        let show = show_of(db, claim).await?;
        let mut client = db.client().await?;
        let tx = db::begin_as(&mut client, actor).await?;
        let locked = lock_claim(&tx, show, claim).await?;
        let states = db::claims::item_states(
            &tx,
            show,
            &[locked.item_number],
            &[locked.buyer_id.as_str()],
        )
        .await?;
        let item = states.get(&locked.item_number).cloned().unwrap_or_default();
        check_undo(
            locked.status,
            locked.changed_secs_ago,
            window_secs,
            &locked.buyer_id,
            &item,
        )
        .map_err(|refused| ServiceError::Conflict(refused.to_string()))?;
        let claim = db::claims::set_status(&tx, claim, ClaimStatus::Claimed).await?;
        let seq = super::shows::written_seq(&tx, show).await?;
        tx.commit().await?;
        Ok::<_, Failed>(ClaimChanged {
            claim,
            promoted: Vec::new(),
            seq,
        })
    })
    .await
}

/// Locks the claim's show, then the claim (the order every writer of the show keeps), and
/// reads what a change of the claim checks; NotFound for an unknown claim.
async fn lock_claim(
    tx: &deadpool_postgres::Transaction<'_>,
    show: ShowId,
    claim: ClaimId,
) -> Result<LockedClaim, Failed> {
    super::shows::lock(tx, show).await?;
    Ok(db::claims::lock(tx, claim)
        .await?
        .ok_or(ServiceError::NotFound("claim"))?)
}

/// Every claim of the show, oldest first; NotFound for an unknown show.
pub async fn list(db: &Db, show: ShowId) -> Result<Vec<Claim>> {
    let client = db.client().await?;
    super::shows::fetch(&client, show).await?;
    Ok(db::claims::list(&client, show).await?)
}
