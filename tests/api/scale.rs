//! Many nodes on one Postgres: fan-out across nodes, clients moving between nodes when one
//! stops or dies, reconnect storms served without a query per client, database restarts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::child_node::ChildNode;
use crate::helpers::*;

/// Posts `count` comments through `app` (external ids `{tag}-{i}`), retrying a request
/// that fails while the database is away: re-posting is idempotent.
async fn write_through(app: &TestApp, show: Uuid, tag: &str, count: usize) {
    for i in 0..count {
        let body = json!({"external_id": format!("{tag}-{i}"), "author_id": tag, "text": format!("{tag} {i}")});
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let sent = app
                .api
                .post(app.url(&format!("/api/shows/{show}/comments")))
                .bearer_auth(&app.token)
                .json(&body)
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "writes did not recover within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A client that behaves like EventSource: when its stream ends or fails it reconnects,
/// to the next node in `nodes`, with Last-Event-ID. Returns the events after `initial`.
async fn follow(nodes: Vec<String>, token: String, show: Uuid, until: i64) -> Vec<Event> {
    let client = reqwest::Client::new();
    let mut last: Option<i64> = None;
    let mut events: Vec<Event> = Vec::new();
    let mut node = 0;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        assert!(
            Instant::now() < deadline,
            "did not reach seq {until}; at {last:?}"
        );
        let mut req = client
            .get(format!("{}/api/shows/{show}/stream", nodes[node]))
            .bearer_auth(&token);
        if let Some(id) = last {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let Ok(response) = req.send().await else {
            node = (node + 1) % nodes.len();
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if response.status() != 200 {
            node = (node + 1) % nodes.len();
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let mut stream = SseClient::new(response);
        while let Some(e) = stream.next_within(Duration::from_secs(10)).await {
            match e.event.as_str() {
                "initial" => {
                    assert!(last.is_none(), "a resume must not get a fresh initial");
                    last = Some(e.seq());
                }
                _ if e.data.get("seq").is_some() => {
                    last = Some(e.seq());
                    events.push(e);
                }
                _ => {}
            }
            if last.is_some_and(|l| l >= until) {
                return events;
            }
        }
        // The stream ended (node stopping, killed, or database trouble): go elsewhere.
        node = (node + 1) % nodes.len();
    }
}

#[tokio::test]
async fn three_nodes_deliver_every_change_once_in_order_to_every_subscriber() {
    let a = Arc::new(spawn_app().await);
    let b = Arc::new(spawn_second_node(&a).await);
    let c = Arc::new(spawn_second_node(&a).await);
    let show = a.create_show("live").await;
    let nodes = [a.clone(), b.clone(), c.clone()];
    let mut subscribers = Vec::new();
    for node in &nodes {
        for _ in 0..3 {
            let mut s = node.stream(show, None).await;
            assert_eq!(s.next().await.seq(), 0);
            subscribers.push(s);
        }
    }
    let writers: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let node = node.clone();
            tokio::spawn(async move { write_through(&node, show, &format!("n{i}"), 100).await })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    for mut s in subscribers {
        assert_exact_seqs(&s.until_seq(300).await, 1, 300);
    }
}

#[tokio::test]
async fn clients_of_a_stopped_node_and_a_killed_node_resume_elsewhere_with_nothing_lost() {
    let survivor = Arc::new(spawn_app().await);
    let stopping = spawn_second_node(&survivor).await;
    let killed = ChildNode::start(&survivor, &[]).await;
    let show = survivor.create_show("live").await;
    const TOTAL: i64 = 200;

    let mut clients = Vec::new();
    for first in [stopping.address.clone(), killed.address.clone()] {
        for _ in 0..3 {
            let nodes = vec![first.clone(), survivor.address.clone()];
            clients.push(tokio::spawn(follow(
                nodes,
                survivor.token.clone(),
                show,
                TOTAL,
            )));
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let writer = {
        let survivor = survivor.clone();
        tokio::spawn(async move { write_through(&survivor, show, "w", TOTAL as usize).await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;

    // Graceful: /readyz turns 503 at once, streams close after the grace period.
    stopping.shutdown.begin(Duration::from_millis(500));
    let ready = stopping
        .api
        .get(stopping.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        503,
        "draining nodes leave the load balancer at once"
    );
    killed.signal(libc::SIGKILL);

    writer.await.unwrap();
    for c in clients {
        assert_exact_seqs(&c.await.unwrap(), 1, TOTAL);
    }
    let stopped = tokio::time::timeout(Duration::from_secs(15), stopping.server).await;
    assert!(
        stopped.is_ok(),
        "the stopping node finishes within the drain limit"
    );
}

#[tokio::test]
async fn a_graceful_shutdown_keeps_streams_during_the_grace_then_closes_them_with_a_retry_hint() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let response = app.raw_stream(show).await;
    let mut body = response;
    let started = Instant::now();
    app.shutdown.begin(Duration::from_millis(1500));
    // During the grace period the stream still delivers.
    app.comment(show, "ann", "during the grace period").await;
    let mut text = String::new();
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(Duration::from_secs(10), body.chunk()).await
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "closed only after the grace"
    );
    assert!(text.contains("during the grace period"), "{text}");
    let tail = text.trim_end().rsplit("\n\n").next().unwrap();
    assert!(
        tail.starts_with("retry: "),
        "the last frame is a retry hint: {tail:?}"
    );
    let stopped = tokio::time::timeout(Duration::from_secs(15), app.server).await;
    assert!(
        stopped.is_ok(),
        "the server stops after closing its streams"
    );
}

/// Sum of the feed's query counters on a node.
async fn feed_queries(app: &TestApp) -> f64 {
    app.metric("catchup_queries_total").await
        + app.metric("snapshot_queries_total").await
        + app.metric("fetch_queries_total").await
}

#[tokio::test]
async fn two_thousand_clients_resuming_at_once_cost_a_handful_of_queries() {
    showfeed::startup::raise_fd_limit();
    let writer = spawn_app().await;
    let show = writer.create_show("live").await;
    let batch: Vec<_> = (0..100)
        .map(|i| json!({"external_id": format!("e{i}"), "author_id": "a", "text": "t"}))
        .collect();
    assert_eq!(
        writer
            .post(&format!("/api/shows/{show}/comments"), &batch.into())
            .await
            .status(),
        201
    );

    // A node that has never seen the show: every resume is a cold one. The clients stay
    // connected until all have caught up, as in a reconnect storm: a show's channel (its
    // ring and its snapshot) goes with its last subscriber, so clients that left as soon as
    // they had caught up would let later ones find a cold node again.
    let node = Arc::new(spawn_second_node(&writer).await);
    let before = feed_queries(&node).await;
    let clients: Vec<_> = (0..2000)
        .map(|i| {
            let node = node.clone();
            let after = 80 + (i % 20) as i64;
            tokio::spawn(async move {
                let mut s = node.stream(show, Some(&after.to_string())).await;
                let events = s.until_seq(100).await;
                assert_exact_seqs(&events, after + 1, 100);
                s
            })
        })
        .collect();
    let mut connected = Vec::new();
    for c in clients {
        connected.push(c.await.unwrap());
    }
    let queries = feed_queries(&node).await - before;
    drop(connected);
    println!("2000 resumes on a cold node: {queries} feed queries");
    assert!(queries <= 5.0, "2000 resumes cost {queries} queries");

    // And 1000 fresh clients at once share snapshots.
    let before = node.metric("snapshot_queries_total").await;
    let clients: Vec<_> = (0..1000)
        .map(|_| {
            let node = node.clone();
            tokio::spawn(async move {
                let mut s = node.stream(show, None).await;
                assert_eq!(s.next().await.seq(), 100);
                s
            })
        })
        .collect();
    let mut connected = Vec::new();
    for c in clients {
        connected.push(c.await.unwrap());
    }
    let snapshots = node.metric("snapshot_queries_total").await - before;
    drop(connected);
    println!("1000 fresh clients: {snapshots} snapshot queries");
    assert!(snapshots <= 3.0, "1000 snapshots cost {snapshots} queries");
}

#[tokio::test]
async fn postgres_restarting_under_load_loses_and_repeats_nothing() {
    restart_postgres_under_load(&doorbell_under_test()).await;
}

/// Four followers and an API writer while Postgres restarts, with the doorbell in `mode`:
/// every follower gets every seq exactly once. In relay mode the relay must take its lock
/// again on the restarted server for anything written after the restart to arrive.
pub(crate) async fn restart_postgres_under_load(mode: &str) {
    // A cluster of its own: restarting the shared one would disturb the other tests.
    let mut pg = showfeed::dev_pg::DevPostgres::start_temporary().unwrap();
    let mut config = test_config("unused");
    config.database.database_url = Some(secrecy::SecretString::from(
        pg.connection_string(showfeed::dev_pg::SUPERUSER),
    ));
    let app = Arc::new(spawn_on(config, "unused".into()).await);
    connect(&pg.connection_string(showfeed::dev_pg::SUPERUSER))
        .await
        .execute("update showfeed_doorbell set mode = $1", &[&mode])
        .await
        .unwrap();
    let show = app.create_show("live").await;
    const TOTAL: i64 = 150;
    let clients: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(follow(
                vec![app.address.clone()],
                app.token.clone(),
                show,
                TOTAL,
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let writer = {
        let app = app.clone();
        tokio::spawn(async move { write_through(&app, show, "w", TOTAL as usize).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pg = tokio::task::spawn_blocking(move || {
        pg.restart().expect("restart Postgres");
        pg
    })
    .await
    .unwrap();
    let restarted = Instant::now();
    writer.await.unwrap();
    for c in clients {
        assert_exact_seqs(&c.await.unwrap(), 1, TOTAL);
    }
    app.wait_ready().await;
    if mode == "relay" {
        // The relay takes its lock again on the restarted server, and rings for new writes.
        let deadline = Instant::now() + Duration::from_secs(20);
        while app.metric("relay_holder").await != 1.0 {
            assert!(Instant::now() < deadline, "the relay did not come back");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut stream = app.stream(show, Some(&TOTAL.to_string())).await;
        app.comment(show, "after", "after the restart").await;
        let events = stream.until_seq(TOTAL + 1).await;
        assert_eq!(events.last().unwrap().seq(), TOTAL + 1);
    }
    println!(
        "recovered and delivered everything {:?} after the restart",
        restarted.elapsed()
    );
    drop(pg);
}
