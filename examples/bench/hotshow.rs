//! The viral moment: `clients` HTTP clients each POSTing single comments to one show, at
//! `rate` comments/s in all (an open load: each client on its own ticker, so a slow
//! answer shows as latency, not as a lower offered rate), a quarter of them `sold N` on
//! 20 items of 5 units. Measures comments/s stored, the POST round trip, the group sizes
//! the server formed (its `ingest_groups` counters), and checks the claim rules held:
//! per item at most its units claimed, waitlist positions exactly 1..n, at most one live
//! claim per buyer and item, and every `sold N` comment made or was refused one claim.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use crate::hist::Hist;
use crate::{Bench, Latency};

const ITEMS: i32 = 20;
const UNITS: i32 = 5;

pub async fn run(b: &Bench, clients: usize, rate: f64, seconds: u64) -> anyhow::Result<Value> {
    let server = &b.server;
    let show = server.create_show("hot show").await?;
    for item in 1..=ITEMS {
        let r = server
            .http
            .put(server.url(&format!("/api/shows/{show}/items/{item}")))
            .bearer_auth(&server.admin_token)
            .json(&json!({"title": format!("item {item}"), "quantity": UNITS, "price_cents": 1000}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "put item: {}", r.status());
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(30))
        .build()?;
    let groups_before = b.metric("showfeed_ingest_groups_total").await;
    let grouped_before = b.metric("showfeed_ingest_grouped_requests_total").await;
    let cpu_before = b.marks();
    let latency = Arc::new(Hist::new());
    let (stored, errors, late) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let period = Duration::from_secs_f64(clients as f64 / rate);
    let until = Instant::now() + Duration::from_secs(seconds);
    let url = server.url(&format!("/api/shows/{show}/comments"));
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let (http, url, token) = (http.clone(), url.clone(), server.admin_token.clone());
        let (latency, stored, errors, late) = (
            latency.clone(),
            stored.clone(),
            errors.clone(),
            late.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let first = tokio::time::Instant::now() + period.mul_f64(c as f64 / clients as f64);
            let mut ticker = tokio::time::interval_at(first, period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut i = 0u64;
            loop {
                let tick = ticker.tick().await;
                if Instant::now() >= until {
                    return;
                }
                if tick.elapsed() > period {
                    late.fetch_add(1, Relaxed);
                }
                let text = if i.is_multiple_of(4) {
                    format!("sold {}", (c as u64 + i) % ITEMS as u64 + 1)
                } else {
                    format!("love it {i}")
                };
                let body = json!({"external_id": format!("hot-{c}-{i}"), "author_id": format!("buyer-{c}"),
                                  "author_name": "Buyer", "text": text});
                let started = Instant::now();
                match http.post(&url).bearer_auth(&token).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latency.record(started.elapsed().as_micros() as u64);
                        stored.fetch_add(1, Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Relaxed);
                    }
                }
                i += 1;
            }
        }));
    }
    let started = Instant::now();
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = b.marks().since(&cpu_before);
    let groups = b.metric("showfeed_ingest_groups_total").await - groups_before;
    let grouped = b.metric("showfeed_ingest_grouped_requests_total").await - grouped_before;
    let claims = check_claims(&b.probe, show)
        .await
        .context("checking the claims")?;
    let stored = stored.load(Relaxed);
    let result = json!({
        "clients": clients,
        "offered_rate": rate,
        "seconds": elapsed,
        "stored": stored,
        "comments_per_sec": stored as f64 / elapsed,
        "errors": errors.load(Relaxed),
        "late_ticks": late.load(Relaxed),
        "post": Latency::of(&latency.take()),
        "group_transactions": groups,
        "requests_per_group": if groups > 0.0 { grouped / groups } else { 0.0 },
        "claims": claims,
        "cpu": cpu,
    });
    eprintln!(
        "hotshow: {} clients, {:.0} comments/s stored of {rate:.0} offered, POST p50 {:?} p99 {:?} ms, {:.1} requests per transaction, claims exact: {}",
        clients,
        stored as f64 / elapsed,
        result["post"]["p50_ms"],
        result["post"]["p99_ms"],
        result["requests_per_group"].as_f64().unwrap_or(0.0),
        result["claims"]["exact"],
    );
    Ok(result)
}

/// The claims test's invariants, by SQL over the show's rows.
async fn check_claims(sql: &tokio_postgres::Client, show: uuid::Uuid) -> anyhow::Result<Value> {
    let over_units: i64 = sql
        .query_one(
            "select count(*) from (select c.item_number from claims c join items i \
               on i.show_id = c.show_id and i.item_number = c.item_number \
              where c.show_id = $1 and c.status in ('claimed', 'paid') \
              group by c.item_number, i.quantity having count(*) > i.quantity) x",
            &[&show],
        )
        .await?
        .get(0);
    let bad_positions: i64 = sql
        .query_one(
            "select count(*) from (select item_number, array_agg(waitlist_position order by waitlist_position) p, count(*) n \
               from claims where show_id = $1 and status = 'waitlisted' group by item_number) x \
              where p <> array(select generate_series(1, n::int))",
            &[&show],
        )
        .await?
        .get(0);
    let double_claims: i64 = sql
        .query_one(
            "select count(*) from (select buyer_id, item_number from claims where show_id = $1 \
               and status in ('claimed', 'waitlisted', 'paid') group by 1, 2 having count(*) > 1) x",
            &[&show],
        )
        .await?
        .get(0);
    let unanswered_sold: i64 = sql
        .query_one(
            "select count(*) from comments where show_id = $1 and text like 'sold %' and claim_result is null",
            &[&show],
        )
        .await?
        .get(0);
    let claims: i64 = sql
        .query_one("select count(*) from claims where show_id = $1", &[&show])
        .await?
        .get(0);
    Ok(json!({
        "claims": claims,
        "items_over_their_units": over_units,
        "items_with_waitlist_not_1_to_n": bad_positions,
        "buyer_item_pairs_with_two_live_claims": double_claims,
        "sold_comments_without_an_outcome": unanswered_sold,
        "exact": over_units == 0 && bad_positions == 0 && double_claims == 0 && unanswered_sold == 0,
    }))
}
