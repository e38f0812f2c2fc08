//! The operator console in a real headless Chromium (Debian's `chromium` and
//! `chromedriver`, driven over WebDriver with fantoccini): what an operator sees when
//! comments arrive, connections drop, tokens expire, tabs multiply and strangers type
//! markup. Screenshots land in target/screenshots/ for a reviewer.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use secrecy::SecretString;
use serde_json::{json, Value};
use showfeed::auth::Role;
use uuid::Uuid;

use crate::helpers::browser::{js_str, Browser, Cdp};
use crate::helpers::*;

/// Rows of the show in the database: comment ids and (claim id, status), both sorted.
pub(crate) async fn database_rows(
    app: &TestApp,
    show: Uuid,
) -> (Vec<String>, Vec<(String, String)>) {
    let sql = app.sql().await;
    let comments = sql
        .query(
            "select id::text from comments where show_id = $1 order by id",
            &[&show],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    let claims = sql
        .query(
            "select id::text, status from claims where show_id = $1 order by id",
            &[&show],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect();
    (comments, claims)
}

/// Waits until the page shows exactly the database's comments and claims, each once.
pub(crate) async fn assert_page_matches_database(browser: &Browser, app: &TestApp, show: Uuid) {
    let (db_comments, db_claims) = database_rows(app, show).await;
    let started = Instant::now();
    loop {
        let rendered = browser.comment_ids().await;
        let mut sorted = rendered.clone();
        sorted.sort();
        let mut unique = sorted.clone();
        unique.dedup();
        assert_eq!(unique.len(), sorted.len(), "a comment is rendered twice");
        let claims = browser.claims().await;
        if sorted == db_comments && claims == db_claims {
            return;
        }
        if started.elapsed() > Duration::from_secs(15) {
            panic!(
                "the page does not match the database: {} of {} comments, claims {claims:?} vs {db_claims:?}; status {:?}",
                rendered.len(),
                db_comments.len(),
                browser.status().await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Ends the service's listener session on this test's database (other tests share the
/// cluster); one row per session ended.
pub(crate) const KILL_LISTENER: &str = "select pg_terminate_backend(pid) from pg_stat_activity \
     where application_name = 'showfeed-listener' and datname = current_database()";

pub(crate) async fn insert_sql_comment(sql: &tokio_postgres::Client, show: Uuid, text: &str) {
    sql.execute(
        "insert into comments (show_id, external_id, author_id, author_name, text) \
         values ($1, $2, 'analyst', 'Analyst (SQL)', $3)",
        &[&show, &Uuid::new_v4().to_string(), &text],
    )
    .await
    .unwrap();
}

/// A second service on the same database and the same port (so the same origin for the
/// page) as a stopped one: the browser's reconnect reaches a different process.
pub(crate) async fn restart_on_same_port(database: &str, secret: &str, address: &str) -> TestApp {
    let mut config = test_config(database);
    config.auth.jwt_secret = Some(SecretString::from(secret.to_owned()));
    config.http.bind_addr = address.trim_start_matches("http://").parse().unwrap();
    let mut last = None;
    for _ in 0..50 {
        match try_spawn_on(config.clone(), database.to_owned()).await {
            Ok(app) => return app,
            // The old socket may linger a moment.
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not rebind {address}: {last:?}");
}

#[tokio::test]
async fn comments_from_the_api_and_from_sql_appear_within_a_second_and_claims_reach_the_board() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.put_item(show, 5, 1).await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    // The token left the address bar.
    let url = browser.client.current_url().await.unwrap();
    assert!(!url.as_str().contains("token="), "token still in {url}");

    app.comment(show, "ann", "hello from the API").await;
    browser
        .wait_for(
            "the API comment in the feed",
            Duration::from_secs(1),
            "document.getElementById('feed').textContent.includes('hello from the API')",
        )
        .await;

    let sql = app.sql().await;
    insert_sql_comment(&sql, show, "written with plain SQL").await;
    browser
        .wait_for(
            "the SQL comment in the feed",
            Duration::from_secs(1),
            "document.getElementById('feed').textContent.includes('written with plain SQL')",
        )
        .await;

    let posted = app.comment(show, "bea", "Sold #5!").await;
    let claim = posted["claims"][0]["id"].as_str().unwrap().to_owned();
    browser
        .wait_for(
            "the claim on the board",
            Duration::from_secs(1),
            &format!(
                "document.querySelector('#board [data-item=\"5\"] [data-claim={}]')?.textContent.includes('bea')",
                js_str(&claim)
            ),
        )
        .await;
    // The claim's comment is highlighted in the feed, newest first.
    let top = browser
        .js("const li = document.querySelector('#feed > li'); return [li.classList.contains('is-claim'), li.textContent];")
        .await;
    assert_eq!(top[0], json!(true), "claim comment highlighted: {top}");
    assert!(top[1].as_str().unwrap().contains("Sold #5!"));
    assert_eq!(
        browser
            .js("return document.getElementById('count-sold').textContent")
            .await,
        json!("1")
    );
    browser.quit().await;
}

#[tokio::test]
async fn listener_kills_while_writing_leave_the_page_with_exactly_the_database_rows() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.put_item(show, 1, 2).await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;

    let sql = app.sql().await;
    for round in 0..4 {
        for i in 0..6 {
            let text = if i % 3 == 0 {
                format!("sold {}", i % 4 + 1)
            } else {
                format!("round {round} comment {i}")
            };
            app.comment(show, &format!("buyer{round}{i}"), &text).await;
        }
        insert_sql_comment(&sql, show, &format!("round {round} via SQL")).await;
        // The listener reconnects with backoff (and a session may be between its connect
        // and its LISTEN): retry until one is killed, so every round kills one.
        let started = Instant::now();
        while sql.query(KILL_LISTENER, &[]).await.unwrap().is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no listener session to kill"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        insert_sql_comment(&sql, show, &format!("round {round} right after the kill")).await;
    }
    assert_page_matches_database(&browser, &app, show).await;
    browser.quit().await;
}

#[tokio::test]
async fn a_cut_stream_shows_reconnecting_then_live_and_ends_with_exactly_the_database_rows() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    for i in 0..5 {
        app.comment(show, "ann", &format!("before the cut {i}"))
            .await;
    }

    let (address, database, secret) = (app.address.clone(), app.database.clone(), app.secret());
    app.stop().await;
    browser
        .wait_for(
            "the indicator to say reconnecting",
            Duration::from_secs(10),
            "document.getElementById('conn').dataset.state === 'reconnecting' \
             && /attempt \\d+/.test(document.getElementById('conn').textContent)",
        )
        .await;
    // Written while no node runs: the page must get these on resume.
    let sql = connect(&connection_string(&database)).await;
    for i in 0..5 {
        insert_sql_comment(&sql, show, &format!("while the node is down {i}")).await;
    }

    let app = restart_on_same_port(&database, &secret, &address).await;
    browser.wait_live().await;
    app.comment(show, "bob", "after the restart").await;
    app.comment(show, "cy", "sold 3").await;
    assert_page_matches_database(&browser, &app, show).await;
    browser.quit().await;
}

#[tokio::test]
async fn an_expired_token_is_named_on_the_page() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let browser = Browser::start().await;

    // A warm browser first, so the short token below is not spent on Chromium's start.
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;

    // Expires while the page is live: the stream's auth.expired ends it.
    let short = app.mint("short-lived", Role::Operator, None, 8);
    browser.open_show(&app, show, &short).await;
    browser.wait_live().await;
    let expired_notice = "document.getElementById('conn').dataset.state === 'error' \
         && /expired/i.test(document.getElementById('conn').textContent) \
         && !document.getElementById('login').hidden \
         && /expired/i.test(document.getElementById('login-msg').textContent)";
    browser
        .wait_for(
            "the page to say the token expired",
            Duration::from_secs(10),
            expired_notice,
        )
        .await;

    browser
        .screenshot("console-token-expired.png", 1280, 900)
        .await;

    // Opened with a token that is already expired: the same words, at once.
    browser.open_show(&app, show, &short).await;
    browser
        .wait_for(
            "the sign-in form to say the token expired",
            Duration::from_secs(3),
            "!document.getElementById('login').hidden \
             && /expired/i.test(document.getElementById('login-msg').textContent)",
        )
        .await;

    // A token signed with another secret: rejected, said so, no spinner.
    let foreign = showfeed::auth::Keys::new(b"another secret").mint("x", Role::Admin, None, 600);
    browser.open_show(&app, show, &foreign).await;
    browser
        .wait_for(
            "the page to say the token was rejected",
            Duration::from_secs(5),
            "document.getElementById('conn').dataset.state === 'error' \
             && /rejected/i.test(document.getElementById('login-msg').textContent)",
        )
        .await;

    // An unknown show is named too.
    browser.open_show(&app, Uuid::new_v4(), &app.token).await;
    browser
        .wait_for(
            "the page to say the show is not found",
            Duration::from_secs(5),
            "document.getElementById('conn').dataset.state === 'error' \
             && /not found/i.test(document.getElementById('conn').textContent)",
        )
        .await;
    browser.quit().await;
}

#[tokio::test]
async fn eight_tabs_of_a_show_share_one_stream_and_all_update() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let browser = Browser::start().await;
    let first = browser.client.window().await.unwrap();
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    let mut tabs = vec![first];
    for _ in 1..8 {
        let tab = browser.client.new_window(true).await.unwrap().handle;
        browser.client.switch_to_window(tab.clone()).await.unwrap();
        browser.open_show(&app, show, &app.token).await;
        browser.wait_live().await;
        tabs.push(tab);
    }
    let (_, text) = browser.status().await;
    assert!(text.contains("another tab"), "a follower says so: {text}");
    wait_metric(&app, "subscribers", 1.0).await;

    app.comment(show, "ann", "one stream, eight tabs").await;
    for tab in &tabs {
        browser.client.switch_to_window(tab.clone()).await.unwrap();
        browser
            .wait_for(
                "the comment in every tab",
                Duration::from_secs(5),
                "document.getElementById('feed').textContent.includes('one stream, eight tabs')",
            )
            .await;
    }
    assert_eq!(app.metric("subscribers").await, 1.0);

    // The leading tab closes: another takes over, resuming where it was.
    browser
        .client
        .switch_to_window(tabs[0].clone())
        .await
        .unwrap();
    browser.client.close_window().await.unwrap();
    browser
        .client
        .switch_to_window(tabs[7].clone())
        .await
        .unwrap();
    app.comment(show, "bob", "after the leader left").await;
    for tab in &tabs[1..] {
        browser.client.switch_to_window(tab.clone()).await.unwrap();
        browser
            .wait_for(
                "the comment after a leader change",
                Duration::from_secs(10),
                "document.getElementById('feed').textContent.includes('after the leader left')",
            )
            .await;
        let ids = browser.comment_ids().await;
        assert_eq!(ids.len(), 2, "no comment twice, none missing");
    }
    wait_metric(&app, "subscribers", 1.0).await;
    browser.quit().await;
}

async fn wait_metric(app: &TestApp, name: &str, value: f64) {
    let started = Instant::now();
    loop {
        let got = app.metric(name).await;
        if got == value {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "metric {name} is {got}, expected {value}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn releasing_a_claim_promotes_the_waitlisted_buyer_on_every_open_page() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.put_item(show, 7, 1).await;
    let ann = app.comment(show, "ann", "sold 7").await["claims"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = app.comment(show, "bob", "sold 7").await["claims"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let browser = Browser::start().await;
    let one = browser.client.window().await.unwrap();
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    let two = browser.client.new_window(true).await.unwrap().handle;
    browser.client.switch_to_window(two.clone()).await.unwrap();
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    let before = vec![
        (ann.clone(), "claimed".to_owned()),
        (bob.clone(), "waitlisted".to_owned()),
    ];
    let mut expected = before.clone();
    expected.sort();
    assert_eq!(browser.claims().await, expected);

    // Release from the second page: it asks first; cancelled, nothing changes...
    let release = format!("button[data-action=released][data-claim={}]", js_str(&ann));
    let click_release = || async {
        browser
            .client
            .find(Locator::Css(&release))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    };
    click_release().await;
    browser
        .answer_dialog("Release ann's claim on item 7?", false)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        browser.claims().await,
        expected,
        "a cancelled release changes nothing"
    );
    // ...confirmed, it releases and Bob is promoted.
    click_release().await;
    browser
        .answer_dialog("The next buyer in line gets the unit", true)
        .await;
    // The page offers Undo, but Bob was promoted into the unit: the server refuses to take
    // it back, and the page says why.
    browser
        .wait_for(
            "the Undo bar",
            Duration::from_secs(5),
            "!document.getElementById('undo').hidden",
        )
        .await;
    browser.click_id("undo-button").await;
    browser
        .wait_for(
            "the refused undo named",
            Duration::from_secs(5),
            "!document.getElementById('alert').hidden \
             && /taken/.test(document.getElementById('alert-text').textContent)",
        )
        .await;
    let promoted = format!(
        "document.querySelector('#board [data-claim={}]')?.dataset.status === 'claimed' \
         && document.querySelector('#board [data-claim={}]')?.dataset.status === 'released'",
        js_str(&bob),
        js_str(&ann)
    );
    for tab in [&two, &one] {
        browser.client.switch_to_window(tab.clone()).await.unwrap();
        browser
            .wait_for(
                "bob promoted, ann released",
                Duration::from_secs(5),
                &promoted,
            )
            .await;
    }
    // ...and mark paid from the first with the keyboard alone.
    let pay = browser
        .client
        .find(Locator::Css(&format!(
            "button[data-action=paid][data-claim={}]",
            js_str(&bob)
        )))
        .await
        .unwrap();
    pay.send_keys("\u{E007}").await.unwrap();
    browser
        .answer_dialog("Mark bob's claim on item 7 paid?", true)
        .await;
    for tab in [&one, &two] {
        browser.client.switch_to_window(tab.clone()).await.unwrap();
        browser
            .wait_for(
                "bob paid",
                Duration::from_secs(5),
                &format!(
                    "document.querySelector('#board [data-claim={}]')?.dataset.status === 'paid'",
                    js_str(&bob)
                ),
            )
            .await;
    }
    // The screen-reader region heard about the promotion.
    browser
        .wait_for(
            "an aria-live announcement of the promotion",
            Duration::from_secs(3),
            "document.getElementById('announcer').getAttribute('aria-live') === 'polite' \
             && /bob promoted to claimed on item 7/.test(document.getElementById('announcer').textContent)",
        )
        .await;

    // The items editor: saved in this page, shown in the other through the feed.
    for (field, value) in [
        ("item-number", "8"),
        ("item-title", "Wool beanie"),
        ("item-price", "12.5"),
        ("item-quantity", "2"),
    ] {
        browser.type_into(field, value).await;
    }
    browser
        .client
        .find(Locator::Css("#item-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let item_row = "[...document.querySelectorAll('#items tr[data-item=\"8\"] td')] \
         .map(td => td.textContent).join('|').startsWith('#8|Wool beanie|$12.50|2|0')";
    for tab in [&two, &one] {
        browser.client.switch_to_window(tab.clone()).await.unwrap();
        browser
            .wait_for(
                "item 8 in the items table",
                Duration::from_secs(5),
                item_row,
            )
            .await;
    }
    browser.quit().await;
}

#[tokio::test]
async fn hostile_comment_text_and_buyer_names_stay_text_and_run_nothing() {
    let app = spawn_app().await;
    let r = app.api.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'self'"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");

    let show = app.create_show("live").await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;

    let img = r#"<img src=x onerror="document.title='pwned'">"#;
    let script = "<script>document.title='pwned'</script>";
    app.comment(show, "<b>bold</b>", img).await;
    let body = json!({
        "external_id": "hostile-buyer",
        "author_id": "hostile",
        "author_name": script,
        "text": "sold 3",
    });
    let r = app
        .post(&format!("/api/shows/{show}/comments"), &body)
        .await;
    assert!(r.status().is_success());
    browser
        .wait_for(
            "the markup as literal text in the feed and on the board",
            Duration::from_secs(5),
            &format!(
                "document.getElementById('feed').textContent.includes({img}) \
                 && document.getElementById('feed').textContent.includes('<b>bold</b>') \
                 && document.getElementById('board').textContent.includes({script})",
                img = js_str(img),
                script = js_str(script)
            ),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let checks = browser
        .js("return { title: document.title, \
                img: document.querySelectorAll('#main img').length, \
                b: document.querySelectorAll('#main b').length, \
                scripts: document.querySelectorAll('script').length, \
                csp: document.documentElement.dataset.cspViolations || '0' };")
        .await;
    assert_ne!(checks["title"], json!("pwned"), "{checks}");
    assert_eq!(checks["img"], json!(0), "{checks}");
    assert_eq!(checks["b"], json!(0), "{checks}");
    assert_eq!(
        checks["scripts"],
        json!(1),
        "only the console's own module: {checks}"
    );
    assert_eq!(checks["csp"], json!("0"), "the page broke its own CSP");
    browser.quit().await;
}

#[tokio::test]
async fn the_polling_fallback_keeps_the_page_current() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.comment(show, "ann", "before polling").await;
    let browser = Browser::start().await;
    browser.client.goto("about:blank").await.unwrap();
    browser
        .client
        .goto(&format!(
            "{}/#token={}&show={show}&transport=poll",
            app.address, app.token
        ))
        .await
        .unwrap();
    browser
        .wait_for(
            "the polling indicator",
            Duration::from_secs(10),
            "document.getElementById('conn').dataset.state === 'polling' \
             && document.getElementById('feed').textContent.includes('before polling')",
        )
        .await;
    app.comment(show, "bob", "sold 2").await;
    insert_sql_comment(&app.sql().await, show, "polled from SQL").await;
    assert_page_matches_database(&browser, &app, show).await;
    browser.quit().await;
}

#[tokio::test]
async fn screenshots_of_the_console_at_1280_and_390_px() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let patch = json!({"title": "Friday vintage drop"});
    app.send_json(
        reqwest::Method::PATCH,
        &format!("/api/shows/{show}"),
        &patch,
    )
    .await;
    let items = [
        (1, "Denim jacket, size M", 4500, 1),
        (2, "Silver hoop earrings", 1899, 2),
        (3, "Vintage band tee", 2250, 1),
        (4, "Leather ankle boots", 6900, 3),
    ];
    for (n, title, price, quantity) in items {
        let body = json!({"title": title, "price_cents": price, "quantity": quantity});
        app.send_json(
            reqwest::Method::PUT,
            &format!("/api/shows/{show}/items/{n}"),
            &body,
        )
        .await;
    }
    let chatter = [
        ("Ava", "hi from Lisbon!"),
        ("Ben", "sold 1"),
        ("Chloe", "SOLD #1"),
        ("Diego", "how long is the jacket?"),
        ("Elif", "sold 2"),
        ("Femi", "Sold 3!"),
        (
            "Grace",
            "love this, can you show the back? it looks amazing in this light",
        ),
        ("Hiro", "sold 4"),
        ("Ines", "sold 3"),
        ("Jonah", "is shipping included?"),
        ("Kira", "sold 2"),
        ("Luca", "sold 1"),
    ];
    let mut claims = Vec::new();
    for (who, text) in chatter {
        let r = app.comment(show, who, text).await;
        if let Some(c) = r["claims"].as_array().and_then(|a| a.first()) {
            claims.push(c["id"].as_str().unwrap().to_owned());
        }
    }
    app.patch_claim(&claims[3], "paid").await; // Femi paid
    app.patch_claim(&claims[2], "released").await; // Elif released

    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    browser
        .wait_for(
            "the board",
            Duration::from_secs(5),
            "document.querySelectorAll('#board .group').length === 4",
        )
        .await;
    browser.screenshot("console-1280.png", 1280, 900).await;
    browser.screenshot("console-390.png", 390, 844).await;
    // At 390 px the panes are tabs: the board is one tap away.
    browser.click_id("tab-board").await;
    browser.screenshot("console-390-board.png", 390, 844).await;
    let overflow = browser
        .js("return document.documentElement.scrollWidth - window.innerWidth;")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page scrolls sideways at 390 px by {overflow} px"
    );
    browser
        .client
        .goto(&format!("{}/", app.address))
        .await
        .unwrap();
    browser
        .wait_for(
            "the show list",
            Duration::from_secs(5),
            "document.querySelectorAll('#show-list li').length === 1",
        )
        .await;
    browser.screenshot("shows-390.png", 390, 844).await;
    browser.screenshot("shows-1280.png", 1280, 900).await;
    browser.quit().await;
}

#[tokio::test]
async fn ten_thousand_comments_keep_the_feed_capped_at_500() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    for batch in 0..10 {
        let comments: Vec<Value> = (0..1000)
            .map(|i| {
                json!({
                    "external_id": format!("bulk-{batch}-{i}"),
                    "author_id": format!("buyer-{i}"),
                    "author_name": format!("Buyer {i}"),
                    "text": format!("comment {batch}-{i}"),
                })
            })
            .collect();
        let r = app
            .post(&format!("/api/shows/{show}/comments"), &json!(comments))
            .await;
        assert!(r.status().is_success(), "batch {batch}: {}", r.status());
    }
    browser
        .wait_for(
            "all 10,000 comments counted",
            Duration::from_secs(30),
            "document.getElementById('count-comments').textContent.replace(/\\D/g, '') === '10000'",
        )
        .await;
    let page = browser
        .js("return [document.querySelectorAll('#feed > li').length, \
                     document.querySelector('#feed > li .c-text').textContent, \
                     document.getElementsByTagName('*').length];")
        .await;
    assert_eq!(page[0], json!(500), "the feed renders the newest 500");
    assert!(
        page[1].as_str().unwrap().starts_with("comment 9-"),
        "newest on top: {page}"
    );
    assert!(
        page[2].as_u64().unwrap() < 5000,
        "the DOM stays small: {page}"
    );
    // Still responsive: one more comment shows within a second.
    app.comment(show, "ann", "one more after ten thousand")
        .await;
    browser
        .wait_for(
            "the next comment",
            Duration::from_secs(1),
            "document.querySelector('#feed > li .c-text').textContent === 'one more after ten thousand'",
        )
        .await;
    browser.quit().await;
}

/// Installed before the console's scripts: a `fetch` whose stream requests (the library
/// reads SSE with fetch) fail at once while `window.__sse.broken`, and go through after;
/// every other request is untouched. Counts stream attempts.
const BREAKABLE_STREAM_FETCH: &str = r#"
(() => {
  const realFetch = window.fetch.bind(window);
  window.__sse = { broken: true, opened: 0 };
  window.fetch = function (input, init) {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (!/\/stream$/.test(url.pathname)) return realFetch(input, init);
    window.__sse.opened += 1;
    if (!window.__sse.broken) return realFetch(input, init);
    return new Promise((_, reject) => setTimeout(() => reject(new TypeError("Failed to fetch")), 20));
  };
})();
"#;

#[tokio::test]
async fn repeated_stream_failures_fall_back_to_polling_and_return_to_live() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let browser = Browser::start().await;
    browser
        .client
        .issue_cmd(Cdp {
            cmd: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({ "source": BREAKABLE_STREAM_FETCH }),
        })
        .await
        .expect("install the breakable stream fetch");
    browser.open_show(&app, show, &app.token).await;
    browser
        .wait_for(
            "the polling fallback after repeated stream failures",
            Duration::from_secs(15),
            "document.getElementById('conn').dataset.state === 'polling' \
             && /polling fallback/i.test(document.getElementById('conn').textContent)",
        )
        .await;
    app.comment(show, "ann", "delivered by long-polling").await;
    browser
        .wait_for(
            "the comment through the fallback",
            Duration::from_secs(3),
            "document.getElementById('feed').textContent.includes('delivered by long-polling')",
        )
        .await;
    // The stream is still being tried behind the polling.
    let opened = browser.js("return window.__sse.opened;").await;
    browser
        .wait_for(
            "another stream attempt while polling",
            Duration::from_secs(20),
            &format!("window.__sse.opened > {opened}"),
        )
        .await;
    browser.js("window.__sse.broken = false; return 0;").await;
    browser
        .wait_for(
            "the stream to take over again",
            Duration::from_secs(30),
            "document.getElementById('conn').dataset.state === 'live'",
        )
        .await;
    app.comment(show, "bob", "sold 4").await;
    assert_page_matches_database(&browser, &app, show).await;
    browser.quit().await;
}

/// Installed before the console's scripts: counts the page's stream requests.
const COUNT_STREAMS: &str = r#"
(() => {
  const realFetch = window.fetch.bind(window);
  window.__streams = [];
  window.fetch = function (input, init) {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (/\/stream$/.test(url.pathname)) window.__streams.push(url.pathname + url.search);
    return realFetch(input, init);
  };
})();
"#;

#[tokio::test]
async fn the_show_list_counts_every_shows_comments_and_claims_live_on_one_stream() {
    let app = spawn_app().await;
    let shows = [
        app.create_show("live").await,
        app.create_show("live").await,
        app.create_show("scheduled").await,
    ];
    app.comment(shows[0], "ann", "sold 1").await;
    let browser = Browser::start().await;
    browser
        .client
        .issue_cmd(Cdp {
            cmd: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({ "source": COUNT_STREAMS }),
        })
        .await
        .expect("install the stream counter");
    browser.client.goto("about:blank").await.unwrap();
    browser
        .client
        .goto(&format!("{}/#token={}", app.address, app.token))
        .await
        .unwrap();
    let counts = |show: Uuid, comments: u32, claims: u32| {
        format!(
            "document.querySelector('#show-list li[data-show=\"{show}\"] .counts')?.dataset.comments === '{comments}' \
             && document.querySelector('#show-list li[data-show=\"{show}\"] .counts')?.dataset.claims === '{claims}'"
        )
    };
    browser
        .wait_for(
            "the counters of every show",
            Duration::from_secs(10),
            &format!(
                "{} && {} && {}",
                counts(shows[0], 1, 1),
                counts(shows[1], 0, 0),
                counts(shows[2], 0, 0)
            ),
        )
        .await;
    browser.wait_live().await;

    app.comment(shows[1], "bea", "sold 2").await;
    app.comment(shows[1], "cy", "hello").await;
    app.comment(shows[0], "dan", "sold 1").await;
    browser
        .wait_for(
            "the counters to follow the writes",
            Duration::from_secs(3),
            &format!("{} && {}", counts(shows[0], 2, 2), counts(shows[1], 2, 1)),
        )
        .await;
    // Go live from the list: the badge and the buttons follow the feed, not a reload.
    browser
        .client
        .find(Locator::Css(&format!(
            "#show-list li[data-show=\"{}\"] .row-actions button",
            shows[2]
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            "the third show's badge to say live and its button to say End",
            Duration::from_secs(3),
            &format!(
                "document.querySelector('#show-list li[data-show=\"{0}\"] .badge').textContent === 'live' \
                 && document.querySelector('#show-list li[data-show=\"{0}\"] .row-actions button').textContent === 'End'",
                shows[2]
            ),
        )
        .await;
    let streams = browser.js("return window.__streams;").await;
    let streams = streams.as_array().unwrap();
    assert_eq!(
        streams.len(),
        1,
        "one stream for the whole list: {streams:?}"
    );
    assert!(
        streams[0]
            .as_str()
            .unwrap()
            .starts_with("/api/stream?shows="),
        "the multiplexed route: {streams:?}"
    );
    browser.quit().await;
}

/// The text of the claim-result label on the rendered comment `id` (None: no label).
async fn claim_result_label(browser: &Browser, id: &str) -> Option<String> {
    let v = browser
        .js(&format!(
            "return document.querySelector('#feed > li[data-id={}] .c-result')?.textContent ?? null;",
            js_str(id)
        ))
        .await;
    v.as_str().map(str::to_owned)
}

#[tokio::test]
async fn every_sold_comment_in_the_feed_says_what_it_did_or_why_not() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.put_item(show, 5, 1).await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    let mut expected = Vec::new();
    for (who, text, label) in [
        ("ann", "sold 5", Some("claimed #5")),
        ("bob", "sold 5", Some("waitlist 1")),
        ("cem", "Sold #5!", Some("waitlist 2")),
        ("ann", "sold 5", Some("already holds #5")),
        ("dan", "sold 0", Some("no such item #0")),
        ("eve", "what size is it?", None),
    ] {
        let id = app.comment(show, who, text).await["comments"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        expected.push((id, label));
    }
    let patch = json!({"status": "ended"});
    app.send_json(
        reqwest::Method::PATCH,
        &format!("/api/shows/{show}"),
        &patch,
    )
    .await;
    let late = app.comment(show, "fay", "sold 5").await["comments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expected.push((late.clone(), Some("show not live")));
    browser
        .wait_for(
            "the comment after the end",
            Duration::from_secs(5),
            &format!(
                "document.querySelector('#feed > li[data-id={}]')",
                js_str(&late)
            ),
        )
        .await;
    for (id, label) in &expected {
        assert_eq!(
            claim_result_label(&browser, id).await.as_deref(),
            *label,
            "comment {id}"
        );
    }
    // A refusal is marked as one, so it cannot pass for a claim.
    let refused = browser
        .js("return [...document.querySelectorAll('#feed .c-result[data-outcome=refused]')].length;")
        .await;
    assert_eq!(refused, json!(3));
    browser
        .screenshot("console-claim-results.png", 1280, 900)
        .await;
    browser.quit().await;
}

#[tokio::test]
async fn waitlisted_buyers_show_their_place_in_line_now_beside_the_original_position() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.put_item(show, 7, 1).await;
    let mut claims = Vec::new();
    for who in ["ann", "bob", "cem", "dan"] {
        let r = app.comment(show, who, "sold 7").await;
        claims.push(r["claims"][0]["id"].as_str().unwrap().to_owned());
    }
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    // (original waitlist label, place in line) of each waitlisted claim on the board.
    let places = |ids: Vec<String>| {
        let list = ids
            .iter()
            .map(|id| js_str(id))
            .collect::<Vec<_>>()
            .join(",");
        format!(
            "JSON.stringify([{list}].map(id => {{ const li = document.querySelector(`#board li[data-claim=\"${{id}}\"]`); \
             return li ? [li.dataset.status, li.querySelector('.tag').textContent, li.querySelector('.place')?.textContent ?? null] : null; }}))"
        )
    };
    let expect = |rows: Value| rows.to_string();
    browser
        .wait_for(
            "bob, cem, dan in line 1, 2, 3",
            Duration::from_secs(5),
            &format!(
                "{} === {}",
                places(claims.clone()),
                js_str(&expect(json!([
                    ["claimed", "claimed", null],
                    ["waitlisted", "waitlist 1", "place 1 in line"],
                    ["waitlisted", "waitlist 2", "place 2 in line"],
                    ["waitlisted", "waitlist 3", "place 3 in line"],
                ])))
            ),
        )
        .await;
    browser
        .screenshot("console-waitlist-places.png", 1280, 900)
        .await;
    // Bob leaves the line: everyone behind him moves up, live, originals unchanged.
    app.patch_claim(&claims[1], "released").await;
    browser
        .wait_for(
            "cem next, dan second",
            Duration::from_secs(5),
            &format!(
                "{} === {}",
                places(vec![claims[2].clone(), claims[3].clone()]),
                js_str(&expect(json!([
                    ["waitlisted", "waitlist 2", "place 1 in line"],
                    ["waitlisted", "waitlist 3", "place 2 in line"],
                ])))
            ),
        )
        .await;
    // Ann's unit goes to cem (promoted); dan is next.
    app.patch_claim(&claims[0], "released").await;
    browser
        .wait_for(
            "cem promoted, dan next",
            Duration::from_secs(5),
            &format!(
                "{} === {}",
                places(vec![claims[2].clone(), claims[3].clone()]),
                js_str(&expect(json!([
                    ["claimed", "claimed", null],
                    ["waitlisted", "waitlist 3", "place 1 in line"],
                ])))
            ),
        )
        .await;
    browser.quit().await;
}

/// Ids of every comment the feed pane shows, live list then paged-in history, top to bottom.
async fn all_shown_comment_ids(browser: &Browser) -> Vec<String> {
    let v = browser
        .js("return [...document.querySelectorAll('#feed > li, #older > li')].map(li => li.dataset.id);")
        .await;
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn load_older_pages_back_through_a_thousand_comments_each_once_while_a_hundred_arrive() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let comments: Vec<Value> = (0..1000)
        .map(|i| {
            json!({
                "external_id": format!("old-{i}"),
                "author_id": format!("buyer-{}", i % 37),
                "author_name": format!("Buyer {}", i % 37),
                "text": format!("old comment {i}"),
            })
        })
        .collect();
    let r = app
        .post(&format!("/api/shows/{show}/comments"), &json!(comments))
        .await;
    assert!(r.status().is_success(), "bulk: {}", r.status());
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    browser
        .wait_for(
            "the Load older control",
            Duration::from_secs(5),
            "!document.getElementById('load-older').hidden",
        )
        .await;
    let live = async {
        for i in 0..100 {
            app.comment(
                show,
                &format!("live-{}", i % 7),
                &format!("live comment {i}"),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    };
    let page_back = async {
        let started = Instant::now();
        let mut pages = 0;
        loop {
            let state = browser
                .js("const b = document.getElementById('load-older'); \
                     if (b.hidden) return 'done'; if (b.disabled) return 'busy'; b.click(); return 'clicked';")
                .await;
            match state.as_str() {
                Some("done") => break,
                Some("clicked") => pages += 1,
                _ => {}
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "still paging after {pages} pages"
            );
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        pages
    };
    let ((), pages) = tokio::join!(live, page_back);
    assert!(pages >= 8, "{pages} pages for 1,000 comments");
    browser
        .wait_for(
            "all 1,100 comments counted",
            Duration::from_secs(10),
            "document.getElementById('count-comments').textContent.replace(/\\D/g, '') === '1100'",
        )
        .await;
    // Every comment of the database exactly once, in the server's order (newest first).
    let sql = app.sql().await;
    let db: Vec<String> = sql
        .query(
            "select id::text from comments where show_id = $1 order by created_at desc, id desc",
            &[&show],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    assert_eq!(db.len(), 1100);
    let started = Instant::now();
    loop {
        let shown = all_shown_comment_ids(&browser).await;
        let mut unique = shown.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), shown.len(), "a comment is shown twice");
        if shown == db {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the feed pane shows {} comments, the database holds {}; first difference at {:?}",
            shown.len(),
            db.len(),
            shown.iter().zip(&db).position(|(a, b)| a != b)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = browser
        .js("return document.getElementById('older-status').textContent;")
        .await;
    assert!(
        status.as_str().unwrap().starts_with("Start of the show"),
        "{status}"
    );
    // Live arrivals still go to the top.
    app.comment(show, "ann", "newest after the history").await;
    browser
        .wait_for(
            "the next comment on top",
            Duration::from_secs(2),
            "document.querySelector('#feed > li .c-text').textContent === 'newest after the history'",
        )
        .await;
    browser
        .js("document.getElementById('feed-scroll').scrollTop = 1e9; return 0;")
        .await;
    browser
        .screenshot("console-history-start.png", 1280, 900)
        .await;
    browser.quit().await;
}

/// Ids of the rendered search results, top to bottom.
async fn result_ids(browser: &Browser) -> Vec<String> {
    let v = browser
        .js("return [...document.querySelectorAll('#results > li')].map(li => li.dataset.id);")
        .await;
    serde_json::from_value(v).unwrap()
}

/// Waits until the search results are exactly `ids` (top to bottom).
async fn wait_results(browser: &Browser, what: &str, ids: &[&String]) {
    let list = ids
        .iter()
        .map(|id| js_str(id))
        .collect::<Vec<_>>()
        .join(",");
    browser
        .wait_for(
            what,
            Duration::from_secs(5),
            &format!(
                "!document.getElementById('results').hidden \
                 && JSON.stringify([...document.querySelectorAll('#results > li')].map(li => li.dataset.id)) === JSON.stringify([{list}])"
            ),
        )
        .await;
}

#[tokio::test]
async fn search_and_filters_run_on_the_server_and_count_live_matches_instead_of_hiding_them() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.put_item(show, 3, 1).await;
    let id = |v: Value| v["comments"][0]["id"].as_str().unwrap().to_owned();
    let ann_jacket = id(app.comment(show, "ann", "Blue JACKET please").await);
    let bob_claim = id(app.comment(show, "bob", "sold 3").await);
    let cem_wait = id(app.comment(show, "cem", "sold 3").await);
    let bob_again = id(app.comment(show, "bob", "sold 3").await);
    let dan_jacket = id(app.comment(show, "dan", "is the jacket lined?").await);
    let ann_wool = id(app.comment(show, "ann", "100% wool_mix?").await);
    // Newer chatter pushes those out of the snapshot: only the server can find them.
    let filler: Vec<Value> = (0..250)
        .map(|i| {
            json!({"external_id": format!("filler-{i}"), "author_id": "zed", "author_name": "Zed", "text": format!("filler {i}")})
        })
        .collect();
    let r = app.post_comments(show, &json!(filler)).await;
    assert!(r.status().is_success());

    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    assert!(
        !browser.comment_ids().await.contains(&ann_jacket),
        "the test needs the jacket comments outside the live list"
    );
    // `/` focuses the search box.
    browser.type_into("feed-scroll", "/").await;
    assert_eq!(
        browser.js("return document.activeElement.id;").await,
        json!("filter-q")
    );
    browser.type_into("filter-q", "jacket").await;
    wait_results(
        &browser,
        "the two jacket comments",
        &[&dan_jacket, &ann_jacket],
    )
    .await;
    assert_eq!(
        browser
            .js("return document.getElementById('feed').hidden;")
            .await,
        json!(true)
    );

    // Live arrivals: a match is counted, not slipped in; a non-match changes nothing.
    let eve = id(app.comment(show, "eve", "another JACKET question").await);
    browser
        .wait_for(
            "1 new matching",
            Duration::from_secs(5),
            "document.getElementById('filter-new').textContent.startsWith('1 new matching') \
             && !document.getElementById('filter-new').hidden",
        )
        .await;
    let hello = id(app.comment(show, "fay", "hello").await);
    browser
        .wait_for(
            "the live list to get hello",
            Duration::from_secs(5),
            &format!(
                "document.querySelector('#feed > li')?.dataset.id === {}",
                js_str(&hello)
            ),
        )
        .await;
    assert_eq!(
        result_ids(&browser).await,
        vec![dan_jacket.clone(), ann_jacket.clone()]
    );
    assert!(browser
        .js("return document.getElementById('filter-new').textContent;")
        .await
        .as_str()
        .unwrap()
        .starts_with("1 new matching"));
    browser
        .screenshot("console-search-new-matching.png", 1280, 900)
        .await;
    browser.click_id("filter-new").await;
    wait_results(
        &browser,
        "three jacket comments",
        &[&eve, &dan_jacket, &ann_jacket],
    )
    .await;

    // Clearing returns to the live feed, newest on top.
    browser.click_id("filter-clear").await;
    browser
        .wait_for(
            "the live feed back",
            Duration::from_secs(5),
            &format!(
                "!document.getElementById('feed').hidden && document.getElementById('results').hidden \
                 && document.querySelector('#feed > li')?.dataset.id === {}",
                js_str(&hello)
            ),
        )
        .await;

    // By buyer; then claims only; then the sold comments that claimed nothing.
    browser.type_into("filter-buyer", "bob").await;
    wait_results(&browser, "bob's comments", &[&bob_again, &bob_claim]).await;
    browser.click_id("filter-claims").await;
    wait_results(&browser, "bob's claim", &[&bob_claim]).await;
    browser.click_id("filter-clear").await;
    browser.click_id("filter-claims").await;
    wait_results(&browser, "every claim", &[&cem_wait, &bob_claim]).await;
    browser.click_id("filter-unclaimed").await;
    wait_results(
        &browser,
        "the sold comment that claimed nothing",
        &[&bob_again],
    )
    .await;
    assert_eq!(
        browser
            .js("return document.getElementById('filter-claims').checked;")
            .await,
        json!(false),
        "the toggles are one choice"
    );
    browser
        .screenshot("console-search-unclaimed-sold.png", 1280, 900)
        .await;
    browser.click_id("filter-clear").await;
    // `%` is literal.
    browser.type_into("filter-q", "0% wool_").await;
    wait_results(&browser, "the literal match", &[&ann_wool]).await;
    browser.quit().await;
}

#[tokio::test]
async fn the_buyers_pane_totals_carts_marks_one_paid_after_a_confirmation_and_exports_csv() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    for (n, price, quantity) in [(1, 4500, 1), (2, 1899, 2)] {
        let body =
            json!({"title": format!("Item {n}"), "price_cents": price, "quantity": quantity});
        app.send_json(
            reqwest::Method::PUT,
            &format!("/api/shows/{show}/items/{n}"),
            &body,
        )
        .await;
    }
    let mut claims = Vec::new();
    for (who, text) in [
        ("ann", "sold 1"),
        ("ann", "sold 2"),
        ("bob", "sold 1"),
        ("cem", "sold 1"),
        ("bob", "sold 2"),
    ] {
        let r = app.comment(show, who, text).await;
        claims.push(r["claims"][0]["id"].as_str().unwrap().to_owned());
    }
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    let cart = |buyer: &str, rest: &str| {
        format!(
            "document.querySelector('#buyers li.cart[data-buyer={}] {rest}')",
            js_str(buyer)
        )
    };
    browser
        .wait_for(
            "ann's total due",
            Duration::from_secs(5),
            &format!("{}?.textContent === 'Due $63.99'", cart("ann", ".cart-due")),
        )
        .await;
    browser
        .wait_for(
            "cem second in line",
            Duration::from_secs(5),
            &format!(
                "{}?.textContent === 'place 2 in line'",
                cart("cem", ".cart-wait .place")
            ),
        )
        .await;
    // Bob leaves item 1's line: cem is next, live.
    app.patch_claim(&claims[2], "released").await;
    browser
        .wait_for(
            "cem next in line",
            Duration::from_secs(5),
            &format!(
                "{}?.textContent === 'place 1 in line'",
                cart("cem", ".cart-wait .place")
            ),
        )
        .await;
    browser.screenshot("console-buyers.png", 1280, 1400).await;

    // Mark cart paid asks first; Escape says no.
    let pay = format!("button[data-action=pay][data-buyer={}]", js_str("ann"));
    browser
        .client
        .find(Locator::Css(&pay))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            "the confirmation dialog",
            Duration::from_secs(2),
            "document.getElementById('confirm').open && document.activeElement.id === 'confirm-ok'",
        )
        .await;
    browser
        .screenshot("console-buyers-confirm.png", 1280, 900)
        .await;
    browser.type_into("confirm-ok", "\u{E00C}").await;
    browser
        .wait_for(
            "the dialog closed",
            Duration::from_secs(2),
            "!document.getElementById('confirm').open",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let statuses = |rows: Vec<Value>| {
        rows.iter()
            .filter(|c| c["buyer_id"] == "ann")
            .map(|c| c["status"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        statuses(app.claims(show).await),
        vec!["claimed", "claimed"],
        "cancelled"
    );
    // Again, confirmed with the keyboard alone.
    browser
        .client
        .find(Locator::Css(&pay))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    browser
        .wait_for(
            "the confirmation dialog",
            Duration::from_secs(2),
            "document.getElementById('confirm').open && document.activeElement.id === 'confirm-ok'",
        )
        .await;
    browser.type_into("confirm-ok", "\u{E007}").await;
    browser
        .wait_for(
            "ann paid on the board and in her cart",
            Duration::from_secs(5),
            &format!(
                "document.querySelector('#board [data-claim={}]')?.dataset.status === 'paid' \
                 && {}?.textContent === 'Due $0.00' && !{}",
                js_str(&claims[0]),
                cart("ann", ".cart-due"),
                cart("ann", "button[data-action=pay]"),
            ),
        )
        .await;
    assert_eq!(statuses(app.claims(show).await), vec!["paid", "paid"]);

    // carts.csv: fetched with the header, handed over as a Blob URL.
    browser
        .js("window.__csv = null; window.__csvUrl = null; const real = URL.createObjectURL.bind(URL); \
             URL.createObjectURL = (b) => { b.text().then(t => { window.__csv = t; }); const u = real(b); window.__csvUrl = u; return u; }; \
             return 0;")
        .await;
    browser.click_id("carts-csv").await;
    browser
        .wait_for(
            "the CSV blob",
            Duration::from_secs(5),
            "window.__csv !== null",
        )
        .await;
    let got = browser
        .js("return [window.__csv, window.__csvUrl, performance.getEntriesByType('resource').map(e => e.name)];")
        .await;
    let expected = app
        .get(&format!("/api/shows/{show}/carts.csv"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(got[0].as_str().unwrap(), expected);
    assert!(got[1].as_str().unwrap().starts_with("blob:"), "{got}");
    for url in got[2].as_array().unwrap() {
        assert!(
            !url.as_str().unwrap().contains(&app.token),
            "a token in an address: {url}"
        );
    }
    browser.quit().await;
}

#[tokio::test]
async fn a_confirmed_release_can_be_undone_while_its_unit_is_free_and_ending_a_show_asks_first() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    assert_eq!(app.put_item(show, 3, 1).await.status(), 201);
    let ann = app.comment(show, "ann", "sold 3").await["claims"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    browser
        .client
        .find(Locator::Css(&format!(
            "button[data-action=released][data-claim={}]",
            js_str(&ann)
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .answer_dialog("Release ann's claim on item 3?", true)
        .await;
    let status = |want: &'static str| {
        format!(
            "document.querySelector('#board [data-claim={}]')?.dataset.status === '{want}'",
            js_str(&ann)
        )
    };
    browser
        .wait_for("ann released", Duration::from_secs(5), &status("released"))
        .await;
    browser
        .screenshot("console-undo-release.png", 1280, 900)
        .await;
    // Nobody waits for item 3: Undo gives Ann her unit back, shown from the feed.
    browser.click_id("undo-button").await;
    browser
        .wait_for(
            "ann claimed again",
            Duration::from_secs(5),
            &status("claimed"),
        )
        .await;
    let claims = app.claims(show).await;
    assert_eq!(
        claims.iter().find(|c| c["id"] == ann.as_str()).unwrap()["status"],
        "claimed"
    );

    // End show asks first; cancelled, the show stays live; confirmed, it ends.
    browser.click_id("end-show").await;
    browser.answer_dialog("End the show?", false).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let live: Value = app
        .get(&format!("/api/shows/{show}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["status"], "live", "a cancelled end changes nothing");
    browser.click_id("end-show").await;
    browser.answer_dialog("End the show?", true).await;
    for _ in 0..50 {
        let now: Value = app
            .get(&format!("/api/shows/{show}"))
            .await
            .json()
            .await
            .unwrap();
        if now["status"] == "ended" {
            browser.quit().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the confirmed end did not end the show");
}
