//! Group commit: concurrent comment posts to one show share transactions, and each still
//! gets its own answer, its own claim outcome and its own error, in arrival order.
//!
//! To make the grouping certain rather than likely, a test holds the show's row lock from
//! a plain SQL session: the first request's transaction waits on it, and the requests that
//! arrive meanwhile queue up for the next transaction together.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// Holds the show's row lock (as a long analyst transaction would) until dropped or released.
struct ShowLock {
    tx_client: tokio_postgres::Client,
}

impl ShowLock {
    async fn take(app: &TestApp, show: Uuid) -> ShowLock {
        let tx_client = app.sql().await;
        tx_client.batch_execute("begin").await.unwrap();
        tx_client
            .execute("select 1 from shows where id = $1 for update", &[&show])
            .await
            .unwrap();
        ShowLock { tx_client }
    }

    async fn release(self) {
        self.tx_client.batch_execute("commit").await.unwrap();
    }
}

fn comment(external_id: &str, author: &str, text: &str) -> Value {
    json!({"external_id": external_id, "author_id": author, "author_name": author, "text": text})
}

/// Posts each body on its own task, `gap` apart (so their arrival order is the list's).
async fn post_in_order(
    app: &TestApp,
    show: Uuid,
    bodies: Vec<Value>,
    gap: Duration,
) -> Vec<tokio::task::JoinHandle<(u16, Value)>> {
    let mut posts = Vec::new();
    for body in bodies {
        let (api, url, token) = (
            app.api.clone(),
            app.url(&format!("/api/shows/{show}/comments")),
            app.token.clone(),
        );
        posts.push(tokio::spawn(async move {
            let r = api
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json().await.unwrap())
        }));
        tokio::time::sleep(gap).await;
    }
    posts
}

async fn answers(posts: Vec<tokio::task::JoinHandle<(u16, Value)>>) -> Vec<(u16, Value)> {
    let mut out = Vec::new();
    for p in posts {
        out.push(p.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn posts_queued_behind_one_commit_share_the_next_and_claims_follow_arrival_order() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    assert_eq!(app.put_item(show, 5, 1).await.status(), 201);
    let groups_before = app.metric("ingest_groups_total").await;

    let lock = ShowLock::take(&app, show).await;
    let bodies = vec![
        comment("first", "ann", "hello"),
        comment("b", "bob", "sold 5"),
        comment("c", "cid", "sold 5"),
        comment("chat", "dee", "nice jacket"),
        comment("d", "dan", "sold 5"),
        comment("same", "eve", "one"),
        comment("same", "eve", "one again"),
    ];
    let posts = post_in_order(&app, show, bodies, Duration::from_millis(60)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.release().await;
    let answers = answers(posts).await;

    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [201, 201, 201, 201, 201, 201, 200]);
    // Each answer is its own request's: its comment, its claim outcome.
    for ((_, body), id) in answers
        .iter()
        .zip(["first", "b", "c", "chat", "d", "same", "same"])
    {
        assert_eq!(body["comments"].as_array().unwrap().len(), 1, "{body}");
        assert_eq!(body["comments"][0]["external_id"], id);
    }
    let outcome = |i: usize| answers[i].1["comments"][0]["claim_result"].clone();
    assert_eq!(outcome(1)["outcome"], "claimed");
    assert_eq!(outcome(2)["outcome"], "waitlisted");
    assert_eq!(outcome(2)["waitlist_position"], 1);
    assert_eq!(outcome(4)["waitlist_position"], 2);
    assert!(outcome(3).is_null(), "chat is no claim");
    let claims_of = |i: usize| answers[i].1["claims"].as_array().unwrap().clone();
    assert_eq!(claims_of(1)[0]["buyer_id"], "bob");
    assert_eq!(claims_of(2)[0]["buyer_id"], "cid");
    assert!(claims_of(3).is_empty());
    // The second "same" is a re-post of the row the first stored in the same transaction.
    assert_eq!(answers[6].1["duplicates"], json!(["same"]));
    assert_eq!(
        answers[6].1["comments"][0]["id"],
        answers[5].1["comments"][0]["id"]
    );
    assert_eq!(answers[6].1["comments"][0]["text"], "one");

    // The first went alone (it waited on the lock); the six behind it in one more.
    let groups = app.metric("ingest_groups_total").await - groups_before;
    assert_eq!(groups, 2.0, "7 requests in {groups} transactions");
    // And everyone's answer seq covers the whole group.
    let seqs: Vec<i64> = answers[1..]
        .iter()
        .map(|(_, b)| b["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] == w[1]), "{seqs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_comment_the_database_refuses_fails_alone_and_its_group_is_stored() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    // A rule the service does not know: an analyst's trigger refuses one text.
    app.sql()
        .await
        .batch_execute(
            "create function refuse_poison() returns trigger language plpgsql as $$ \
             begin if new.text = 'poison' then raise exception 'no poison' using errcode = 'check_violation'; end if; \
             return new; end $$; \
             create trigger refuse_poison before insert on comments for each row execute function refuse_poison();",
        )
        .await
        .unwrap();
    let split_before = app.metric("ingest_groups_split_total").await;
    let lock = ShowLock::take(&app, show).await;
    let bodies = (0..12)
        .map(|i| {
            let text = if i == 6 {
                "poison".to_owned()
            } else {
                format!("fine {i}")
            };
            comment(&format!("p{i}"), &format!("u{i}"), &text)
        })
        .collect();
    let posts = post_in_order(&app, show, bodies, Duration::from_millis(20)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.release().await;
    let answers = answers(posts).await;
    for (i, (status, body)) in answers.iter().enumerate() {
        if i == 6 {
            assert_eq!(*status, 422, "{body}");
            assert_eq!(body["error"]["code"], "invalid", "{body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("no poison"),
                "{body}"
            );
        } else {
            assert_eq!(*status, 201, "{i}: {body}");
        }
    }
    assert_eq!(
        app.metric("ingest_groups_split_total").await - split_before,
        1.0
    );
    let stored = app
        .count(&format!(
            "select count(*) from comments where show_id = '{show}'"
        ))
        .await;
    assert_eq!(stored, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundreds_of_concurrent_posts_keep_the_claim_invariants() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    for item in 1..=4 {
        assert_eq!(app.put_item(show, item, 3).await.status(), 201);
    }
    let requests = (0..400).map(|i| {
        let text = if i % 3 == 0 {
            format!("sold {}", i % 4 + 1)
        } else {
            format!("chat {i}")
        };
        // Some buyers claim the same item twice: one live claim per buyer and item.
        let body = comment(&format!("x{i}"), &format!("buyer-{}", i % 150), &text);
        let app = &app;
        async move {
            let r = app.post_comments(show, &body).await;
            assert_eq!(r.status(), 201);
            let body: Value = r.json().await.unwrap();
            (text, body)
        }
    });
    let answers = futures::future::join_all(requests).await;
    for (text, body) in &answers {
        assert_eq!(body["comments"][0]["text"], text.as_str());
    }
    let groups = app.metric("ingest_groups_total").await;
    let requests = app.metric("ingest_grouped_requests_total").await;
    println!(
        "400 posts in {groups} transactions ({:.1} per transaction)",
        requests / groups
    );

    let claims = app.claims(show).await;
    for item in 1..=4 {
        let of_item: Vec<&Value> = claims.iter().filter(|c| c["item_number"] == item).collect();
        let claimed = of_item.iter().filter(|c| c["status"] == "claimed").count();
        assert!(claimed <= 3, "item {item}: {claimed} claimed of 3 units");
        let mut positions: Vec<i64> = of_item
            .iter()
            .filter_map(|c| c["waitlist_position"].as_i64())
            .collect();
        positions.sort_unstable();
        assert_eq!(
            positions,
            (1..=positions.len() as i64).collect::<Vec<_>>(),
            "item {item}"
        );
        let mut buyers: Vec<&str> = of_item
            .iter()
            .map(|c| c["buyer_id"].as_str().unwrap())
            .collect();
        let n = buyers.len();
        buyers.sort_unstable();
        buyers.dedup();
        assert_eq!(
            buyers.len(),
            n,
            "item {item}: a buyer holds two live claims"
        );
    }
    // Every answer's claim outcome is what the database holds for its comment.
    for (_, body) in &answers {
        let c = &body["comments"][0];
        let result = &c["claim_result"];
        match body["claims"].as_array().unwrap().first() {
            Some(claim) => {
                assert_eq!(claim["comment_id"], c["id"]);
                let stored = claims
                    .iter()
                    .find(|s| s["id"] == claim["id"])
                    .expect("the claim is stored");
                assert_eq!(result["outcome"], stored["status"], "{body}");
                assert_eq!(
                    result["waitlist_position"], stored["waitlist_position"],
                    "{body}"
                );
            }
            None => assert!(
                result.is_null() || result["outcome"] == "refused",
                "an outcome without a claim: {body}"
            ),
        }
    }
}
