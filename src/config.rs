//! Settings shared by every command: each is a flag and an environment variable (a `.env`
//! file is read first), with the defaults `.env.example` documents.
//!
//! They come in groups, one per part of the service that reads them ([`DatabaseArgs`],
//! [`AuthArgs`], [`SessionArgs`], [`HttpArgs`], [`FeedArgs`], [`ShowArgs`], [`ListenerArgs`], [`RelayArgs`], [`LogArgs`]), flattened into
//! [`Config`]. Each group converts into the settings type its part takes, so a part never
//! sees flags it does not use. The commands themselves live in [`crate::cli`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser};
use secrecy::SecretString;

use crate::feed::listener::ListenerSettings;
use crate::feed::relay::RelaySettings;
use crate::feed::FeedSettings;

/// Settings of the service; each flag also reads the environment variable in capitals.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub feed: FeedArgs,
    #[command(flatten)]
    pub shows: ShowArgs,
    #[command(flatten)]
    pub listener: ListenerArgs,
    #[command(flatten)]
    pub relay: RelayArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// Where Postgres is, and how many connections the service keeps to it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Database")]
pub struct DatabaseArgs {
    /// Postgres URL. Absent: start the embedded Postgres from the machine's binaries.
    #[arg(long, env = "DATABASE_URL", value_parser = parse_secret, hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// Connections in the query pool (the listener has its own, outside it).
    #[arg(long, env = "POOL_SIZE", default_value_t = 16)]
    pub pool_size: usize,
    /// Data directory of the embedded Postgres (default: .showfeed/ under the working directory).
    #[arg(long, env = "SHOWFEED_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DatabaseArgs {
    /// Where the embedded Postgres keeps its data, socket and JWT secret.
    pub fn embedded_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".showfeed"))
    }
}

/// The secret tokens are signed with.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Auth")]
pub struct AuthArgs {
    /// HS256 secret for JWTs; required with DATABASE_URL (the embedded database keeps its own).
    #[arg(long, env = "JWT_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// An identity provider's key set (JWKS) URL, http or https: its RS256, ES256 and
    /// EdDSA tokens are accepted besides HS256 ones.
    #[arg(long, env = "JWT_JWKS_URL", conflicts_with = "jwt_jwks_file")]
    pub jwt_jwks_url: Option<String>,
    /// The same key set from a file (re-read on refresh).
    #[arg(long, env = "JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<PathBuf>,
    /// PEM certificates to trust for an https `JWT_JWKS_URL` besides the public roots
    /// (an in-house provider behind a private CA).
    #[arg(long, env = "JWT_JWKS_CA_FILE")]
    pub jwt_jwks_ca_file: Option<PathBuf>,
    /// The `iss` an identity provider's tokens must carry (unchecked when unset).
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Audiences, comma-separated: an identity provider's token must name one in `aud`
    /// (unchecked when unset).
    #[arg(long, env = "JWT_AUDIENCE", value_delimiter = ',')]
    pub jwt_audience: Vec<String>,
    /// JSON pointer to the role in an identity provider's token: a role name or an array
    /// of names (the highest one counts), e.g. `/app_metadata/role`, `/realm_access/roles`.
    #[arg(long, env = "JWT_ROLE_CLAIM", default_value = "/role", value_parser = parse_pointer)]
    pub jwt_role_claim: String,
    /// JSON pointer to the list of show ids the token may see (absent: all shows).
    #[arg(long, env = "JWT_SHOWS_CLAIM", default_value = "/shows", value_parser = parse_pointer)]
    pub jwt_shows_claim: String,
    /// Seconds the key set is trusted before it is fetched again (a removed key stops
    /// working after this).
    #[arg(long, env = "JWKS_CACHE_SECS", default_value_t = 300)]
    pub jwks_cache_secs: u64,
    /// Least seconds between two fetches caused by an unknown `kid` or a failed fetch (a
    /// flood of made-up kids cannot hammer the provider).
    #[arg(long, env = "JWKS_MIN_REFRESH_SECS", default_value_t = 10)]
    pub jwks_min_refresh_secs: u64,
    /// Seconds a key set fetch may take (then it fails; the last good set is kept).
    #[arg(long, env = "JWKS_TIMEOUT_SECS", default_value_t = 5)]
    pub jwks_timeout_secs: u64,
}

/// Console sign-in: one-time sign-in codes and the cookie sessions they become
/// ([`crate::auth::session`]).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Sessions")]
pub struct SessionArgs {
    /// Seconds a sign-in link's code stays redeemable (it works once).
    #[arg(long, env = "SIGNIN_CODE_TTL_SECS", default_value_t = 600)]
    pub signin_code_ttl_secs: u64,
    /// Seconds without a request after which a console session ends.
    #[arg(long, env = "SESSION_IDLE_SECS", default_value_t = 2 * 3600)]
    pub session_idle_secs: u64,
    /// Seconds after sign-in at which a console session ends however busy it is.
    #[arg(long, env = "SESSION_MAX_SECS", default_value_t = 12 * 3600)]
    pub session_max_secs: u64,
    /// Seconds between an open stream's checks that its session still exists (sign-out
    /// on another node, idle end); sign-out on the same node is also seen at the next check.
    #[arg(long, env = "SESSION_RECHECK_SECS", default_value_t = 15)]
    pub session_recheck_secs: u64,
    /// Trust `X-Forwarded-Proto` and `X-Forwarded-Host` (set only behind a proxy that
    /// overwrites them): `https` there makes the cookie `Secure`, and the host is the
    /// origin CSRF checks compare with.
    #[arg(long, env = "TRUSTED_PROXY", default_value_t = false)]
    pub trusted_proxy: bool,
}

impl SessionArgs {
    pub fn code_ttl(&self) -> Duration {
        Duration::from_secs(self.signin_code_ttl_secs.max(1))
    }

    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.session_idle_secs.max(1))
    }

    pub fn max_age(&self) -> Duration {
        Duration::from_secs(self.session_max_secs.max(1))
    }

    pub fn recheck(&self) -> Duration {
        Duration::from_secs(self.session_recheck_secs.max(1))
    }
}

/// The HTTP server: where it listens, what it accepts, how its streams idle and end.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "HTTP")]
pub struct HttpArgs {
    /// Address the HTTP server listens on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind_addr: SocketAddr,
    /// Seconds without traffic after which a stream gets a `: keep-alive` comment.
    #[arg(long, env = "HEARTBEAT_SECS", default_value_t = 15)]
    pub heartbeat_secs: u64,
    /// Largest accepted request body in bytes (larger: 413).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds between SIGTERM and closing the open streams (the load balancer's health-check interval).
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 5)]
    pub shutdown_grace_secs: u64,
    /// Seconds a client may take to send a request's headers before its connection is closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,
    /// Largest request head (request line and headers) in bytes (larger: 431).
    #[arg(long, env = "MAX_HEADER_BYTES", default_value_t = 32 * 1024)]
    pub max_header_bytes: usize,
    /// Open connections at most; beyond it new sockets are closed at once. Default: the
    /// file-descriptor limit minus 2 × POOL_SIZE minus 64.
    #[arg(long, env = "MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
}

impl HttpArgs {
    /// Idle time before a stream's keep-alive comment (at least a second).
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs.max(1))
    }

    /// Time between the shutdown signal and closing the open streams.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// Time a client has to send a request's headers (at least a second).
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs.max(1))
    }
}

/// How the feed buffers, remembers and snapshots changes.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Feed")]
pub struct FeedArgs {
    /// How many newest comments the `initial` snapshot holds.
    #[arg(long, env = "SNAPSHOT_COMMENTS", default_value_t = 200)]
    pub snapshot_comments: i64,
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
    /// Shows one multiplexed stream (`/api/stream?shows=`) or poll may follow at most
    /// (more: 400). Each show costs a subscription, and every event's id grows with it.
    #[arg(long, env = "MAX_STREAM_SHOWS", default_value_t = 500)]
    pub max_stream_shows: usize,
}

/// Defaults of what operators create.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Shows")]
pub struct ShowArgs {
    /// ISO 4217 code of a new show's prices when its request names none.
    #[arg(long, env = "DEFAULT_CURRENCY", default_value = "USD", value_parser = parse_currency)]
    pub default_currency: String,
    /// Seconds after a release during which an operator may undo it (while its unit is
    /// still free).
    #[arg(long, env = "UNDO_WINDOW_SECS", default_value_t = 10)]
    pub undo_window_secs: u64,
}

/// A currency flag must be an active ISO 4217 code: a typo stops the start, not a show.
fn parse_currency(code: &str) -> Result<String, String> {
    crate::domain::currency::check_currency(code).map_err(|e| e.0)
}

impl From<&FeedArgs> for FeedSettings {
    fn from(args: &FeedArgs) -> Self {
        FeedSettings {
            buffer: args.subscriber_buffer,
            ring_size: args.ring_size,
            replay_limit: args.replay_limit,
            snapshot_comments: args.snapshot_comments,
            snapshot_reuse: Duration::from_millis(args.snapshot_reuse_ms),
        }
    }
}

/// How the LISTEN connection checks itself and the cluster's NOTIFY queue.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Listener")]
pub struct ListenerArgs {
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

impl From<&ListenerArgs> for ListenerSettings {
    fn from(args: &ListenerArgs) -> Self {
        ListenerSettings {
            ping_every: Duration::from_secs(args.listener_ping_secs.max(1)),
            queue_warn: args.notify_queue_warn,
            watchdog_usage: args.watchdog_queue_usage,
            stale_after: Duration::from_secs(args.listener_stale_secs.max(1)),
        }
    }
}

/// The relay doorbell (README, "The doorbell: trigger or relay"): every node stands for it,
/// one holds it; it rings only for writers in relay mode (`showfeed doorbell relay`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Relay")]
pub struct RelayArgs {
    /// Stand in the relay election (`false`: this node never relays; some node must).
    #[arg(long, env = "RELAY", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay: bool,
    /// Milliseconds between the relay's looks while changes keep coming.
    #[arg(long, env = "RELAY_POLL_MIN_MS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub relay_poll_min_ms: u64,
    /// The longest wait between the relay's looks when nothing has happened for 10 s (the
    /// most the first change after a quiet spell waits; 100 ms costs Postgres ~0.6% of a
    /// core here).
    #[arg(long, env = "RELAY_POLL_MAX_MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub relay_poll_max_ms: u64,
}

impl From<&RelayArgs> for RelaySettings {
    fn from(args: &RelayArgs) -> Self {
        RelaySettings {
            enabled: args.relay,
            poll_min: Duration::from_millis(args.relay_poll_min_ms),
            poll_max: Duration::from_millis(args.relay_poll_max_ms),
        }
    }
}

/// How logs are written (`RUST_LOG`, read by the log set-up itself, picks what).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Logging")]
pub struct LogArgs {
    /// Log as JSON lines instead of text.
    #[arg(long, env = "LOG_JSON", default_value_t = false)]
    pub log_json: bool,
}

/// A JSON pointer (RFC 6901): empty, or starting with `/`.
fn parse_pointer(value: &str) -> Result<String, String> {
    if value.is_empty() || value.starts_with('/') {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "a JSON pointer starts with '/': did you mean /{value}?"
        ))
    }
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
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        Only::parse_from(["showfeed"]).config
    }
}
