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
    let mut operations = std::collections::HashMap::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op["operationId"].as_str() {
                operations.insert(id.to_owned(), op.clone());
            }
        }
    }
    let mut links = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
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
                let target = operations
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
    }
    assert!(links >= 9, "only {links} links");
}
