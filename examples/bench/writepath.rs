//! The write path: what the doorbell costs writers. Run side by side in one run, on one
//! database: (a) the trigger doorbell (each writer's transaction NOTIFYs) and (b) relay mode
//! (`showfeed_doorbell.mode = 'relay'`: writers ring nothing, the server's relay rings for
//! batches), each with 1, 3 and 10 nodes LISTENing (the server, plus bare LISTEN
//! connections standing in for other nodes).
//!
//! In each cell 16 SQL writers insert single-row comments, one per transaction, each on
//! its own show, as fast as they can: commits/s and the insert round trip. One SSE
//! subscriber per show on the server measures commit -> client (the event's exact commit
//! time to its arrival here). A last cell per mode runs the writers at a moderate fixed
//! rate with 3 listeners, where latency, not throughput, is the question.
//!
//! Each cell's figures are of its steady state: the writers run [`WARM_UP`] before the
//! measured seconds (a relay that found nothing in the previous, trigger-mode cell has
//! backed off to its longest interval, and that first wait is not the steady state's).
//! What the first change after a quiet spell waits is its own figure, `after_idle`,
//! measured in the moderate cells: [`IDLE_SAMPLES`] single writes, each after [`IDLE`]
//! with no write at all.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_postgres::NoTls;
use tokio_util::sync::CancellationToken;

use crate::hist::Hist;
use crate::{Bench, Clients, Latency};

/// SQL writers, one show each.
const WRITERS: usize = 16;

/// The listening-node counts of the throughput cells.
const LISTENERS: [usize; 3] = [1, 3, 10];

/// Writes before each cell's measured seconds (none of them counted).
const WARM_UP: Duration = Duration::from_secs(2);

/// The quiet spell before each `after_idle` write: longer than the relay's hold at its
/// shortest interval (10 s; 1 s before the hold was lengthened) plus its back-off to the
/// longest.
const IDLE: Duration = Duration::from_secs(12);

/// `after_idle` writes per moderate cell.
const IDLE_SAMPLES: usize = 4;

const INSERT: &str = "insert into comments (show_id, external_id, author_id, author_name, text) \
                      values ($1, $2, 'writer', 'Writer', 'write path')";

/// One cell's figures.
#[derive(Debug, Clone, serde::Serialize)]
struct Cell {
    mode: &'static str,
    listeners: usize,
    /// Target commits/s over all writers (None: as fast as they can).
    target_rate: Option<f64>,
    commits: u64,
    commits_per_sec: f64,
    errors: u64,
    insert: Latency,
    commit_to_client: Latency,
    /// Commit -> client of a single write after [`IDLE`] without writes (moderate cells).
    after_idle: Option<Latency>,
    /// Notifications the server's listener received per second (the doorbells' shape).
    notifications_per_sec: f64,
    /// Changes still not at the subscribers when the drain wait ended.
    undelivered: u64,
    /// CPU during the writes: Postgres's, the server's, the generator's, the machine's.
    /// (The machine's busy cores say whether a cell was bound by CPU or by a lock.)
    cpu: crate::procfs::CpuUse,
}

/// Runs every cell; `seconds` each.
pub async fn run(b: &Bench, seconds: u64, moderate_rate: f64) -> anyhow::Result<Value> {
    let has_relay = b
        .probe
        .query_opt(
            "select 1 from pg_tables where tablename = 'showfeed_doorbell'",
            &[],
        )
        .await?
        .is_some();
    if !has_relay {
        eprintln!("writepath: this server has no relay doorbell; trigger mode only");
    }
    let modes: &[&'static str] = if has_relay {
        &["trigger", "relay"]
    } else {
        &["trigger"]
    };
    // The modes alternate cell by cell, so a drift of the shared machine's load over the
    // run does not favour one.
    let mut plan: Vec<(usize, Option<f64>)> = LISTENERS.iter().map(|&l| (l, None)).collect();
    plan.push((3, Some(moderate_rate)));
    let mut cells = Vec::new();
    for (listeners, rate) in plan {
        for &mode in modes {
            if has_relay {
                b.probe
                    .execute("update showfeed_doorbell set mode = $1", &[&mode])
                    .await
                    .context("switching the doorbell mode")?;
            }
            cells.push(cell(b, mode, listeners, rate, seconds).await?);
        }
    }
    if has_relay {
        b.probe
            .execute("update showfeed_doorbell set mode = 'trigger'", &[])
            .await?;
    }
    Ok(json!({ "writers": WRITERS, "seconds": seconds, "cells": cells }))
}

/// Bare LISTEN connections standing in for other nodes; each drains its notifications.
async fn listen(
    b: &Bench,
    n: usize,
    stop: &CancellationToken,
) -> anyhow::Result<Vec<tokio_postgres::Client>> {
    let mut clients = Vec::new();
    for _ in 0..n {
        let (client, mut connection) = tokio_postgres::connect(&b.db.url, NoTls).await?;
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    m = messages.next() => if !matches!(m, Some(Ok(_))) { return },
                }
            }
        });
        client.batch_execute("listen show_changes").await?;
        clients.push(client);
    }
    Ok(clients)
}

async fn cell(
    b: &Bench,
    mode: &'static str,
    listeners: usize,
    rate: Option<f64>,
    seconds: u64,
) -> anyhow::Result<Cell> {
    let stop = CancellationToken::new();
    let _bare = listen(b, listeners - 1, &stop).await?;
    let shows = b.create_shows(WRITERS, "write path").await?;
    let mut clients = Clients::new(shows.clone());
    clients
        .add_sse(&b.server, WRITERS, WRITERS, Duration::from_secs(30))
        .await;
    let start_seqs = crate::server::last_seqs(&b.probe, &shows).await?;
    let insert_latency = Arc::new(Hist::new());
    // Commits in the measured seconds, and all of them (the warm-up's too) for the check
    // that each made one change.
    let (commits, all_commits, errors) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let measure_from = Instant::now() + WARM_UP;
    let until = measure_from + Duration::from_secs(seconds);
    let mut writers = Vec::new();
    for (w, show) in shows.iter().copied().enumerate() {
        let sql = crate::server::connect(&b.db.url).await?;
        let (latency, commits, all_commits, errors) = (
            insert_latency.clone(),
            commits.clone(),
            all_commits.clone(),
            errors.clone(),
        );
        let period = rate.map(|r| Duration::from_secs_f64(WRITERS as f64 / r));
        writers.push(tokio::spawn(async move {
            let mut ticker = period.map(|p| {
                let mut t = tokio::time::interval_at(
                    tokio::time::Instant::now() + p.mul_f64(w as f64 / WRITERS as f64),
                    p,
                );
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            });
            let mut i = 0u64;
            while Instant::now() < until {
                if let Some(t) = ticker.as_mut() {
                    t.tick().await;
                }
                let external = format!("wp-{mode}-{listeners}-{w}-{i}");
                let started = Instant::now();
                match sql.execute(INSERT, &[&show, &external]).await {
                    Ok(_) => {
                        all_commits.fetch_add(1, Relaxed);
                        if started >= measure_from {
                            latency.record(started.elapsed().as_micros() as u64);
                            commits.fetch_add(1, Relaxed);
                        }
                    }
                    Err(_) if started >= measure_from => {
                        errors.fetch_add(1, Relaxed);
                    }
                    Err(_) => {}
                }
                i += 1;
            }
        }));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    clients.stats.latency.take();
    let notifications_before = b.metric("showfeed_notifications_total").await;
    let started = Instant::now();
    let cpu_before = b.marks();
    for w in writers {
        w.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = b.marks().since(&cpu_before);
    let end_seqs = crate::server::last_seqs(&b.probe, &shows).await?;
    let undelivered = clients
        .wait_caught_up(&end_seqs, Duration::from_secs(15))
        .await;
    let notifications = b.metric("showfeed_notifications_total").await - notifications_before;
    let commit_to_client = Latency::of(&clients.stats.latency.take());
    let after_idle = match rate {
        Some(_) => Some(after_idle(b, &clients, &shows).await?),
        None => None,
    };
    clients.stop().await;
    stop.cancel();
    let commits = commits.load(Relaxed);
    let all_commits = all_commits.load(Relaxed) + after_idle.as_ref().map_or(0, |l| l.samples);
    let final_seqs = crate::server::last_seqs(&b.probe, &shows).await?;
    let changes: i64 = final_seqs.iter().zip(&start_seqs).map(|(e, s)| e - s).sum();
    anyhow::ensure!(
        changes as u64 == all_commits,
        "{changes} changes for {all_commits} commits"
    );
    let cell = Cell {
        mode,
        listeners,
        target_rate: rate,
        commits,
        commits_per_sec: commits as f64 / elapsed,
        errors: errors.load(Relaxed),
        insert: Latency::of(&insert_latency.take()),
        commit_to_client,
        after_idle,
        notifications_per_sec: notifications / elapsed,
        undelivered,
        cpu,
    };
    eprintln!(
        "writepath {mode:>7} listeners {listeners:>2} rate {:>6}: {:>7.0} commits/s, insert p50 {:?} p99 {:?} ms, commit->client p50 {:?} p99 {:?} ms, {:.0} notifications/s",
        rate.map_or("max".to_owned(), |r| format!("{r:.0}")),
        cell.commits_per_sec,
        cell.insert.p50_ms,
        cell.insert.p99_ms,
        cell.commit_to_client.p50_ms,
        cell.commit_to_client.p99_ms,
        cell.notifications_per_sec,
    );
    Ok(cell)
}

/// Commit -> client of [`IDLE_SAMPLES`] single writes, each after [`IDLE`] with none.
async fn after_idle(b: &Bench, clients: &Clients, shows: &[uuid::Uuid]) -> anyhow::Result<Latency> {
    let sql = crate::server::connect(&b.db.url).await?;
    let samples = Hist::new();
    for i in 0..IDLE_SAMPLES {
        tokio::time::sleep(IDLE).await;
        clients.stats.latency.take();
        sql.execute(INSERT, &[&shows[0], &format!("wp-idle-{i}")])
            .await
            .context("an after-idle write")?;
        let seqs = crate::server::last_seqs(&b.probe, shows).await?;
        let missing = clients.wait_caught_up(&seqs, Duration::from_secs(5)).await;
        anyhow::ensure!(missing == 0, "an after-idle write did not arrive in 5 s");
        let arrival = clients.stats.latency.take();
        samples.record(arrival.max);
    }
    Ok(Latency::of(&samples.take()))
}
