//! The `queries` phase: the console's history and search requests on a show with 100,000
//! comments, one request at a time (an operator's, not a crowd's): a page of 100 older
//! comments from a random point (`before=`), and a text search (`q=`, the trigram index),
//! each timed from request to the whole JSON answer.

use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::hist::Hist;
use crate::server::Server;

/// Comments the show gets (by SQL, in one statement).
pub const COMMENTS: i64 = 100_000;
/// Timed requests of each kind.
const SAMPLES: usize = 300;

/// Fills `show` with `COMMENTS` comments (one in 400 holds "Needle"), then times history
/// pages and searches, and the same searches without the trigram index. Returns
/// `{"comments", "history", "search", "search_without_index"}` (latencies).
pub async fn run(
    server: &Server,
    sql: &tokio_postgres::Client,
    show: Uuid,
    latency: impl Fn(&crate::hist::Counts) -> Value,
) -> anyhow::Result<Value> {
    sql.execute(
        "insert into comments (show_id, external_id, author_id, author_name, text, created_at) \
         select $1, 'q' || g, 'u' || (g % 997), 'Buyer', \
                case when g % 400 = 7 then 'Needle in comment ' || g \
                     else 'chat line ' || g || ' about the jacket' end, \
                now() - make_interval(secs => g) \
           from generate_series(1, $2::bigint) g",
        &[&show, &COMMENTS],
    )
    .await?;
    sql.batch_execute("analyze comments").await?;
    let ids: Vec<Uuid> = sql
        .query(
            "select id from comments where show_id = $1 order by random() limit $2",
            &[&show, &(SAMPLES as i64)],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();

    let history = Hist::new();
    for id in &ids {
        let path = format!("/api/shows/{show}/comments?before={id}&limit=100");
        history.record(timed(server, &path).await?);
    }
    // Searches an operator types: a rare word (250 matches, the first page of 100), a word in
    // every other comment (a full page at once), a buyer's one comment, nothing at all.
    let mut terms: Vec<String> = vec!["needle".into(), "jacket".into(), "nothing like this".into()];
    terms.extend((0..20).map(|i| format!("comment {}", 7 + 400 * i)));
    let search = searches(server, show, &terms).await?;
    // The baseline in the same run: the same searches without the trigram index (what a
    // plain ILIKE costs: a scan of the show's comments), then the index is put back.
    sql.batch_execute("drop index comments_text_trgm_idx")
        .await?;
    let unindexed = searches(server, show, &terms).await;
    sql.batch_execute(
        "create index comments_text_trgm_idx on comments using gin (text gin_trgm_ops)",
    )
    .await?;
    let unindexed = unindexed?;
    Ok(json!({
        "comments": COMMENTS,
        "history": latency(&history.take()),
        "search": latency(&search.take()),
        "search_without_index": latency(&unindexed.take()),
    }))
}

/// `SAMPLES` searches, each for a term picked at random.
async fn searches(server: &Server, show: Uuid, terms: &[String]) -> anyhow::Result<Hist> {
    let hist = Hist::new();
    let mut rng = rand::thread_rng();
    for _ in 0..SAMPLES {
        let term = terms.choose(&mut rng).expect("terms");
        let q: String = url::form_urlencoded::byte_serialize(term.as_bytes()).collect();
        let path = format!("/api/shows/{show}/comments?q={q}&limit=100");
        hist.record(timed(server, &path).await?);
    }
    Ok(hist)
}

/// Microseconds from sending `GET path` to the whole answer (checked 200).
async fn timed(server: &Server, path: &str) -> anyhow::Result<u64> {
    let started = Instant::now();
    let r = server
        .http
        .get(format!("http://{}{path}", server.addr))
        .bearer_auth(&server.viewer_token)
        .timeout(Duration::from_secs(30))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 200, "{path}: {}", r.status());
    r.bytes().await?;
    Ok(started.elapsed().as_micros() as u64)
}
