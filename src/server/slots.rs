//! Connection slots: at most `max` connections open, and when all are taken, the one that
//! has waited longest for a request head makes room for the newcomer.
//!
//! A connection is *waiting* from its accept until hyper has parsed a request head, and
//! again from the end of each response until the next head; it is *busy* in between (a
//! request being answered, an SSE stream being sent). Refusing newcomers at the cap, as a
//! plain counter does, lets anyone who opens `max` sockets and trickles header bytes (a
//! slowloris) lock every other client out until the header timeout; evicting the oldest
//! waiting connection instead means an attacker must open connections faster than
//! `max / (time a real client needs to send its head)` to starve anyone, while streams and
//! requests in progress are never touched. Only when every slot is busy is a newcomer
//! refused (closed at once).

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// The node's connection slots. Shared by the accept loop and every connection.
#[derive(Debug)]
pub struct Slots {
    max: usize,
    inner: Mutex<Inner>,
    /// Woken when a slot is given back.
    freed: Notify,
}

#[derive(Debug, Default)]
struct Inner {
    /// Slots held, counting evicted connections until their task has closed the socket:
    /// the count is of descriptors, which is what the cap protects.
    open: usize,
    /// Evicted connections not yet closed. While there are any, newcomers wait for them
    /// rather than evicting more: one newcomer, one eviction.
    evicting: usize,
    /// Ever-increasing key: a smaller key has been waiting longer.
    next_key: u64,
    /// Waiting connections by key, each with the token that closes it.
    waiting: BTreeMap<u64, CancellationToken>,
}

/// What [`Slots::admit`] decided for a new connection.
#[derive(Debug)]
pub enum Admission {
    /// A slot was free.
    Admitted(Slot),
    /// Every slot is taken, but one is being freed: the longest-waiting connection was
    /// told to close (`evicted` says whether this call told it). Wait for
    /// [`Slots::freed`], then ask again.
    Wait { evicted: bool },
    /// Every slot is busy: close the newcomer.
    Refused,
}

/// One connection's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    conn: Arc<ConnState>,
}

#[derive(Debug)]
struct ConnState {
    /// Cancelled when this connection is evicted.
    evict: CancellationToken,
    /// Its key in `waiting`, 0 while busy. Written only under the `Inner` lock.
    waiting_key: AtomicU64,
    /// Requests in flight (normally 0 or 1). Written only under the `Inner` lock.
    busy: AtomicU64,
}

/// Marks its connection busy while it lives (a request and its response body).
#[derive(Debug)]
pub struct Busy {
    slots: Arc<Slots>,
    conn: Arc<ConnState>,
}

impl Slots {
    pub fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max: max.max(1),
            inner: Mutex::new(Inner {
                next_key: 1,
                ..Inner::default()
            }),
            freed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The lock guards plain bookkeeping with no panics inside; a poisoned lock still
        // holds consistent counts.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a just-accepted connection, which starts out waiting for its head.
    pub fn admit(self: &Arc<Self>) -> Admission {
        let mut inner = self.lock();
        if inner.open < self.max {
            inner.open += 1;
            let conn = Arc::new(ConnState {
                evict: CancellationToken::new(),
                waiting_key: AtomicU64::new(0),
                busy: AtomicU64::new(0),
            });
            inner.wait(&conn);
            return Admission::Admitted(Slot {
                slots: self.clone(),
                conn,
            });
        }
        if inner.evicting > 0 {
            return Admission::Wait { evicted: false };
        }
        match inner.waiting.pop_first() {
            Some((_, token)) => {
                token.cancel();
                inner.evicting += 1;
                Admission::Wait { evicted: true }
            }
            None => Admission::Refused,
        }
    }

    /// Resolves when a slot has been given back since the last call (or now).
    pub async fn freed(&self) {
        self.freed.notified().await;
    }

    /// Connections open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.lock().open
    }
}

impl Inner {
    fn wait(&mut self, conn: &ConnState) {
        let key = self.next_key;
        self.next_key += 1;
        self.waiting.insert(key, conn.evict.clone());
        conn.waiting_key.store(key, Relaxed);
    }

    /// Takes `conn` out of `waiting`; false if it was not there (evicted, or busy).
    fn unwait(&mut self, conn: &ConnState) -> bool {
        let key = conn.waiting_key.swap(0, Relaxed);
        key != 0 && self.waiting.remove(&key).is_some()
    }
}

impl Slot {
    /// Resolves when this connection is evicted to make room for a newer one.
    pub fn evicted(&self) -> WaitForCancellationFuture<'_> {
        self.conn.evict.cancelled()
    }

    /// Marks the connection busy until the guard is dropped. An evicted connection stays
    /// evicted (its task is closing it).
    pub fn busy(&self) -> Busy {
        let mut inner = self.slots.lock();
        if self.conn.busy.fetch_add(1, Relaxed) == 0 {
            inner.unwait(&self.conn);
        }
        Busy {
            slots: self.slots.clone(),
            conn: self.conn.clone(),
        }
    }

    /// A handle telling whether this connection is waiting, for the socket's writer.
    pub fn watcher(&self) -> SlotWatcher {
        SlotWatcher(self.conn.clone())
    }
}

/// Read-only view of a connection's slot state.
#[derive(Debug, Clone)]
pub struct SlotWatcher(Arc<ConnState>);

impl SlotWatcher {
    /// True while no request on the connection is being answered.
    pub fn is_waiting(&self) -> bool {
        self.0.busy.load(Relaxed) == 0
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut inner = self.slots.lock();
        if self.conn.busy.fetch_sub(1, Relaxed) == 1 && !self.conn.evict.is_cancelled() {
            inner.wait(&self.conn);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut inner = self.slots.lock();
        let was_waiting = inner.unwait(&self.conn);
        if !was_waiting && self.conn.evict.is_cancelled() {
            // Not waiting and cancelled: it was evicted (a slot's own drop is the only
            // other cancel, and it runs once).
            inner.evicting -= 1;
        }
        inner.open -= 1;
        // A `Busy` outliving its slot (a body dropped late) must not re-register.
        self.conn.evict.cancel();
        drop(inner);
        self.slots.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(a: Admission) -> Slot {
        match a {
            Admission::Admitted(s) => s,
            other => panic!("expected a free slot, got {other:?}"),
        }
    }

    #[test]
    fn the_longest_waiting_connection_makes_room_and_busy_ones_are_kept() {
        let slots = Slots::new(2);
        let first = admitted(slots.admit());
        let second = admitted(slots.admit());
        let _busy = second.busy();
        assert!(matches!(slots.admit(), Admission::Wait { evicted: true }));
        assert!(first.conn.evict.is_cancelled());
        assert!(!second.conn.evict.is_cancelled());
        // Until the evicted one has closed, newcomers wait and evict nobody else.
        assert!(matches!(slots.admit(), Admission::Wait { evicted: false }));
        drop(first);
        let third = admitted(slots.admit());
        assert_eq!(slots.open(), 2);
        let _busy3 = third.busy();
        assert!(matches!(slots.admit(), Admission::Refused), "all busy");
        assert_eq!(slots.open(), 2);
    }

    #[test]
    fn a_connection_waits_again_after_its_response_in_order_of_waiting() {
        let slots = Slots::new(2);
        let a = admitted(slots.admit());
        let b = admitted(slots.admit());
        // a answers a request: it now waits since after b did.
        drop(a.busy());
        assert!(a.watcher().is_waiting());
        assert!(matches!(slots.admit(), Admission::Wait { evicted: true }));
        assert!(b.conn.evict.is_cancelled(), "b waited longest");
        assert!(!a.conn.evict.is_cancelled());
    }

    #[test]
    fn dropping_slots_frees_them() {
        let slots = Slots::new(1);
        let a = admitted(slots.admit());
        let busy = a.busy();
        assert!(matches!(slots.admit(), Admission::Refused));
        drop(a);
        drop(busy);
        assert_eq!(slots.open(), 0);
        admitted(slots.admit());
    }
}
