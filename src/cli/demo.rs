//! `showfeed demo`: makes a running service look like a live show, for a newcomer.
//!
//! It talks to the service over its public HTTP API, as the platform connector would: it
//! creates a show with items, sets it live, then posts comments from simulated buyers at
//! a steady rate, some of them claims (`sold 12`). It never touches the database, so it
//! also works against a deployed node (given `--url` and an ingest-capable `--token`).

use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use super::token::{GrantArgs, TokenArgs};
use crate::config::Config;

/// `showfeed demo` options.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// The running service (default: the address `serve` binds, BIND_ADDR).
    #[arg(long)]
    pub url: Option<String>,
    /// A token that may create shows and post comments (admin). Default: minted from the
    /// embedded database's secret or JWT_SECRET, as `showfeed token` does.
    #[arg(long, env = "SHOWFEED_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Comments per second.
    #[arg(long, default_value_t = 3.0)]
    pub rate: f64,
    /// How many distinct buyers comment.
    #[arg(long, default_value_t = 40)]
    pub buyers: usize,
    /// Items on sale (numbered from 1).
    #[arg(long, default_value_t = 12)]
    pub items: u32,
    /// Share of comments that claim an item (0 to 1).
    #[arg(long, default_value_t = 0.25)]
    pub claim_share: f64,
    /// Stop after this many seconds (0: run until Ctrl-C).
    #[arg(long, default_value_t = 0)]
    pub duration_secs: u64,
    /// Post into this existing show instead of creating one.
    #[arg(long)]
    pub show: Option<uuid::Uuid>,
}

const ITEM_NAMES: &[&str] = &[
    "Denim jacket, size M",
    "Silver hoop earrings",
    "Vintage band tee",
    "Leather ankle boots",
    "Wool beanie",
    "Linen summer dress",
    "Retro sunglasses",
    "Canvas tote bag",
    "Knit cardigan",
    "Pearl hair clips",
    "Corduroy trousers",
    "Silk scarf",
    "Chunky gold chain",
    "Platform sneakers",
    "Floral blouse",
];

const FIRST_NAMES: &[&str] = &[
    "Ava", "Ben", "Chloe", "Diego", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonah", "Kira",
    "Luca", "Maya", "Nils", "Olu", "Priya", "Quinn", "Rosa", "Sami", "Tess", "Umar", "Vera",
    "Wren", "Yuki", "Zoe",
];

/// Family names for the demo's buyers: "Elif Kaya", never "Elif 1" (25 × 25 = 625 people
/// before a name repeats, and then only with another id).
const LAST_NAMES: &[&str] = &[
    "Kaya",
    "Okafor",
    "Martins",
    "Nakamura",
    "Schmidt",
    "Rossi",
    "Haddad",
    "Novak",
    "Silva",
    "Ibrahim",
    "Lindqvist",
    "Moreau",
    "Kowalski",
    "Tanaka",
    "Osei",
    "Fischer",
    "Dubois",
    "Patel",
    "Andersen",
    "Costa",
    "Yilmaz",
    "Murphy",
    "Sato",
    "Mensah",
    "Garcia",
];

const CHATTER: &[&str] = &[
    "hi from Lisbon!",
    "how long is the jacket?",
    "love this 😍",
    "can you show the back?",
    "what size is that?",
    "is shipping included?",
    "omg the earrings",
    "first time here, hello",
    "do you have it in black?",
    "price?",
    "that colour is gorgeous",
    "waiting for the boots!",
];

/// Runs `showfeed demo`: against `--url` (default: BIND_ADDR) with `--token` (default: an
/// admin token minted as `showfeed token` would).
pub async fn run(args: DemoArgs, config: &Config) -> anyhow::Result<()> {
    let token = match &args.token {
        Some(token) => token.clone(),
        None => super::token::mint(
            config,
            &TokenArgs {
                grant: GrantArgs {
                    sub: "demo".into(),
                    role: "admin".into(),
                    shows: None,
                },
                ttl_secs: 12 * 3600,
            },
        )?,
    };
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.http.bind_addr));
    simulate(args, url, token).await
}

/// Runs the demo until `duration_secs` pass or Ctrl-C. `token` must allow creating shows
/// and posting comments.
async fn simulate(args: DemoArgs, base: String, token: String) -> anyhow::Result<()> {
    let base = base.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .context("building the HTTP client")?;
    let api = Api {
        client,
        base: base.clone(),
        token: token.clone(),
    };
    api.get("/healthz").await.with_context(|| {
        format!(
            "no showfeed service answers at {base}: start it first (`cargo run`), or pass --url"
        )
    })?;

    let show_id = match args.show {
        Some(id) => id.to_string(),
        None => create_show(&api, &args).await?,
    };
    println!("demo show: {show_id}");
    // No credential in the link: sign in with the link `showfeed serve` printed, or one
    // from `showfeed login-link`; the console keeps `#show=` through the sign-in.
    println!("open the console: {base}/#show={show_id} (sign in with the link `showfeed serve` printed, or `showfeed login-link --sub you --role operator`)");
    println!(
        "posting ~{} comment(s)/s from {} buyers; Ctrl-C to stop",
        args.rate, args.buyers
    );

    let buyers: Vec<(String, String)> = (0..args.buyers.max(1))
        .map(|i| (format!("demo-buyer-{i}"), demo_buyer_name(i)))
        .collect();

    // Comments go out in batches each tick: one request per tick keeps high rates cheap.
    let rate = args.rate.clamp(0.1, 10_000.0);
    let tick = Duration::from_secs_f64((1.0 / rate).max(0.1));
    let per_tick = (rate * tick.as_secs_f64()).round().max(1.0) as usize;
    let mut interval = tokio::time::interval(tick);
    let started = tokio::time::Instant::now();
    let mut posted = 0u64;
    let mut claims = 0u64;
    let mut last_report = started;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut n = 0u64;
    let mut failing_since: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            _ = interval.tick() => {}
        }
        if args.duration_secs > 0 && started.elapsed() >= Duration::from_secs(args.duration_secs) {
            break;
        }
        let batch: Vec<Value> = {
            let mut rng = rand::thread_rng();
            (0..per_tick)
                .map(|_| {
                    n += 1;
                    let (id, name) = buyers.choose(&mut rng).expect("at least one buyer");
                    json!({
                        "external_id": format!("demo-{show_id}-{n}"),
                        "author_id": id,
                        "author_name": name,
                        "text": comment_text(&mut rng, args.items, args.claim_share),
                    })
                })
                .collect()
        };
        match api
            .post(&format!("/api/shows/{show_id}/comments"), &json!(batch))
            .await
        {
            Ok(body) => {
                if failing_since.take().is_some() {
                    println!("posting again");
                }
                posted += body["comments"].as_array().map_or(0, |a| a.len() as u64);
                claims += body["claims"].as_array().map_or(0, |a| a.len() as u64);
            }
            // Keep going: a restart of the service is part of what the demo can show. One
            // line when it starts failing and one every 10 s, not one per tick.
            Err(e) => {
                let now = tokio::time::Instant::now();
                if failing_since.is_none_or(|t| now - t >= Duration::from_secs(10)) {
                    eprintln!("posting comments failed (will keep trying): {e:#}");
                    failing_since = Some(now);
                }
            }
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = tokio::time::Instant::now();
            println!("{posted} comment(s) posted, {claims} claim(s) made");
        }
    }
    println!("done: {posted} comment(s) posted, {claims} claim(s) made");
    Ok(())
}

/// Creates a live show with items and returns its id.
async fn create_show(api: &Api, args: &DemoArgs) -> anyhow::Result<String> {
    let title = format!("Demo show {}", chrono::Local::now().format("%H:%M"));
    let show = api
        .post("/api/shows", &json!({ "title": title, "status": "live" }))
        .await
        .context("creating the demo show")?;
    let id = show["id"]
        .as_str()
        .context("the created show has no id")?
        .to_owned();
    let mut rng = rand::thread_rng();
    let items: Vec<(u32, Value)> = (1..=args.items.clamp(1, 999))
        .map(|n| {
            let title = ITEM_NAMES[(n as usize - 1) % ITEM_NAMES.len()];
            let price_cents = rng.gen_range(8..90) * 100 + [0, 50, 99][rng.gen_range(0..3)];
            let quantity = *[1, 1, 1, 2, 3].choose(&mut rng).expect("non-empty");
            (
                n,
                json!({"title": title, "price_cents": price_cents, "quantity": quantity}),
            )
        })
        .collect();
    for (n, item) in items {
        api.put(&format!("/api/shows/{id}/items/{n}"), &item)
            .await
            .with_context(|| format!("creating item {n}"))?;
    }
    println!("created live show {title:?} with {} item(s)", args.items);
    Ok(id)
}

/// Demo buyer `i`'s name: a first and a family name, walking the family names at another
/// pace than the first names so neighbours differ in both.
fn demo_buyer_name(i: usize) -> String {
    let first = FIRST_NAMES[i % FIRST_NAMES.len()];
    let last = LAST_NAMES[(i + i / FIRST_NAMES.len()) % LAST_NAMES.len()];
    format!("{first} {last}")
}

/// A buyer's comment: a claim (in the spellings buyers use) or chatter.
fn comment_text(rng: &mut impl Rng, items: u32, claim_share: f64) -> String {
    if rng.gen_bool(claim_share.clamp(0.0, 1.0)) {
        let item = rng.gen_range(1..=items.max(1));
        match rng.gen_range(0..4) {
            0 => format!("sold {item}"),
            1 => format!("SOLD #{item}"),
            2 => format!("Sold {item}!"),
            _ => format!("sold {item} 🙏"),
        }
    } else {
        CHATTER.choose(rng).expect("non-empty").to_string()
    }
}

/// The few calls the demo makes, with errors that name the status and the server's message.
struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> anyhow::Result<()> {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("GET {path}: HTTP {}", r.status());
        }
        Ok(())
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::POST, path, body).await
    }

    async fn put(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::PUT, path, body).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<Value> {
        let r = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["error"]["message"].as_str().unwrap_or("no message");
            let hint = if status == 401 {
                " (the token does not match this service's secret: pass --token, or run the demo from the service's directory)"
            } else {
                ""
            };
            bail!("{method} {path}: HTTP {status}: {message}{hint}");
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_buyers_have_plausible_names_that_do_not_repeat_for_625_buyers() {
        let names: std::collections::HashSet<String> = (0..625).map(demo_buyer_name).collect();
        assert_eq!(names.len(), 625);
        for name in &names {
            assert!(
                !name.chars().any(|c| c.is_ascii_digit()) && name.split(' ').count() == 2,
                "{name:?}"
            );
        }
    }

    #[test]
    fn claim_comments_parse_as_claims_of_a_demo_item() {
        let mut rng = rand::thread_rng();
        for _ in 0..200 {
            let text = comment_text(&mut rng, 5, 1.0);
            let claim = crate::domain::claim_text::parse_claim(&text);
            assert!(
                claim.is_ok_and(|n| (1..=5).contains(&n)),
                "{text:?} should claim an item 1..=5"
            );
        }
    }
}
