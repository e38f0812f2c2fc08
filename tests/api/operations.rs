//! Running it: analysts' roles and views, the NOTIFY queue watchdog, retention.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::child_node::ChildNode;
use crate::helpers::*;

const ANALYST_SQL: &str = include_str!("../../sql/analyst.sql");

#[tokio::test]
async fn analysts_read_the_views_and_a_fixers_sql_writes_stream_live() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    assert_eq!(app.put_item(show, 7, 2).await.status(), 201);
    app.comment(show, "ann", "sold 7").await;
    app.comment(show, "bob", "sold 7").await;
    app.comment(show, "cid", "sold 7").await;
    app.comment(show, "dan", "lovely!").await;
    app.sql()
        .await
        .batch_execute(ANALYST_SQL)
        .await
        .expect("sql/analyst.sql runs");

    // The read-only analyst: views work, writes do not, heavy queries time out.
    let analyst = app.sql_as("showfeed_analyst").await;
    let row = analyst
        .query_one(
            "select comments, claims, units_sold, claim_rate::float8, peak_comments_per_minute \
             from show_summary where show_id = $1",
            &[&show],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 4);
    assert_eq!(row.get::<_, i64>(1), 3);
    assert_eq!(row.get::<_, i64>(2), 2, "two units claimed, one waitlisted");
    assert_eq!(row.get::<_, f64>(3), 0.75);
    assert_eq!(row.get::<_, i64>(4), 4);
    let refused = analyst
        .execute("update claims set status = 'paid'", &[])
        .await;
    assert!(refused.is_err(), "the analyst role cannot write");
    let timeout = analyst
        .query_one("show statement_timeout", &[])
        .await
        .unwrap();
    assert_eq!(timeout.get::<_, String>(0), "30s");

    // The fixer marks a claim paid with plain SQL: operators see it live.
    let mut stream = app.stream(show, None).await;
    let initial = stream.next().await;
    let fixer = app.sql_as("showfeed_fixer").await;
    fixer
        .execute(
            "update claims set status = 'paid', updated_at = now() \
             where show_id = $1 and buyer_id = 'ann'",
            &[&show],
        )
        .await
        .unwrap();
    let e = stream.next().await;
    assert_eq!(e.event, "claim.updated");
    assert_eq!(e.seq(), initial.seq() + 1);
    assert_eq!(e.data["actor"], "showfeed_fixer");
    assert_eq!(e.data["data"]["status"], "paid");
    for forbidden in [
        "insert into show_changes (show_id, seq, entity, op, row_id, data, actor) \
         select show_id, 999, 'claim', 'update', 'x', '{}', 'me' from shows limit 1",
        "update shows set last_seq = 0",
        "delete from show_changes",
        "truncate show_changes",
    ] {
        let r = fixer.batch_execute(forbidden).await;
        assert!(r.is_err(), "the fixer must not run: {forbidden}");
    }

    let funnel = analyst
        .query_one(
            "select claims, claimed, waitlisted, paid, first_claim_to_paid is not null \
             from item_claim_funnel where show_id = $1 and item_number = 7",
            &[&show],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            funnel.get::<_, i64>(0),
            funnel.get::<_, i64>(1),
            funnel.get::<_, i64>(2),
            funnel.get::<_, i64>(3)
        ),
        (3, 1, 1, 1)
    );
    assert!(funnel.get::<_, bool>(4));
    let revenue = analyst
        .query_one(
            "select revenue_cents from show_summary where show_id = $1",
            &[&show],
        )
        .await
        .unwrap();
    assert_eq!(
        revenue.get::<_, i64>(0),
        1000,
        "one paid claim at the item's price"
    );
    let described = analyst
        .query_one(
            "select description, actor from change_log where show_id = $1 order by seq desc limit 1",
            &[&show],
        )
        .await
        .unwrap();
    assert_eq!(described.get::<_, String>(0), "ann is paid on item 7");
    assert_eq!(described.get::<_, String>(1), "showfeed_fixer");
}

#[tokio::test]
async fn the_watchdog_terminates_the_listener_of_a_frozen_node_when_the_queue_fills() {
    let app = spawn_app_with(|c| {
        c.listener.listener_ping_secs = 1;
        c.listener.listener_stale_secs = 3;
    })
    .await;
    let frozen = ChildNode::start(&app, &[("LISTENER_PING_SECS", "1")]).await;
    let sql = app.sql().await;
    let listeners = "select count(*) from pg_stat_activity \
                     where application_name = 'showfeed-listener' and datname = current_database()";
    assert_eq!(
        sql.query_one(listeners, &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        2
    );

    frozen.signal(libc::SIGSTOP);
    tokio::time::sleep(Duration::from_secs(4)).await;
    // 28 MB of notifications (distinct payloads are not folded): the frozen node's backend
    // fills its socket and stops consuming, so the cluster-wide queue grows.
    for _ in 0..2 {
        sql.batch_execute(
            "select pg_notify('show_changes', g::text || repeat('x', 7000)) from generate_series(1, 2000) g",
        )
        .await
        .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.metric("stuck_listeners_terminated_total").await < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the watchdog did not act within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        sql.query_one(listeners, &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        1,
        "only the frozen node's listener was terminated"
    );
    assert!(app.metric("notify_queue_usage").await >= 0.0);
    assert_eq!(
        app.metric("listener_reconnects_total").await,
        0.0,
        "the healthy listener was left alone"
    );
    // Thawed, the node notices and reconnects by itself.
    frozen.signal(libc::SIGCONT);
    let deadline = Instant::now() + Duration::from_secs(20);
    while sql
        .query_one(listeners, &[])
        .await
        .unwrap()
        .get::<_, i64>(0)
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "the thawed node did not reconnect"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn stalled_subscribers_never_hold_up_the_listener() {
    let app = spawn_app_with(|c| c.feed.subscriber_buffer = 16).await;
    let show = app.create_show("live").await;
    // Ten subscribers that never read (their sockets fill up).
    let mut stalled = Vec::new();
    for _ in 0..10 {
        let r = app.raw_stream(show).await;
        stalled.push(r);
    }
    let before = app.metric("notifications_total").await;
    const COMMITS: usize = 300;
    let text = "y".repeat(4000);
    for i in 0..COMMITS {
        let body = json!({"external_id": format!("c{i}"), "author_id": "a", "text": text});
        assert_eq!(
            app.post(&format!("/api/shows/{show}/comments"), &body)
                .await
                .status(),
            201
        );
    }
    // Every commit's doorbell was consumed, and a new subscriber is current at once.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.metric("notifications_total").await < before + COMMITS as f64 {
        assert!(
            Instant::now() < deadline,
            "the listener fell behind the commits"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut fresh = app.stream(show, None).await;
    assert_eq!(fresh.next().await.seq(), COMMITS as i64);
    app.comment(show, "z", "after").await;
    assert_eq!(fresh.next().await.seq(), COMMITS as i64 + 1);
    drop(stalled);
}

#[tokio::test]
async fn prune_removes_old_changes_and_too_old_resumes_get_a_fresh_initial() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    for i in 0..5 {
        app.comment(show, "ann", &format!("c{i}")).await;
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_showfeed"))
        .args(["prune", "--older-than-days", "0"])
        .env("DATABASE_URL", connection_string(&app.database))
        .env("JWT_SECRET", app.secret())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("5 change(s)"));
    let sql = app.sql().await;
    assert_eq!(
        sql.query_one("select count(*) from show_changes", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0
    );

    // A resume from before the cut cannot be replayed: a fresh initial, with all data.
    let second = spawn_second_node(&app).await;
    let mut s = second.stream(show, Some("2")).await;
    let e = s.next().await;
    assert_eq!(e.event, "initial");
    assert_eq!(e.seq(), 5);
    assert_eq!(e.data["comments"].as_array().unwrap().len(), 5);
    app.comment(show, "bob", "after the prune").await;
    assert_eq!(s.next().await.seq(), 6, "seq continues after a prune");
}

#[tokio::test]
async fn metrics_exposes_every_name_with_its_type_in_the_prometheus_text_format() {
    let app = spawn_app().await;
    let response = app.api.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    let counters = [
        "notifications_total",
        "notifications_ignored_total",
        "frames_sent_total",
        "bytes_sent_total",
        "gap_repairs_total",
        "listener_reconnects_total",
        "lagged_subscribers_total",
        "catchups_from_ring_total",
        "snapshots_shared_total",
        "stuck_listeners_terminated_total",
        "snapshot_queries_total",
        "snapshot_queries_seconds_total",
        "catchup_queries_total",
        "catchup_queries_seconds_total",
        "fetch_queries_total",
        "fetch_queries_seconds_total",
    ];
    let gauges = [
        "subscribers",
        "listener_up",
        "notify_queue_usage",
        "pool_size",
        "pool_available",
        "pool_waiting",
    ];
    let typed = counters
        .iter()
        .map(|n| (*n, "counter"))
        .chain(gauges.iter().map(|n| (*n, "gauge")));
    for (name, kind) in typed {
        let name = format!("showfeed_{name}");
        assert!(
            text.lines().any(|l| l == format!("# TYPE {name} {kind}")),
            "{name} is a {kind}:\n{text}"
        );
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} has a sample:\n{text}"));
        assert!(value.parse::<f64>().is_ok(), "{name} {value}");
    }
    assert!(text
        .lines()
        .any(|l| l == "# TYPE showfeed_http_responses_total counter"));
    for class in ["1xx", "2xx", "3xx", "4xx", "5xx"] {
        let series = format!("showfeed_http_responses_total{{class=\"{class}\"}} ");
        assert!(
            text.lines().any(|l| l.starts_with(&series)),
            "{series}:\n{text}"
        );
    }
}
