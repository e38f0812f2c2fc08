//! The relay doorbell: in relay mode no writer's transaction NOTIFYs, the elected relay
//! rings for batches, and every change still streams exactly once, in seq order: across
//! mode switches under load, out-of-order commits, forged doorbells, a SIGKILLed relay
//! node and a Postgres restart.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::child_node::ChildNode;
use crate::helpers::*;

/// `showfeed doorbell [mode]` against the test's database, as an operator runs it.
fn doorbell_command(app: &TestApp, mode: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_showfeed"));
    cmd.arg("doorbell")
        .env("DATABASE_URL", connection_string(&app.database))
        .env("JWT_SECRET", app.secret())
        .env("RUST_LOG", "warn");
    if let Some(mode) = mode {
        cmd.arg(mode);
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "showfeed doorbell failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The backend pid of the session holding the relay lock in this test's database.
async fn relay_pid(app: &TestApp) -> i32 {
    let sql = app.sql().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let row = sql
            .query_opt(
                "select pid from pg_stat_activity where application_name = 'showfeed-relay' \
                 and datname = current_database() and pid in \
                 (select pid from pg_locks where locktype = 'advisory' and granted)",
                &[],
            )
            .await
            .unwrap();
        if let Some(row) = row {
            return row.get(0);
        }
        assert!(Instant::now() < deadline, "no session holds the relay lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Inserts one comment in its own transaction on `sql`.
async fn insert_one(sql: &impl tokio_postgres::GenericClient, show: Uuid, external_id: &str) {
    sql.execute(
        "insert into comments (show_id, external_id, author_id, author_name, text) \
         values ($1, $2, 'sql', 'SQL', $2)",
        &[&show, &external_id],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn in_relay_mode_writers_ring_no_doorbell_and_the_relay_rings_for_batches() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let printed = doorbell_command(&app, Some("relay"));
    assert!(printed.contains("doorbell: relay (was "), "{printed}");
    let relay = relay_pid(&app).await;
    let printed = doorbell_command(&app, None);
    assert!(printed.contains("mode: relay"), "{printed}");
    assert!(
        printed.contains(&format!("relay: held by pid {relay} (showfeed-relay)")),
        "{printed}"
    );

    let mut stream = app.stream(show, None).await;
    let start = stream.next().await.seq();
    let mut heard = app.listen().await;
    let writer = app.sql().await;
    let writer_pid: i32 = writer
        .query_one("select pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    const WRITES: i64 = 40;
    for i in 0..WRITES {
        insert_one(&writer, show, &format!("r{i}")).await;
    }
    let events = stream.until_seq(start + WRITES).await;
    assert_exact_seqs(&events, start + 1, start + WRITES);
    let notifications = heard.drain(Duration::from_millis(400)).await;
    assert!(
        notifications.iter().all(|n| n.process_id() != writer_pid),
        "a relay-mode writer's transaction sent a NOTIFY"
    );
    let from_relay = notifications
        .iter()
        .filter(|n| n.process_id() == relay && n.payload().contains(&show.to_string()))
        .count();
    assert!(from_relay >= 1, "the relay never rang for the show");
    assert!(
        (from_relay as i64) < WRITES,
        "{from_relay} doorbells for {WRITES} commits: the relay did not batch"
    );
    assert!(app.metric("relay_holder").await == 1.0);
    assert!(app.metric("relay_shows_rung_total").await >= 1.0);

    // And back: each writer rings for itself again.
    let printed = doorbell_command(&app, Some("trigger"));
    assert!(
        printed.contains("doorbell: trigger (was relay)"),
        "{printed}"
    );
    insert_one(&writer, show, "after").await;
    let n = heard
        .next_within(Duration::from_secs(5))
        .await
        .expect("a doorbell");
    assert_eq!(n.process_id(), writer_pid, "trigger mode: the writer rings");
    assert_eq!(n.payload(), show.to_string());
    assert_eq!(stream.next().await.seq(), start + WRITES + 1);
}

#[tokio::test]
async fn a_long_transaction_that_started_first_and_commits_last_is_delivered_in_seq_order() {
    let app = spawn_app().await;
    set_doorbell(&app.sql().await, "relay").await;
    let (quiet, busy) = (app.create_show("live").await, app.create_show("live").await);
    let mut quiet_stream = app.stream(quiet, None).await;
    let mut busy_stream = app.stream(busy, None).await;
    let quiet_start = quiet_stream.next().await.seq();
    let busy_start = busy_stream.next().await.seq();

    // The long one takes its transaction id first (by writing the quiet show) and holds it.
    let mut long = app.sql().await;
    let long = long.transaction().await.unwrap();
    insert_one(&long, quiet, "long-1").await;
    // Others start after it and commit before it, on both shows; the relay rings for
    // them while the long one is still in its snapshots' in-progress list.
    let short = app.sql().await;
    insert_one(&short, busy, "short-1").await;
    assert_eq!(busy_stream.next().await.seq(), busy_start + 1);
    // short-quiet waits on the show's counter lock the long transaction holds.
    let waiting = tokio::spawn(async move { insert_one(&short, quiet, "short-quiet").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    insert_one(&long, busy, "long-2").await;
    long.commit().await.unwrap();
    waiting.await.unwrap();

    // long-1 took the quiet show's first seq; short-quiet, which committed after it, the next.
    let events = quiet_stream.until_seq(quiet_start + 2).await;
    assert_exact_seqs(&events, quiet_start + 1, quiet_start + 2);
    assert_eq!(events[0].data["data"]["external_id"], "long-1");
    // On the busy show the long transaction's change came after a younger one's.
    let e = busy_stream.next().await;
    assert_eq!(e.seq(), busy_start + 2);
    assert_eq!(e.data["data"]["external_id"], "long-2");
}

#[tokio::test]
async fn a_younger_writer_committing_first_does_not_hide_an_older_ones_change() {
    // The relay's snapshot logic, on one show: the older transaction's xid is below the
    // younger's, its seq above (it wrote the show last).
    let app = spawn_app().await;
    set_doorbell(&app.sql().await, "relay").await;
    let (show, elsewhere) = (app.create_show("live").await, app.create_show("live").await);
    let mut stream = app.stream(show, None).await;
    let start = stream.next().await.seq();
    let mut older = app.sql().await;
    let older = older.transaction().await.unwrap();
    insert_one(&older, elsewhere, "takes-an-xid").await;
    let younger = app.sql().await;
    insert_one(&younger, show, "younger").await;
    assert_eq!(stream.next().await.seq(), start + 1);
    // Let the relay look (and move its snapshot past the younger one) a few times.
    tokio::time::sleep(Duration::from_millis(100)).await;
    insert_one(&older, show, "older").await;
    older.commit().await.unwrap();
    let e = stream.next().await;
    assert_eq!(e.seq(), start + 2);
    assert_eq!(e.data["data"]["external_id"], "older");
}

#[tokio::test]
async fn a_forged_doorbell_on_the_relay_channel_costs_at_most_a_read() {
    let app = spawn_app().await;
    let sql = app.sql().await;
    set_doorbell(&sql, "relay").await;
    let show = app.create_show("live").await;
    let mut stream = app.stream(show, None).await;
    let start = stream.next().await.seq();
    // Let the relay's own first "look at the log" pass.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reads_before = app.metric("fetch_queries_total").await;
    let ignored_before = app.metric("notifications_ignored_total").await;
    let many: Vec<String> = (0..150).map(|_| Uuid::new_v4().to_string()).collect();
    for payload in [
        "*".to_owned(),
        format!("{show},{}", Uuid::new_v4()),
        many.join(","),
        format!("{show},not-a-show"),
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
    let reads = app.metric("fetch_queries_total").await - reads_before;
    // Three of the four name the one subscribed show (or all shows); unknown ids cost nothing.
    assert!(reads <= 3.0, "forged doorbells cost {reads} reads");
    assert!(app.metric("notifications_ignored_total").await > ignored_before);

    insert_one(&sql, show, "real").await;
    let e = stream.next().await;
    assert_eq!(e.seq(), start + 1);
    assert_eq!(e.data["data"]["text"], "real");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn switching_modes_under_load_loses_and_delays_nothing() {
    let app = Arc::new(spawn_app().await);
    let show = app.create_show("live").await;
    let mut stream = app.stream(show, None).await;
    let start = stream.next().await.seq();
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (app, stop, written) = (app.clone(), stop.clone(), written.clone());
            tokio::spawn(async move {
                let sql = app.sql().await;
                let mut i = 0;
                while !stop.load(Relaxed) {
                    insert_one(&sql, show, &format!("w{w}-{i}")).await;
                    written.fetch_add(1, Relaxed);
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        })
        .collect();
    let switcher = app.sql().await;
    for mode in [
        "relay", "trigger", "relay", "trigger", "relay", "trigger", "relay",
    ] {
        tokio::time::sleep(Duration::from_millis(150)).await;
        set_doorbell(&switcher, mode).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.store(true, Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let total = written.load(Relaxed) as i64;
    let stopped = Instant::now();
    let events = stream.until_seq(start + total).await;
    let late = stopped.elapsed();
    assert_exact_seqs(&events, start + 1, start + total);
    // No change waits past a heartbeat (the relay's longest idle interval is 100 ms).
    assert!(
        late < Duration::from_secs(2),
        "the last change came {late:?} after the writes"
    );
    println!("{total} changes across 7 switches, the last {late:?} after the writes stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_relays_node_hands_the_relay_over_and_loses_nothing() {
    hand_the_relay_over_under_load(libc::SIGKILL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_relay_is_deposed_by_another_node_and_loses_nothing() {
    // SIGSTOP: the holder's session lives on (the kernel answers for it), so its lock
    // would never free; the waiter must end it.
    hand_the_relay_over_under_load(libc::SIGSTOP).await;
}

/// A database in relay mode with a live show, and two child nodes (with `env`) standing
/// in the relay election; the in-process node stands down, so the relay is one of the two.
async fn relay_election(env: &[(&str, &str)]) -> (TestApp, Uuid, [ChildNode; 2]) {
    let app = spawn_app_with(|config| config.relay.relay = false).await;
    set_doorbell(&app.sql().await, "relay").await;
    let show = app.create_show("live").await;
    let nodes = [
        ChildNode::start(&app, env).await,
        ChildNode::start(&app, env).await,
    ];
    (app, show, nodes)
}

/// Which of `nodes` holds the relay (waiting up to 10 s for one to).
async fn relay_among(nodes: &[ChildNode]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for (i, node) in nodes.iter().enumerate() {
            if node.metric("relay_holder").await == 1.0 {
                return i;
            }
        }
        assert!(Instant::now() < deadline, "no node became the relay");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_live_relay_is_never_deposed_busy_or_idle() {
    // Past the 10 s hold, so the relay's looks back off to their longest interval (150 ms
    // here: the frozen threshold is then its 3 s floor); a waiter asks every second.
    let (app, show, nodes) = relay_election(&[("RELAY_POLL_MAX_MS", "150")]).await;
    let holder = relay_among(&nodes).await;
    let session = relay_pid(&app).await;
    let sql = app.sql().await;
    for i in 0..20 {
        insert_one(&sql, show, &format!("busy{i}")).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(13)).await;
    assert_eq!(
        relay_pid(&app).await,
        session,
        "the relay's session was ended although its node never stopped"
    );
    for node in &nodes {
        assert_eq!(
            node.metric("relay_deposed_total").await,
            0.0,
            "a waiter ended a live relay's session"
        );
    }
    assert_eq!(
        nodes[holder].metric("relay_holder").await,
        1.0,
        "the relay moved although its node never stopped"
    );
    let mut stream = nodes[1 - holder].stream(&app.token, show).await;
    let start = stream.next().await.seq();
    insert_one(&sql, show, "after the quiet").await;
    assert_eq!(
        stream.next().await.seq(),
        start + 1,
        "the idle relay still rings"
    );
}

/// Two child nodes in the relay election, a writer in relay mode, a subscriber on one
/// node; `fault` hits the relay's node under load. The other node must take the relay
/// over and its subscriber get every change once, in order. After a SIGSTOP the frozen
/// node is woken and must stand back as a waiter, with the new relay still ringing.
async fn hand_the_relay_over_under_load(fault: i32) {
    let (app, show, nodes) = relay_election(&[]).await;
    let holder = relay_among(&nodes).await;
    let survivor = &nodes[1 - holder];
    let mut stream = survivor.stream(&app.token, show).await;
    let start = stream.next().await.seq();

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, written, sql) = (stop.clone(), written.clone(), app.sql().await);
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Relaxed) {
                insert_one(&sql, show, &format!("f{i}")).await;
                written.fetch_add(1, Relaxed);
                i += 1;
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    nodes[holder].signal(fault);
    let hit = Instant::now();
    let took_over = loop {
        if survivor.metric("relay_holder").await == 1.0 {
            break hit.elapsed();
        }
        assert!(
            hit.elapsed() < Duration::from_secs(15),
            "no node took the relay over"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    if fault == libc::SIGSTOP {
        assert_eq!(
            survivor.metric("relay_deposed_total").await,
            1.0,
            "the survivor ended the frozen relay's session"
        );
        nodes[holder].signal(libc::SIGCONT);
        let deadline = Instant::now() + Duration::from_secs(10);
        while nodes[holder].metric("relay_holder").await != 0.0 {
            assert!(
                Instant::now() < deadline,
                "the woken node still says it holds the relay"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            survivor.metric("relay_holder").await,
            1.0,
            "the relay stays with the node that took it over"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Relaxed);
    writer.await.unwrap();
    let total = written.load(Relaxed) as i64;
    let events = stream.until_seq(start + total).await;
    assert_exact_seqs(&events, start + 1, start + total);
    println!(
        "the relay was taken over {took_over:?} after signal {fault} to its node; {total} changes, each once"
    );
}

#[tokio::test]
async fn the_relay_keeps_ringing_across_a_postgres_restart() {
    crate::scale::restart_postgres_under_load("relay").await;
}
