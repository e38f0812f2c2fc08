//! Building and running the service: database (external or embedded), migrations, the
//! feed's listener, the HTTP server, and the order things stop in.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::auth::{Keys, Role};
use crate::config::{Cli, Command, Config, TokenArgs};
use crate::db::{migrate, Db};
use crate::dev_pg::DevPostgres;
use crate::feed::{Feed, FeedSettings};
use crate::http::{self, AppState};
use crate::observability::{self, Metrics};
use crate::shutdown::Shutdown;

/// How long open requests may take to finish after streams were closed.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Runs the command line.
pub async fn main(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.config).await,
        Some(Command::Serve(config)) => serve(config).await,
        Some(Command::Migrate(config)) => {
            let (_database, _db, applied) = open_for_command(&config).await?;
            println!("{applied} migration(s) applied");
            Ok(())
        }
        Some(Command::Token { token, config }) => {
            println!("{}", mint_token(&config, &token)?);
            Ok(())
        }
        Some(Command::Demo { demo, config }) => {
            let token = match &demo.token {
                Some(token) => token.clone(),
                None => mint_token(
                    &config,
                    &TokenArgs {
                        sub: "demo".into(),
                        role: "admin".into(),
                        shows: None,
                        ttl_secs: 12 * 3600,
                    },
                )?,
            };
            let url = demo
                .url
                .clone()
                .unwrap_or_else(|| format!("http://{}", config.bind_addr));
            crate::demo::run(demo, url, token).await
        }
        Some(Command::Prune {
            older_than_days,
            config,
        }) => {
            let (_database, db, _) = open_for_command(&config).await?;
            let days = i32::try_from(older_than_days).context("--older-than-days is too large")?;
            let n = db
                .prune_changes(days)
                .await
                .context("pruning show_changes")?;
            println!("{n} change(s) older than {older_than_days} day(s) removed");
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    observability::tracing::init(config.log_json);
    raise_fd_limit();
    let app = Application::build(config).await?;
    app.print_banner();
    // On the shutdown tokens' tracker: `run_until_stopped` waits for the watcher.
    app.shutdown().on_signal(app.state.config.shutdown_grace());
    app.run_until_stopped().await
}

/// Where the database is: DATABASE_URL, or the embedded cluster (started here).
pub struct Database {
    pub pg_config: tokio_postgres::Config,
    pub embedded: Option<DevPostgres>,
    /// The JWT secret: JWT_SECRET, or the embedded cluster's own.
    secret: Option<String>,
}

impl Database {
    /// A pool of `pool_size` connections, after applying pending migrations (under the
    /// advisory lock, so nodes starting together migrate once). Returns how many ran.
    pub async fn connect_migrated(&self, pool_size: usize) -> anyhow::Result<(Db, usize)> {
        let db = Db::connect(self.pg_config.clone(), pool_size)
            .await
            .context("connecting to Postgres")?;
        let mut client = db
            .client()
            .await
            .context("connecting to Postgres for migrations")?;
        let applied = migrate::run(&mut client)
            .await
            .context("running migrations")?;
        drop(client);
        Ok((db, applied))
    }

    pub fn open(config: &Config) -> anyhow::Result<Database> {
        if let Some(url) = &config.database_url {
            let pg_config = tokio_postgres::Config::from_str(url.expose_secret())
                .context("DATABASE_URL is not a valid Postgres connection string")?;
            let secret = config
                .jwt_secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned());
            return Ok(Database {
                pg_config,
                embedded: None,
                secret,
            });
        }
        let base = embedded_dir(config);
        let pg = DevPostgres::start_persistent(&base).context("starting the embedded Postgres")?;
        let pg_config =
            tokio_postgres::Config::from_str(&pg.connection_string(crate::dev_pg::SUPERUSER))
                .context("embedded connection string")?;
        let secret = match &config.jwt_secret {
            Some(s) => s.expose_secret().to_owned(),
            None => embedded_secret(pg.base_dir())?,
        };
        Ok(Database {
            pg_config,
            embedded: Some(pg),
            secret: Some(secret),
        })
    }
}

fn embedded_dir(config: &Config) -> PathBuf {
    config
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(".showfeed"))
}

/// The embedded database's JWT secret, made on first use and kept beside its data.
fn embedded_secret(base: &std::path::Path) -> anyhow::Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = base.join("jwt_secret");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        return Ok(secret.trim().to_owned());
    }
    let bytes: [u8; 32] = rand::random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, secret.as_bytes())?;
    Ok(secret)
}

fn mint_token(config: &Config, args: &TokenArgs) -> anyhow::Result<String> {
    let secret = match (&config.jwt_secret, &config.database_url) {
        (Some(s), _) => s.expose_secret().to_owned(),
        (None, Some(_)) => bail!("JWT_SECRET is required with DATABASE_URL"),
        (None, None) => {
            let base = embedded_dir(config);
            std::fs::create_dir_all(&base)
                .with_context(|| format!("creating {}", base.display()))?;
            embedded_secret(&base)?
        }
    };
    let role = Role::parse(&args.role).with_context(|| {
        format!(
            "unknown role {:?}: viewer, operator, ingest or admin",
            args.role
        )
    })?;
    let shows = args
        .shows
        .as_ref()
        .map(|ids| {
            ids.iter()
                .map(|s| uuid::Uuid::parse_str(s.trim()))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .context("--shows takes show ids (UUIDs)")?;
    Ok(Keys::new(secret.as_bytes()).mint(&args.sub, role, shows, args.ttl_secs))
}

/// What a one-shot command (`migrate`, `prune`) needs: logs, the database (kept alive, as
/// it may be the embedded one), a small migrated pool, and how many migrations ran.
async fn open_for_command(config: &Config) -> anyhow::Result<(Database, Db, usize)> {
    observability::tracing::init(config.log_json);
    let database = Database::open(config)?;
    let (db, applied) = database.connect_migrated(2).await?;
    Ok((database, db, applied))
}

/// The built service, bound to its port but not yet serving.
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    pub state: AppState,
    pg_config: tokio_postgres::Config,
    /// The embedded database, stopped when the application is dropped after serving.
    embedded: Option<DevPostgres>,
}

impl Application {
    /// Opens the database (starting the embedded one if needed), migrates, binds.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let database = Database::open(&config)?;
        let secret = database
            .secret
            .clone()
            .context("JWT_SECRET is required with DATABASE_URL")?;
        let (db, applied) = database.connect_migrated(config.pool_size).await?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .with_context(|| format!("binding {}", config.bind_addr))?;
        let address = listener.local_addr()?;
        let metrics = Arc::new(Metrics::default());
        let feed = Feed::new(
            db.clone(),
            metrics.clone(),
            FeedSettings {
                buffer: config.subscriber_buffer,
                ring_size: config.ring_size,
                replay_limit: config.replay_limit,
                snapshot_comments: config.snapshot_comments,
                snapshot_reuse: Duration::from_millis(config.snapshot_reuse_ms),
            },
        );
        let state = AppState {
            db,
            feed,
            keys: Keys::new(secret.as_bytes()),
            config: Arc::new(config),
            metrics,
            shutdown: Shutdown::default(),
        };
        Ok(Application {
            listener,
            address,
            state,
            pg_config: database.pg_config,
            embedded: database.embedded,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The shutdown tokens: `begin` them to stop the application as a signal would.
    pub fn shutdown(&self) -> Shutdown {
        self.state.shutdown.clone()
    }

    fn print_banner(&self) {
        let host = if self.address.ip().is_unspecified() {
            format!("127.0.0.1:{}", self.port())
        } else {
            self.address.to_string()
        };
        println!("showfeed listening on http://{host}");
        if let Some(pg) = &self.embedded {
            let token = self
                .state
                .keys
                .mint("console", Role::Admin, None, 12 * 3600);
            println!("embedded Postgres: {}", pg.psql_command());
            println!("operator console (token valid 12 h): http://{host}/#token={token}");
        } else {
            println!("operator console: http://{host}/ (mint a token with `showfeed token --sub you --role operator`)");
        }
    }

    /// Serves until shutdown: starts the listener task, then stops in order.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application {
            listener,
            state,
            pg_config,
            embedded,
            ..
        } = self;
        let shutdown = state.shutdown.clone();
        let feed = state.feed.clone();
        let listener_task = tokio::spawn(crate::feed::listener::run(
            state.feed.clone(),
            pg_config,
            crate::feed::listener::ListenerSettings::from_config(&state.config),
            shutdown.stop.clone(),
        ));

        use axum::serve::ListenerExt;
        let tcp = listener.tap_io(|stream| {
            // Small frames must not wait for Nagle (~40 ms each).
            let _ = stream.set_nodelay(true);
        });
        let streams_closed = shutdown.streams.clone();
        // A make-service built once: serving the Router itself would rebuild its routes
        // and clone the state for every accepted connection (~80 KiB per idle stream).
        let server = axum::serve(tcp, http::router(state).into_make_service())
            .with_graceful_shutdown(async move { streams_closed.cancelled().await });
        let result = std::future::IntoFuture::into_future(server);
        // Streams end when `streams` is cancelled; other requests get DRAIN_LIMIT more.
        let drained = async {
            shutdown.streams.cancelled().await;
            tokio::time::sleep(DRAIN_LIMIT).await;
        };
        tokio::select! {
            r = result => r.context("HTTP server failed")?,
            _ = drained => tracing::warn!("requests still open after the drain limit; stopping anyway"),
        }
        shutdown.stop.cancel();
        let _ = listener_task.await;
        feed.close().await;
        shutdown.finish().await;
        drop(embedded);
        tracing::info!("stopped");
        Ok(())
    }
}

/// Ten thousand subscribers need ten thousand descriptors: lift the soft limit to the hard one.
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
