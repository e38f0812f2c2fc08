//! Chaos soak: three `showfeed` nodes on one embedded Postgres, thousands of recording
//! SSE subscribers, writers through the API and plain SQL, and a random fault every few
//! seconds. Each fault's recovery is timed with a probe write to every show; at the end
//! every subscriber's events are checked against `show_changes`. See docs/CHAOS.md.
//!
//! cargo run --release --example chaos -- [--seconds N] [--subscribers N] [--shows S]

// The benchmark's modules are shared, not all of their functions are used here.
#[allow(dead_code)]
#[path = "../bench/hist.rs"]
mod hist;
#[allow(dead_code)]
#[path = "../bench/procfs.rs"]
mod procfs;
#[allow(dead_code)]
#[path = "../bench/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "../bench/sse.rs"]
mod sse;

mod check;
mod cluster;
mod faults;
mod subscriber;
mod writers;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use rand::seq::SliceRandom;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use cluster::Cluster;
use faults::Fault;
use subscriber::{Shared, Sub};

#[derive(Parser, Debug)]
#[command(about = "Chaos soak for showfeed (see docs/CHAOS.md)")]
struct Args {
    /// How long faults are injected.
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// Short CI run (same as --seconds 60).
    #[arg(long)]
    quick: bool,
    /// SSE subscribers, spread over shows and nodes.
    #[arg(long, default_value_t = 2000)]
    subscribers: usize,
    /// Shows.
    #[arg(long, default_value_t = 20)]
    shows: usize,
    /// Server nodes.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Seconds between the end of one fault's recovery and the next fault.
    #[arg(long, default_value_t = 5)]
    fault_every: u64,
    /// Background writes per second (API and SQL together).
    #[arg(long, default_value_t = 4.0)]
    rate: f64,
    /// Seconds a fault may take to recover before the run fails.
    #[arg(long, default_value_t = 60)]
    recovery_timeout: u64,
    /// Every this-many-th subscriber is a slow one (small buffer, pauses on the fault).
    #[arg(long, default_value_t = 100)]
    slow_every: usize,
    /// Server logs go here.
    #[arg(long, default_value = "target/chaos")]
    out: PathBuf,
    /// A prebuilt server binary (default: build the release one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// The doorbell mode the soak runs in: `trigger` (writers NOTIFY) or `relay` (the
    /// elected node rings; node kills then also kill the relay).
    #[arg(long, default_value = "trigger", value_parser = ["trigger", "relay"])]
    doorbell: String,
}

/// One injected fault and how it went.
struct Record {
    fault: Fault,
    /// None: not recovered within the timeout.
    recovery: Option<Duration>,
    /// For a fault on the relay's node: until another node held the relay lock (the
    /// doorbell's pause).
    relay_takeover: Option<Duration>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let seconds = if args.quick { 60 } else { args.seconds };
    procfs::raise_fd_limit(200_000);
    std::fs::create_dir_all(&args.out).context("creating the output directory")?;
    let bin = server::server_binary(args.server_bin.clone())?;
    let db = server::Database::open(false).await?;
    let url = db.url.clone();
    let mut cluster = Cluster::start(bin, db, args.nodes.max(1), args.out.clone()).await?;
    server::connect(&url)
        .await?
        .execute("update showfeed_doorbell set mode = $1", &[&args.doorbell])
        .await
        .context("setting the doorbell mode")?;
    eprintln!(
        "chaos: nodes on {:?}, doorbell {}",
        cluster.addrs, args.doorbell
    );

    let (admin_token, viewer_token) = {
        let any = cluster.any()?;
        (any.admin_token.clone(), any.viewer_token.clone())
    };
    let mut shows = Vec::new();
    for i in 0..args.shows.max(1) {
        shows.push(cluster.any()?.create_show(&format!("chaos {i}")).await?);
    }
    let shows = Arc::new(shows);
    let stop_subs = CancellationToken::new();
    let shared = Arc::new(Shared {
        nodes: cluster.addrs.clone(),
        paths: shows
            .iter()
            .map(|id| format!("/api/shows/{id}/stream?access_token={viewer_token}"))
            .collect(),
        next_node: AtomicUsize::new(0),
        stop: stop_subs.clone(),
    });
    let slow_every = args.slow_every.max(1);
    let subs: Vec<Arc<Sub>> = (0..args.subscribers)
        .map(|i| Sub::new(i % shows.len(), i % slow_every == slow_every - 1))
        .collect();
    let mut tasks = Vec::new();
    for (i, sub) in subs.iter().enumerate() {
        tasks.push(tokio::spawn(subscriber::run(
            sub.clone(),
            shared.clone(),
            i,
        )));
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Everyone has its initial before the first fault.
    wait_until(Duration::from_secs(60), || {
        subs.iter().all(|s| s.last.load(Relaxed) >= 0)
    })
    .await
    .context("not every subscriber got its initial within 60 s")?;
    eprintln!("chaos: {} subscribers connected", subs.len());

    let api = Arc::new(writers::Api::new(cluster.addrs.clone(), admin_token)?);
    let sql = Arc::new(writers::Sql::new(&cluster.db.url));
    let stop_writers = CancellationToken::new();
    let writer = tokio::spawn(writers::drive(
        api,
        sql.clone(),
        shows.clone(),
        args.rate,
        stop_writers.clone(),
    ));

    let timeout = Duration::from_secs(args.recovery_timeout);
    let started = Instant::now();
    let mut records = Vec::new();
    let mut round: Vec<Fault> = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(args.fault_every)).await;
        // Every kind once per round, in a random order, so even a short run sees them all.
        if round.is_empty() {
            round = faults::ALL.to_vec();
            round.shuffle(&mut rand::thread_rng());
            // In relay mode the relay's own death comes first (faults are popped from the
            // end), so even CI's short run measures a takeover.
            if args.doorbell == "relay" && records.is_empty() {
                round.retain(|f| *f != Fault::KillRelay);
                round.push(Fault::KillRelay);
            }
        }
        let fault = round.pop().context("no faults")?;
        let injected = Instant::now();
        let done = match faults::inject(fault, &mut cluster, &sql, &subs, &shows).await {
            Ok(done) => done,
            Err(e) => {
                eprintln!("chaos: injecting {}: {e:#}", fault.name());
                records.push(Record {
                    fault,
                    recovery: None,
                    relay_takeover: None,
                });
                continue;
            }
        };
        // The slow subscribers' fault lasts its whole pause: time their catch-up from its end.
        let from = if fault == Fault::SlowSubscriber {
            Instant::now()
        } else {
            injected
        };
        let recovery = recover(&sql, &shows, &subs, from, timeout).await;
        eprintln!(
            "chaos: t={:>4}s {}: {}",
            started.elapsed().as_secs(),
            done.what,
            match recovery {
                Some(d) => format!("recovered in {} ms", d.as_millis()),
                None => "NOT recovered".into(),
            }
        );
        records.push(Record {
            fault,
            recovery,
            relay_takeover: done.relay_takeover,
        });
    }

    stop_writers.cancel();
    let counts = writer.await.context("writer task")?;
    // Quiescence: a final probe that everyone must reach, so nothing is still in flight.
    let quiet = recover(&sql, &shows, &subs, Instant::now(), timeout).await;
    stop_subs.cancel();
    for task in tasks {
        let _ = task.await;
    }

    let client = sql.get().await?;
    let mut outcome = check::Outcome::default();
    let mut logs = Vec::new();
    for &show in shows.iter() {
        let rows = client
            .query(
                "select seq from show_changes where show_id = $1 order by seq",
                &[&show],
            )
            .await
            .context("reading show_changes")?;
        logs.push(rows.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>());
    }
    for sub in &subs {
        outcome.add(&check::check(&sub.events(), &logs[sub.show]));
    }
    let reconnects: u64 = subs.iter().map(|s| s.reconnects.load(Relaxed)).sum();
    let committed: usize = logs.iter().map(Vec::len).sum();

    let table = report(&records, &outcome);
    println!("{table}");
    println!(
        "\n{} subscribers, {} shows, {} nodes, {seconds} s; changes committed {committed}; \
         writes ok {} / failed {}; reconnects {reconnects}; final quiescence {}",
        subs.len(),
        shows.len(),
        cluster.addrs.len(),
        counts.ok,
        counts.errors,
        match quiet {
            Some(d) => format!("{} ms", d.as_millis()),
            None => "NOT reached".into(),
        }
    );
    cluster.stop();

    let unrecovered = records.iter().filter(|r| r.recovery.is_none()).count();
    anyhow::ensure!(
        outcome.lost == 0 && outcome.duplicated == 0 && outcome.out_of_order == 0,
        "delivery errors: lost {}, duplicated {}, out-of-order {}",
        outcome.lost,
        outcome.duplicated,
        outcome.out_of_order
    );
    anyhow::ensure!(
        unrecovered == 0 && quiet.is_some(),
        "{unrecovered} faults did not recover"
    );
    Ok(())
}

/// Writes a probe to every show and waits until every subscriber has seen it; returns
/// the time since `since` (the fault's injection), or None after `timeout`.
async fn recover(
    sql: &writers::Sql,
    shows: &[Uuid],
    subs: &[Arc<Sub>],
    since: Instant,
    timeout: Duration,
) -> Option<Duration> {
    let seqs = match writers::probe(sql, shows, timeout).await {
        Ok(seqs) => seqs,
        Err(e) => {
            eprintln!("chaos: probe failed: {e:#}");
            return None;
        }
    };
    let left = timeout.saturating_sub(since.elapsed());
    wait_until(left, || {
        subs.iter().all(|s| s.last.load(Relaxed) >= seqs[s.show])
    })
    .await
    .ok()?;
    Some(since.elapsed())
}

/// Polls `done` every 50 ms until it holds or `limit` passes.
async fn wait_until(limit: Duration, done: impl Fn() -> bool) -> anyhow::Result<()> {
    let until = Instant::now() + limit;
    while !done() {
        anyhow::ensure!(Instant::now() < until, "timed out after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The Markdown result: recovery per fault kind, then the delivery check.
fn report(records: &[Record], o: &check::Outcome) -> String {
    let mut by_kind: BTreeMap<Fault, Vec<Option<Duration>>> = BTreeMap::new();
    for r in records {
        by_kind.entry(r.fault).or_default().push(r.recovery);
    }
    let mut s = String::from(
        "| fault | injected | recovered | recovery max ms | recovery median ms |\n\
         |---|---:|---:|---:|---:|\n",
    );
    for kind in faults::ALL {
        let Some(list) = by_kind.get(&kind) else {
            s += &format!("| {} | 0 | 0 | - | - |\n", kind.name());
            continue;
        };
        let mut ms: Vec<u128> = list.iter().flatten().map(Duration::as_millis).collect();
        ms.sort_unstable();
        let (max, median) = match (ms.last(), ms.get(ms.len() / 2)) {
            (Some(max), Some(med)) => (max.to_string(), med.to_string()),
            _ => ("-".into(), "-".into()),
        };
        s += &format!(
            "| {} | {} | {} | {max} | {median} |\n",
            kind.name(),
            list.len(),
            ms.len()
        );
    }
    for kind in faults::ALL {
        let mut takeovers: Vec<u128> = records
            .iter()
            .filter(|r| r.fault == kind)
            .filter_map(|r| r.relay_takeover)
            .map(|d| d.as_millis())
            .collect();
        takeovers.sort_unstable();
        if let (Some(max), Some(median)) = (takeovers.last(), takeovers.get(takeovers.len() / 2)) {
            s += &format!(
                "\nRelay takeovers after {}: {}, max {max} ms, median {median} ms (until another node held the relay lock)\n",
                kind.name(),
                takeovers.len()
            );
        }
    }
    s += &format!(
        "\n| deliveries | lost | duplicated | out-of-order | reinitials |\n\
         |---:|---:|---:|---:|---:|\n\
         | {} | {} | {} | {} | {} |\n",
        o.deliveries, o.lost, o.duplicated, o.out_of_order, o.reinitials
    );
    s
}
