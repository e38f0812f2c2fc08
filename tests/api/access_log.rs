//! What an operator reads in the log: the access line per request, `X-Request-Id`, the
//! stream's open and close lines, no credential anywhere, and the listener's loss with the
//! server's reason. A child `showfeed serve` process (JSON logs at info) writes its stdout
//! to a file the test reads.

use std::time::Duration;

use showfeed::auth::Role;

use crate::helpers::*;

fn request_id_of(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn each_request_gets_an_access_line_with_method_route_template_and_status() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let node = LoggedNode::start(&app).await;
    let client = reqwest::Client::new();

    let ok = client
        .get(node.url(&format!("/api/shows/{show}/comments?limit=5")))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let line = node.access_line(&request_id_of(&ok)).await;
    let fields = &line["fields"];
    assert_eq!(line["level"], "INFO");
    assert_eq!(fields["method"], "GET");
    assert_eq!(fields["route"], "/api/shows/{id}/comments");
    assert_eq!(fields["status"], 200);
    assert!(fields["duration_ms"].as_f64().is_some(), "{line}");
    assert!(fields["bytes"].as_u64().is_some_and(|b| b > 0), "{line}");
    assert!(
        !line.to_string().contains("limit=5"),
        "no query string: {line}"
    );

    let missing = client
        .get(node.url(&format!("/api/shows/{}", uuid::Uuid::new_v4())))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let line = node.access_line(&request_id_of(&missing)).await;
    assert_eq!(line["fields"]["route"], "/api/shows/{id}");
    assert_eq!(line["fields"]["status"], 404);

    let unknown = client.get(node.url("/no/such/path")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let line = node.access_line(&request_id_of(&unknown)).await;
    assert_eq!(line["fields"]["route"], "(no route)");
    assert!(!line.to_string().contains("/no/such/path"), "{line}");
}

#[tokio::test]
async fn x_request_id_is_echoed_when_given_and_made_when_missing_or_insane() {
    let app = spawn_app().await;
    let node = LoggedNode::start(&app).await;
    let client = reqwest::Client::new();

    let given = client
        .get(node.url("/healthz"))
        .header("X-Request-Id", "client-id-42")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id_of(&given), "client-id-42");
    node.access_line("client-id-42").await;

    let made = client.get(node.url("/healthz")).send().await.unwrap();
    let id = request_id_of(&made);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "a uuid: {id}");
    let line = node.access_line(&id).await;
    assert_eq!(line["fields"]["route"], "/healthz");

    let too_long = "x".repeat(129);
    let replaced = client
        .get(node.url("/healthz"))
        .header("X-Request-Id", &too_long)
        .send()
        .await
        .unwrap();
    let id = request_id_of(&replaced);
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "replaced by a uuid: {id}"
    );
    assert!(!node.text().contains(&too_long));
}

#[tokio::test]
async fn a_token_in_the_stream_query_leaves_no_trace_and_the_stream_logs_open_and_close() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let node = LoggedNode::start(&app).await;
    let token = app.mint("viewer-1", Role::Viewer, Some(vec![show]), 600);
    let signature = token.rsplit('.').next().unwrap().to_owned();
    assert!(signature.len() > 20);

    let response = reqwest::Client::new()
        .get(node.url(&format!("/api/shows/{show}/stream?access_token={token}")))
        .header("X-Request-Id", "stream-req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut sse = SseClient::new(response);
    let first = sse.next().await;
    assert_eq!(first.event, "initial");

    let access = node.access_line("stream-req-1").await;
    assert_eq!(access["fields"]["route"], "/api/shows/{id}/stream");
    assert_eq!(access["fields"]["status"], 200);
    let opened = node
        .wait_line("stream opened", |l| {
            l["fields"]["message"] == "stream opened" && l["fields"]["request_id"] == "stream-req-1"
        })
        .await;
    assert_eq!(opened["fields"]["show_id"], show.to_string());

    drop(sse);
    let closed = node
        .wait_line("stream closed", |l| {
            l["fields"]["message"] == "stream closed" && l["fields"]["request_id"] == "stream-req-1"
        })
        .await;
    assert_eq!(closed["fields"]["show_id"], show.to_string());
    assert_eq!(closed["fields"]["frames"], 1, "{closed}");
    assert_eq!(closed["fields"]["reason"], "client closed");
    assert!(closed["fields"]["duration_ms"].as_u64().is_some());

    let log = node.text();
    assert!(
        !log.contains(&signature),
        "the token's signature is in the log"
    );
    assert!(!log.contains("access_token"), "the query is in the log");
}

#[tokio::test]
async fn the_listeners_loss_is_logged_with_the_servers_sqlstate_and_message() {
    let app = spawn_app().await;
    let node = LoggedNode::start(&app).await;
    node.wait_line("listening", |l| {
        l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("listening on channel"))
    })
    .await;

    let killed = app
        .sql()
        .await
        .query_one(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity \
             where application_name = 'showfeed-listener' and datname = current_database()",
            &[],
        )
        .await
        .unwrap();
    assert!(killed.get::<_, i64>(0) >= 1);

    let lost = node
        .wait_line("listener connection lost", |l| {
            l["fields"]["message"] == "listener connection lost"
        })
        .await;
    let fields = &lost["fields"];
    assert_eq!(fields["sqlstate"], "57P01", "{lost}");
    assert!(
        fields["server_message"]
            .as_str()
            .is_some_and(|m| m.contains("terminating connection due to administrator command")),
        "{lost}"
    );
    assert!(
        fields["error"]
            .as_str()
            .is_some_and(|e| e.contains("administrator command")),
        "the source chain: {lost}"
    );
}

#[tokio::test]
async fn a_head_the_parser_refuses_gets_an_access_line_without_its_uri() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let node = LoggedNode::start(&app).await;
    let token = app.mint("kept-out", Role::Viewer, None, 600);
    let signature = token.rsplit('.').next().unwrap().to_owned();
    // A URI past the head limit, with a credential in it.
    let padding = "p".repeat(64 * 1024);
    let head = format!(
        "GET /api/shows/x/stream?access_token={token}&pad={padding} HTTP/1.1\r\nHost: x\r\n\r\n"
    );
    let mut s = tokio::net::TcpStream::connect(node.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let _ = s.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 414"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );

    let line = node
        .wait_line("the 414", |l| {
            l["target"] == "showfeed::access" && l["fields"]["status"] == 414
        })
        .await;
    assert_eq!(line["fields"]["route"], "(unparsed)");
    assert!(
        !node.text().contains(&signature),
        "the token's signature is in the log"
    );
    assert!(!node.text().contains("pppppppp"), "the URI is in the log");
}
