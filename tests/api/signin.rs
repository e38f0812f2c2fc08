//! Signing in without pasting a token: a one-time code from a sign-in link becomes a
//! session cookie that every node honours, that ends on sign-out, idleness or age, and
//! whose end closes the streams it opened.

use std::time::Duration;

use reqwest::header::{COOKIE, ORIGIN};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use showfeed::auth::Role;

use crate::helpers::*;

#[tokio::test]
async fn login_link_prints_a_one_time_link_whose_code_becomes_an_http_only_strict_cookie() {
    let app = spawn_app().await;
    let stdout = app.login_link_output("alice", "operator");
    let link = stdout.trim_end().lines().last().unwrap();
    let (base, code) = link.split_once("/#code=").expect("a link with #code=");
    assert_eq!(base, app.address, "{stdout}");
    assert_eq!(code.len(), 64, "256 bits, hex: {link}");
    assert!(!stdout.contains("eyJ"), "no token is printed: {stdout}");

    let r = app.redeem(code).await;
    assert_eq!(r.status(), 201);
    let set = set_cookie(&r);
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(!set.contains("Secure"), "plain http: not Secure: {set}");
    let cookie = cookie_of(&r);
    assert!(!cookie.contains(code), "the session id is not the code");
    let session: Value = r.json().await.unwrap();
    assert_eq!(session["sub"], "alice");
    assert_eq!(session["role"], "operator");

    // The cookie alone authenticates: who, and the API.
    let who: Value = app
        .with_cookie(Method::GET, "/api/session", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["sub"], "alice");
    let shows = app
        .with_cookie(Method::GET, "/api/shows", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(shows.status(), 200);

    // The code worked once.
    let again = app.redeem(code).await;
    let body = assert_error(again, 401).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{body}"
    );
}

#[tokio::test]
async fn a_code_works_once_even_when_two_redemptions_race() {
    let app = spawn_app().await;
    let code = app
        .signin_code("bob", Role::Viewer, Duration::from_secs(600))
        .await;
    let (a, b) = tokio::join!(app.redeem(&code), app.redeem(&code));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 401]);
}

#[tokio::test]
async fn expired_codes_garbage_codes_and_garbage_cookies_get_a_clear_401() {
    let app = spawn_app().await;
    let short = app
        .signin_code("carol", Role::Operator, Duration::from_millis(300))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_error(app.redeem(&short).await, 401).await;

    for code in ["", "abc", &"g".repeat(64), &"a".repeat(10_000), "💥"] {
        assert_error_for(code, app.redeem(code).await, 401).await;
    }
    let not_json = app
        .api
        .post(app.url("/api/session"))
        .header(ORIGIN, &app.address)
        .header(CSRF, "1")
        .body("code=1")
        .send()
        .await
        .unwrap();
    assert!(not_json.status().is_client_error(), "{}", not_json.status());

    let big = format!("showfeed_session={}", "f".repeat(10 * 1024));
    let unknown = format!("showfeed_session={}", "0".repeat(64));
    for cookie in [
        "showfeed_session=",
        "showfeed_session=zz",
        "showfeed_session=\"quoted\"",
        unknown.as_str(),
        big.as_str(),
        "a=b; showfeed_session=;;; =",
    ] {
        let r = app
            .with_cookie(Method::GET, "/api/shows", cookie)
            .send()
            .await
            .unwrap();
        assert_error_for(cookie, r, 401).await;
        let r = app
            .with_cookie(Method::GET, "/api/session", cookie)
            .send()
            .await
            .unwrap();
        assert_error_for(cookie, r, 401).await;
    }
    // A bearer token still wins over any cookie.
    let r = app
        .api
        .get(app.url("/api/shows"))
        .bearer_auth(&app.token)
        .header(COOKIE, "showfeed_session=zz")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_session_ends_when_idle_too_long_and_at_its_absolute_end_however_busy() {
    let idle = spawn_app_with(|c| c.session.session_idle_secs = 2).await;
    let cookie = idle.session_cookie("dora").await;
    let r = idle
        .with_cookie(Method::GET, "/api/shows", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let r = idle
        .with_cookie(Method::GET, "/api/shows", &cookie)
        .send()
        .await
        .unwrap();
    let body = assert_error(r, 401).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("session has ended"),
        "{body}"
    );

    let max = spawn_app_with(|c| c.session.session_max_secs = 2).await;
    let cookie = max.session_cookie("eve").await;
    let session: Value = max
        .with_cookie(Method::GET, "/api/session", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(session["expires_at"].is_string(), "{session}");
    // Busy all along: a request every 300 ms.
    let mut last = 200;
    for _ in 0..12 {
        last = max
            .with_cookie(Method::GET, "/api/shows", &cookie)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(last, 401, "past SESSION_MAX_SECS the session is over");
}

#[tokio::test]
async fn every_node_honours_a_session_and_sign_out_on_one_ends_it_and_its_streams_on_all() {
    let a = spawn_app_with(|c| c.session.session_recheck_secs = 1).await;
    let mut config = test_config(&a.database);
    config.auth.jwt_secret = Some(SecretString::from(a.secret()));
    config.session.session_recheck_secs = 1;
    let b = spawn_on(config, a.database.clone()).await;
    let show = a.create_show("live").await;

    let cookie = a.session_cookie("fay").await;
    // Opened on node B with the cookie from node A.
    let response = b
        .with_cookie(Method::GET, &format!("/api/shows/{show}/stream"), &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["referrer-policy"],
        "no-referrer",
        "a stream URL never leaks through Referer"
    );
    let mut sse = SseClient::new(response);
    assert_eq!(sse.next().await.event, "initial");
    // A write by cookie on node B, as the console sends it.
    let r = b
        .console_write(
            Method::PUT,
            &format!("/api/shows/{show}/items/101"),
            &cookie,
        )
        .json(&json!({"title": "Mug", "price_cents": 1200}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let event = sse.next().await;
    assert_eq!(event.event, "item.created");
    assert_eq!(
        event.data["actor"], "fay",
        "the session's sub is the actor: {event:?}"
    );

    // Sign out on node A.
    let out = a
        .console_write(Method::DELETE, "/api/session", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert!(
        set_cookie(&out).contains("Max-Age=0"),
        "the cookie is cleared"
    );
    let r = b
        .with_cookie(Method::GET, "/api/shows", &cookie)
        .send()
        .await
        .unwrap();
    assert_error(r, 401).await;
    // The stream on B says so and ends (within a recheck).
    let ended = sse
        .next_within(Duration::from_secs(10))
        .await
        .expect("the stream ends with auth.expired");
    assert_eq!(ended.event, "auth.expired");
    assert_eq!(ended.data["reason"], "session ended");
    assert!(
        sse.next_within(Duration::from_secs(5)).await.is_none(),
        "then the stream is closed"
    );
}

#[tokio::test]
async fn a_session_cookie_brought_to_sign_in_is_ended_and_never_reused() {
    let app = spawn_app().await;
    let first = app.session_cookie("gus").await;
    // Sign in again in the same browser (the old cookie is sent along).
    let code = app
        .signin_code("gus", Role::Operator, Duration::from_secs(600))
        .await;
    let r = app.redeem_bringing(&code, Some(&first)).await;
    assert_eq!(r.status(), 201);
    let second = cookie_of(&r);
    assert_ne!(second, first, "a new id on every sign-in");
    let old = app
        .with_cookie(Method::GET, "/api/session", &first)
        .send()
        .await
        .unwrap();
    assert_error(old, 401).await;

    // An id planted by someone else before sign-in is not adopted either.
    let planted = format!("showfeed_session={}", "ab".repeat(32));
    let code = app
        .signin_code("gus", Role::Operator, Duration::from_secs(600))
        .await;
    let r = app.redeem_bringing(&code, Some(&planted)).await;
    assert_eq!(r.status(), 201);
    assert_ne!(cookie_of(&r), planted);
    let r = app
        .with_cookie(Method::GET, "/api/session", &planted)
        .send()
        .await
        .unwrap();
    assert_error(r, 401).await;
}

/// A sign-in as it arrives through an https proxy at console.example.com.
async fn redeem_via_https_proxy(app: &TestApp, code: &str) -> reqwest::Response {
    app.api
        .post(app.url("/api/session"))
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "console.example.com")
        .header(ORIGIN, "https://console.example.com")
        .header(CSRF, "1")
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn behind_a_trusted_https_proxy_the_cookie_is_secure_and_forwarded_headers_count_only_then() {
    let proxied = spawn_app_with(|c| c.session.trusted_proxy = true).await;
    let code = proxied
        .signin_code("hal", Role::Viewer, Duration::from_secs(600))
        .await;
    let r = redeem_via_https_proxy(&proxied, &code).await;
    assert_eq!(r.status(), 201);
    assert!(set_cookie(&r).contains("; Secure"), "{}", set_cookie(&r));

    // Without TRUSTED_PROXY the same headers are the client's word: the Origin is foreign.
    let direct = spawn_app().await;
    let code = direct
        .signin_code("hal", Role::Viewer, Duration::from_secs(600))
        .await;
    let r = redeem_via_https_proxy(&direct, &code).await;
    assert_error(r, 403).await;
    // The refused sign-in did not use the code up.
    assert_eq!(direct.redeem(&code).await.status(), 201);
}

#[tokio::test]
async fn the_console_page_and_every_answer_say_referrer_policy_no_referrer() {
    let app = spawn_app().await;
    for path in ["/", "/main.js", "/api/shows", "/api/session", "/healthz"] {
        let r = app.get(path).await;
        assert_eq!(
            r.headers()
                .get("referrer-policy")
                .map(|v| v.to_str().unwrap()),
            Some("no-referrer"),
            "{path}"
        );
    }
}
