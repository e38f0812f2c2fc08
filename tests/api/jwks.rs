//! Tokens from an identity provider: RS256, ES256 and EdDSA checked against its JWKS
//! (served on a real socket, keys generated here), with rotation, unknown kids, `iss` and
//! `aud`, the claim mapping, and every way a token or the provider can be wrong: `alg`
//! confusion, `none`, expiry, a provider that answers 500, garbage or nothing. HS256
//! tokens keep working throughout.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::idp::{epoch_in, Answer, JwksServer, SigningKey};
use crate::helpers::*;

/// A node that trusts `jwks`, with `tweak` applied to its auth settings.
async fn node_trusting(
    jwks: &JwksServer,
    tweak: impl FnOnce(&mut showfeed::config::AuthArgs),
) -> TestApp {
    let url = jwks.url.clone();
    spawn_app_with(move |c| {
        c.auth.jwt_jwks_url = Some(url);
        c.auth.jwks_min_refresh_secs = 0;
        tweak(&mut c.auth);
    })
    .await
}

/// `GET path` with `token` as the bearer.
async fn get_with(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.api
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The status `GET /api/shows` gets with `token`, and the error message if refused.
async fn shows_status(app: &TestApp, token: &str) -> (u16, String) {
    let r = get_with(app, "/api/shows", token).await;
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let message = body["error"]["message"].as_str().unwrap_or("").to_owned();
    (status, message)
}

/// Claims a provider would put in a token for `sub` with our own role claim.
fn claims(sub: &str, role: &str) -> Value {
    json!({"sub": sub, "role": role, "exp": epoch_in(600), "iat": epoch_in(0)})
}

#[tokio::test]
async fn rs256_es256_and_eddsa_tokens_from_the_jwks_are_accepted_beside_hs256_ones() {
    let (rsa, ec, ed) = (
        SigningKey::rsa("rsa-1"),
        SigningKey::es256("ec-1"),
        SigningKey::ed25519("ed-1"),
    );
    let jwks = JwksServer::start(&[&rsa, &ec, &ed]).await;
    let app = node_trusting(&jwks, |_| {}).await;
    let show = app.create_show("live").await;

    for key in [&rsa, &ec, &ed] {
        let token = key.sign(&claims(&format!("{:?}-user", key.algorithm), "operator"));
        assert_eq!(
            shows_status(&app, &token).await,
            (200, String::new()),
            "{:?}",
            key.algorithm
        );
        // Writes as that person: the actor is the provider's sub.
        let r = app
            .api
            .request(Method::PUT, app.url(&format!("/api/shows/{show}/items/1")))
            .bearer_auth(&token)
            .json(&json!({"title": "Mug", "price_cents": 100}))
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{:?}: {}",
            key.algorithm,
            r.status()
        );
        // And streams.
        let stream = get_with(&app, &format!("/api/shows/{show}/stream"), &token).await;
        assert_eq!(stream.status(), 200);
        let mut sse = SseClient::new(stream);
        assert_eq!(sse.next().await.event, "initial");
    }
    let actors: Vec<String> = app
        .sql()
        .await
        .query(
            "select distinct actor from show_changes where show_id = $1 and entity = 'item' order by 1",
            &[&show],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(actors, ["ES256-user", "EdDSA-user", "RS256-user"]);
    // Our own HS256 tokens are untouched.
    assert_eq!(shows_status(&app, &app.token).await.0, 200);
}

#[tokio::test]
async fn keycloak_and_supabase_shaped_tokens_map_their_role_and_shows_claims() {
    let key = SigningKey::rsa("kc");
    let jwks = JwksServer::start(&[&key]).await;

    // Keycloak: realm roles in an array; the highest showfeed role counts.
    let keycloak = node_trusting(&jwks, |a| {
        a.jwt_role_claim = "/realm_access/roles".into();
        a.jwt_issuer = Some("https://sso.example.com/realms/shop".into());
        a.jwt_audience = vec!["showfeed".into()];
    })
    .await;
    let token = |roles: Value| {
        key.sign(&json!({
            "sub": "kc-user", "exp": epoch_in(600),
            "iss": "https://sso.example.com/realms/shop", "aud": ["account", "showfeed"],
            "realm_access": {"roles": roles},
        }))
    };
    let operator = token(json!([
        "offline_access",
        "viewer",
        "operator",
        "uma_authorization"
    ]));
    let r = keycloak
        .api
        .post(keycloak.url("/api/shows"))
        .bearer_auth(&operator)
        .json(&json!({"title": "by keycloak"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "operator may create a show");
    let viewer = token(json!(["offline_access", "viewer"]));
    assert_eq!(shows_status(&keycloak, &viewer).await.0, 200);
    let r = keycloak
        .api
        .post(keycloak.url("/api/shows"))
        .bearer_auth(&viewer)
        .json(&json!({"title": "by a viewer"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 403).await;
    let (status, message) = shows_status(&keycloak, &token(json!(["offline_access"]))).await;
    assert_eq!(status, 401);
    assert!(message.contains("/realm_access/roles"), "{message}");

    // Supabase Auth: `role` is "authenticated"; ours sits in app_metadata, with the shows.
    let supabase = node_trusting(&jwks, |a| {
        a.jwt_role_claim = "/app_metadata/role".into();
        a.jwt_shows_claim = "/app_metadata/shows".into();
        a.jwt_audience = vec!["authenticated".into()];
    })
    .await;
    let (mine, other) = (
        supabase.create_show("live").await,
        supabase.create_show("live").await,
    );
    let token = key.sign(&json!({
        "sub": Uuid::new_v4().to_string(), "exp": epoch_in(600), "aud": "authenticated",
        "role": "authenticated",
        "app_metadata": {"provider": "email", "role": "viewer", "shows": [mine.to_string()]},
    }));
    let ok = get_with(&supabase, &format!("/api/shows/{mine}/comments"), &token).await;
    assert_eq!(ok.status(), 200);
    let refused = get_with(&supabase, &format!("/api/shows/{other}/comments"), &token).await;
    assert_error(refused, 403).await;
}

#[tokio::test]
async fn wrong_or_missing_iss_and_aud_are_refused() {
    let key = SigningKey::es256("e");
    let jwks = JwksServer::start(&[&key]).await;
    let app = node_trusting(&jwks, |a| {
        a.jwt_issuer = Some("https://idp.example".into());
        a.jwt_audience = vec!["showfeed".into(), "console".into()];
    })
    .await;
    let with = |extra: Value| {
        let mut c = claims("u", "viewer");
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        key.sign(&c)
    };
    let good = with(json!({"iss": "https://idp.example", "aud": "console"}));
    assert_eq!(shows_status(&app, &good).await.0, 200);
    for (what, token) in [
        (
            "wrong iss",
            with(json!({"iss": "https://evil.example", "aud": "showfeed"})),
        ),
        ("missing iss", with(json!({"aud": "showfeed"}))),
        (
            "wrong aud",
            with(json!({"iss": "https://idp.example", "aud": "other-app"})),
        ),
        ("missing aud", with(json!({"iss": "https://idp.example"}))),
    ] {
        assert_eq!(shows_status(&app, &token).await.0, 401, "{what}");
    }
}

#[tokio::test]
async fn a_rotated_in_key_works_after_a_refresh_on_its_kid_and_a_removed_key_stops_after_the_next_refresh(
) {
    let (old, new) = (SigningKey::rsa("2026-11"), SigningKey::ed25519("2026-12"));
    let jwks = JwksServer::start(&[&old]).await;
    let app = node_trusting(&jwks, |a| a.jwks_cache_secs = 2).await;
    let old_token = old.sign(&claims("o", "viewer"));
    let new_token = new.sign(&claims("n", "viewer"));

    assert_eq!(shows_status(&app, &old_token).await.0, 200);
    let (status, message) = shows_status(&app, &new_token).await;
    assert_eq!(status, 401, "not published yet");
    assert!(message.contains("kid"), "{message}");

    // The provider publishes the new key beside the old: both work, the new one at once
    // (its unknown kid triggers a refresh).
    jwks.publish(&[&old, &new]);
    assert_eq!(shows_status(&app, &new_token).await.0, 200);
    assert_eq!(shows_status(&app, &old_token).await.0, 200);

    // The old key is withdrawn: its tokens stop working once the cache is refreshed.
    jwks.publish(&[&new]);
    let started = Instant::now();
    while shows_status(&app, &old_token).await.0 == 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the withdrawn key still works"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shows_status(&app, &new_token).await.0, 200);
}

#[tokio::test]
async fn made_up_kids_cannot_make_the_node_hammer_the_provider() {
    let key = SigningKey::es256("real");
    let jwks = JwksServer::start(&[&key]).await;
    let app = node_trusting(&jwks, |a| a.jwks_min_refresh_secs = 60).await;
    assert_eq!(
        shows_status(&app, &key.sign(&claims("u", "viewer")))
            .await
            .0,
        200
    );
    let before = jwks.fetches();
    for i in 0..30 {
        // A real token's shape under a kid the provider never published.
        let token = forge(&key.sign(&claims("x", "admin")), &format!("made-up-{i}"));
        assert_eq!(shows_status(&app, &token).await.0, 401);
    }
    assert!(
        jwks.fetches() - before <= 1,
        "30 unknown kids caused {} fetches",
        jwks.fetches() - before
    );
}

/// `token` with its header's kid replaced (the signature no longer matches anything).
fn forge(token: &str, kid: &str) -> String {
    let mut parts = token.split('.');
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    let mut header = header;
    header["kid"] = json!(kid);
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    format!(
        "{header}.{}.{}",
        parts.next().unwrap(),
        parts.next().unwrap()
    )
}

/// A token with this header and payload and `signature` (base64url) as its third part.
fn raw_token(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

#[tokio::test]
async fn alg_confusion_none_a_mismatched_alg_and_expired_tokens_are_refused() {
    let (rsa, ec) = (SigningKey::rsa("r"), SigningKey::es256("e"));
    let jwks = JwksServer::start(&[&rsa, &ec]).await;
    let app = node_trusting(&jwks, |_| {}).await;
    let admin = claims("mallory", "admin");

    // HS256 "signed" with the provider's RSA public key (the classic confusion attack).
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("r".into());
    let public = rsa.public_pem.as_ref().unwrap();
    let confused = jsonwebtoken::encode(
        &header,
        &admin,
        &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    assert_eq!(shows_status(&app, &confused).await.0, 401, "alg confusion");

    // alg none, with and without a kid, with and without a signature part.
    for header in [json!({"alg": "none"}), json!({"alg": "none", "kid": "r"})] {
        for signature in ["", "AAAA"] {
            let token = raw_token(&header, &admin, signature);
            assert_eq!(shows_status(&app, &token).await.0, 401, "none: {header}");
        }
    }

    // The header says ES256 but the kid names the RSA key.
    let token = forge(&ec.sign(&admin), "r");
    let (status, message) = shows_status(&app, &token).await;
    assert_eq!(status, 401);
    assert!(message.contains("ES256"), "{message}");

    // Expired (beyond the 30 s leeway for provider clocks).
    let expired = rsa.sign(&json!({"sub": "u", "role": "viewer", "exp": epoch_in(-120)}));
    let (status, message) = shows_status(&app, &expired).await;
    assert_eq!(status, 401);
    assert!(message.to_lowercase().contains("expired"), "{message}");

    // A signature from another key with the right kid.
    let impostor = SigningKey::rsa("r");
    assert_eq!(
        shows_status(&app, &impostor.sign(&admin)).await.0,
        401,
        "another key under the same kid"
    );
}

#[tokio::test]
async fn a_provider_that_fails_answers_garbage_or_hangs_costs_its_tokens_a_401_never_hs256_or_a_500(
) {
    let key = SigningKey::ed25519("k");
    let jwks = JwksServer::start(&[&key]).await;
    jwks.set(Answer::Fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "oops".into(),
    ));
    let app = node_trusting(&jwks, |a| a.jwks_timeout_secs = 1).await;
    let token = key.sign(&claims("u", "viewer"));

    let (status, message) = shows_status(&app, &token).await;
    assert_eq!(status, 401, "500 from the provider");
    assert!(message.contains("unavailable"), "{message}");
    assert_eq!(shows_status(&app, &app.token).await.0, 200);

    for garbage in [
        "not json",
        "{\"keys\": 3}",
        "{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2VjcmV0\"}]}",
    ] {
        jwks.set(Answer::Fail(StatusCode::OK, garbage.into()));
        assert_eq!(shows_status(&app, &token).await.0, 401, "{garbage}");
        assert_eq!(shows_status(&app, &app.token).await.0, 200);
    }

    jwks.set(Answer::Hang(Duration::from_secs(30)));
    let started = Instant::now();
    assert_eq!(
        shows_status(&app, &token).await.0,
        401,
        "a hanging provider"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "JWKS_TIMEOUT_SECS bounds the wait: {:?}",
        started.elapsed()
    );
    assert_eq!(shows_status(&app, &app.token).await.0, 200);

    // Back up: its tokens work again, without a restart.
    jwks.publish(&[&key]);
    assert_eq!(shows_status(&app, &token).await.0, 200);
    // Once good keys are held, an outage keeps them (nobody is signed out by it).
    jwks.set(Answer::Fail(StatusCode::BAD_GATEWAY, "down".into()));
    assert_eq!(shows_status(&app, &token).await.0, 200);
}

#[tokio::test]
async fn an_https_jwks_url_is_fetched_over_tls_and_its_failure_is_logged_clearly() {
    // A plain-HTTP server behind an https:// URL: the client must attempt TLS (rustls is
    // compiled in) and fail the handshake, and the node must say so in its log.
    let key = SigningKey::es256("k");
    let jwks = JwksServer::start(&[&key]).await;
    let https = jwks.url.replace("http://", "https://");
    let app = spawn_app().await;
    let node = LoggedNode::start_with(&app, &[("JWT_JWKS_URL", https.as_str())]).await;
    let token = key.sign(&claims("u", "viewer"));
    let r = reqwest::Client::new()
        .get(node.url("/api/shows"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let line = node
        .wait_line("the JWKS warning", |l| {
            l["level"] == "WARN"
                && l["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("JWKS"))
        })
        .await;
    let text = line.to_string();
    assert!(text.contains(&https), "names the URL: {text}");
    assert!(
        text.contains("InvalidContentType") && !text.contains("scheme is not http"),
        "TLS was tried (rustls refused the plain-HTTP answer): {text}"
    );
    assert!(!text.contains(&token), "no token in the log");
    let ok = reqwest::Client::new()
        .get(node.url("/api/shows"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "HS256 keeps working");
}

#[tokio::test]
async fn an_https_jwks_behind_a_private_ca_works_with_jwt_jwks_ca_file_and_is_refused_without() {
    let key = SigningKey::rsa("tls");
    let (jwks, ca_pem) = JwksServer::start_tls(&[&key]).await;
    assert!(jwks.url.starts_with("https://"));
    let ca_file = std::env::temp_dir().join(format!("showfeed-ca-{}.pem", Uuid::new_v4()));
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let token = key.sign(&claims("tls-user", "viewer"));

    let trusting = {
        let ca_file = ca_file.clone();
        node_trusting(&jwks, move |a| a.jwt_jwks_ca_file = Some(ca_file)).await
    };
    assert_eq!(shows_status(&trusting, &token).await, (200, String::new()));
    assert_eq!(jwks.fetches(), 1, "fetched over TLS once, then cached");

    // Without the CA the certificate is unknown: the provider's tokens get a 401, and the
    // TLS handshake never completed (the server saw no request).
    let untrusting = node_trusting(&jwks, |_| {}).await;
    let (status, message) = shows_status(&untrusting, &token).await;
    assert_eq!(status, 401);
    assert!(message.contains("unavailable"), "{message}");
    assert_eq!(jwks.fetches(), 1);
    let _ = std::fs::remove_file(&ca_file);
}

#[tokio::test]
async fn a_jwks_file_is_read_on_first_need_and_reread_when_the_cache_expires() {
    let (a, b) = (SigningKey::es256("a"), SigningKey::ed25519("b"));
    let file = std::env::temp_dir().join(format!("showfeed-jwks-{}.json", Uuid::new_v4()));
    let write = |keys: &[&SigningKey]| {
        let set = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()});
        std::fs::write(&file, set.to_string()).unwrap();
    };
    write(&[&a]);
    let app = {
        let file = file.clone();
        spawn_app_with(move |c| {
            c.auth.jwt_jwks_file = Some(file);
            c.auth.jwks_cache_secs = 1;
        })
        .await
    };
    let (token_a, token_b) = (
        a.sign(&claims("a", "viewer")),
        b.sign(&claims("b", "viewer")),
    );
    assert_eq!(shows_status(&app, &token_a).await.0, 200);
    assert_eq!(shows_status(&app, &token_b).await.0, 401);
    write(&[&b]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        shows_status(&app, &token_b).await.0,
        200,
        "the new file is read"
    );
    assert_eq!(shows_status(&app, &token_a).await.0, 401, "a is gone");
    let _ = std::fs::remove_file(&file);
}
