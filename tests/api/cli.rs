//! The command line as an operator uses it: clear failures, tokens, no secrets in logs.

use std::process::{Command, Stdio};
use std::time::Duration;

use showfeed::auth::Role;

use crate::helpers::*;

fn showfeed() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_showfeed"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("JWT_SECRET")
        .env("RUST_BACKTRACE", "0");
    cmd
}

#[test]
fn without_server_binaries_it_says_in_one_line_what_to_install() {
    let dir = tempdir();
    let output = showfeed()
        .env("PG_BIN", "/nonexistent")
        .env("SHOWFEED_DATA_DIR", &dir)
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("apt-get install postgresql") && stderr.contains("PG_BIN"),
        "{stderr}"
    );
}

#[test]
fn a_database_url_without_a_jwt_secret_is_refused_clearly() {
    let output = showfeed()
        .arg("serve")
        .env("DATABASE_URL", connection_string("postgres"))
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("JWT_SECRET is required with DATABASE_URL"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_token_command_mints_what_the_service_accepts() {
    let output = showfeed()
        .args([
            "token",
            "--sub",
            "olive",
            "--role",
            "viewer",
            "--ttl-secs",
            "60",
        ])
        .env("JWT_SECRET", "cli-secret")
        .output()
        .unwrap();
    assert!(output.status.success());
    let token = String::from_utf8(output.stdout).unwrap();
    let claims = showfeed::auth::Keys::new(b"cli-secret")
        .verify(token.trim())
        .await
        .unwrap();
    assert_eq!((claims.sub.as_str(), claims.role), ("olive", Role::Viewer));
    let bad = showfeed()
        .args(["token", "--sub", "x", "--role", "god"])
        .env("JWT_SECRET", "s")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("showfeed-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_the_logs() {
    let app = spawn_app().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let password = "pg-password-that-must-not-leak";
    let url = format!("{} password={password}", connection_string(&app.database));
    let mut child = showfeed()
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("JWT_SECRET", app.secret())
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..400 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ready, "the child node became ready");
    let show = app.create_show("live").await;
    // A token in the query (as EventSource sends it) and in a header, good and bad.
    let _ = client
        .get(format!(
            "{base}/api/shows/{show}/claims?access_token={}",
            app.token
        ))
        .send()
        .await;
    let _ = client
        .get(format!("{base}/api/shows"))
        .bearer_auth(&app.token)
        .send()
        .await;
    let _ = client
        .get(format!("{base}/api/shows"))
        .bearer_auth("forged.token.value")
        .send()
        .await;
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let output = tokio::task::spawn_blocking(move || {
        let _ = child.wait();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(logs.contains("/api/shows"), "requests are logged: {logs}");
    for secret in [
        password,
        app.secret().as_str(),
        app.token.as_str(),
        "forged.token.value",
    ] {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
}
