//! The bytes of an SSE response on the wire, read from a raw socket: once routed, a stream
//! leaves hyper and is written by the server's own writer (`server::stream_out`), which
//! must keep HTTP/1.1's chunked framing, `Connection: close`, a `Date`, HTTP/1.0's
//! close-delimited body, and a clean end (the last chunk, then EOF) when the stream ends.

use std::time::Duration;

use showfeed::auth::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Sends `request` on a new connection and reads until the server closes it or `limit`
/// passes; returns everything read.
async fn exchange(app: &TestApp, request: &str, limit: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(limit, s.read_to_end(&mut got)).await;
    got
}

/// (head, body) of a response.
fn split(response: &[u8]) -> (String, Vec<u8>) {
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(response)));
    (
        String::from_utf8(response[..at].to_vec()).unwrap(),
        response[at + 4..].to_vec(),
    )
}

/// Decodes a chunked body; panics on a framing error. Returns the data and whether the
/// last chunk (size 0) was seen.
fn dechunk(mut body: &[u8]) -> (String, bool) {
    let mut data = Vec::new();
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            assert!(body.is_empty(), "a cut chunk size line: {body:?}");
            return (String::from_utf8(data).unwrap(), false);
        };
        let size = usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap(), 16)
            .unwrap_or_else(|e| panic!("chunk size {:?}: {e}", &body[..eol]));
        body = &body[eol + 2..];
        if size == 0 {
            assert_eq!(body, b"\r\n", "the last chunk ends the body");
            return (String::from_utf8(data).unwrap(), true);
        }
        if body.len() < size + 2 {
            // The read ended inside a chunk (the stream was still open).
            return (String::from_utf8(data).unwrap(), false);
        }
        data.extend_from_slice(&body[..size]);
        assert_eq!(&body[size..size + 2], b"\r\n", "a chunk ends with CRLF");
        body = &body[size + 2..];
    }
}

#[tokio::test]
async fn an_http11_stream_is_chunked_says_connection_close_and_ends_with_the_last_chunk_then_eof() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    // A token that expires in 2 s: the stream ends by itself with auth.expired.
    let token = app.mint("wire", Role::Viewer, None, 2);
    let request = format!(
        "GET /api/shows/{show}/stream HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let response = exchange(&app, &request, Duration::from_secs(15)).await;
    let (head, body) = split(&response);
    let head_lower = head.to_lowercase();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    for header in [
        "content-type: text/event-stream",
        "transfer-encoding: chunked",
        "connection: close",
        "cache-control: no-cache",
        "referrer-policy: no-referrer",
        "x-request-id: ",
        "date: ",
    ] {
        assert!(head_lower.contains(header), "{header} in\n{head}");
    }
    assert!(!head_lower.contains("content-length"), "{head}");
    let (data, ended) = dechunk(&body);
    assert!(ended, "the body ends with the last chunk: {data}");
    let initial = data.find("event: initial").expect("the initial event");
    let expired = data.find("event: auth.expired").expect("then auth.expired");
    assert!(initial < expired, "{data}");
}

#[tokio::test]
async fn an_http10_stream_is_close_delimited_with_the_same_events() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let token = app.mint("wire", Role::Viewer, None, 2);
    let request =
        format!("GET /api/shows/{show}/stream HTTP/1.0\r\nAuthorization: Bearer {token}\r\n\r\n");
    let response = exchange(&app, &request, Duration::from_secs(15)).await;
    let (head, body) = split(&response);
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(!head.to_lowercase().contains("transfer-encoding"), "{head}");
    let body = String::from_utf8(body).unwrap();
    assert!(
        body.starts_with("retry:") || body.contains("event: initial"),
        "{body}"
    );
    assert!(
        body.contains("event: initial") && body.contains("event: auth.expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_refused_stream_request_is_still_answered_by_the_router_in_json_with_a_length() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let request =
        format!("GET /api/shows/{show}/stream HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    let response = exchange(&app, &request, Duration::from_secs(5)).await;
    let (head, body) = split(&response);
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        head.to_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}
