//! The test harness: one embedded Postgres per test run, a fresh database per test (cloned
//! from a migrated template), the real service on a real socket, and clients for its API,
//! its SSE stream and plain SQL.

use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use secrecy::SecretString;
use serde_json::{json, Value};
use showfeed::auth::{Keys, Role};
use showfeed::config::Config;
use showfeed::dev_pg::{DevPostgres, SUPERUSER};
use showfeed::shutdown::Shutdown;
use showfeed::startup::Application;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// The run's Postgres cluster, behind a lock so a test can restart it.
pub static POSTGRES: LazyLock<Mutex<DevPostgres>> = LazyLock::new(|| {
    let pg = DevPostgres::start_temporary().expect("start the embedded Postgres for tests");
    Mutex::new(pg)
});

/// The migrated template every test database is cloned from; created once per run.
static TEMPLATE: LazyLock<String> = LazyLock::new(|| {
    let admin = connection_string("postgres");
    let template = connection_string("showfeed_template");
    // A runtime of its own: a LazyLock may be first touched from any test's runtime.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let admin = connect(&admin).await;
            admin
                .batch_execute("create database showfeed_template")
                .await
                .unwrap();
            let (mut client, conn) = tokio_postgres::connect(&template, NoTls).await.unwrap();
            tokio::spawn(conn);
            showfeed::db::migrate::run(&mut client).await.unwrap();
        });
    })
    .join()
    .expect("create the template database");
    "showfeed_template".to_owned()
});

pub fn postgres() -> MutexGuard<'static, DevPostgres> {
    POSTGRES.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn connection_string(db: &str) -> String {
    postgres().connection_string(db)
}

/// A plain SQL connection (as an analyst's psql would be), driven on this runtime.
pub async fn connect(conn: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(conn, NoTls)
        .await
        .expect("connect to Postgres");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A fresh, migrated database for one test.
pub async fn fresh_database() -> String {
    let template = TEMPLATE.clone();
    let name = format!("test_{}", Uuid::new_v4().simple());
    let admin = connect(&connection_string("postgres")).await;
    admin
        .batch_execute(&format!("create database {name} template {template}"))
        .await
        .expect("create a test database");
    name
}

pub struct TestApp {
    pub address: String,
    pub database: String,
    pub keys: Keys,
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
        token,
        api: reqwest::Client::new(),
        shutdown,
        server,
    };
    app.wait_ready().await;
    SECRETS.lock().unwrap().push((app.address.clone(), secret));
    Ok(app)
}

/// Secrets by address, so a second node can share the first one's.
static SECRETS: LazyLock<Mutex<Vec<(String, String)>>> = LazyLock::new(Default::default);

impl TestApp {
    pub fn secret(&self) -> String {
        SECRETS
            .lock()
            .unwrap()
            .iter()
            .find(|(a, _)| *a == self.address)
            .map(|(_, s)| s.clone())
            .expect("secret of a spawned app")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn mint(&self, sub: &str, role: Role, shows: Option<Vec<Uuid>>, ttl_secs: u64) -> String {
        self.keys.mint(sub, role, shows, ttl_secs)
    }

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

    /// A SQL connection to this test's database, as the cluster's superuser.
    pub async fn sql(&self) -> tokio_postgres::Client {
        connect(&connection_string(&self.database)).await
    }

    /// The single number a `select count(*) ...` over this test's database returns.
    pub async fn count(&self, query: &str) -> i64 {
        self.sql().await.query_one(query, &[]).await.unwrap().get(0)
    }

    /// A SQL connection to this test's database as another (login) role.
    pub async fn sql_as(&self, role: &str) -> tokio_postgres::Client {
        let conn = connection_string(&self.database)
            .replace(&format!("user={SUPERUSER}"), &format!("user={role}"));
        connect(&conn).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.api
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

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

    pub async fn metric(&self, name: &str) -> f64 {
        metric_at(&self.address, name).await
    }

    /// The show's stream as a raw HTTP response (to read bytes, or to never read it).
    pub async fn raw_stream(&self, show: Uuid) -> reqwest::Response {
        self.api
            .get(self.url(&format!("/api/shows/{show}/stream")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// Opens the show's SSE stream with the admin token.
    pub async fn stream(&self, show: Uuid, last_event_id: Option<&str>) -> SseClient {
        self.stream_with(show, &self.token, last_event_id).await
    }

    pub async fn stream_with(
        &self,
        show: Uuid,
        token: &str,
        last_event_id: Option<&str>,
    ) -> SseClient {
        let mut req = self
            .api
            .get(self.url(&format!("/api/shows/{show}/stream")))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200, "stream status");
        SseClient::new(response)
    }

    /// Starts a graceful shutdown and waits for the server to stop.
    pub async fn stop(self) {
        self.shutdown.begin(Duration::from_millis(0));
        let _ = tokio::time::timeout(Duration::from_secs(20), self.server).await;
    }
}

/// One parsed SSE event.
#[derive(Debug, Clone)]
pub struct Event {
    pub event: String,
    pub id: String,
    pub data: Value,
    /// When the client parsed it off the wire.
    pub received: chrono::DateTime<chrono::Utc>,
}

impl Event {
    pub fn seq(&self) -> i64 {
        self.data["seq"].as_i64().expect("event data has a seq")
    }
}

/// A real SSE client: parses the wire format with `eventsource-stream`.
pub struct SseClient {
    events: std::pin::Pin<
        Box<dyn futures::Stream<Item = Result<eventsource_stream::Event, String>> + Send>,
    >,
}

impl SseClient {
    pub fn new(response: reqwest::Response) -> Self {
        use eventsource_stream::Eventsource;
        let events = response
            .bytes_stream()
            .eventsource()
            .map(|r| r.map_err(|e| e.to_string()));
        SseClient {
            events: Box::pin(events),
        }
    }

    /// The next event, or None when the stream ends or `wait` passes.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        match tokio::time::timeout(wait, self.events.next()).await {
            Ok(Some(Ok(e))) => Some(Event {
                data: serde_json::from_str(&e.data).unwrap_or(Value::String(e.data.clone())),
                event: e.event,
                id: e.id,
                received: chrono::Utc::now(),
            }),
            _ => None,
        }
    }

    /// The next event; panics after 10 s.
    pub async fn next(&mut self) -> Event {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("an SSE event within 10 s")
    }

    /// Events until one with seq `last` arrives (panics after 20 s of silence).
    pub async fn until_seq(&mut self, last: i64) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            let e = self
                .next_within(Duration::from_secs(20))
                .await
                .unwrap_or_else(|| {
                    panic!(
                        "stream ended or went silent before seq {last}; got {}",
                        events.len()
                    )
                });
            let seq = e.data["seq"].as_i64();
            events.push(e);
            if seq.is_some_and(|s| s >= last) {
                return events;
            }
        }
    }
}

/// Asserts that events carry exactly the seqs `from..=to`, in order, ids matching.
pub fn assert_exact_seqs(events: &[Event], from: i64, to: i64) {
    let seqs: Vec<i64> = events.iter().map(Event::seq).collect();
    let expected: Vec<i64> = (from..=to).collect();
    assert_eq!(
        seqs, expected,
        "seqs must be exactly {from}..={to}, in order"
    );
    for e in events {
        assert_eq!(e.id, e.seq().to_string(), "SSE id is the seq");
    }
}

/// A separate plain SQL connection that runs `LISTEN show_changes`, as any LISTENing
/// client would: its connection is polled on a task that forwards every notification.
pub struct NotificationListener {
    /// The listening session, kept open while the listener lives.
    _client: tokio_postgres::Client,
    /// Notifications in arrival order; the sender closes when the connection ends.
    notifications: tokio::sync::mpsc::UnboundedReceiver<tokio_postgres::Notification>,
}

impl NotificationListener {
    /// The next notification, or None when `wait` passes first.
    pub async fn next_within(&mut self, wait: Duration) -> Option<tokio_postgres::Notification> {
        tokio::time::timeout(wait, self.notifications.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every notification that arrives until none has for `quiet`.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<tokio_postgres::Notification> {
        let mut got = Vec::new();
        while let Some(n) = self.next_within(quiet).await {
            got.push(n);
        }
        got
    }
}

impl TestApp {
    /// A new connection to this test's database that LISTENs on `show_changes`; the
    /// LISTEN has committed when this returns.
    pub async fn listen(&self) -> NotificationListener {
        let (client, mut connection) =
            tokio_postgres::connect(&connection_string(&self.database), NoTls)
                .await
                .expect("connect the listener");
        let (tx, notifications) = tokio::sync::mpsc::unbounded_channel();
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        tokio::spawn(async move {
            while let Some(Ok(message)) = messages.next().await {
                if let tokio_postgres::AsyncMessage::Notification(n) = message {
                    if tx.send(n).is_err() {
                        return;
                    }
                }
            }
        });
        client.batch_execute("listen show_changes").await.unwrap();
        NotificationListener {
            _client: client,
            notifications,
        }
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
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "status (body: {text})");
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {text:?}"));
    let object = body.as_object().expect("error body is an object");
    assert_eq!(object.len(), 1, "only `error` at the top: {body}");
    let error = body["error"].as_object().expect("`error` is an object");
    assert!(
        error["code"].as_str().is_some_and(|c| !c.is_empty()),
        "error.code is a non-empty string: {body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error.message is a non-empty string: {body}"
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
