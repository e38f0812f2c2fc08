//! The writers: comments and claims through the API (any node, round-robin) and plain
//! SQL `insert into comments`, a few per second, failing and retrying through the faults
//! like real clients; and the probe writes that time a fault's recovery.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::server;

const INSERT: &str = "insert into comments (show_id, external_id, author_id, author_name, text) \
                      values ($1, $2, $3, $4, $5)";

/// A SQL connection that reconnects when Postgres restarted or killed it.
pub struct Sql {
    url: String,
    client: tokio::sync::Mutex<Option<Arc<tokio_postgres::Client>>>,
}

impl Sql {
    pub fn new(url: &str) -> Sql {
        Sql {
            url: url.to_owned(),
            client: tokio::sync::Mutex::new(None),
        }
    }

    /// The open connection, or a new one.
    pub async fn get(&self) -> anyhow::Result<Arc<tokio_postgres::Client>> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let c = tokio::time::timeout(Duration::from_secs(5), server::connect(&self.url))
            .await
            .context("connecting to Postgres: timed out")??;
        let c = Arc::new(c);
        *slot = Some(c.clone());
        Ok(c)
    }
}

/// The API as a platform connector sees it: any node, an admin token.
pub struct Api {
    pub http: reqwest::Client,
    pub nodes: Vec<SocketAddr>,
    pub admin_token: String,
    next: AtomicUsize,
}

impl Api {
    pub fn new(nodes: Vec<SocketAddr>, admin_token: String) -> anyhow::Result<Api> {
        Ok(Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            nodes,
            admin_token,
            next: AtomicUsize::new(0),
        })
    }

    /// POSTs one comment to the next node.
    pub async fn post_comment(&self, show: Uuid, external: &str, text: &str) -> anyhow::Result<()> {
        let node = self.nodes[self.next.fetch_add(1, Relaxed) % self.nodes.len()];
        let r = self
            .http
            .post(format!("http://{node}/api/shows/{show}/comments"))
            .bearer_auth(&self.admin_token)
            .json(
                &json!({"external_id": external, "author_id": format!("chaos-{external}"),
                          "author_name": "Chaos Buyer", "text": text}),
            )
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "post comment: {}", r.status());
        Ok(())
    }
}

/// What the writers managed.
#[derive(Default, Debug, Clone)]
pub struct WriteCounts {
    pub ok: u64,
    pub errors: u64,
}

/// Writes `rate` changes per second until `stop`: in turn an API comment, a SQL comment,
/// an API claim ("sold N") and a SQL comment. At most 16 writes in flight.
pub async fn drive(
    api: Arc<Api>,
    sql: Arc<Sql>,
    shows: Arc<Vec<Uuid>>,
    rate: f64,
    stop: CancellationToken,
) -> WriteCounts {
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let slots = Arc::new(Semaphore::new(16));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut i: u64 = 0;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.cancelled() => break,
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            errors.fetch_add(1, Relaxed);
            continue;
        };
        i += 1;
        let show = shows[(i as usize) % shows.len()];
        let (api, sql, ok, errors) = (api.clone(), sql.clone(), ok.clone(), errors.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let external = format!("w-{i}-{}", Uuid::new_v4());
            let result = match i % 4 {
                0 => api.post_comment(show, &external, "chaos comment").await,
                2 => {
                    api.post_comment(show, &external, &format!("sold {}", 100 + i % 50))
                        .await
                }
                _ => sql_comment(&sql, show, &external).await,
            };
            match result {
                Ok(()) => ok.fetch_add(1, Relaxed),
                Err(_) => errors.fetch_add(1, Relaxed),
            };
        });
    }
    // Let the writes in flight finish (or time out).
    let _ = tokio::time::timeout(Duration::from_secs(15), slots.acquire_many(16)).await;
    WriteCounts {
        ok: ok.load(Relaxed),
        errors: errors.load(Relaxed),
    }
}

async fn sql_comment(sql: &Sql, show: Uuid, external: &str) -> anyhow::Result<()> {
    let client = sql.get().await?;
    let author = format!("sql-{external}");
    tokio::time::timeout(
        Duration::from_secs(10),
        client.execute(
            INSERT,
            &[&show, &external, &author, &"SQL Buyer", &"via psql"],
        ),
    )
    .await
    .context("insert timed out")??;
    Ok(())
}

/// Inserts `n` comments of about `len` bytes each, round-robin over `shows`, through
/// SQL: enough bytes to fill a paused subscriber's socket and the hub's buffer, so that
/// the server has to let it lag and repair it from the ring or the log. Returns how many
/// inserts succeeded.
pub async fn burst(sql: &Sql, shows: &[Uuid], n: usize, len: usize) -> usize {
    let text = "x".repeat(len);
    let mut ok = 0;
    for i in 0..n {
        let external = format!("burst-{}", Uuid::new_v4());
        let attempt = async {
            let client = sql.get().await?;
            let author = format!("sql-{external}");
            client
                .execute(
                    INSERT,
                    &[
                        &shows[i % shows.len()],
                        &external,
                        &author,
                        &"SQL Buyer",
                        &text,
                    ],
                )
                .await?;
            anyhow::Ok(())
        };
        if attempt.await.is_ok() {
            ok += 1;
        }
    }
    ok
}

/// Writes one probe comment to every show (retrying through a Postgres restart, up to
/// `limit`) and returns each show's `last_seq` after it: a subscriber that reached that
/// seq has seen a change committed after the fault.
pub async fn probe(sql: &Sql, shows: &[Uuid], limit: Duration) -> anyhow::Result<Vec<i64>> {
    let until = Instant::now() + limit;
    let mut seqs = Vec::with_capacity(shows.len());
    for &show in shows {
        let external = format!("probe-{}", Uuid::new_v4());
        loop {
            let attempt = async {
                sql_comment(sql, show, &external).await?;
                let client = sql.get().await?;
                let row = client
                    .query_one("select last_seq from shows where id = $1", &[&show])
                    .await?;
                anyhow::Ok(row.get::<_, i64>(0))
            };
            match attempt.await {
                Ok(seq) => {
                    seqs.push(seq);
                    break;
                }
                Err(e) if Instant::now() > until => return Err(e.context("probe write")),
                // A unique violation means the insert committed before its answer was lost.
                Err(e) if format!("{e:#}").contains("duplicate key") => {
                    let client = sql.get().await?;
                    let row = client
                        .query_one("select last_seq from shows where id = $1", &[&show])
                        .await?;
                    seqs.push(row.get::<_, i64>(0));
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
    Ok(seqs)
}
