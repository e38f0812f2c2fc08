//! The OpenAPI 3.1 document, built from the router itself: every documented handler is
//! registered through `utoipa_axum::routes!`, which takes the path and method from the
//! handler's `#[utoipa::path]` for both the axum route and the document, so the two
//! cannot drift. Served at `GET /api/openapi.json`, written to `docs/openapi.json` by
//! `showfeed openapi` (a test fails when that file is stale).
//!
//! What the attributes cannot say is added here: the security schemes, the error
//! responses as components ([`errors`]), and the links that let Schemathesis's stateful
//! mode (and readers) follow a created show's id into the operations on it.

pub mod errors;
pub mod events;

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::{Modify, OpenApi as _};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::AppState;

/// The document's fixed parts; the paths come from the handlers.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "showfeed",
        description = "A Postgres change log as a live feed for browsers: shows, items, \
comments and the claims they make, over REST, and every change of a show as server-sent \
events. JSON is snake_case, timestamps RFC 3339 UTC, ids UUIDs. Every 4xx/5xx body is \
`{\"error\": {\"code\", \"message\"}}` (`ErrorBody`); bad input is a 4xx, never a 5xx. \
Tokens are HS256 JWTs (`sub`, `exp`, `role` = viewer | operator | ingest | admin, optional \
`shows`): viewer reads and streams; operator also creates shows and items and changes \
claims; ingest posts comments; admin does everything.",
        license(name = "MIT")
    ),
    modifiers(&Fixed),
    components(schemas(
        ErrorBody,
        events::StreamEvent,
        events::Snapshot,
        events::Change,
        events::AuthExpired,
        events::ChangesPage,
        events::ManyChangesPage,
        events::TaggedEvent,
        events::EventData,
        crate::domain::Only
    )),
    tags(
        (name = "shows", description = "Shows and their items."),
        (name = "comments", description = "Comment ingest and pages."),
        (name = "claims", description = "The claims comments make, and operators' changes to them."),
        (name = "feed", description = "Every change of a show, or of many on one connection: the SSE streams and their polling fallbacks."),
        (name = "operations", description = "Health, readiness and metrics for the load balancer and Prometheus."),
        (name = "reference", description = "This document and the page that renders it."),
        (name = "session", description = "Console sign-in: a sign-in link's one-time code for a session cookie, who is signed in, sign-out."),
        (name = "console", description = "The operator console's static files."),
    )
)]
struct ApiDoc;

/// Security schemes and the error responses.
struct Fixed;

impl Modify for Fixed {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("`Authorization: Bearer <jwt>` (HS256)."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "access_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "access_token",
                "The same JWT as a query parameter, for EventSource (which cannot set \
                 headers). Only the stream takes it.",
            ))),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "showfeed_session",
                "The console's session cookie, set by `POST /api/session`. Every route \
                 that takes a bearer token takes it too; writes with it also need \
                 `X-Showfeed-CSRF: 1` and a same-origin `Origin`.",
            ))),
        );
        components.responses.extend(errors::components());
    }
}

/// The documented routes of this module: the document and the reference page.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// An empty router carrying the fixed parts, for `http::api_router` to merge into.
pub(crate) fn base() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
}

/// The whole document: the router's paths plus the links between operations.
pub fn document() -> OpenApi {
    let (_, mut openapi) = super::api_router().split_for_parts();
    add_links(&mut openapi);
    openapi
}

/// The document as served and committed (pretty JSON, keys in declaration order).
pub fn document_json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        document()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    });
    &JSON
}

/// A created show's id leads to the operations on it; a comment batch's first claim to the
/// claim's status change. OpenAPI links: readers follow them, Schemathesis's stateful mode
/// chains requests through them.
fn add_links(openapi: &mut OpenApi) {
    let show_id = "$response.body#/id";
    let show_ops = [
        ("GetShow", "get_show"),
        ("UpdateShow", "update_show"),
        ("ListItems", "list_items"),
        ("PutItem", "put_item"),
        ("CreateComments", "create_comments"),
        ("PageComments", "page_comments"),
        ("ListClaims", "list_claims"),
        ("PollChanges", "poll_changes"),
    ];
    link_from(openapi, "/api/shows", "201", &show_ops, "id", show_id);
    // A single id is a list of one show.
    let many_ops = [("StreamMany", "stream_many"), ("PollMany", "poll_many")];
    link_from(openapi, "/api/shows", "201", &many_ops, "shows", show_id);
    let claim_ops = [("UpdateClaim", "update_claim")];
    link_from(
        openapi,
        "/api/shows/{id}/comments",
        "201",
        &claim_ops,
        "id",
        "$response.body#/claims/0/id",
    );
}

fn link_from(
    openapi: &mut OpenApi,
    path: &str,
    status: &str,
    targets: &[(&str, &str)],
    parameter: &str,
    expression: &str,
) {
    let Some(item) = openapi.paths.paths.get_mut(path) else {
        return;
    };
    let Some(op) = item.post.as_mut() else {
        return;
    };
    let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) else {
        return;
    };
    for (name, operation_id) in targets {
        let mut link = LinkBuilder::new().parameter(parameter, expression).build();
        // utoipa 5.5 serialises `Link.operation_id` as `operation_id`, which OpenAPI does
        // not know (Schemathesis refuses such links); the flattened extensions map writes
        // the key as given.
        link.extensions = Some(Extensions::from_iter([("operationId", *operation_id)]));
        response.links.insert((*name).to_owned(), RefOr::T(link));
    }
}

/// This document (OpenAPI 3.1), for generating clients and for the reference page.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "reference",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = serde_json::Value)),
)]
pub(crate) async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_json(),
    )
}
