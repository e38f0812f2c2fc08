//! The hub: per show, the subscribers' broadcast channel, a ring of recent frames, and the
//! bookkeeping that keeps exactly one read of `show_changes` in flight per show.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::broadcast;

use super::frame::Frame;
use crate::domain::ShowId;

/// All shows with subscribers on this node.
pub struct Hub {
    /// Show -> channel. Entries are added by the first subscriber of a show and removed
    /// when its last subscriber drops. Held only for map operations, never across await.
    shows: Mutex<HashMap<ShowId, Arc<ShowChannel>>>,
    buffer: usize,
    ring_size: usize,
}

/// One show's fan-out.
pub struct ShowChannel {
    pub show: ShowId,
    /// Frames in seq order. Sender: the show's reader task. Receivers: one per subscriber.
    /// Its buffer is shared by all receivers (each frame is stored once); a receiver that
    /// falls `buffer` frames behind gets `Lagged` and repairs from the ring or the log.
    tx: broadcast::Sender<Arc<Frame>>,
    state: Mutex<ChannelState>,
    /// Held while a catch-up query fills the ring, so concurrent resumes of one show wait
    /// for that one query and then read the ring (single flight).
    pub(super) backfill: tokio::sync::Mutex<()>,
    /// The last snapshot and when it was taken. Held while one is taken, so concurrent
    /// snapshot requests share one query.
    pub(super) snapshot: tokio::sync::Mutex<Option<(Instant, Arc<Frame>)>>,
    subscribers: AtomicUsize,
    ring_size: usize,
}

/// Mutable state of a channel, behind a std mutex (short sections, no await inside).
pub(super) struct ChannelState {
    /// Recent frames with consecutive seqs, oldest first.
    ring: VecDeque<Arc<Frame>>,
    /// Highest seq broadcast (or known delivered to every subscriber); None until the
    /// first subscriber knows where it stands.
    pub cursor: Option<i64>,
    /// A notification came since the reader last started a read.
    pub dirty: bool,
    /// A reader task is running for this show.
    pub reading: bool,
}

impl Hub {
    pub fn new(buffer: usize, ring_size: usize) -> Self {
        Hub {
            shows: Mutex::new(HashMap::new()),
            buffer: buffer.max(16),
            ring_size: ring_size.max(16),
        }
    }

    fn shows(&self) -> MutexGuard<'_, HashMap<ShowId, Arc<ShowChannel>>> {
        self.shows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a subscriber: it receives every frame broadcast from now on.
    pub fn subscribe(&self, show: ShowId) -> (Arc<ShowChannel>, broadcast::Receiver<Arc<Frame>>) {
        let mut shows = self.shows();
        let ch = shows.entry(show).or_insert_with(|| {
            Arc::new(ShowChannel {
                show,
                tx: broadcast::channel(self.buffer).0,
                state: Mutex::new(ChannelState {
                    ring: VecDeque::new(),
                    cursor: None,
                    dirty: false,
                    reading: false,
                }),
                backfill: tokio::sync::Mutex::new(()),
                snapshot: tokio::sync::Mutex::new(None),
                subscribers: AtomicUsize::new(0),
                ring_size: self.ring_size,
            })
        });
        ch.subscribers.fetch_add(1, Ordering::Relaxed);
        let rx = ch.tx.subscribe();
        (ch.clone(), rx)
    }

    /// Drops a subscriber; the show's channel goes with its last one.
    pub fn unsubscribe(&self, show: ShowId) {
        let mut shows = self.shows();
        if let Some(ch) = shows.get(&show) {
            if ch.subscribers.fetch_sub(1, Ordering::Relaxed) == 1 {
                shows.remove(&show);
            }
        }
    }

    pub fn get(&self, show: ShowId) -> Option<Arc<ShowChannel>> {
        self.shows().get(&show).cloned()
    }

    pub fn channels(&self) -> Vec<Arc<ShowChannel>> {
        self.shows().values().cloned().collect()
    }
}

impl ShowChannel {
    pub(super) fn state(&self) -> MutexGuard<'_, ChannelState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::Relaxed)
    }

    pub fn cursor(&self) -> Option<i64> {
        self.state().cursor
    }

    /// Frames with seq > `after` if memory can answer exactly, else None (ask the log).
    pub fn ring_after(&self, after: i64) -> Option<Vec<Arc<Frame>>> {
        let state = self.state();
        let cursor = state.cursor?;
        if after > cursor {
            return None;
        }
        if after == cursor {
            return Some(Vec::new());
        }
        let first = state.ring.front()?.seq;
        if first > after + 1 {
            return None;
        }
        let skip = (after + 1 - first) as usize;
        Some(state.ring.iter().skip(skip).cloned().collect())
    }

    /// Appends frames read by the reader (seq > cursor, in order) and broadcasts them.
    pub(super) fn publish(&self, frames: Vec<Arc<Frame>>) {
        let mut state = self.state();
        for frame in frames {
            if state.cursor.is_some_and(|c| frame.seq <= c) {
                continue;
            }
            if state.ring.back().is_some_and(|b| b.seq + 1 != frame.seq) {
                // A hole (pruned changes): the ring must stay consecutive.
                state.ring.clear();
            }
            state.ring.push_back(frame.clone());
            if state.ring.len() > self.ring_size {
                state.ring.pop_front();
            }
            state.cursor = Some(frame.seq);
            // No receivers is fine: the frame stays in the ring for resumes.
            let _ = self.tx.send(frame);
        }
    }

    /// Stores frames a catch-up query read (consecutive, after some seq) where they extend
    /// the ring backwards; sets the cursor if nobody had. Frames newer than the cursor are
    /// left to the reader, which broadcasts them to everyone.
    pub(super) fn store_backfill(&self, after: i64, frames: &[Arc<Frame>]) {
        if !frames.windows(2).all(|w| w[1].seq == w[0].seq + 1) {
            return;
        }
        let mut state = self.state();
        let cursor = match state.cursor {
            Some(c) => c,
            None => {
                let last = frames.last().map_or(after, |f| f.seq);
                state.cursor = Some(last);
                state.ring.extend(frames.iter().cloned());
                while state.ring.len() > self.ring_size {
                    state.ring.pop_front();
                }
                return;
            }
        };
        let front = state.ring.front().map_or(cursor + 1, |f| f.seq);
        let room = self.ring_size.saturating_sub(state.ring.len());
        let older: Vec<&Arc<Frame>> = frames.iter().filter(|f| f.seq < front).collect();
        let consecutive = older.last().is_some_and(|f| f.seq == front - 1);
        if consecutive {
            for f in older.into_iter().rev().take(room) {
                state.ring.push_front(f.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::broadcast::error::TryRecvError;
    use uuid::Uuid;

    use super::*;

    /// The smallest sizes `Hub::new` allows.
    const SMALL: usize = 16;

    fn show() -> ShowId {
        ShowId(Uuid::new_v4())
    }

    /// Frames with the given seqs, in order.
    fn frames(seqs: std::ops::RangeInclusive<i64>) -> Vec<Arc<Frame>> {
        seqs.map(|seq| Arc::new(Frame::new(seq, "comment.created", "{}")))
            .collect()
    }

    fn seqs(frames: &[Arc<Frame>]) -> Vec<i64> {
        frames.iter().map(|f| f.seq).collect()
    }

    fn range(seqs: std::ops::RangeInclusive<i64>) -> Vec<i64> {
        seqs.collect()
    }

    /// Every frame the receiver holds now, by seq; stops at the first error.
    fn received(rx: &mut broadcast::Receiver<Arc<Frame>>) -> Vec<i64> {
        let mut got = Vec::new();
        while let Ok(frame) = rx.try_recv() {
            got.push(frame.seq);
        }
        got
    }

    #[test]
    fn a_ring_wrapped_by_more_frames_than_it_holds_keeps_exactly_the_newest() {
        let hub = Hub::new(SMALL, SMALL);
        let (ch, _rx) = hub.subscribe(show());
        ch.publish(frames(1..=40));
        assert_eq!(ch.cursor(), Some(40));
        // 25..=40 is the ring's whole content: asking from just before its oldest frame
        // gives all of it, no more, no less.
        let kept = ch
            .ring_after(24)
            .expect("the ring answers from its oldest - 1");
        assert_eq!(seqs(&kept), range(25..=40));
        assert_eq!(kept.len(), SMALL);
    }

    #[test]
    fn a_backfill_from_before_the_ring_is_left_to_the_log_instead_of_skipping_the_lost_frames() {
        let hub = Hub::new(SMALL, SMALL);
        let (ch, _rx) = hub.subscribe(show());
        ch.publish(frames(1..=40));
        // Frame 24 fell out of the ring: answering from 23 would silently skip it.
        assert!(ch.ring_after(23).is_none());
        assert!(ch.ring_after(0).is_none());
    }

    #[test]
    fn a_backfill_from_the_newest_seq_is_empty_and_from_beyond_it_is_left_to_the_log() {
        let hub = Hub::new(SMALL, SMALL);
        let (ch, _rx) = hub.subscribe(show());
        ch.publish(frames(1..=10));
        assert_eq!(ch.ring_after(10).map(|f| seqs(&f)), Some(Vec::new()));
        // A position the channel has not reached (another node's, or not yet read).
        assert!(ch.ring_after(11).is_none());
    }

    #[test]
    fn a_backfill_from_just_before_the_oldest_frame_gives_every_frame() {
        let hub = Hub::new(SMALL, SMALL);
        let (ch, _rx) = hub.subscribe(show());
        ch.publish(frames(1..=10));
        assert_eq!(ch.ring_after(0).map(|f| seqs(&f)), Some(range(1..=10)));
    }

    #[test]
    fn a_backfill_from_the_middle_gives_exactly_the_tail_in_order() {
        let hub = Hub::new(SMALL, SMALL);
        let (ch, _rx) = hub.subscribe(show());
        ch.publish(frames(1..=10));
        assert_eq!(ch.ring_after(4).map(|f| seqs(&f)), Some(range(5..=10)));
        assert_eq!(ch.ring_after(9).map(|f| seqs(&f)), Some(vec![10]));
    }

    #[test]
    fn a_channel_knows_no_position_before_its_first_frame_so_every_backfill_asks_the_log() {
        let hub = Hub::new(SMALL, SMALL);
        let (ch, _rx) = hub.subscribe(show());
        assert_eq!(ch.cursor(), None);
        assert!(ch.ring_after(0).is_none());
    }

    #[test]
    fn publishing_after_the_last_subscriber_left_does_not_panic_and_receivers_then_see_the_end() {
        let hub = Hub::new(SMALL, SMALL);
        let id = show();
        let (ch, mut rx) = hub.subscribe(id);
        ch.publish(frames(1..=3));
        hub.unsubscribe(id);
        assert!(hub.get(id).is_none(), "the last subscriber closes the show");
        // A reader still holding the channel finishes its page.
        ch.publish(frames(4..=5));
        assert_eq!(ch.cursor(), Some(5));
        // The channel is gone with its last holder: the receiver gets what was sent, then
        // the end, rather than waiting forever.
        drop(ch);
        assert_eq!(received(&mut rx), range(1..=5));
        assert_eq!(rx.try_recv().err(), Some(TryRecvError::Closed));
        // A new subscriber starts a new channel, with none of the old one's state.
        let (again, _rx) = hub.subscribe(id);
        assert_eq!(again.cursor(), None);
    }

    #[test]
    fn a_receiver_that_falls_behind_the_broadcast_buffer_is_told_how_far_and_the_ring_fills_the_hole(
    ) {
        let ring = 4 * SMALL;
        let hub = Hub::new(SMALL, ring);
        let (ch, mut rx) = hub.subscribe(show());
        ch.publish(frames(1..=3));
        assert_eq!(received(&mut rx), range(1..=3));
        // 20 more frames into a 16-frame buffer: the 4 oldest are overwritten unread.
        ch.publish(frames(4..=23));
        assert_eq!(rx.try_recv().err(), Some(TryRecvError::Lagged(4)));
        // The receiver resumes after the hole, which a subscription must not accept as
        // the next frame...
        assert_eq!(received(&mut rx), range(8..=23));
        // ...and repairs from its last seq: the ring has exactly what it missed.
        assert_eq!(ch.ring_after(3).map(|f| seqs(&f)), Some(range(4..=23)));
    }
}
