//! Signing in to the console in a real headless Chromium with a link `showfeed
//! login-link` printed: the code leaves the address bar, works once, becomes an
//! `HttpOnly` cookie, the stream runs with no credential in any URL the page requested,
//! sign-out closes it, and a session's end is announced and leads back to sign-in with
//! the operator's place kept.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::browser::{js_str, Browser, Cdp};
use crate::helpers::*;

/// Records, in this tab's sessionStorage (it survives the page's own navigations), the
/// URL of every `fetch`, `XMLHttpRequest` and `EventSource` the page starts. Injected
/// before any page script runs; the console's CSP does not apply to DevTools scripts.
const RECORD_REQUESTS: &str = r#"
(() => {
  const note = (u) => {
    const all = JSON.parse(sessionStorage.getItem("test.urls") || "[]");
    all.push(String(new URL(u instanceof Request ? u.url : u, location.href)));
    sessionStorage.setItem("test.urls", JSON.stringify(all));
  };
  const fetch0 = window.fetch;
  window.fetch = function (u, o) { note(u); return fetch0.call(this, u, o); };
  const open0 = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (m, u, ...rest) { note(u); return open0.call(this, m, u, ...rest); };
  const ES = window.EventSource;
  window.EventSource = class extends ES { constructor(u, o) { note(u); super(u, o); } };
})();
"#;

/// `showfeed login-link` for `sub` on `app`: its last line, the link.
fn login_link(app: &TestApp, sub: &str, role: &str) -> String {
    let stdout = app.login_link_output(sub, role);
    stdout.trim_end().lines().last().unwrap().to_owned()
}

/// Every URL the page requested: the recorder's list and the resource timing entries.
async fn requested_urls(browser: &Browser) -> Vec<String> {
    let v = browser
        .js(
            "return JSON.parse(sessionStorage.getItem('test.urls') || '[]')\
             .concat(performance.getEntriesByType('resource').map(e => e.name));",
        )
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect()
}

async fn record_requests(browser: &Browser) {
    browser
        .client
        .issue_cmd(Cdp {
            cmd: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({ "source": RECORD_REQUESTS }),
        })
        .await
        .unwrap();
}

/// Waits (up to 10 s) until this node has no stream subscriber left.
async fn no_subscribers_left(app: &TestApp) {
    for _ in 0..200 {
        if app.metric("subscribers").await == 0.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("a stream is still open on the server");
}

async fn who(browser: &Browser) -> String {
    browser
        .js("return document.getElementById('who').textContent;")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

async fn open_show_in_page(browser: &Browser, show: Uuid) {
    browser
        .js(&format!(
            "location.hash = {}; return 1;",
            js_str(&format!("show={show}"))
        ))
        .await;
    browser.wait_live().await;
}

#[tokio::test]
async fn a_printed_link_signs_in_once_with_no_credential_in_any_url_and_sign_out_closes_the_stream()
{
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let link = login_link(&app, "alice", "operator");
    let code = link.split_once("#code=").unwrap().1.to_owned();

    let browser = Browser::start().await;
    record_requests(&browser).await;
    browser.client.goto(&link).await.unwrap();
    browser
        .wait_for(
            "the show list, signed in",
            Duration::from_secs(10),
            "!document.getElementById('shows').hidden",
        )
        .await;
    let href = browser.client.current_url().await.unwrap().to_string();
    assert!(
        !href.contains(&code) && !href.contains("code="),
        "the code left the address bar: {href}"
    );
    assert_eq!(who(&browser).await, "alice · operator · session");
    let history = browser.js("return history.length;").await;
    assert_eq!(
        history,
        json!(2),
        "about:blank, then the page (replaced, not pushed)"
    );

    // The session is an HttpOnly cookie the page's script cannot read.
    let cookies = browser.client.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "showfeed_session")
        .unwrap_or_else(|| panic!("the session cookie: {cookies:?}"));
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
    let visible = browser.js("return document.cookie;").await;
    assert!(
        !visible.as_str().unwrap().contains("showfeed_session"),
        "{visible}"
    );

    // The stream runs by cookie: a comment posted now shows up live.
    open_show_in_page(&browser, show).await;
    let body = json!({"external_id": "c-live", "author_id": "u1", "author_name": "Una", "text": "hello from the stream"});
    assert_eq!(app.post_comments(show, &body).await.status(), 201);
    browser
        .wait_for(
            "the comment, live",
            Duration::from_secs(10),
            "document.getElementById('feed').textContent.includes('hello from the stream')",
        )
        .await;
    assert_eq!(app.metric("subscribers").await, 1.0);

    // The code is spent.
    let again = app.redeem(&code).await;
    assert_error(again, 401).await;

    // Sign out: the stream closes, the server forgets the session, the page says so.
    browser.click_id("signout").await;
    browser
        .wait_for(
            "the sign-in form saying signed out",
            Duration::from_secs(10),
            "!document.getElementById('login').hidden && \
             document.getElementById('login-msg').textContent.includes('Signed out')",
        )
        .await;
    let status = browser
        .js("return fetch('/api/session', {cache: 'no-store'}).then(r => r.status);")
        .await;
    assert_eq!(status, json!(401), "the session is over on the server");
    no_subscribers_left(&app).await;

    let urls = requested_urls(&browser).await;
    // The whole list, for a reviewer (`--nocapture`): what a request log would show.
    let mut distinct = urls.clone();
    distinct.sort();
    distinct.dedup();
    println!(
        "request URLs of the console session:\n{}",
        distinct.join("\n")
    );
    assert!(
        urls.iter().any(|u| u.contains("/stream")),
        "the recorder saw the stream: {urls:?}"
    );
    for url in &urls {
        for credential in ["code", "access_token", "token", "session", "eyJ"] {
            let lower = url.to_lowercase();
            let query = lower.split_once('?').map(|(_, q)| q).unwrap_or("");
            assert!(
                !query.contains(&format!("{credential}=")) && !lower.contains("eyj"),
                "{credential} in a request URL: {url}"
            );
        }
        assert!(!url.contains(&code), "the code in a request URL: {url}");
    }
    browser.quit().await;
}

#[tokio::test]
async fn a_session_near_its_end_warns_then_leads_back_to_sign_in_on_the_same_show() {
    let app = spawn_app_with(|c| {
        c.session.session_max_secs = 8;
        c.session.session_recheck_secs = 1;
    })
    .await;
    let show = app.create_show("live").await;
    let link = login_link(&app, "ben", "operator");

    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{link}&show={show}"))
        .await
        .unwrap();
    browser.wait_live().await;
    browser
        .wait_for(
            "the warning that the session ends soon",
            Duration::from_secs(5),
            "!document.getElementById('session-warn').hidden && \
             document.getElementById('session-warn').textContent.includes('Your session ends at')",
        )
        .await;
    browser
        .wait_for(
            "the sign-in form, saying the session ended",
            Duration::from_secs(15),
            "!document.getElementById('login').hidden && \
             document.getElementById('login-msg').textContent.includes('session has ended')",
        )
        .await;
    let href = browser.client.current_url().await.unwrap().to_string();
    assert!(
        href.contains(&format!("show={show}")),
        "the place is kept: {href}"
    );
    no_subscribers_left(&app).await;

    // A new link pasted into the form goes back to the same show, live.
    let link = login_link(&app, "ben", "operator");
    browser.type_into("login-token", &link).await;
    browser
        .client
        .find(Locator::Css("#login-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            "the sign-in form gone",
            Duration::from_secs(5),
            "document.getElementById('login').hidden",
        )
        .await;
    browser.wait_live().await;
    let title: Value = browser
        .js("return document.getElementById('show-title').textContent;")
        .await;
    assert!(!title.as_str().unwrap().is_empty(), "the show is open");
    browser.quit().await;
}
