//! The OpenAPI document: the committed `docs/openapi.json` is the served one, and the
//! document and the router agree on every path and method.

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

async fn served_document(app: &TestApp) -> Value {
    let r = app
        .api
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    r.json().await.unwrap()
}

/// Every operation of the document: (path, method, operation).
fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
    let paths = doc["paths"].as_object().unwrap();
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(move |m| Some((path.as_str(), *m, item.get(*m)?)))
        })
        .collect()
}

/// What a local `$ref` (`#/components/...`) names in the document, if anything.
fn resolve<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

#[tokio::test]
async fn the_committed_document_is_the_served_one() {
    let app = spawn_app().await;
    let served = served_document(&app).await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("docs/openapi.json exists"))
            .expect("docs/openapi.json is JSON");
    assert!(
        served == committed,
        "docs/openapi.json is stale: run `cargo run -q -- openapi > docs/openapi.json`"
    );
    assert_eq!(served["openapi"], "3.1.0");
}

/// A concrete URL for a documented path: ids become fresh UUIDs, the item number 101.
fn concrete(path: &str) -> String {
    path.replace("{id}", &Uuid::new_v4().to_string())
        .replace("{number}", "101")
}

/// Whether the router itself refused the request (no route, or not this method), as
/// opposed to a handler answering it.
async fn refused_by_router(r: reqwest::Response) -> Option<String> {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    match (status, code.as_str()) {
        (405, _) => Some(code),
        (404, _) if message == "route not found" => Some(code),
        _ => None,
    }
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_every_other_method_is_not() {
    let app = spawn_app().await;
    let doc = served_document(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for method in METHODS {
            let documented = item.get(method).is_some();
            let url = app.url(&concrete(path));
            let mut req = app
                .api
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    url,
                )
                .bearer_auth(&app.token);
            if method != "get" {
                req = req.json(&json!({}));
            }
            let refused = refused_by_router(req.send().await.unwrap()).await;
            if documented {
                operations += 1;
                assert_eq!(
                    refused, None,
                    "{method} {path} is documented but not routed"
                );
            } else {
                assert_eq!(
                    refused.as_deref(),
                    Some("method_not_allowed"),
                    "{method} {path} is routed (or not 405) but not documented"
                );
            }
        }
    }
    assert!(operations >= 39, "only {operations} operations");
}

#[tokio::test]
async fn the_reference_page_is_served_offline_under_the_consoles_policy() {
    let app = spawn_app().await;
    for (path, kind) in [
        ("/api/docs", "text/html"),
        ("/api/docs/docs.js", "text/javascript"),
        ("/api/docs/docs.css", "text/css"),
    ] {
        let r = app.api.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        assert_eq!(
            h["content-security-policy"],
            showfeed::http::console::CONTENT_SECURITY_POLICY
        );
        let text = r.text().await.unwrap();
        assert!(
            !text.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
    }
}

/// Links name their target by `operationId` (a generator or Schemathesis's stateful mode
/// refuses any other spelling), the target exists, and it takes the parameter the link sets.
#[tokio::test]
async fn every_link_names_an_operation_that_takes_its_parameters() {
    let app = spawn_app().await;
    let doc = served_document(&app).await;
    let all = operations(&doc);
    let by_id: std::collections::HashMap<&str, &Value> = all
        .iter()
        .filter_map(|(_, _, op)| Some((op["operationId"].as_str()?, *op)))
        .collect();
    let mut links = 0;
    for (_, _, op) in &all {
        let Some(responses) = op["responses"].as_object() else {
            continue;
        };
        for (name, link) in responses
            .values()
            .filter_map(|r| r["links"].as_object())
            .flatten()
        {
            links += 1;
            let target = link["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("link {name} has no operationId: {link}"));
            let target = by_id
                .get(target)
                .unwrap_or_else(|| panic!("link {name}: no operation {target}"));
            for parameter in link["parameters"].as_object().unwrap().keys() {
                let takes = target["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == *parameter));
                assert!(takes, "link {name}: the target takes no {parameter}");
            }
        }
    }
    assert!(links >= 9, "only {links} links");
}

/// Every `$ref` string anywhere in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                found.push(r.clone());
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

/// A `$ref` to nothing makes every generator and validator refuse the document; a schema
/// reached only through a hand-built one (the stream's `contentSchema`) is easy to drop.
#[tokio::test]
async fn every_ref_names_a_part_of_the_document() {
    let app = spawn_app().await;
    let doc = served_document(&app).await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50, "only {} refs", found.len());
    for r in found {
        assert!(r.starts_with('#'), "{r} is not local");
        assert!(resolve(&doc, &r).is_some(), "{r} names nothing");
    }
}

/// The keys a schema of the document lets an object have, and the ones it requires.
fn keys_of(doc: &Value, reference: &Value) -> (Vec<String>, Vec<String>) {
    let reference = reference["$ref"].as_str().expect("a $ref");
    let schema = resolve(doc, reference).expect("the $ref resolves");
    let properties = schema["properties"].as_object().unwrap().keys().cloned();
    let required = schema["required"].as_array().unwrap().iter();
    (
        properties.collect(),
        required.map(|k| k.as_str().unwrap().to_owned()).collect(),
    )
}

/// An EventSource hands `data` over as a string: the document says so (Open API 3.2's
/// `contentMediaType` + `contentSchema`, which Schemathesis validates each event by), and
/// a real stream's `initial` and change events carry JSON with the keys those schemas name.
#[tokio::test]
async fn stream_events_are_documented_as_the_wire_carries_them() {
    let app = spawn_app().await;
    let doc = served_document(&app).await;
    let mut data_schema = std::collections::HashMap::new();
    for variant in doc["components"]["schemas"]["StreamEvent"]["oneOf"]
        .as_array()
        .unwrap()
    {
        let name = variant["properties"]["event"]["enum"][0].as_str().unwrap();
        let data = &variant["properties"]["data"];
        assert_eq!(data["type"], "string", "{name}: {data}");
        assert_eq!(data["contentMediaType"], "application/json", "{name}");
        data_schema.insert(name.to_owned(), data["contentSchema"].clone());
    }
    assert_eq!(data_schema.len(), 12, "{:?}", data_schema.keys());

    let show = app.create_show("live").await;
    app.comment(show, "ann", "hello").await;
    let mut stream = app.stream(show, None).await;
    let initial = stream.next().await;
    app.comment(show, "bob", "sold 101").await;
    let change = stream.next().await;
    for event in [initial, change] {
        let schema = &data_schema[&event.event];
        let (allowed, required) = keys_of(&doc, schema);
        let keys: Vec<&String> = event.data.as_object().unwrap().keys().collect();
        for key in &keys {
            assert!(
                allowed.contains(key),
                "{}: {key} is undocumented",
                event.event
            );
        }
        for key in &required {
            assert!(keys.contains(&key), "{}: no {key}", event.event);
        }
    }
}

/// The reference page in Chromium: every operation and every schema of the document is
/// listed, every type link lands on a schema on the page, the stream's events link their
/// `data` to the schema of its JSON, and a deep link scrolls to its schema.
#[tokio::test]
async fn the_reference_page_renders_every_operation_and_links_every_type() {
    let app = spawn_app().await;
    let doc = served_document(&app).await;
    let operations = operations(&doc).len();
    let schemas = doc["components"]["schemas"].as_object().unwrap().len();

    let browser = crate::helpers::browser::Browser::start().await;
    browser.client.goto(&app.url("/api/docs")).await.unwrap();
    browser
        .wait_for(
            "the reference to render",
            std::time::Duration::from_secs(10),
            "document.querySelectorAll('section.schema-def').length > 0",
        )
        .await;
    let page = browser
        .js(r#"
            const broken = [...document.querySelectorAll('a.ref, #toc a')]
              .map((a) => a.getAttribute('href'))
              .filter((href) => !document.getElementById(href.slice(1)));
            const stream = document.getElementById('schema-StreamEvent');
            return {
              operations: document.querySelectorAll('#toc a .method').length,
              schemas: document.querySelectorAll('section.schema-def').length,
              broken,
              streamLinks: [...stream.querySelectorAll('a.ref')].map((a) => a.textContent),
              status: document.getElementById('status')?.textContent ?? null,
            };
        "#)
        .await;
    // A link into the page lands on its target once the document has rendered.
    browser.client.goto("about:blank").await.unwrap();
    browser
        .client
        .goto(&app.url("/api/docs#schema-StreamEvent"))
        .await
        .unwrap();
    browser
        .wait_for(
            "the page to scroll to StreamEvent",
            std::time::Duration::from_secs(10),
            "(() => { const e = document.getElementById('schema-StreamEvent'); \
              return e && window.scrollY > 0 && Math.abs(e.getBoundingClientRect().top) < 50; })()",
        )
        .await;
    browser.quit().await;
    assert_eq!(page["status"], Value::Null, "the page failed: {page}");
    assert_eq!(page["operations"], operations, "{page}");
    assert_eq!(page["schemas"], schemas, "{page}");
    assert_eq!(page["broken"], json!([]), "links to nothing");
    for target in ["Snapshot", "Change", "AuthExpired"] {
        assert!(
            page["streamLinks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l == target),
            "StreamEvent does not link {target}: {page}"
        );
    }
}
