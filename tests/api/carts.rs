//! Buyers' carts: what each buyer holds and owes, their place in line now, paying a whole
//! cart in one step (streamed like any write), and a CSV a spreadsheet cannot be tricked by.

use serde_json::{json, Value};
use showfeed::auth::Role;
use uuid::Uuid;

use crate::helpers::*;

async fn say(app: &TestApp, show: Uuid, buyer: &str, name: &str, text: &str) {
    let body = json!({"external_id": Uuid::new_v4().to_string(), "author_id": buyer, "author_name": name, "text": text});
    assert_eq!(app.post_comments(show, &body).await.status(), 201);
}

async fn put_priced(app: &TestApp, show: Uuid, number: i32, price: i64, quantity: i32) {
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/shows/{show}/items/{number}"),
            &json!({"title": format!("Item {number}"), "price_cents": price, "quantity": quantity}),
        )
        .await;
    assert!(r.status().is_success());
}

async fn buyers(app: &TestApp, show: Uuid) -> Vec<Value> {
    let r = app.get(&format!("/api/shows/{show}/buyers")).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["buyers"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn carts_hold_owe_and_pay_and_the_waitlist_says_the_place_in_line_now() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    put_priced(&app, show, 1, 1500, 1).await;
    put_priced(&app, show, 2, 4000, 2).await;
    say(&app, show, "ann", "Ann", "sold 1").await;
    say(&app, show, "bob", "Bob", "sold 1").await; // waitlist 1
    say(&app, show, "cat", "=HYPERLINK(\"http://x\")", "sold 1").await; // waitlist 2
    say(&app, show, "ann", "Ann", "sold 2").await;
    say(&app, show, "bob", "Bob", "sold 2").await;
    say(&app, show, "ann", "Ann", "sold 7").await; // no items row: one unit, no price

    let carts = buyers(&app, show).await;
    let ann = &carts[0];
    assert_eq!(ann["buyer_id"], "ann");
    let held: Vec<i64> = ann["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["item_number"].as_i64().unwrap())
        .collect();
    assert_eq!(held, [1, 2, 7]);
    assert_eq!(
        ann["total_due_cents"], 5500,
        "1500 + 4000, item 7 has no price"
    );
    assert_eq!(ann["held"][2]["price_cents"], Value::Null);
    let cat = carts.iter().find(|c| c["buyer_id"] == "cat").unwrap();
    assert_eq!(
        (
            cat["waitlist"][0]["waitlist_position"].as_i64(),
            cat["waitlist"][0]["place_in_line"].as_i64()
        ),
        (Some(2), Some(2))
    );

    // Bob leaves the line: Cat's place becomes 1 while her position stays 2.
    let bob_wait = app
        .claims(show)
        .await
        .into_iter()
        .find(|c| c["buyer_id"] == "bob" && c["status"] == "waitlisted")
        .unwrap();
    assert_eq!(
        app.patch_claim(bob_wait["id"].as_str().unwrap(), "released")
            .await
            .status(),
        200
    );
    let cat = buyers(&app, show)
        .await
        .into_iter()
        .find(|c| c["buyer_id"] == "cat")
        .unwrap();
    assert_eq!(
        (
            cat["waitlist"][0]["waitlist_position"].as_i64(),
            cat["waitlist"][0]["place_in_line"].as_i64()
        ),
        (Some(2), Some(1))
    );

    // Paying Ann's cart pays her three units in one write, which the feed carries.
    let mut feed = app.stream(show, None).await;
    assert_eq!(feed.next().await.event, "initial");
    let r = app
        .post(&format!("/api/shows/{show}/buyers/ann/pay"), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let seq: i64 = r.headers()["x-showfeed-seq"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let paid: Value = r.json().await.unwrap();
    assert_eq!(paid["paid"].as_array().unwrap().len(), 3);
    assert!(paid["paid"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "paid"));
    let events = feed.until_seq(seq).await;
    assert_eq!(
        events.iter().filter(|e| e.event == "claim.updated").count(),
        3
    );
    let ann = buyers(&app, show)
        .await
        .into_iter()
        .find(|c| c["buyer_id"] == "ann")
        .unwrap();
    assert_eq!(
        (
            ann["total_due_cents"].as_i64(),
            ann["total_paid_cents"].as_i64()
        ),
        (Some(0), Some(5500))
    );
    // Nothing left to pay: an empty answer, not an error.
    let again: Value = app
        .post(&format!("/api/shows/{show}/buyers/ann/pay"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["paid"], json!([]));

    // The CSV: a header, a row per unit or place, the formula-like name defused.
    let r = app.get(&format!("/api/shows/{show}/carts.csv")).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "buyer_id,buyer_name,item_number,title,status,price_cents,currency,waitlist_position,place_in_line"
    );
    assert!(
        lines.contains(&r#""ann","Ann","1","Item 1","paid","1500","USD","","""#),
        "{csv}"
    );
    assert!(
        lines
            .contains(&r#""cat","'=HYPERLINK(""http://x"")","1","","waitlisted","","USD","2","1""#),
        "{csv}"
    );
    assert_eq!(
        lines.len(),
        1 + 3 + 1 + 1,
        "ann's 3 units, bob's unit of item 2, cat's place"
    );
}

#[tokio::test]
async fn carts_refuse_what_they_must() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let viewer = app.mint("v", Role::Viewer, None, 600);
    let r = app
        .request_as(
            Some(&viewer),
            reqwest::Method::POST,
            &format!("/api/shows/{show}/buyers/ann/pay"),
            None,
        )
        .await;
    assert_error_for("a viewer paying", r, 403).await;
    let long = "b".repeat(201);
    let r = app
        .post(&format!("/api/shows/{show}/buyers/{long}/pay"), &json!({}))
        .await;
    assert_error_for("a 201-character buyer", r, 400).await;
    let r = app
        .post(&format!("/api/shows/{show}/buyers/a%00b/pay"), &json!({}))
        .await;
    assert_error_for("a NUL buyer", r, 400).await;
    for path in ["buyers", "carts.csv"] {
        let r = app
            .get(&format!("/api/shows/{}/{path}", Uuid::new_v4()))
            .await;
        assert_error_for("an unknown show", r, 404).await;
    }
    assert_eq!(buyers(&app, show).await, Vec::<Value>::new());
}
