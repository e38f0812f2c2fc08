//! The one LISTEN connection of this process.
//!
//! It is never taken from the pool and never runs anything slow: a notification only marks
//! its show dirty (the show's reader fetches rows on a pooled connection), so Postgres's
//! notification queue is drained as fast as notifications come. A periodic round trip
//! (which also samples the queue's usage) notices a silently dead connection. After every
//! (re)connect, once LISTEN is in place, every show with subscribers is re-read from its
//! cursor: that repairs whatever was committed while no one listened.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use futures::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::CancellationToken;

use super::session::{log_loss, Backoff, SessionError};
use super::Feed;
use crate::db::queries;

/// The channel the triggers notify.
pub const CHANNEL: &str = "show_changes";

/// A ping slower than this counts as a dead connection.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// How the listener watches its connection and the cluster's NOTIFY queue (from
/// `ListenerArgs`, see [`crate::config`]).
#[derive(Debug, Clone)]
pub struct ListenerSettings {
    /// Time between round trips (liveness and queue sampling).
    pub ping_every: Duration,
    /// Queue usage (0..1) above which the log warns.
    pub queue_warn: f64,
    /// Queue usage above which the watchdog looks for stuck listener sessions.
    pub watchdog_usage: f64,
    /// A listener session silent this long is stuck.
    pub stale_after: Duration,
}

/// Runs until `shutdown` is cancelled, reconnecting as needed.
pub async fn run(
    feed: Feed,
    config: tokio_postgres::Config,
    settings: ListenerSettings,
    shutdown: CancellationToken,
) {
    let config = crate::db::session_config(config, "showfeed-listener");
    let mut backoff = Backoff::default();
    let metrics = || feed.metrics();
    let mut first = true;
    while !shutdown.is_cancelled() {
        if !first {
            metrics().listener_reconnects.fetch_add(1, Relaxed);
        }
        first = false;
        match listen_once(&feed, &config, &settings, &shutdown, &mut backoff).await {
            Ok(()) => break,
            Err(e) => {
                metrics().listener_up.store(false, Relaxed);
                let delay = backoff.next_delay();
                log_loss("listener connection lost", &e, delay);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.cancelled() => break,
                }
            }
        }
    }
    metrics().listener_up.store(false, Relaxed);
}

/// One connection's life: connect, LISTEN, repair, then ping until it fails.
/// Returns Ok only on shutdown.
async fn listen_once(
    feed: &Feed,
    config: &tokio_postgres::Config,
    settings: &ListenerSettings,
    shutdown: &CancellationToken,
    backoff: &mut Backoff,
) -> Result<(), SessionError> {
    let (client, mut connection) = config.connect(NoTls).await?;
    // Drive the connection in its own task: it hands each notification to the feed (a
    // non-blocking call) and ends when the connection does.
    let (closed_tx, mut closed_rx) = tokio::sync::oneshot::channel();
    let doorbell = feed.clone();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        let result = loop {
            match messages.next().await {
                Some(Ok(AsyncMessage::Notification(n))) => doorbell.notified(n.payload()),
                Some(Ok(_)) => {}
                Some(Err(e)) => break Err(e),
                None => break Ok(()),
            }
        };
        let _ = closed_tx.send(result);
    });

    client.batch_execute(&format!("listen {CHANNEL}")).await?;
    // LISTEN is committed: from here no doorbell is lost, so re-reading every show now
    // covers everything committed while we were not listening.
    feed.repair_all();
    feed.metrics().listener_up.store(true, Relaxed);
    backoff.reset();
    tracing::info!("listening on channel {CHANNEL}");

    let mut ticker = tokio::time::interval(settings.ping_every);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            result = &mut closed_rx => {
                return match result {
                    Ok(Err(e)) => Err(e.into()),
                    _ => Err(SessionError::Closed),
                };
            }
            _ = ticker.tick() => {
                let ping = client.query_one(queries::NOTIFY_QUEUE_USAGE, &[]);
                let (usage, relay): (f64, bool) = match tokio::time::timeout(PING_TIMEOUT, ping).await {
                    Ok(Ok(row)) => (row.get(0), row.get(1)),
                    Ok(Err(e)) => return Err(e.into()),
                    Err(_) => return Err(SessionError::PingTimeout(PING_TIMEOUT)),
                };
                feed.metrics().notify_queue_usage_ppm.store((usage * 1e6) as u64, Relaxed);
                feed.metrics().doorbell_relay.store(relay, Relaxed);
                if usage > settings.queue_warn {
                    tracing::warn!(usage, "the NOTIFY queue is filling: a LISTEN session is not consuming (see README, Operations)");
                }
                if usage > settings.watchdog_usage {
                    terminate_stuck_listeners(&client, feed, settings).await?;
                }
            }
        }
    }
}

/// The watchdog: ends other nodes' listener sessions that stopped consuming the queue.
async fn terminate_stuck_listeners(
    client: &tokio_postgres::Client,
    feed: &Feed,
    settings: &ListenerSettings,
) -> Result<(), SessionError> {
    let stale = settings.stale_after.as_secs_f64();
    for row in client
        .query(queries::TERMINATE_STUCK_LISTENERS, &[&stale])
        .await?
    {
        let pid: i32 = row.get(0);
        let client_addr: String = row.get(1);
        let state: Option<String> = row.get(2);
        let wait_event: String = row.get(3);
        let silent_secs: f64 = row.get(4);
        let terminated: bool = row.get(5);
        if terminated {
            feed.metrics()
                .stuck_listeners_terminated
                .fetch_add(1, Relaxed);
        }
        tracing::warn!(
            pid, client = %client_addr, state = state.as_deref().unwrap_or(""), wait_event = %wait_event,
            silent_secs, terminated,
            "watchdog: a showfeed listener session has not pinged while the NOTIFY queue fills \
             (its node is frozen or cut off); terminating it so the queue can drain"
        );
    }
    Ok(())
}
