//! Read-your-writes: every write answers with the seq its change got (body `seq` and the
//! `X-Showfeed-Seq` header), and a feed on another node that has reached that seq holds
//! the write, whatever else was written meanwhile.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, spawn_second_node, Event};

/// The answer's `seq`, checked equal to its header.
async fn answered_seq(response: reqwest::Response) -> (i64, Value) {
    assert!(
        response.status().is_success(),
        "write: {}",
        response.status()
    );
    let header: i64 = response
        .headers()
        .get("x-showfeed-seq")
        .expect("a write answer carries X-Showfeed-Seq")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let seq = body["seq"].as_i64().expect("a write answer carries seq");
    assert_eq!(seq, header, "body seq and header agree");
    (seq, body)
}

/// The data of the last change at or below `seq` that touched the row `id`.
fn row_at(events: &[Event], seq: i64, id: &str) -> Value {
    events
        .iter()
        .rev()
        .find(|e| e.seq() <= seq && e.data["data"]["id"] == id)
        .unwrap_or_else(|| panic!("no change of {id} at or below seq {seq}"))
        .data["data"]
        .clone()
}

#[tokio::test]
async fn each_write_answers_the_seq_at_which_another_nodes_feed_shows_it() {
    let a = spawn_app().await;
    let b = spawn_second_node(&a).await;
    let show = a.create_show("live").await;
    let mut feed = b.stream(show, None).await;
    assert_eq!(feed.next().await.event, "initial");

    // Other writers keep the show busy, so the answer's seq is not just "the latest".
    let noise = {
        let b_api = b.api.clone();
        let url = b.url(&format!("/api/shows/{show}/comments"));
        let token = b.token.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let body = json!({"external_id": format!("noise-{i}"), "author_id": "n",
                    "author_name": "Noise", "text": format!("noise {i}")});
                b_api
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
            }
        })
    };

    let (item_seq, put) = answered_seq(a.put_item(show, 101, 1).await).await;
    let comment = json!({"external_id": Uuid::new_v4().to_string(), "author_id": "u1",
        "author_name": "Ann", "text": "sold 101"});
    let (comment_seq, ingested) = answered_seq(a.post_comments(show, &comment).await).await;
    let claim_id = ingested["claims"][0]["id"].as_str().unwrap().to_owned();
    let (claim_seq, changed) = answered_seq(a.patch_claim(&claim_id, "paid").await).await;
    let patch = a
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/shows/{show}"),
            &json!({"title": "Renamed"}),
        )
        .await;
    let (show_seq, renamed) = answered_seq(patch).await;
    assert_eq!(
        renamed["title"], "Renamed",
        "the show's fields stay at the top level"
    );
    assert_eq!(renamed["last_seq"], show_seq);

    // A re-post changes nothing: it answers the show's current seq, never a smaller one.
    let (repost_seq, _) = answered_seq(a.post_comments(show, &comment).await).await;
    assert!(
        repost_seq >= show_seq,
        "re-post seq {repost_seq} < {show_seq}"
    );
    noise.await.unwrap();

    assert!(item_seq < comment_seq && comment_seq < claim_seq && claim_seq < show_seq);
    let events = feed.until_seq(repost_seq).await;
    let item = &put["item"];
    let at_item = events
        .iter()
        .find(|e| e.seq() == item_seq)
        .expect("the item's seq is in the feed");
    assert_eq!(at_item.event, "item.created");
    assert_eq!(at_item.data["data"]["item_number"], item["item_number"]);
    let comment_id = ingested["comments"][0]["id"].as_str().unwrap();
    assert_eq!(row_at(&events, comment_seq, comment_id)["text"], "sold 101");
    assert_eq!(row_at(&events, comment_seq, &claim_id)["status"], "claimed");
    assert_eq!(row_at(&events, claim_seq, &claim_id), changed["claim"]);
    let at_show = events
        .iter()
        .find(|e| e.seq() == show_seq)
        .expect("the show's seq is in the feed");
    assert_eq!(at_show.event, "show.updated");
    assert_eq!(at_show.data["data"]["title"], "Renamed");
}
