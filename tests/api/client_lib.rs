//! The client library (`/client/showfeed-client.js`) in a real headless Chromium, on a
//! plain page of this origin (the library's example page, under the console's CSP), not
//! the console: a test imports the module in executed script, subscribes, and reads the
//! stores back. Faults are real (a node stopped and restarted on the same port, the
//! listener's session killed, a tab closed); at the end every store must hold exactly the
//! database's rows, and the log of what the library applied must show each change once,
//! in seq order, per show.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use showfeed::auth::Role;
use uuid::Uuid;

use crate::console::{database_rows, insert_sql_comment, restart_on_same_port, KILL_LISTENER};
use crate::helpers::browser::{js_str, Browser};
use crate::helpers::*;

/// Installed in the page after the module loads: `probe(options, shows)` creates a client,
/// subscribes, and keeps `window.t = {client, sub, log, statuses}`; `log[show]` lists what
/// the library applied, `["initial", seq]` or `["<entity>.<op>", seq]`. `window.streams`
/// lists the stream requests this window made (the connections a user's browser opened).
const PROBE: &str = r#"
const realFetch = window.fetch.bind(window);
window.streams = [];
window.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input), location.href);
  if (/\/stream$/.test(url.pathname)) window.streams.push(url.pathname + url.search);
  return realFetch(input, init);
};
window.probe = (options, shows) => {
  const log = {};
  const statuses = [];
  const client = window.showfeed.createClient(options);
  const sub = client.subscribe(shows, {
    onInitial: (id, store) => (log[id] ||= []).push(["initial", store.seq]),
    onChange: (id, change) => (log[id] ||= []).push([`${change.entity}.${change.op}`, change.seq]),
  });
  client.onStatus((s) => statuses.push(s.state));
  window.t = { client, sub, log, statuses };
  return true;
};
return true;
"#;

/// Opens the example page without a show (so it starts no client of its own), loads the
/// library as `window.showfeed` and installs `probe`.
async fn open_library_page(browser: &Browser, app: &TestApp) {
    browser.client.goto("about:blank").await.unwrap();
    browser
        .client
        .goto(&format!("{}/client/example.html", app.address))
        .await
        .unwrap();
    let loaded = browser
        .js("return import('/client/showfeed-client.js').then((m) => { window.showfeed = m; return true; });")
        .await;
    assert_eq!(loaded, json!(true), "the module loads under the page's CSP");
    browser.js(PROBE).await;
}

/// Starts a probe client in the current window: `options` as JSON, following `shows`.
async fn probe(browser: &Browser, options: Value, shows: &[Uuid]) {
    let shows: Vec<String> = shows.iter().map(Uuid::to_string).collect();
    browser
        .js(&format!("return probe({options}, {});", json!(shows)))
        .await;
}

/// Token auth over the fetch reader, this origin's tabs shared (the library's defaults).
fn token_auth(app: &TestApp) -> Value {
    json!({ "auth": { "token": app.token } })
}

/// Waits until the probe's connection status is `state`.
async fn wait_state(browser: &Browser, state: &str, limit: Duration) {
    browser
        .wait_for(
            &format!("the client status {state}"),
            limit,
            &format!(
                "window.t && window.t.client.status.state === {}",
                js_str(state)
            ),
        )
        .await;
}

/// What the probe's store of `show` holds, and the log of what it applied.
struct StoreView {
    seq: Option<i64>,
    comments: Vec<String>,
    claims: Vec<(String, String)>,
    log: Vec<(String, i64)>,
}

async fn store_view(browser: &Browser, show: Uuid) -> StoreView {
    let v = browser
        .js(&format!(
            "const id = {}; const s = window.t.sub.store(id); \
             return {{ seq: s.seq, comments: s.comments.map((c) => c.id), \
                      claims: [...s.claims.values()].map((c) => [c.id, c.status]), \
                      log: window.t.log[id] || [] }};",
            js_str(&show.to_string())
        ))
        .await;
    let mut comments: Vec<String> = serde_json::from_value(v["comments"].clone()).unwrap();
    comments.sort();
    let mut claims: Vec<(String, String)> = serde_json::from_value(v["claims"].clone()).unwrap();
    claims.sort();
    StoreView {
        seq: v["seq"].as_i64(),
        comments,
        claims,
        log: serde_json::from_value(v["log"].clone()).unwrap(),
    }
}

/// The show's seq in the database: its latest change.
async fn last_seq(app: &TestApp, show: Uuid) -> i64 {
    app.sql()
        .await
        .query_one("select last_seq from shows where id = $1", &[&show])
        .await
        .unwrap()
        .get(0)
}

/// Waits until the store of `show` holds exactly the database's comments and claims at
/// the show's last seq, then checks the log: one `initial` at most `initials` times, and
/// every change exactly the next seq after what came before it.
async fn assert_store_matches_database(
    browser: &Browser,
    app: &TestApp,
    show: Uuid,
    initials: usize,
) {
    let started = Instant::now();
    let view = loop {
        let (db_comments, db_claims) = database_rows(app, show).await;
        let seq = last_seq(app, show).await;
        let view = store_view(browser, show).await;
        if view.comments == db_comments && view.claims == db_claims && view.seq == Some(seq) {
            break view;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "show {show}: the store does not match the database: seq {:?} vs {seq}, {} of {} comments, \
             claims {:?} vs {db_claims:?}; status {}",
            view.seq,
            view.comments.len(),
            db_comments.len(),
            view.claims,
            browser.js("return JSON.stringify(window.t.client.status);").await,
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_exactly_once_in_order(show, &view.log, initials);
}

fn assert_exactly_once_in_order(show: Uuid, log: &[(String, i64)], initials: usize) {
    assert!(
        log.first().is_some_and(|(kind, _)| kind == "initial"),
        "show {show}: the first thing applied is an initial: {log:?}"
    );
    let fresh = log.iter().filter(|(kind, _)| kind == "initial").count();
    assert!(
        fresh <= initials,
        "show {show}: {fresh} initials (at most {initials}): state was reloaded instead of resumed: {log:?}"
    );
    let mut position = 0;
    for (kind, seq) in log {
        if kind != "initial" {
            assert_eq!(
                *seq,
                position + 1,
                "show {show}: {kind} at seq {seq} after {position}: a change twice, missing or out of order"
            );
        }
        position = *seq;
    }
}

/// A writer: `n` comments on `show` through the API, every third one a claim (`sold k`).
async fn write_comments(
    api: reqwest::Client,
    address: String,
    token: String,
    show: Uuid,
    tag: String,
    n: usize,
) {
    for i in 0..n {
        let text = if i % 3 == 0 {
            format!("sold {}", i % 5 + 1)
        } else {
            format!("{tag} comment {i}")
        };
        let body = json!({
            "external_id": Uuid::new_v4().to_string(),
            "author_id": format!("{tag}-{i}"),
            "author_name": format!("{tag} {i}"),
            "text": text,
        });
        let r = api
            .post(format!("{address}/api/shows/{show}/comments"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "writer {tag}: {}", r.status());
    }
}

/// Runs one writer per entry of `shows` (several entries may name the same show) at once.
async fn write_concurrently(app: &TestApp, shows: &[Uuid], n: usize) {
    let writers: Vec<_> = shows
        .iter()
        .enumerate()
        .map(|(i, &show)| {
            tokio::spawn(write_comments(
                app.api.clone(),
                app.address.clone(),
                app.token.clone(),
                show,
                format!("w{i}"),
                n,
            ))
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
}

#[tokio::test]
async fn the_library_is_served_as_a_module_with_its_types_under_the_consoles_policy() {
    let app = spawn_app().await;
    for (path, content_type, needle) in [
        (
            "/client/showfeed-client.js",
            "text/javascript; charset=utf-8",
            "export function createClient(",
        ),
        (
            "/client/showfeed-client.d.ts",
            "text/plain; charset=utf-8",
            "export declare function createClient(",
        ),
        (
            "/client/api.d.ts",
            "text/plain; charset=utf-8",
            "export interface components",
        ),
        (
            "/client/example.html",
            "text/html; charset=utf-8",
            r#"src="/client/example.js""#,
        ),
        (
            "/client/example.js",
            "text/javascript; charset=utf-8",
            "/client/showfeed-client.js",
        ),
    ] {
        let r = app.api.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        assert_eq!(r.headers()["content-type"], content_type, "GET {path}");
        assert_eq!(
            r.headers()["content-security-policy"],
            showfeed::http::console::CONTENT_SECURITY_POLICY,
            "GET {path}"
        );
        assert_eq!(
            r.headers()["x-content-type-options"],
            "nosniff",
            "GET {path}"
        );
        let body = r.text().await.unwrap();
        let on_disk = std::fs::read_to_string(
            concat!(env!("CARGO_MANIFEST_DIR"), "/client/").to_owned()
                + path.trim_start_matches("/client/"),
        )
        .unwrap();
        assert_eq!(body, on_disk, "GET {path}: the file's bytes");
        assert!(body.contains(needle), "GET {path}: {needle}");
    }
    let r = app
        .api
        .get(app.url("/client/package.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "only the browser's files are served");
}

#[tokio::test]
async fn the_example_page_follows_a_show_live_and_keeps_markup_as_text() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.put_item(show, 3, 1).await;
    app.comment(show, "ann", "before the page").await;
    let browser = Browser::start().await;
    browser.client.goto("about:blank").await.unwrap();
    browser
        .client
        .goto(&format!(
            "{}/client/example.html#token={}&show={show}",
            app.address, app.token
        ))
        .await
        .unwrap();
    let live = "document.getElementById('status').dataset.state === 'live'";
    browser
        .wait_for("the example page live", Duration::from_secs(10), live)
        .await;
    let hostile = r#"<img src=x onerror="document.title='pwned'">"#;
    app.comment(show, "bea", hostile).await;
    app.comment(show, "cy", "sold 3").await;
    browser
        .wait_for(
            "the new comments and the claim on the example page",
            Duration::from_secs(3),
            &format!(
                "document.getElementById('comments').textContent.includes({}) \
                 && document.getElementById('claims').textContent.includes('#3 cy (claimed)') \
                 && document.getElementById('counters').textContent === '3 comments, 1 claims, 1 sold'",
                js_str(hostile)
            ),
        )
        .await;
    let page = browser
        .js(
            "return [document.getElementById('title').textContent, document.title, \
                     document.querySelectorAll('img').length];",
        )
        .await;
    assert_eq!(
        page,
        json!(["Test show", "showfeed-client example", 0]),
        "markup stays text and runs nothing"
    );
    browser.screenshot("client-example.png", 1280, 900).await;
    browser.quit().await;
}

#[tokio::test]
async fn a_node_restart_on_the_same_port_resumes_every_show_exactly() {
    let app = spawn_app().await;
    let shows = [
        app.create_show("live").await,
        app.create_show("live").await,
        app.create_show("live").await,
    ];
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    probe(&browser, token_auth(&app), &shows).await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;
    write_concurrently(&app, &shows, 6).await;

    let (address, database, secret) = (app.address.clone(), app.database.clone(), app.secret());
    app.stop().await;
    browser
        .wait_for(
            "reconnecting with an attempt count and a next try",
            Duration::from_secs(10),
            "window.t.client.status.state === 'reconnecting' && window.t.client.status.attempt >= 1 \
             && window.t.client.status.nextTryAt > Date.now() - 1000",
        )
        .await;
    // Written while no node runs: the stores must get these on resume.
    let sql = connect(&connection_string(&database)).await;
    for &show in &shows {
        for i in 0..3 {
            insert_sql_comment(&sql, show, &format!("while the node is down {i}")).await;
        }
    }
    let app = restart_on_same_port(&database, &secret, &address).await;
    wait_state(&browser, "live", Duration::from_secs(20)).await;
    write_concurrently(&app, &shows, 4).await;
    for show in shows {
        // One initial each: the restart resumed every show, none was reloaded.
        assert_store_matches_database(&browser, &app, show, 1).await;
    }
    browser.quit().await;
}

#[tokio::test]
async fn listener_kills_while_writing_leave_every_store_exact() {
    let app = spawn_app().await;
    let shows = [app.create_show("live").await, app.create_show("live").await];
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    probe(&browser, token_auth(&app), &shows).await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;

    let sql = app.sql().await;
    for round in 0..4 {
        write_concurrently(&app, &[shows[0], shows[1], shows[0]], 3).await;
        insert_sql_comment(&sql, shows[round % 2], &format!("round {round} via SQL")).await;
        // The listener reconnects with backoff (and may be between its connect and its
        // LISTEN): retry until one session is killed, so every round kills one.
        let started = Instant::now();
        while sql.query(KILL_LISTENER, &[]).await.unwrap().is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no listener session to kill"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        insert_sql_comment(
            &sql,
            shows[1 - round % 2],
            &format!("round {round} right after the kill"),
        )
        .await;
    }
    for show in shows {
        assert_store_matches_database(&browser, &app, show, 1).await;
    }
    browser.quit().await;
}

#[tokio::test]
async fn a_closing_leader_tab_hands_the_connection_to_another_window_which_resumes() {
    let app = spawn_app().await;
    let (a, b) = (app.create_show("live").await, app.create_show("live").await);
    app.comment(a, "ann", "before any tab").await;
    let browser = Browser::start().await;
    let first = browser.client.window().await.unwrap();
    open_library_page(&browser, &app).await;
    probe(&browser, token_auth(&app), &[a]).await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;

    // A second window wants A and B: the leader's one connection covers both.
    let second = browser.client.new_window(false).await.unwrap().handle;
    browser
        .client
        .switch_to_window(second.clone())
        .await
        .unwrap();
    open_library_page(&browser, &app).await;
    probe(&browser, token_auth(&app), &[a, b]).await;
    wait_state(&browser, "live-via-other-tab", Duration::from_secs(10)).await;
    write_concurrently(&app, &[a, b], 5).await;
    for show in [a, b] {
        assert_store_matches_database(&browser, &app, show, 1).await;
    }
    assert_eq!(
        browser.js("return window.streams.length;").await,
        json!(0),
        "the follower window opened no stream of its own"
    );

    // The leader closes: the second window takes the lock and resumes from its own stores.
    browser.client.switch_to_window(first).await.unwrap();
    browser.client.close_window().await.unwrap();
    browser.client.switch_to_window(second).await.unwrap();
    wait_state(&browser, "live", Duration::from_secs(10)).await;
    write_concurrently(&app, &[a, b, b], 4).await;
    for show in [a, b] {
        assert_store_matches_database(&browser, &app, show, 1).await;
    }
    browser.quit().await;
}

#[tokio::test]
async fn forced_long_polling_keeps_several_shows_exact() {
    let app = spawn_app().await;
    let shows = [app.create_show("live").await, app.create_show("live").await];
    app.comment(shows[0], "ann", "before polling").await;
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    probe(
        &browser,
        json!({ "auth": { "token": app.token }, "forcePoll": true }),
        &shows,
    )
    .await;
    wait_state(&browser, "polling", Duration::from_secs(10)).await;
    write_concurrently(&app, &[shows[0], shows[1], shows[1]], 5).await;
    insert_sql_comment(&app.sql().await, shows[0], "polled from SQL").await;
    for show in shows {
        assert_store_matches_database(&browser, &app, show, 1).await;
    }
    assert_eq!(
        browser.js("return window.streams;").await,
        json!([]),
        "no stream was opened"
    );
    browser.quit().await;
}

#[tokio::test]
async fn a_write_then_caught_up_sees_its_own_row_in_the_store() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.put_item(show, 4, 1).await;
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    probe(&browser, token_auth(&app), &[show]).await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;
    let seen = browser
        .js(&format!(
            "const show = {show}; \
             return window.t.client.write('POST', `/api/shows/${{show}}/comments`, \
                 {{ external_id: 'ryw-1', author_id: 'me', author_name: 'Me', text: 'sold 4' }}) \
               .then((r) => window.t.client.caughtUp(show, r.seq).then((store) => ({{ \
                 seq: r.seq, storeSeq: store.seq, \
                 comment: store.comments.some((c) => c.id === r.comments[0].id), \
                 claim: store.claims.get(r.claims[0].id)?.status }})));",
            show = js_str(&show.to_string())
        ))
        .await;
    assert!(
        seen["seq"].as_i64().is_some(),
        "the answer carries its seq: {seen}"
    );
    assert!(seen["storeSeq"].as_i64() >= seen["seq"].as_i64(), "{seen}");
    assert_eq!(
        seen["comment"],
        json!(true),
        "the comment is in the store: {seen}"
    );
    assert_eq!(
        seen["claim"],
        json!("claimed"),
        "the claim is in the store: {seen}"
    );

    // A failed write throws the server's error shape.
    let failed = browser
        .js("return window.t.client.write('PATCH', '/api/claims/00000000-0000-4000-8000-000000000000', { status: 'paid' }) \
               .then(() => null, (e) => [e.name, e.status, e.code, typeof e.message]);")
        .await;
    assert_eq!(failed, json!(["ShowfeedError", 404, "not_found", "string"]));
    browser.quit().await;
}

#[tokio::test]
async fn five_shows_on_one_subscription_with_four_writers_are_each_exact() {
    let app = spawn_app().await;
    let mut shows = Vec::new();
    for _ in 0..5 {
        shows.push(app.create_show("live").await);
    }
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    probe(&browser, token_auth(&app), &shows).await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;
    write_concurrently(&app, &[shows[0], shows[1], shows[2], shows[3]], 8).await;
    write_concurrently(&app, &[shows[4], shows[4], shows[0], shows[2]], 4).await;
    for &show in &shows {
        assert_store_matches_database(&browser, &app, show, 1).await;
    }
    let streams = browser.js("return window.streams;").await;
    assert_eq!(
        streams.as_array().unwrap().len(),
        1,
        "five shows on one connection, opened once: {streams}"
    );
    browser.quit().await;
}

#[tokio::test]
async fn refusals_are_named_per_show_and_the_other_shows_stay_live() {
    let app = spawn_app().await;
    let (a, b) = (app.create_show("live").await, app.create_show("live").await);
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;

    // A token for A alone asking for A and B: B is denied, A goes on.
    let only_a = app.mint("viewer-a", Role::Viewer, Some(vec![a]), 600);
    probe(
        &browser,
        json!({ "auth": { "token": only_a }, "shareTabs": false }),
        &[a, b],
    )
    .await;
    let b_denied = format!(
        "window.t.sub.store({})?.error?.kind === 'denied'",
        js_str(&b.to_string())
    );
    browser
        .wait_for("B denied", Duration::from_secs(10), &b_denied)
        .await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;
    app.comment(a, "ann", "A still flows").await;
    assert_store_matches_database(&browser, &app, a, 1).await;
    browser.js("window.t.client.close(); return 0;").await;

    // An unknown show alone: not-found.
    probe(
        &browser,
        json!({ "auth": { "token": app.token }, "shareTabs": false }),
        &[Uuid::new_v4()],
    )
    .await;
    wait_state(&browser, "not-found", Duration::from_secs(10)).await;
    browser.js("window.t.client.close(); return 0;").await;

    // A token signed with another secret: denied, with the HTTP status.
    let foreign = showfeed::auth::Keys::new(b"another secret").mint("x", Role::Admin, None, 600);
    probe(
        &browser,
        json!({ "auth": { "token": foreign }, "shareTabs": false }),
        &[a],
    )
    .await;
    wait_state(&browser, "denied", Duration::from_secs(10)).await;
    let status = browser
        .js("return window.t.client.status.httpStatus;")
        .await;
    assert_eq!(status, json!(401));
    browser.js("window.t.client.close(); return 0;").await;

    // A token that expires while live: the stream's auth.expired says so, and waiting
    // for a seq that will never come is rejected.
    let short = app.mint("short", Role::Viewer, None, 4);
    probe(
        &browser,
        json!({ "auth": { "token": short }, "shareTabs": false }),
        &[a],
    )
    .await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;
    browser
        .js(&format!(
            "window.t.rejected = null; window.t.client.caughtUp({}, 1e9).catch((e) => (window.t.rejected = e.code)); return 0;",
            js_str(&a.to_string())
        ))
        .await;
    wait_state(&browser, "expired", Duration::from_secs(10)).await;
    browser
        .wait_for(
            "the waiter rejected as expired",
            Duration::from_secs(2),
            "window.t.rejected === 'expired'",
        )
        .await;
    browser.quit().await;
}

/// Installed after `PROBE`: every stream's body passes a gate; `window.gates.at(-1).shut =
/// true` silences that stream (no bytes, not even keep-alives) while its connection stays
/// open, as a stuck proxy would.
const STALLABLE_STREAMS: &str = r#"
const inner = window.fetch;
window.gates = [];
window.fetch = async (input, init) => {
  const response = await inner(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input), location.href);
  if (!/\/stream$/.test(url.pathname) || !response.body) return response;
  const gate = { shut: false };
  window.gates.push(gate);
  const body = response.body.pipeThrough(
    new TransformStream({ transform: (chunk, out) => gate.shut || out.enqueue(chunk) }),
  );
  return new Response(body, { status: response.status, headers: response.headers });
};
return true;
"#;

#[tokio::test]
async fn a_stream_silent_for_two_heartbeats_is_replaced_and_resumes_exactly() {
    let app = spawn_app_with(|c| c.http.heartbeat_secs = 1).await;
    let show = app.create_show("live").await;
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    browser.js(STALLABLE_STREAMS).await;
    probe(
        &browser,
        json!({ "auth": { "token": app.token }, "heartbeatMs": 1000, "shareTabs": false }),
        &[show],
    )
    .await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;
    app.comment(show, "ann", "before the stall").await;
    // Quiet for three heartbeats first: keep-alives alone keep a healthy stream open.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(browser.js("return window.streams.length;").await, json!(1));

    browser
        .js("window.gates.at(-1).shut = true; return 0;")
        .await;
    let stalled_at = Instant::now();
    app.comment(show, "bob", "during the stall").await;
    browser
        .wait_for(
            "a second stream after two silent heartbeats",
            Duration::from_secs(6),
            "window.streams.length === 2",
        )
        .await;
    assert!(
        stalled_at.elapsed() >= Duration::from_millis(1900),
        "replaced after {:?}: before two heartbeats of silence",
        stalled_at.elapsed()
    );
    app.comment(show, "cy", "sold 2").await;
    assert_store_matches_database(&browser, &app, show, 1).await;
    browser.quit().await;
}

#[tokio::test]
async fn offline_stops_trying_and_online_resumes_at_once() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    probe(
        &browser,
        json!({ "auth": { "token": app.token }, "shareTabs": false }),
        &[show],
    )
    .await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;

    let network = |offline: bool| crate::helpers::browser::Cdp {
        cmd: "Network.emulateNetworkConditions",
        params: json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
    };
    browser
        .client
        .issue_cmd(network(true))
        .await
        .expect("go offline");
    browser
        .wait_for(
            "reconnecting, offline, no next try",
            Duration::from_secs(5),
            "window.t.client.status.state === 'reconnecting' && window.t.client.status.reason === 'offline' \
             && window.t.client.status.nextTryAt === null",
        )
        .await;
    let tries = browser.js("return window.streams.length;").await;
    app.comment(show, "ann", "while the browser is offline")
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        browser.js("return window.streams.length;").await,
        tries,
        "no attempt while offline"
    );

    browser
        .client
        .issue_cmd(network(false))
        .await
        .expect("go online");
    wait_state(&browser, "live", Duration::from_secs(3)).await;
    app.comment(show, "bob", "back online").await;
    assert_store_matches_database(&browser, &app, show, 1).await;
    browser.quit().await;
}

#[tokio::test]
async fn get_token_replaces_an_expired_token_without_losing_the_stores_position() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    // The first token lives 4 s; asked again, getToken hands out a fresh one.
    let tokens = json!([
        app.mint("refresh", Role::Viewer, None, 4),
        app.mint("refresh", Role::Viewer, None, 600)
    ]);
    browser
        .js(&format!(
            "const tokens = {tokens}; window.asked = 0; \
             return probe({{ auth: {{ getToken: () => tokens[Math.min(window.asked++, 1)] }}, shareTabs: false }}, [{}]);",
            js_str(&show.to_string())
        ))
        .await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;
    app.comment(show, "ann", "with the first token").await;
    browser
        .wait_for(
            "the second token in use after auth.expired",
            Duration::from_secs(10),
            "window.asked >= 2 && window.t.statuses.filter((s) => s === 'live').length >= 2 \
             && window.t.client.status.state === 'live'",
        )
        .await;
    app.comment(show, "bob", "with the second token").await;
    assert_store_matches_database(&browser, &app, show, 1).await;
    let statuses = browser.js("return window.t.statuses;").await;
    assert!(
        !statuses.as_array().unwrap().contains(&json!("expired")),
        "never shown as expired: {statuses}"
    );
    browser.quit().await;
}

#[tokio::test]
async fn the_event_source_transport_with_a_query_token_is_exact_and_names_refusals() {
    let app = spawn_app().await;
    let shows = [app.create_show("live").await, app.create_show("live").await];
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    let query = json!({ "auth": { "token": app.token, "transport": "query" }, "shareTabs": false });
    probe(&browser, query.clone(), &shows).await;
    wait_state(&browser, "live", Duration::from_secs(10)).await;
    write_concurrently(&app, &[shows[0], shows[1], shows[1]], 5).await;
    for show in shows {
        assert_store_matches_database(&browser, &app, show, 1).await;
    }
    browser.js("window.t.client.close(); return 0;").await;

    // EventSource cannot say why it failed: a fetch of the same stream learns the 404.
    probe(&browser, query, &[Uuid::new_v4()]).await;
    wait_state(&browser, "not-found", Duration::from_secs(10)).await;
    browser.quit().await;
}

#[tokio::test]
async fn a_long_show_list_goes_as_one_post_stream_and_each_show_is_exact() {
    let app = spawn_app().await;
    let mut shows = Vec::new();
    for _ in 0..120 {
        shows.push(app.create_show("live").await);
    }
    let browser = Browser::start().await;
    open_library_page(&browser, &app).await;
    probe(&browser, token_auth(&app), &shows).await;
    wait_state(&browser, "live", Duration::from_secs(15)).await;
    browser
        .wait_for(
            "every store filled",
            Duration::from_secs(15),
            "window.t.sub.shows.every((id) => window.t.sub.store(id).seq !== null)",
        )
        .await;
    // 120 ids would make a 4.4 KB URL: the list goes in a POST body instead.
    assert_eq!(
        browser.js("return window.streams;").await,
        json!(["/api/stream"])
    );
    write_concurrently(&app, &[shows[0], shows[59], shows[119], shows[119]], 4).await;
    for show in [shows[0], shows[1], shows[59], shows[119]] {
        assert_store_matches_database(&browser, &app, show, 1).await;
    }
    browser.quit().await;
}
