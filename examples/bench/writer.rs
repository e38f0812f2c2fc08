//! Writers: a ticker that makes `rate` changes per second, alternately through the API
//! (`POST /comments`, one comment) and through plain SQL (`insert into comments`), the way
//! a platform connector and an analyst's session would.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::server::Server;

/// What the writers managed.
#[derive(Default, Debug, Clone, serde::Serialize)]
pub struct WriteCounts {
    pub api: u64,
    pub sql: u64,
    pub errors: u64,
    /// Ticks that found every writer slot busy (the database or server could not keep up).
    pub late: u64,
}

/// Writes `rate` comments per second for `duration`, round-robin over `shows`. Every write
/// makes exactly one change (the texts claim nothing). `tag` keeps external ids unique.
pub async fn drive(
    server: Arc<Server>,
    sql: Arc<Vec<tokio_postgres::Client>>,
    shows: Arc<Vec<Uuid>>,
    rate: f64,
    duration: Duration,
    tag: &str,
) -> WriteCounts {
    let api = Arc::new(AtomicU64::new(0));
    let via_sql = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut late = 0;
    let total = (rate * duration.as_secs_f64()).round() as u64;
    if total == 0 || shows.is_empty() {
        return WriteCounts::default();
    }
    let slots = Arc::new(Semaphore::new(64));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let insert = "insert into comments (show_id, external_id, author_id, author_name, text) \
                  values ($1, $2, $3, $4, $5)";
    for i in 0..total {
        ticker.tick().await;
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                late += 1;
                match tokio::time::timeout(Duration::from_secs(30), slots.clone().acquire_owned())
                    .await
                {
                    Ok(Ok(p)) => p,
                    _ => break,
                }
            }
        };
        let show = shows[(i as usize) % shows.len()];
        let external = format!("{tag}-{i}");
        let (server, sql) = (server.clone(), sql.clone());
        let (api, via_sql, errors) = (api.clone(), via_sql.clone(), errors.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let author = format!("buyer-{}", i % 997);
            let text = format!("benchmark message {i}");
            if i % 2 == 0 {
                let body = json!({"external_id": external, "author_id": author,
                                  "author_name": "Bench Buyer", "text": text});
                match server.post_comments(show, &body).await {
                    Ok(_) => api.fetch_add(1, Relaxed),
                    Err(_) => errors.fetch_add(1, Relaxed),
                };
            } else {
                let client = &sql[(i as usize / 2) % sql.len()];
                match client
                    .execute(insert, &[&show, &external, &author, &"SQL Buyer", &text])
                    .await
                {
                    Ok(_) => via_sql.fetch_add(1, Relaxed),
                    Err(_) => errors.fetch_add(1, Relaxed),
                };
            }
        });
    }
    // Wait for the writes in flight.
    let _ = tokio::time::timeout(Duration::from_secs(30), slots.acquire_many(64)).await;
    WriteCounts {
        api: api.load(Relaxed),
        sql: via_sql.load(Relaxed),
        errors: errors.load(Relaxed),
        late,
    }
}
