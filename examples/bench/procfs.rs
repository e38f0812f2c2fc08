//! CPU time and memory of processes, read from /proc: the server's, Postgres's (the
//! postmaster and its backends) and the load generator's own.

use std::path::Path;

/// Clock ticks per second for /proc's CPU fields.
fn ticks_per_sec() -> f64 {
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Fields of /proc/<pid>/stat after the command name: (ppid, utime+stime, cutime+cstime) in ticks.
fn stat_fields(pid: &str) -> Option<(u32, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    let n = |i: usize| f.get(i - 3).and_then(|s| s.parse::<u64>().ok());
    Some((n(4)? as u32, n(14)? + n(15)?, n(16)? + n(17)?))
}

/// CPU seconds (user + system) a process has used so far.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let (_, own, _) = stat_fields(&pid.to_string())?;
    Some(own as f64 / ticks_per_sec())
}

/// This process's CPU seconds (all threads).
pub fn self_cpu_secs() -> f64 {
    cpu_secs(std::process::id()).unwrap_or(0.0)
}

/// CPU seconds of a process and all its children, live or reaped: for Postgres, the
/// postmaster's own time, its waited-for backends' time, and its live backends' time.
pub fn tree_cpu_secs(root: u32) -> Option<f64> {
    let (_, own, reaped) = stat_fields(&root.to_string())?;
    let mut ticks = own + reaped;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Some((ppid, own, _)) = stat_fields(name) {
                if ppid == root {
                    ticks += own;
                }
            }
        }
    }
    Some(ticks as f64 / ticks_per_sec())
}

/// CPU seconds every process of the machine has used so far (`/proc/stat`: user, nice,
/// system, irq, softirq, steal; not idle or iowait): the work competing with the three.
pub fn machine_busy_secs() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| f.get(i).copied().unwrap_or(0));
    Some(busy.sum::<u64>() as f64 / ticks_per_sec())
}

/// Resident memory of a process in bytes (VmRSS).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The postmaster's pid from its data directory's `postmaster.pid`.
pub fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// Lifts this process's descriptor limit (children inherit it): as root the hard limit
/// too, so that tens of thousands of sockets fit; otherwise soft = hard.
pub fn raise_fd_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_max < wanted {
            let raised = libc::rlimit {
                rlim_cur: wanted,
                rlim_max: wanted,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return wanted;
            }
        }
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        limit.rlim_cur
    }
}

/// CPU meters started together, read together: server, Postgres, generator.
#[derive(Clone, Copy)]
pub struct CpuMark {
    pub at: std::time::Instant,
    pub server: f64,
    pub postgres: Option<f64>,
    pub generator: f64,
    /// The whole machine's busy CPU seconds.
    pub machine: Option<f64>,
}

/// CPU used between two marks: seconds, and cores (seconds per wall second).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct CpuUse {
    pub wall_secs: f64,
    pub server_secs: f64,
    pub postgres_secs: Option<f64>,
    pub generator_secs: f64,
    /// Every process of the machine (these three and whatever else runs there).
    pub machine_busy_secs: Option<f64>,
}

impl CpuMark {
    pub fn now(server: u32, postmaster: Option<u32>) -> Self {
        CpuMark {
            at: std::time::Instant::now(),
            server: cpu_secs(server).unwrap_or(0.0),
            postgres: postmaster.and_then(tree_cpu_secs),
            generator: self_cpu_secs(),
            machine: machine_busy_secs(),
        }
    }

    pub fn since(&self, earlier: &CpuMark) -> CpuUse {
        CpuUse {
            wall_secs: (self.at - earlier.at).as_secs_f64(),
            server_secs: self.server - earlier.server,
            postgres_secs: match (self.postgres, earlier.postgres) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            },
            generator_secs: self.generator - earlier.generator,
            machine_busy_secs: match (self.machine, earlier.machine) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            },
        }
    }
}
