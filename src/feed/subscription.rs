//! One subscriber's view of a show: where it starts (a replay of the changes after its
//! resume position, or a fresh `initial` snapshot) and, from then on, every change once,
//! in seq order.
//!
//! A subscription keeps `last`, the seq it sent last. Before it waits on the broadcast it
//! compares `last` with the channel's cursor and fills any hole by catch-up (ring, else the
//! log); broadcast frames at or below `last` are skipped. That one rule makes the races
//! between subscribing, snapshots, the reader and lagging harmless.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;

use super::frame::Frame;
use super::hub::ShowChannel;
use super::reader::CatchUp;
use super::{Feed, FeedError};
use crate::domain::ShowId;

/// Most frames one `next` hands out together (one write to the socket).
const BATCH: usize = 256;

/// What a subscriber sends next.
pub enum Next {
    /// Changes in seq order, each exactly once.
    Frames(Vec<Arc<Frame>>),
    /// A fresh `initial` that replaces the client's state (its position could not be
    /// replayed: too far behind, or changes were pruned).
    Initial(Arc<Frame>),
}

/// One subscriber (an SSE stream or a long-poll). Dropping it unsubscribes at once.
pub struct Subscription {
    pub(super) feed: Feed,
    pub(super) ch: Arc<ShowChannel>,
    /// This subscriber's view of the show's broadcast; see `ShowChannel::tx`. Sender: the
    /// show's reader. The sender lives in `ch`, which this subscription holds, so the
    /// receiver never sees `Closed` while it exists.
    pub(super) rx: Receiver<Arc<Frame>>,
    /// Seq of the last change this subscriber sent (or its snapshot's seq).
    pub(super) last: i64,
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

    /// A fresh `initial`; the subscriber goes on from its seq.
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

    /// The show this subscription follows.
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
                    // Frames were overwritten before we read them; the cursor check above
                    // repairs the hole on the next turn.
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

    /// Moves what the broadcast already holds into `frames`, up to a hole or `BATCH`.
    fn drain(&mut self, frames: &mut Vec<Arc<Frame>>) {
        while frames.len() < BATCH {
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

impl Feed {
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
