//! Statements on `comments`.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::rows::all;
use super::{queries, Result};
use crate::domain::{Comment, CommentId, NewComment, ShowId};

/// Inserts a batch in one statement; comments whose `external_id` the show already has
/// are skipped (first write wins), so the result may be shorter than the batch and is in
/// no particular order.
pub async fn insert_batch(
    client: &impl GenericClient,
    show: ShowId,
    batch: &[NewComment],
) -> Result<Vec<Comment>> {
    let column = |f: fn(&NewComment) -> &str| -> Vec<&str> { batch.iter().map(f).collect() };
    let created_at: Vec<Option<DateTime<Utc>>> = batch.iter().map(|c| c.created_at).collect();
    let stmt = client.prepare_cached(queries::INSERT_COMMENTS).await?;
    let rows = client
        .query(
            &stmt,
            &[
                &show,
                &column(|c| &c.external_id),
                &column(|c| &c.author_id),
                &column(|c| &c.author_name),
                &column(|c| &c.text),
                &created_at,
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
