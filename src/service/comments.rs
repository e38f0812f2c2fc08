//! Comment ingest, with claims derived in the same transaction, and comment pages.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::db::comments::ToStore;
use crate::db::{self, Db};
use crate::domain::claim::{allocate, Candidate, NewClaim};
use crate::domain::claim_result::Attempt;
use crate::domain::claim_text::parse_claim;
use crate::domain::{
    Claim, ClaimResult, Comment, CommentBatch, CommentFilter, CommentId, NewComment, Refusal,
    ShowId, ShowStatus,
};

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

/// Stores comment batches of one show (several requests' when grouped, see
/// [`super::group_commit`]; by one actor) in one transaction and derives claims from those
/// on a live show. Either everything is stored or nothing is. Re-posts change nothing; they
/// are answered with the stored rows, read in the same transaction under the show's lock.
///
/// Each batch is answered as if it had run alone, one after the other in the order given:
/// a later batch's comment with an external id an earlier one stored is a re-post of that
/// row, and claims are allocated in that order, so arrival order decides who gets an item
/// and the waitlist.
///
/// The claims are decided before the comments are inserted, so each comment is stored
/// with its `claim_result` and its own change event carries it (no second event).
#[tracing::instrument(skip_all, fields(show_id = %show, requests = batches.len()))]
pub async fn ingest_together(
    db: &Db,
    actor: &str,
    show: ShowId,
    batches: &[&CommentBatch],
) -> Result<Vec<Ingested>> {
    retry_aborted(|| async move {
        let mut client = db.client().await?;
        let tx = db::begin_as(&mut client, actor).await?;
        let status = super::shows::lock(&tx, show).await?;

        // Under the show's lock no other writer can store a comment of this show (the
        // change trigger takes the same row), so what is stored now stays all there is.
        let posted = || batches.iter().flat_map(|b| &b.0);
        let external_ids: Vec<&str> = posted()
            .map(|c| c.external_id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let existing: HashMap<String, Comment> =
            db::comments::by_external_ids(&tx, show, &external_ids)
                .await?
                .into_iter()
                .map(|c| (c.external_id.clone(), c))
                .collect();

        // The comments to store: the first of each new external id, in order, and which
        // batch stores it.
        let mut stored_by: HashMap<&str, usize> = HashMap::new();
        let mut fresh: Vec<&NewComment> = Vec::new();
        for (b, batch) in batches.iter().enumerate() {
            for c in &batch.0 {
                if !existing.contains_key(&c.external_id)
                    && !stored_by.contains_key(c.external_id.as_str())
                {
                    stored_by.insert(&c.external_id, b);
                    fresh.push(c);
                }
            }
        }
        let ids: Vec<CommentId> = fresh.iter().map(|_| CommentId(Uuid::new_v4())).collect();
        let (results, new_claims) = decide_claims(&tx, show, status, &fresh, &ids).await?;
        let to_store: Vec<ToStore> = fresh
            .iter()
            .zip(ids)
            .zip(results)
            .map(|((comment, id), claim_result)| ToStore {
                id,
                comment,
                claim_result,
            })
            .collect();
        let new: HashMap<String, Comment> = db::comments::insert_batch(&tx, show, &to_store)
            .await?
            .into_iter()
            .map(|c| (c.external_id.clone(), c))
            .collect();
        let mut claims = if new_claims.is_empty() {
            Vec::new()
        } else {
            db::claims::insert_batch(&tx, show, &new_claims).await?
        };

        // Each batch in its own order, with its re-posts (of stored rows, of an earlier
        // batch's, or repeated within itself).
        let mut answers: Vec<Answer> = Vec::with_capacity(batches.len());
        let mut reposted_ids = Vec::new();
        for (b, batch) in batches.iter().enumerate() {
            let mut answer = Answer::default();
            let mut answered = HashSet::new();
            for posted in &batch.0 {
                let id = posted.external_id.as_str();
                let first_here = answered.insert(id);
                if first_here && stored_by.get(id) == Some(&b) {
                    answer.comments.push(new[id].clone());
                    answer.stored += 1;
                    continue;
                }
                answer.duplicates.push(id.to_owned());
                if let Some(comment) = first_here
                    .then(|| existing.get(id).or_else(|| new.get(id)))
                    .flatten()
                {
                    reposted_ids.push(comment.id);
                    answer.comments.push(comment.clone());
                }
            }
            answers.push(answer);
        }
        if !reposted_ids.is_empty() {
            reposted_ids.sort_unstable();
            reposted_ids.dedup();
            claims.extend(db::claims::by_comments(&tx, show, &reposted_ids).await?);
        }
        let claims = by_comment(claims);
        let seq = super::shows::written_seq(&tx, show).await?;
        tx.commit().await?;
        Ok(answers
            .into_iter()
            .map(|a| Ingested {
                claims: in_comment_order(&a.comments, &claims),
                comments: a.comments,
                duplicates: a.duplicates,
                seq,
                stored: a.stored,
            })
            .collect())
    })
    .await
}

/// One batch's part of a group's answer, before the claims are sorted in.
#[derive(Default)]
struct Answer {
    comments: Vec<Comment>,
    duplicates: Vec<String>,
    stored: usize,
}

/// What each new comment's text does, given the show's status: its claim result (None:
/// not a claim) and the claims to insert. A claim on a live show goes through the
/// allocation rules (the caller holds the show's lock, so the item state read here cannot
/// change before commit); on a show that is not live, or with a number that cannot exist,
/// it is refused.
async fn decide_claims(
    tx: &deadpool_postgres::Transaction<'_>,
    show: ShowId,
    status: ShowStatus,
    fresh: &[&NewComment],
    ids: &[CommentId],
) -> Result<(Vec<Option<ClaimResult>>, Vec<NewClaim>), Failed> {
    let live = status == ShowStatus::Live;
    let mut results: Vec<Option<ClaimResult>> = vec![None; fresh.len()];
    let mut candidates = Vec::new();
    let mut places = Vec::new();
    for (i, comment) in fresh.iter().enumerate() {
        match Attempt::of(parse_claim(&comment.text)) {
            Attempt::None => {}
            Attempt::Claim(n) | Attempt::OutOfRange(n) if !live => {
                results[i] = Some(ClaimResult::refused(n, Refusal::ShowNotLive));
            }
            Attempt::OutOfRange(n) => {
                results[i] = Some(ClaimResult::refused(n, Refusal::NoSuchItem))
            }
            Attempt::Claim(item_number) => {
                candidates.push(Candidate {
                    comment_id: ids[i],
                    item_number,
                    buyer_id: comment.author_id.clone(),
                    buyer_name: comment.author_name.clone(),
                });
                places.push((i, item_number));
            }
        }
    }
    if candidates.is_empty() {
        return Ok((results, Vec::new()));
    }
    let numbers: Vec<i32> = places
        .iter()
        .map(|(_, n)| *n)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let buyers: Vec<&str> = candidates
        .iter()
        .map(|c| c.buyer_id.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut states = db::claims::item_states(tx, show, &numbers, &buyers).await?;
    let mut claims = Vec::new();
    for ((i, item_number), allocation) in places.into_iter().zip(allocate(&mut states, candidates))
    {
        results[i] = Some(ClaimResult::of(item_number, &allocation));
        claims.extend(allocation);
    }
    Ok((results, claims))
}

/// Claims by the comment that made them, each comment's in their order.
fn by_comment(claims: Vec<Claim>) -> HashMap<CommentId, Vec<Claim>> {
    let mut by_comment: HashMap<CommentId, Vec<Claim>> = HashMap::new();
    for claim in claims {
        if let Some(comment) = claim.comment_id {
            by_comment.entry(comment).or_default().push(claim);
        }
    }
    by_comment
}

/// The claims of `comments`, ordered by their comment's place; a comment's own claims
/// keep their order.
fn in_comment_order(comments: &[Comment], claims: &HashMap<CommentId, Vec<Claim>>) -> Vec<Claim> {
    comments
        .iter()
        .flat_map(|c| claims.get(&c.id).into_iter().flatten().cloned())
        .collect()
}

/// Comments newest first, `limit` of them, older than comment `before` if given, only
/// those matching `filter`; NotFound for an unknown show.
pub async fn page(
    db: &Db,
    show: ShowId,
    filter: &CommentFilter,
    before: Option<CommentId>,
    limit: i64,
) -> Result<Vec<Comment>> {
    let client = db.client().await?;
    super::shows::fetch(&client, show).await?;
    if filter.is_empty() {
        Ok(db::comments::page(&client, show, before, limit).await?)
    } else {
        Ok(db::comments::search(&client, show, filter, before, limit).await?)
    }
}
