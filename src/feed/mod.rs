//! The live change feed: one listener per process rings the doorbell, one reader per show
//! fetches new rows of `show_changes`, the hub fans frames out to subscribers.
//!
//! Ordering and completeness rest on one rule: every subscriber tracks the last seq it
//! sent (`last`), and before it waits for the broadcast it compares `last` with the
//! channel's cursor and fills any hole from the ring or, failing that, from
//! `show_changes`. Broadcast frames at or below `last` are skipped. So a subscriber
//! sends each seq exactly once, in order, whatever the races between subscribing,
//! snapshots, the reader, lagging and listener reconnects.

pub mod frame;
pub mod hub;
pub mod listener;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;

use crate::db::{Db, DbError};
use crate::domain::ShowId;
use crate::observability::Metrics;
use frame::Frame;
use hub::{ChannelState, Hub, ShowChannel};

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
}

/// Why a subscriber cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("show not found")]
    NotFound,
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

/// What a subscriber sends next.
pub enum Next {
    /// Changes in seq order, each exactly once.
    Frames(Vec<Arc<Frame>>),
    /// A fresh `initial` that replaces the client's state (its position could not be
    /// replayed: too far behind, or changes were pruned).
    Initial(Arc<Frame>),
}

/// Result of a catch-up read.
enum CatchUp {
    Frames(Vec<Arc<Frame>>),
    /// The position cannot be replayed; send a fresh snapshot.
    Unreplayable,
}

impl Feed {
    pub fn new(db: Db, metrics: Arc<Metrics>, settings: FeedSettings) -> Self {
        Feed {
            inner: Arc::new(Inner {
                hub: Hub::new(settings.buffer, settings.ring_size),
                db,
                metrics,
                settings,
            }),
        }
    }

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

    /// A doorbell from the listener: `payload` should be a show id. Never blocks.
    pub fn notified(&self, payload: &str) {
        let metrics = &self.inner.metrics;
        metrics.notifications.fetch_add(1, Relaxed);
        let Ok(show) = payload.parse::<ShowId>() else {
            metrics.notifications_ignored.fetch_add(1, Relaxed);
            return;
        };
        if let Some(ch) = self.inner.hub.get(show) {
            self.mark_dirty(&ch);
        }
    }

    /// After a listener (re)connect: every show may have missed doorbells.
    pub fn repair_all(&self) {
        for ch in self.inner.hub.channels() {
            self.mark_dirty(&ch);
        }
    }

    fn mark_dirty(&self, ch: &Arc<ShowChannel>) {
        let mut state = ch.state();
        state.dirty = true;
        self.start_reader_if_due(ch, state);
    }

    /// Records a subscriber's starting position: the first one gives the channel its
    /// cursor, and a doorbell that rang before that is served now.
    fn note_position(&self, ch: &Arc<ShowChannel>, seq: i64) {
        let mut state = ch.state();
        state.cursor.get_or_insert(seq);
        self.start_reader_if_due(ch, state);
    }

    /// Starts the show's reader when a doorbell is pending, none runs, and the channel
    /// knows where to read from. Takes the state's guard so the check and the start are
    /// one step for concurrent callers.
    fn start_reader_if_due(&self, ch: &Arc<ShowChannel>, mut state: MutexGuard<'_, ChannelState>) {
        if state.dirty && !state.reading && state.cursor.is_some() {
            state.reading = true;
            drop(state);
            self.spawn_reader(ch.clone());
        }
    }

    /// The show's reader: reads everything after the cursor, broadcasts it, and repeats
    /// while doorbells rang meanwhile. One per show at a time: doorbells that ring during
    /// a read are served by the next single read.
    fn spawn_reader(&self, ch: Arc<ShowChannel>) {
        let feed = self.clone();
        tokio::spawn(async move {
            const PAGE: i64 = 1000;
            let mut failures = 0u32;
            loop {
                let after = {
                    let mut state = ch.state();
                    if !state.dirty || ch.subscribers() == 0 {
                        state.reading = false;
                        return;
                    }
                    state.dirty = false;
                    state.cursor.unwrap_or(0)
                };
                let started = Instant::now();
                match feed.inner.db.changes_after(ch.show, after, PAGE).await {
                    Ok(page) => {
                        failures = 0;
                        feed.inner.metrics.fetch_queries.record(started.elapsed());
                        let more = page.changes.len() as i64 == PAGE;
                        let frames = page.changes.iter().map(encode).collect();
                        ch.publish(frames);
                        if more {
                            ch.state().dirty = true;
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(show_id = %ch.show, error = %e, "reading show_changes failed; retrying");
                        ch.state().dirty = true;
                        tokio::time::sleep(Duration::from_millis(
                            100 * u64::from(failures.min(20)),
                        ))
                        .await;
                    }
                }
            }
        });
    }

    /// Changes after `after` for a subscriber: from the ring, else one shared catch-up
    /// query per show that also extends the ring.
    async fn catch_up(&self, ch: &Arc<ShowChannel>, after: i64) -> Result<CatchUp, FeedError> {
        let from_ring = |frames| {
            self.inner.metrics.catchups_from_ring.fetch_add(1, Relaxed);
            Ok(CatchUp::Frames(frames))
        };
        if let Some(frames) = ch.ring_after(after) {
            return from_ring(frames);
        }
        let _single_flight = ch.backfill.lock().await;
        if let Some(frames) = ch.ring_after(after) {
            return from_ring(frames);
        }
        let settings = &self.inner.settings;
        if ch
            .cursor()
            .is_some_and(|c| c - after > settings.replay_limit)
        {
            return Ok(CatchUp::Unreplayable);
        }
        // Read a little further back than asked: in a reconnect storm the clients' positions
        // differ by a few changes, and one query that fills the ring then serves them all.
        let read_ahead = (settings.ring_size / 4) as i64;
        let from = (after - read_ahead).max(0);
        let started = Instant::now();
        let page = self
            .inner
            .db
            .changes_after(ch.show, from, settings.ring_size as i64)
            .await?;
        self.inner.metrics.catchup_queries.record(started.elapsed());
        let covers_after = match page.changes.iter().find(|c| c.seq > after) {
            Some(next) => next.seq == after + 1,
            None => after == page.last_seq || page.changes.last().is_some_and(|c| c.seq == after),
        };
        if after > page.last_seq || !covers_after || page.last_seq - after > settings.replay_limit {
            return Ok(CatchUp::Unreplayable);
        }
        let frames: Vec<Arc<Frame>> = page.changes.iter().map(encode).collect();
        ch.store_backfill(from, &frames);
        // Rows beyond the cursor (a full page, or doorbells not yet served) are the
        // reader's to broadcast: make sure it runs.
        if ch.cursor().is_some_and(|c| c < page.last_seq) {
            self.mark_dirty(ch);
        }
        let frames = frames.into_iter().filter(|f| f.seq > after).collect();
        Ok(CatchUp::Frames(frames))
    }

    /// The `initial` frame for a show: one query shared by everyone who asks meanwhile,
    /// and reused for `snapshot_reuse` (subscribers then catch up from its seq).
    async fn snapshot(&self, ch: &Arc<ShowChannel>) -> Result<Arc<Frame>, FeedError> {
        let mut slot = ch.snapshot.lock().await;
        if let Some((taken, frame)) = slot.as_ref() {
            // Still current (nothing broadcast since), or young enough: subscribers catch
            // up from its seq through the ring either way.
            let current = ch.cursor() == Some(frame.seq);
            if current || taken.elapsed() < self.inner.settings.snapshot_reuse {
                self.inner.metrics.snapshots_shared.fetch_add(1, Relaxed);
                return Ok(frame.clone());
            }
        }
        let started = Instant::now();
        let snap = self
            .inner
            .db
            .snapshot(ch.show, self.inner.settings.snapshot_comments)
            .await?;
        self.inner
            .metrics
            .snapshot_queries
            .record(started.elapsed());
        let frame = Arc::new(Frame::new(snap.seq, "initial", &snap.body));
        *slot = Some((Instant::now(), frame.clone()));
        Ok(frame)
    }
}

fn encode(row: &crate::db::show_changes::ChangeRow) -> Arc<Frame> {
    Arc::new(Frame::new(row.seq, &row.event, &row.body))
}

/// One subscriber (an SSE stream or a long-poll). Dropping it unsubscribes at once.
pub struct Subscription {
    feed: Feed,
    ch: Arc<ShowChannel>,
    /// This subscriber's view of the show's broadcast; see `ShowChannel::tx`.
    rx: Receiver<Arc<Frame>>,
    /// Seq of the last change this subscriber sent (or its snapshot's seq).
    last: i64,
}

impl Subscription {
    /// The first frames: the changes after `resume` if it can be replayed exactly, else a
    /// fresh `initial`. Fails only for an unknown show or a database error.
    pub async fn start(&mut self, resume: Option<i64>) -> Result<Next, FeedError> {
        if let Some(after) = resume.filter(|n| *n >= 0) {
            if let CatchUp::Frames(frames) = self.feed.catch_up(&self.ch, after).await? {
                self.last = frames.last().map_or(after, |f| f.seq);
                self.feed.note_position(&self.ch, self.last);
                return Ok(Next::Frames(frames));
            }
        }
        self.fresh().await
    }

    async fn fresh(&mut self) -> Result<Next, FeedError> {
        let frame = self.feed.snapshot(&self.ch).await?;
        self.last = frame.seq;
        self.feed.note_position(&self.ch, frame.seq);
        Ok(Next::Initial(frame))
    }

    /// Seq of the last change sent.
    pub fn last(&self) -> i64 {
        self.last
    }

    pub fn show(&self) -> ShowId {
        self.ch.show
    }

    /// Waits for the next changes after `last` and returns them in order, repairing any
    /// hole (a race with the reader, a lag) from the ring or the log.
    pub async fn next(&mut self) -> Result<Next, FeedError> {
        let mut frames = Vec::new();
        loop {
            // What is already queued goes out together, in one write.
            self.drain(&mut frames);
            if !frames.is_empty() {
                return Ok(Next::Frames(frames));
            }
            // The channel has broadcast past us without our receiving it (we subscribed
            // before our snapshot's seq was reached, lagged, or saw a hole): repair.
            if self.ch.cursor().is_some_and(|c| c > self.last) {
                // Boxed: the repair path's futures (pool, query) are large, and inline
                // they would sit in every idle subscriber's stream state.
                match Box::pin(self.feed.catch_up(&self.ch, self.last)).await? {
                    CatchUp::Frames(caught) => {
                        frames.extend(caught.into_iter().filter(|f| f.seq > self.last));
                        if let Some(f) = frames.last() {
                            self.last = f.seq;
                            self.feed.metrics().gap_repairs.fetch_add(1, Relaxed);
                            return Ok(Next::Frames(frames));
                        }
                    }
                    CatchUp::Unreplayable => return Box::pin(self.fresh()).await,
                }
            }
            match self.rx.recv().await {
                Ok(frame) => {
                    self.accept(frame, &mut frames);
                }
                Err(RecvError::Lagged(_)) => {
                    self.feed.metrics().lagged_subscribers.fetch_add(1, Relaxed);
                }
                Err(RecvError::Closed) => {
                    // The sender lives in the channel this subscription holds; not reached.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Takes a broadcast frame if it is the next one; false on a hole.
    fn accept(&mut self, frame: Arc<Frame>, frames: &mut Vec<Arc<Frame>>) -> bool {
        if frame.seq == self.last + 1 {
            self.last = frame.seq;
            frames.push(frame);
            true
        } else {
            // At or below `last`: already sent from the ring or a catch-up.
            frame.seq <= self.last
        }
    }

    fn drain(&mut self, frames: &mut Vec<Arc<Frame>>) {
        while frames.len() < 256 {
            match self.rx.try_recv() {
                Ok(frame) => {
                    if !self.accept(frame, frames) {
                        break;
                    }
                }
                Err(TryRecvError::Lagged(_)) => {
                    self.feed.metrics().lagged_subscribers.fetch_add(1, Relaxed);
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.feed.inner.hub.unsubscribe(self.ch.show);
        self.feed.inner.metrics.subscribers.fetch_sub(1, Relaxed);
    }
}
