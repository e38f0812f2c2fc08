//! Which Postgres this process uses, and the JWT secret that comes with it.
//!
//! With `DATABASE_URL` it is that server and `JWT_SECRET` must be given; without, it is the
//! embedded cluster ([`DevPostgres`]) under `SHOWFEED_DATA_DIR`, started here, whose secret
//! is made on first use and kept beside its data. Either way the pool is only handed out
//! after pending migrations ran, under the advisory lock ([`crate::db::migrate`]).
//!
//! This is process set-up, used by `serve` ([`crate::startup`]) and by the one-shot
//! commands ([`crate::cli`]); it lives outside `db/` so that the data layer depends on
//! neither the command line nor the embedded launcher.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use secrecy::ExposeSecret;

use crate::config::Config;
use crate::db::migrate::{self, MigrateError};
use crate::db::{Db, DbError};
use crate::dev_pg::{DevPgError, DevPostgres, SUPERUSER};

/// Why the database (or its secret) could not be opened; the messages are what an
/// operator reads, with the cause after them.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL is not a valid Postgres connection string")]
    InvalidUrl(#[source] tokio_postgres::Error),
    #[error("starting the embedded Postgres")]
    Embedded(#[source] DevPgError),
    #[error("embedded connection string")]
    EmbeddedUrl(#[source] tokio_postgres::Error),
    #[error("JWT_SECRET is required with DATABASE_URL")]
    MissingSecret,
    #[error("{action} {}", path.display())]
    SecretFile {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("connecting to Postgres")]
    Connect(#[source] DbError),
    #[error("connecting to Postgres for migrations")]
    MigrationClient(#[source] DbError),
    #[error("running migrations")]
    Migrate(#[source] MigrateError),
}

/// Where the database is: DATABASE_URL, or the embedded cluster (started here).
pub struct Database {
    /// How to connect: the pool and the feed's listener both use it.
    pub pg_config: tokio_postgres::Config,
    /// The embedded cluster, if that is the database; dropping it stops the cluster.
    pub embedded: Option<DevPostgres>,
    /// The JWT secret: JWT_SECRET, or the embedded cluster's own.
    secret: Option<String>,
}

impl Database {
    /// Resolves `DATABASE_URL`, or starts the embedded cluster when it is unset.
    pub fn open(config: &Config) -> Result<Database, OpenError> {
        let jwt_secret = config
            .auth
            .jwt_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned());
        if let Some(url) = &config.database.database_url {
            let pg_config = tokio_postgres::Config::from_str(url.expose_secret())
                .map_err(OpenError::InvalidUrl)?;
            return Ok(Database {
                pg_config,
                embedded: None,
                secret: jwt_secret,
            });
        }
        let base = config.database.embedded_dir();
        let pg = DevPostgres::start_persistent(&base).map_err(OpenError::Embedded)?;
        let pg_config = tokio_postgres::Config::from_str(&pg.connection_string(SUPERUSER))
            .map_err(OpenError::EmbeddedUrl)?;
        let secret = match jwt_secret {
            Some(s) => s,
            None => embedded_secret(pg.base_dir())?,
        };
        Ok(Database {
            pg_config,
            embedded: Some(pg),
            secret: Some(secret),
        })
    }

    /// The secret to sign and verify tokens with.
    /// A database someone else runs (no embedded cluster of ours, no secret), e.g. the
    /// embedded cluster of a running `showfeed serve`, reached through its socket.
    pub fn running_at(pg_config: tokio_postgres::Config) -> Database {
        Database {
            pg_config,
            embedded: None,
            secret: None,
        }
    }

    pub fn jwt_secret(&self) -> Result<&str, OpenError> {
        self.secret.as_deref().ok_or(OpenError::MissingSecret)
    }

    /// A pool of `pool_size` connections, after applying pending migrations (under the
    /// advisory lock, so nodes starting together migrate once). Returns how many ran.
    pub async fn connect_migrated(&self, pool_size: usize) -> Result<(Db, usize), OpenError> {
        let db = Db::connect(self.pg_config.clone(), pool_size)
            .await
            .map_err(OpenError::Connect)?;
        let mut client = db.client().await.map_err(OpenError::MigrationClient)?;
        let applied = migrate::run(&mut client)
            .await
            .map_err(OpenError::Migrate)?;
        drop(client);
        Ok((db, applied))
    }
}

/// The JWT secret the service would use, without starting the embedded Postgres (for
/// commands that only sign tokens): JWT_SECRET, or the embedded data directory's own.
pub fn jwt_secret(config: &Config) -> Result<String, OpenError> {
    match (&config.auth.jwt_secret, &config.database.database_url) {
        (Some(s), _) => Ok(s.expose_secret().to_owned()),
        (None, Some(_)) => Err(OpenError::MissingSecret),
        (None, None) => {
            let base = config.database.embedded_dir();
            std::fs::create_dir_all(&base).map_err(|source| OpenError::SecretFile {
                action: "creating",
                path: base.clone(),
                source,
            })?;
            embedded_secret(&base)
        }
    }
}

/// The embedded database's JWT secret, made on first use and kept beside its data.
fn embedded_secret(base: &Path) -> Result<String, OpenError> {
    let path = base.join("jwt_secret");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        return Ok(secret.trim().to_owned());
    }
    let bytes: [u8; 32] = rand::random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let file_error = |action| {
        let path = path.clone();
        move |source| OpenError::SecretFile {
            action,
            path,
            source,
        }
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(file_error("creating"))?;
    file.write_all(secret.as_bytes())
        .map_err(file_error("writing"))?;
    Ok(secret)
}
