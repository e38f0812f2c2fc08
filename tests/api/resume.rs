//! Resuming with Last-Event-ID: exactly the missed changes, on any node; a fresh `initial`
//! when the position cannot be honoured.

use std::time::Duration;

use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn resuming_with_last_event_id_gives_exactly_the_missed_changes() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    for i in 0..5 {
        app.comment(show, "ann", &format!("before {i}")).await;
    }
    let mut stream = app.stream(show, None).await;
    assert_eq!(stream.next().await.seq(), 5);
    app.comment(show, "ann", "seen").await;
    assert_eq!(stream.next().await.seq(), 6);
    drop(stream);

    for i in 0..4 {
        app.comment(show, "bob", &format!("missed {i}")).await;
    }
    let mut resumed = app.stream(show, Some("6")).await;
    let events = resumed.until_seq(10).await;
    assert_exact_seqs(&events, 7, 10);
    assert!(
        events.iter().all(|e| e.event == "comment.created"),
        "no initial on a resume"
    );
    assert_eq!(events[0].data["data"]["text"], "missed 0");

    // The query parameter works the same (EventSource URLs).
    let url = app.url(&format!("/api/shows/{show}/stream?last_event_id=8"));
    let r = app
        .api
        .get(url)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let mut by_query = SseClient::new(r);
    assert_exact_seqs(&by_query.until_seq(10).await, 9, 10);
}

#[tokio::test]
async fn a_client_resumes_on_another_node_with_nothing_lost_or_repeated() {
    let first = spawn_app().await;
    let second = spawn_second_node(&first).await;
    let show = first.create_show("live").await;
    let mut stream = first.stream(show, None).await;
    assert_eq!(stream.next().await.seq(), 0);
    for i in 0..3 {
        first.comment(show, "ann", &format!("a{i}")).await;
    }
    assert_exact_seqs(&stream.until_seq(3).await, 1, 3);
    drop(stream);
    // Written through the second node while the client is away.
    for i in 0..3 {
        second.comment(show, "bob", &format!("b{i}")).await;
    }
    let mut resumed = second.stream(show, Some("3")).await;
    assert_exact_seqs(&resumed.until_seq(6).await, 4, 6);
    first.comment(show, "ann", "live again").await;
    let e = resumed.next().await;
    assert_eq!(
        e.seq(),
        7,
        "changes written on the other node stream here too"
    );
    assert!(resumed
        .next_within(Duration::from_millis(300))
        .await
        .is_none());
}

#[tokio::test]
async fn an_unusable_last_event_id_gives_a_fresh_initial_never_an_error() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let other = app.create_show("live").await;
    for _ in 0..3 {
        app.comment(show, "ann", "x").await;
    }
    for _ in 0..50 {
        app.comment(other, "ann", "y").await;
    }
    // Garbage, negative, fractional, and another show's future.
    for id in ["abc", "-4", "1.5", "", "40", "99999999999999999999"] {
        let mut s = app.stream(show, Some(id)).await;
        let e = s.next().await;
        assert_eq!(
            e.event, "initial",
            "Last-Event-ID {id:?} gives a fresh initial"
        );
        assert_eq!(e.seq(), 3, "Last-Event-ID {id:?}");
        assert_eq!(
            e.data["comments"].as_array().unwrap().len(),
            3,
            "Last-Event-ID {id:?}"
        );
        assert_eq!(
            e.data["comment_count"], 3,
            "Last-Event-ID {id:?}: the snapshot counts every comment"
        );
    }
}

#[tokio::test]
async fn a_resume_older_than_the_replay_limit_gets_a_fresh_initial() {
    let app = spawn_app_with(|c| c.feed.replay_limit = 10).await;
    let show = app.create_show("live").await;
    let batch: Vec<_> = (0..30)
        .map(|i| serde_json::json!({"external_id": format!("e{i}"), "author_id": "a", "text": "t"}))
        .collect();
    assert_eq!(
        app.post(&format!("/api/shows/{show}/comments"), &batch.into())
            .await
            .status(),
        201
    );
    let mut s = app.stream(show, Some("5")).await;
    let e = s.next().await;
    assert_eq!(e.event, "initial");
    assert_eq!(e.seq(), 30);
    // Within the limit it replays.
    let mut s = app.stream(show, Some("25")).await;
    assert_exact_seqs(&s.until_seq(30).await, 26, 30);
    let _ = Uuid::nil();
}
