//! The showfeed benchmark: starts Postgres (embedded, or DATABASE_URL) and the release
//! server in its own process, connects thousands of SSE subscribers over raw sockets,
//! drives changes through the API and plain SQL, and compares the stream with the polling
//! it replaces.
//!
//! ```text
//! cargo run --release --example bench -- [--quick] [--subscribers N --shows S --rate W --seconds T]
//! ```
//!
//! Results: target/bench/results.json and target/bench/results.md (also printed).
//! Phases, in order:
//! 1. scale: subscribers over many shows in steps up to --max-subscribers; idle RSS per
//!    subscriber and a short load at each step, until a step breaks.
//! 2. fanout: N subscribers over S shows, W changes/s for T seconds (SSE).
//! 3. mux: M clients following K shows each on one multiplexed connection
//!    (`/api/stream?shows=...`), W changes/s over the K shows, then the same deliveries as
//!    M × K single-show streams, one after the other on the same server.
//! 4. polling: the fan-out's clients polling `/changes?after=` every second (the baseline).
//! 5. ingest: batch ingest through the API (claims derived); builds a show of 10,000
//!    comments and 1,000 claims.
//! 6. snapshot: `initial` latency of that show, one query per sample.
//! 7. burst: 1,000 clients connecting to it at once (single-flight snapshot).
//! 8. queries: the console's history page (100 older comments) and search on a show of
//!    100,000 comments, one request at a time (`queries`).
//! 9. writepath (only when named in --phases): the trigger doorbell vs relay mode side by
//!    side, 1 / 3 / 10 listening nodes, 16 SQL writers of single-row inserts (`writepath`).
//! 10. hotshow (only when named): --hot-clients clients POSTing single comments (`sold N`
//!     mixed with chat) to one show at --hot-rate comments/s in all; claims checked exact
//!     (`hotshow`).
//! 11. affinity (only when named): three nodes, the same shows, subscribers and writes
//!     routed two ways, spread over the nodes and by show; reads per change (`affinity`).
//!
//! Modules: `server` (the database and the server process, API and SQL calls), `sse` (the
//! raw-socket SSE subscribers, single-show and multiplexed), `poll` (the polling client),
//! `writer` (the load), `hist` (latency histogram), `procfs` (CPU and memory from /proc),
//! `queries` (the history and search requests), `report` (the Markdown).

mod affinity;
mod hist;
mod hotshow;
mod poll;
mod procfs;
mod queries;
mod report;
mod server;
mod sse;
mod writepath;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use hist::Counts;
use procfs::{CpuMark, CpuUse};
use server::{Database, Server};
use sse::{Position, Stats, Target};

/// Command line. Every number has a full and a --quick default.
#[derive(Debug, Parser)]
#[command(about = "showfeed benchmark: SSE fan-out vs polling, snapshot, ingest")]
struct Args {
    /// Smoke run (~2 minutes): smaller numbers everywhere.
    #[arg(long)]
    quick: bool,
    /// Subscribers in the fan-out and polling phases [full 5000, quick 1000].
    #[arg(long)]
    subscribers: Option<usize>,
    /// Shows they are spread over [1].
    #[arg(long)]
    shows: Option<usize>,
    /// Changes per second driven by the writers (half API, half SQL) [50].
    #[arg(long)]
    rate: Option<f64>,
    /// Seconds of load in the fan-out and polling phases [full 30, quick 10].
    #[arg(long)]
    seconds: Option<u64>,
    /// Largest step of the scale phase [full 20000, quick 2000].
    #[arg(long)]
    max_subscribers: Option<usize>,
    /// Shows the scale phase spreads its subscribers over [100].
    #[arg(long)]
    scale_shows: Option<usize>,
    /// Comments posted in the ingest phase besides the 10,000-comment show [full 100000, quick 20000].
    #[arg(long)]
    ingest_comments: Option<usize>,
    /// Clients of the mux phase, each following --mux-shows shows on one connection [full
    /// 1000, quick 250]; lowered to fit the descriptor limit (the single-show half of the
    /// phase holds clients × shows connections).
    #[arg(long)]
    mux_clients: Option<usize>,
    /// Shows each mux client follows (all clients follow the same ones) [20].
    #[arg(long)]
    mux_shows: Option<usize>,
    /// Phases to run (comma separated) [scale,fanout,mux,polling,ingest,snapshot,burst,queries].
    #[arg(long, value_delimiter = ',')]
    phases: Option<Vec<String>>,
    /// Seconds per cell of the writepath phase [10].
    #[arg(long, default_value_t = 10)]
    writepath_seconds: u64,
    /// Commits/s of the writepath phase's moderate-load cells [500].
    #[arg(long, default_value_t = 500.0)]
    writepath_rate: f64,
    /// Shows, subscribers, changes/s and seconds of each affinity run [30, 900, 300, 20].
    #[arg(long, value_delimiter = ',', num_args = 4, default_values_t = [30.0, 900.0, 300.0, 20.0])]
    affinity: Vec<f64>,
    /// Clients of the hotshow phase [2000].
    #[arg(long, default_value_t = 2000)]
    hot_clients: usize,
    /// Comments/s the hotshow clients offer in all [5000].
    #[arg(long, default_value_t = 5000.0)]
    hot_rate: f64,
    /// Seconds of the hotshow phase [20].
    #[arg(long, default_value_t = 20)]
    hot_seconds: u64,
    /// Run the embedded Postgres durable (fsync on), as production runs: commit latency
    /// (the WAL flush) is what the doorbell's commit lock and a show's row lock are held
    /// through, so the write-path phases mean most with it.
    #[arg(long)]
    durable: bool,
    /// The server binary (default: build and use target/release/showfeed).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Extra server environment, KEY=VALUE (repeatable), e.g. SUBSCRIBER_BUFFER=256.
    #[arg(long = "server-env")]
    server_env: Vec<String>,
    /// Where results go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

/// Resolved settings.
#[derive(Debug, Clone, Serialize)]
struct Settings {
    mode: &'static str,
    subscribers: usize,
    shows: usize,
    rate: f64,
    seconds: u64,
    /// Subscriber counts of the scale phase (capped by the descriptor limit).
    scale_steps: Vec<usize>,
    fd_limit: u64,
    scale_shows: usize,
    scale_load_secs: u64,
    /// Clients of the mux phase (after the descriptor cap) and the shows each follows.
    mux_clients: usize,
    mux_shows: usize,
    /// --mux-clients as asked (or its default), before the descriptor cap.
    mux_clients_asked: usize,
    ingest_comments: usize,
    snapshot_samples: usize,
    burst_clients: usize,
    phases: Vec<String>,
}

impl Settings {
    fn from(args: &Args, fd_limit: u64) -> Settings {
        let q = args.quick;
        // Each subscriber is a descriptor in this process and one in the server.
        let fd_cap = (fd_limit as usize).saturating_sub(1000).max(1000);
        let max = args
            .max_subscribers
            .unwrap_or(if q { 2000 } else { 20_000 })
            .min(fd_cap);
        let mut steps: Vec<usize> = [
            500, 1000, 2000, 5000, 10_000, 15_000, 20_000, 30_000, 40_000,
        ]
        .into_iter()
        .filter(|&n| n < max && (!q || n >= 500) && (q || n >= 1000))
        .collect();
        steps.push(max);
        let mux_shows = args.mux_shows.unwrap_or(20).max(1);
        let mux_clients_asked = args
            .mux_clients
            .unwrap_or(if q { 250 } else { 1000 })
            .max(1);
        Settings {
            mode: if q { "quick" } else { "full" },
            subscribers: args.subscribers.unwrap_or(if q { 1000 } else { 5000 }),
            shows: args.shows.unwrap_or(1).max(1),
            rate: args.rate.unwrap_or(50.0).max(0.1),
            seconds: args.seconds.unwrap_or(if q { 10 } else { 30 }).max(1),
            scale_steps: steps,
            fd_limit,
            scale_shows: args.scale_shows.unwrap_or(100).max(1),
            scale_load_secs: 5,
            mux_clients: mux_clients_asked.min((fd_cap / mux_shows).max(1)),
            mux_shows,
            mux_clients_asked,
            ingest_comments: args
                .ingest_comments
                .unwrap_or(if q { 20_000 } else { 100_000 }),
            snapshot_samples: if q { 10 } else { 40 },
            burst_clients: 1000,
            phases: args.phases.clone().unwrap_or_else(|| {
                [
                    "scale", "fanout", "mux", "polling", "ingest", "snapshot", "burst", "queries",
                ]
                .map(String::from)
                .to_vec()
            }),
        }
    }

    fn runs(&self, phase: &str) -> bool {
        self.phases.iter().any(|p| p == phase)
    }
}

/// Everything a phase needs.
struct Bench {
    server: Arc<Server>,
    db: Database,
    /// Writers' SQL connections (plain SQL, as an analyst's session).
    sql: Arc<Vec<tokio_postgres::Client>>,
    /// For reading seqs and statistics.
    probe: tokio_postgres::Client,
}

/// A set of running clients (SSE or polling) of one or more shows.
struct Clients {
    shows: Arc<Vec<Uuid>>,
    positions: Vec<Arc<Position>>,
    handles: Vec<JoinHandle<()>>,
    stats: Arc<Stats>,
    stop: CancellationToken,
}

impl Clients {
    fn new(shows: Vec<Uuid>) -> Clients {
        Clients {
            shows: Arc::new(shows),
            positions: Vec::new(),
            handles: Vec::new(),
            stats: Stats::new(),
            stop: CancellationToken::new(),
        }
    }

    fn ready(&self) -> usize {
        self.stats.ready.load(Relaxed) as usize
    }

    fn dead(&self) -> usize {
        self.positions
            .iter()
            .filter(|p| p.dead.load(Relaxed))
            .count()
    }

    /// One request target per show: `/api/shows/{id}/{route}` with the viewer token.
    fn targets(&self, server: &Server, route: &str, extra_query: &str) -> Vec<Arc<Target>> {
        let token = &server.viewer_token;
        self.shows
            .iter()
            .map(|id| {
                Arc::new(Target {
                    addr: server.addr,
                    path: format!("/api/shows/{id}/{route}?access_token={token}{extra_query}"),
                })
            })
            .collect()
    }

    /// Adds SSE subscribers (show i % shows), at most `in_flight` connecting at a time;
    /// returns when all have their `initial` or `limit` passed.
    async fn add_sse(&mut self, server: &Server, count: usize, in_flight: usize, limit: Duration) {
        self.add_sse_routed(&[server], |_, _| 0, count, in_flight, limit)
            .await;
    }

    /// [`Clients::add_sse`] over several nodes: subscriber i of show s connects to node
    /// `node_of(i, s)`, as a load balancer in front of them would route it.
    async fn add_sse_routed(
        &mut self,
        nodes: &[&Server],
        node_of: impl Fn(usize, usize) -> usize,
        count: usize,
        in_flight: usize,
        limit: Duration,
    ) {
        let targets: Vec<Vec<Arc<Target>>> = nodes
            .iter()
            .map(|node| self.targets(node, "stream", ""))
            .collect();
        let until = Instant::now() + limit;
        let base = self.positions.len();
        for i in base..base + count {
            while self.positions.len() - self.ready() >= in_flight && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let show = i % self.shows.len();
            let pos = Position::new(show);
            self.positions.push(pos.clone());
            self.handles.push(tokio::spawn(sse::subscribe(
                targets[node_of(i, show) % nodes.len()][show].clone(),
                pos,
                self.stats.clone(),
                self.stop.clone(),
            )));
        }
        self.wait_ready(until).await;
    }

    /// Adds `count` multiplexed subscribers, each following every show of the set on one
    /// connection (`/api/stream?shows=...`, a position per show), at most `in_flight`
    /// connections opening at a time; returns when every one has every show's `initial` or
    /// `limit` passed.
    async fn add_many(&mut self, server: &Server, count: usize, in_flight: usize, limit: Duration) {
        let ids: Arc<Vec<String>> = Arc::new(self.shows.iter().map(Uuid::to_string).collect());
        let target = Arc::new(Target {
            addr: server.addr,
            path: format!(
                "/api/stream?shows={}&access_token={}",
                ids.join(","),
                server.viewer_token
            ),
        });
        let per = self.shows.len();
        let until = Instant::now() + limit;
        for _ in 0..count {
            while self.positions.len() - self.ready() >= in_flight * per && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let positions: Vec<Arc<Position>> = (0..per).map(Position::new).collect();
            self.positions.extend(positions.iter().cloned());
            self.handles.push(tokio::spawn(sse::subscribe_many(
                target.clone(),
                ids.clone(),
                positions,
                self.stats.clone(),
                self.stop.clone(),
            )));
        }
        self.wait_ready(until).await;
    }

    /// Adds polling clients starting after each show's current seq, spread over the period.
    async fn add_pollers(
        &mut self,
        server: &Server,
        count: usize,
        start: &[i64],
        period: Duration,
    ) {
        let targets = self.targets(server, "changes", "&limit=500");
        for i in 0..count {
            let show = i % self.shows.len();
            let pos = Position::new(show);
            pos.last.store(start[show], Relaxed);
            self.positions.push(pos.clone());
            let offset = period.mul_f64(i as f64 / count as f64);
            self.handles.push(tokio::spawn(poll::poll(
                targets[show].clone(),
                pos,
                self.stats.clone(),
                period,
                offset,
                self.stop.clone(),
            )));
        }
        self.wait_ready(Instant::now() + period + Duration::from_secs(30))
            .await;
    }

    async fn wait_ready(&self, until: Instant) {
        while self.ready() + self.dead() < self.positions.len() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until every client has reached its show's seq in `target` (or `limit` passes);
    /// returns the seqs still missing then.
    async fn wait_caught_up(&self, target: &[i64], limit: Duration) -> u64 {
        let until = Instant::now() + limit;
        loop {
            let missing: u64 = self
                .positions
                .iter()
                .map(|p| (target[p.show] - p.last.load(Relaxed)).max(0) as u64)
                .sum();
            if missing == 0 || Instant::now() >= until {
                return missing;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        for h in self.handles {
            let _ = tokio::time::timeout(Duration::from_secs(10), h).await;
        }
    }
}

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Serialize)]
struct Latency {
    samples: u64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    p999_ms: Option<f64>,
    max_ms: Option<f64>,
}

impl Latency {
    fn of(c: &Counts) -> Latency {
        let ms = |q: f64| c.quantile(q).map(|us| us as f64 / 1000.0);
        Latency {
            samples: c.total(),
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: (c.total() > 0).then(|| c.max as f64 / 1000.0),
        }
    }
}

/// One load run against connected clients.
#[derive(Debug, Clone, Serialize)]
struct LoadResult {
    client: &'static str,
    subscribers: usize,
    shows: usize,
    target_rate: f64,
    seconds: f64,
    writes: writer::WriteCounts,
    /// Changes committed to the shows during the run (seq advance).
    changes: i64,
    /// Events every subscriber should have received.
    expected_deliveries: u64,
    deliveries: u64,
    deliveries_per_sec: f64,
    latency: Latency,
    /// Seqs a subscriber skipped (a later one came first).
    lost: u64,
    /// Events still not received when the drain wait after the last write ended.
    undelivered: u64,
    duplicated: u64,
    /// Events a multiplexed subscriber could not put to one of its shows and a seq.
    unreadable: u64,
    reinitials: u64,
    reconnects: u64,
    failures: u64,
    cpu: CpuUse,
    server_cpu_secs_per_million_deliveries: f64,
    server_rss_bytes: u64,
    /// Reads of show_changes and snapshots the server ran (its /metrics counters).
    db_read_queries: f64,
    db_read_queries_per_sec: f64,
    db_read_queries_per_change: f64,
    /// All transactions of the database (pg_stat_database.xact_commit), writers' included.
    db_transactions_per_sec: f64,
}

impl Bench {
    fn marks(&self) -> CpuMark {
        CpuMark::now(self.server.pid, self.db.postmaster)
    }

    fn rss(&self) -> u64 {
        procfs::rss_bytes(self.server.pid).unwrap_or(0)
    }

    /// One counter or gauge of the server's /metrics (0 when absent).
    async fn metric(&self, name: &str) -> f64 {
        let m = self.server.metrics().await.unwrap_or_default();
        m.get(name).copied().unwrap_or(0.0)
    }

    async fn create_shows(&self, n: usize, title: &str) -> anyhow::Result<Vec<Uuid>> {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            ids.push(self.server.create_show(&format!("{title} {i}")).await?);
        }
        Ok(ids)
    }

    /// Drives `rate` changes/s for `secs` at connected `clients` and measures.
    async fn load(
        &self,
        clients: &Clients,
        rate: f64,
        secs: f64,
        tag: &str,
        drain: Duration,
    ) -> anyhow::Result<LoadResult> {
        let before = server::last_seqs(&self.probe, &clients.shows).await?;
        // Expected per subscriber: from where it stands now.
        let start: Vec<i64> = clients
            .positions
            .iter()
            .map(|p| p.last.load(Relaxed).max(before[p.show]))
            .collect();
        let _ = clients.stats.latency.take();
        let s = &clients.stats;
        let counters = |s: &Stats| {
            [
                s.events.load(Relaxed),
                s.lost.load(Relaxed),
                s.duplicates.load(Relaxed),
                s.reinitials.load(Relaxed),
                s.reconnects.load(Relaxed),
                s.failures.load(Relaxed),
                s.unreadable.load(Relaxed),
            ]
        };
        let c0 = counters(s);
        let q0 = self.server.read_queries().await;
        let x0 = server::xact_commits(&self.probe).await.unwrap_or(0);
        let m0 = self.marks();
        let writes = writer::drive(
            self.server.clone(),
            self.sql.clone(),
            clients.shows.clone(),
            rate,
            Duration::from_secs_f64(secs),
            tag,
        )
        .await;
        let written = m0.at.elapsed().as_secs_f64();
        let after = server::last_seqs(&self.probe, &clients.shows).await?;
        let missing = clients.wait_caught_up(&after, drain).await;
        let m1 = self.marks();
        let rss = self.rss();
        let q1 = self.server.read_queries().await;
        let x1 = server::xact_commits(&self.probe).await.unwrap_or(0);
        let c1 = counters(s);
        let latency = s.latency.take();
        let cpu = m1.since(&m0);
        let changes: i64 = after.iter().zip(&before).map(|(a, b)| a - b).sum();
        let expected: u64 = clients
            .positions
            .iter()
            .zip(&start)
            .map(|(p, st)| (after[p.show] - st).max(0) as u64)
            .sum();
        let deliveries = c1[0] - c0[0];
        let queries = q1 - q0;
        Ok(LoadResult {
            client: "",
            subscribers: clients.positions.len(),
            shows: clients.shows.len(),
            target_rate: rate,
            seconds: written,
            writes,
            changes,
            expected_deliveries: expected,
            deliveries,
            deliveries_per_sec: deliveries as f64 / written,
            latency: Latency::of(&latency),
            lost: c1[1] - c0[1],
            undelivered: missing,
            duplicated: c1[2] - c0[2],
            reinitials: c1[3] - c0[3],
            reconnects: c1[4] - c0[4],
            failures: c1[5] - c0[5],
            unreadable: c1[6] - c0[6],
            cpu,
            server_cpu_secs_per_million_deliveries: cpu.server_secs
                / (deliveries.max(1) as f64 / 1e6),
            server_rss_bytes: rss,
            db_read_queries: queries,
            db_read_queries_per_sec: queries / cpu.wall_secs,
            db_read_queries_per_change: queries / changes.max(1) as f64,
            db_transactions_per_sec: (x1 - x0) as f64 / cpu.wall_secs,
        })
    }
}

/// One step of the scale phase.
#[derive(Debug, Serialize)]
struct ScaleStep {
    subscribers: usize,
    connected: usize,
    connect_secs: f64,
    connects_per_sec: f64,
    time_to_initial: Latency,
    /// Server RSS with every subscriber idle.
    rss_bytes: u64,
    /// (RSS now - RSS before any subscriber) / subscribers.
    rss_per_idle_subscriber_bytes: f64,
    connect_cpu: CpuUse,
    load: Option<LoadResult>,
    broke: Option<String>,
}

async fn scale_phase(b: &Bench, st: &Settings) -> anyhow::Result<Value> {
    let shows = b.create_shows(st.scale_shows, "scale").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = b.rss();
    let mut clients = Clients::new(shows);
    let mut steps = Vec::new();
    for &n in &st.scale_steps {
        let add = n.saturating_sub(clients.positions.len());
        eprintln!(
            "scale: connecting up to {n} subscribers over {} shows",
            st.scale_shows
        );
        let m0 = b.marks();
        let _ = clients.stats.time_to_initial.take();
        clients
            .add_sse(&b.server, add, 500, Duration::from_secs(120))
            .await;
        let connect_secs = m0.at.elapsed().as_secs_f64();
        let m1 = b.marks();
        let connected = clients.ready();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = b.rss();
        let mut step = ScaleStep {
            subscribers: n,
            connected,
            connect_secs,
            connects_per_sec: add as f64 / connect_secs,
            time_to_initial: Latency::of(&clients.stats.time_to_initial.take()),
            rss_bytes: rss,
            rss_per_idle_subscriber_bytes: (rss as f64 - rss0 as f64) / connected.max(1) as f64,
            connect_cpu: m1.since(&m0),
            load: None,
            broke: None,
        };
        if connected < n {
            step.broke = Some(format!(
                "{} of {n} subscribers connected within 120 s ({} failed connects)",
                connected,
                clients.stats.failures.load(Relaxed)
            ));
        } else {
            let tag = format!("scale{n}");
            let load = b
                .load(
                    &clients,
                    st.rate,
                    st.scale_load_secs as f64,
                    &tag,
                    Duration::from_secs(10),
                )
                .await?;
            if load.lost > 0 || load.duplicated > 0 || load.undelivered > 0 {
                step.broke = Some(format!(
                    "{} lost, {} duplicated, {} undelivered events under load",
                    load.lost, load.duplicated, load.undelivered
                ));
            } else if load.latency.p99_ms.unwrap_or(0.0) > 1000.0 {
                step.broke = Some("p99 commit->receive latency above 1 s".into());
            }
            step.load = Some(LoadResult {
                client: "sse",
                ..load
            });
        }
        eprintln!("scale: {}", serde_json::to_string(&step)?);
        let broke = step.broke.is_some();
        steps.push(step);
        if broke {
            break;
        }
    }
    clients.stop().await;
    Ok(
        json!({ "rss_before_bytes": rss0, "shows": st.scale_shows, "rate": st.rate, "steps": steps }),
    )
}

/// Drives the writers against `clients` for the configured time, then stops the clients and
/// lets the machine settle; `tag` names the phase, `client` the kind of client measured.
async fn measure_load(
    b: &Bench,
    st: &Settings,
    clients: Clients,
    tag: &str,
    client: &'static str,
) -> anyhow::Result<LoadResult> {
    let load = b
        .load(
            &clients,
            st.rate,
            st.seconds as f64,
            tag,
            Duration::from_secs(30),
        )
        .await?;
    let load = LoadResult { client, ..load };
    eprintln!("{tag}: {}", serde_json::to_string(&load)?);
    clients.stop().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(load)
}

/// The fan-out phase into `out` (`sse`, `sse_connect_secs`, `sse_connected`).
async fn fanout_phase(b: &Bench, st: &Settings, out: &mut Value) -> anyhow::Result<()> {
    let shows = b.create_shows(st.shows, "fanout").await?;
    eprintln!(
        "fanout: {} SSE subscribers over {} shows",
        st.subscribers, st.shows
    );
    let mut clients = Clients::new(shows);
    let m0 = b.marks();
    clients
        .add_sse(&b.server, st.subscribers, 500, Duration::from_secs(120))
        .await;
    let connect = m0.at.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    eprintln!(
        "fanout: {} connected in {connect:.1} s; load starts ({} changes/s for {} s)",
        clients.ready(),
        st.rate,
        st.seconds
    );
    out["sse_connect_secs"] = json!(connect);
    out["sse_connected"] = json!(clients.ready());
    out["sse"] = json!(measure_load(b, st, clients, "fanout", "sse").await?);
    Ok(())
}

/// The polling phase (the fan-out's baseline) into `out["polling"]`.
async fn polling_phase(b: &Bench, st: &Settings, out: &mut Value) -> anyhow::Result<()> {
    let shows = b.create_shows(st.shows, "polling").await?;
    eprintln!("polling: {} clients polling every second", st.subscribers);
    let mut clients = Clients::new(shows);
    let start = server::last_seqs(&b.probe, &clients.shows).await?;
    clients
        .add_pollers(&b.server, st.subscribers, &start, Duration::from_secs(1))
        .await;
    out["polling"] = json!(measure_load(b, st, clients, "polling", "polling").await?);
    Ok(())
}

/// CPU µs per delivery of each process over a load (None without deliveries).
fn per_delivery_us(load: &LoadResult) -> Value {
    let deliveries = load.deliveries as f64;
    let per = |secs: Option<f64>| {
        secs.filter(|_| deliveries > 0.0)
            .map(|s| s * 1e6 / deliveries)
    };
    json!({
        "server": per(Some(load.cpu.server_secs)),
        "postgres": per(load.cpu.postgres_secs),
        "generator": per(Some(load.cpu.generator_secs)),
    })
}

/// Breaks of "every seq after the `initial` once, in order, per show and subscriber":
/// seqs skipped, seen twice (or older), never received, events put to no show.
fn violations(load: &LoadResult) -> u64 {
    load.lost + load.duplicated + load.undelivered + load.unreadable
}

/// The multiplexed stream against single-show streams under the same deliveries: M
/// clients each following the same K shows on one connection, then M × K single-show
/// subscribers (M on each show), one after the other on this server, each on K fresh
/// shows with the fan-out phase's writers (W changes/s round-robin over the K shows).
/// A delivery is one change received by one subscriber of its show: once per (client,
/// show, change) in both, so both expect M deliveries per change.
async fn mux_phase(b: &Bench, st: &Settings) -> anyhow::Result<Value> {
    let (m, k) = (st.mux_clients, st.mux_shows);
    if m < st.mux_clients_asked {
        eprintln!(
            "mux: {m} clients instead of {} (the single-show half needs {m} x {k} \
             connections in each process; descriptor limit {})",
            st.mux_clients_asked, st.fd_limit
        );
    }
    let mut out = json!({
        "clients": m,
        "clients_asked": st.mux_clients_asked,
        "shows_per_client": k,
        "subscribers_per_show": m,
        "rate": st.rate,
        "seconds": st.seconds,
    });
    for (key, tag, client) in [
        ("multiplexed", "mux", "sse-multiplexed"),
        ("single", "mux-single", "sse"),
    ] {
        let multiplexed = key == "multiplexed";
        let connections = if multiplexed { m } else { m * k };
        let shows = b.create_shows(k, tag).await?;
        let mut clients = Clients::new(shows);
        eprintln!(
            "mux: {connections} {} connections, {m} subscribers on each of {k} shows",
            if multiplexed {
                "multiplexed"
            } else {
                "single-show"
            }
        );
        let limit = Duration::from_secs(180);
        let m0 = b.marks();
        // 500 show subscriptions opening at a time in both: the same start-up load.
        if multiplexed {
            clients
                .add_many(&b.server, m, (500 / k).max(1), limit)
                .await;
        } else {
            clients.add_sse(&b.server, m * k, 500, limit).await;
        }
        let connect_cpu = b.marks().since(&m0);
        let ready = clients.ready();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle_rss = b.rss();
        eprintln!(
            "mux: {ready} of {} subscriptions ready in {:.1} s; load starts ({} changes/s for {} s)",
            m * k,
            connect_cpu.wall_secs,
            st.rate,
            st.seconds
        );
        let loadavg_before = loadavg();
        let load = measure_load(b, st, clients, tag, client).await?;
        out[key] = json!({
            "loadavg_before_load": loadavg_before,
            "connections": connections,
            "subscriptions": m * k,
            "subscriptions_ready": ready,
            "connect_secs": connect_cpu.wall_secs,
            "connect_cpu": connect_cpu,
            "idle_server_rss_bytes": idle_rss,
            "cpu_us_per_delivery": per_delivery_us(&load),
            "violations": violations(&load),
            "load": load,
        });
    }
    let ratio = |get: &dyn Fn(&Value) -> Option<f64>| -> Value {
        match (get(&out["multiplexed"]), get(&out["single"])) {
            (Some(mux), Some(single)) if single > 0.0 => json!(mux / single),
            _ => Value::Null,
        }
    };
    let ratios = json!({
        "deliveries_per_sec": ratio(&|v| v["load"]["deliveries_per_sec"].as_f64()),
        "p50_ms": ratio(&|v| v["load"]["latency"]["p50_ms"].as_f64()),
        "p99_ms": ratio(&|v| v["load"]["latency"]["p99_ms"].as_f64()),
        "server_us_per_delivery": ratio(&|v| v["cpu_us_per_delivery"]["server"].as_f64()),
        "postgres_us_per_delivery": ratio(&|v| v["cpu_us_per_delivery"]["postgres"].as_f64()),
        "generator_us_per_delivery": ratio(&|v| v["cpu_us_per_delivery"]["generator"].as_f64()),
        "idle_server_rss_bytes": ratio(&|v| v["idle_server_rss_bytes"].as_f64()),
    });
    out["ratio_mux_over_single"] = ratios;
    Ok(out)
}

/// Posts `comments` in batches of 1000 to `show`, one in ten claiming an item.
async fn ingest_show(
    b: &Bench,
    show: Uuid,
    comments: usize,
    tag: &str,
) -> anyhow::Result<(usize, usize)> {
    let mut stored = (0, 0);
    let mut i = 0;
    while i < comments {
        let n = (comments - i).min(1000);
        let batch: Vec<Value> = (i..i + n)
            .map(|k| {
                let text = if k % 10 == 0 {
                    format!("sold {}", 1 + (k / 10) % 500)
                } else {
                    format!("nice item, comment {k}")
                };
                json!({"external_id": format!("{tag}-{k}"), "author_id": format!("{tag}-buyer-{k}"),
                       "author_name": "Batch Buyer", "text": text})
            })
            .collect();
        let (c, k) = b.server.post_comments(show, &Value::Array(batch)).await?;
        stored.0 += c;
        stored.1 += k;
        i += n;
    }
    Ok(stored)
}

async fn ingest_phase(b: &Bench, st: &Settings) -> anyhow::Result<(Value, Uuid)> {
    eprintln!(
        "ingest: 10,000 comments (1,000 claims) into the snapshot show, then {} more",
        st.ingest_comments
    );
    let big = b.server.create_show("snapshot show").await?;
    let m0 = b.marks();
    let (c, k) = ingest_show(b, big, 10_000, "big").await?;
    let big_cpu = b.marks().since(&m0);
    // Two connectors posting to two shows at once.
    let shows = b.create_shows(2, "ingest").await?;
    let half = st.ingest_comments / 2;
    let m1 = b.marks();
    let (r1, r2) = tokio::join!(
        ingest_show(b, shows[0], half, "ing0"),
        ingest_show(b, shows[1], st.ingest_comments - half, "ing1")
    );
    let cpu = b.marks().since(&m1);
    let (r1, r2) = (r1?, r2?);
    let comments = r1.0 + r2.0;
    let claims = r1.1 + r2.1;
    Ok((
        json!({
            "snapshot_show": {"comments": c, "claims": k, "comments_per_sec": c as f64 / big_cpu.wall_secs, "cpu": big_cpu},
            "batch_size": 1000,
            "posters": 2,
            "comments": comments,
            "claims": claims,
            "comments_per_sec": comments as f64 / cpu.wall_secs,
            "claims_per_sec": claims as f64 / cpu.wall_secs,
            "cpu": cpu,
        }),
        big,
    ))
}

async fn snapshot_phase(b: &Bench, st: &Settings, show: Uuid) -> anyhow::Result<Value> {
    eprintln!(
        "snapshot: {} samples of the 10,000-comment show",
        st.snapshot_samples
    );
    let target = Arc::new(Target {
        addr: b.server.addr,
        path: format!(
            "/api/shows/{show}/stream?access_token={}",
            b.server.viewer_token
        ),
    });
    let stats = Stats::new();
    let m0 = b.marks();
    let q0 = b.server.metrics().await?;
    let mut bytes = 0;
    for _ in 0..st.snapshot_samples {
        // Past the server's snapshot reuse window (500 ms): each sample runs the query.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let stop = CancellationToken::new();
        let pos = Position::new(0);
        let b0 = stats.bytes.load(Relaxed);
        let task = tokio::spawn(sse::subscribe(
            target.clone(),
            pos.clone(),
            stats.clone(),
            stop.clone(),
        ));
        let until = Instant::now() + Duration::from_secs(30);
        while !pos.ready.load(Relaxed) && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        bytes = stats.bytes.load(Relaxed) - b0;
        stop.cancel();
        let _ = task.await;
    }
    let cpu = b.marks().since(&m0);
    let q1 = b.server.metrics().await?;
    let d = |k: &str| q1.get(k).copied().unwrap_or(0.0) - q0.get(k).copied().unwrap_or(0.0);
    Ok(json!({
        "samples": st.snapshot_samples,
        "latency": Latency::of(&stats.time_to_initial.take()),
        "initial_bytes": bytes,
        "snapshot_queries": d("showfeed_snapshot_queries_total"),
        "server_mean_query_ms": 1000.0 * d("showfeed_snapshot_queries_seconds_total") / d("showfeed_snapshot_queries_total").max(1.0),
        "cpu": cpu,
    }))
}

async fn burst_phase(b: &Bench, st: &Settings, show: Uuid) -> anyhow::Result<Value> {
    eprintln!(
        "burst: {} clients connect at once to the 10,000-comment show",
        st.burst_clients
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let q0 = b.server.metrics().await?;
    let m0 = b.marks();
    let mut clients = Clients::new(vec![show]);
    clients
        .add_sse(
            &b.server,
            st.burst_clients,
            usize::MAX,
            Duration::from_secs(60),
        )
        .await;
    let secs = m0.at.elapsed().as_secs_f64();
    let cpu = b.marks().since(&m0);
    let q1 = b.server.metrics().await?;
    let d = |k: &str| q1.get(k).copied().unwrap_or(0.0) - q0.get(k).copied().unwrap_or(0.0);
    let out = json!({
        "clients": st.burst_clients,
        "connected": clients.ready(),
        "failures": clients.stats.failures.load(Relaxed),
        "all_connected_secs": secs,
        "time_to_initial": Latency::of(&clients.stats.time_to_initial.take()),
        "snapshot_queries": d("showfeed_snapshot_queries_total"),
        "snapshots_shared": d("showfeed_snapshots_shared_total"),
        "catchup_queries": d("showfeed_catchup_queries_total"),
        "cpu": cpu,
    });
    clients.stop().await;
    Ok(out)
}

/// The machine's 1-minute load average: other work competing for the same cores.
fn loadavg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn environment(st: &Settings) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .map(|c| {
            if dirty {
                format!("{c} + uncommitted changes")
            } else {
                c
            }
        })
        .unwrap_or_default();
    json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "cpu": cpu,
        "cores": cores,
        "commit": commit,
        "settings": st,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let fds = procfs::raise_fd_limit(200_000);
    let st = Settings::from(&args, fds);
    std::fs::create_dir_all(&args.out)?;
    let bin = server::server_binary(args.server_bin.clone())?;
    let db = Database::open(args.durable).await?;
    let extra: Vec<(String, String)> = args
        .server_env
        .iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();
    let server = Server::start(&bin, &db, args.out.join("server.log"), &extra).await?;
    eprintln!(
        "server pid {} on {} (descriptor limit {fds}); Postgres pid {:?}",
        server.pid, server.addr, db.postmaster
    );
    let mut sql = Vec::new();
    for _ in 0..4 {
        sql.push(server::connect(&db.url).await?);
    }
    let probe = server::connect(&db.url).await?;
    let pg_version: String = probe.query_one("select version()", &[]).await?.get(0);
    let bench = Bench {
        server: Arc::new(server),
        db,
        sql: Arc::new(sql),
        probe,
    };
    let started = Instant::now();
    let mut results = json!({ "environment": environment(&st) });
    results["environment"]["loadavg_at_start"] = json!(loadavg());
    results["environment"]["postgres"] = json!(pg_version);
    results["environment"]["database"] = json!(if bench.db.embedded.is_some() {
        if args.durable {
            "embedded, temporary cluster (fsync on, track_commit_timestamp on)"
        } else {
            "embedded, temporary cluster (fsync off, track_commit_timestamp on)"
        }
    } else {
        "DATABASE_URL"
    });
    results["environment"]["server_rss_at_start_bytes"] = json!(bench.rss());

    let outcome: anyhow::Result<()> = async {
        if st.runs("scale") {
            results["scale"] = scale_phase(&bench, &st).await.context("scale phase")?;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        if st.runs("fanout") {
            fanout_phase(&bench, &st, &mut results["fanout"])
                .await
                .context("fan-out phase")?;
        }
        if st.runs("mux") {
            results["mux"] = mux_phase(&bench, &st).await.context("mux phase")?;
        }
        if st.runs("polling") {
            polling_phase(&bench, &st, &mut results["fanout"])
                .await
                .context("polling phase")?;
        }
        if st.runs("ingest") || st.runs("snapshot") || st.runs("burst") {
            let (ingest, big) = ingest_phase(&bench, &st).await.context("ingest phase")?;
            results["ingest"] = ingest;
            if st.runs("snapshot") {
                results["snapshot"] = snapshot_phase(&bench, &st, big)
                    .await
                    .context("snapshot phase")?;
            }
            if st.runs("burst") {
                results["burst"] = burst_phase(&bench, &st, big).await.context("burst phase")?;
            }
        }
        if st.runs("writepath") {
            results["writepath"] =
                writepath::run(&bench, args.writepath_seconds, args.writepath_rate)
                    .await
                    .context("writepath phase")?;
        }
        if st.runs("affinity") {
            let [shows, subscribers, rate, seconds] = args.affinity[..] else {
                anyhow::bail!("--affinity takes shows,subscribers,rate,seconds");
            };
            results["affinity"] = affinity::run(
                &bench,
                &bin,
                &extra,
                &args.out,
                (shows as usize, subscribers as usize, rate, seconds as u64),
            )
            .await
            .context("affinity phase")?;
        }
        if st.runs("hotshow") {
            results["hotshow"] =
                hotshow::run(&bench, args.hot_clients, args.hot_rate, args.hot_seconds)
                    .await
                    .context("hotshow phase")?;
        }
        if st.runs("queries") {
            let show = bench.create_shows(1, "queries").await?[0];
            eprintln!(
                "queries: history pages and searches on a show of {} comments",
                queries::COMMENTS
            );
            results["queries"] =
                queries::run(&bench.server, &bench.probe, show, |c| json!(Latency::of(c)))
                    .await
                    .context("queries phase")?;
        }
        Ok(())
    }
    .await;
    results["environment"]["total_secs"] = json!(started.elapsed().as_secs_f64());
    results["environment"]["loadavg_at_end"] = json!(loadavg());
    if let Err(e) = &outcome {
        results["error"] = json!(format!("{e:#}"));
    }
    let markdown = report::markdown(&results);
    std::fs::write(
        args.out.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    std::fs::write(args.out.join("results.md"), &markdown)?;
    println!("{markdown}");
    eprintln!(
        "wrote {0}/results.json and {0}/results.md",
        args.out.display()
    );
    match Arc::try_unwrap(bench.server) {
        Ok(server) => server.stop(),
        Err(_) => eprintln!("server still referenced; it stops with this process"),
    }
    drop(bench.db);
    outcome
}
