//! Bad input gets a fitting 4xx with the contract's error body, never a 5xx, and leaves
//! the service working.

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// Sends a raw body with a content type (None: no Content-Type header) and the admin token.
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut req = app
        .api
        .request(method, app.url(path))
        .bearer_auth(&app.token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    req.send().await.unwrap()
}

/// Asserts the status and shape, and that it is not a 5xx; returns the error code.
async fn refused(what: &str, r: reqwest::Response, status: u16) -> String {
    assert!(
        !r.status().is_server_error(),
        "{what}: a 5xx ({}) for bad input",
        r.status()
    );
    let body = assert_error_for(what, r, status).await;
    body["error"]["code"].as_str().unwrap().to_owned()
}

async fn assert_still_works(app: &TestApp, show: Uuid) {
    let r = app.api.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "healthz");
    let body = app.comment(show, "ann", "sold 1").await;
    assert_eq!(
        body["claims"].as_array().unwrap().len(),
        1,
        "a normal request works"
    );
}

#[tokio::test]
async fn an_unknown_show_or_claim_is_404() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let nobody = Uuid::new_v4();
    let comment = json!({"external_id": "x", "author_id": "a", "text": "sold 1"});
    let cases: Vec<(&str, Method, String, Option<Value>)> = vec![
        (
            "get show",
            Method::GET,
            format!("/api/shows/{nobody}"),
            None,
        ),
        (
            "patch show",
            Method::PATCH,
            format!("/api/shows/{nobody}"),
            Some(json!({"title": "x"})),
        ),
        (
            "list items",
            Method::GET,
            format!("/api/shows/{nobody}/items"),
            None,
        ),
        (
            "put item",
            Method::PUT,
            format!("/api/shows/{nobody}/items/1"),
            Some(json!({"quantity": 1})),
        ),
        (
            "post comment",
            Method::POST,
            format!("/api/shows/{nobody}/comments"),
            Some(comment.clone()),
        ),
        (
            "post a batch",
            Method::POST,
            format!("/api/shows/{nobody}/comments"),
            Some(json!([comment])),
        ),
        (
            "page comments",
            Method::GET,
            format!("/api/shows/{nobody}/comments"),
            None,
        ),
        (
            "list claims",
            Method::GET,
            format!("/api/shows/{nobody}/claims"),
            None,
        ),
        (
            "patch claim",
            Method::PATCH,
            format!("/api/claims/{nobody}"),
            Some(json!({"status": "paid"})),
        ),
    ];
    for (what, method, path, body) in cases {
        let r = app
            .request_as(Some(&app.token), method, &path, body.as_ref())
            .await;
        let code = refused(what, r, 404).await;
        assert_eq!(code, "not_found", "{what}");
    }
    let shows: i64 = app.count("select count(*) from shows").await;
    assert_eq!(shows, 1, "nothing was created for the unknown show");
    assert_still_works(&app, show).await;
}

#[tokio::test]
async fn malformed_paths_and_queries_are_400() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let cases: Vec<(&str, Method, String, Option<Value>)> = vec![
        (
            "bad uuid",
            Method::GET,
            "/api/shows/not-a-uuid".into(),
            None,
        ),
        (
            "bad uuid, claims",
            Method::GET,
            "/api/shows/123/claims".into(),
            None,
        ),
        (
            "bad uuid, comments",
            Method::POST,
            "/api/shows/xyz/comments".into(),
            Some(json!({"external_id": "x", "author_id": "a", "text": "t"})),
        ),
        (
            "bad claim uuid",
            Method::PATCH,
            "/api/claims/nope".into(),
            Some(json!({"status": "paid"})),
        ),
        (
            "item number not a number",
            Method::PUT,
            format!("/api/shows/{show}/items/abc"),
            Some(json!({"quantity": 1})),
        ),
        (
            "item number beyond i32",
            Method::PUT,
            format!("/api/shows/{show}/items/99999999999"),
            Some(json!({"quantity": 1})),
        ),
        (
            "limit not a number",
            Method::GET,
            format!("/api/shows/{show}/comments?limit=ten"),
            None,
        ),
        (
            "limit beyond i64",
            Method::GET,
            format!("/api/shows/{show}/comments?limit=99999999999999999999"),
            None,
        ),
        (
            "before not a uuid",
            Method::GET,
            format!("/api/shows/{show}/comments?before=yesterday"),
            None,
        ),
        (
            "shows limit not a number",
            Method::GET,
            "/api/shows?limit=-".into(),
            None,
        ),
        // These parse as floats; NaN used to reach Duration::from_secs_f64 and panic.
        (
            "long-poll wait NaN",
            Method::GET,
            format!("/api/shows/{show}/changes?wait=NaN"),
            None,
        ),
        (
            "long-poll wait infinite",
            Method::GET,
            format!("/api/shows/{show}/changes?wait=inf"),
            None,
        ),
    ];
    for (what, method, path, body) in cases {
        let r = app
            .request_as(Some(&app.token), method, &path, body.as_ref())
            .await;
        refused(what, r, 400).await;
    }
    assert_still_works(&app, show).await;
}

#[tokio::test]
async fn invalid_values_are_422_and_store_nothing() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let comments = format!("/api/shows/{show}/comments");
    let item = |n: i64| format!("/api/shows/{show}/items/{n}");
    let long = "x".repeat(201);
    let cases: Vec<(&str, Method, String, Value)> = vec![
        (
            "NUL in text",
            Method::POST,
            comments.clone(),
            json!({"external_id": "n1", "author_id": "a", "text": "sold 1\u{0000}"}),
        ),
        (
            "NUL in author",
            Method::POST,
            comments.clone(),
            json!({"external_id": "n2", "author_id": "a\u{0000}", "text": "hi"}),
        ),
        (
            "NUL in external id",
            Method::POST,
            comments.clone(),
            json!({"external_id": "\u{0000}", "author_id": "a", "text": "hi"}),
        ),
        (
            "author id too long",
            Method::POST,
            comments.clone(),
            json!({"external_id": "n3", "author_id": long, "text": "hi"}),
        ),
        (
            "text too long",
            Method::POST,
            comments.clone(),
            json!({"external_id": "n4", "author_id": "a", "text": "y".repeat(200_001)}),
        ),
        (
            "missing text",
            Method::POST,
            comments.clone(),
            json!({"external_id": "n5", "author_id": "a"}),
        ),
        (
            "unknown field",
            Method::POST,
            comments.clone(),
            json!({"external_id": "n6", "author_id": "a", "text": "t", "admin": true}),
        ),
        (
            "text not a string",
            Method::POST,
            comments.clone(),
            json!({"external_id": "n7", "author_id": "a", "text": 5}),
        ),
        (
            "bad created_at",
            Method::POST,
            comments.clone(),
            json!({"external_id": "n8", "author_id": "a", "text": "t", "created_at": "soon"}),
        ),
        ("empty batch", Method::POST, comments.clone(), json!([])),
        (
            "a string, not a comment",
            Method::POST,
            comments.clone(),
            json!("sold 1"),
        ),
        (
            "item number 0",
            Method::PUT,
            item(0),
            json!({"quantity": 1}),
        ),
        (
            "item number 10000000",
            Method::PUT,
            item(10_000_000),
            json!({"quantity": 1}),
        ),
        (
            "negative item number",
            Method::PUT,
            item(-1),
            json!({"quantity": 1}),
        ),
        (
            "negative quantity",
            Method::PUT,
            item(5),
            json!({"quantity": -1}),
        ),
        (
            "quantity too large",
            Method::PUT,
            item(5),
            json!({"quantity": 1_000_001}),
        ),
        (
            "quantity beyond i32",
            Method::PUT,
            item(5),
            json!({"quantity": 1e12}),
        ),
        (
            "negative price",
            Method::PUT,
            item(5),
            json!({"price_cents": -100}),
        ),
        (
            "NUL in item title",
            Method::PUT,
            item(5),
            json!({"title": "a\u{0000}b"}),
        ),
        (
            "empty show title",
            Method::POST,
            "/api/shows".into(),
            json!({"title": ""}),
        ),
        (
            "NUL in show title",
            Method::POST,
            "/api/shows".into(),
            json!({"title": "\u{0000}"}),
        ),
        (
            "show created ended",
            Method::POST,
            "/api/shows".into(),
            json!({"title": "t", "status": "ended"}),
        ),
        (
            "show status unknown",
            Method::PATCH,
            format!("/api/shows/{show}"),
            json!({"status": "paused"}),
        ),
        (
            "show back to scheduled",
            Method::PATCH,
            format!("/api/shows/{show}"),
            json!({"status": "scheduled"}),
        ),
        (
            "title too long",
            Method::PATCH,
            format!("/api/shows/{show}"),
            json!({"title": "t".repeat(501)}),
        ),
    ];
    for (what, method, path, body) in cases {
        let r = app
            .request_as(Some(&app.token), method, &path, Some(&body))
            .await;
        let code = refused(what, r, 422).await;
        assert_eq!(code, "invalid", "{what}");
    }
    let sql = app.sql().await;
    let count = |q: &'static str| {
        let sql = &sql;
        async move { sql.query_one(q, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("select count(*) from comments").await, 0);
    assert_eq!(count("select count(*) from items").await, 0);
    assert_eq!(count("select count(*) from shows").await, 1);
    assert_eq!(count("select count(*) from show_changes").await, 0);
    assert_still_works(&app, show).await;
}

#[tokio::test]
async fn bodies_that_are_not_json_are_refused_with_400_or_415() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let comments = format!("/api/shows/{show}/comments");
    let item = format!("/api/shows/{show}/items/1");
    let show_path = format!("/api/shows/{show}");
    let json_ct = Some("application/json");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let comment = r#"{"external_id": "t", "author_id": "a", "text": "t"}"#;
    // invalid UTF-8 inside a JSON string
    let mut bad_utf8 = br#"{"external_id": "u", "author_id": "a", "text": ""#.to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe]);
    bad_utf8.extend_from_slice(br#""}"#);
    // Most cases post to the comments endpoint: (case, content type, body, status).
    let post = |what, ct, body: Vec<u8>, status| (what, Method::POST, &comments, ct, body, status);
    let surrogate = br#"{"external_id": "s", "author_id": "a", "text": "\ud800"}"#;
    let form = Some("application/x-www-form-urlencoded");
    let cases = vec![
        post("malformed JSON", json_ct, b"{\"external_id\": ".into(), 400),
        post("trailing garbage", json_ct, b"{} {}".into(), 400),
        post("not JSON at all", json_ct, b"sold 1".into(), 400),
        post("empty body", json_ct, Vec::new(), 400),
        post("lone surrogate", json_ct, surrogate.into(), 400),
        post("nested 10000 deep", json_ct, deep.into(), 400),
        post("invalid UTF-8", json_ct, bad_utf8, 400),
        post("text/plain", Some("text/plain"), comment.into(), 415),
        post("form", form, b"text=sold+1".into(), 415),
        post("no content type", None, comment.into(), 415),
        (
            "item as text/plain",
            Method::PUT,
            &item,
            Some("text/plain"),
            b"{\"quantity\": 2}".into(),
            415,
        ),
        (
            "malformed show patch",
            Method::PATCH,
            &show_path,
            json_ct,
            b"{\"title\": ".into(),
            400,
        ),
    ];
    for (what, method, path, ct, body, status) in cases {
        let r = send_raw(&app, method, path, ct, body).await;
        refused(what, r, status).await;
    }

    let stored: i64 = app.count("select count(*) from comments").await;
    assert_eq!(stored, 0);
    assert_still_works(&app, show).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_stores_nothing() {
    let app = spawn_app_with(|c| c.http.max_body_bytes = 10_000).await;
    let show = app.create_show("live").await;
    let comments = format!("/api/shows/{show}/comments");
    let big = json!({"external_id": "big", "author_id": "a", "text": "z".repeat(20_000)});
    let batch: Vec<Value> = (0..300)
        .map(|i| json!({"external_id": format!("b{i}"), "author_id": "a", "text": "sold 1"}))
        .collect();
    let cases: Vec<(&str, Method, String, Value)> = vec![
        ("20 KB comment", Method::POST, comments.clone(), big),
        (
            "a batch over the limit",
            Method::POST,
            comments,
            Value::Array(batch),
        ),
        (
            "an item over the limit",
            Method::PUT,
            format!("/api/shows/{show}/items/1"),
            json!({"title": "t".repeat(20_000)}),
        ),
    ];
    for (what, method, path, body) in cases {
        let r = app.send_json(method, &path, &body).await;
        let code = refused(what, r, 413).await;
        assert_eq!(code, "too_large", "{what}");
    }

    let stored: i64 = app.count("select count(*) from comments").await;
    assert_eq!(stored, 0);
    // just under the limit still works
    let small = json!({"external_id": "small", "author_id": "a", "text": "z".repeat(9_000)});
    assert_eq!(app.post_comments(show, &small).await.status(), 201);
    assert_still_works(&app, show).await;
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_get_the_error_shape() {
    let app = spawn_app().await;
    let cases: [(&str, Method, &str, Option<Value>, u16); 2] = [
        ("unknown route", Method::GET, "/api/nothing-here", None, 404),
        (
            "wrong method",
            Method::DELETE,
            "/api/shows",
            Some(json!({})),
            405,
        ),
    ];
    for (what, method, path, body, status) in cases {
        let r = app
            .request_as(Some(&app.token), method, path, body.as_ref())
            .await;
        assert_error_for(what, r, status).await;
    }
}
