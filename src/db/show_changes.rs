//! Reads of the change log and the stream's snapshot. Both return JSON text built by
//! Postgres, so the feed turns each into an SSE frame without parsing it.

use super::{queries, Db, DbError, Result};
use crate::domain::ShowId;
use deadpool_postgres::GenericClient;

/// One `show_changes` row as the feed sends it.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub seq: i64,
    /// SSE event name, e.g. `claim.updated`.
    pub event: String,
    /// The change object as JSON text (one line).
    pub body: String,
}

/// A page of changes and the show's seq when it was read.
#[derive(Debug, Clone)]
pub struct ChangePage {
    pub last_seq: i64,
    pub changes: Vec<ChangeRow>,
}

/// The `initial` event: the show's state at seq `seq`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub seq: i64,
    /// `{"seq", "show", "comments", "claims", "items"}` as JSON text (one line).
    pub body: String,
}

impl Db {
    /// Up to `limit` changes of a show with seq > `after`, in seq order, and the show's
    /// current `last_seq` (read in the same statement).
    pub async fn changes_after(&self, id: ShowId, after: i64, limit: i64) -> Result<ChangePage> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(queries::CHANGES_AFTER).await?;
        let rows = client
            .query(&stmt, &[&id, &after, &limit, &self.commit_timestamps()])
            .await?;
        let last_seq = rows.first().ok_or(DbError::NotFound("show"))?.get(0);
        let changes = rows
            .iter()
            .filter_map(|r| {
                Some(ChangeRow {
                    seq: r.get::<_, Option<i64>>(1)?,
                    event: r.get(2),
                    body: r.get(3),
                })
            })
            .collect();
        Ok(ChangePage { last_seq, changes })
    }

    /// The show's state in one statement (so one snapshot) with its newest comments.
    pub async fn snapshot(&self, id: ShowId, comments: i64) -> Result<Snapshot> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(queries::SHOW_SNAPSHOT).await?;
        let row = client
            .query_opt(&stmt, &[&id, &comments])
            .await?
            .ok_or(DbError::NotFound("show"))?;
        Ok(Snapshot {
            seq: row.get(0),
            body: row.get(1),
        })
    }

    /// The show's current seq, or NotFound.
    pub async fn last_seq(&self, id: ShowId) -> Result<i64> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(queries::SHOW_LAST_SEQ).await?;
        client
            .query_opt(&stmt, &[&id])
            .await?
            .map(|r| r.get(0))
            .ok_or(DbError::NotFound("show"))
    }

    /// Deletes changes older than `days`; returns how many. Resumes from before the cut
    /// then get a fresh `initial` (the feed sees the gap).
    pub async fn prune_changes(&self, days: i32) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(queries::ALLOW_PRUNE, &[]).await?;
        let n = tx.execute(queries::PRUNE_CHANGES, &[&days]).await?;
        tx.commit().await?;
        Ok(n)
    }
}
