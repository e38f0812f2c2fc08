//! One stream, many shows (`/api/stream?shows=`), and its long-poll (`/api/changes`): each
//! show exactly once, in order, resumed on another node by the vector id; refusals name
//! the show at fault; garbage ids start afresh, never an error.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};
use showfeed::auth::Role;
use uuid::Uuid;

use crate::helpers::{
    assert_error_for, spawn_app, spawn_app_with, spawn_second_node, Event, SseClient, TestApp,
};

/// `GET /api/stream?shows=…` with `token`, resuming after `last_event_id` if given.
async fn open(
    app: &TestApp,
    shows: &[Uuid],
    token: &str,
    last_event_id: Option<&str>,
) -> reqwest::Response {
    let list: Vec<String> = shows.iter().map(Uuid::to_string).collect();
    let mut req = app
        .api
        .get(app.url("/api/stream"))
        .query(&[("shows", list.join(","))])
        .bearer_auth(token);
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    req.send().await.unwrap()
}

/// Asserts the refusal's status and error shape, and that its message names `what`.
async fn refused_naming(case: &str, r: reqwest::Response, status: u16, what: &str) {
    let body = assert_error_for(case, r, status).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(what),
        "{case}: {message:?} should name {what:?}"
    );
}

async fn stream(app: &TestApp, shows: &[Uuid], last_event_id: Option<&str>) -> SseClient {
    let r = open(app, shows, &app.token, last_event_id).await;
    assert_eq!(r.status(), 200, "multiplexed stream status");
    SseClient::new(r)
}

/// The show an event is of: a change's `show_id`, an `initial`'s `show.id`.
fn show_of(e: &Event) -> Uuid {
    let id = e.data["show_id"].as_str().or(e.data["show"]["id"].as_str());
    id.expect("an event names its show").parse().unwrap()
}

/// Per show: the seqs its events carried, in arrival order, and whether one was an
/// `initial` (which then comes first).
#[derive(Default, Debug)]
struct Seen {
    initial: Option<i64>,
    seqs: Vec<i64>,
}

fn tally(events: &[Event], seen: &mut HashMap<Uuid, Seen>) {
    for e in events {
        let entry = seen.entry(show_of(e)).or_default();
        if e.event == "initial" {
            assert!(
                entry.initial.is_none() && entry.seqs.is_empty(),
                "an initial first, once: {e:?}"
            );
            entry.initial = Some(e.seq());
        } else {
            entry.seqs.push(e.seq());
        }
    }
}

/// Reads until every show has reached its seq in `last`.
async fn read_until(
    feed: &mut SseClient,
    last: &HashMap<Uuid, i64>,
    at: &mut HashMap<Uuid, i64>,
) -> Vec<Event> {
    let mut events = Vec::new();
    while last
        .iter()
        .any(|(show, seq)| at.get(show).copied().unwrap_or(-1) < *seq)
    {
        let e = feed
            .next_within(Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("silent with shows behind; {} events read", events.len()));
        at.insert(show_of(&e), e.seq());
        events.push(e);
    }
    events
}

async fn last_seqs(app: &TestApp, shows: &[Uuid]) -> HashMap<Uuid, i64> {
    let mut last = HashMap::new();
    for show in shows {
        let body: Value = app
            .get(&format!("/api/shows/{show}"))
            .await
            .json()
            .await
            .unwrap();
        last.insert(*show, body["last_seq"].as_i64().unwrap());
    }
    last
}

#[tokio::test]
async fn fifty_shows_on_one_stream_resume_on_another_node_each_change_once_in_order() {
    let a = spawn_app().await;
    let b = spawn_second_node(&a).await;
    let mut shows = Vec::new();
    for _ in 0..50 {
        shows.push(a.create_show("live").await);
    }
    let mut feed = stream(&a, &shows, None).await;
    let mut seen: HashMap<Uuid, Seen> = HashMap::new();
    let mut at = HashMap::new();
    let mut events = Vec::new();
    for _ in 0..50 {
        let e = feed.next().await;
        assert_eq!(e.event, "initial", "each show opens with its initial");
        at.insert(show_of(&e), e.seq());
        events.push(e);
    }

    // Four writers, on both nodes, each on every show: comments, some of them claims.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let node = if w % 2 == 0 { &a } else { &b };
            let (api, base, token, shows) = (node.api.clone(), node.url(""), node.token.clone(), shows.clone());
            tokio::spawn(async move {
                for round in 0..6 {
                    for (s, show) in shows.iter().enumerate() {
                        let text = if (round + s + w) % 5 == 0 { format!("sold {}", 100 + w) } else { format!("w{w} r{round}") };
                        let body = json!({"external_id": format!("{w}-{round}-{s}"), "author_id": format!("b{w}"),
                            "author_name": format!("Buyer {w}"), "text": text});
                        let r = api.post(format!("{base}/api/shows/{show}/comments")).bearer_auth(&token).json(&body).send().await.unwrap();
                        assert!(r.status().is_success(), "write {}", r.status());
                    }
                }
            })
        })
        .collect();

    // Part way through, the connection drops; the client resumes on the other node.
    while events.len() < 50 + 300 {
        let e = feed.next().await;
        at.insert(show_of(&e), e.seq());
        events.push(e);
    }
    let resume_id = events.last().unwrap().id.clone();
    drop(feed);
    for w in writers {
        w.await.unwrap();
    }
    let last = last_seqs(&a, &shows).await;
    let mut feed = stream(&b, &shows, Some(&resume_id)).await;
    let resumed = read_until(&mut feed, &last, &mut at).await;
    assert!(
        resumed.iter().all(|e| e.event != "initial"),
        "a resume by vector id replays, no initial"
    );
    // Nothing more than the changes written: the stream goes quiet after them.
    assert!(
        feed.next_within(Duration::from_millis(500)).await.is_none(),
        "nothing after the last change"
    );

    tally(&events, &mut seen);
    tally(&resumed, &mut seen);
    for show in &shows {
        let s = &seen[show];
        let from = s.initial.expect("every show had its initial");
        let expected: Vec<i64> = (from + 1..=last[show]).collect();
        assert_eq!(
            s.seqs, expected,
            "show {show}: every change once, in order, across the resume"
        );
        assert!(last[show] >= 6, "show {show} got its changes");
    }
}

#[tokio::test]
async fn the_vector_id_names_every_shows_position_and_garbage_starts_afresh() {
    let app = spawn_app().await;
    let (x, y) = (app.create_show("live").await, app.create_show("live").await);
    app.comment(x, "u", "first on x").await;
    let mut feed = stream(&app, &[x, y], None).await;
    let (ix, iy) = (feed.next().await, feed.next().await);
    assert_eq!(
        (show_of(&ix), show_of(&iy)),
        (x, y),
        "initials in list order"
    );
    let fp = ix.id.split('.').next().unwrap().to_owned();
    assert_eq!(
        ix.id,
        format!("{fp}.1.-"),
        "after x's initial: x at 1, y not yet sent"
    );
    assert_eq!(iy.id, format!("{fp}.1.0"));
    app.comment(y, "u", "on y").await;
    let e = feed.next().await;
    assert_eq!((e.event.as_str(), show_of(&e)), ("comment.created", y));
    assert_eq!(e.id, format!("{fp}.1.1"));

    // A resume with the id replays only what came after; the same id for the list in
    // another order, a truncated one and garbage all start afresh (every show's initial).
    app.comment(x, "u", "second on x").await;
    let mut resumed = stream(&app, &[x, y], Some(&e.id)).await;
    let next = resumed.next().await;
    assert_eq!(
        (next.event.as_str(), show_of(&next), next.seq()),
        ("comment.created", x, 2)
    );
    for (list, id) in [
        (vec![y, x], e.id.clone()),
        (vec![x, y], format!("{fp}.1")),
        (vec![x, y], "garbage".to_owned()),
        (vec![x, y], "2".to_owned()),
    ] {
        let mut fresh = stream(&app, &list, Some(&id)).await;
        for show in &list {
            let first = fresh.next().await;
            assert_eq!(
                (first.event.as_str(), show_of(&first)),
                ("initial", *show),
                "{id:?} for {list:?}"
            );
        }
    }
}

#[tokio::test]
async fn refusals_come_before_any_event_and_name_the_show_at_fault() {
    let app = spawn_app_with(|c| c.feed.max_stream_shows = 3).await;
    let (a, b) = (app.create_show("live").await, app.create_show("live").await);
    let unknown = Uuid::new_v4();
    let only_a = app.mint("viewer-a", Role::Viewer, Some(vec![a]), 600);

    let r = open(&app, &[a, b], &only_a, None).await;
    refused_naming("a show the token may not see", r, 403, &b.to_string()).await;
    let r = open(&app, &[a, unknown], &app.token, None).await;
    refused_naming("an unknown show", r, 404, &unknown.to_string()).await;
    let r = open(&app, &[a, b, a], &app.token, None).await;
    refused_naming("a duplicate", r, 400, "twice").await;
    let r = open(
        &app,
        &[a, b, Uuid::new_v4(), Uuid::new_v4()],
        &app.token,
        None,
    )
    .await;
    refused_naming("over the cap", r, 400, "at most 3").await;

    for (case, query) in [
        ("no list", "/api/stream"),
        ("an empty list", "/api/stream?shows="),
        ("not an id", "/api/stream?shows=nope"),
        ("an empty entry", "/api/stream?shows=,"),
        ("a NUL", "/api/stream?shows=%00"),
    ] {
        let r = app.get(query).await;
        assert_error_for(case, r, 400).await;
    }
    // 100 KB of list in a body, 30 KB in a URL (just inside the head limit; a longer URI
    // is a 414, tests/api/connection_limits.rs): over the cap, a 400 either way.
    let long: Vec<String> = (0..2_800).map(|_| Uuid::new_v4().to_string()).collect();
    let r = app
        .get(&format!("/api/stream?shows={}", long[..800].join(",")))
        .await;
    refused_naming("a 30 KB query", r, 400, "at most 3").await;
    for path in ["/api/stream", "/api/changes"] {
        let r = app.post(path, &json!({"shows": long})).await;
        assert_error_for("a 100 KB body", r, 400).await;
        let r = app.post(path, &json!({"shows": "not a list"})).await;
        assert!(
            r.status().is_client_error(),
            "{path} shows as a string: {}",
            r.status()
        );
    }
    let r = app.get(&format!("/api/changes?shows={a}&wait=NaN")).await;
    assert_error_for("wait NaN", r, 400).await;
}

#[tokio::test]
async fn the_long_poll_hands_out_initials_then_waits_for_the_next_change() {
    let app = spawn_app().await;
    let (x, y) = (app.create_show("live").await, app.create_show("live").await);
    let url = format!("/api/changes?shows={x},{y}");
    let first: Value = app.get(&url).await.json().await.unwrap();
    let names: Vec<&str> = first["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["initial", "initial"]);
    assert_eq!(first["events"][1]["data"]["show"]["id"], y.to_string());
    let id = first["last_event_id"].as_str().unwrap().to_owned();

    // Nothing new: a wait returns empty, with the same position.
    let idle: Value = app
        .get(&format!("{url}&last_event_id={id}&wait=0.2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(idle["events"], json!([]));
    assert_eq!(idle["last_event_id"], id.as_str());

    // A change while it waits answers at once, and the POST form reads the same.
    let waiting = {
        let (api, full, token) = (
            app.api.clone(),
            app.url(&format!("{url}&last_event_id={id}&wait=20")),
            app.token.clone(),
        );
        tokio::spawn(async move {
            api.get(full)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.comment(y, "u", "hello y").await;
    let got = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("answers on the change")
        .unwrap();
    assert_eq!(got["events"].as_array().unwrap().len(), 1, "{got}");
    assert_eq!(got["events"][0]["event"], "comment.created");
    assert_eq!(got["events"][0]["data"]["show_id"], y.to_string());
    let posted: Value = app
        .post(
            "/api/changes",
            &json!({"shows": [x.to_string(), y.to_string()], "last_event_id": id}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(posted["events"], got["events"]);
    assert_eq!(posted["last_event_id"], got["last_event_id"]);
}
