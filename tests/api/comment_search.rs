//! Searching a show's comments on the server: literal text (no wildcards), a buyer, claims
//! only or sold comments that claimed nothing, paged without gaps or repeats; on a
//! 100k-comment show too. Bad search input is a 400, never a 500.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// The texts of a page of `/comments` with the query `query`, newest first.
async fn search(app: &TestApp, show: Uuid, query: &str) -> Vec<String> {
    let r = app
        .get(&format!("/api/shows/{show}/comments?{query}"))
        .await;
    assert_eq!(r.status(), 200, "{query}");
    let body: Value = r.json().await.unwrap();
    body["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn post(app: &TestApp, show: Uuid, author: &str, text: &str) {
    let body = json!({"external_id": Uuid::new_v4().to_string(), "author_id": author, "author_name": author, "text": text});
    assert!(app.post_comments(show, &body).await.status().is_success());
}

#[tokio::test]
async fn text_matches_literally_and_ignoring_case_and_filters_combine() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    for (author, text) in [
        ("ann", "50% off today"),
        ("bob", "500 likes"),
        ("ann", "a_b rule"),
        ("cat", "axb rule"),
        ("bob", r"back\slash"),
        ("cat", "it's \"quoted\""),
        ("ann", "HELLO there"),
        ("bob", "sold 3"),
        ("bob", "sold 3"),
        ("cat", "sold 0"),
    ] {
        post(&app, show, author, text).await;
    }
    assert_eq!(
        search(&app, show, "q=50%25").await,
        ["50% off today"],
        "% is not a wildcard"
    );
    assert_eq!(
        search(&app, show, "q=a_b").await,
        ["a_b rule"],
        "_ is not a wildcard"
    );
    assert_eq!(
        search(&app, show, r"q=k%5Cs").await,
        [r"back\slash"],
        "the escape character is literal"
    );
    assert_eq!(
        search(&app, show, "q=%22quoted%22").await,
        ["it's \"quoted\""]
    );
    assert_eq!(search(&app, show, "q=it%27s").await, ["it's \"quoted\""]);
    assert_eq!(
        search(&app, show, "q=hello").await,
        ["HELLO there"],
        "case is ignored"
    );
    assert_eq!(search(&app, show, "q=rule&buyer=cat").await, ["axb rule"]);
    assert_eq!(search(&app, show, "buyer=ann").await.len(), 3);
    assert_eq!(
        search(&app, show, "only=claims").await,
        ["sold 3"],
        "bob's first sold 3 claimed"
    );
    assert_eq!(
        search(&app, show, "only=unclaimed_sold").await,
        ["sold 0", "sold 3"],
        "bob's repeat and sold 0"
    );
    assert_eq!(
        search(&app, show, "only=unclaimed_sold&buyer=cat").await,
        ["sold 0"]
    );
    assert_eq!(
        search(&app, show, "q=nothing%20like%20this").await,
        Vec::<String>::new()
    );
    assert_eq!(
        search(&app, show, "q=").await.len(),
        10,
        "an empty q filters nothing"
    );

    for (case, query) in [
        ("a NUL", "q=a%00b"),
        ("10 KB", &format!("q={}", "x".repeat(10_000))),
        ("an unknown only", "only=everything"),
        ("a NUL buyer", "buyer=%00"),
    ] {
        let r = app
            .get(&format!("/api/shows/{show}/comments?{query}"))
            .await;
        assert_error_for(case, r, 400).await;
    }
    let r = app
        .get(&format!("/api/shows/{}/comments?q=x", Uuid::new_v4()))
        .await;
    assert_error_for("an unknown show", r, 404).await;
}

#[tokio::test]
async fn a_search_of_a_100k_comment_show_pages_through_every_match_once() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    // 100,000 comments by SQL (one statement), 250 of them with the needle, spread out.
    app.sql()
        .await
        .execute(
            "insert into comments (show_id, external_id, author_id, author_name, text, created_at) \
             select $1, 'x' || g, 'u' || (g % 97), 'U', \
                    case when g % 400 = 7 then 'Needle number ' || g else 'chat line ' || g end, \
                    now() - make_interval(secs => g) \
               from generate_series(1, 100000) g",
            &[&show],
        )
        .await
        .unwrap();
    let mut found = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut path = format!("/api/shows/{show}/comments?q=NEEDLE&limit=40");
        if let Some(id) = &before {
            path.push_str(&format!("&before={id}"));
        }
        let body: Value = app.get(&path).await.json().await.unwrap();
        let page = body["comments"].as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        before = Some(page.last().unwrap()["id"].as_str().unwrap().to_owned());
        found.extend(
            page.iter()
                .map(|c| c["external_id"].as_str().unwrap().to_owned()),
        );
    }
    let expected: Vec<String> = (1..=100_000)
        .filter(|g| g % 400 == 7)
        .map(|g| format!("x{g}"))
        .collect();
    assert_eq!(
        found, expected,
        "every match once, newest first, across pages"
    );
}
