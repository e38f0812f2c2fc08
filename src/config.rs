//! Command line and configuration: every setting is a flag and an environment variable
//! (a `.env` file is read first), with the defaults `.env.example` documents.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

/// `showfeed [serve]`, `showfeed migrate`, `showfeed token ...`, `showfeed demo`,
/// `showfeed prune`.
#[derive(Debug, Parser)]
#[command(
    name = "showfeed",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings for `serve`, the default command.
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(Config),
    /// Apply database migrations and exit.
    Migrate(Config),
    /// Mint a JWT for an operator, a connector or a test.
    Token {
        #[command(flatten)]
        token: TokenArgs,
        #[command(flatten)]
        config: Config,
    },
    /// Create a live show on a running service and simulate buyers commenting on it.
    Demo {
        #[command(flatten)]
        demo: crate::demo::DemoArgs,
        #[command(flatten)]
        config: Config,
    },
    /// Delete show_changes rows older than an age (resumes from before it get a fresh snapshot).
    Prune {
        /// Age in days; changes committed earlier are removed.
        #[arg(long)]
        older_than_days: u32,
        #[command(flatten)]
        config: Config,
    },
}

/// What `showfeed token` puts in the JWT.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Subject: who the token is for; recorded as the actor of every change it makes.
    #[arg(long)]
    pub sub: String,
    /// viewer, operator, ingest or admin.
    #[arg(long, default_value = "operator")]
    pub role: String,
    /// Show ids the token may see (comma separated); absent: all shows.
    #[arg(long, value_delimiter = ',')]
    pub shows: Option<Vec<String>>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 8 * 3600)]
    pub ttl_secs: u64,
}

/// Settings of the service; each flag also reads the environment variable in capitals.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Postgres URL. Absent: start the embedded Postgres from the machine's binaries.
    #[arg(long, env = "DATABASE_URL", value_parser = parse_secret, hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// Address the HTTP server listens on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind_addr: SocketAddr,
    /// HS256 secret for JWTs; required with DATABASE_URL (the embedded database keeps its own).
    #[arg(long, env = "JWT_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// Seconds without traffic after which a stream gets a `: keep-alive` comment.
    #[arg(long, env = "HEARTBEAT_SECS", default_value_t = 15)]
    pub heartbeat_secs: u64,
    /// How many newest comments the `initial` snapshot holds.
    #[arg(long, env = "SNAPSHOT_COMMENTS", default_value_t = 200)]
    pub snapshot_comments: i64,
    /// Connections in the query pool (the listener has its own, outside it).
    #[arg(long, env = "POOL_SIZE", default_value_t = 16)]
    pub pool_size: usize,
    /// Largest accepted request body in bytes (larger: 413).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds between SIGTERM and closing the open streams (the load balancer's health-check interval).
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 5)]
    pub shutdown_grace_secs: u64,
    /// Changes each subscriber may have queued before it is cut over to catch-up.
    #[arg(long, env = "SUBSCRIBER_BUFFER", default_value_t = 1024)]
    pub subscriber_buffer: usize,
    /// Recent changes kept in memory per show to serve resumes without a query.
    #[arg(long, env = "RING_SIZE", default_value_t = 4096)]
    pub ring_size: usize,
    /// Resumes further back than this many changes get a fresh `initial` instead of a replay.
    #[arg(long, env = "REPLAY_LIMIT", default_value_t = 100_000)]
    pub replay_limit: i64,
    /// A snapshot this young (milliseconds) is shared with new subscribers instead of a new query.
    #[arg(long, env = "SNAPSHOT_REUSE_MS", default_value_t = 500)]
    pub snapshot_reuse_ms: u64,
    /// Data directory of the embedded Postgres (default: .showfeed/ under the working directory).
    #[arg(long, env = "SHOWFEED_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "LOG_JSON", default_value_t = false)]
    pub log_json: bool,
    /// Warn in the log when pg_notification_queue_usage() is above this fraction.
    #[arg(long, env = "NOTIFY_QUEUE_WARN", default_value_t = 0.5)]
    pub notify_queue_warn: f64,
    /// Seconds between the listener's round trips (liveness check and queue sampling).
    #[arg(long, env = "LISTENER_PING_SECS", default_value_t = 5)]
    pub listener_ping_secs: u64,
    /// Watchdog: when the NOTIFY queue is fuller than this fraction, terminate other
    /// nodes' listener sessions that have not pinged for LISTENER_STALE_SECS.
    #[arg(long, env = "WATCHDOG_QUEUE_USAGE", default_value_t = 0.001)]
    pub watchdog_queue_usage: f64,
    /// Watchdog: a listener session silent this long (its node frozen or cut off) is stuck.
    #[arg(long, env = "LISTENER_STALE_SECS", default_value_t = 60)]
    pub listener_stale_secs: u64,
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value.to_owned()))
}

impl Config {
    /// The defaults, as if run with no flags (environment variables still apply).
    pub fn from_env() -> Self {
        Config::parse_from_args(["showfeed"])
    }

    fn parse_from_args<I: IntoIterator<Item = &'static str>>(args: I) -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        Only::parse_from(args).config
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs.max(1))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

impl Cli {
    /// Reads `.env` (if any) and the command line.
    pub fn load() -> Self {
        let _ = dotenvy::dotenv();
        Cli::parse()
    }
}
