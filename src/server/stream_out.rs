//! SSE responses written without hyper: once the router has answered a request with an
//! event stream, the connection leaves hyper and this writer sends the head and the
//! frames straight to the socket.
//!
//! Why: an idle SSE subscriber costs what its connection holds, and hyper's HTTP/1
//! connection holds two 8 KiB buffers for its whole life (the read buffer, reserved at the
//! first read, and the head buffer, allocated with the connection; neither size can be
//! configured in hyper 1.x). A stream response never serves another request on its
//! connection (it says `Connection: close`), so after routing nothing of hyper's is
//! needed: the writer keeps only the response body and the frame being written. The
//! client's close is watched as before by the stream's [`super::Hangup`].
//!
//! The wire format is what hyper sent: chunked transfer coding on HTTP/1.1 (one chunk per
//! write, frames that are ready together going out in one vectored write, as hyper's queue
//! did), a close-delimited body on HTTP/1.0.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::http::{header, HeaderValue, Method, Response, Version};
use bytes::Bytes;
use http_body::Body as _;
use tokio::net::TcpStream;

use super::{socket, BusyBody};

/// Frames gathered into one write at most (and bytes, roughly): enough to empty a backlog
/// in a few syscalls, small enough that no frame waits behind a large batch.
const BATCH_FRAMES: usize = 64;
const BATCH_BYTES: usize = 64 * 1024;

/// A response the connection hands over instead of giving it to hyper.
pub struct Handover {
    pub version: Version,
    pub response: Response<BusyBody>,
}

/// Whether the router's answer to a `method` request is one to write here: a 200 event
/// stream to a request that expects a body (not HEAD).
pub fn is_stream(method: &Method, response: &Response<BusyBody>) -> bool {
    *method != Method::HEAD
        && response.status().is_success()
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// Writes `handover`'s head and body to `socket` until the body ends (then the chunked
/// body's end) or the client is gone (a write fails). Never returns an error: a stream that
/// cannot be written has nobody left to tell.
pub async fn write(socket: &TcpStream, handover: Handover) {
    let Handover { version, response } = handover;
    let chunked = version != Version::HTTP_10 && version != Version::HTTP_09;
    let (parts, mut body) = response.into_parts();
    let mut out = Outgoing::new(chunked);
    // The head goes out with the first frames, in the same write.
    out.pending
        .push(Bytes::from(render_head(&parts, version, chunked)));
    // One poll does it all with the task's own waker: gather what the body has ready, write
    // it at once, and stay pending on the body (or on the socket, when it is full). Each
    // frame then costs one ready and one pending poll of the stream, no extra round.
    poll_fn(|cx| out.poll(cx, socket, Pin::new(&mut body))).await;
    drop(body);
    // Errors (the client already gone) leave nothing to do.
    let _ = socket::shutdown_write(socket);
}

/// Bytes on their way to the socket and where the body stands.
struct Outgoing {
    chunked: bool,
    /// Framed and not yet written; emptied (and freed) after every write, so an idle
    /// stream holds no buffer.
    pending: Vec<Bytes>,
    /// The body has ended (its terminator is queued); done once `pending` is out.
    ended: bool,
}

impl Outgoing {
    fn new(chunked: bool) -> Outgoing {
        Outgoing {
            chunked,
            pending: Vec::new(),
            ended: false,
        }
    }

    fn push(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        if self.chunked {
            self.pending
                .push(Bytes::from(format!("{:x}\r\n", data.len())));
            self.pending.push(data);
            self.pending.push(Bytes::from_static(b"\r\n"));
        } else {
            self.pending.push(data);
        }
    }

    /// Ready when the response is over: the body ended and all is written, the body
    /// failed (the response is cut short: no terminator), or the client is gone.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        socket: &TcpStream,
        mut body: Pin<&mut BusyBody>,
    ) -> Poll<()> {
        loop {
            // Gather what is ready (a batch at most).
            let mut frames = 0;
            let mut bytes = 0;
            while !self.ended && frames < BATCH_FRAMES && bytes < BATCH_BYTES {
                match body.as_mut().poll_frame(cx) {
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            frames += 1;
                            bytes += data.len();
                            self.push(data);
                        }
                    }
                    Poll::Ready(Some(Err(_))) => return Poll::Ready(()),
                    Poll::Ready(None) => {
                        self.ended = true;
                        if self.chunked {
                            self.pending.push(Bytes::from_static(b"0\r\n\r\n"));
                        }
                    }
                    Poll::Pending => break,
                }
            }
            if self.pending.is_empty() {
                return if self.ended {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                };
            }
            match poll_write_all(cx, socket, &mut self.pending) {
                Poll::Ready(Ok(())) => self.pending = Vec::new(),
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                // The socket is full: the body is not polled until it drains (as hyper
                // did), so a slow client's backlog stays in the feed, not here.
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The status line and headers, as hyper would write them (plus `Date`, `Connection:
/// close` and the transfer coding when the router did not set them).
fn render_head(parts: &axum::http::response::Parts, version: Version, chunked: bool) -> Vec<u8> {
    let mut head = Vec::with_capacity(512);
    let status = parts.status;
    let line_version = if version == Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    head.extend_from_slice(
        format!(
            "{line_version} {} {}\r\n",
            status.as_str(),
            status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    let headers = &parts.headers;
    for (name, value) in headers {
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        push_header(&mut head, name.as_str(), value);
    }
    if !headers.contains_key(header::CONNECTION) {
        push_header(&mut head, "connection", &HeaderValue::from_static("close"));
    }
    if !headers.contains_key(header::DATE) {
        let now = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
        if let Ok(date) = HeaderValue::from_str(&now.to_string()) {
            push_header(&mut head, "date", &date);
        }
    }
    if chunked {
        push_header(
            &mut head,
            "transfer-encoding",
            &HeaderValue::from_static("chunked"),
        );
    }
    head.extend_from_slice(b"\r\n");
    head
}

fn push_header(head: &mut Vec<u8>, name: &str, value: &HeaderValue) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value.as_bytes());
    head.extend_from_slice(b"\r\n");
}

/// Writes from the front of `parts` until all is out (`parts` then empty) or the socket is
/// full (Pending, with the task registered for write readiness).
fn poll_write_all(
    cx: &mut Context<'_>,
    socket: &TcpStream,
    parts: &mut Vec<Bytes>,
) -> Poll<io::Result<()>> {
    loop {
        parts.retain(|b| !b.is_empty());
        if parts.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let slices: Vec<IoSlice<'_>> = parts.iter().take(1024).map(|b| IoSlice::new(b)).collect();
        let written = ready!(socket::poll_write_vectored(socket, cx, &slices))?;
        drop(slices);
        if written == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        let mut left = written;
        for part in parts.iter_mut() {
            if left == 0 {
                break;
            }
            let n = left.min(part.len());
            let _ = part.split_to(n);
            left -= n;
        }
    }
}
