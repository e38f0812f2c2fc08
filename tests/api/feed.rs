//! The live feed: snapshot then deltas, exactly once and in order, whatever the races.

use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Value};
use showfeed::auth::Role;
use uuid::Uuid;

use crate::helpers::*;

/// Posts `count` plain (non-claim) comments, one request each.
async fn write_comments(app: &TestApp, show: Uuid, writer: usize, count: usize) {
    for i in 0..count {
        let body = json!({
            "external_id": format!("w{writer}-{i}"),
            "author_id": format!("writer-{writer}"),
            "author_name": "Writer",
            "text": format!("hello {i}"),
        });
        let r = app
            .post(&format!("/api/shows/{show}/comments"), &body)
            .await;
        assert_eq!(r.status(), 201);
    }
}

fn committed_at(event: &Event) -> chrono::DateTime<chrono::Utc> {
    event.data["committed_at"]
        .as_str()
        .expect("committed_at")
        .parse()
        .expect("RFC 3339 committed_at")
}

fn latency_ms(event: &Event) -> f64 {
    (event.received - committed_at(event))
        .num_microseconds()
        .unwrap_or(0) as f64
        / 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_joining_at_random_moments_see_every_change_exactly_once_in_order() {
    let app = std::sync::Arc::new(spawn_app().await);
    let show = app.create_show("live").await;
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 250;
    const TOTAL: i64 = (WRITERS * PER_WRITER) as i64;

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let app = app.clone();
            tokio::spawn(async move { write_comments(&app, show, w, PER_WRITER).await })
        })
        .collect();
    let clients: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            let delay = Duration::from_millis(rand::thread_rng().gen_range(0..1500));
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let mut stream = app.stream(show, None).await;
                let initial = stream.next().await;
                let connected = chrono::Utc::now();
                assert_eq!(initial.event, "initial");
                let start = initial.seq();
                assert_eq!(initial.id, start.to_string());
                let events = if start < TOTAL {
                    stream.until_seq(TOTAL).await
                } else {
                    Vec::new()
                };
                assert_exact_seqs(&events, start + 1, TOTAL);
                // Delay of live deliveries only: changes committed before this client
                // connected were replayed, not delayed.
                events
                    .iter()
                    .filter(|e| committed_at(e) > connected)
                    .map(latency_ms)
                    .collect::<Vec<f64>>()
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let mut delays = Vec::new();
    for c in clients {
        delays.extend(c.await.unwrap());
    }
    delays.sort_by(f64::total_cmp);
    if let (Some(p50), Some(max)) = (delays.get(delays.len() / 2), delays.last()) {
        println!(
            "20 clients x {TOTAL} changes: commit->receive p50 {p50:.1} ms, longest {max:.1} ms"
        );
    }
}

#[tokio::test]
async fn a_plain_sql_update_of_a_claim_streams_as_claim_updated() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.comment(show, "ann", "sold 9").await;
    let mut stream = app.stream(show, None).await;
    let initial = stream.next().await;
    let claim_id: Uuid = initial.data["claims"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let sql = app.sql().await;
    sql.execute(
        "update claims set status = 'paid' where id = $1",
        &[&claim_id],
    )
    .await
    .unwrap();

    let e = stream.next().await;
    assert_eq!(e.event, "claim.updated");
    assert_eq!(e.seq(), initial.seq() + 1);
    assert_eq!(e.data["entity"], "claim");
    assert_eq!(e.data["op"], "update");
    assert_eq!(e.data["data"]["status"], "paid");
    assert_eq!(e.data["data"]["id"], claim_id.to_string());
    assert_eq!(e.data["actor"], showfeed::dev_pg::SUPERUSER);
}

#[tokio::test]
async fn a_row_larger_than_a_notify_payload_streams_intact() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let mut stream = app.stream(show, None).await;
    stream.next().await;
    let text: String = "ü".repeat(60_000); // 120 KB of UTF-8
    app.comment(show, "big", &text).await;
    let e = stream.next().await;
    assert_eq!(e.event, "comment.created");
    assert_eq!(e.data["data"]["text"].as_str().unwrap(), text);
}

#[tokio::test]
async fn a_forged_notify_injects_nothing_and_breaks_nothing() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let mut stream = app.stream(show, None).await;
    let initial = stream.next().await;
    let ignored_before = app.metric("notifications_ignored_total").await;

    let sql = app.sql().await;
    let fake_change = json!({"seq": 1, "show_id": show, "entity": "comment", "op": "insert",
                             "data": {"text": "forged"}})
    .to_string();
    for payload in [
        show.to_string(),
        "garbage".into(),
        fake_change,
        Uuid::new_v4().to_string(),
    ] {
        sql.execute("select pg_notify('show_changes', $1)", &[&payload])
            .await
            .unwrap();
    }
    assert!(
        stream
            .next_within(Duration::from_millis(700))
            .await
            .is_none(),
        "a forged doorbell must not produce an event"
    );
    assert!(app.metric("notifications_ignored_total").await >= ignored_before + 2.0);

    app.comment(show, "ann", "real").await;
    let e = stream.next().await;
    assert_eq!(e.seq(), initial.seq() + 1);
    assert_eq!(e.data["data"]["text"], "real");
}

#[tokio::test]
async fn disconnecting_clients_brings_the_subscriber_gauge_back() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let before = app.metric("subscribers").await;
    let mut streams = Vec::new();
    for _ in 0..10 {
        let mut s = app.stream(show, None).await;
        s.next().await;
        streams.push(s);
    }
    assert_eq!(app.metric("subscribers").await, before + 10.0);
    drop(streams);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = app.metric("subscribers").await;
        if now == before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "gauge stuck at {now}, expected {before}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_keep_alive_comment_arrives_when_nothing_happens() {
    let app = spawn_app_with(|c| c.http.heartbeat_secs = 1).await;
    let show = app.create_show("live").await;
    let response = app.raw_stream(show).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let text = read_raw_for(response, Duration::from_millis(2500)).await;
    assert!(text.starts_with("retry: "), "a retry hint first: {text:?}");
    assert!(text.contains("event: initial"));
    assert!(
        text.contains("\n: keep-alive\n"),
        "no keep-alive in {text:?}"
    );
}

/// Reads a response body as text for `wait` (or until it ends).
async fn read_raw_for(mut response: reqwest::Response, wait: Duration) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, response.chunk()).await {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

#[tokio::test]
async fn a_stream_is_closed_with_auth_expired_when_its_token_expires() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let token = app.mint("short", Role::Viewer, None, 2);
    let mut stream = app.stream_with(show, &token, None).await;
    assert_eq!(stream.next().await.event, "initial");
    let e = stream
        .next_within(Duration::from_secs(5))
        .await
        .expect("auth.expired within 5 s");
    assert_eq!(e.event, "auth.expired");
    assert!(
        stream.next_within(Duration::from_secs(2)).await.is_none(),
        "the stream ends"
    );
}

#[tokio::test]
async fn stream_auth_refuses_missing_bad_and_foreign_show_tokens() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let url = app.url(&format!("/api/shows/{show}/stream"));
    let other = app.mint("v", Role::Viewer, Some(vec![Uuid::new_v4()]), 60);
    let ok = app.mint("v", Role::Viewer, Some(vec![show]), 60);
    let unknown = app.url(&format!("/api/shows/{}/stream", Uuid::new_v4()));
    // (case, URL, bearer token, expected status). The query parameter works for
    // EventSource, and is checked the same way.
    let cases = [
        ("no token", url.clone(), None, 401),
        ("a malformed token", url.clone(), Some("not.a.jwt"), 401),
        (
            "another show's token",
            url.clone(),
            Some(other.as_str()),
            403,
        ),
        (
            "its show's token in the query",
            format!("{url}?access_token={ok}"),
            None,
            200,
        ),
        (
            "another show's token in the query",
            format!("{url}?access_token={other}"),
            None,
            403,
        ),
        ("an unknown show", unknown, Some(app.token.as_str()), 404),
    ];
    for (what, url, token, status) in cases {
        let mut req = app.api.get(&url);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{what}");
    }
}

#[tokio::test]
async fn a_long_poll_returns_as_soon_as_a_change_commits() {
    let app = std::sync::Arc::new(spawn_app().await);
    let show = app.create_show("live").await;
    app.comment(show, "ann", "first").await;
    let poll = {
        let app = app.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let body: Value = app
                .get(&format!("/api/shows/{show}/changes?after=1&wait=30"))
                .await
                .json()
                .await
                .unwrap();
            (body, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!poll.is_finished(), "nothing to return yet: it waits");
    app.comment(show, "bob", "second").await;
    let (body, took) = poll.await.unwrap();
    assert!(
        took < Duration::from_secs(10),
        "returned on the change, not at the 30 s limit"
    );
    assert_eq!(body["seq"], 2);
    assert_eq!(body["initial"], Value::Null);
    assert_eq!(body["changes"].as_array().unwrap().len(), 1);
    assert_eq!(body["changes"][0]["data"]["text"], "second");

    // Without wait it answers at once; after=0 replays everything.
    let body: Value = app
        .get(&format!("/api/shows/{show}/changes?after=0"))
        .await
        .json()
        .await
        .unwrap();
    let seqs: Vec<i64> = body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2]);
}

#[tokio::test]
async fn killing_the_listener_loses_nothing_and_readyz_reports_the_outage() {
    let app = std::sync::Arc::new(spawn_app().await);
    let show = app.create_show("live").await;
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut s = app.stream(show, None).await;
        assert_eq!(s.next().await.seq(), 0);
        streams.push(s);
    }
    // Watch /readyz closely while the listener is down.
    let saw_503 = {
        let app = app.clone();
        tokio::spawn(async move {
            let until = Instant::now() + Duration::from_secs(4);
            let mut saw = false;
            while Instant::now() < until {
                if let Ok(r) = app.api.get(app.url("/readyz")).send().await {
                    saw |= r.status() == 503;
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            saw
        })
    };
    let writer = {
        let app = app.clone();
        tokio::spawn(async move { write_comments(&app, show, 0, 300).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sql = app.sql().await;
    let killed = sql
        .query_one(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity \
             where application_name = 'showfeed-listener' and datname = current_database()",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        killed.get::<_, i64>(0),
        1,
        "one listener connection per node"
    );
    writer.await.unwrap();
    for mut s in streams {
        let events = s.until_seq(300).await;
        assert_exact_seqs(&events, 1, 300);
    }
    assert!(
        saw_503.await.unwrap(),
        "/readyz must answer 503 while the listener is down"
    );
    assert!(app.metric("listener_reconnects_total").await >= 1.0);
}
