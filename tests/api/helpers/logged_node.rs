//! A node in its own `showfeed serve` process, its JSON log (at info) in a file the test
//! reads: for what an operator reads in the log.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{connection_string, TestApp};

/// A node in its own process, its log in a file.
pub struct LoggedNode {
    process: Child,
    pub address: String,
    log: std::path::PathBuf,
}

impl LoggedNode {
    pub async fn start(app: &TestApp) -> LoggedNode {
        Self::start_with(app, &[]).await
    }

    /// [`LoggedNode::start`] with more environment variables for the child.
    pub async fn start_with(app: &TestApp, env: &[(&str, &str)]) -> LoggedNode {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::env::temp_dir().join(format!("showfeed-log-{}.jsonl", uuid::Uuid::new_v4()));
        let process = Command::new(env!("CARGO_BIN_EXE_showfeed"))
            .arg("serve")
            .env("DATABASE_URL", connection_string(&app.database))
            .env("JWT_SECRET", app.secret())
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .env("LOG_JSON", "true")
            .envs(env.iter().copied())
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        let node = LoggedNode {
            process,
            address: format!("http://127.0.0.1:{port}"),
            log,
        };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(r) = client.get(node.url("/readyz")).send().await {
                if r.status() == 200 {
                    return node;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the showfeed process did not become ready");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The first line `matches` accepts, waiting up to 5 s for it.
    pub async fn wait_line(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..100 {
            if let Some(line) = self.lines().into_iter().find(&matches) {
                return line;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no log line for {what}; the log:\n{}", self.text());
    }

    /// The access line of the request with this id.
    pub async fn access_line(&self, request_id: &str) -> Value {
        self.wait_line(&format!("request {request_id}"), |l| {
            l["target"] == "showfeed::access" && l["fields"]["request_id"] == request_id
        })
        .await
    }
}

impl Drop for LoggedNode {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
