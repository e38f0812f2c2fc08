//! The live change feed: one listener per process rings the doorbell, one reader per show
//! fetches new rows of `show_changes`, the hub fans frames out to subscribers.
//!
//! Ordering and completeness rest on one rule: every subscriber tracks the last seq it
//! sent (`last`), and before it waits for the broadcast it compares `last` with the
//! channel's cursor and fills any hole from the ring or, failing that, from
//! `show_changes`. Broadcast frames at or below `last` are skipped. So a subscriber
//! sends each seq exactly once, in order, whatever the races between subscribing,
//! snapshots, the reader, lagging and listener reconnects.
//!
//! - [`listener`]: the one LISTEN connection; turns notifications into doorbells.
//! - [`relay`]: in relay mode, the elected node that rings for writers that did not.
//! - `reader`: the per-show reader task (fetch after the cursor, publish) and catch-up.
//! - [`hub`]: per show, the broadcast channel, the ring of recent frames, the cursor.
//! - `subscription`: [`Subscription`] and [`Next`]: where a subscriber starts, what it
//!   sends next.
//! - [`frame`]: a change encoded once as SSE bytes shared by every subscriber.
//!
//! # Concurrency model
//!
//! Nothing here holds a std lock across an `.await`, and the std locks are never nested.
//!
//! - `Hub::shows` (std mutex): the map show -> [`hub::ShowChannel`]. The first
//!   `subscribe` of a show inserts its channel, the last `unsubscribe` removes it; the
//!   listener's doorbells ([`Feed::notified`], [`Feed::repair_all`]) only look up.
//! - `ShowChannel::state` (std mutex): the ring, the cursor (highest seq broadcast), `dirty`
//!   (a doorbell rang since the reader last started a read) and `reading` (a reader task
//!   runs). Doorbells set `dirty`; the first subscriber sets the cursor; the reader
//!   advances it in `publish`; catch-up extends the ring backwards. Checking "is a reader
//!   due" and setting `reading` happen under one guard, so at most one reader runs per
//!   show.
//! - `ShowChannel::tx` (broadcast): sender, the show's reader only, and it sends under the
//!   state guard, so frames go out in seq order and the ring and the broadcast agree.
//!   Receivers: one per [`Subscription`]. A receiver that falls `buffer` frames behind is
//!   told `Lagged` and repairs from the ring or the log. The sender lives in the channel,
//!   which every subscription holds, so a live receiver never sees `Closed`.
//! - `ShowChannel::backfill` (async mutex): single flight for catch-up queries; concurrent
//!   resumes of one show wait for one query, then read the ring it filled.
//! - `ShowChannel::snapshot` (async mutex): single flight and reuse of the `initial` frame.
//! - The listener's connection task calls [`Feed::notified`] for each notification; that
//!   never blocks, so Postgres's notification queue drains as fast as it fills.
//!
//! # Lifecycle
//!
//! - The listener task is spawned by `startup` and ends when the `stop` token is cancelled.
//! - A show's channel is created by its first subscriber and leaves the hub with its last;
//!   a reader or catch-up still holding it finishes on the detached `Arc`.
//! - A show's reader is started by a doorbell (or by the first subscriber, when a doorbell
//!   rang before the cursor was known) if none runs. It loops while doorbells keep ringing
//!   and ends, clearing `reading` under the guard, when none is pending, the show has no
//!   subscribers left, or the feed closes. Readers run on the feed's `TaskTracker`, never
//!   detached: at shutdown `startup` calls [`Feed::close`] after the server and the
//!   listener have stopped, which cancels the readers' token, closes the tracker and waits
//!   for them (bounded).
//! - A [`Subscription`] is made by [`Feed::subscribe`], started once
//!   ([`Subscription::start`]), then polled ([`Subscription::next`]); dropping it
//!   unsubscribes.

pub mod frame;
pub mod hub;
pub mod listener;
pub mod positions;
mod reader;
pub mod relay;
mod session;
mod subscription;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::db::{Db, DbError};
use crate::domain::ShowId;
use crate::observability::Metrics;
use hub::Hub;
pub use subscription::{Next, Subscription};

/// How the feed is tuned (from `Config`).
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// Frames a subscriber may fall behind before it is cut over to catch-up.
    pub buffer: usize,
    /// Recent frames kept per show.
    pub ring_size: usize,
    /// Resumes further back than this get a fresh `initial`.
    pub replay_limit: i64,
    /// Newest comments in a snapshot.
    pub snapshot_comments: i64,
    /// A snapshot this young is handed to new subscribers instead of a new query.
    pub snapshot_reuse: Duration,
}

/// Handle to the feed; cheap to clone.
#[derive(Clone)]
pub struct Feed {
    inner: Arc<Inner>,
}

struct Inner {
    hub: Hub,
    db: Db,
    metrics: Arc<Metrics>,
    settings: FeedSettings,
    /// Every per-show reader task. Spawned onto by `reader`, closed and waited for by
    /// [`Feed::close`], so no reader outlives the service.
    readers: TaskTracker,
    /// Cancelled by [`Feed::close`]: readers stop at their next query or retry sleep.
    stopping: CancellationToken,
}

/// How long [`Feed::close`] waits for the readers before it gives up on them.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// Why a subscriber cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The show does not exist.
    #[error("show not found")]
    NotFound,
    /// Reading the show's snapshot or its changes failed.
    #[error(transparent)]
    Db(DbError),
}

impl From<DbError> for FeedError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound(_) => FeedError::NotFound,
            other => FeedError::Db(other),
        }
    }
}

impl Feed {
    /// A feed with no subscribers yet; doorbells come from [`listener::run`].
    pub fn new(db: Db, metrics: Arc<Metrics>, settings: FeedSettings) -> Self {
        Feed {
            inner: Arc::new(Inner {
                hub: Hub::new(settings.buffer, settings.ring_size),
                db,
                metrics,
                settings,
                readers: TaskTracker::new(),
                stopping: CancellationToken::new(),
            }),
        }
    }

    /// The process's metrics, which the feed's counters are part of.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Registers a subscriber of `show`; it must then `start`.
    pub fn subscribe(&self, show: ShowId) -> Subscription {
        let (ch, rx) = self.inner.hub.subscribe(show);
        self.inner.metrics.subscribers.fetch_add(1, Relaxed);
        Subscription {
            feed: self.clone(),
            ch,
            rx,
            last: 0,
        }
    }

    /// A doorbell from the listener. Never blocks. The payload is a show id (a writer's
    /// trigger), a comma-separated list of them (the relay), or `*` (the relay's "look at
    /// the log": every show). Anything else is ignored; any payload, forged too, costs at
    /// most one read per subscribed show it names.
    pub fn notified(&self, payload: &str) {
        let metrics = &self.inner.metrics;
        metrics.notifications.fetch_add(1, Relaxed);
        if payload == relay::LOOK_AT_THE_LOG {
            self.repair_all();
            return;
        }
        let mut ignored = false;
        for id in payload.split(',') {
            match id.parse::<ShowId>() {
                Ok(show) => {
                    if let Some(ch) = self.inner.hub.get(show) {
                        self.mark_dirty(&ch);
                    }
                }
                Err(_) => ignored = true,
            }
        }
        if ignored {
            metrics.notifications_ignored.fetch_add(1, Relaxed);
        }
    }

    /// After a listener (re)connect: every show may have missed doorbells.
    pub fn repair_all(&self) {
        for ch in self.inner.hub.channels() {
            self.mark_dirty(&ch);
        }
    }

    /// Stops the per-show readers and waits for them, at most `CLOSE_LIMIT`; after the
    /// server has stopped, when no subscriber is left. Doorbells after this start no read.
    pub async fn close(&self) {
        self.inner.stopping.cancel();
        self.inner.readers.close();
        if tokio::time::timeout(CLOSE_LIMIT, self.inner.readers.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.inner.readers.len(),
                "feed readers still running after the close limit; leaving them"
            );
        }
    }
}
