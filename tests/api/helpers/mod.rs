//! The test harness: the real service on a real socket for each test (on a fresh database
//! from [`db`]), and clients for its REST API. The SSE client is in [`sse`], plain SQL in
//! [`db`], the headless browser in [`browser`]; `use crate::helpers::*` brings in all but
//! the browser.

pub mod browser;
mod db;
pub mod idp;
mod logged_node;
mod session;
mod sse;

pub use db::*;
pub use logged_node::*;
pub use session::*;
pub use sse::*;

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{json, Value};
use showfeed::auth::{Keys, Role};
use showfeed::config::Config;
use showfeed::shutdown::Shutdown;
use showfeed::startup::Application;
use uuid::Uuid;

/// One running service on its own database, and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub database: String,
    pub keys: Keys,
    /// The JWT secret `keys` were made from (a second node or a restart shares it).
    secret: String,
    /// An admin token.
    pub token: String,
    pub api: reqwest::Client,
    pub shutdown: Shutdown,
    pub server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The default test configuration: port 0, a random secret, no embedded data dir.
pub fn test_config(database: &str) -> Config {
    let mut config = Config::from_env();
    config.database.database_url = Some(SecretString::from(connection_string(database)));
    config.auth.jwt_secret = Some(SecretString::from(format!(
        "test-secret-{}",
        Uuid::new_v4()
    )));
    config.http.bind_addr = "127.0.0.1:0".parse().unwrap();
    config.database.pool_size = 8;
    config.http.shutdown_grace_secs = 1;
    config
}

/// Spawns the service on a fresh database with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the service on a fresh database, with `tweak` applied to its configuration.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let database = fresh_database().await;
    let mut config = test_config(&database);
    tweak(&mut config);
    spawn_on(config, database).await
}

/// Spawns another instance of the service on the same database as `other`.
pub async fn spawn_second_node(other: &TestApp) -> TestApp {
    let mut config = test_config(&other.database);
    config.auth.jwt_secret = Some(SecretString::from(other.secret()));
    spawn_on(config, other.database.clone()).await
}

/// Builds and starts the service with `config` (on `database`); panics if it cannot.
pub async fn spawn_on(config: Config, database: String) -> TestApp {
    try_spawn_on(config, database)
        .await
        .expect("build the application")
}

/// Builds and starts the service, or says why it could not (e.g. its port is taken).
pub async fn try_spawn_on(config: Config, database: String) -> anyhow::Result<TestApp> {
    use secrecy::ExposeSecret;
    let secret = config
        .auth
        .jwt_secret
        .as_ref()
        .expect("test configs carry a secret")
        .expose_secret()
        .to_owned();
    let app = Application::build(config).await?;
    let address = format!("http://{}", app.address());
    let shutdown = app.shutdown();
    let keys = Keys::new(secret.as_bytes());
    let token = keys.mint("test-admin", Role::Admin, None, 3600);
    let server = tokio::spawn(app.run_until_stopped());
    let app = TestApp {
        address,
        database,
        keys,
        secret,
        token,
        api: reqwest::Client::new(),
        shutdown,
        server,
    };
    app.wait_ready().await;
    Ok(app)
}

impl TestApp {
    /// The JWT secret this node was started with.
    pub fn secret(&self) -> String {
        self.secret.clone()
    }

    /// The full URL of `path` on this node.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A token signed with this node's secret.
    pub fn mint(&self, sub: &str, role: Role, shows: Option<Vec<Uuid>>, ttl_secs: u64) -> String {
        self.keys.mint(sub, role, shows, ttl_secs)
    }

    /// Waits (up to 5 s) for `/readyz` to answer 200.
    pub async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.api.get(self.url("/readyz")).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the service did not become ready");
    }

    /// `GET path` with the admin token.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.api
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// A request with a JSON body and the admin token.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.api
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST path` with a JSON body and the admin token.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    /// Creates a show (live unless `status` says otherwise) and returns its id.
    pub async fn create_show(&self, status: &str) -> Uuid {
        let r = self
            .post(
                "/api/shows",
                &json!({"title": "Test show", "status": status}),
            )
            .await;
        assert_eq!(r.status(), 201, "create show");
        let body: Value = r.json().await.unwrap();
        body["id"].as_str().unwrap().parse().unwrap()
    }

    /// `PUT /api/shows/{show}/items/{number}` (titled `Item {number}`, 10.00) with the admin token.
    pub async fn put_item(&self, show: Uuid, number: i32, quantity: i32) -> reqwest::Response {
        self.send_json(
            reqwest::Method::PUT,
            &format!("/api/shows/{show}/items/{number}"),
            &json!({"title": format!("Item {number}"), "price_cents": 1000, "quantity": quantity}),
        )
        .await
    }

    /// Posts one comment (`text` by `author`) and returns the response body.
    pub async fn comment(&self, show: Uuid, author: &str, text: &str) -> Value {
        let body = json!({
            "external_id": Uuid::new_v4().to_string(),
            "author_id": author,
            "author_name": author,
            "text": text,
        });
        let r = self
            .post(&format!("/api/shows/{show}/comments"), &body)
            .await;
        assert!(r.status().is_success(), "comment: {}", r.status());
        r.json().await.unwrap()
    }

    /// One of this node's metrics (`showfeed_` + `name`).
    pub async fn metric(&self, name: &str) -> f64 {
        metric_at(&self.address, name).await
    }

    /// Starts a graceful shutdown and waits for the server to stop.
    pub async fn stop(self) {
        self.shutdown.begin(Duration::from_millis(0));
        let _ = tokio::time::timeout(Duration::from_secs(20), self.server).await;
    }

    /// A request with `token` (None: no Authorization header) and an optional JSON body.
    pub async fn request_as(
        &self,
        token: Option<&str>,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self.api.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.unwrap()
    }

    /// Posts a comment object or an array of them with the admin token.
    pub async fn post_comments(&self, show: Uuid, body: &Value) -> reqwest::Response {
        self.post(&format!("/api/shows/{show}/comments"), body)
            .await
    }

    /// `PATCH /api/claims/{id}` with `{"status": status}` and the admin token.
    pub async fn patch_claim(&self, claim: &str, status: &str) -> reqwest::Response {
        self.send_json(
            reqwest::Method::PATCH,
            &format!("/api/claims/{claim}"),
            &json!({ "status": status }),
        )
        .await
    }

    /// `GET /api/shows/{id}/claims` with the admin token.
    pub async fn claims(&self, show: Uuid) -> Vec<Value> {
        let r = self.get(&format!("/api/shows/{show}/claims")).await;
        assert_eq!(r.status(), 200, "list claims");
        let body: Value = r.json().await.unwrap();
        body["claims"].as_array().unwrap().clone()
    }
}

/// Asserts the status and the contract's error shape `{"error": {"code", "message"}}`
/// (and nothing else), and returns the body.
pub async fn assert_error(response: reqwest::Response, status: u16) -> Value {
    assert_error_for("the response", response, status).await
}

/// [`assert_error`] for one case of a table: every failure names `case`.
pub async fn assert_error_for(case: &str, response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{case}: status (body: {text})");
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{case}: error body is not JSON ({e}): {text:?}"));
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("{case}: error body is an object: {body}"));
    assert_eq!(object.len(), 1, "{case}: only `error` at the top: {body}");
    let error = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("{case}: `error` is an object: {body}"));
    assert!(
        error["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{case}: error.code is a non-empty string: {body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{case}: error.message is a non-empty string: {body}"
    );
    body
}

/// A metric of the node at `address` (`http://host:port`), from its `/metrics`.
pub async fn metric_at(address: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{address}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("showfeed_{name} ")))
        .unwrap_or_else(|| panic!("metric {name} missing"))
        .trim()
        .parse()
        .unwrap()
}
