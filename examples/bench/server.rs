//! The system under test: the database (embedded, or DATABASE_URL), the release
//! `showfeed` binary in its own process (so its CPU and memory can be read from /proc),
//! and the API and SQL calls the benchmark makes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use showfeed::auth::{Keys, Role};
use showfeed::dev_pg::DevPostgres;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// The database the service and the writers use.
pub struct Database {
    /// Connection string of the benchmark's database.
    pub url: String,
    /// The embedded cluster (None with DATABASE_URL); stopped on drop.
    pub embedded: Option<DevPostgres>,
    /// The postmaster's pid, for Postgres's CPU time (embedded only).
    pub postmaster: Option<u32>,
}

impl Database {
    /// The benchmark's database: DATABASE_URL, else a temporary embedded cluster (durable:
    /// with fsync on, as production runs; otherwise off, as the tests run).
    pub async fn open(durable: bool) -> anyhow::Result<Database> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Ok(Database {
                url,
                embedded: None,
                postmaster: None,
            });
        }
        let pg = if durable {
            DevPostgres::start_temporary_durable()
        } else {
            DevPostgres::start_temporary()
        }
        .context("starting the embedded Postgres")?;
        let admin = connect(&pg.connection_string("postgres")).await?;
        admin.batch_execute("create database bench").await?;
        let postmaster = crate::procfs::postmaster_pid(&pg.base_dir().join("data"));
        Ok(Database {
            url: pg.connection_string("bench"),
            embedded: Some(pg),
            postmaster,
        })
    }
}

/// A SQL connection driven on this runtime.
pub async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| "connecting to Postgres")?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The running service.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    pub admin_token: String,
    pub viewer_token: String,
    /// The JWT secret, for more nodes that accept this one's tokens.
    pub secret: String,
    pub http: reqwest::Client,
}

/// Builds (if needed) and returns the release `showfeed` binary.
pub fn server_binary(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building the release server binary (cargo build --release --bin showfeed) ...");
    let status = Command::new(cargo)
        .current_dir(&manifest)
        .args(["build", "--release", "--quiet", "--bin", "showfeed"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release --bin showfeed failed");
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| manifest.join("target"));
    Ok(target.join("release").join("showfeed"))
}

pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Server {
    /// Starts `showfeed serve` on a free loopback port and waits until it is ready.
    pub async fn start(
        bin: &Path,
        db: &Database,
        log: PathBuf,
        extra_env: &[(String, String)],
    ) -> anyhow::Result<Server> {
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let secret = format!("bench-{}", Uuid::new_v4());
        Server::start_at(bin, db, log, extra_env, addr, &secret).await
    }

    /// Starts `showfeed serve` on `addr` with JWT secret `secret` (several nodes that
    /// share a secret accept each other's tokens; a restarted node keeps its port).
    pub async fn start_at(
        bin: &Path,
        db: &Database,
        log: PathBuf,
        extra_env: &[(String, String)],
        addr: SocketAddr,
        secret: &str,
    ) -> anyhow::Result<Server> {
        let log = std::fs::File::create(&log).context("creating the server log")?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .env("DATABASE_URL", &db.url)
            .env("JWT_SECRET", secret)
            .env("BIND_ADDR", addr.to_string())
            .env("SHUTDOWN_GRACE_SECS", "0")
            .env(
                "RUST_LOG",
                std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(extra_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // The server must not outlive the benchmark, even when it is killed.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let keys = Keys::new(secret.as_bytes());
        let admin_token = keys.mint("bench-admin", Role::Admin, None, 6 * 3600);
        let viewer_token = keys.mint("bench-viewer", Role::Viewer, None, 6 * 3600);
        let mut server = Server {
            pid: child.id(),
            child,
            addr,
            admin_token,
            viewer_token,
            secret: secret.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()?,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("the server exited at start ({status}); see target/bench/server.log");
            }
            if let Ok(r) = server.http.get(server.url("/readyz")).send().await {
                if r.status() == 200 {
                    break;
                }
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("the server did not become ready within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops the server with SIGTERM (graceful), then SIGKILL after 15 s.
    pub fn stop(mut self) {
        unsafe { libc::kill(self.pid as i32, libc::SIGTERM) };
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the server with SIGKILL (no shutdown at all) and reaps it.
    #[allow(dead_code)] // the chaos soak's fault; the benchmark stops its server cleanly
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `/metrics` as name -> value (labelled series keep their labels in the name).
    pub async fn metrics(&self) -> anyhow::Result<HashMap<String, f64>> {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await?
            .text()
            .await?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                Some((name.to_owned(), f64::from_str(value).ok()?))
            })
            .collect())
    }

    /// The reads of `show_changes` and snapshots this node has run (its /metrics counters).
    pub async fn read_queries(&self) -> f64 {
        let m = self.metrics().await.unwrap_or_default();
        [
            "showfeed_fetch_queries_total",
            "showfeed_catchup_queries_total",
            "showfeed_snapshot_queries_total",
        ]
        .iter()
        .map(|k| m.get(*k).copied().unwrap_or(0.0))
        .sum()
    }

    /// Creates a live show; returns its id.
    pub async fn create_show(&self, title: &str) -> anyhow::Result<Uuid> {
        let r = self
            .http
            .post(self.url("/api/shows"))
            .bearer_auth(&self.admin_token)
            .json(&json!({"title": title, "status": "live"}))
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await?;
        if !status.is_success() {
            bail!("create show: {status} {body}");
        }
        let id = body["id"]
            .as_str()
            .or(body["show"]["id"].as_str())
            .context("create show: no id in the answer")?;
        Ok(Uuid::parse_str(id)?)
    }

    /// Posts comments (one object or a batch); returns (comments, claims) stored.
    pub async fn post_comments(&self, show: Uuid, body: &Value) -> anyhow::Result<(usize, usize)> {
        let r = self
            .http
            .post(self.url(&format!("/api/shows/{show}/comments")))
            .bearer_auth(&self.admin_token)
            .json(body)
            .send()
            .await?;
        let status = r.status();
        let answer: Value = r.json().await?;
        if !status.is_success() {
            bail!("post comments: {status} {answer}");
        }
        let n = |k: &str| answer[k].as_array().map_or(0, Vec::len);
        Ok((n("comments"), n("claims")))
    }
}

/// Per-show seq right now, read with SQL.
pub async fn last_seqs(sql: &tokio_postgres::Client, shows: &[Uuid]) -> anyhow::Result<Vec<i64>> {
    let rows = sql
        .query(
            "select id, last_seq from shows where id = any($1)",
            &[&shows.to_vec()],
        )
        .await?;
    let map: HashMap<Uuid, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(shows.iter().map(|s| *map.get(s).unwrap_or(&0)).collect())
}

/// Transactions committed in the benchmark's database so far (pg_stat_database).
pub async fn xact_commits(sql: &tokio_postgres::Client) -> anyhow::Result<i64> {
    // Statistics are flushed by each backend about once a second; ask for a fresh view.
    let _ = sql.batch_execute("select pg_stat_clear_snapshot()").await;
    let row = sql
        .query_one(
            "select xact_commit from pg_stat_database where datname = current_database()",
            &[],
        )
        .await?;
    Ok(row.get(0))
}
