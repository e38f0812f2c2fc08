//! `showfeed serve` as a separate process on a test's database: a node that can be
//! killed or frozen with signals, and whose memory is its own to measure.

use std::process::{Child, Command};
use std::time::Duration;

use uuid::Uuid;

use crate::helpers::*;

pub struct ChildNode {
    process: Child,
    pub address: String,
}

impl ChildNode {
    pub async fn start(app: &TestApp, extra_env: &[(&str, &str)]) -> ChildNode {
        Self::start_with_fd_limit(app, extra_env, None).await
    }

    /// Like [`ChildNode::start`], with the process's descriptor limit (soft and hard, so
    /// that its own raise to the hard limit keeps it) set to `fd_limit`.
    pub async fn start_with_fd_limit(
        app: &TestApp,
        extra_env: &[(&str, &str)],
        fd_limit: Option<u64>,
    ) -> ChildNode {
        use std::os::unix::process::CommandExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_showfeed"));
        if let Some(limit) = fd_limit {
            let limit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let process = command
            .arg("serve")
            .env("DATABASE_URL", connection_string(&app.database))
            .env("JWT_SECRET", app.secret())
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .envs(extra_env.iter().copied())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start a showfeed process");
        let node = ChildNode {
            process,
            address: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(r) = client.get(format!("{}/readyz", node.address)).send().await {
                if r.status() == 200 {
                    return node;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the showfeed process did not become ready");
    }

    pub fn signal(&self, signal: i32) {
        unsafe { libc::kill(self.process.id() as i32, signal) };
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Resident memory of the process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    pub async fn metric(&self, name: &str) -> f64 {
        metric_at(&self.address, name).await
    }

    pub async fn stream(&self, token: &str, show: Uuid) -> SseClient {
        let response = reqwest::Client::new()
            .get(format!("{}/api/shows/{show}/stream", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        SseClient::new(response)
    }
}

impl Drop for ChildNode {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
