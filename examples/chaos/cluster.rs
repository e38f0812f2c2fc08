//! The system under test: one embedded Postgres and three `showfeed` nodes on fixed
//! ports sharing one JWT secret (so a subscriber's token works on any node, and a node
//! killed and started again comes back where its clients look for it).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use uuid::Uuid;

use crate::server::{free_port, Database, Server};

pub struct Cluster {
    bin: PathBuf,
    pub db: Database,
    secret: String,
    out: PathBuf,
    pub addrs: Vec<SocketAddr>,
    /// The running nodes (None while one is down).
    nodes: Vec<Option<Server>>,
    /// Starts per node, to name the log files.
    starts: Vec<usize>,
}

impl Cluster {
    /// Starts `count` nodes, one after the other (the first one runs the migrations).
    pub async fn start(
        bin: PathBuf,
        db: Database,
        count: usize,
        out: PathBuf,
    ) -> anyhow::Result<Cluster> {
        let mut addrs = Vec::new();
        for _ in 0..count {
            addrs.push(format!("127.0.0.1:{}", free_port()?).parse()?);
        }
        let mut cluster = Cluster {
            bin,
            db,
            secret: format!("chaos-{}", Uuid::new_v4()),
            out,
            addrs,
            nodes: (0..count).map(|_| None).collect(),
            starts: vec![0; count],
        };
        for i in 0..count {
            cluster.start_node(i).await?;
        }
        Ok(cluster)
    }

    /// Starts node `i` on its port and waits until it is ready.
    pub async fn start_node(&mut self, i: usize) -> anyhow::Result<()> {
        self.starts[i] += 1;
        let log = self.out.join(format!("node{i}-{}.log", self.starts[i]));
        let server = Server::start_at(&self.bin, &self.db, log, &[], self.addrs[i], &self.secret)
            .await
            .with_context(|| format!("starting node {i} on {}", self.addrs[i]))?;
        self.nodes[i] = Some(server);
        Ok(())
    }

    /// Any running node (for tokens and the admin API).
    pub fn any(&self) -> anyhow::Result<&Server> {
        self.nodes
            .iter()
            .flatten()
            .next()
            .context("no node is running")
    }

    pub fn pid(&self, i: usize) -> Option<u32> {
        self.nodes[i].as_ref().map(|s| s.pid)
    }

    /// SIGKILLs node `i` and starts it again on the same port.
    pub async fn kill_and_restart(&mut self, i: usize) -> anyhow::Result<()> {
        self.kill(i);
        self.start_node(i).await
    }

    /// SIGKILLs node `i` (no shutdown at all) and leaves it down.
    pub fn kill(&mut self, i: usize) {
        if let Some(server) = self.nodes[i].take() {
            server.kill();
        }
    }

    /// The running node that says (in its /metrics) it holds the relay lock; `skip` is
    /// not asked.
    pub async fn relay_node(&self, skip: Option<usize>) -> Option<usize> {
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(node) = node.as_ref().filter(|_| Some(i) != skip) else {
                continue;
            };
            if let Ok(m) = node.metrics().await {
                if m.get("showfeed_relay_holder") == Some(&1.0) {
                    return Some(i);
                }
            }
        }
        None
    }

    /// Stops and starts the embedded Postgres (same data directory and port).
    pub fn restart_postgres(&mut self) -> anyhow::Result<()> {
        let pg = self
            .db
            .embedded
            .as_mut()
            .context("Postgres is not embedded (DATABASE_URL is set)")?;
        tokio::task::block_in_place(|| pg.restart()).context("restarting Postgres")
    }

    /// Stops every node (SIGTERM).
    pub fn stop(mut self) {
        for server in self.nodes.iter_mut().filter_map(Option::take) {
            server.stop();
        }
    }
}
