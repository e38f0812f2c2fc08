//! The run's Postgres: one embedded cluster per test binary, a migrated template, a fresh
//! database per test cloned from it, and plain SQL sessions on it (as an analyst's psql,
//! another login role, or a `LISTEN`ing client would open).

use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use showfeed::dev_pg::{DevPostgres, SUPERUSER};
use tokio_postgres::NoTls;
use uuid::Uuid;

use super::TestApp;

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

/// The run's cluster, locked (a poisoned lock is taken over: one failed test must not fail the rest).
pub fn postgres() -> MutexGuard<'static, DevPostgres> {
    POSTGRES.lock().unwrap_or_else(|e| e.into_inner())
}

/// A libpq connection string for database `db` on the run's cluster, as its superuser.
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
    if doorbell_under_test() == "relay" {
        connect(&connection_string(&name))
            .await
            .batch_execute("update showfeed_doorbell set mode = 'relay'")
            .await
            .expect("switch the test database to relay mode");
    }
    name
}

/// The doorbell mode test databases start in: `SHOWFEED_TEST_DOORBELL=relay` runs the
/// suite (the feed tests, in `.ci/run`) with writers that ring no doorbell.
pub fn doorbell_under_test() -> String {
    std::env::var("SHOWFEED_TEST_DOORBELL").unwrap_or_else(|_| "trigger".into())
}

/// Switches a test database's doorbell mode by SQL (what `showfeed doorbell` runs).
pub async fn set_doorbell(sql: &tokio_postgres::Client, mode: &str) {
    sql.execute("update showfeed_doorbell set mode = $1", &[&mode])
        .await
        .expect("switch the doorbell mode");
}

impl TestApp {
    /// A SQL connection to this test's database, as the cluster's superuser.
    pub async fn sql(&self) -> tokio_postgres::Client {
        connect(&connection_string(&self.database)).await
    }

    /// Inserts a comment by `ann` with plain SQL, as an analyst or connector would (no API,
    /// so no claim), and returns its id.
    pub async fn insert_comment_by_sql(&self, show: Uuid, external_id: &str, text: &str) -> Uuid {
        self.sql()
            .await
            .query_one(
                "insert into comments (show_id, external_id, author_id, author_name, text) \
                 values ($1, $2, 'ann', 'Ann', $3) returning id",
                &[&show, &external_id, &text],
            )
            .await
            .unwrap()
            .get(0)
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
