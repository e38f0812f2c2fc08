//! Show affinity: what routing all of a show's subscribers to one node saves. Three nodes
//! on one database follow the same shows with the same subscribers and the same write
//! rate, twice:
//!
//! - `spread`: a show's subscribers are dealt round the nodes (what a round-robin or
//!   least-connections balancer does), so every node follows every show;
//! - `by_show`: every subscriber of a show is on node (show % 3), a stand-in for nginx's
//!   `hash $show consistent` (which node does not matter, only that it is one).
//!
//! Each node reads each change of each show it follows once (per doorbell batch), so the
//! figure that moves is Postgres reads per change over all nodes, and with it the nodes'
//! CPU; delivery latency and exactness are reported to show nothing else got worse.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde_json::{json, Value};

use crate::procfs;
use crate::server::{free_port, Server};
use crate::{Bench, Clients};

/// Nodes behind the (imagined) balancer: the benchmark's server and two more.
const NODES: usize = 3;

/// How subscribers are routed to nodes.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Routing {
    Spread,
    ByShow,
}

impl Routing {
    /// The node of subscriber `i` of show `show` (of `shows`).
    fn node(self, i: usize, show: usize, shows: usize) -> usize {
        match self {
            // The k-th subscriber of a show goes to node k % NODES.
            Routing::Spread => (i / shows) % NODES,
            Routing::ByShow => show % NODES,
        }
    }
}

/// Runs both routings; `subscribers` over `shows`, `rate` changes/s for `seconds` each.
pub async fn run(
    b: &Bench,
    bin: &Path,
    extra_env: &[(String, String)],
    out: &Path,
    (shows, subscribers, rate, seconds): (usize, usize, f64, u64),
) -> anyhow::Result<Value> {
    let mut peers = Vec::new();
    for n in 1..NODES {
        let addr = format!("127.0.0.1:{}", free_port()?).parse()?;
        let log = out.join(format!("affinity-node{n}.log"));
        let peer = Server::start_at(bin, &b.db, log, extra_env, addr, &b.server.secret)
            .await
            .with_context(|| format!("starting affinity node {n}"))?;
        peers.push(peer);
    }
    let mut nodes: Vec<&Server> = vec![&b.server];
    nodes.extend(peers.iter());
    let mut runs = Vec::new();
    for routing in [Routing::Spread, Routing::ByShow] {
        runs.push(
            one(b, &nodes, routing, shows, subscribers, rate, seconds)
                .await
                .with_context(|| format!("affinity {routing:?}"))?,
        );
    }
    for peer in peers {
        peer.stop();
    }
    Ok(json!({
        "nodes": NODES,
        "shows": shows,
        "subscribers": subscribers,
        "rate": rate,
        "seconds": seconds,
        "runs": runs,
    }))
}

async fn one(
    b: &Bench,
    nodes: &[&Server],
    routing: Routing,
    shows: usize,
    subscribers: usize,
    rate: f64,
    seconds: u64,
) -> anyhow::Result<Value> {
    let ids = b.create_shows(shows, "affinity").await?;
    let mut clients = Clients::new(ids);
    clients
        .add_sse_routed(
            nodes,
            |i, show| routing.node(i, show, shows),
            subscribers,
            200,
            Duration::from_secs(60),
        )
        .await;
    let reads_before = reads(nodes).await;
    let cpu_before = cpu(nodes);
    let load = b
        .load(
            &clients,
            rate,
            seconds as f64,
            &format!("affinity-{routing:?}"),
            Duration::from_secs(15),
        )
        .await?;
    let reads_per_node: Vec<f64> = reads(nodes)
        .await
        .iter()
        .zip(&reads_before)
        .map(|(after, before)| after - before)
        .collect();
    let cpu_per_node: Vec<f64> = cpu(nodes)
        .iter()
        .zip(&cpu_before)
        .map(|(after, before)| after - before)
        .collect();
    clients.stop().await;
    let changes = load.changes.max(1) as f64;
    let reads: f64 = reads_per_node.iter().sum();
    let cpu_secs: f64 = cpu_per_node.iter().sum();
    eprintln!(
        "affinity {routing:?}: {} changes, {:.2} reads/change over {NODES} nodes, nodes' CPU {:.1} µs/delivery, p50 {:?} p99 {:?} ms, lost {} dup {}",
        load.changes,
        reads / changes,
        cpu_secs * 1e6 / load.deliveries.max(1) as f64,
        load.latency.p50_ms,
        load.latency.p99_ms,
        load.lost,
        load.duplicated,
    );
    Ok(json!({
        "routing": routing,
        "reads_per_change": reads / changes,
        "reads_per_change_per_node": reads_per_node.iter().map(|r| r / changes).collect::<Vec<_>>(),
        "nodes_cpu_secs": cpu_secs,
        "nodes_cpu_us_per_delivery": cpu_secs * 1e6 / load.deliveries.max(1) as f64,
        "load": load,
    }))
}

/// Each node's read counters.
async fn reads(nodes: &[&Server]) -> Vec<f64> {
    let mut out = Vec::new();
    for node in nodes {
        out.push(node.read_queries().await);
    }
    out
}

/// Each node's CPU seconds so far.
fn cpu(nodes: &[&Server]) -> Vec<f64> {
    nodes
        .iter()
        .map(|node| procfs::cpu_secs(node.pid).unwrap_or(0.0))
        .collect()
}
