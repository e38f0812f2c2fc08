//! A show's currency: an ISO 4217 code given at creation (else DEFAULT_CURRENCY), changed
//! by PATCH like any field (and streamed), a typo refused with the field named.

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_show_has_the_currency_it_was_given_else_the_configured_one_and_streams_its_change() {
    let app = spawn_app_with(|c| c.shows.default_currency = "TRY".into()).await;
    let r = app
        .post(
            "/api/shows",
            &json!({"title": "Euro drop", "currency": "EUR"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let euro: Value = r.json().await.unwrap();
    assert_eq!(euro["currency"], "EUR");
    let plain = app.create_show("live").await;
    let got: Value = app
        .get(&format!("/api/shows/{plain}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["currency"], "TRY",
        "DEFAULT_CURRENCY when the request names none"
    );

    let mut feed = app.stream(plain, None).await;
    let initial = feed.next().await;
    assert_eq!(initial.data["show"]["currency"], "TRY");
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/shows/{plain}"),
            &json!({"currency": "JPY"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let changed = feed.next().await;
    assert_eq!(
        (changed.event.as_str(), &changed.data["data"]["currency"]),
        ("show.updated", &json!("JPY"))
    );

    for bad in ["usd", "USS", "EURO", ""] {
        let r = app
            .post("/api/shows", &json!({"title": "x", "currency": bad}))
            .await;
        let body = assert_error_for(&format!("currency {bad:?}"), r, 422).await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("ISO 4217"),
            "{body}"
        );
        let r = app
            .send_json(
                reqwest::Method::PATCH,
                &format!("/api/shows/{plain}"),
                &json!({"currency": bad}),
            )
            .await;
        assert_error_for(&format!("patch currency {bad:?}"), r, 422).await;
    }
}
