//! Comment ingest, with claims derived in the same transaction, and comment pages.

use std::collections::{HashMap, HashSet};

use crate::db::{self, Db};
use crate::domain::claim::{allocate, Candidate};
use crate::domain::claim_text::parse_claim;
use crate::domain::{Claim, Comment, CommentBatch, CommentId, ShowId, ShowStatus};

use super::{retry_aborted, Failed, Result};

/// What one `POST /comments` stored.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Ingested {
    /// Comments stored by this request, in request order.
    pub comments: Vec<Comment>,
    /// Claims those comments made.
    pub claims: Vec<Claim>,
    /// External ids that were already stored (re-posts, which change nothing).
    pub duplicates: Vec<String>,
}

/// Stores a batch of comments in one transaction and derives claims from those on a
/// live show. Either everything is stored or nothing is.
#[tracing::instrument(skip_all, fields(show_id = %show, comments = batch.0.len()))]
pub async fn ingest(db: &Db, actor: &str, show: ShowId, batch: &CommentBatch) -> Result<Ingested> {
    retry_aborted(|| async move {
        let mut client = db.client().await?;
        let tx = db::begin_as(&mut client, actor).await?;
        let status = super::shows::lock(&tx, show).await?;
        let mut stored: HashMap<String, Comment> = db::comments::insert_batch(&tx, show, &batch.0)
            .await?
            .into_iter()
            .map(|c| (c.external_id.clone(), c))
            .collect();

        // Request order, and which were re-posts (or repeated within this batch).
        let mut comments = Vec::with_capacity(stored.len());
        let mut duplicates = Vec::new();
        let mut candidates = Vec::new();
        for new in &batch.0 {
            let Some(comment) = stored.remove(&new.external_id) else {
                duplicates.push(new.external_id.clone());
                continue;
            };
            if status == ShowStatus::Live {
                if let Ok(item_number) = parse_claim(&comment.text) {
                    candidates.push(Candidate {
                        comment_id: comment.id,
                        item_number,
                        buyer_id: comment.author_id.clone(),
                        buyer_name: comment.author_name.clone(),
                    });
                }
            }
            comments.push(comment);
        }

        let claims = if candidates.is_empty() {
            Vec::new()
        } else {
            derive_claims(&tx, show, candidates).await?
        };
        tx.commit().await?;
        Ok(Ingested {
            comments,
            claims,
            duplicates,
        })
    })
    .await
}

/// Applies the claim rules to the candidates and inserts the claims. The caller holds the
/// show's lock, so the item state read here cannot change before commit.
async fn derive_claims(
    tx: &deadpool_postgres::Transaction<'_>,
    show: ShowId,
    candidates: Vec<Candidate>,
) -> Result<Vec<Claim>, Failed> {
    let numbers: Vec<i32> = candidates
        .iter()
        .map(|c| c.item_number)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut states = db::claims::item_states(tx, show, &numbers).await?;
    let new = allocate(&mut states, candidates);
    if new.is_empty() {
        return Ok(Vec::new());
    }
    Ok(db::claims::insert_batch(tx, show, &new).await?)
}

/// Comments newest first, `limit` of them, older than comment `before` if given;
/// NotFound for an unknown show.
pub async fn page(
    db: &Db,
    show: ShowId,
    before: Option<CommentId>,
    limit: i64,
) -> Result<Vec<Comment>> {
    let client = db.client().await?;
    super::shows::fetch(&client, show).await?;
    Ok(db::comments::page(&client, show, before, limit).await?)
}
