//! A recording SSE subscriber: unlike the benchmark's, it keeps every event it received
//! (so the end-of-run check can compare it with the authoritative log), it can be told
//! to drop its connection or to stop reading for a while, and when a stream ends it
//! resumes on the next node (round-robin) with `Last-Event-ID`, like a browser behind a
//! load balancer. The HTTP head and chunked decoding come from the benchmark's `sse`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::sse::{find, open_stream, BodyText};

/// One received event, in arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A snapshot at this seq (resets the subscriber's position).
    Initial(i64),
    /// A change with this seq.
    Delta(i64),
}

/// One subscriber's state, shared with the fault driver and the checker.
pub struct Sub {
    /// Index of the show it follows.
    pub show: usize,
    /// A slow subscriber: small receive buffer, and `paused` makes it stop reading.
    pub slow: bool,
    /// Id of the last event received (-1 before the first): its `Last-Event-ID`.
    pub last: AtomicI64,
    /// Every event received, in order.
    pub events: Mutex<Vec<Event>>,
    /// Wakes the subscriber to close its connection (it then reconnects).
    pub drop_now: Notify,
    /// While set, a slow subscriber does not read its socket.
    pub paused: AtomicBool,
    /// Streams that ended or failed and were resumed.
    pub reconnects: AtomicU64,
}

impl Sub {
    pub fn new(show: usize, slow: bool) -> Arc<Sub> {
        Arc::new(Sub {
            show,
            slow,
            last: AtomicI64::new(-1),
            events: Mutex::new(Vec::new()),
            drop_now: Notify::new(),
            paused: AtomicBool::new(false),
            reconnects: AtomicU64::new(0),
        })
    }

    fn record(&self, event: Event) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
        let (Event::Initial(seq) | Event::Delta(seq)) = event;
        self.last.store(seq, Relaxed);
    }

    /// The events so far (a copy).
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

/// What every subscriber shares: the nodes, one request path per show, the round-robin
/// counter for reconnects, and the stop signal.
pub struct Shared {
    pub nodes: Vec<SocketAddr>,
    /// `/api/shows/{id}/stream?access_token=...`, by show index.
    pub paths: Vec<String>,
    pub next_node: AtomicUsize,
    pub stop: CancellationToken,
}

/// Runs `sub` until `shared.stop`, starting on node `first`; never gives up.
pub async fn run(sub: Arc<Sub>, shared: Arc<Shared>, first: usize) {
    let mut node = first % shared.nodes.len();
    let mut failures = 0u64;
    while !shared.stop.is_cancelled() {
        let result = tokio::select! {
            r = stream_once(&sub, &shared, node) => r,
            _ = shared.stop.cancelled() => return,
        };
        sub.reconnects.fetch_add(1, Relaxed);
        match result {
            Ok(()) => failures = 0,
            Err(_) => failures += 1,
        }
        node = shared.next_node.fetch_add(1, Relaxed) % shared.nodes.len();
        // Like EventSource's retry, with a little backoff when nodes keep refusing.
        let pause = Duration::from_millis(100 * failures.clamp(1, 10));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shared.stop.cancelled() => return,
        }
    }
}

async fn connect(addr: SocketAddr, slow: bool) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if slow {
        // A small window, so that not reading soon pushes back on the server.
        socket.set_recv_buffer_size(4096)?;
    }
    let stream = tokio::time::timeout(Duration::from_secs(5), socket.connect(addr))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Longest silence accepted on a stream (the server sends keep-alives well within it).
const IDLE: Duration = Duration::from_secs(30);

/// One connection: request (resuming if we have a position), then events until the
/// stream ends, fails, or the subscriber is told to drop it (Ok).
async fn stream_once(sub: &Sub, shared: &Shared, node: usize) -> std::io::Result<()> {
    let mut stream = connect(shared.nodes[node], sub.slow).await?;
    // A stopped node accepts (the kernel does) but never answers: give up and move on.
    let (chunked, head, head_len) = open_stream(
        &mut stream,
        &shared.paths[sub.show],
        sub.last.load(Relaxed),
        Duration::from_secs(10),
    )
    .await?;
    let mut text = Vec::new();
    let mut body = BodyText::new(chunked);
    let mut done = body.feed(&head[head_len..], &mut text)?;
    parse(&mut text, sub);
    let mut buf = vec![0u8; 8192];
    while !done {
        while sub.slow && sub.paused.load(Relaxed) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A stopped (SIGSTOP) node sends nothing, not even keep-alives: give up on it
        // like a browser's stalled-stream watchdog would.
        let n = tokio::select! {
            n = tokio::time::timeout(IDLE, stream.read(&mut buf)) => n
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??,
            _ = sub.drop_now.notified() => return Ok(()),
        };
        if n == 0 {
            break;
        }
        done = body.feed(&buf[..n], &mut text)?;
        parse(&mut text, sub);
    }
    Ok(())
}

/// Records every complete event in `text` and removes it (comments and events without
/// an id, such as keep-alives, are skipped).
fn parse(text: &mut Vec<u8>, sub: &Sub) {
    let mut consumed = 0;
    while let Some(len) = find(&text[consumed..], b"\n\n") {
        let block = &text[consumed..consumed + len];
        consumed += len + 2;
        let mut id = None;
        let mut initial = false;
        for line in block.split(|&b| b == b'\n') {
            if let Some(v) = line.strip_prefix(b"id: ") {
                id = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.trim().parse::<i64>().ok());
            } else if let Some(v) = line.strip_prefix(b"event: ") {
                initial = v == b"initial";
            }
        }
        if let Some(seq) = id {
            sub.record(if initial {
                Event::Initial(seq)
            } else {
                Event::Delta(seq)
            });
        }
    }
    if consumed > 0 {
        text.drain(..consumed);
    }
}
