//! Who may do what: 401 without a valid token, 403 with one that lacks the right, the
//! contract's error body either way, and a service that keeps answering afterwards.

use serde_json::{json, Value};
use showfeed::auth::{Keys, Role, TokenClaims};
use uuid::Uuid;

use crate::helpers::*;

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn now() -> u64 {
    showfeed::auth::jwt::now_secs()
}

/// A token with any header and payload, signed with nothing.
fn unsigned_token(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.",
        base64url(header.to_string().as_bytes()),
        base64url(payload.to_string().as_bytes())
    )
}

/// A request a token may make: (case, token, method, path, body, expected status).
type Allowed<'a> = (String, &'a str, reqwest::Method, String, Option<Value>, u16);

/// `GET /api/shows/{show}` with `token` sent as a bearer header.
async fn get_show_with(app: &TestApp, show: Uuid, token: Option<&str>) -> reqwest::Response {
    app.request_as(
        token,
        reqwest::Method::GET,
        &format!("/api/shows/{show}"),
        None,
    )
    .await
}

async fn assert_still_serving(app: &TestApp, show: Uuid) {
    let r = app.api.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "healthz");
    assert_eq!(
        get_show_with(app, show, Some(&app.token)).await.status(),
        200
    );
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_with_the_error_shape() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let admin = json!({"sub": "mallory", "exp": now() + 3600, "role": "admin"});

    let expired = app.keys.sign(&TokenClaims {
        sub: "late".into(),
        exp: now() - 5,
        role: Role::Admin,
        shows: None,
    });
    let alg_none = unsigned_token(&json!({"alg": "none", "typ": "JWT"}), &admin);
    let alg_none_upper = unsigned_token(&json!({"alg": "NONE", "typ": "JWT"}), &admin);
    let wrong_key = Keys::new(b"not the service's secret").mint("mallory", Role::Admin, None, 3600);
    // the right secret with another algorithm
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &admin,
        &jsonwebtoken::EncodingKey::from_secret(app.secret().as_bytes()),
    )
    .unwrap();
    let sign = |payload: Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &payload,
            &jsonwebtoken::EncodingKey::from_secret(app.secret().as_bytes()),
        )
        .unwrap()
    };
    let no_sub = sign(json!({"exp": now() + 3600, "role": "admin"}));
    let no_exp = sign(json!({"sub": "x", "role": "admin"}));
    let unknown_role = sign(json!({"sub": "x", "exp": now() + 3600, "role": "root"}));
    // a valid token whose signature was tampered with
    let valid = app.mint("x", Role::Admin, None, 3600);
    let (signed, signature) = valid.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{signed}.{flipped}{}", &signature[1..]);

    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("malformed", Some("not.a.jwt".into())),
        ("garbage", Some("%%%".into())),
        ("expired", Some(expired)),
        ("alg none", Some(alg_none)),
        ("alg NONE", Some(alg_none_upper)),
        ("wrong key", Some(wrong_key)),
        ("HS512", Some(hs512)),
        ("no sub", Some(no_sub)),
        ("no exp", Some(no_exp)),
        ("unknown role", Some(unknown_role)),
        ("tampered", Some(tampered)),
    ];
    for (what, token) in &cases {
        let r = get_show_with(&app, show, token.as_deref()).await;
        let body = assert_error_for(what, r, 401).await;
        assert_eq!(body["error"]["code"], "unauthorized", "{what}");
        // a write is refused just the same, and changes nothing
        let r = app
            .request_as(
                token.as_deref(),
                reqwest::Method::POST,
                &format!("/api/shows/{show}/comments"),
                Some(&json!({"external_id": what, "author_id": "m", "text": "sold 1"})),
            )
            .await;
        assert_error_for(&format!("{what}, a write"), r, 401).await;
    }

    // other ways to send no bearer token: (case, query, Authorization header)
    let basic = format!("Basic {}", base64url(b"admin:admin"));
    let other_ways = [
        ("Basic auth", "", Some(basic)),
        ("a token in the query", "?access_token=not.a.jwt", None),
    ];
    for (what, query, authorization) in other_ways {
        let mut req = app.api.get(app.url(&format!("/api/shows/{show}{query}")));
        if let Some(value) = authorization {
            req = req.header("Authorization", value);
        }
        assert_error_for(what, req.send().await.unwrap(), 401).await;
    }

    let comments: i64 = app.count("select count(*) from comments").await;
    assert_eq!(comments, 0, "no refused write was stored");
    assert_still_serving(&app, show).await;
}

#[tokio::test]
async fn a_valid_token_without_the_right_gets_403_and_changes_nothing() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let other = app.create_show("live").await;
    let body = app.comment(other, "ann", "sold 1").await;
    let claim = body["claims"][0]["id"].as_str().unwrap().to_owned();

    let viewer = app.mint("vic", Role::Viewer, None, 600);
    let operator = app.mint("olga", Role::Operator, None, 600);
    let ingest = app.mint("bot", Role::Ingest, None, 600);
    let only_show = app.mint("olga", Role::Operator, Some(vec![show]), 600);
    let ingest_only_show = app.mint("bot", Role::Ingest, Some(vec![show]), 600);
    let comment = json!({"external_id": "e1", "author_id": "m", "text": "sold 2"});

    use reqwest::Method;
    let cases: Vec<(&str, &str, Method, String, Option<Value>)> = vec![
        (
            "viewer creates a show",
            &viewer,
            Method::POST,
            "/api/shows".into(),
            Some(json!({"title": "Nope"})),
        ),
        (
            "viewer puts an item",
            &viewer,
            Method::PUT,
            format!("/api/shows/{show}/items/1"),
            Some(json!({"quantity": 5})),
        ),
        (
            "viewer releases a claim",
            &viewer,
            Method::PATCH,
            format!("/api/claims/{claim}"),
            Some(json!({"status": "released"})),
        ),
        (
            "viewer posts a comment",
            &viewer,
            Method::POST,
            format!("/api/shows/{show}/comments"),
            Some(comment.clone()),
        ),
        (
            "operator posts a comment",
            &operator,
            Method::POST,
            format!("/api/shows/{show}/comments"),
            Some(comment.clone()),
        ),
        (
            "ingest reads claims",
            &ingest,
            Method::GET,
            format!("/api/shows/{show}/claims"),
            None,
        ),
        (
            "ingest reads a show",
            &ingest,
            Method::GET,
            format!("/api/shows/{show}"),
            None,
        ),
        (
            "ingest reads comments",
            &ingest,
            Method::GET,
            format!("/api/shows/{show}/comments"),
            None,
        ),
        (
            "ingest ends a show",
            &ingest,
            Method::PATCH,
            format!("/api/shows/{show}"),
            Some(json!({"status": "ended"})),
        ),
        (
            "other show: get",
            &only_show,
            Method::GET,
            format!("/api/shows/{other}"),
            None,
        ),
        (
            "other show: claims",
            &only_show,
            Method::GET,
            format!("/api/shows/{other}/claims"),
            None,
        ),
        (
            "other show: release its claim",
            &only_show,
            Method::PATCH,
            format!("/api/claims/{claim}"),
            Some(json!({"status": "released"})),
        ),
        (
            "other show: update it",
            &only_show,
            Method::PATCH,
            format!("/api/shows/{other}"),
            Some(json!({"status": "ended"})),
        ),
        (
            "other show: put an item",
            &only_show,
            Method::PUT,
            format!("/api/shows/{other}/items/1"),
            Some(json!({"quantity": 5})),
        ),
        (
            "other show: post a comment",
            &ingest_only_show,
            Method::POST,
            format!("/api/shows/{other}/comments"),
            Some(comment.clone()),
        ),
    ];
    for (what, token, method, path, body) in cases {
        let r = app
            .request_as(Some(token), method, &path, body.as_ref())
            .await;
        let body = assert_error_for(what, r, 403).await;
        assert_eq!(body["error"]["code"], "forbidden", "{what}");
    }

    // nothing changed: no show created, no comment stored, the claim is still held
    let sql = app.sql().await;
    let count = |table: &'static str| {
        let sql = &sql;
        async move {
            sql.query_one(&format!("select count(*) from {table}"), &[])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    assert_eq!(count("shows").await, 2);
    assert_eq!(count("comments").await, 1);
    assert_eq!(count("items").await, 0);
    assert_eq!(count("show_changes").await, 2);
    let claims = app.claims(other).await;
    assert_eq!(claims[0]["status"], "claimed");

    // the restricted token lists only its show
    let r = app
        .request_as(Some(&only_show), Method::GET, "/api/shows", None)
        .await;
    assert_eq!(r.status(), 200);
    let listed: Value = r.json().await.unwrap();
    let ids: Vec<&str> = listed["shows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [show.to_string()]);

    // and the rights it does have still work
    let allowed: [Allowed; 2] = [
        (
            "its show: get".into(),
            &only_show,
            Method::GET,
            format!("/api/shows/{show}"),
            None,
            200,
        ),
        (
            "its show: post a comment".into(),
            &ingest_only_show,
            Method::POST,
            format!("/api/shows/{show}/comments"),
            Some(comment),
            201,
        ),
    ];
    for (what, token, method, path, body, status) in allowed {
        let r = app
            .request_as(Some(token), method, &path, body.as_ref())
            .await;
        assert_eq!(r.status(), status, "{what}");
    }
    assert_still_serving(&app, show).await;
}

#[tokio::test]
async fn each_role_can_do_what_the_contract_gives_it() {
    let app = spawn_app().await;
    let viewer = app.mint("vic", Role::Viewer, None, 600);
    let operator = app.mint("olga", Role::Operator, None, 600);
    let ingest = app.mint("bot", Role::Ingest, None, 600);
    use reqwest::Method;

    let r = app
        .request_as(
            Some(&operator),
            Method::POST,
            "/api/shows",
            Some(&json!({"title": "Olga's show", "status": "live"})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let show: Value = r.json().await.unwrap();
    let show = show["id"].as_str().unwrap().to_owned();
    let r = app
        .request_as(
            Some(&operator),
            Method::PUT,
            &format!("/api/shows/{show}/items/3"),
            Some(&json!({"quantity": 2})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .request_as(
            Some(&ingest),
            Method::POST,
            &format!("/api/shows/{show}/comments"),
            Some(&json!({"external_id": "1", "author_id": "ann", "text": "sold 3"})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let claim = body["claims"][0]["id"].as_str().unwrap().to_owned();
    let mut allowed: Vec<Allowed> = Vec::new();
    for (who, token) in [("viewer", &viewer), ("operator", &operator)] {
        for path in [
            format!("/api/shows/{show}"),
            format!("/api/shows/{show}/claims"),
            format!("/api/shows/{show}/comments"),
            "/api/shows".to_owned(),
        ] {
            let what = format!("{who} reads {path}");
            allowed.push((what, token, Method::GET, path, None, 200));
        }
    }
    allowed.push((
        "operator marks a claim paid".into(),
        &operator,
        Method::PATCH,
        format!("/api/claims/{claim}"),
        Some(json!({"status": "paid"})),
        200,
    ));
    for (what, token, method, path, body, status) in allowed {
        let r = app
            .request_as(Some(token), method, &path, body.as_ref())
            .await;
        assert_eq!(r.status(), status, "{what}");
    }
}
