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

use axum::http::{header, HeaderValue, Method, Response, Version};
use bytes::Bytes;
use futures::FutureExt;
use http_body::Body as _;
use tokio::net::TcpStream;

use super::BusyBody;

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
    let head = render_head(&parts, version, chunked);
    if write_all(socket, &mut [Bytes::from(head)]).await.is_err() {
        return;
    }
    loop {
        let Some(first) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await else {
            if chunked {
                let _ = write_all(socket, &mut [Bytes::from_static(b"0\r\n\r\n")]).await;
            }
            break;
        };
        let Ok(first) = first else {
            // A failed body ends the response without its terminator: the client sees an
            // incomplete response, not a clean end.
            break;
        };
        // Made per batch, not kept: an idle stream holds no write buffer.
        let mut pending: Vec<Bytes> = Vec::new();
        // The body ended (or failed) while the batch was gathered: it must not be polled
        // again.
        let (mut ended, mut failed) = (false, false);
        let mut frames = 0;
        let mut bytes = 0;
        let mut next = Some(first);
        while let Some(frame) = next.take() {
            if let Ok(data) = frame.into_data() {
                if !data.is_empty() {
                    bytes += data.len();
                    frames += 1;
                    if chunked {
                        pending.push(Bytes::from(format!("{:x}\r\n", data.len())));
                        pending.push(data);
                        pending.push(Bytes::from_static(b"\r\n"));
                    } else {
                        pending.push(data);
                    }
                }
            }
            if frames >= BATCH_FRAMES || bytes >= BATCH_BYTES {
                break;
            }
            // More frames that are ready now go out in the same write.
            match poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).now_or_never() {
                Some(Some(Ok(frame))) => next = Some(frame),
                Some(Some(Err(_))) => failed = true,
                Some(None) => ended = true,
                None => {}
            }
        }
        if write_all(socket, &mut pending).await.is_err() {
            break;
        }
        drop(pending);
        if failed {
            break;
        }
        if ended || body.is_end_stream() {
            if chunked {
                let _ = write_all(socket, &mut [Bytes::from_static(b"0\r\n\r\n")]).await;
            }
            break;
        }
    }
    drop(body);
    shutdown_write(socket);
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

/// Writes every byte of `parts` (vectored; partial writes advance through them).
async fn write_all(socket: &TcpStream, parts: &mut [Bytes]) -> io::Result<()> {
    let mut first = 0;
    while first < parts.len() {
        if parts[first].is_empty() {
            first += 1;
            continue;
        }
        socket.writable().await?;
        let slices: Vec<IoSlice<'_>> = parts[first..]
            .iter()
            .take(1024)
            .map(|b| IoSlice::new(b))
            .collect();
        let written = match socket.try_write_vectored(&slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        drop(slices);
        let mut left = written;
        while left > 0 {
            let part = &mut parts[first];
            if left >= part.len() {
                left -= part.len();
                *part = Bytes::new();
                first += 1;
            } else {
                let _ = part.split_to(left);
                left = 0;
            }
        }
    }
    Ok(())
}

/// Ends our sending half (the client reads the end of the body, then EOF); the descriptor
/// closes when the last `Arc` of the socket goes.
fn shutdown_write(socket: &TcpStream) {
    use std::os::fd::AsRawFd;
    // SAFETY: shutdown(2) on a descriptor this connection owns; it only ends our sending
    // half. Errors (already disconnected) leave nothing to do.
    unsafe {
        libc::shutdown(socket.as_raw_fd(), libc::SHUT_WR);
    }
}
