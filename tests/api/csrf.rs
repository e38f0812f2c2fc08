//! Cookie-authenticated writes are safe from cross-site request forgery: another site can
//! make a browser send the session cookie, but not a same-origin `Origin` together with the
//! `X-Showfeed-CSRF` header. Bearer-token requests are not affected (a browser never adds
//! an `Authorization` header by itself).

use reqwest::header::{CONTENT_TYPE, ORIGIN};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn show_count(app: &TestApp) -> usize {
    let shows: Value = app.get("/api/shows").await.json().await.unwrap();
    shows
        .as_array()
        .map_or_else(|| shows["shows"].as_array().map_or(0, Vec::len), Vec::len)
}

#[tokio::test]
async fn a_cross_site_form_post_with_the_session_cookie_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let cookie = app.session_cookie("ivy").await;
    let before = show_count(&app).await;
    // What a page on evil.example gets a browser to send: the cookie, its own Origin, a
    // form body, and no custom header (a form cannot set one).
    let r = app
        .with_cookie(Method::POST, "/api/shows", &cookie)
        .header(ORIGIN, "https://evil.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("Sec-Fetch-Site", "cross-site")
        .body("title=pwned&status=live")
        .send()
        .await
        .unwrap();
    let body = assert_error(r, 403).await;
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cross-site"),
        "{body}"
    );
    assert_eq!(show_count(&app).await, before, "no show was made");
}

#[tokio::test]
async fn a_cross_origin_fetch_is_refused_even_with_the_header_and_a_json_body() {
    let app = spawn_app().await;
    let cookie = app.session_cookie("jon").await;
    let show = app.create_show("live").await;
    let before = show_count(&app).await;
    let r = app
        .with_cookie(Method::POST, "/api/shows", &cookie)
        .header(ORIGIN, "https://evil.example")
        .header(CSRF, "1")
        .json(&json!({"title": "pwned"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 403).await;
    assert_eq!(show_count(&app).await, before);
    // Nor can it end a show, or sign the operator out.
    let r = app
        .with_cookie(Method::PATCH, &format!("/api/shows/{show}"), &cookie)
        .header(ORIGIN, "null")
        .header(CSRF, "1")
        .json(&json!({"status": "ended"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 403).await;
    let r = app
        .with_cookie(Method::DELETE, "/api/session", &cookie)
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_error(r, 403).await;
    let r = app
        .with_cookie(Method::GET, "/api/session", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "still signed in");
}

#[tokio::test]
async fn a_same_origin_write_needs_both_the_origin_and_the_header() {
    let app = spawn_app().await;
    let cookie = app.session_cookie("kim").await;
    let body = json!({"title": "Friday drop", "status": "live"});
    let refused: [(&str, &[(&str, &str)]); 3] = [
        ("same Origin, no header", &[("origin", &app.address)]),
        (
            "the header, no Origin and no Sec-Fetch-Site",
            &[(CSRF, "1")],
        ),
        (
            "the header with Sec-Fetch-Site: cross-site",
            &[(CSRF, "1"), ("sec-fetch-site", "cross-site")],
        ),
    ];
    for (what, headers) in refused {
        let mut request = app.with_cookie(Method::POST, "/api/shows", &cookie);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let r = request.json(&body).send().await.unwrap();
        assert_eq!(r.status(), 403, "{what}");
        assert_error(r, 403).await;
    }
    // Both, as the console sends them: made.
    let r = app
        .console_write(Method::POST, "/api/shows", &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // A browser that sends no Origin but says same-origin: made.
    let r = app
        .with_cookie(Method::POST, "/api/shows", &cookie)
        .header(CSRF, "1")
        .header("Sec-Fetch-Site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn bearer_token_writes_need_neither_origin_nor_header() {
    let app = spawn_app().await;
    let r = app
        .api
        .post(app.url("/api/shows"))
        .bearer_auth(&app.token)
        .header(ORIGIN, "https://partner.example")
        .json(&json!({"title": "From a partner's server"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}
