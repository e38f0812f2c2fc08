//! Claim rules through the API: who gets a unit, who is waitlisted, idempotent and atomic
//! ingest, status changes and promotion.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// `(buyer_id, status, waitlist_position)` of each claim, in creation order.
fn board(claims: &[Value]) -> Vec<(String, String, Option<i64>)> {
    claims
        .iter()
        .map(|c| {
            (
                c["buyer_id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                c["waitlist_position"].as_i64(),
            )
        })
        .collect()
}

fn row(buyer: &str, status: &str, position: Option<i64>) -> (String, String, Option<i64>) {
    (buyer.to_owned(), status.to_owned(), position)
}

/// Claim of `buyer` on `item` from a show's claim list.
fn claim_of<'a>(claims: &'a [Value], buyer: &str, item: i64) -> &'a Value {
    claims
        .iter()
        .find(|c| c["buyer_id"] == buyer && c["item_number"] == item)
        .unwrap_or_else(|| panic!("a claim of {buyer} on item {item}"))
}

async fn change_count(app: &TestApp, show: Uuid) -> i64 {
    app.sql()
        .await
        .query_one(
            "select count(*) from show_changes where show_id = $1",
            &[&show],
        )
        .await
        .unwrap()
        .get(0)
}

async fn count_rows(app: &TestApp, table: &str, show: Uuid) -> i64 {
    app.sql()
        .await
        .query_one(
            &format!("select count(*) from {table} where show_id = $1"),
            &[&show],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_sold_comment_on_a_live_show_claims_the_item_in_the_same_response() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let body = app.comment(show, "ann", "SOLD #101!").await;
    let comment = &body["comments"][0];
    let claims = body["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 1, "one claim: {body}");
    let claim = &claims[0];
    assert_eq!(claim["item_number"], 101);
    assert_eq!(claim["status"], "claimed");
    assert_eq!(claim["buyer_id"], "ann");
    assert_eq!(claim["comment_id"], comment["id"]);
    assert!(claim["waitlist_position"].is_null());
    assert_eq!(
        app.claims(show).await,
        claims.to_vec(),
        "the board shows it"
    );

    // the comment and its claim were written by one transaction
    let xids: Vec<String> = app
        .sql()
        .await
        .query(
            "select xmin::text from show_changes where show_id = $1 order by seq",
            &[&show],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(xids.len(), 2);
    assert_eq!(xids[0], xids[1], "comment and claim commit together");

    // the other spellings claim the same item
    for (buyer, text) in [("bea", "sold 101"), ("cy", "Sold 101!")] {
        let body = app.comment(show, buyer, text).await;
        let claims = body["claims"].as_array().unwrap();
        assert_eq!(claims.len(), 1, "{text:?} claims");
        assert_eq!(claims[0]["item_number"], 101, "{text:?}");
    }

    // other comments claim nothing
    for text in ["I sold 101 yesterday", "sold out", "hello"] {
        let body = app.comment(show, "bob", text).await;
        assert_eq!(body["comments"].as_array().unwrap().len(), 1);
        assert_eq!(body["claims"], json!([]), "{text:?} claims nothing");
    }
}

#[tokio::test]
async fn comments_on_a_scheduled_or_ended_show_are_stored_but_claim_nothing() {
    let app = spawn_app().await;
    let scheduled = app.create_show("scheduled").await;
    let ended = app.create_show("live").await;
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/shows/{ended}"),
            &json!({"status": "ended"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    for show in [scheduled, ended] {
        let body = app.comment(show, "ann", "sold 101").await;
        assert_eq!(body["comments"][0]["text"], "sold 101", "stored");
        assert_eq!(body["claims"], json!([]), "no claim");
        assert!(app.claims(show).await.is_empty());
        let page: Value = app
            .get(&format!("/api/shows/{show}/comments"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["comments"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn units_come_from_the_item_quantity_then_buyers_are_waitlisted_in_order() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    assert_eq!(app.put_item(show, 7, 2).await.status(), 201);
    for buyer in ["a", "b", "c", "d", "e"] {
        app.comment(show, buyer, "sold 7").await;
    }
    // item 9 has no row: one unit
    for buyer in ["x", "y"] {
        app.comment(show, buyer, "sold 9").await;
    }
    let claims = app.claims(show).await;
    assert_eq!(
        board(&claims),
        vec![
            row("a", "claimed", None),
            row("b", "claimed", None),
            row("c", "waitlisted", Some(1)),
            row("d", "waitlisted", Some(2)),
            row("e", "waitlisted", Some(3)),
            row("x", "claimed", None),
            row("y", "waitlisted", Some(1)),
        ]
    );
}

#[tokio::test]
async fn a_buyer_holds_at_most_one_live_claim_per_item() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let first = app.comment(show, "ann", "sold 7").await;
    assert_eq!(first["claims"].as_array().unwrap().len(), 1);
    let again = app.comment(show, "ann", "sold 7").await;
    assert_eq!(again["comments"].as_array().unwrap().len(), 1, "stored");
    assert_eq!(again["claims"], json!([]), "no second claim");

    // also not a waitlisted one, and not twice within one batch
    app.comment(show, "bob", "sold 7").await; // waitlisted 1
    let batch = json!([
        {"external_id": "b1", "author_id": "bob", "text": "sold 7"},
        {"external_id": "b2", "author_id": "cat", "text": "sold 7"},
        {"external_id": "b3", "author_id": "cat", "text": "sold #7"},
    ]);
    let r = app.post_comments(show, &batch).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        board(body["claims"].as_array().unwrap()),
        vec![row("cat", "waitlisted", Some(2))]
    );

    // a different item is a different claim
    let other = app.comment(show, "ann", "sold 8").await;
    assert_eq!(other["claims"].as_array().unwrap().len(), 1);

    // once released, the buyer may claim the item again (at the end of the line)
    let ann = claim_of(&app.claims(show).await, "ann", 7)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.patch_claim(&ann, "released").await.status(), 200);
    let back = app.comment(show, "ann", "sold 7").await;
    assert_eq!(
        board(back["claims"].as_array().unwrap()),
        vec![row("ann", "waitlisted", Some(3))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_buyers_at_once_on_three_units_get_three_claims_and_waitlist_1_to_47() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    assert_eq!(app.put_item(show, 7, 3).await.status(), 201);

    let requests = (0..50).map(|i| {
        let body = json!({
            "external_id": format!("e{i}"),
            "author_id": format!("buyer-{i}"),
            "text": "sold 7",
        });
        let app = &app;
        async move { app.post_comments(show, &body).await.status() }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");

    let claims = app.claims(show).await;
    assert_eq!(claims.len(), 50, "one claim per buyer");
    let claimed = claims.iter().filter(|c| c["status"] == "claimed").count();
    assert_eq!(claimed, 3);
    let mut positions: Vec<i64> = claims
        .iter()
        .filter(|c| c["status"] == "waitlisted")
        .map(|c| c["waitlist_position"].as_i64().unwrap())
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=47).collect::<Vec<_>>());

    // and the rules followed commit order: by seq, three units then positions 1, 2, ...
    let by_seq: Vec<(String, Option<i32>)> = app
        .sql()
        .await
        .query(
            "select data ->> 'status', (data ->> 'waitlist_position')::int from show_changes \
              where show_id = $1 and entity = 'claim' order by seq",
            &[&show],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut expected = vec![("claimed".to_owned(), None); 3];
    expected.extend((1..=47).map(|p| ("waitlisted".to_owned(), Some(p))));
    assert_eq!(by_seq, expected);
}

#[tokio::test]
async fn reposting_a_comment_is_a_no_op_that_records_no_change() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let first = json!({"external_id": "fb-123", "author_id": "ann", "text": "sold 3"});
    let r = app.post_comments(show, &first).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["claims"].as_array().unwrap().len(), 1);
    let comment_id = body["comments"][0]["id"].clone();
    let claim_id = body["claims"][0]["id"].clone();
    let changes = change_count(&app, show).await;
    assert_eq!(changes, 2);

    // the same platform id again, even with other content: first write wins, and the
    // answer is the stored comment and its claim
    let again = json!({"external_id": "fb-123", "author_id": "ann", "text": "sold 4"});
    let r = app.post_comments(show, &again).await;
    assert_eq!(r.status(), 200, "nothing new stored");
    let body: Value = r.json().await.unwrap();
    let comments = body["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1, "{body}");
    assert_eq!(comments[0]["id"], comment_id);
    assert_eq!(comments[0]["external_id"], "fb-123");
    assert_eq!(comments[0]["text"], "sold 3");
    let claims = body["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 1, "{body}");
    assert_eq!(claims[0]["id"], claim_id);
    assert_eq!(claims[0]["comment_id"], comment_id);
    assert_eq!(claims[0]["item_number"], 3);
    assert_eq!(board(claims), vec![row("ann", "claimed", None)]);
    assert_eq!(body["duplicates"], json!(["fb-123"]));

    assert_eq!(
        change_count(&app, show).await,
        changes,
        "no change recorded"
    );
    assert_eq!(count_rows(&app, "comments", show).await, 1);
    let claims = app.claims(show).await;
    assert_eq!(board(&claims), vec![row("ann", "claimed", None)]);
    assert_eq!(claims[0]["item_number"], 3);

    // in a batch, the known one is answered as stored and the new one stored, in request
    // order
    let batch = json!([
        {"external_id": "fb-123", "author_id": "ann", "text": "sold 3"},
        {"external_id": "fb-124", "author_id": "bob", "text": "hi"},
    ]);
    let r = app.post_comments(show, &batch).await;
    assert_eq!(r.status(), 201, "something new stored");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["duplicates"], json!(["fb-123"]));
    let comments = body["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2, "{body}");
    assert_eq!(comments[0]["external_id"], "fb-123");
    assert_eq!(comments[0]["id"], comment_id);
    assert_eq!(comments[1]["external_id"], "fb-124");
    assert_eq!(comments[1]["text"], "hi");
    let claims = body["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 1, "{body}");
    assert_eq!(claims[0]["id"], claim_id);
    assert_eq!(change_count(&app, show).await, changes + 1);

    // an id repeated within one batch is stored once, answered once, listed as a duplicate
    let repeated = json!([
        {"external_id": "fb-125", "author_id": "cat", "text": "one"},
        {"external_id": "fb-125", "author_id": "cat", "text": "two"},
    ]);
    let r = app.post_comments(show, &repeated).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["duplicates"], json!(["fb-125"]));
    let comments = body["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1, "{body}");
    assert_eq!(comments[0]["text"], "one");
    assert_eq!(count_rows(&app, "comments", show).await, 3);
}

#[tokio::test]
async fn a_repost_answers_with_the_claim_as_it_is_now() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let first = json!({"external_id": "fb-200", "author_id": "ann", "text": "sold 5"});
    let body: Value = app.post_comments(show, &first).await.json().await.unwrap();
    let claim = body["claims"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["claims"][0]["status"], "claimed");

    // bob waits for the same item; ann's claim is paid, then a retry of ann's comment
    app.comment(show, "bob", "sold 5").await;
    assert_eq!(app.patch_claim(&claim, "paid").await.status(), 200);
    let changes = change_count(&app, show).await;

    let r = app.post_comments(show, &first).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let claims = body["claims"].as_array().unwrap();
    assert_eq!(
        claims.len(),
        1,
        "only the re-posted comment's claim: {body}"
    );
    assert_eq!(claims[0]["id"], claim.as_str());
    assert_eq!(claims[0]["status"], "paid", "the claim as stored now");
    assert_eq!(claims[0]["item_number"], 5);
    assert_ne!(claims[0]["updated_at"], claims[0]["created_at"]);
    assert_eq!(body["duplicates"], json!(["fb-200"]));
    assert_eq!(
        change_count(&app, show).await,
        changes,
        "no change recorded"
    );
}

#[tokio::test]
async fn a_batch_with_one_invalid_comment_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let good = |i: usize| json!({"external_id": format!("g{i}"), "author_id": format!("u{i}"), "text": "sold 1"});
    let bad_batches = [
        (
            "a NUL byte",
            json!([good(0), good(1), {"external_id": "x", "author_id": "u", "text": "nul \u{0000} byte"}]),
        ),
        (
            "no author",
            json!([good(0), {"external_id": "x", "text": "no author"}, good(2)]),
        ),
        (
            "an empty external id",
            json!([good(0), {"external_id": "", "author_id": "u", "text": "empty id"}]),
        ),
        (
            "a bad created_at",
            json!([good(0), {"external_id": "x", "author_id": "u", "text": "t", "created_at": "yesterday"}]),
        ),
        ("a number, not a comment", json!([good(0), 42])),
    ];
    for (what, batch) in bad_batches {
        let r = app.post_comments(show, &batch).await;
        assert!(
            r.status().is_client_error(),
            "{what}: refused with 4xx, got {} for {batch}",
            r.status()
        );
        assert_error_for(what, r, 422).await;
    }
    assert_eq!(count_rows(&app, "comments", show).await, 0);
    assert_eq!(count_rows(&app, "claims", show).await, 0);
    assert_eq!(change_count(&app, show).await, 0);
    let last_seq: i64 = app
        .sql()
        .await
        .query_one("select last_seq from shows where id = $1", &[&show])
        .await
        .unwrap()
        .get(0);
    assert_eq!(last_seq, 0);
}

#[tokio::test]
async fn releasing_a_claim_promotes_the_lowest_waitlisted_position_in_the_same_transaction() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    for buyer in ["a", "b", "c"] {
        app.comment(show, buyer, "sold 7").await;
    }
    let claims = app.claims(show).await;
    let a = claim_of(&claims, "a", 7)["id"].as_str().unwrap().to_owned();
    let b = claim_of(&claims, "b", 7)["id"].as_str().unwrap().to_owned();

    let r = app.patch_claim(&a, "released").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["claim"]["status"], "released");
    let promoted = body["promoted"].as_array().unwrap();
    assert_eq!(promoted.len(), 1, "{body}");
    assert_eq!(promoted[0]["id"], b.as_str());
    assert_eq!(promoted[0]["status"], "claimed");

    assert_eq!(
        board(&app.claims(show).await),
        vec![
            row("a", "released", None),
            row("b", "claimed", Some(1)),
            row("c", "waitlisted", Some(2)),
        ],
        "positions are kept, never renumbered"
    );

    // release and promotion are one transaction
    let rows = app
        .sql()
        .await
        .query(
            "select xmin::text, data ->> 'id' from show_changes where show_id = $1 \
              order by seq desc limit 2",
            &[&show],
        )
        .await
        .unwrap();
    let ids: Vec<String> = rows.iter().map(|r| r.get(1)).collect();
    assert_eq!(ids, [b.clone(), a.clone()]);
    assert_eq!(rows[0].get::<_, String>(0), rows[1].get::<_, String>(0));

    // releasing a waitlisted claim promotes nobody
    let c = claim_of(&app.claims(show).await, "c", 7)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body: Value = app.patch_claim(&c, "released").await.json().await.unwrap();
    assert_eq!(body["claim"]["status"], "released");
    assert_eq!(body["promoted"], json!([]));
}

#[tokio::test]
async fn only_the_contracts_status_transitions_are_allowed() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.comment(show, "a", "sold 7").await;
    app.comment(show, "b", "sold 7").await;
    let claims = app.claims(show).await;
    let a = claim_of(&claims, "a", 7)["id"].as_str().unwrap().to_owned();
    let b = claim_of(&claims, "b", 7)["id"].as_str().unwrap().to_owned();

    // Refused while a holds the unit and b waits: (case, claim, requested, expected status).
    let refused = [
        ("waitlisted -> paid", &b, "paid", 409),
        ("unknown status", &a, "shipped", 422),
        ("not settable: claimed", &a, "claimed", 422),
        ("not settable: waitlisted", &a, "waitlisted", 422),
        ("empty status", &a, "", 422),
        ("status in capitals", &a, "PAID", 422),
    ];
    for (what, claim, status, expected) in refused {
        assert_error_for(what, app.patch_claim(claim, status).await, expected).await;
    }
    // claimed -> paid, waitlisted -> released
    let r = app.patch_claim(&a, "paid").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["claim"]["status"], "paid");
    assert_eq!(body["promoted"], json!([]), "paying promotes nobody");
    assert_eq!(app.patch_claim(&b, "released").await.status(), 200);
    // paid and released are terminal: 409
    let refused = [
        ("paid -> released", &a, "released"),
        ("paid -> paid", &a, "paid"),
        ("released -> released", &b, "released"),
        ("released -> paid", &b, "paid"),
    ];
    for (what, claim, status) in refused {
        assert_error_for(what, app.patch_claim(claim, status).await, 409).await;
    }

    // refused changes changed nothing
    assert_eq!(
        board(&app.claims(show).await),
        vec![row("a", "paid", None), row("b", "released", Some(1))]
    );
}

#[tokio::test]
async fn raising_an_items_quantity_promotes_in_position_order_and_lowering_it_never_demotes() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    assert_eq!(app.put_item(show, 8, 1).await.status(), 201);
    for buyer in ["a", "b", "c", "d"] {
        app.comment(show, buyer, "sold 8").await;
    }

    let r = app.put_item(show, 8, 3).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["item"]["quantity"], 3);
    let mut promoted = board(body["promoted"].as_array().unwrap());
    promoted.sort_by_key(|r| r.2);
    assert_eq!(
        promoted,
        vec![row("b", "claimed", Some(1)), row("c", "claimed", Some(2))]
    );
    assert_eq!(
        board(&app.claims(show).await),
        vec![
            row("a", "claimed", None),
            row("b", "claimed", Some(1)),
            row("c", "claimed", Some(2)),
            row("d", "waitlisted", Some(3)),
        ]
    );

    // lowering: nobody loses a unit
    let r = app.put_item(show, 8, 1).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["promoted"], json!([]));
    let claims = app.claims(show).await;
    assert_eq!(
        claims.iter().filter(|c| c["status"] == "claimed").count(),
        3,
        "no demotion"
    );

    // over-allocated: a release frees no unit for the waitlist
    let a = claim_of(&claims, "a", 8)["id"].as_str().unwrap().to_owned();
    let body: Value = app.patch_claim(&a, "released").await.json().await.unwrap();
    assert_eq!(body["promoted"], json!([]));
    // a new buyer queues after the last position ever given
    let e = app.comment(show, "e", "sold 8").await;
    assert_eq!(
        board(e["claims"].as_array().unwrap()),
        vec![row("e", "waitlisted", Some(4))]
    );
    assert_eq!(
        claim_of(&app.claims(show).await, "d", 8)["status"],
        "waitlisted"
    );
}

#[tokio::test]
async fn a_sold_comment_written_with_plain_sql_is_logged_but_claims_nothing() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let sql = app.sql().await;
    sql.execute(
        "insert into comments (show_id, external_id, author_id, author_name, text) \
         values ($1, 'by-hand', 'ann', 'Ann', 'sold 5')",
        &[&show],
    )
    .await
    .unwrap();
    assert!(
        app.claims(show).await.is_empty(),
        "claims are derived at ingest only"
    );
    assert_eq!(
        change_count(&app, show).await,
        1,
        "the comment itself is a change"
    );
}

#[tokio::test]
async fn an_analysts_transaction_crossing_an_operators_release_never_yields_a_5xx() {
    let app = std::sync::Arc::new(spawn_app().await);
    let show = app.create_show("live").await;
    let made = app.comment(show, "ann", "sold 4").await;
    let claim: Uuid = made["claims"][0]["id"].as_str().unwrap().parse().unwrap();

    // The analyst locks the claim first; the operator's release then locks the show and
    // waits for the claim; the analyst's update needs the show: a deadlock Postgres breaks.
    let mut analyst = app.sql().await;
    let tx = analyst.transaction().await.unwrap();
    tx.execute("select 1 from claims where id = $1 for update", &[&claim])
        .await
        .unwrap();
    let release = {
        let app = app.clone();
        tokio::spawn(async move {
            app.send_json(
                reqwest::Method::PATCH,
                &format!("/api/claims/{claim}"),
                &json!({"status": "released"}),
            )
            .await
            .status()
            .as_u16()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let analyst_result = tx
        .execute("update claims set status = 'paid' where id = $1", &[&claim])
        .await;
    let analyst_won = analyst_result.is_ok() && tx.commit().await.is_ok();
    let status = release.await.unwrap();
    // Whoever Postgres aborted, the service retried or went ahead: a definite answer.
    if analyst_won {
        assert_eq!(
            status, 409,
            "the claim was paid first; releasing it is refused"
        );
    } else {
        assert_eq!(
            status, 200,
            "the analyst was aborted; the release went through"
        );
    }
}

#[tokio::test]
async fn every_sold_comment_says_what_it_did_alike_in_the_answer_the_pages_the_snapshot_and_the_feed(
) {
    // Every `initial` taken now, to hold it to the answers (no young snapshot reused).
    let app = spawn_app_with(|c| c.feed.snapshot_reuse_ms = 0).await;
    let show = app.create_show("live").await;
    assert_eq!(app.put_item(show, 7, 1).await.status(), 201);
    let mut feed = app.stream(show, None).await;
    assert_eq!(feed.next().await.event, "initial");

    let cases = [
        (
            "ann",
            "sold 7",
            json!({"outcome": "claimed", "item_number": 7}),
        ),
        (
            "bob",
            "SOLD #7!",
            json!({"outcome": "waitlisted", "item_number": 7, "waitlist_position": 1}),
        ),
        (
            "ann",
            "sold 7",
            json!({"outcome": "refused", "item_number": 7, "reason": "already_holds"}),
        ),
        (
            "cat",
            "sold 0",
            json!({"outcome": "refused", "item_number": 0, "reason": "no_such_item"}),
        ),
        (
            "cat",
            "sold 1000000",
            json!({"outcome": "refused", "item_number": 1_000_000, "reason": "no_such_item"}),
        ),
        ("cat", "sold out", Value::Null),
        ("cat", "hello", Value::Null),
    ];
    let mut answered = Vec::new();
    for (i, (buyer, text, _)) in cases.iter().enumerate() {
        let body = json!({"external_id": format!("c{i}"), "author_id": buyer, "author_name": buyer, "text": text});
        let r = app.post_comments(show, &body).await;
        assert_eq!(r.status(), 201);
        let answer: Value = r.json().await.unwrap();
        answered.push(answer["comments"][0].clone());
    }
    for ((_, text, expected), comment) in cases.iter().zip(&answered) {
        assert_eq!(
            &comment["claim_result"], expected,
            "POST answer for {text:?}"
        );
    }

    // The same in the feed (each comment's own created event: no second event), the
    // comment pages and a fresh snapshot.
    let events = feed
        .until_seq(
            app.get(&format!("/api/shows/{show}"))
                .await
                .json::<Value>()
                .await
                .unwrap()["last_seq"]
                .as_i64()
                .unwrap(),
        )
        .await;
    let created: Vec<&Value> = events
        .iter()
        .filter(|e| e.event == "comment.created")
        .map(|e| &e.data["data"])
        .collect();
    assert_eq!(created.len(), cases.len());
    assert!(
        events.iter().all(|e| e.event != "comment.updated"),
        "no follow-up event"
    );
    let page: Value = app
        .get(&format!("/api/shows/{show}/comments"))
        .await
        .json()
        .await
        .unwrap();
    let mut fresh = app.stream(show, None).await;
    let snapshot = fresh.next().await;
    for comment in &answered {
        let id = &comment["id"];
        let from_feed = created
            .iter()
            .find(|c| &c["id"] == id)
            .expect("in the feed");
        assert_eq!(*from_feed, comment, "feed = answer");
        let in_page = page["comments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| &c["id"] == id)
            .unwrap();
        assert_eq!(in_page, comment, "page = answer");
        let in_snapshot = snapshot.data["comments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| &c["id"] == id)
            .unwrap();
        assert_eq!(in_snapshot, comment, "snapshot = answer");
    }

    // On a show that is not live, a claim is refused as such.
    let scheduled = app.create_show("scheduled").await;
    let answer = app.comment(scheduled, "dan", "sold 7").await;
    assert_eq!(
        answer["comments"][0]["claim_result"],
        json!({"outcome": "refused", "item_number": 7, "reason": "show_not_live"})
    );
    // A comment written with SQL makes no claim and says nothing.
    let sql_id = app.insert_comment_by_sql(show, "sql-1", "sold 7").await;
    let page: Value = app
        .get(&format!("/api/shows/{show}/comments?limit=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["comments"][0]["id"], sql_id.to_string());
    assert_eq!(page["comments"][0]["claim_result"], Value::Null);
}

/// `POST /api/claims/{id}/undo-release` with the admin token.
async fn undo(app: &TestApp, claim: &str) -> reqwest::Response {
    app.post(&format!("/api/claims/{claim}/undo-release"), &json!({}))
        .await
}

#[tokio::test]
async fn an_undo_gives_a_released_unit_back_but_never_takes_one_from_the_promoted_buyer() {
    let app = spawn_app_with(|c| c.shows.undo_window_secs = 2).await;
    let show = app.create_show("live").await;
    assert_eq!(app.put_item(show, 1, 1).await.status(), 201);
    let ann = app.comment(show, "ann", "sold 1").await["claims"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Nobody waits: the released unit is free, and the undo gives it back, streamed.
    let mut feed = app.stream(show, None).await;
    assert_eq!(feed.next().await.event, "initial");
    assert_eq!(app.patch_claim(&ann, "released").await.status(), 200);
    let r = undo(&app, &ann).await;
    assert_eq!(r.status(), 200);
    let seq: i64 = r.headers()["x-showfeed-seq"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["claim"]["status"], "claimed");
    let events = feed.until_seq(seq).await;
    assert_eq!(events.last().unwrap().data["data"]["status"], "claimed");
    assert_error_for(
        "undo of a claim that is not released",
        undo(&app, &ann).await,
        409,
    )
    .await;

    // Bob waits behind Ann: her release promotes him, and undoing it would take his unit.
    let bob = app.comment(show, "bob", "sold 1").await["claims"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.patch_claim(&ann, "released").await.status(), 200);
    let body = assert_error_for("undo after a promotion", undo(&app, &ann).await, 409).await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("taken"),
        "{body}"
    );
    let claims = app.claims(show).await;
    let status_of = |id: &str| claims.iter().find(|c| c["id"] == id).unwrap()["status"].clone();
    assert_eq!(
        (status_of(&bob), status_of(&ann)),
        (json!("claimed"), json!("released"))
    );

    // Past the window an undo is refused even with a free unit.
    assert_eq!(app.put_item(show, 1, 2).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let body = assert_error_for("undo too late", undo(&app, &ann).await, 409).await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("2 s"),
        "{body}"
    );

    let viewer = app.mint("v", showfeed::auth::Role::Viewer, None, 600);
    let r = app
        .request_as(
            Some(&viewer),
            reqwest::Method::POST,
            &format!("/api/claims/{ann}/undo-release"),
            None,
        )
        .await;
    assert_error_for("a viewer", r, 403).await;
    assert_error_for(
        "an unknown claim",
        undo(&app, &Uuid::new_v4().to_string()).await,
        404,
    )
    .await;
}
