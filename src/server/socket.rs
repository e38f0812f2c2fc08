//! A connection's socket, shared by hyper and by the one request that must watch it.
//!
//! hyper owns the connection's IO and stops reading as soon as a byte arrives behind the
//! request it is answering (a pipelined next request): an SSE stream then hears of its
//! client's close only when a heartbeat write fails, seconds later. So the socket is held
//! in an `Arc`: [`ConnIo`] is hyper's reader and writer, and [`Hangup`], put in every
//! request's extensions, lets the stream route watch the same socket for EOF itself.
//!
//! [`ConnIo`]'s writer also swaps hyper's empty answers to unparsable requests for the
//! contract's JSON ones (`parse_errors`), counts them and writes their access line.

use std::io;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::parse_errors::{self, ParseError};
use super::slots::SlotWatcher;
use crate::observability::Metrics;

/// Bytes a stream connection may send after its request before it counts as gone: they
/// are never answered (stream responses close the connection), so a client that keeps
/// sending is misbehaving.
const MAX_PIPELINED: usize = 64 * 1024;

/// hyper's reader and writer of one connection.
pub struct ConnIo {
    socket: Arc<TcpStream>,
    slot: SlotWatcher,
    metrics: Arc<Metrics>,
    /// A line end was read since the last write: the request line is complete.
    line_read: bool,
    /// Our answer, being written in place of hyper's.
    replacing: Option<Replacement>,
    /// Set once such an answer was sent: the client is likely still sending the head we
    /// refused, so the socket must linger before it closes (see `serve_connection`).
    refused_a_head: Arc<AtomicBool>,
}

struct Replacement {
    bytes: Vec<u8>,
    written: usize,
    /// Length of hyper's write it stands for, reported once ours is out.
    stands_for: usize,
}

impl ConnIo {
    pub fn new(
        socket: Arc<TcpStream>,
        slot: SlotWatcher,
        metrics: Arc<Metrics>,
        refused_a_head: Arc<AtomicBool>,
    ) -> ConnIo {
        ConnIo {
            socket,
            slot,
            metrics,
            line_read: false,
            replacing: None,
            refused_a_head,
        }
    }

    /// Starts replacing `written` if it is hyper's own answer to an unparsable request.
    fn check_for_parse_error(&mut self, written: &[u8]) {
        if self.replacing.is_some() || !self.slot.is_waiting() {
            return;
        }
        if let Some(error) = parse_errors::recognise(written, self.line_read) {
            log_parse_error(&self.metrics, error);
            self.refused_a_head.store(true, Relaxed);
            self.replacing = Some(Replacement {
                bytes: parse_errors::render(error),
                written: 0,
                stands_for: written.len(),
            });
        }
    }

    /// Writes out the replacement, if any; `Some(len)` of hyper's write once done.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<usize>>> {
        let Some(r) = self.replacing.as_mut() else {
            return Poll::Ready(Ok(None));
        };
        while r.written < r.bytes.len() {
            let n = ready!(poll_write(&self.socket, cx, &r.bytes[r.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            r.written += n;
        }
        let stands_for = r.stands_for;
        self.replacing = None;
        Poll::Ready(Ok(Some(stands_for)))
    }
}

/// The access line and the response count of an answer the router never saw.
fn log_parse_error(metrics: &Metrics, error: ParseError) {
    metrics.count_response(error.status());
    tracing::info!(
        target: "showfeed::access",
        route = "(unparsed)",
        status = error.status(),
        "request"
    );
}

fn poll_write(socket: &TcpStream, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    loop {
        ready!(socket.poll_write_ready(cx))?;
        match socket.try_write(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return Poll::Ready(other),
        }
    }
}

/// One vectored write on the shared socket, or Pending (registered for write readiness)
/// while it is full. Used by hyper's writer and by `stream_out`.
pub fn poll_write_vectored(
    socket: &TcpStream,
    cx: &mut Context<'_>,
    bufs: &[io::IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    loop {
        ready!(socket.poll_write_ready(cx))?;
        match socket.try_write_vectored(bufs) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return Poll::Ready(other),
        }
    }
}

/// Ends our sending half (the client reads EOF); the descriptor stays open until the last
/// `Arc` of the socket goes. An already disconnected socket has nothing left to shut.
pub fn shutdown_write(socket: &TcpStream) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: shutdown(2) on a descriptor this connection owns; it only ends our sending
    // half (the `Arc` keeps the descriptor open).
    if unsafe { libc::shutdown(socket.as_raw_fd(), libc::SHUT_WR) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ENOTCONN) {
        Ok(())
    } else {
        Err(e)
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.socket.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match this.socket.try_read(unfilled) {
                Ok(n) => {
                    this.line_read |= unfilled[..n].contains(&b'\n');
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check_for_parse_error(buf);
        if let Some(n) = ready!(this.poll_replacement(cx))? {
            return Poll::Ready(Ok(n));
        }
        this.line_read = false;
        poll_write(&this.socket, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // hyper's automatic answer is one buffer (a head and no body).
        if let [only] = bufs {
            this.check_for_parse_error(only);
        }
        if let Some(n) = ready!(this.poll_replacement(cx))? {
            return Poll::Ready(Ok(n));
        }
        this.line_read = false;
        poll_write_vectored(&this.socket, cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        Poll::Ready(shutdown_write(&this.socket))
    }
}

/// The request's connection, for a response that lasts (an SSE stream) to notice at once
/// when the client goes away. In every request's extensions.
#[derive(Clone)]
pub struct Hangup(Arc<TcpStream>);

impl Hangup {
    pub fn new(socket: Arc<TcpStream>) -> Hangup {
        Hangup(socket)
    }

    /// Resolves when the client has closed the connection (or reset it, or sent more than
    /// [`MAX_PIPELINED`] bytes after the request). Bytes that arrive are read and dropped:
    /// call it only for a response that closes the connection when it ends, so no further
    /// request on it would be answered anyway.
    pub async fn closed(self) {
        discard_until_eof(&self.0, MAX_PIPELINED).await;
    }
}

/// Reads and drops what the client sends until it closes (EOF, reset) or more than
/// `limit` bytes came.
pub async fn discard_until_eof(socket: &TcpStream, limit: usize) {
    let mut discarded = 0;
    loop {
        if socket.readable().await.is_err() {
            return;
        }
        // Not held across the await: the future stays small (one per stream).
        let mut scratch = [0u8; 256];
        match socket.try_read(&mut scratch) {
            Ok(0) => return,
            Ok(n) => {
                discarded += n;
                if discarded > limit {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}
