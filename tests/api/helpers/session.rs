//! Console sessions as a browser holds them: a sign-in code written the way `showfeed
//! login-link` writes it, exchanged for the session cookie, and requests that carry it.

use std::str::FromStr;
use std::time::Duration;

use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use showfeed::auth::session::{issue_code, Grant};
use showfeed::auth::Role;

use showfeed::db::Db;

use super::{connection_string, TestApp};

/// The header a cookie-authenticated write needs besides a same-origin `Origin`.
pub const CSRF: &str = "X-Showfeed-CSRF";

impl TestApp {
    /// A one-time sign-in code for `sub` with `role`, valid for `ttl` (written into this
    /// node's database as `login-link` does).
    pub async fn signin_code(&self, sub: &str, role: Role, ttl: Duration) -> String {
        let config = tokio_postgres::Config::from_str(&connection_string(&self.database)).unwrap();
        let db = Db::connect(config, 1).await.unwrap();
        let client = db.client().await.unwrap();
        let grant = Grant {
            sub: sub.into(),
            role,
            shows: None,
        };
        let (code, _) = issue_code(&client, &grant, ttl).await.unwrap();
        code.to_string()
    }

    /// `POST /api/session` with `code`, as the console sends it (same origin, CSRF header).
    pub async fn redeem(&self, code: &str) -> reqwest::Response {
        self.redeem_bringing(code, None).await
    }

    /// [`TestApp::redeem`] from a browser that already holds `cookie` (a session, or one
    /// planted by someone else).
    pub async fn redeem_bringing(&self, code: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self
            .api
            .post(self.url("/api/session"))
            .header(ORIGIN, &self.address)
            .header(CSRF, "1");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .unwrap()
    }

    /// What `showfeed login-link --sub SUB --role ROLE --base-url <this node>` prints (it
    /// must succeed); the link is its last line.
    pub fn login_link_output(&self, sub: &str, role: &str) -> String {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_showfeed"))
            .args(["login-link", "--sub", sub, "--role", role])
            .args(["--base-url", &self.address])
            .env("DATABASE_URL", connection_string(&self.database))
            .env("JWT_SECRET", self.secret())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    /// Signs in with a fresh operator code; returns the `Cookie` header value that names
    /// the session (`showfeed_session=…`).
    pub async fn session_cookie(&self, sub: &str) -> String {
        let code = self
            .signin_code(sub, Role::Operator, Duration::from_secs(600))
            .await;
        let r = self.redeem(&code).await;
        assert_eq!(r.status(), 201, "sign in");
        cookie_of(&r)
    }

    /// A request carrying `cookie` (and nothing else that authenticates).
    pub fn with_cookie(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
    ) -> reqwest::RequestBuilder {
        self.api
            .request(method, self.url(path))
            .header(COOKIE, cookie)
    }

    /// A write carrying `cookie` as the console sends it: same origin, CSRF header.
    pub fn console_write(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
    ) -> reqwest::RequestBuilder {
        self.with_cookie(method, path, cookie)
            .header(ORIGIN, &self.address)
            .header(CSRF, "1")
    }
}

/// The `name=value` of the session cookie a response set.
pub fn cookie_of(response: &reqwest::Response) -> String {
    let set = set_cookie(response);
    set.split(';').next().unwrap().trim().to_owned()
}

/// The whole `Set-Cookie` header of a response (attributes included).
pub fn set_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(SET_COOKIE)
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap()
        .to_owned()
}
