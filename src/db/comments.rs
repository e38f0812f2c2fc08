//! Statements on `comments`.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::rows::all;
use super::{queries, Result};
use crate::domain::{ClaimResult, Comment, CommentFilter, CommentId, NewComment, Only, ShowId};

/// A comment to store, with the id and claim result the service gave it.
pub struct ToStore<'a> {
    pub id: CommentId,
    pub comment: &'a NewComment,
    pub claim_result: Option<ClaimResult>,
}

/// Inserts a batch in one statement; comments whose `external_id` the show already has
/// are skipped (first write wins), so the result may be shorter than the batch and is in
/// no particular order.
pub async fn insert_batch(
    client: &impl GenericClient,
    show: ShowId,
    batch: &[ToStore<'_>],
) -> Result<Vec<Comment>> {
    let column =
        |f: fn(&NewComment) -> &str| -> Vec<&str> { batch.iter().map(|c| f(c.comment)).collect() };
    let ids: Vec<CommentId> = batch.iter().map(|c| c.id).collect();
    let created_at: Vec<Option<DateTime<Utc>>> =
        batch.iter().map(|c| c.comment.created_at).collect();
    let results: Vec<Option<&ClaimResult>> =
        batch.iter().map(|c| c.claim_result.as_ref()).collect();
    let stmt = client.prepare_cached(queries::INSERT_COMMENTS).await?;
    let rows = client
        .query(
            &stmt,
            &[
                &show,
                &ids,
                &column(|c| &c.external_id),
                &column(|c| &c.author_id),
                &column(|c| &c.author_name),
                &column(|c| &c.text),
                &created_at,
                &results,
            ],
        )
        .await?;
    Ok(all(&rows)?)
}

/// The show's stored comments with these external ids, in no particular order (ids it
/// does not have are left out).
pub async fn by_external_ids(
    client: &impl GenericClient,
    show: ShowId,
    external_ids: &[&str],
) -> Result<Vec<Comment>> {
    let stmt = client
        .prepare_cached(queries::COMMENTS_BY_EXTERNAL_IDS)
        .await?;
    let rows = client.query(&stmt, &[&show, &external_ids]).await?;
    Ok(all(&rows)?)
}

/// Comments newest first, `limit` of them, older than comment `before` if given.
pub async fn page(
    client: &impl GenericClient,
    show: ShowId,
    before: Option<CommentId>,
    limit: i64,
) -> Result<Vec<Comment>> {
    let stmt = client.prepare_cached(queries::PAGE_COMMENTS).await?;
    let rows = client.query(&stmt, &[&show, &before, &limit]).await?;
    Ok(all(&rows)?)
}

/// Comments matching `filter` (not empty), newest first, `limit` of them, older than
/// comment `before` if given. Sent unprepared, so Postgres plans it with the values: the
/// filters not given fold away and a text search uses the trigram index.
pub async fn search(
    client: &impl GenericClient,
    show: ShowId,
    filter: &CommentFilter,
    before: Option<CommentId>,
    limit: i64,
) -> Result<Vec<Comment>> {
    let pattern = filter.like_pattern();
    let only = filter.only.map(Only::as_str);
    let rows = client
        .query(
            queries::SEARCH_COMMENTS,
            &[&show, &before, &limit, &pattern, &filter.buyer, &only],
        )
        .await?;
    Ok(all(&rows)?)
}
