//! The faults the soak injects, and how each one is put in place. Each `inject` returns
//! once the fault is in effect (a killed node is started again, a stopped one gets its
//! SIGCONT later from a background task): recovery is timed from that point on by the
//! probe in `main`.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::seq::SliceRandom;
use rand::Rng;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::cluster::Cluster;
use crate::subscriber::Sub;
use crate::writers::Sql;

/// Every kind of fault, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    KillListenerBackend,
    KillNode,
    KillRelay,
    StopNode,
    RestartPostgres,
    DropConnections,
    SlowSubscriber,
    Slowloris,
}

pub const ALL: [Fault; 8] = [
    Fault::KillListenerBackend,
    Fault::KillNode,
    Fault::KillRelay,
    Fault::StopNode,
    Fault::RestartPostgres,
    Fault::DropConnections,
    Fault::SlowSubscriber,
    Fault::Slowloris,
];

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::KillListenerBackend => "kill listener backend",
            Fault::KillNode => "SIGKILL + restart node",
            Fault::KillRelay => "SIGKILL + restart the relay's node",
            Fault::StopNode => "SIGSTOP the relay's node 20 s",
            Fault::RestartPostgres => "restart Postgres",
            Fault::DropConnections => "drop 30% of connections",
            Fault::SlowSubscriber => "slow subscribers",
            Fault::Slowloris => "slowloris burst",
        }
    }
}

/// How long a stopped node stays stopped.
const STOP_FOR: Duration = Duration::from_secs(20);
/// How long the slow subscribers stop reading (longer than the server's send timeout).
const SLOW_FOR: Duration = Duration::from_secs(20);
/// Comments written to the slow subscribers' shows while they do not read.
const BURST: usize = 600;
/// Sockets in one slowloris burst, and how long they keep trickling.
const SLOWLORIS_SOCKETS: usize = 300;
const SLOWLORIS_FOR: Duration = Duration::from_secs(15);

/// How long a new relay may take to be elected before the fault counts as failed.
const TAKEOVER_LIMIT: Duration = Duration::from_secs(30);

/// What an injection did.
pub struct Injected {
    /// For the log.
    pub what: String,
    /// For a fault on the relay's node: from the signal to another node's saying it
    /// holds the lock.
    pub relay_takeover: Option<Duration>,
}

impl Injected {
    /// `what`, and that node `next` took the relay over `took` after the fault.
    fn relay_moved(what: String, next: usize, took: Duration) -> Self {
        Injected {
            what: format!(
                "{what}; node {next} took the relay over in {} ms",
                took.as_millis()
            ),
            relay_takeover: Some(took),
        }
    }
}

impl From<String> for Injected {
    fn from(what: String) -> Self {
        Injected {
            what,
            relay_takeover: None,
        }
    }
}

/// Puts `fault` in place.
pub async fn inject(
    fault: Fault,
    cluster: &mut Cluster,
    sql: &Sql,
    subs: &[Arc<Sub>],
    shows: &[Uuid],
) -> anyhow::Result<Injected> {
    let node = rand::thread_rng().gen_range(0..cluster.addrs.len());
    let what = match fault {
        Fault::KillListenerBackend => {
            let client = sql.get().await?;
            let rows = client
                .query(
                    "select pg_terminate_backend(pid) from pg_stat_activity \
                     where application_name = 'showfeed-listener'",
                    &[],
                )
                .await
                .context("terminating the listeners' backends")?;
            format!("terminated {} listener backends", rows.len())
        }
        Fault::KillNode => {
            cluster
                .kill_and_restart(node)
                .await
                .with_context(|| format!("SIGKILL and restart of node {node}"))?;
            format!("node {node} killed and started again")
        }
        Fault::KillRelay => {
            let relay = wait_for_relay(cluster, None).await?;
            let killed = Instant::now();
            cluster.kill(relay);
            let next = wait_for_relay(cluster, None).await?;
            let took = killed.elapsed();
            cluster
                .start_node(relay)
                .await
                .with_context(|| format!("restarting node {relay}"))?;
            return Ok(Injected::relay_moved(
                format!("relay node {relay} killed"),
                next,
                took,
            ));
        }
        Fault::StopNode => {
            // The relay's node: frozen, it keeps the relay lock, so the others must end
            // its session (in either mode; in relay mode every node's writers wait on it).
            let node = wait_for_relay(cluster, None).await?;
            let pid = cluster.pid(node).context("node is not running")? as i32;
            // SAFETY: plain kill(2) on a child we started.
            unsafe { libc::kill(pid, libc::SIGSTOP) };
            let stopped = Instant::now();
            let next = wait_for_relay(cluster, Some(node)).await;
            let took = stopped.elapsed();
            tokio::spawn(async move {
                tokio::time::sleep_until((stopped + STOP_FOR).into()).await;
                // SAFETY: as above; if the node was killed meanwhile this is a no-op.
                unsafe { libc::kill(pid, libc::SIGCONT) };
            });
            return Ok(Injected::relay_moved(
                format!("relay node {node} (pid {pid}) stopped for {STOP_FOR:?}"),
                next?,
                took,
            ));
        }
        Fault::RestartPostgres => {
            cluster.restart_postgres()?;
            "Postgres stopped and started".into()
        }
        Fault::DropConnections => {
            let mut rng = rand::thread_rng();
            let n = subs.len() * 3 / 10;
            for sub in subs.choose_multiple(&mut rng, n) {
                sub.drop_now.notify_one();
            }
            format!("{n} subscribers told to reconnect")
        }
        Fault::SlowSubscriber => {
            let slow: Vec<Arc<Sub>> = subs.iter().filter(|s| s.slow).cloned().collect();
            for sub in &slow {
                sub.paused.store(true, Relaxed);
            }
            let mut theirs: Vec<Uuid> = slow.iter().map(|s| shows[s.show]).collect();
            theirs.sort_unstable();
            theirs.dedup();
            let paused_at = tokio::time::Instant::now();
            let written = if theirs.is_empty() {
                0
            } else {
                crate::writers::burst(sql, &theirs, BURST, 2000).await
            };
            tokio::time::sleep_until(paused_at + SLOW_FOR).await;
            for sub in &slow {
                sub.paused.store(false, Relaxed);
            }
            format!(
                "{} slow subscribers stopped reading for {SLOW_FOR:?} under {written} 2 kB comments",
                slow.len()
            )
        }
        Fault::Slowloris => {
            let addr = cluster.addrs[node];
            tokio::spawn(slowloris(addr));
            format!("{SLOWLORIS_SOCKETS} slowloris sockets on node {node}")
        }
    };
    Ok(what.into())
}

/// The node holding the relay lock, waiting up to TAKEOVER_LIMIT for one; `frozen` is
/// not asked (a stopped node would not answer).
async fn wait_for_relay(cluster: &Cluster, frozen: Option<usize>) -> anyhow::Result<usize> {
    let until = Instant::now() + TAKEOVER_LIMIT;
    loop {
        if let Some(node) = cluster.relay_node(frozen).await {
            return Ok(node);
        }
        anyhow::ensure!(
            Instant::now() < until,
            "no node held the relay lock within {TAKEOVER_LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A few hundred sockets that send a request line and then one header line every 3 s:
/// the node's header-read timeout must close them without hurting anyone else.
async fn slowloris(addr: SocketAddr) {
    let mut sockets = Vec::new();
    for _ in 0..SLOWLORIS_SOCKETS {
        if let Ok(Ok(mut s)) =
            tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await
        {
            if s.write_all(b"GET /healthz HTTP/1.1\r\n").await.is_ok() {
                sockets.push(s);
            }
        }
    }
    let until = tokio::time::Instant::now() + SLOWLORIS_FOR;
    while tokio::time::Instant::now() < until && !sockets.is_empty() {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut alive = Vec::with_capacity(sockets.len());
        for mut s in sockets {
            if s.write_all(b"X-Slow: 1\r\n").await.is_ok() {
                alive.push(s);
            }
        }
        sockets = alive;
    }
}
