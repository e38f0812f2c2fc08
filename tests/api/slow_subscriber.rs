//! A subscriber that stops reading must not slow the others or grow memory without
//! bound; when it reads again it gets everything, exactly once, in order.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::child_node::ChildNode;
use crate::helpers::*;

/// A raw HTTP/1.0 stream request on a socket with a tiny receive buffer, so the server's
/// backlog really stays on the server while we do not read.
async fn stalled_stream(address: &str, token: &str, show: uuid::Uuid) -> tokio::net::TcpStream {
    let addr: std::net::SocketAddr = address.trim_start_matches("http://").parse().unwrap();
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&addr.into()).unwrap();
    socket.set_nonblocking(true).unwrap();
    let mut stream = tokio::net::TcpStream::from_std(socket.into()).unwrap();
    let request = format!(
        "GET /api/shows/{show}/stream HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Reads SSE `id:` lines from the raw stream until `last` (HTTP/1.0: no chunking).
async fn read_ids_until(stream: &mut tokio::net::TcpStream, last: i64) -> (Vec<i64>, Vec<String>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .expect("the stalled subscriber gets everything within 60 s")
            .unwrap();
        assert!(n > 0, "stream closed early");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        let ids: Vec<i64> = text
            .lines()
            .filter_map(|l| l.strip_prefix("id: ")?.parse().ok())
            .collect();
        if ids.last().is_some_and(|&i| i >= last) && text.ends_with("\n\n") {
            let events = text
                .lines()
                .filter_map(|l| l.strip_prefix("event: ").map(str::to_owned))
                .collect();
            return (ids, events);
        }
    }
}

#[tokio::test]
async fn a_subscriber_that_never_reads_falls_back_to_catch_up_and_gets_everything() {
    let app = spawn_app().await;
    // The node under test runs as its own process, so its memory can be measured alone.
    let node = ChildNode::start(&app, &[("SUBSCRIBER_BUFFER", "64")]).await;
    let show = app.create_show("live").await;
    let mut stalled = stalled_stream(&node.address, &app.token, show).await;
    let mut healthy = node.stream(&app.token, show).await;
    assert_eq!(healthy.next().await.seq(), 0);
    let rss_before = node.rss_kib();

    // 5,000 changes of ~2 KB each, in batches of 100 comments.
    const TOTAL: i64 = 5000;
    let text = "x".repeat(2000);
    let mut received = Vec::new();
    for b in 0..50 {
        let batch: Vec<_> = (0..100)
            .map(|i| json!({"external_id": format!("{b}-{i}"), "author_id": "a", "text": text}))
            .collect();
        let r = app
            .post(&format!("/api/shows/{show}/comments"), &batch.into())
            .await;
        assert_eq!(r.status(), 201);
        // The healthy subscriber keeps up batch by batch while the other one stalls.
        received.extend(healthy.until_seq((b + 1) * 100).await);
    }
    assert_exact_seqs(&received, 1, TOTAL);
    let rss_growth_mib = node.rss_kib().saturating_sub(rss_before) / 1024;
    // 10 MB of changes went by; the stalled subscriber may pin at most the shared
    // broadcast buffer and its socket's send buffer, never the whole backlog.
    assert!(rss_growth_mib < 24, "memory grew {rss_growth_mib} MiB");

    let (ids, events) = read_ids_until(&mut stalled, TOTAL).await;
    assert_eq!(events[0], "initial");
    assert_eq!(ids[0], 0, "initial at seq 0");
    assert_eq!(
        ids[1..].to_vec(),
        (1..=TOTAL).collect::<Vec<_>>(),
        "every change once, in order"
    );
    assert!(
        node.metric("lagged_subscribers_total").await >= 1.0,
        "the lag was counted"
    );
}
