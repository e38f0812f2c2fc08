//! `GET /api/docs`: the API reference, a small page of our own that renders
//! `/api/openapi.json` in the browser.
//!
//! Why not Redoc, Scalar or Swagger UI: their bundles are 1-3 MB each, and the first two
//! inject `<style>` elements at run time, which the console's Content-Security-Policy
//! (`style-src 'self'`) forbids. This page is three files compiled into the binary, works
//! offline, and keeps that policy: no inline script or style, and text from the document
//! only ever set as text, never as markup. Clients are generated from the document, not
//! from this page.

use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::console::serve_static;
use super::AppState;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("docs.js");
const STYLE: &str = include_str!("docs.css");

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_docs_page))
        .routes(routes!(api_docs_script))
        .routes(routes!(api_docs_style))
}

/// The API reference page (renders `/api/openapi.json`; no network beyond this node).
#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "reference",
    responses((status = 200, description = "The page.", content_type = "text/html; charset=utf-8", body = String)),
)]
async fn api_docs_page() -> Response {
    serve_static("text/html; charset=utf-8", INDEX.as_bytes())
}

/// The reference page's script.
#[utoipa::path(
    get,
    path = "/api/docs/docs.js",
    tag = "reference",
    responses((status = 200, description = "The script.", content_type = "text/javascript; charset=utf-8", body = String)),
)]
async fn api_docs_script() -> Response {
    serve_static("text/javascript; charset=utf-8", SCRIPT.as_bytes())
}

/// The reference page's style sheet.
#[utoipa::path(
    get,
    path = "/api/docs/docs.css",
    tag = "reference",
    responses((status = 200, description = "The style sheet.", content_type = "text/css; charset=utf-8", body = String)),
)]
async fn api_docs_style() -> Response {
    serve_static("text/css; charset=utf-8", STYLE.as_bytes())
}
