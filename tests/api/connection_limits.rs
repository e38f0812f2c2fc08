//! The accept loop's limits, probed with raw sockets: unfinished request heads are closed at
//! the header timeout, oversized heads get 431 (counted), and sockets beyond
//! MAX_CONNECTIONS are closed at once without stopping service once the others leave.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// `host:port` of the app.
fn host(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the socket (EOF or reset) or `within` passes; returns
/// what was read, or `None` if the socket was still open.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// `/healthz` on a fresh connection (not the pooled one of `app.api`).
async fn healthz(app: &TestApp) -> u16 {
    reqwest::Client::new()
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test]
async fn unfinished_request_heads_are_closed_at_the_header_timeout() {
    let app = spawn_app_with(|c| c.http.header_read_timeout_secs = 1).await;
    let mut sockets = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(host(&app)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        sockets.push(s);
    }
    assert_eq!(healthz(&app).await, 200, "served while heads are pending");
    let started = Instant::now();
    for s in &mut sockets {
        let closed = read_until_closed(s, Duration::from_secs(4)).await;
        assert!(
            closed.is_some(),
            "a half-sent request was held past the timeout"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(healthz(&app).await, 200);
}

#[tokio::test]
async fn a_100_kb_header_gets_431_and_is_counted() {
    let app = spawn_app().await;
    let before = app.metric(r#"http_responses_total{class="4xx"}"#).await;
    let mut s = TcpStream::connect(host(&app)).await.unwrap();
    let big = "a".repeat(100 * 1024);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    // The server may stop reading (and close) before the whole head is written.
    let _ = s.write_all(request.as_bytes()).await;
    let answer = read_until_closed(&mut s, Duration::from_secs(5))
        .await
        .expect("the connection is closed after the answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "got {answer:?}");
    let after = app.metric(r#"http_responses_total{class="4xx"}"#).await;
    assert_eq!(after - before, 1.0, "the 431 is counted");
    // A head under the limit is still served.
    let ok = app
        .api
        .get(app.url("/healthz"))
        .header("x-fine", "b".repeat(16 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn sockets_beyond_the_connection_cap_are_closed_at_once_and_service_resumes() {
    let app = spawn_app_with(|c| c.http.max_connections = Some(20)).await;
    let mut sockets = Vec::new();
    for _ in 0..40 {
        sockets.push(TcpStream::connect(host(&app)).await.unwrap());
    }
    // Give the accept loop a moment to take all 40 from the backlog.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut closed = 0;
    for s in &mut sockets {
        if read_until_closed(s, Duration::from_millis(100))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    // 20 slots: one may be held by `app.api`'s pooled connection from start-up.
    assert!(
        (20..=21).contains(&closed),
        "{closed} of 40 idle sockets were closed with a cap of 20"
    );
    drop(sockets);
    let mut status = 0;
    for _ in 0..40 {
        status = healthz(&app).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(status, 200, "served again once the idle sockets left");
    assert!(app.metric("connections_refused_total").await >= 20.0);
}
