//! Building and running the service: the database (opened by [`crate::database`]), the
//! feed and its listener, the HTTP server, and the order things stop in. The command that
//! runs it is [`crate::cli::serve`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use axum::extract::FromRef;

use crate::auth::session::Grant;
use crate::auth::{IdentityProvider, Keys, Role, Sessions};
use crate::config::Config;
use crate::database::Database;
use crate::dev_pg::DevPostgres;
use crate::feed::{Feed, FeedSettings};
use crate::http::{self, AppState};
use crate::observability::Metrics;
use crate::service::group_commit::GroupCommit;
use crate::shutdown::Shutdown;

/// How long open requests may take to finish after streams were closed.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

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
        let secret = database.jwt_secret()?.to_owned();
        let (db, applied) = database.connect_migrated(config.database.pool_size).await?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
        let listener = TcpListener::bind(config.http.bind_addr)
            .await
            .with_context(|| format!("binding {}", config.http.bind_addr))?;
        let address = listener.local_addr()?;
        let metrics = Arc::new(Metrics::default());
        let feed = Feed::new(
            db.clone(),
            metrics.clone(),
            FeedSettings::from(&config.feed),
        );
        let state = AppState {
            ingest: GroupCommit::new(db.clone(), metrics.clone()),
            db,
            feed,
            keys: Keys::new(secret.as_bytes())
                .with_identity_provider(IdentityProvider::from_args(&config.auth)?),
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

    /// Prints where the service listens and how to reach its console (and, when the
    /// database is the embedded one, a `psql` command and a one-time sign-in link: its
    /// code is in the fragment, works once and for SIGNIN_CODE_TTL_SECS, and no token is
    /// ever printed).
    pub async fn print_banner(&self) {
        let host = if self.address.ip().is_unspecified() {
            format!("127.0.0.1:{}", self.port())
        } else {
            self.address.to_string()
        };
        println!("showfeed listening on http://{host}");
        let Some(pg) = &self.embedded else {
            println!("operator console: http://{host}/ (a sign-in link: `showfeed login-link --sub you --role operator`)");
            return;
        };
        println!("embedded Postgres: {}", pg.psql_command());
        let grant = Grant {
            sub: "console".into(),
            role: Role::Admin,
            shows: None,
        };
        let sessions = Sessions::from_ref(&self.state);
        match sessions.issue_code(&grant).await {
            Ok((code, _)) => {
                let minutes = sessions.settings.code_ttl.as_secs().div_ceil(60);
                println!("operator console (sign-in link, works once within {minutes} min; another: `showfeed login-link --sub you --role admin`):");
                println!("http://{host}/#code={code}");
            }
            Err(e) => {
                tracing::warn!(error = %e, "writing the console's sign-in code failed");
                println!("operator console: http://{host}/ (a sign-in link: `showfeed login-link --sub you --role admin`)");
            }
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
            pg_config.clone(),
            crate::feed::listener::ListenerSettings::from(&state.config.listener),
            shutdown.stop.clone(),
        ));
        let relay_task = tokio::spawn(crate::feed::relay::run(
            state.metrics.clone(),
            pg_config.clone(),
            crate::feed::relay::RelaySettings::from(&state.config.relay),
            shutdown.stop.clone(),
        ));

        let limits = crate::server::ConnectionLimits::from_config(&state.config);
        let metrics = state.metrics.clone();
        let streams_closed = shutdown.streams.clone();
        // One router, cloned (an `Arc`) per connection: no per-connection rebuild.
        let result =
            crate::server::serve(listener, http::router(state), limits, metrics, async move {
                streams_closed.cancelled().await
            });
        // Streams end when `streams` is cancelled; other requests get DRAIN_LIMIT more.
        let drained = async {
            shutdown.streams.cancelled().await;
            tokio::time::sleep(DRAIN_LIMIT).await;
        };
        tokio::select! {
            () = result => {}
            _ = drained => tracing::warn!("requests still open after the drain limit; stopping anyway"),
        }
        shutdown.stop.cancel();
        let _ = listener_task.await;
        let _ = relay_task.await;
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
