//! Creating, listing and changing shows.

use crate::db::{self, Db};
use crate::domain::{NewShow, Show, ShowId, ShowPatch, ShowStatus};
use deadpool_postgres::GenericClient;

use super::{Failed, Result, ServiceError};

/// Creates a show; its currency is the request's, else `default_currency`.
pub async fn create(db: &Db, actor: &str, show: &NewShow, default_currency: &str) -> Result<Show> {
    let mut client = db.client().await?;
    let tx = db::begin_as(&mut client, actor).await?;
    let currency = show.currency.as_deref().unwrap_or(default_currency);
    let show = db::shows::insert(&tx, show, currency).await?;
    tx.commit().await?;
    Ok(show)
}

/// Shows, newest first; `only` limits them to a token's `shows`.
pub async fn list(db: &Db, only: Option<&[ShowId]>, limit: i64) -> Result<Vec<Show>> {
    let client = db.client().await?;
    Ok(db::shows::list(&client, only, limit).await?)
}

pub async fn get(db: &Db, id: ShowId) -> Result<Show> {
    let client = db.client().await?;
    fetch(&client, id).await
}

/// The show, or NotFound: the one place a missing show becomes the error every list of a
/// show's children answers with (an empty list would hide a mistyped id).
pub(super) async fn fetch(client: &impl GenericClient, id: ShowId) -> Result<Show> {
    db::shows::get(client, id)
        .await?
        .ok_or(ServiceError::NotFound("show"))
}

/// What `PATCH /shows/{id}` did: the show as the feed's `show.updated` carries it, and
/// the seq that change got.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ShowChanged {
    #[serde(flatten)]
    pub show: Show,
    /// The show's seq once this write is visible (its `last_seq`; see `Ingested::seq`).
    pub seq: i64,
}

/// Changes the title or status. Answers with the row as the feed's `show.updated` carries
/// it: read after the change trigger bumped `last_seq`, in the same transaction.
pub async fn update(db: &Db, actor: &str, id: ShowId, patch: &ShowPatch) -> Result<ShowChanged> {
    let mut client = db.client().await?;
    let tx = db::begin_as(&mut client, actor).await?;
    if !db::shows::update(&tx, id, patch).await? {
        return Err(ServiceError::NotFound("show"));
    }
    let show = fetch(&tx, id).await?;
    tx.commit().await?;
    Ok(ShowChanged {
        seq: show.last_seq,
        show,
    })
}

/// Locks the show's row for the rest of the transaction, the first lock every writer of a
/// show takes (see the locking order in `service`), and returns its status; NotFound for
/// an unknown show.
pub(super) async fn lock(tx: &impl GenericClient, id: ShowId) -> Result<ShowStatus, Failed> {
    db::shows::lock(tx, id)
        .await?
        .ok_or(Failed::Refused(ServiceError::NotFound("show")))
}

/// The seq a write's changes reached, read before its commit (the show is locked, so no
/// other writer's change is counted): what the answer's `seq` tells the client to wait
/// for in its feed (read-your-writes). A write that changed nothing gets the show's
/// current seq, which its feed has reached once it is up to date.
pub(super) async fn written_seq(tx: &impl GenericClient, id: ShowId) -> Result<i64, Failed> {
    db::shows::last_seq(tx, id)
        .await?
        .ok_or(Failed::Refused(ServiceError::NotFound("show")))
}
