//! `showfeed token`: mints a JWT with the secret the service uses, for an operator, a
//! connector or a test. It never starts the embedded Postgres, only reads its secret.

use anyhow::Context;
use clap::Args;

use crate::auth::{Keys, Role};
use crate::config::Config;
use crate::database;

/// Who a token (or a sign-in link, `login-link`) is for and what it allows.
#[derive(Debug, Clone, Args)]
pub struct GrantArgs {
    /// Subject: who it is for; recorded as the actor of every change made with it.
    #[arg(long)]
    pub sub: String,
    /// viewer, operator, ingest or admin.
    #[arg(long, default_value = "operator")]
    pub role: String,
    /// Show ids it may see (comma separated); absent: all shows.
    #[arg(long, value_delimiter = ',')]
    pub shows: Option<Vec<String>>,
}

/// What `showfeed token` puts in the JWT.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub grant: GrantArgs,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 8 * 3600)]
    pub ttl_secs: u64,
}

/// Prints the token on stdout (alone, so scripts can capture it).
pub fn run(args: &TokenArgs, config: &Config) -> anyhow::Result<()> {
    println!("{}", mint(config, args)?);
    Ok(())
}

/// A token the service configured by `config` accepts.
pub fn mint(config: &Config, args: &TokenArgs) -> anyhow::Result<String> {
    let secret = database::jwt_secret(config)?;
    let role = parse_role(&args.grant.role)?;
    let shows = parse_shows(args.grant.shows.as_deref())?;
    Ok(Keys::new(secret.as_bytes()).mint(&args.grant.sub, role, shows, args.ttl_secs))
}

/// `--role`: one of the four names.
pub fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role)
        .with_context(|| format!("unknown role {role:?}: viewer, operator, ingest or admin"))
}

/// `--shows`: show ids (None: all shows).
pub fn parse_shows(shows: Option<&[String]>) -> anyhow::Result<Option<Vec<uuid::Uuid>>> {
    shows
        .map(|ids| {
            ids.iter()
                .map(|s| uuid::Uuid::parse_str(s.trim()))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .context("--shows takes show ids (UUIDs)")
}
