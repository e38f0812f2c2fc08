//! The embedded Postgres: a private cluster started from the machine's own server
//! binaries, used by `serve` when no `DATABASE_URL` is set and by the test suite.
//!
//! Why it is built this way:
//! * Postgres refuses to run as root, and our machines run as root: the server then runs
//!   as the `postgres` user (or `nobody`), from directories that user owns.
//! * It listens only on a unix socket in a private directory, so nothing else on the
//!   machine can reach its trust-authenticated superuser.
//! * The postmaster must not outlive us even when we are killed: a dedicated keeper thread
//!   spawns it with `PR_SET_PDEATHSIG = SIGINT` (fast shutdown). The signal fires when the
//!   spawning *thread* dies, so that thread lives as long as the process.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The superuser and database the embedded cluster is created with.
pub const SUPERUSER: &str = "showfeed";
const PORT: u16 = 5432;

#[derive(Debug, thiserror::Error)]
pub enum DevPgError {
    #[error(
        "no PostgreSQL server binaries found (looked at PG_BIN, `pg_config --bindir`, \
         /usr/lib/postgresql/*/bin and PATH): install them (Debian: `apt-get install postgresql`) \
         or set PG_BIN, or set DATABASE_URL to use an existing server"
    )]
    NoBinaries,
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} failed: {output}")]
    Command { what: String, output: String },
    #[error("postgres did not become ready within {0:?}; its log:\n{1}")]
    NotReady(Duration, String),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DevPgError {
    let what = what.into();
    move |source| DevPgError::Io { what, source }
}

/// Where the cluster keeps its files. `base/data` is PGDATA, `base/run` the socket dir.
#[derive(Debug, Clone)]
struct Layout {
    base: PathBuf,
}

impl Layout {
    fn data(&self) -> PathBuf {
        self.base.join("data")
    }
    fn socket_dir(&self) -> PathBuf {
        self.base.join("run")
    }
    fn log(&self) -> PathBuf {
        self.base.join("postgres.log")
    }
}

/// The unprivileged account Postgres runs as when we are root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// A running private Postgres. Dropping it stops the server (fast shutdown); a temporary
/// cluster's directory is removed too.
#[derive(Debug)]
pub struct DevPostgres {
    bin: PathBuf,
    layout: Layout,
    run_as: Option<RunAs>,
    temporary: bool,
    /// fsync on (persistent clusters, and temporary ones asked for as durable).
    durable: bool,
    child: Option<Child>,
}

impl DevPostgres {
    /// Starts (initialising it on first use) a persistent cluster under `base`.
    pub fn start_persistent(base: &Path) -> Result<Self, DevPgError> {
        Self::start(base.to_path_buf(), false, true)
    }

    /// Starts a throw-away cluster in a fresh temporary directory, tuned for tests
    /// (fsync off). Clusters left behind by dead test runs are removed first.
    pub fn start_temporary() -> Result<Self, DevPgError> {
        Self::start_throwaway(false)
    }

    /// A throw-away cluster like [`DevPostgres::start_temporary`], but with fsync on: for
    /// the benchmark's write-path figures, where commit latency is the subject.
    pub fn start_temporary_durable() -> Result<Self, DevPgError> {
        Self::start_throwaway(true)
    }

    fn start_throwaway(durable: bool) -> Result<Self, DevPgError> {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        remove_stale_temporary_clusters();
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = std::env::temp_dir().join(format!("showfeed-pg-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        Self::start(base, true, durable)
    }

    fn start(base: PathBuf, temporary: bool, durable: bool) -> Result<Self, DevPgError> {
        let bin = find_bin_dir().ok_or(DevPgError::NoBinaries)?;
        let run_as = unprivileged_account();
        let base = if base.is_absolute() {
            base
        } else {
            std::env::current_dir()
                .map_err(io_err("reading the working directory"))?
                .join(base)
        };
        let mut pg = DevPostgres {
            bin,
            layout: Layout { base },
            run_as,
            temporary,
            durable,
            child: None,
        };
        pg.prepare_dirs()?;
        let fresh = !pg.layout.data().join("PG_VERSION").exists();
        if fresh {
            pg.initdb()?;
        }
        pg.launch()?;
        if fresh {
            pg.createdb(SUPERUSER)?;
        }
        Ok(pg)
    }

    /// A `tokio_postgres` connection string for database `dbname`.
    pub fn connection_string(&self, dbname: &str) -> String {
        format!(
            "host={} port={PORT} user={SUPERUSER} dbname={dbname}",
            self.layout.socket_dir().display()
        )
    }

    /// The psql command that reaches this cluster, for the start-up banner.
    pub fn psql_command(&self) -> String {
        format!(
            "psql -h {} -p {PORT} -U {SUPERUSER} {SUPERUSER}",
            self.layout.socket_dir().display()
        )
    }

    /// The directory holding the cluster (secrets made for it live here too).
    pub fn base_dir(&self) -> &Path {
        &self.layout.base
    }

    /// Stops the server (fast shutdown) and waits for it; for restart tests.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT is Postgres's "fast" shutdown: abort transactions, checkpoint, exit.
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            let _ = child.wait();
        }
    }

    /// Starts the server again after `stop`.
    pub fn restart(&mut self) -> Result<(), DevPgError> {
        self.stop();
        self.launch()
    }

    fn prepare_dirs(&self) -> Result<(), DevPgError> {
        for dir in [&self.layout.base, &self.layout.socket_dir()] {
            fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(io_err(format!("chmod {}", dir.display())))?;
            self.chown(dir)?;
        }
        if let Some(run_as) = self.run_as {
            ensure_reachable(&self.layout.base, run_as)?;
        }
        Ok(())
    }

    fn chown(&self, path: &Path) -> Result<(), DevPgError> {
        if let Some(RunAs { uid, gid }) = self.run_as {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .map_err(io_err(format!("chown {}", path.display())))?;
        }
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        if let Some(RunAs { uid, gid }) = self.run_as {
            cmd.uid(uid).gid(gid);
            // libc/initdb look up the home directory; root's is not readable.
            cmd.env("HOME", &self.layout.base);
        }
        cmd.env_remove("PGDATA").env("LC_ALL", "C");
        cmd
    }

    fn initdb(&self) -> Result<(), DevPgError> {
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(self.layout.data())
            .args([
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "-N",
            ])
            .output()
            .map_err(io_err("running initdb"))?;
        if !output.status.success() {
            return Err(DevPgError::Command {
                what: "initdb".into(),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        Ok(())
    }

    /// Creates a database (`createdb`), for the first start of a cluster.
    fn createdb(&self, name: &str) -> Result<(), DevPgError> {
        let output = self
            .command("createdb")
            .arg("-h")
            .arg(self.layout.socket_dir())
            .args(["-p", &PORT.to_string(), "-U", SUPERUSER, name])
            .output()
            .map_err(io_err("running createdb"))?;
        if !output.status.success() {
            return Err(DevPgError::Command {
                what: "createdb".into(),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        Ok(())
    }

    fn launch(&mut self) -> Result<(), DevPgError> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.layout.log())
            .map_err(io_err("opening the postgres log"))?;
        self.chown(&self.layout.log())?;
        let log_err = log
            .try_clone()
            .map_err(io_err("opening the postgres log"))?;
        let mut cmd = self.command("postgres");
        cmd.arg("-D")
            .arg(self.layout.data())
            .args(["-c", "listen_addresses="])
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                self.layout.socket_dir().display()
            ))
            .args(["-c", &format!("port={PORT}")])
            .args(["-c", "max_connections=300"])
            .args(["-c", "track_commit_timestamp=on"])
            .args(["-c", "shared_buffers=256MB"]);
        if !self.durable {
            cmd.args(["-c", "fsync=off", "-c", "full_page_writes=off"]);
        }
        cmd.stdin(Stdio::null()).stdout(log).stderr(log_err);
        let child = spawn_tied_to_process(cmd)?;
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(60))
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), DevPgError> {
        let socket = self.layout.socket_dir().join(format!(".s.PGSQL.{PORT}"));
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(DevPgError::Command {
                        what: format!("postgres (exited with {status})"),
                        output: self.log_tail(),
                    });
                }
            }
            // The socket appears once the postmaster accepts connections; pg_isready-like
            // probing with a real connection is left to the pool, which retries.
            if socket.exists() && self.accepts_connections() {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(DevPgError::NotReady(limit, self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn accepts_connections(&self) -> bool {
        let Ok(output) = self
            .command("pg_isready")
            .arg("-h")
            .arg(self.layout.socket_dir())
            .args(["-p", &PORT.to_string(), "-U", SUPERUSER, "-d", "postgres"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        else {
            return false;
        };
        output.success()
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.layout.log()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// The connection string of a cluster under `base` that another process (a running
/// `showfeed serve`) has started, if its socket is there; None: nothing runs there.
pub fn running_connection_string(base: &Path, dbname: &str) -> Option<String> {
    let layout = Layout {
        base: std::path::absolute(base).ok()?,
    };
    let socket = layout.socket_dir().join(format!(".s.PGSQL.{PORT}"));
    socket.exists().then(|| {
        format!(
            "host={} port={PORT} user={SUPERUSER} dbname={dbname}",
            layout.socket_dir().display()
        )
    })
}

impl Drop for DevPostgres {
    fn drop(&mut self) {
        self.stop();
        if self.temporary {
            let _ = fs::remove_dir_all(&self.layout.base);
        }
    }
}

/// Spawns `cmd` from a thread that lives as long as the process, with the parent-death
/// signal set, so the postmaster gets SIGINT whenever this process ends, even by SIGKILL.
fn spawn_tied_to_process(mut cmd: Command) -> Result<Child, DevPgError> {
    // Runs after the uid/gid switch (which would clear the parent-death signal).
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("dev-postgres-keeper".into())
        .spawn(move || {
            let _ = tx.send(cmd.spawn());
            // Never return: the parent-death signal is tied to this thread.
            loop {
                std::thread::park();
            }
        })
        .map_err(io_err("spawning the postgres keeper thread"))?;
    rx.recv()
        .map_err(|_| DevPgError::Command {
            what: "spawning postgres".into(),
            output: "keeper thread died".into(),
        })?
        .map_err(io_err("spawning postgres"))
}

/// When we are root, the account to run Postgres as: `postgres` if it exists, else `nobody`.
fn unprivileged_account() -> Option<RunAs> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    for name in ["postgres", "nobody"] {
        let cname = std::ffi::CString::new(name).ok()?;
        let pw = unsafe { libc::getpwnam(cname.as_ptr()) };
        if !pw.is_null() {
            let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
            return Some(RunAs { uid, gid });
        }
    }
    None
}

/// The unprivileged account must be able to walk down to the cluster directory.
fn ensure_reachable(base: &Path, run_as: RunAs) -> Result<(), DevPgError> {
    for dir in base.ancestors().skip(1) {
        let Ok(meta) = fs::metadata(dir) else {
            continue;
        };
        let mode = meta.permissions().mode();
        use std::os::unix::fs::MetadataExt;
        let reachable = mode & 0o001 != 0
            || (meta.uid() == run_as.uid && mode & 0o100 != 0)
            || (meta.gid() == run_as.gid && mode & 0o010 != 0);
        if !reachable {
            return Err(DevPgError::Command {
                what: format!("checking {}", base.display()),
                output: format!(
                    "{} is not reachable by the unprivileged user Postgres runs as; \
                     set SHOWFEED_DATA_DIR to a directory under a world-traversable path",
                    dir.display()
                ),
            });
        }
    }
    Ok(())
}

/// PG_BIN, then `pg_config --bindir`, then the newest /usr/lib/postgresql/*/bin, then PATH.
fn find_bin_dir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("postgres").is_file() && dir.join("initdb").is_file();
    if let Some(dir) = std::env::var_os("PG_BIN").map(PathBuf::from) {
        return has_server(&dir).then_some(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Some(dir);
    }
    std::env::var_os("PATH")
        .unwrap_or_default()
        .to_str()
        .into_iter()
        .flat_map(|p| p.split(':'))
        .map(PathBuf::from)
        .find(|dir| has_server(dir))
}

/// Removes `showfeed-pg-<pid>-<n>` directories whose process is gone.
fn remove_stale_temporary_clusters() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("showfeed-pg-"))
            .and_then(|p| p.split('-').next()?.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        if !alive {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
