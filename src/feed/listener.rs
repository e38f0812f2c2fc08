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
use rand::Rng;
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::CancellationToken;

use super::Feed;

/// The channel the triggers notify.
pub const CHANNEL: &str = "show_changes";

/// How often the listener checks its connection and samples the queue usage.
const PING_EVERY: Duration = Duration::from_secs(5);
/// A ping slower than this counts as a dead connection.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Exponential backoff with full jitter between reconnect attempts.
struct Backoff {
    attempt: u32,
}

impl Backoff {
    fn next_delay(&mut self) -> Duration {
        let cap_ms = (100u64 << self.attempt.min(7)).min(10_000);
        self.attempt += 1;
        Duration::from_millis(rand::thread_rng().gen_range(cap_ms / 2..=cap_ms))
    }
}

/// Runs until `shutdown` is cancelled, reconnecting as needed.
pub async fn run(
    feed: Feed,
    config: tokio_postgres::Config,
    queue_warn: f64,
    shutdown: CancellationToken,
) {
    let config = crate::db::session_config(config, "showfeed-listener");
    let mut backoff = Backoff { attempt: 0 };
    let metrics = || feed.metrics();
    let mut first = true;
    while !shutdown.is_cancelled() {
        if !first {
            metrics().listener_reconnects.fetch_add(1, Relaxed);
        }
        first = false;
        match listen_once(&feed, &config, queue_warn, &shutdown, &mut backoff).await {
            Ok(()) => break,
            Err(e) => {
                metrics().listener_up.store(false, Relaxed);
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "listener connection lost");
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
    queue_warn: f64,
    shutdown: &CancellationToken,
    backoff: &mut Backoff,
) -> Result<(), ListenError> {
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
    backoff.attempt = 0;
    tracing::info!("listening on channel {CHANNEL}");

    let mut ticker = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            result = &mut closed_rx => {
                return match result {
                    Ok(Err(e)) => Err(e.into()),
                    _ => Err(ListenError::Closed),
                };
            }
            _ = ticker.tick() => {
                let ping = client.query_one("select pg_notification_queue_usage()", &[]);
                match tokio::time::timeout(PING_TIMEOUT, ping).await {
                    Ok(Ok(row)) => {
                        let usage: f64 = row.get(0);
                        feed.metrics().notify_queue_usage_ppm.store((usage * 1e6) as u64, Relaxed);
                        if usage > queue_warn {
                            tracing::warn!(usage, "the NOTIFY queue is filling: a LISTEN session is not consuming (see README, Operations)");
                        }
                    }
                    Ok(Err(e)) => return Err(e.into()),
                    Err(_) => return Err(ListenError::PingTimeout(PING_TIMEOUT)),
                }
            }
        }
    }
}

/// Why a listener connection ended.
#[derive(Debug, thiserror::Error)]
enum ListenError {
    #[error(transparent)]
    Pg(#[from] tokio_postgres::Error),
    #[error("connection closed")]
    Closed,
    #[error("ping got no answer within {0:?}")]
    PingTimeout(Duration),
}
