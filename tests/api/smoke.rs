use crate::helpers::*;
use std::time::Duration;

#[tokio::test]
async fn a_comment_streams_to_a_subscriber() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let mut stream = app.stream(show, None).await;
    let initial = stream.next().await;
    assert_eq!(initial.event, "initial");
    assert_eq!(initial.data["seq"], 0);
    app.comment(show, "ann", "sold 5").await;
    let events = stream.until_seq(2).await;
    assert_eq!(events[0].event, "comment.created");
    assert_eq!(events[1].event, "claim.created");
    assert_exact_seqs(&events, 1, 2);
    assert!(stream
        .next_within(Duration::from_millis(200))
        .await
        .is_none());
}
