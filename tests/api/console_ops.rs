//! The operator console for a whole show, in a real headless Chromium: counts that agree
//! with `show_summary`, an outage nobody can miss, a show that does not exist, an item
//! form that belongs to one show, prices in the show's currency, dark mode and contrast,
//! the phone layout, keyboard shortcuts and new-claim alerts. Screenshots land in
//! target/screenshots/.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::console::{assert_page_matches_database, insert_sql_comment, restart_on_same_port};
use crate::helpers::browser::{Browser, Cdp};
use crate::helpers::*;

/// The id of the claim a `sold N` comment made.
fn claim_id(answer: &Value) -> String {
    answer["claims"][0]["id"].as_str().unwrap().to_owned()
}

/// A show with one claim of every status: item 1 (one unit) claimed by ann with bob
/// waitlisted, item 2 paid by cy, item 3 released by dan; plus chatter.
async fn show_with_every_claim_status(app: &TestApp) -> (Uuid, Vec<String>) {
    let show = app.create_show("live").await;
    for n in 1..=3 {
        assert_eq!(app.put_item(show, n, 1).await.status(), 201);
    }
    let mut claims = Vec::new();
    for (who, text) in [
        ("ann", "sold 1"),
        ("bob", "sold 1"),
        ("cy", "sold 2"),
        ("dan", "sold 3"),
    ] {
        claims.push(claim_id(&app.comment(show, who, text).await));
    }
    app.comment(show, "eve", "love the colours").await;
    assert_eq!(app.patch_claim(&claims[2], "paid").await.status(), 200);
    assert_eq!(app.patch_claim(&claims[3], "released").await.status(), 200);
    (show, claims)
}

/// `show_summary`'s counts of `show`, named as the console's counters are.
async fn summary_counts(app: &TestApp, show: Uuid) -> Vec<(&'static str, i64)> {
    let row = app
        .sql()
        .await
        .query_one(
            "select comments, claims, units_sold, waitlisted, paid, released \
             from show_summary where show_id = $1",
            &[&show],
        )
        .await
        .unwrap();
    [
        "comments",
        "claims",
        "sold",
        "waitlisted",
        "paid",
        "released",
    ]
    .into_iter()
    .enumerate()
    .map(|(i, name)| (name, row.get::<_, i64>(i)))
    .collect()
}

/// Waits until every counter of the open show reads what `show_summary` says.
async fn wait_counters_match_summary(browser: &Browser, app: &TestApp, show: Uuid) {
    let counts = summary_counts(app, show).await;
    let script = counts
        .iter()
        .map(|(name, n)| format!("document.getElementById('count-{name}').textContent === '{n}'"))
        .collect::<Vec<_>>()
        .join(" && ");
    browser
        .wait_for(
            &format!("the counters to read show_summary's {counts:?}"),
            Duration::from_secs(10),
            &script,
        )
        .await;
}

#[tokio::test]
async fn the_console_and_show_summary_count_every_claim_the_same_way() {
    let app = spawn_app().await;
    let (show, claims) = show_with_every_claim_status(&app).await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    wait_counters_match_summary(&browser, &app, show).await;
    // Released claims count as claims made: 4 claims, 2 units sold (ann, cy).
    let counts = summary_counts(&app, show).await;
    assert_eq!(
        counts,
        [
            ("comments", 5),
            ("claims", 4),
            ("sold", 2),
            ("waitlisted", 1),
            ("paid", 1),
            ("released", 1)
        ]
    );

    // A release promotes bob; an analyst's SQL deletes the released claim: both agree still.
    assert_eq!(app.patch_claim(&claims[0], "released").await.status(), 200);
    app.sql()
        .await
        .execute(
            "delete from claims where id = $1::text::uuid",
            &[&claims[3]],
        )
        .await
        .unwrap();
    wait_counters_match_summary(&browser, &app, show).await;
    assert_eq!(
        summary_counts(&app, show).await[1..],
        [
            ("claims", 3),
            ("sold", 2),
            ("waitlisted", 0),
            ("paid", 1),
            ("released", 1)
        ]
    );

    // The show list counts claims the same way.
    browser
        .client
        .goto(&format!("{}/", app.address))
        .await
        .unwrap();
    browser
        .wait_for(
            "the show list's claim count",
            Duration::from_secs(10),
            &format!(
                "document.querySelector('#show-list li[data-show=\"{show}\"] .counts')?.dataset.claims === '3'"
            ),
        )
        .await;
    browser.quit().await;
}

/// The attempt number the connection indicator shows (0: none).
async fn attempt(browser: &Browser) -> u64 {
    browser
        .js("const m = /attempt (\\d+)/.exec(document.getElementById('conn').textContent); return m ? Number(m[1]) : 0;")
        .await
        .as_u64()
        .unwrap()
}

/// Every write control on the page: paused ones are disabled and say why.
const WRITE_CONTROLS: &str =
    "[...document.querySelectorAll('[data-write]')].filter(b => b.offsetParent !== null)";

#[tokio::test]
async fn an_outage_marks_the_data_stale_pauses_actions_offers_retry_now_and_recovers_exactly() {
    let app = spawn_app().await;
    let (show, _) = show_with_every_claim_status(&app).await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    browser
        .wait_for(
            "the board's buttons",
            Duration::from_secs(5),
            "document.querySelectorAll('#board button[data-action]').length >= 2",
        )
        .await;
    let (address, database, secret) = (app.address.clone(), app.database.clone(), app.secret());
    app.stop().await;

    // Within 2 s of the service stopping: the banner, stale panes, every action paused.
    browser
        .wait_for(
            "the outage banner",
            Duration::from_secs(2),
            "!document.getElementById('outage').hidden && document.body.classList.contains('stale')",
        )
        .await;
    let paused = browser
        .js(&format!(
            "const c = {WRITE_CONTROLS}; return [c.length, c.filter(b => b.disabled && b.title.startsWith('Paused:')).length];"
        ))
        .await;
    assert!(
        paused[0].as_u64().unwrap() >= 4,
        "End show, Save item and the board's buttons at least: {paused}"
    );
    assert_eq!(
        paused[0], paused[1],
        "every visible action is paused: {paused}"
    );
    let last = browser
        .js("return document.getElementById('outage-last').textContent;")
        .await;
    let last = last.as_str().unwrap();
    assert!(
        regex_like_last_update(last),
        "the banner says when the data was last current: {last:?}"
    );
    browser.screenshot("console-outage.png", 1280, 900).await;
    browser.screenshot("console-outage-390.png", 390, 844).await;
    browser.resize_viewport(1280, 900).await;

    // Retry now: an attempt before the backoff's own next try.
    browser
        .wait_for(
            "a next try at least 2.5 s away",
            Duration::from_secs(30),
            "Number(document.getElementById('outage').dataset.nextAt || 0) - Date.now() > 2500",
        )
        .await;
    let before = attempt(&browser).await;
    browser
        .js("window.nextTryBefore = Number(document.getElementById('outage').dataset.nextAt); return 0;")
        .await;
    browser.click_id("retry-now").await;
    browser
        .wait_for(
            "Retry now to try at once",
            Duration::from_secs(2),
            &format!(
                "/attempt (\\d+)/.test(document.getElementById('conn').textContent) \
                 && Number(/attempt (\\d+)/.exec(document.getElementById('conn').textContent)[1]) > {before} \
                 && Date.now() < window.nextTryBefore"
            ),
        )
        .await;

    // Written while no node runs; the page gets each once, in order, on recovery.
    let sql = connect(&connection_string(&database)).await;
    for i in 0..5 {
        insert_sql_comment(&sql, show, &format!("while the node is down {i}")).await;
    }
    let app = restart_on_same_port(&database, &secret, &address).await;
    // The operator presses Retry now unless the page got there on its own already.
    browser
        .js("const b = document.getElementById('retry-now'); if (b.offsetParent) b.click(); return 0;")
        .await;
    browser.wait_live().await;
    browser
        .wait_for(
            "the banner gone and the actions back",
            Duration::from_secs(3),
            &format!(
                "document.getElementById('outage').hidden && !document.body.classList.contains('stale') \
                 && {WRITE_CONTROLS}.every(b => !b.disabled)"
            ),
        )
        .await;
    assert_page_matches_database(&browser, &app, show).await;
    browser.quit().await;
}

/// "Last update hh:mm:ss (n s ago)." in the operator's locale (digits and separators).
fn regex_like_last_update(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("Last update ") else {
        return false;
    };
    let Some((time, ago)) = rest.split_once(" (") else {
        return false;
    };
    time.chars().filter(char::is_ascii_digit).count() >= 6
        && ago.ends_with(" s ago).")
        && ago.trim_end_matches(" s ago).").parse::<u64>().is_ok()
}

#[tokio::test]
async fn an_unknown_show_says_it_is_not_found_instead_of_loading_forever() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_show(&app, Uuid::new_v4(), &app.token).await;
    browser
        .wait_for(
            "the page to say the show is not found",
            Duration::from_secs(10),
            "document.getElementById('show-title').textContent === 'Show not found' \
             && document.title.startsWith('Show not found') \
             && /link may be wrong/.test(document.getElementById('feed-empty').textContent)",
        )
        .await;
    browser
        .screenshot("console-unknown-show.png", 1280, 700)
        .await;
    browser.quit().await;
}

#[tokio::test]
async fn the_item_form_belongs_to_one_show_says_what_it_saved_and_prices_follow_the_currency() {
    let app = spawn_app().await;
    let first = app.create_show("live").await;
    let second = app.create_show("live").await;
    let patch = json!({"currency": "EUR"});
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/shows/{second}"),
            &patch,
        )
        .await;
    assert_eq!(r.status(), 200);
    let browser = Browser::start().await;
    browser.open_show(&app, first, &app.token).await;
    browser.wait_live().await;
    for (field, value) in [
        ("item-number", "7"),
        ("item-title", "Typed for the first show"),
        ("item-price", "9.99"),
    ] {
        browser.type_into(field, value).await;
    }

    // Another show: the half-typed item stays behind, and prices are in euros.
    browser
        .js(&format!("location.hash = 'show={second}'; return 0;"))
        .await;
    browser.wait_live().await;
    browser
        .wait_for(
            "an empty item form labelled in EUR",
            Duration::from_secs(5),
            "['item-number', 'item-title', 'item-price', 'item-quantity'].every(id => document.getElementById(id).value === '') \
             && document.getElementById('item-currency').textContent === 'EUR'",
        )
        .await;
    for (field, value) in [
        ("item-number", "7"),
        ("item-title", "Silk scarf"),
        ("item-price", "45.5"),
        ("item-quantity", "2"),
    ] {
        browser.type_into(field, value).await;
    }
    browser.click_id("item-save").await;
    browser
        .wait_for(
            "the form to say what it saved, and the row in euros",
            Duration::from_secs(5),
            "/Saved item #7 \"Silk scarf\": €45.50, quantity 2\\./.test(document.getElementById('item-saved').textContent) \
             && document.querySelector('#items tr[data-item=\"7\"] td.num')?.textContent === '€45.50'",
        )
        .await;
    browser
        .screenshot("console-item-saved.png", 1280, 800)
        .await;
    let items = |show: Uuid| {
        let app = &app;
        async move {
            let body: Value = app
                .get(&format!("/api/shows/{show}/items"))
                .await
                .json()
                .await
                .unwrap();
            body["items"].as_array().cloned().unwrap()
        }
    };
    assert_eq!(
        items(first).await.len(),
        0,
        "nothing was saved to the first show"
    );
    let saved = items(second).await;
    assert_eq!((saved.len(), &saved[0]["price_cents"]), (1, &json!(4550)));

    // A currency without minor units: JPY prices are whole yen.
    let patch = json!({"currency": "JPY"});
    app.send_json(
        reqwest::Method::PATCH,
        &format!("/api/shows/{second}"),
        &patch,
    )
    .await;
    browser
        .wait_for(
            "the row re-priced in yen",
            Duration::from_secs(5),
            "/^[¥￥]4,550$/.test(document.querySelector('#items tr[data-item=\"7\"] td.num')?.textContent) \
             && document.getElementById('item-price').step === '1'",
        )
        .await;
    browser.quit().await;
}

/// Elements whose own text fails WCAG AA contrast against the background they sit on:
/// 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
const CONTRAST_FAILURES: &str = r#"
const lum = (c) => {
  const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const rgba = (s) => (s.match(/[\d.]+/g) || []).map(Number);
const background = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
  }
  return [255, 255, 255];
};
const failures = [];
let checked = 0;
for (const el of document.querySelectorAll('body *')) {
  if (!el.offsetParent && el.tagName !== 'DIALOG') continue;
  if (el.closest('[hidden], .sr-only, dialog:not([open])') || el.disabled) continue;
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const style = getComputedStyle(el);
  const fg = rgba(style.color).slice(0, 3);
  const [l1, l2] = [lum(fg), lum(background(el))].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  checked += 1;
  if (ratio < (large ? 3 : 4.5)) failures.push(`${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
}
return [checked, failures];
"#;

async fn assert_contrast(browser: &Browser, theme: &str) {
    let result = browser.js(CONTRAST_FAILURES).await;
    let checked = result[0].as_u64().unwrap();
    assert!(
        checked > 40,
        "{theme}: only {checked} text elements checked"
    );
    assert_eq!(result[1], json!([]), "{theme}: text below WCAG AA contrast");
}

#[tokio::test]
async fn dark_mode_follows_the_system_and_the_toggle_and_both_themes_meet_wcag_aa() {
    let app = spawn_app().await;
    let (show, _) = show_with_every_claim_status(&app).await;
    app.comment(show, "fay", "sold 1").await; // bob's waitlist place, now 2
    app.comment(show, "ann", "sold 1").await; // already holds it: a refused label
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    browser
        .wait_for(
            "the board and the labels",
            Duration::from_secs(5),
            "document.querySelectorAll('#board .group').length === 3 && document.querySelector('.c-result.out-refused')",
        )
        .await;
    // Let the arrival highlights fade: contrast is measured on the settled page.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let theme = "return document.documentElement.dataset.theme;";
    assert_eq!(browser.js(theme).await, json!("light"));
    assert_contrast(&browser, "light").await;

    // The system says dark: the page follows, live.
    browser
        .client
        .issue_cmd(Cdp {
            cmd: "Emulation.setEmulatedMedia",
            params: json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        })
        .await
        .unwrap();
    browser
        .wait_for(
            "the dark theme",
            Duration::from_secs(3),
            "document.documentElement.dataset.theme === 'dark'",
        )
        .await;
    assert_contrast(&browser, "dark").await;
    browser.screenshot("console-dark-1280.png", 1280, 900).await;
    browser.screenshot("console-dark-390.png", 390, 844).await;
    browser.resize_viewport(1280, 900).await;

    // The toggle: auto → dark → light, kept across a reload.
    browser.click_id("theme-toggle").await;
    browser.click_id("theme-toggle").await;
    assert_eq!(browser.js(theme).await, json!("light"));
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    assert_eq!(
        browser.js(theme).await,
        json!("light"),
        "the choice survives a reload"
    );
    let label = browser
        .js("return document.getElementById('theme-toggle').textContent;")
        .await;
    assert_eq!(label, json!("Theme: light"));
    browser.quit().await;
}

#[tokio::test]
async fn at_390_px_the_panes_are_tabs_the_page_is_the_one_scroll_container_and_new_claims_count_on_the_claims_tab(
) {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    for i in 0..60 {
        app.comment(show, &format!("buyer{i}"), &format!("chatter {i}"))
            .await;
    }
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.resize_viewport(390, 844).await;
    browser.wait_live().await;
    let shown_panes = "return [...document.querySelectorAll('#console .pane')].filter(p => p.offsetParent !== null).map(p => p.dataset.pane);";
    assert_eq!(browser.js(shown_panes).await, json!(["feed"]));
    // No element inside the page scrolls on its own: the page does.
    let inner_scrollers = browser
        .js("return [...document.querySelectorAll('#main *')].filter(e => { const s = getComputedStyle(e); \
             return /(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1; }).map(e => e.id || e.className);")
        .await;
    assert_eq!(inner_scrollers, json!([]));
    let page = browser
        .js("return [document.documentElement.scrollHeight > window.innerHeight, document.documentElement.scrollWidth - window.innerWidth];")
        .await;
    assert_eq!(
        page,
        json!([true, 0]),
        "the page scrolls down, never sideways"
    );

    // A claim while the comments tab is shown counts on the Claims tab.
    app.comment(show, "ann", "sold 4").await;
    browser
        .wait_for(
            "a count on the Claims tab",
            Duration::from_secs(5),
            "!document.getElementById('tab-board-new').hidden && document.getElementById('tab-board-new').textContent === '1'",
        )
        .await;
    browser.screenshot("console-390-tabs.png", 390, 844).await;
    // Arrow keys move between tabs, as the ARIA tabs pattern has it.
    browser.type_into("tab-feed", "\u{E014}").await; // ArrowRight
    assert_eq!(browser.js(shown_panes).await, json!(["board"]));
    let state = browser
        .js("return [document.activeElement.id, document.getElementById('tab-board').getAttribute('aria-selected'), document.getElementById('tab-board-new').hidden];")
        .await;
    assert_eq!(state, json!(["tab-board", "true", true]));
    browser.quit().await;
}

#[tokio::test]
async fn keyboard_shortcuts_search_select_release_and_pay_and_a_new_claim_flashes_and_sounds() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    assert_eq!(app.put_item(show, 1, 1).await.status(), 201);
    assert_eq!(app.put_item(show, 2, 1).await.status(), 201);
    app.comment(show, "ann", "sold 1").await;
    app.comment(show, "bob", "sold 1").await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    browser
        .wait_for(
            "two claims on the board",
            Duration::from_secs(5),
            "document.querySelectorAll('#board li.claim').length === 2",
        )
        .await;

    // ? opens the list of shortcuts; Escape closes it.
    browser.type_into("main", "?").await;
    browser
        .wait_for(
            "the shortcuts dialog",
            Duration::from_secs(2),
            "document.getElementById('help').open",
        )
        .await;
    browser.type_into("help-close", "\u{E00C}").await;
    browser
        .wait_for(
            "the dialog closed",
            Duration::from_secs(2),
            "!document.getElementById('help').open",
        )
        .await;
    // / goes to the search box.
    browser.type_into("main", "/").await;
    let focused = browser.js("return document.activeElement.id;").await;
    assert_eq!(focused, json!("filter-q"));

    // j selects ann's claim (focus visible), r asks, Enter releases: bob is promoted.
    browser.type_into("main", "j").await;
    let selected = browser
        .js("const li = document.activeElement; return [li.matches('li.claim.selected'), li.querySelector('.buyer')?.textContent, getComputedStyle(li).outlineStyle];")
        .await;
    assert_eq!((&selected[0], &selected[1]), (&json!(true), &json!("ann")));
    assert_ne!(selected[2], json!("none"), "the selected claim shows focus");
    browser.type_into("main", "r").await;
    browser
        .answer_dialog("Release ann's claim on item 1", true)
        .await;
    browser
        .wait_for(
            "bob promoted",
            Duration::from_secs(5),
            "[...document.querySelectorAll('#board li.claim')].some(li => li.dataset.status === 'claimed' && li.querySelector('.buyer').textContent === 'bob')",
        )
        .await;
    // ann's row is gone (released): k lands on bob's, the board's only claim row; p pays it.
    browser.type_into("main", "k").await;
    browser.type_into("main", "p").await;
    browser
        .answer_dialog("Mark bob's claim on item 1 paid", true)
        .await;
    browser
        .wait_for(
            "bob paid",
            Duration::from_secs(5),
            "document.querySelector('#board li.claim')?.dataset.status === 'paid'",
        )
        .await;
    let claims = app.claims(show).await;
    let status_of = |who: &str| {
        claims
            .iter()
            .find(|c| c["buyer_id"] == who)
            .map(|c| c["status"].clone())
    };
    assert_eq!(
        (status_of("ann"), status_of("bob")),
        (Some(json!("released")), Some(json!("paid")))
    );

    // Sound on, then a new claim: its group flashes, a tone plays, screen readers hear it.
    browser.click_id("sound-toggle").await;
    let pressed = browser
        .js("return [document.getElementById('sound-toggle').getAttribute('aria-pressed'), Number(document.body.dataset.claimAlerts || 0)];")
        .await;
    assert_eq!(pressed[0], json!("true"));
    let alerts_before = pressed[1].as_u64().unwrap();
    let beeps = "return Number(document.body.dataset.beeps || 0);";
    let beeps_before = browser.js(beeps).await.as_u64().unwrap();
    app.comment(show, "cy", "sold 2").await;
    browser
        .wait_for(
            "the new claim's flash, tone and announcement",
            Duration::from_secs(5),
            &format!(
                "document.querySelector('#board .group[data-item=\"2\"]')?.classList.contains('new-claim') \
                 && Number(document.body.dataset.claimAlerts) === {} \
                 && /cy claimed item 2/.test(document.getElementById('announcer').textContent)",
                alerts_before + 1
            ),
        )
        .await;
    assert_eq!(
        browser.js(beeps).await.as_u64().unwrap(),
        beeps_before + 1,
        "the opt-in tone played for the new claim"
    );
    browser.quit().await;
}

#[tokio::test]
async fn going_offline_says_so_at_once_and_coming_back_online_reconnects_without_waiting() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let browser = Browser::start().await;
    browser.open_show(&app, show, &app.token).await;
    browser.wait_live().await;
    let network = |offline: bool| Cdp {
        cmd: "Network.emulateNetworkConditions",
        params: json!({"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    };
    browser
        .client
        .issue_cmd(Cdp {
            cmd: "Network.enable",
            params: json!({}),
        })
        .await
        .unwrap();
    browser.client.issue_cmd(network(true)).await.unwrap();
    browser
        .wait_for(
            "the banner to say the device is offline",
            Duration::from_secs(3),
            "!document.getElementById('outage').hidden \
             && /Offline: waiting for the network/.test(document.getElementById('outage-state').textContent)",
        )
        .await;
    app.comment(show, "ann", "written while this browser was offline")
        .await;
    browser.client.issue_cmd(network(false)).await.unwrap();
    browser.wait_live().await;
    browser
        .wait_for(
            "the comment written meanwhile",
            Duration::from_secs(5),
            "document.getElementById('outage').hidden \
             && document.getElementById('feed').textContent.includes('written while this browser was offline')",
        )
        .await;
    browser.quit().await;
}
