//! The accept loop's limits, probed with raw sockets: unfinished request heads and idle
//! keep-alive connections are closed at the header timeout while streams stay; heads hyper
//! cannot parse get JSON 400/414/431 answers that are counted; at MAX_CONNECTIONS the
//! longest-waiting socket makes room and only an all-busy node closes newcomers; a stream's
//! subscriber leaves the moment its client closes, even with bytes pipelined behind it.

use std::time::{Duration, Instant};

use serde_json::Value;
use showfeed::auth::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::child_node::ChildNode;
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

/// Reads until `needle` has arrived (or panics after `within`).
async fn read_until(stream: &mut TcpStream, needle: &str, within: Duration) -> String {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
            other => panic!(
                "{needle:?} never came ({other:?}); got {:?}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
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

/// Sends `head` (written from a task, as the server may stop reading it part-way) and
/// returns the whole answer, split into status line, head and parsed JSON body.
async fn answer_to(app: &TestApp, head: String) -> (String, String, Value) {
    let s = TcpStream::connect(host(app)).await.unwrap();
    let (mut read, mut write) = s.into_split();
    let writer = tokio::spawn(async move {
        let _ = write.write_all(head.as_bytes()).await;
        write
    });
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), read.read_to_end(&mut answer))
        .await
        .expect("the connection is closed after the answer")
        .expect("the answer arrives before any reset");
    writer.abort();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let status = head.lines().next().unwrap().to_owned();
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: body {body:?}"));
    (status, head.to_ascii_lowercase(), json)
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
async fn idle_keep_alive_connections_close_at_the_header_timeout_but_streams_stay_open() {
    let app = spawn_app_with(|c| c.http.header_read_timeout_secs = 1).await;
    let show = app.create_show("live").await;
    let mut stream = app.stream(show, None).await;
    assert_eq!(stream.next().await.event, "initial");

    let mut idle = TcpStream::connect(host(&app)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    read_until(&mut idle, "\r\n\r\n", Duration::from_secs(2)).await;
    let answered = Instant::now();
    // The answer's body is tiny and already read with the head; what is left is idling.
    let closed = read_until_closed(&mut idle, Duration::from_secs(4)).await;
    assert!(closed.is_some(), "an idle keep-alive connection was held");
    assert!(
        answered.elapsed() >= Duration::from_millis(500),
        "closed too early"
    );

    // The stream has been open for longer than the timeout and still delivers.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let body = app.comment(show, "ada", "still here?").await;
    let event = stream.next().await;
    assert_eq!(event.event, "comment.created");
    assert_eq!(event.data["data"]["id"], body["comments"][0]["id"]);
}

#[tokio::test]
async fn a_1_mb_header_gets_a_json_431_and_a_100_kb_uri_a_json_414_both_counted() {
    let app = spawn_app().await;
    let before = app.metric(r#"http_responses_total{class="4xx"}"#).await;

    let big = "a".repeat(1024 * 1024);
    let (status, head, body) = answer_to(
        &app,
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n"),
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body["error"]["code"], "headers_too_large");

    let long = "b".repeat(100 * 1024);
    let (status, _, body) = answer_to(
        &app,
        format!("GET /api/shows?x={long} HTTP/1.1\r\nHost: x\r\n\r\n"),
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 414"), "{status}");
    assert_eq!(body["error"]["code"], "uri_too_long");

    let after = app.metric(r#"http_responses_total{class="4xx"}"#).await;
    assert_eq!(after - before, 2.0, "both answers are counted");
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
async fn a_malformed_request_head_gets_a_json_400() {
    let app = spawn_app().await;
    for head in [
        "GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        "G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let (status, head, body) = answer_to(&app, head.to_owned()).await;
        assert!(status.starts_with("HTTP/1.1 400"), "{status}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert_eq!(body["error"]["code"], "bad_request");
    }
}

#[tokio::test]
async fn at_the_cap_the_oldest_idle_sockets_make_room_and_service_goes_on() {
    let app = spawn_app_with(|c| c.http.max_connections = Some(20)).await;
    let mut sockets = Vec::new();
    for _ in 0..40 {
        sockets.push(TcpStream::connect(host(&app)).await.unwrap());
        // Accepted in this order, so "oldest" is well defined.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut closed = Vec::new();
    for (i, s) in sockets.iter_mut().enumerate() {
        if read_until_closed(s, Duration::from_millis(50))
            .await
            .is_some()
        {
            closed.push(i);
        }
    }
    // 20 slots; `app.api`'s pooled connection from start-up was idle longest of all.
    assert!(
        closed == (0..20).collect::<Vec<_>>() || closed == (0..19).collect::<Vec<_>>(),
        "the oldest idle sockets make room, got {closed:?}"
    );
    // A newcomer is served while the 20 newest idle sockets are still open.
    assert_eq!(healthz(&app).await, 200, "served at the cap");
    assert!(app.metric("connections_evicted_total").await >= 20.0);
    assert_eq!(app.metric("connections_refused_total").await, 0.0);
}

#[tokio::test]
async fn when_every_connection_is_busy_newcomers_are_closed_and_counted() {
    let app = spawn_app_with(|c| c.http.max_connections = Some(3)).await;
    let show = app.create_show("live").await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut s = app.stream(show, None).await;
        assert_eq!(s.next().await.event, "initial");
        streams.push(s);
    }
    let mut newcomer = TcpStream::connect(host(&app)).await.unwrap();
    let _ = newcomer
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let answer = read_until_closed(&mut newcomer, Duration::from_secs(2))
        .await
        .expect("the newcomer is closed at once");
    assert!(answer.is_empty(), "not served: {:?}", answer);
    // The streams were not touched, and once one leaves the node serves again.
    // (Written with SQL: the API has no free connection either.)
    app.insert_comment_by_sql(show, "ext-busy", "still flowing")
        .await;
    assert_eq!(
        streams[0].next().await.data["data"]["text"],
        "still flowing"
    );
    streams.pop();
    let mut refused = 0.0;
    for _ in 0..40 {
        if healthz(&app).await == 200 {
            refused = app.metric("connections_refused_total").await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(refused >= 1.0, "the refusal is counted (got {refused})");
}

#[tokio::test]
async fn a_stream_with_a_pipelined_byte_leaves_the_moment_its_client_closes() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let token = app.mint("pipeliner", Role::Viewer, None, 600);
    let mut s = TcpStream::connect(host(&app)).await.unwrap();
    let request = format!(
        "GET /api/shows/{show}/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\nX"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let opening = read_until(&mut s, "event: initial", Duration::from_secs(5)).await;
    assert!(opening.starts_with("HTTP/1.1 200"), "{opening}");
    assert_eq!(app.metric("subscribers").await, 1.0);

    drop(s);
    let closed = Instant::now();
    let mut subscribers = 1.0;
    while closed.elapsed() < Duration::from_secs(1) {
        subscribers = app.metric("subscribers").await;
        if subscribers == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        subscribers, 0.0,
        "the subscriber is still counted 1 s after its client closed (heartbeat is 15 s)"
    );
}

#[tokio::test]
async fn two_thousand_half_open_sockets_do_not_stop_a_node_with_1024_descriptors() {
    // This process holds the 2,000 sockets: it needs more than the usual 1,024 itself.
    showfeed::startup::raise_fd_limit();
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    // The header timeout is long enough that all 2,000 are open at once even on a loaded
    // machine (with 3 s, a slow connect loop let the first ones time out before the
    // slots filled, so none had to be evicted).
    let node = ChildNode::start_with_fd_limit(
        &app,
        &[("HEADER_READ_TIMEOUT_SECS", "8"), ("POOL_SIZE", "8")],
        Some(1024),
    )
    .await;
    let mut stream = node.stream(&app.token, show).await;
    assert_eq!(stream.next().await.event, "initial");
    let node_host = node.address.trim_start_matches("http://").to_owned();

    let mut sockets = Vec::new();
    for _ in 0..2000 {
        let mut s = TcpStream::connect(&node_host).await.unwrap();
        // A head that is never finished (a slowloris's first line).
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\n").await;
        sockets.push(s);
    }
    let opened = Instant::now();

    let fresh = reqwest::Client::new()
        .get(format!("{}/healthz", node.address))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .expect("/healthz is served with 2,000 half-open sockets")
        .status();
    assert_eq!(fresh, 200);
    let body = app.comment(show, "ann", "heard through the crowd").await;
    let event = stream.next().await;
    assert_eq!(
        event.data["data"]["id"], body["comments"][0]["id"],
        "the stream still delivers"
    );

    for (i, s) in sockets.iter_mut().enumerate() {
        let left = Duration::from_secs(12).saturating_sub(opened.elapsed());
        assert!(
            read_until_closed(s, left).await.is_some(),
            "socket {i} still open 12 s after an 8 s header timeout"
        );
    }
    assert_eq!(
        node.metric(r#"accept_errors_total{kind="emfile"}"#).await,
        0.0,
        "the node never ran out of descriptors"
    );
    assert!(
        node.metric("connections_evicted_total").await > 0.0,
        "2,000 sockets over ~950 slots evicted none"
    );
}
