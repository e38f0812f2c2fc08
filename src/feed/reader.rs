//! The per-show reader and catch-up: the only code that reads `show_changes` for the live
//! feed.
//!
//! A doorbell (a notification, or a listener reconnect) marks a show `dirty`; the show's
//! reader task then reads every change after the channel's cursor and publishes it to the
//! hub, and repeats while doorbells rang meanwhile. At most one reader runs per show
//! (`ChannelState::reading`), so a burst of doorbells costs one query, not one each.
//!
//! Catch-up serves one subscriber's hole (a resume, a lag, a race with the reader): from
//! the ring when it can, else from one query per show shared by every concurrent resume
//! (single flight on `ShowChannel::backfill`), which also extends the ring backwards.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use super::frame::Frame;
use super::hub::{ChannelState, ShowChannel};
use super::{Feed, FeedError};
use crate::db::show_changes::ChangeRow;

/// Rows one reader query fetches; a full page means more may follow at once.
const PAGE: i64 = 1000;

/// Result of a catch-up read.
pub(super) enum CatchUp {
    /// The changes after the asked position, in seq order (possibly none).
    Frames(Vec<Arc<Frame>>),
    /// The position cannot be replayed; send a fresh snapshot.
    Unreplayable,
}

impl Feed {
    /// Marks a show as having missed changes and starts its reader if none runs.
    pub(super) fn mark_dirty(&self, ch: &Arc<ShowChannel>) {
        let mut state = ch.state();
        state.dirty = true;
        self.start_reader_if_due(ch, state);
    }

    /// Records a subscriber's starting position: the first one gives the channel its
    /// cursor, and a doorbell that rang before that is served now.
    pub(super) fn note_position(&self, ch: &Arc<ShowChannel>, seq: i64) {
        let mut state = ch.state();
        state.cursor.get_or_insert(seq);
        self.start_reader_if_due(ch, state);
    }

    /// Starts the show's reader when a doorbell is pending, none runs, the channel knows
    /// where to read from, and the feed is not closing. Takes the state's guard so the
    /// check and the start are one step for concurrent callers.
    fn start_reader_if_due(&self, ch: &Arc<ShowChannel>, mut state: MutexGuard<'_, ChannelState>) {
        if state.dirty
            && !state.reading
            && state.cursor.is_some()
            && !self.inner.stopping.is_cancelled()
        {
            state.reading = true;
            drop(state);
            self.spawn_reader(ch.clone());
        }
    }

    /// The show's reader: reads everything after the cursor, broadcasts it, and repeats
    /// while doorbells rang meanwhile. One per show at a time: doorbells that ring during
    /// a read are served by the next single read. Tracked by `Inner::readers`; it ends
    /// when no doorbell is pending, the show has no subscribers, or the feed closes.
    fn spawn_reader(&self, ch: Arc<ShowChannel>) {
        let feed = self.clone();
        self.inner.readers.spawn(async move {
            let stopping = &feed.inner.stopping;
            let mut failures = 0u32;
            loop {
                let after = {
                    let mut state = ch.state();
                    if !state.dirty || ch.subscribers() == 0 || stopping.is_cancelled() {
                        state.reading = false;
                        return;
                    }
                    state.dirty = false;
                    state.cursor.unwrap_or(0)
                };
                let started = Instant::now();
                let read = tokio::select! {
                    read = feed.inner.db.changes_after(ch.show, after, PAGE) => read,
                    // Closing: the rows are left unread, as after the last subscriber left.
                    _ = stopping.cancelled() => continue,
                };
                match read {
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
                        let backoff = Duration::from_millis(100 * u64::from(failures.min(20)));
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = stopping.cancelled() => {}
                        }
                    }
                }
            }
        });
    }

    /// Changes after `after` for a subscriber: from the ring, else one shared catch-up
    /// query per show that also extends the ring.
    pub(super) async fn catch_up(
        &self,
        ch: &Arc<ShowChannel>,
        after: i64,
    ) -> Result<CatchUp, FeedError> {
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
}

/// A change row as the frame every subscriber shares.
fn encode(row: &ChangeRow) -> Arc<Frame> {
    Arc::new(Frame::new(row.seq, &row.event, &row.body))
}
