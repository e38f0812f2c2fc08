//! The relay doorbell: in relay mode, writers' transactions carry no NOTIFY; one node per
//! database rings for them, once per look, for many changes.
//!
//! Every serving node runs [`run`]; the one whose session holds the relay advisory lock is
//! the relay, the others wait on the lock (any node can take over: when the holder's
//! session ends, by a crash, a SIGKILL, a Postgres restart or a partition that the
//! server's keepalives notice, the lock is free and the next waiter has it at once).
//!
//! The relay looks (`sql/relay/look.sql`) for rows whose writer rang no doorbell
//! (`show_changes.relay_xid` is set) and that became visible since its previous snapshot,
//! then sends one NOTIFY per payload naming those shows. It looks in both modes: a writer
//! that read `relay` just before a switch back to `trigger` is rung for whenever it
//! commits, and in trigger mode a look finds nothing and costs an index probe.
//!
//! A holder that stops looking without dying (SIGSTOP, a stalled runtime, a cut-off node
//! before its keepalives end the session) keeps the lock; waiters end its session when it
//! has sent no look for far longer than any look interval (`sql/relay/depose.sql`).
//!
//! A new relay does not know what its predecessor rang, so its first look rings `*` ("look
//! at the log"): every node re-reads its shows from their cursors. That, like any late or
//! missed doorbell, costs reads, never a change: the readers go by seq.
//!
//! Idle cost: the look interval is `poll_min` while changes keep coming (and for
//! [`HOLD`] after the last), then doubles up to `poll_max`.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;
use tokio_util::sync::CancellationToken;

use super::session::{log_loss, Backoff, SessionError};
use crate::db::queries;
use crate::observability::{self, Metrics};

/// The advisory lock whose holder is the relay ("SHOWRELY"; per database, as all advisory
/// locks are).
pub const RELAY_LOCK: i64 = 0x5348_4f57_5245_4c59;

/// The payload that asks every node to re-read all its shows.
pub const LOOK_AT_THE_LOG: &str = "*";

/// Show ids per NOTIFY payload: 200 × 37 bytes stays under Postgres's 8000-byte limit.
const IDS_PER_PAYLOAD: usize = 200;

/// Beyond this many payloads in one look, one `*` is cheaper for everyone.
const MAX_PAYLOADS: usize = 20;

/// After the last look that found changes, looks stay at `poll_min` this long: a show
/// whose changes come seconds apart (a quiet chat) still gets each within `poll_min`,
/// for ~3.5% of a Postgres core here (200 looks/s); only after a quiet spell this long
/// does a change wait up to `poll_max`.
const HOLD: Duration = Duration::from_secs(10);

/// The shortest idle time after which a relay's session counts as frozen.
const FROZEN_AFTER_MIN: Duration = Duration::from_secs(3);

/// A look or a ring slower than this counts as a dead connection.
const LOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one wait for the relay lock lasts before it is asked again (a waiting session
/// whose node died is gone within this).
const LOCK_WAIT: Duration = Duration::from_secs(1);

/// How the relay runs (from `RelayArgs`, see [`crate::config`]).
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Whether this node stands for the relay at all.
    pub enabled: bool,
    /// Time between looks while changes keep coming.
    pub poll_min: Duration,
    /// The longest time between looks when nothing happens.
    pub poll_max: Duration,
}

/// Runs until `shutdown` is cancelled: waits for the relay lock, relays while it holds it,
/// reconnects after a loss.
pub async fn run(
    metrics: Arc<Metrics>,
    config: tokio_postgres::Config,
    settings: RelaySettings,
    shutdown: CancellationToken,
) {
    if !settings.enabled {
        return;
    }
    let mut config = crate::db::session_config(config, "showfeed-relay");
    // The lock wait is bounded by lock_timeout; the server's keepalives end the session
    // (and free the lock) within about 25 s when this node is cut off without a FIN.
    // A ring's commit need not wait for its WAL flush: a NOTIFY is delivered at commit
    // and is not kept across a crash either way, and the rows it rings for were committed
    // by their own writers; so a ring puts no fsync on a change's way to its subscribers.
    let options = config.get_options().unwrap_or("").to_owned();
    config.options(format!(
        "{options} -c lock_timeout={}ms -c synchronous_commit=off -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
        LOCK_WAIT.as_millis()
    ));
    let mut backoff = Backoff::default();
    while !shutdown.is_cancelled() {
        match relay_once(&metrics, &config, &settings, &shutdown, &mut backoff).await {
            Ok(()) => break,
            Err(e) => {
                metrics.relay_holder.store(false, Relaxed);
                let delay = backoff.next_delay();
                log_loss("relay connection lost", &e, delay);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.cancelled() => break,
                }
            }
        }
    }
    metrics.relay_holder.store(false, Relaxed);
}

/// One connection's life: wait for the lock, then look and ring until the connection
/// fails. Returns Ok only on shutdown.
async fn relay_once(
    metrics: &Metrics,
    config: &tokio_postgres::Config,
    settings: &RelaySettings,
    shutdown: &CancellationToken,
    backoff: &mut Backoff,
) -> Result<(), SessionError> {
    let (client, connection) = config.connect(NoTls).await?;
    let (closed_tx, mut closed_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = closed_tx.send(connection.await);
    });
    backoff.reset();

    // The election: wait for the lock, a lock_timeout at a time; between waits, end a
    // frozen holder's session (see `depose`).
    let frozen_after = frozen_after(settings);
    loop {
        let wait = client.query_one(queries::RELAY_TRY_LEAD, &[&RELAY_LOCK]);
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            result = &mut closed_rx => return Err(closed(result)),
            result = wait => match result {
                Ok(_) => break,
                Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                    depose(&client, metrics, frozen_after).await?;
                }
                Err(e) => return Err(e.into()),
            },
        }
    }
    metrics.relay_holder.store(true, Relaxed);
    tracing::info!("this node is the relay: it rings the doorbell for writers in relay mode");

    let mut relay = Relay::new(settings);
    loop {
        // The interval runs from one look's start to the next's: a slow look under load
        // does not stretch the time a change waits.
        let started = tokio::time::Instant::now();
        let round = relay.look_and_ring(&client, metrics);
        let interval = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            result = &mut closed_rx => return Err(closed(result)),
            result = tokio::time::timeout(LOOK_TIMEOUT, round) => match result {
                Ok(result) => result?,
                Err(_) => return Err(SessionError::PingTimeout(LOOK_TIMEOUT)),
            },
        };
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            result = &mut closed_rx => return Err(closed(result)),
            _ = tokio::time::sleep_until(started + interval) => {}
        }
    }
}

/// How long a holder's session may sit without a look before waiters take it for frozen:
/// far past the longest look interval (this node's; the nodes of a database are meant to
/// share settings), and never under FROZEN_AFTER_MIN.
fn frozen_after(settings: &RelaySettings) -> Duration {
    (settings.poll_max * 20).max(FROZEN_AFTER_MIN)
}

/// Ends the relay's session when it has sent no look for `frozen_after`: a stopped or
/// stalled holder keeps its lock (its session is alive; the kernel answers keepalives),
/// and while it does no relay-mode writer is rung for on any node. The advisory lock
/// alone only sees a holder that dies. The frozen node, if it wakes, finds its session
/// gone and waits for the lock again; the new relay rings `*`, so nothing is missed.
async fn depose(
    client: &tokio_postgres::Client,
    metrics: &Metrics,
    frozen_after: Duration,
) -> Result<(), tokio_postgres::Error> {
    let ended = match client
        .query(
            queries::RELAY_DEPOSE,
            &[&RELAY_LOCK, &frozen_after.as_secs_f64()],
        )
        .await
    {
        Ok(rows) => rows,
        // The holder runs as another role (e.g. a superuser): say so, keep waiting.
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            tracing::warn!(
                error = %observability::error_chain(&e),
                "the relay looks frozen but its session is another role's: give every node the same role"
            );
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for row in &ended {
        let pid: i32 = row.get("pid");
        tracing::warn!(
            pid,
            idle_secs = frozen_after.as_secs_f64(),
            "the relay's session sent no look for longer than any look interval: ended it so another node relays"
        );
        metrics.relay_deposed.fetch_add(1, Relaxed);
    }
    Ok(())
}

/// The connection task's result as the session's error.
fn closed(
    result: Result<Result<(), tokio_postgres::Error>, tokio::sync::oneshot::error::RecvError>,
) -> SessionError {
    match result {
        Ok(Err(e)) => e.into(),
        _ => SessionError::Closed,
    }
}

/// The holder's state between looks.
struct Relay {
    /// The previous look's snapshot (`pg_snapshot` as text); None before the first.
    snapshot: Option<String>,
    poll_min: Duration,
    poll_max: Duration,
    interval: Duration,
    last_found: Instant,
}

impl Relay {
    fn new(settings: &RelaySettings) -> Self {
        Relay {
            snapshot: None,
            poll_min: settings.poll_min,
            poll_max: settings.poll_max.max(settings.poll_min),
            interval: settings.poll_min,
            last_found: Instant::now(),
        }
    }

    /// One look, and one ring if it found anything (or if it is the first); returns how
    /// long to wait before the next.
    async fn look_and_ring(
        &mut self,
        client: &tokio_postgres::Client,
        metrics: &Metrics,
    ) -> Result<Duration, tokio_postgres::Error> {
        let started = Instant::now();
        let row = client
            .query_one(queries::RELAY_LOOK, &[&self.snapshot])
            .await?;
        metrics.relay_looks.record(started.elapsed());
        let first = self.snapshot.is_none();
        self.snapshot = Some(row.get("snapshot"));
        let shows: Vec<String> = row.get("shows");
        let payloads = if first {
            vec![LOOK_AT_THE_LOG.to_owned()]
        } else {
            payloads(&shows)
        };
        if !payloads.is_empty() {
            client.execute(queries::RELAY_RING, &[&payloads]).await?;
            metrics
                .relay_notifies
                .fetch_add(payloads.len() as u64, Relaxed);
            metrics
                .relay_shows_rung
                .fetch_add(shows.len() as u64, Relaxed);
        }
        if let Some(lag) = row.get::<_, Option<f64>>("lag_seconds") {
            metrics.relay_lag.set_seconds(lag);
        }
        Ok(self.next_interval(!shows.is_empty()))
    }

    /// `poll_min` while changes come and for HOLD after, then doubling up to `poll_max`.
    fn next_interval(&mut self, found: bool) -> Duration {
        let now = Instant::now();
        if found {
            self.last_found = now;
        }
        self.interval = if now.duration_since(self.last_found) < HOLD {
            self.poll_min
        } else {
            (self.interval * 2).min(self.poll_max)
        };
        self.interval
    }
}

/// The NOTIFY payloads naming `shows`: comma-separated ids, each payload under the
/// 8000-byte limit; one `*` when there would be more than MAX_PAYLOADS.
fn payloads(shows: &[String]) -> Vec<String> {
    if shows.len() > IDS_PER_PAYLOAD * MAX_PAYLOADS {
        return vec![LOOK_AT_THE_LOG.to_owned()];
    }
    shows
        .chunks(IDS_PER_PAYLOAD)
        .map(|chunk| chunk.join(","))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
            .collect()
    }

    #[test]
    fn payloads_stay_under_the_notify_limit_and_name_every_show_once() {
        let shows = ids(IDS_PER_PAYLOAD * 3 + 7);
        let payloads = payloads(&shows);
        assert_eq!(payloads.len(), 4);
        assert!(
            payloads.iter().all(|p| p.len() < 8000),
            "a payload over 8000 bytes"
        );
        let named: Vec<&str> = payloads.iter().flat_map(|p| p.split(',')).collect();
        assert_eq!(named, shows.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn too_many_shows_ring_look_at_the_log() {
        assert_eq!(
            payloads(&ids(IDS_PER_PAYLOAD * MAX_PAYLOADS + 1)),
            vec!["*"]
        );
        assert!(payloads(&[]).is_empty());
    }

    #[test]
    fn the_interval_backs_off_only_after_the_hold() {
        let mut relay = Relay::new(&RelaySettings {
            enabled: true,
            poll_min: Duration::from_millis(5),
            poll_max: Duration::from_millis(40),
        });
        assert_eq!(relay.next_interval(true), Duration::from_millis(5));
        assert_eq!(relay.next_interval(false), Duration::from_millis(5));
        relay.last_found = Instant::now() - HOLD;
        let grown: Vec<u128> = (0..4)
            .map(|_| relay.next_interval(false).as_millis())
            .collect();
        assert_eq!(grown, [10, 20, 40, 40]);
        assert_eq!(relay.next_interval(true), Duration::from_millis(5));
    }
}
