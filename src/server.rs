//! The accept loop: every TCP connection served by hyper's HTTP/1 builder with a timer, so
//! that a client cannot hold a socket by never finishing its headers, cannot send a head
//! larger than `MAX_HEADER_BYTES`, and cannot open more than `MAX_CONNECTIONS` sockets.
//!
//! It replaces `axum::serve`, which gives hyper no timer. The router is built once and each
//! connection gets a clone of it (an `Arc`), as `into_make_service` did: no per-connection
//! rebuild of routes or state. Failed accepts (out of descriptors) back off and are counted
//! in `showfeed_accept_errors_total`, logged at most once per [`LOG_EVERY`].

use std::future::Future;
use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::config::Config;
use crate::observability::Metrics;

/// Descriptors kept free beyond twice the pool for the listener, logs and the embedded database.
const FD_HEADROOM: usize = 64;
/// Accept errors and refused connections are logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(10);
/// First and largest pause after a failed accept.
const BACKOFF_START: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What the accept loop enforces on each connection.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Time to send a request's head before the connection is closed.
    pub header_read_timeout: Duration,
    /// Largest request head in bytes; larger heads get hyper's 431.
    pub max_header_bytes: usize,
    /// Connections open at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
}

impl ConnectionLimits {
    /// The limits `config` asks for; an unset connection cap is derived from the current
    /// file-descriptor limit, so call this after [`crate::startup::raise_fd_limit`].
    pub fn from_config(config: &Config) -> ConnectionLimits {
        let max_connections = config
            .http
            .max_connections
            .unwrap_or_else(|| default_max_connections(config.database.pool_size));
        ConnectionLimits {
            header_read_timeout: config.http.header_read_timeout(),
            max_header_bytes: config.http.max_header_bytes,
            max_connections: max_connections.max(1),
        }
    }
}

/// The soft descriptor limit minus two per pool connection and [`FD_HEADROOM`].
fn default_max_connections(pool_size: usize) -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and reads nothing else.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    };
    soft.saturating_sub(2 * pool_size + FD_HEADROOM).max(1)
}

/// A log line that is written at most once per [`LOG_EVERY`], saying how many it stood for.
struct Throttled {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttled {
    fn new() -> Self {
        Throttled {
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(count since the last line)` when a line is due now.
    fn due(&mut self) -> Option<u64> {
        self.suppressed += 1;
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < LOG_EVERY) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// Accept errors that concern one connection only: the next accept may succeed at once.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves `router` on `listener` until `signal` resolves, then stops accepting, asks every
/// connection to finish its current request, and returns once all have closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    signal: impl Future<Output = ()>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .keep_alive(true);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let closing = CancellationToken::new();
    let tracker = TaskTracker::new();
    let mut accept_log = Throttled::new();
    let mut refused_log = Throttled::new();
    let mut backoff = BACKOFF_START;
    tokio::pin!(signal);
    tracing::debug!(?limits, "serving");
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut signal => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = BACKOFF_START;
                stream
            }
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                metrics.accept_errors.fetch_add(1, Relaxed);
                if let Some(count) = accept_log.due() {
                    tracing::warn!(error = %e, count, "accepting connections failed; backing off");
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = &mut signal => break,
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closing at once frees the descriptor; the client sees a reset or EOF.
            drop(stream);
            metrics.connections_refused.fetch_add(1, Relaxed);
            if let Some(count) = refused_log.due() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    count,
                    "connection limit reached; closing new connections"
                );
            }
            continue;
        };
        // Small frames must not wait for Nagle (~40 ms each).
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(
            router
                .clone()
                .map_request(|req: Request<Incoming>| req.map(Body::new)),
        );
        let builder = builder.clone();
        let closing = closing.clone();
        let metrics = metrics.clone();
        tracker.spawn(async move {
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                () = closing.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                count_parse_rejection(&metrics, &e);
                tracing::trace!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    closing.cancel();
    tracker.close();
    tracker.wait().await;
}

/// hyper answers a too-large head (431) or URI (414) itself, with an empty body and no call
/// into the router; count those answers with the router's own.
fn count_parse_rejection(metrics: &Metrics, e: &hyper::Error) {
    if e.is_parse_too_large() {
        // hyper names the two cases only in the message.
        let status = if e.to_string().contains("URI") {
            414
        } else {
            431
        };
        metrics.count_response(status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_logs_once_per_window_and_counts_the_rest() {
        let mut log = Throttled::new();
        assert_eq!(log.due(), Some(1));
        assert_eq!(log.due(), None);
        assert_eq!(log.due(), None);
        log.last = Some(Instant::now() - LOG_EVERY);
        assert_eq!(log.due(), Some(3));
    }

    #[test]
    fn the_default_cap_leaves_room_for_the_pool() {
        let cap = default_max_connections(16);
        assert!(cap >= 1);
    }
}
