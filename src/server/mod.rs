//! The accept loop: every TCP connection served by hyper's HTTP/1 builder with a timer, so
//! that a client cannot hold a socket by never finishing its headers (nor by idling on a
//! keep-alive connection: hyper's header timer runs from the end of each response), cannot
//! send a head larger than `MAX_HEADER_BYTES`, and cannot hold more than `MAX_CONNECTIONS`
//! sockets: at the cap the connection that has waited longest for a head makes room
//! ([`slots`]), and only when every connection is busy is a newcomer closed at once.
//! hyper's empty answers to unparsable heads are replaced by JSON ones ([`parse_errors`]),
//! and streams watch their socket for the client's close ([`Hangup`]). A 200 event stream
//! leaves hyper once routed: its connection drops hyper's state and buffers and the
//! response is written by [`stream_out`], so an idle subscriber holds a few KiB, not 20.
//!
//! It replaces `axum::serve`, which gives hyper no timer. The router is built once and each
//! connection gets a clone of it (an `Arc`), as `into_make_service` did: no per-connection
//! rebuild of routes or state. Failed accepts (out of descriptors) back off and are counted
//! in `showfeed_accept_errors_total`, logged at most once per [`LOG_EVERY`].

mod parse_errors;
mod slots;
mod socket;
mod stream_out;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::config::Config;
use crate::observability::Metrics;
use slots::{Admission, Busy, Slot, Slots};
use socket::ConnIo;
pub use socket::Hangup;
use stream_out::Handover;

/// Descriptors kept free beyond twice the pool for the listener, logs and the embedded database.
const FD_HEADROOM: usize = 64;
/// Accept errors and refused connections are logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(10);
/// How long, and for how many bytes, a connection whose head was refused is read on
/// before it closes.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 2 * 1024 * 1024;
/// How long the accept loop waits for an evicted connection to close, and how often.
const EVICTION_WAIT: Duration = Duration::from_millis(100);
const EVICTION_TRIES: usize = 10;
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
    /// Connections open at once. At the cap a newcomer takes the slot of the connection
    /// waiting longest for a head; when none waits, the newcomer is closed at once.
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
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .keep_alive(true);
    let builder = Arc::new(builder);
    let slots = Slots::new(limits.max_connections);
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
                metrics.accept_errors.count(&e);
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
        let Some(slot) = admit(&slots, &metrics).await else {
            // Closing at once frees the descriptor; the client sees a reset or EOF.
            drop(stream);
            metrics.connections_refused.fetch_add(1, Relaxed);
            if let Some(count) = refused_log.due() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    count,
                    "connection limit reached with every connection busy; closing new ones"
                );
            }
            continue;
        };
        // Small frames must not wait for Nagle (~40 ms each).
        let _ = stream.set_nodelay(true);
        tracker.spawn(serve_connection(
            Arc::new(stream),
            slot,
            router.clone(),
            builder.clone(),
            closing.clone(),
            metrics.clone(),
        ));
    }
    drop(listener);
    closing.cancel();
    tracker.close();
    tracker.wait().await;
}

/// A slot for a just-accepted connection, waiting for an evicted one to close first so
/// that the descriptors in use never pass the cap by more than this newcomer; `None`
/// when every connection is busy (or an eviction takes implausibly long).
async fn admit(slots: &Arc<Slots>, metrics: &Metrics) -> Option<Slot> {
    for _ in 0..EVICTION_TRIES {
        match slots.admit() {
            Admission::Admitted(slot) => return Some(slot),
            Admission::Refused => return None,
            Admission::Wait { evicted } => {
                if evicted {
                    metrics.connections_evicted.fetch_add(1, Relaxed);
                }
                let _ = tokio::time::timeout(EVICTION_WAIT, slots.freed()).await;
            }
        }
    }
    None
}

/// Serves one connection until it ends, the node shuts down (the current request is
/// finished first) or it is evicted from its slot (closed at once: it was waiting for a
/// head, so no answer is cut short).
async fn serve_connection(
    socket: Arc<TcpStream>,
    slot: Slot,
    router: Router,
    builder: Arc<http1::Builder>,
    closing: CancellationToken,
    metrics: Arc<Metrics>,
) {
    let refused_a_head = Arc::new(AtomicBool::new(false));
    let io = ConnIo::new(
        socket.clone(),
        slot.watcher(),
        metrics,
        refused_a_head.clone(),
    );
    let io = TokioIo::new(io);
    let hangup = Hangup::new(socket.clone());
    // An event stream leaves hyper once routed (`stream_out`): the service hands it over
    // here and stays pending; this task then drops hyper's connection and its buffers.
    // A oneshot, not an mpsc: tokio's mpsc allocates a block of 32 slots (~4.6 KiB here)
    // per channel, which an idle stream would keep for its life.
    let (handover_tx, mut handover_rx) = tokio::sync::oneshot::channel::<Handover>();
    let handover_tx = Arc::new(std::sync::Mutex::new(Some(handover_tx)));
    let service = service_fn(|req: Request<Incoming>| {
        let busy = slot.busy();
        let method = req.method().clone();
        let version = req.version();
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(hangup.clone());
        let router = router.clone();
        let handover_tx = handover_tx.clone();
        async move {
            let response = router.oneshot(req).await?;
            let response = response.map(|body| BusyBody { body, _busy: busy });
            if !stream_out::is_stream(&method, &response) {
                return Ok::<_, Infallible>(response);
            }
            // Only the connection's first stream can be handed over (it closes the
            // connection); anything later stays with hyper.
            let tx = handover_tx.lock().ok().and_then(|mut tx| tx.take());
            let Some(tx) = tx else {
                return Ok(response);
            };
            match tx.send(Handover { version, response }) {
                Ok(()) => std::future::pending().await,
                Err(handover) => Ok(handover.response),
            }
        }
    });
    let mut conn = Box::pin(builder.serve_connection(io, service).with_upgrades());
    let mut shutting_down = false;
    let mut handover_closed = false;
    let result = loop {
        tokio::select! {
            result = conn.as_mut() => break result,
            taken = &mut handover_rx, if !handover_closed => match taken {
                Ok(handover) => {
                    drop(conn);
                    stream_out::write(&socket, handover).await;
                    return;
                }
                // The service is gone (the connection is ending): not to be polled again.
                Err(_) => handover_closed = true,
            },
            () = slot.evicted(), if !shutting_down => return,
            () = closing.cancelled(), if !shutting_down => {
                conn.as_mut().graceful_shutdown();
                shutting_down = true;
            }
        }
    };
    if let Err(e) = result {
        tracing::trace!(error = %e, "connection ended with an error");
    }
    if refused_a_head.load(Relaxed) {
        // Closing while the client still sends the head we refused makes the kernel
        // answer with a reset, which can destroy our JSON answer in the client's buffer
        // before it is read. Reading on for a moment lets the client see the answer.
        tokio::select! {
            () = socket::discard_until_eof(&socket, LINGER_BYTES) => {}
            () = tokio::time::sleep(LINGER) => {}
            () = slot.evicted() => {}
        }
    }
}

/// A response body that keeps its connection marked busy until hyper drops it.
struct BusyBody {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for BusyBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
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
