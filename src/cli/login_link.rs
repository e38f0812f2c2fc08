//! `showfeed login-link`: a one-time console sign-in link for a person, written straight
//! into the database the service uses (DATABASE_URL, or the embedded cluster: the running
//! service's if `showfeed serve` has it up, else started for the command). Pending
//! migrations are applied first, as `serve` would, so the code's table exists.
//!
//! The link carries the code in the fragment (`/#code=…`): browsers never send a fragment
//! to a server, so no proxy or access log sees it. The code works once, for
//! `SIGNIN_CODE_TTL_SECS`; the session it opens lasts as `SESSION_*` say.

use std::str::FromStr;

use anyhow::Context;
use clap::Args;

use super::token::{parse_role, parse_shows, GrantArgs};
use crate::auth::session::{issue_code, Grant};
use crate::config::Config;
use crate::database::Database;
use crate::db::Db;
use crate::dev_pg;

/// Whom `showfeed login-link` signs in, and where the link points.
#[derive(Debug, Clone, Args)]
pub struct LoginLinkArgs {
    #[command(flatten)]
    pub grant: GrantArgs,
    /// The console's address as the person's browser reaches it (default: http:// and
    /// BIND_ADDR), e.g. https://showfeed.example.com.
    #[arg(long)]
    pub base_url: Option<String>,
}

/// Writes the code and prints what it is for, then the link alone on the last line.
pub async fn run(args: &LoginLinkArgs, config: &Config) -> anyhow::Result<()> {
    let sub = args.grant.sub.trim();
    anyhow::ensure!(
        (1..=200).contains(&sub.len()),
        "--sub must be 1 to 200 characters"
    );
    let grant = Grant {
        sub: sub.to_owned(),
        role: parse_role(&args.grant.role)?,
        shows: parse_shows(args.grant.shows.as_deref())?,
    };
    let base = base_url(args, config)?;
    let (_database, db) = connect(config).await?;
    let client = db.client().await.context("connecting to Postgres")?;
    let ttl = config.session.code_ttl();
    let (code, expires_at) = issue_code(&client, &grant, ttl)
        .await
        .context("writing the sign-in code")?;
    let shows = match &grant.shows {
        Some(ids) => format!("{} show(s)", ids.len()),
        None => "all shows".to_owned(),
    };
    println!(
        "sign-in link for {} ({}, {shows}); works once, until {} UTC:",
        grant.sub,
        grant.role.as_str(),
        expires_at.format("%Y-%m-%d %H:%M:%S")
    );
    println!("{base}/#code={code}");
    Ok(())
}

/// `--base-url` without a trailing slash, or `http://` + BIND_ADDR (0.0.0.0 as 127.0.0.1).
fn base_url(args: &LoginLinkArgs, config: &Config) -> anyhow::Result<String> {
    if let Some(url) = &args.base_url {
        let url = url.trim().trim_end_matches('/');
        anyhow::ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "--base-url must start with http:// or https:// (got {url:?})"
        );
        return Ok(url.to_owned());
    }
    let addr = config.http.bind_addr;
    let host = if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    };
    Ok(format!("http://{host}"))
}

/// A small migrated pool on the service's database. The embedded cluster a running
/// `serve` holds is reached through its socket (a second postmaster could not start on
/// its data); otherwise [`Database::open`] resolves it (and keeps an embedded one up while
/// the command runs).
async fn connect(config: &Config) -> anyhow::Result<(Database, Db)> {
    let running = config
        .database
        .database_url
        .is_none()
        .then(|| {
            dev_pg::running_connection_string(&config.database.embedded_dir(), dev_pg::SUPERUSER)
        })
        .flatten();
    let database = match running {
        Some(url) => Database::running_at(tokio_postgres::Config::from_str(&url)?),
        None => Database::open(config)?,
    };
    let (db, _) = database.connect_migrated(2).await.context(
        "connecting to Postgres and applying migrations (the sign-in codes' table comes with them)",
    )?;
    Ok((database, db))
}
