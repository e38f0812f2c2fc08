//! Claim status changes.

use serde_json::Value;
use uuid::Uuid;

use super::shows::{lock_show, promote_waitlist};
use super::{begin_as, queries, retry_conflicts, Db, DbError, Result};
use crate::domain::claim::{check_transition, ClaimStatus};
use crate::domain::ShowId;
use deadpool_postgres::GenericClient;

/// A claim after a status change, and the claims its release promoted.
#[derive(Debug, serde::Serialize)]
pub struct ClaimChanged {
    pub claim: Value,
    pub promoted: Vec<Value>,
}

impl Db {
    /// Which show a claim belongs to (for the token's `shows` check before writing).
    pub async fn show_of_claim(&self, claim: Uuid) -> Result<ShowId> {
        let client = self.client().await?;
        client
            .query_opt(queries::SHOW_OF_CLAIM, &[&claim])
            .await?
            .map(|r| ShowId(r.get(0)))
            .ok_or(DbError::NotFound("claim"))
    }

    /// Moves a claim to `to` if the contract allows it; a release promotes the lowest
    /// waitlisted position of the item in the same transaction.
    #[tracing::instrument(skip_all, fields(claim_id = %claim))]
    pub async fn set_claim_status(
        &self,
        actor: &str,
        claim: Uuid,
        to: ClaimStatus,
    ) -> Result<ClaimChanged> {
        retry_conflicts(|| self.try_set_claim_status(actor, claim, to)).await
    }

    async fn try_set_claim_status(
        &self,
        actor: &str,
        claim: Uuid,
        to: ClaimStatus,
    ) -> Result<ClaimChanged> {
        let show = self.show_of_claim(claim).await?;
        let mut client = self.client().await?;
        let tx = begin_as(&mut client, actor).await?;
        lock_show(&tx, show).await?;
        let stmt = tx.prepare_cached(queries::LOCK_CLAIM).await?;
        let row = tx
            .query_opt(&stmt, &[&claim])
            .await?
            .ok_or(DbError::NotFound("claim"))?;
        let item_number: i32 = row.get(1);
        let from = ClaimStatus::parse(row.get(2))
            .ok_or_else(|| DbError::Invalid("claim has an unknown status".into()))?;
        check_transition(from, to).map_err(|e| DbError::Conflict(e.to_string()))?;
        let stmt = tx.prepare_cached(queries::SET_CLAIM_STATUS).await?;
        let updated = tx.query_one(&stmt, &[&claim, &to.as_str()]).await?;
        let promoted = if to == ClaimStatus::Released {
            promote_waitlist(&tx, show, item_number).await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        Ok(ClaimChanged {
            claim: updated.get(0),
            promoted,
        })
    }

    pub async fn list_claims(&self, id: ShowId) -> Result<Vec<Value>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(queries::LIST_CLAIMS).await?;
        let rows = client.query(&stmt, &[&id.0]).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
