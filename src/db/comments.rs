//! Comment ingest (with claims derived in the same transaction) and comment pages.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::shows::lock_show;
use super::{begin_as, queries, retry_conflicts, Db, Result};
use crate::domain::claim::{allocate, Candidate, ItemState};
use crate::domain::claim_text::parse_claim;
use crate::domain::input::NewComment;
use crate::domain::ShowId;
use deadpool_postgres::GenericClient;

/// What one `POST /comments` stored.
#[derive(Debug, serde::Serialize)]
pub struct Ingested {
    /// Comments stored by this request, in request order.
    pub comments: Vec<Value>,
    /// Claims those comments made.
    pub claims: Vec<Value>,
    /// External ids that were already stored (re-posts, which change nothing).
    pub duplicates: Vec<String>,
}

impl Db {
    /// Stores a batch of comments in one transaction and derives claims from those on a
    /// live show. Either everything is stored or nothing is.
    #[tracing::instrument(skip_all, fields(show_id = %id, comments = batch.len()))]
    pub async fn ingest_comments(
        &self,
        actor: &str,
        id: ShowId,
        batch: &[NewComment],
    ) -> Result<Ingested> {
        retry_conflicts(|| self.try_ingest_comments(actor, id, batch)).await
    }

    async fn try_ingest_comments(
        &self,
        actor: &str,
        id: ShowId,
        batch: &[NewComment],
    ) -> Result<Ingested> {
        let mut client = self.client().await?;
        let tx = begin_as(&mut client, actor).await?;
        let status = lock_show(&tx, id).await?;

        let column = |f: fn(&NewComment) -> &str| -> Vec<&str> { batch.iter().map(f).collect() };
        let created_at: Vec<Option<DateTime<Utc>>> = batch.iter().map(|c| c.created_at).collect();
        let stmt = tx.prepare_cached(queries::INSERT_COMMENTS).await?;
        let rows = tx
            .query(
                &stmt,
                &[
                    &id.0,
                    &column(|c| &c.external_id),
                    &column(|c| &c.author_id),
                    &column(|c| &c.author_name),
                    &column(|c| &c.text),
                    &created_at,
                ],
            )
            .await?;
        let stored: HashMap<String, (Uuid, Value)> = rows
            .into_iter()
            .map(|r| {
                (
                    r.get::<_, String>(1),
                    (r.get::<_, Uuid>(0), r.get::<_, Value>(2)),
                )
            })
            .collect();

        // Request order, and which were re-posts (or repeated within this batch).
        let mut comments = Vec::with_capacity(stored.len());
        let mut duplicates = Vec::new();
        let mut candidates = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for c in batch {
            match stored.get(&c.external_id) {
                Some((comment_id, json)) if seen.insert(c.external_id.as_str()) => {
                    comments.push(json.clone());
                    if status == "live" {
                        if let Ok(item_number) = parse_claim(&c.text) {
                            candidates.push(Candidate {
                                comment_id: *comment_id,
                                item_number,
                                buyer_id: c.author_id.clone(),
                                buyer_name: c.author_name.clone(),
                            });
                        }
                    }
                }
                _ => duplicates.push(c.external_id.clone()),
            }
        }

        let claims = if candidates.is_empty() {
            Vec::new()
        } else {
            insert_claims(&tx, id, candidates).await?
        };
        tx.commit().await?;
        Ok(Ingested {
            comments,
            claims,
            duplicates,
        })
    }

    /// Comments newest first, `limit` of them, older than comment `before` if given.
    pub async fn page_comments(
        &self,
        id: ShowId,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Value>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(queries::PAGE_COMMENTS).await?;
        let rows = client.query(&stmt, &[&id.0, &before, &limit]).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// Applies the claim rules to the candidates and inserts the claims. The caller holds the
/// show's lock, so the item state read here cannot change before commit.
async fn insert_claims(
    tx: &impl GenericClient,
    id: ShowId,
    candidates: Vec<Candidate>,
) -> Result<Vec<Value>> {
    let mut numbers: Vec<i32> = candidates.iter().map(|c| c.item_number).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let stmt = tx.prepare_cached(queries::CLAIM_ITEM_STATE).await?;
    let mut states: HashMap<i32, ItemState> = tx
        .query(&stmt, &[&id.0, &numbers])
        .await?
        .iter()
        .map(|r| {
            let state = ItemState {
                quantity: r.get(1),
                held: r.get(2),
                last_position: r.get(3),
                live_buyers: r.get::<_, Vec<String>>(4).into_iter().collect(),
            };
            (r.get(0), state)
        })
        .collect();

    let new = allocate(&mut states, candidates);
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<i32> = new.iter().map(|c| c.item_number).collect();
    let comment_ids: Vec<Uuid> = new.iter().map(|c| c.comment_id).collect();
    let buyers: Vec<&str> = new.iter().map(|c| c.buyer_id.as_str()).collect();
    let names: Vec<&str> = new.iter().map(|c| c.buyer_name.as_str()).collect();
    let statuses: Vec<&str> = new.iter().map(|c| c.status.as_str()).collect();
    let positions: Vec<Option<i32>> = new.iter().map(|c| c.waitlist_position).collect();
    let stmt = tx.prepare_cached(queries::INSERT_CLAIMS).await?;
    let rows = tx
        .query(
            &stmt,
            &[
                &id.0,
                &items,
                &comment_ids,
                &buyers,
                &names,
                &statuses,
                &positions,
            ],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
