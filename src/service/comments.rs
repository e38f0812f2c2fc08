//! Comment ingest, with claims derived in the same transaction, and comment pages.

use std::collections::{HashMap, HashSet};

use crate::db::{self, Db};
use crate::domain::claim::{allocate, Candidate};
use crate::domain::claim_text::parse_claim;
use crate::domain::{Claim, Comment, CommentBatch, CommentId, ShowId, ShowStatus};

use super::{retry_aborted, Failed, Result};

/// What one `POST /comments` answers: every comment of the request as stored, and the
/// claims they made. A re-post (an `external_id` the show already has) answers with the
/// stored row and its claims as they are now, so a connector that retries after a timeout
/// learns what its first write did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Ingested {
    /// Every comment of the request, in request order: the ones stored by this request and,
    /// for re-posts, the stored rows (first write wins). An id repeated in the batch
    /// appears once.
    pub comments: Vec<Comment>,
    /// The claims the new comments made and the re-posted comments' claims as they are
    /// now, in the order of their comments.
    pub claims: Vec<Claim>,
    /// External ids that were already stored (re-posts, which change nothing), in request
    /// order, once per repeat.
    pub duplicates: Vec<String>,
    /// The show's seq once this write is visible: its last change's (the current one when
    /// it changed nothing). A feed that has applied it shows this answer's rows.
    pub seq: i64,
    /// How many comments this request stored (0: everything was a re-post).
    #[serde(skip)]
    pub stored: usize,
}

/// Stores a batch of comments in one transaction and derives claims from those on a
/// live show. Either everything is stored or nothing is. Re-posts change nothing; they are
/// answered with the stored rows, read in the same transaction under the show's lock.
#[tracing::instrument(skip_all, fields(show_id = %show, comments = batch.0.len()))]
pub async fn ingest(db: &Db, actor: &str, show: ShowId, batch: &CommentBatch) -> Result<Ingested> {
    retry_aborted(|| async move {
        let mut client = db.client().await?;
        let tx = db::begin_as(&mut client, actor).await?;
        let status = super::shows::lock(&tx, show).await?;
        let mut new: HashMap<String, Comment> = db::comments::insert_batch(&tx, show, &batch.0)
            .await?
            .into_iter()
            .map(|c| (c.external_id.clone(), c))
            .collect();
        let stored = new.len();

        // The comments this request did not store are already stored: read them (the show's
        // lock keeps anyone else from writing its comments meanwhile).
        let reposted: Vec<&str> = batch
            .0
            .iter()
            .map(|c| c.external_id.as_str())
            .filter(|id| !new.contains_key(*id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut existing: HashMap<String, Comment> = if reposted.is_empty() {
            HashMap::new()
        } else {
            db::comments::by_external_ids(&tx, show, &reposted)
                .await?
                .into_iter()
                .map(|c| (c.external_id.clone(), c))
                .collect()
        };

        // Request order, and which were re-posts (or repeated within this batch).
        let mut comments = Vec::with_capacity(batch.0.len());
        let mut duplicates = Vec::new();
        let mut reposted_ids = Vec::new();
        let mut candidates = Vec::new();
        for posted in &batch.0 {
            let Some(comment) = new.remove(&posted.external_id) else {
                duplicates.push(posted.external_id.clone());
                if let Some(comment) = existing.remove(&posted.external_id) {
                    reposted_ids.push(comment.id);
                    comments.push(comment);
                }
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

        let mut claims = if candidates.is_empty() {
            Vec::new()
        } else {
            derive_claims(&tx, show, candidates).await?
        };
        if !reposted_ids.is_empty() {
            claims.extend(db::claims::by_comments(&tx, show, &reposted_ids).await?);
        }
        let claims = in_comment_order(&comments, claims);
        let seq = super::shows::written_seq(&tx, show).await?;
        tx.commit().await?;
        Ok(Ingested {
            comments,
            claims,
            duplicates,
            seq,
            stored,
        })
    })
    .await
}

/// The claims ordered by their comment's place in `comments`; a comment's own claims keep
/// their order.
fn in_comment_order(comments: &[Comment], claims: Vec<Claim>) -> Vec<Claim> {
    let mut by_comment: HashMap<CommentId, Vec<Claim>> = HashMap::new();
    for claim in claims {
        if let Some(comment) = claim.comment_id {
            by_comment.entry(comment).or_default().push(claim);
        }
    }
    comments
        .iter()
        .flat_map(|c| by_comment.remove(&c.id).unwrap_or_default())
        .collect()
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
