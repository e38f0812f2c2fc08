//! The REST == feed contract: every entity a write answers with is, as a whole JSON value,
//! the `data` of the event that write streams, and a stream's `initial` snapshot is what
//! the GET endpoints answer. A client may then merge REST bodies and feed events freely.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// Asserts `rest` == `feed` as whole JSON values; on a mismatch names each differing
/// field with both values.
fn assert_same(what: &str, rest: &Value, feed: &Value) {
    if rest == feed {
        return;
    }
    let diff = match (rest.as_object(), feed.as_object()) {
        (Some(r), Some(f)) => {
            let mut keys: Vec<&String> = r.keys().chain(f.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| r.get(*k) != f.get(*k))
                .map(|k| format!("  {k}: REST {:?}, feed {:?}", r.get(k), f.get(k)))
                .collect::<Vec<_>>()
                .join("\n")
        }
        _ => format!("  REST {rest}\n  feed {feed}"),
    };
    panic!("{what}: the REST body differs from the feed's data\n{diff}");
}

/// The next event, which must be `event` (e.g. `claim.updated`); returns its `data`.
async fn next_data(stream: &mut SseClient, event: &str) -> Value {
    let e = stream.next().await;
    assert_eq!(e.event, event, "event {} ({})", e.id, e.data);
    e.data["data"].clone()
}

/// The response's JSON body, after checking its status.
async fn body(r: reqwest::Response, status: u16, what: &str) -> Value {
    let got = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "{what}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Posts one comment with the admin token; returns the `201` body.
async fn post_comment(app: &TestApp, show: Uuid, author: &str, text: &str) -> Value {
    let comment = json!({
        "external_id": Uuid::new_v4().to_string(),
        "author_id": author,
        "author_name": author.to_uppercase(),
        "text": text,
    });
    body(app.post_comments(show, &comment).await, 201, text).await
}

async fn put_item(app: &TestApp, show: Uuid, title: &str, quantity: i32, status: u16) -> Value {
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/shows/{show}/items/101"),
            &json!({"title": title, "price_cents": 4500, "quantity": quantity}),
        )
        .await;
    body(r, status, "put item 101").await
}

/// The answer is the show's row plus the `seq` its change got (read-your-writes), which
/// is the row's `last_seq`; returns the row.
async fn patch_show(app: &TestApp, show: Uuid, patch: &Value) -> Value {
    let r = app
        .send_json(reqwest::Method::PATCH, &format!("/api/shows/{show}"), patch)
        .await;
    let mut answer = body(r, 200, &format!("patch show {patch}")).await;
    let seq = answer.as_object_mut().unwrap().remove("seq");
    assert_eq!(
        seq,
        Some(answer["last_seq"].clone()),
        "PATCH show {patch}: seq is last_seq"
    );
    answer
}

/// Checks a fresh stream's `initial` against GET /shows/{id}, /items, /claims, /comments.
async fn assert_initial_matches_the_get_endpoints(app: &TestApp, show: Uuid) {
    let mut stream = app.stream(show, None).await;
    let initial = stream.next().await;
    assert_eq!(initial.event, "initial");
    let get = |path: String| async move { body(app.get(&path).await, 200, &path).await };
    let rest_show = get(format!("/api/shows/{show}")).await;
    assert_eq!(
        initial.data["seq"], rest_show["last_seq"],
        "a snapshot of now"
    );
    assert_same("initial.show", &rest_show, &initial.data["show"]);
    let cases = [
        ("items", format!("/api/shows/{show}/items")),
        ("claims", format!("/api/shows/{show}/claims")),
        ("comments", format!("/api/shows/{show}/comments")),
    ];
    for (list, path) in cases {
        let rest = get(path).await;
        assert_same(&format!("initial.{list}"), &rest[list], &initial.data[list]);
    }
}

#[tokio::test]
async fn every_rest_body_equals_the_data_its_change_streams() {
    // A young snapshot is shared with new subscribers, who then catch up from its seq;
    // here every `initial` must be taken now, to compare it with what GET answers now.
    let app = spawn_app_with(|c| c.feed.snapshot_reuse_ms = 0).await;
    let show = app.create_show("scheduled").await;
    assert_initial_matches_the_get_endpoints(&app, show).await;
    let mut stream = app.stream(show, None).await;
    assert_eq!(stream.next().await.event, "initial");

    // The show goes live: started_at is set.
    let live = patch_show(&app, show, &json!({"status": "live"})).await;
    assert_same(
        "PATCH show live",
        &live,
        &next_data(&mut stream, "show.updated").await,
    );

    // A new item, then the same number again.
    let created = put_item(&app, show, "Vintage jacket", 1, 201).await;
    assert_eq!(created["promoted"], json!([]));
    let feed = next_data(&mut stream, "item.created").await;
    assert_same("PUT new item", &created["item"], &feed);
    let replaced = put_item(&app, show, "Vintage denim jacket", 1, 200).await;
    let feed = next_data(&mut stream, "item.updated").await;
    assert_same("PUT item again", &replaced["item"], &feed);

    // A plain comment, then claims: one gets the unit, two are waitlisted.
    let hello = post_comment(&app, show, "ann", "hello").await;
    assert_eq!(hello["claims"], json!([]));
    let feed = next_data(&mut stream, "comment.created").await;
    assert_same("POST comment", &hello["comments"][0], &feed);
    let mut claims = Vec::new();
    for buyer in ["bob", "cy", "dee"] {
        let sold = post_comment(&app, show, buyer, "sold 101").await;
        let feed = next_data(&mut stream, "comment.created").await;
        assert_same(
            &format!("POST sold 101 ({buyer}): comment"),
            &sold["comments"][0],
            &feed,
        );
        let feed = next_data(&mut stream, "claim.created").await;
        assert_same(
            &format!("POST sold 101 ({buyer}): claim"),
            &sold["claims"][0],
            &feed,
        );
        claims.push(sold["claims"][0]["id"].as_str().unwrap().to_owned());
    }
    let [bob, cy, dee] = [&claims[0], &claims[1], &claims[2]];

    // Releasing bob's unit promotes cy: the claim, then the promoted one.
    let released = body(app.patch_claim(bob, "released").await, 200, "release").await;
    let feed = next_data(&mut stream, "claim.updated").await;
    assert_same("PATCH claim released", &released["claim"], &feed);
    assert_eq!(released["promoted"].as_array().unwrap().len(), 1);
    assert_eq!(released["promoted"][0]["id"], cy.as_str());
    let feed = next_data(&mut stream, "claim.updated").await;
    assert_same(
        "PATCH claim released: promoted",
        &released["promoted"][0],
        &feed,
    );

    // Paying cy's claim promotes nobody.
    let paid = body(app.patch_claim(cy, "paid").await, 200, "pay").await;
    assert_eq!(paid["promoted"], json!([]));
    let feed = next_data(&mut stream, "claim.updated").await;
    assert_same("PATCH claim paid", &paid["claim"], &feed);

    // Raising the quantity promotes dee: the item, then the promoted claim.
    let raised = put_item(&app, show, "Vintage denim jacket", 2, 200).await;
    let feed = next_data(&mut stream, "item.updated").await;
    assert_same("PUT item, quantity raised", &raised["item"], &feed);
    assert_eq!(raised["promoted"][0]["id"], dee.as_str());
    let feed = next_data(&mut stream, "claim.updated").await;
    assert_same(
        "PUT item, quantity raised: promoted",
        &raised["promoted"][0],
        &feed,
    );

    // A new title.
    let renamed = patch_show(&app, show, &json!({"title": "Friday drop"})).await;
    let feed = next_data(&mut stream, "show.updated").await;
    assert_same("PATCH show title", &renamed, &feed);
    assert_initial_matches_the_get_endpoints(&app, show).await;

    // The show ends: ended_at is set.
    let ended = patch_show(&app, show, &json!({"status": "ended"})).await;
    let feed = next_data(&mut stream, "show.updated").await;
    assert_same("PATCH show ended", &ended, &feed);
    assert_initial_matches_the_get_endpoints(&app, show).await;

    // The polling fallback sends the very change objects the stream sent.
    let seq = ended["last_seq"].as_i64().unwrap();
    let mut replay = app.stream(show, Some("0")).await;
    let streamed: Vec<Value> = replay
        .until_seq(seq)
        .await
        .into_iter()
        .map(|e| e.data)
        .collect();
    let path = format!("/api/shows/{show}/changes?after=0");
    let polled = body(app.get(&path).await, 200, &path).await;
    assert_eq!(polled["more"], false, "one page holds them all");
    assert_same("GET /changes", &json!(streamed), &polled["changes"]);
}
